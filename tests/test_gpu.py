"""The GPU path, on a machine without one: everything but the CUDA calls themselves.

CUDA is faked only where a test must: a fake torch for the counting of devices
and for the worker's memory cap, a fake grade for the lending of GPUs (and, in
tests/test_plugin.py, the harness's CUDA check). Everything else runs for real:
the refusal without CUDA, bwrap's CUDA check, the device-time budget (a sleep
stands in for a kernel: the CPU clock sees neither), the environment a worker
gets, a CUDA batch on the CPU, every GPU test's own logic on the CPU device, the
GPU corpus on the CPU and the device script's CPU path. bench/gpu/run.sh runs
the same code on a GPU machine.
"""
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from grader import batch, gpus, worker
from grader.batch import local
from grader.client import Student
from grader.errors import SandboxUnavailable, SubmissionError, UsageError
from grader.grade import Options
from grader.lms import Entry
from grader.sandbox import BwrapSandbox, NoSandbox, bwrap_cuda_problem, choose

from conftest import CORPUS, ROOT, TOY_REFERENCE, default_sandbox, failed, max_score, needs_bwrap, run_cli, toy

NO_CUDA = gpus.cuda_problem() is not None
needs_no_cuda = pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA: the refusal cannot show")
GPU_BUGS = sorted(CORPUS.glob("*/gpu/*.py"))


def fake_torch(count=0, cuda="12.8", version="2.11.0"):
    device_count = (lambda: count)
    return types.SimpleNamespace(__version__=version, version=types.SimpleNamespace(cuda=cuda),
                                 cuda=types.SimpleNamespace(device_count=device_count))


# --- finding GPUs, and saying why there are none ------------------------------------

@pytest.mark.parametrize("found,hidden,needle", [
    (None, None, "torch is not installed"),
    (fake_torch(cuda=None, version="2.11.0+cpu"), None, "this torch (2.11.0+cpu) is built without CUDA"),
    (fake_torch(count=0), None, "finds no GPU: is the NVIDIA driver loaded"),
    (fake_torch(count=0), "", "CUDA_VISIBLE_DEVICES='' hides every device"),
])
def test_cuda_problem_says_why(monkeypatch, found, hidden, needle):
    monkeypatch.setattr(gpus, "_torch", lambda: found)
    if hidden is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
    assert needle in gpus.cuda_problem()
    with pytest.raises(UsageError, match="--device cuda asked for CUDA, but .*GPU-marked tests are skipped"):
        gpus.require_cuda()


def test_cuda_problem_is_none_with_a_gpu(monkeypatch):
    monkeypatch.setattr(gpus, "_torch", lambda: fake_torch(count=1))
    assert gpus.cuda_problem() is None
    gpus.require_cuda()


@pytest.mark.parametrize("count,visible,ids", [
    (2, None, ["0", "1"]),
    (3, "4,6, 7", ["4", "6", "7"]),
    (1, "GPU-5f1c,GPU-77aa", ["GPU-5f1c"]),
    (0, None, []),
])
def test_device_ids_one_entry_per_gpu(monkeypatch, count, visible, ids):
    monkeypatch.setattr(gpus, "_torch", lambda: fake_torch(count=count))
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert gpus.device_ids() == ids


@needs_no_cuda
@pytest.mark.parametrize("command", ["grade", "batch"])
def test_the_command_line_refuses_cuda_where_there_is_none(tmp_path, command):
    target = TOY_REFERENCE if command == "grade" else TOY_REFERENCE.parent
    done = run_cli(command, "polyfit", target, "--device", "cuda", "--out", tmp_path / "out", timeout=120)
    assert done.returncode == 2, done.stderr
    assert "--device cuda asked for CUDA, but" in done.stderr and "GPU-marked tests are skipped" in done.stderr
    assert not (tmp_path / "out" / "results.json").exists()


# --- the worker: memory cap, TF32, synchronize ---------------------------------------

class FakeCuda:
    def __init__(self, available=True, total=80 * 2**30):
        self.available, self.total, self.calls = available, total, []

    def is_available(self):
        return self.available

    def get_device_properties(self, index):
        return types.SimpleNamespace(total_memory=self.total)

    def set_per_process_memory_fraction(self, fraction, device):
        self.calls.append(("fraction", fraction, device))

    def get_device_name(self, index):
        return "Fake H100"

    def synchronize(self):
        self.calls.append(("synchronize",))


def fake_worker_torch(cuda):
    backends = types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=True)),
                                     cudnn=types.SimpleNamespace(allow_tf32=True))
    return types.SimpleNamespace(cuda=cuda, backends=backends)


def test_the_worker_caps_gpu_memory_and_turns_tf32_off():
    torch = fake_worker_torch(FakeCuda())
    found = worker.setup_cuda(4 * 2**30, torch)
    assert found == {"name": "Fake H100", "total_bytes": 80 * 2**30, "fraction": 0.05}
    assert torch.cuda.calls == [("fraction", 0.05, 0)]
    assert torch.backends.cuda.matmul.allow_tf32 is False and torch.backends.cudnn.allow_tf32 is False
    small = fake_worker_torch(FakeCuda(total=2 * 2**30))
    assert worker.setup_cuda(4 * 2**30, small)["fraction"] == 1.0


def test_the_worker_says_why_cuda_cannot_be_set_up():
    assert worker.setup_cuda(2**30, fake_worker_torch(FakeCuda(available=False))) == {
        "error": "torch finds no CUDA device inside the sandbox"}
    broken = FakeCuda()

    def no_driver(index):
        raise RuntimeError("no driver")
    broken.get_device_properties = no_driver
    assert worker.setup_cuda(2**30, fake_worker_torch(broken)) == {"error": "RuntimeError: no driver"}


def test_a_reply_waits_for_the_gpu_and_carries_its_error():
    cuda = FakeCuda()
    reply = {"ok": True, "value": 1}
    assert worker._synchronized(fake_worker_torch(cuda), reply, "/submission/m.py") is reply
    assert cuda.calls == [("synchronize",)]

    def assert_failed():
        raise RuntimeError("CUDA error: device-side assert triggered")
    cuda.synchronize = assert_failed
    failed_reply = worker._synchronized(fake_worker_torch(cuda), reply, "/submission/m.py")
    assert failed_reply["ok"] is False and "device-side assert" in failed_reply["error"]["message"]


# --- budgets in device time, and CUDA asked for where the worker has none -----------------

MODULE = b'''
import os, time

def nap(seconds):
    time.sleep(seconds)
    return "rested"

def visible():
    return os.environ.get("CUDA_VISIBLE_DEVICES")
'''


@pytest.fixture
def cuda_student():
    sandbox = NoSandbox(gpu=True, devices="3")
    handle = Student(sandbox, MODULE, "mod", cuda={"memory_bytes": 2**30})
    yield handle
    handle.close()
    sandbox.close()


def test_a_device_time_budget_stops_what_cpu_time_cannot_see():
    """A kernel that never ends leaves the CPU waiting, not working: a sleep does the same here."""
    sandbox = NoSandbox()
    handle = Student(sandbox, MODULE, "mod")
    try:
        handle.begin_test(1.0, "test of nap")
        assert handle.call("nap", 1.5) == "rested", "a CPU-time budget does not see waiting"
        handle.end_test()
        handle.begin_test(1.0, "test of nap", on_device=True)
        started = time.monotonic()
        with pytest.raises(SubmissionError) as info:
            handle.call("nap", 600)
        assert time.monotonic() - started < 8
        assert handle.end_test() >= 1.0
        assert "timed out after 1 s of device time in nap" in str(info.value)
        assert "GPU kernel that never ends" in str(info.value)
        assert info.value.kind == "timeout"
        assert handle.hung == {"nap": "test of nap"}, "one hang, one budget: later tests refuse it"
    finally:
        handle.close()
        sandbox.close()


@needs_no_cuda
def test_a_gpu_test_fails_as_the_graders_fault_where_the_worker_has_no_cuda(cuda_student):
    cuda_student.begin_test(2.0, "a CPU test")
    assert cuda_student.call("visible") == "3", "the grade's GPU reaches the worker"
    cuda_student.end_test()
    assert "error" in cuda_student.cuda_device
    cuda_student.begin_test(2.0, "a GPU test", on_device=True)
    with pytest.raises(SandboxUnavailable, match=r"CUDA is not usable inside the sandbox \(NoSandbox\)"):
        cuda_student.call("visible")


def test_a_cpu_grade_hides_every_gpu_from_its_worker(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert NoSandbox().gpu_env() == {"CUDA_VISIBLE_DEVICES": ""}
    assert NoSandbox(gpu=True).gpu_env() == {"CUDA_VISIBLE_DEVICES": "0,1"}
    assert NoSandbox(gpu=True, devices="1").gpu_env() == {"CUDA_VISIBLE_DEVICES": "1"}
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert NoSandbox(gpu=True).gpu_env() == {}


@needs_bwrap
def test_bwrap_binds_the_gpu_only_for_a_cuda_grade(monkeypatch, tmp_path):
    (tmp_path / "lib").mkdir()
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{tmp_path / 'lib'}:/nonexistent:/usr/lib")
    cpu, gpu = BwrapSandbox(), BwrapSandbox(gpu=True, devices="2")
    try:
        plain, cuda = cpu.command({}, ["-c", "pass"]), gpu.command({}, ["-c", "pass"])
    finally:
        cpu.close()
        gpu.close()
    assert "/sys" not in plain and "--ro-bind-try" not in plain
    assert _setenv(plain, "CUDA_VISIBLE_DEVICES") == ""
    assert _setenv(cuda, "CUDA_VISIBLE_DEVICES") == "2"
    assert ["--ro-bind", "/sys", "/sys"] == cuda[cuda.index("/sys") - 1: cuda.index("/sys") + 2]
    assert "/etc/ld.so.cache" in cuda and str(tmp_path / "lib") in cuda and "/nonexistent" not in cuda
    assert _setenv(cuda, "LD_LIBRARY_PATH") == f"{tmp_path / 'lib'}:/usr/lib"
    nodes = sorted(str(p) for p in Path("/dev").glob("nvidia*"))
    assert [cuda[i + 1] for i, a in enumerate(cuda) if a == "--dev-bind"] == nodes


@needs_bwrap
@needs_no_cuda
def test_a_cuda_grade_in_bwrap_stops_before_grading_when_its_worker_finds_no_gpu():
    """The real check (a worker started in bubblewrap with the CUDA binds); here it finds no GPU."""
    assert bwrap_cuda_problem() == "CUDA fails inside bubblewrap: AssertionError: torch finds no GPU"
    with pytest.raises(UsageError, match=r"--device cuda: CUDA fails inside bubblewrap.*Pass --sandbox none"):
        choose("bwrap", allow_unsandboxed=False, cuda=True)
    assert choose("none", allow_unsandboxed=False, cuda=True)[0] == "none"


def test_docker_asks_for_the_grades_gpu_only(monkeypatch):
    import grader.sandbox as sandboxes
    monkeypatch.setattr(sandboxes, "DockerSandbox", lambda limits, gpus: gpus)
    monkeypatch.setenv("GRADER_DOCKER_GPUS", "0,1")
    assert sandboxes.make_sandbox("docker", gpu=True, devices="3") == "3"
    assert sandboxes.make_sandbox("docker", gpu=True) == "0,1"
    assert sandboxes.make_sandbox("docker", gpu=False) == "", "a CPU grade's container gets no GPU"
    monkeypatch.delenv("GRADER_DOCKER_GPUS")
    assert sandboxes.make_sandbox("docker", gpu=True) == "all"


def _setenv(argv, key):
    for i, arg in enumerate(argv):
        if arg == "--setenv" and argv[i + 1] == key:
            return argv[i + 2]
    return None


# --- one GPU per grade --------------------------------------------------------------------

def test_a_batch_lends_each_grade_its_own_gpu(monkeypatch, tmp_path):
    holding, seen, lock = {}, [], threading.Lock()

    def fake_grade(assignment, path, out, options, harness=None, scratch=None):
        with lock:
            assert options.gpu not in holding.values(), "two grades on one GPU"
            holding[path] = options.gpu
            seen.append((len(holding), options.gpu))
        time.sleep(0.05)
        with lock:
            del holding[path]
        return {"gpu": options.gpu}

    monkeypatch.setattr(local, "grade", fake_grade)
    entries = [Entry(f"s{i}", tmp_path / f"s{i}.py", f"s{i}.py") for i in range(12)]
    stored = {}
    local._grade_all(toy(), entries, Options(cuda=True), 2, tmp_path, lambda e, d: stored.update({e.student: d}),
                     None, _lendable(["4", "7"]))
    assert len(stored) == 12 and {d["gpu"] for d in stored.values()} == {"4", "7"}
    assert max(n for n, _ in seen) == 2


def _lendable(devices):
    lendable = local.queue.Queue()
    for device in devices:
        lendable.put(device)
    return lendable


def test_a_cuda_batch_runs_at_most_one_grade_per_gpu_and_says_so(monkeypatch, tmp_path):
    """On this CPU the GPU tests are skipped; the lending and the capping of --jobs are real."""
    monkeypatch.setattr(gpus, "device_ids", lambda: ["3", "5"])
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann", "bo", "cy"):
        (folder / f"{name}.py").write_bytes(TOY_REFERENCE.read_bytes())
    summary = batch.run(toy(), folder, tmp_path / "out", jobs=4,
                        options=Options(sandbox=default_sandbox(), cuda=True), compare=False)
    assert "--jobs 4 lowered to 2: one GPU per grade at a time" in summary.warnings
    grades = [json.loads((tmp_path / "out" / name / "results.json").read_text()) for name in ("ann", "bo", "cy")]
    assert {g["extra_data"]["cuda"]["gpu"] for g in grades} <= {"3", "5"}
    assert all(g["score"] == max_score(g) for g in grades)


# --- the suites: the round trip, and the GPU corpus on the CPU --------------------------------

def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class InProcess:
    """A module answering a suite's probes in this process: to run a GPU test's logic on the CPU."""

    def __init__(self, module):
        self.module = module

    def probe(self, function, *args, label=None, **kwargs):
        return function(self.module, *args, **kwargs)


def gpu_cases(assignment_id):
    """(test function, its parameters) for every GPU-marked test of the assignment's hidden suite."""
    suite = _load(ROOT / "reference" / assignment_id / "test_hidden.py", f"{assignment_id}_hidden_suite")
    for name, function in vars(suite).items():
        marks = getattr(function, "pytestmark", [])
        if not name.startswith("test_") or not any(m.name == "gpu" for m in marks):
            continue
        cases = [{}]
        for mark in (m for m in marks if m.name == "parametrize"):
            names = [n.strip() for n in mark.args[0].split(",")]
            cases = [dict(c, **dict(zip(names, v if len(names) > 1 else [v]))) for c in cases for v in mark.args[1]]
        for case in cases:
            yield function, case


def run_gpu_tests(assignment_id, student_path, device="cpu"):
    """Run every GPU-marked test of the assignment with student_path as the submission, on `device`,
    in this process; {test and parameters: None (passed) or the failure's message}."""
    ref = _load(ROOT / "reference" / assignment_id / f"{assignment_id}.py", f"{assignment_id}_ref")
    student = InProcess(_load(student_path, f"{assignment_id}_student_{Path(student_path).stem}"))
    verdicts = {}
    for function, case in gpu_cases(assignment_id):
        fixtures = {"student": student, "ref": ref, "rng": np.random.default_rng(0), "device": device}
        wanted = function.__code__.co_varnames[:function.__code__.co_argcount]
        try:
            function(**{k: v for k, v in fixtures.items() if k in wanted}, **case)
            verdicts[f"{function.__name__}{sorted(case.values())}"] = None
        except AssertionError as exc:
            verdicts[f"{function.__name__}{sorted(case.values())}"] = str(exc)
    return verdicts


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the suites' markers, loaded here
@pytest.mark.filterwarnings("ignore::UserWarning")  # a correct training loop's float(loss)
@pytest.mark.parametrize("assignment_id,count", [("functions", 4), ("modules", 4), ("training", 2), ("conv", 1)])
def test_every_gpu_test_passes_correct_code_on_the_cpu_device(assignment_id, count):
    """The GPU tests' own logic (device checks, the round-trip check, tolerances), run on the CPU
    device: the reference and every correct corpus submission pass each; on CUDA only the device
    differs (bench/gpu/run.sh runs them there)."""
    correct = [ROOT / "reference" / assignment_id / f"{assignment_id}.py",
               *sorted((CORPUS / assignment_id / "correct").glob("*.py"))]
    for path in correct:
        verdicts = run_gpu_tests(assignment_id, path)
        assert len(verdicts) == count and all(v is None for v in verdicts.values()), (path.name, verdicts)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_the_round_trip_fails_the_gpu_test_with_a_teaching_message():
    verdicts = run_gpu_tests("functions", CORPUS / "functions" / "gpu" / "exp_numpy_round_trip.py")
    failing = {name: message for name, message in verdicts.items() if message}
    assert list(failing) == ["test_on_cuda['Exp']"], verdicts
    assert "copied data from the cpu to the CPU (.cpu(), .numpy())" in failing["test_on_cuda['Exp']"]
    assert "numpy" not in torch.Tensor.__dict__, "the probe puts torch back as it found it"


def test_every_gpu_bug_names_gpu_tests_only():
    from grader import course
    from grader.collect import collect
    for path in GPU_BUGS:
        tests = collect(course.load(path.parts[-3]))
        gpu_ids = [t["nodeid"] for t in tests if t["gpu"]]
        expected = [line.split(":", 1)[1] for line in path.read_text().splitlines() if line.startswith("# fails:")]
        assert path.read_text().startswith("# bug:") and expected, path.name
        for needle in expected[0].split(","):
            matching = [t["nodeid"] for t in tests if needle.strip() in t["nodeid"]]
            assert matching and set(matching) <= set(gpu_ids), (path.name, needle, matching)
    assert {p.parts[-3] for p in GPU_BUGS} == {"functions", "modules", "training"}


@pytest.mark.parametrize("path", GPU_BUGS, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_a_gpu_bug_gets_full_marks_on_the_cpu(path, grade_submission):
    """Its bug shows only on CUDA: the device run (bench/gpu/run.sh) shows it losing its points."""
    data = grade_submission(path.parts[-3], path)
    assert data["score"] == max_score(data), [(t["name"], t["output"]) for t in failed(data)]
    assert data["extra_data"]["skipped"], "its GPU tests are listed apart"


# --- the device script's CPU path --------------------------------------------------------------

@needs_no_cuda
def test_the_device_script_runs_through_without_cuda(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, GPU_TARGET=str(tmp_path / "target"),
               GPU_RESULTS=str(tmp_path / "results"), GPU_WHEELS=str(tmp_path / "no-wheels"))
    done = subprocess.run([str(ROOT / "bench" / "gpu" / "run.sh")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [report] = (tmp_path / "results").glob("gpu-*.md")
    text = report.read_text()
    assert "CUDA: **not available**" in text and "exits 2 with a clear message" in text
    assert "## Skipped: they need CUDA" in text
    for listed in ("functions (4)", "modules (4)", "training (2)", "conv (1)", "exp_numpy_round_trip",
                   "train_epoch_kernel_never_ends", "net_allocates_20_gib", "sigmoid_backward_ones_on_cpu"):
        assert listed in text, listed
    assert "every check that could run passed" in text
