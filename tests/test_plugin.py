"""GraderPlugin with pytest's own pytester: budgets, recording, failure kinds by type."""
import json
import signal
import time
from types import SimpleNamespace

import pytest

from grader import results
from grader.errors import SubmissionError
from grader.plugin import GraderPlugin, HarnessTimeout

pytest_plugins = ["pytester"]


class FakeStudent:
    """Answers calls in-process; records the budgets the plugin set."""

    def __init__(self):
        self.budget = None
        self.budgets, self.spawned, self.closed = [], False, False
        self.clocks = []

    def spawn(self):
        self.spawned = True

    def begin_test(self, budget, label, reference_cpu=None, on_device=False):
        self.budget = budget
        self.clocks.append((label, "device" if on_device else "cpu"))

    def test_cpu(self):
        return 0.25

    def end_test(self):
        self.budget = None
        return 0.25

    def double(self, x):
        self.budgets.append(self.budget)
        return 2 * x

    def hang(self):
        raise SubmissionError("timed out after 1 s in hang", "timeout")

    def output(self):
        return "printed by the student\n"

    def close(self):
        self.closed = True


SUITE = '''
import pytest
from grader.errors import SubmissionError
from grader.plugin import HarnessTimeout

def test_double(student):
    """double doubles"""
    assert student.double(2) == 4

@pytest.mark.points(3)
@pytest.mark.timeout(7)
def test_double_wrong(student):
    """double, checked wrongly"""
    assert student.double(2) == 5, "double(2) should be 5"

def test_hang(student):
    student.hang()

def test_backstop(student):
    raise HarnessTimeout("timed out (the whole test exceeded 9 s)")

@pytest.mark.visibility("hidden")
def test_suite_bug(student):
    {}["missing"]

@pytest.mark.gpu
def test_gpu(student, device):
    assert device == "cuda"
'''


@pytest.fixture
def run_plugin(pytester):
    def run(suite=SUITE, **settings):
        pytester.makepyfile(test_public=suite)
        student = FakeStudent()
        config = {"module_name": "toy", "out_dir": str(pytester.path / "out"), "test_timeout": 4.0,
                  "sandbox": "none", "notes": [], **settings}
        plugin = GraderPlugin(config, student_factory=lambda _: (student, None))
        result = pytester.inline_run(str(pytester.path / "test_public.py"), plugins=[plugin])
        data = json.loads((pytester.path / "out" / "results.json").read_text())
        return result, data, student
    return run


def test_records_every_test_with_points_visibility_and_kind(run_plugin):
    _, data, student = run_plugin()
    tests = {t["extra_data"]["nodeid"].split("::")[-1]: t for t in data["tests"]}
    assert tests["test_double"]["status"] == "passed" and tests["test_double"]["name"] == "double doubles"
    wrong = tests["test_double_wrong"]
    assert (wrong["score"], wrong["max_score"]) == (0, 3)
    # public tests show what the submission printed, after the message
    assert wrong["output"] == "double(2) should be 5\n\nYour code printed:\nprinted by the student\n"
    assert wrong["extra_data"]["failure"] == "error"
    assert tests["test_hang"]["extra_data"]["failure"] == "timeout"
    assert tests["test_backstop"]["extra_data"]["failure"] == "timeout"
    assert tests["test_suite_bug"]["visibility"] == "hidden"
    assert "internal grader error (KeyError" in tests["test_suite_bug"]["output"]
    assert [s["name"] for s in data["extra_data"]["skipped"]] == ["test_gpu"]
    assert data["score"] == 1 and data["extra_data"]["max_score"] == 7
    assert student.spawned and student.closed
    assert student.budgets == [4.0, 7.0]  # the assignment's default, then the marker's
    assert tests["test_double"]["extra_data"]["cpu"] == 0.25
    assert tests["test_double_wrong"]["extra_data"]["budget"] == 7.0


GPU_SUITE = '''
import pytest

@pytest.mark.gpu
def test_on_gpu(student, device):
    assert student.double(device) == "cudacuda"

def test_on_cpu(student, device):
    assert student.double(device) == "cpucpu"
'''


def test_a_cuda_grade_gives_the_gpu_and_device_time_to_gpu_tests_only(run_plugin, monkeypatch):
    """CUDA faked for the harness alone: which tests get the GPU, and which clock counts them."""
    monkeypatch.setattr(GraderPlugin, "_cuda_available", lambda self: True)
    result, data, student = run_plugin(GPU_SUITE, cuda=True, gpu="2")
    result.assertoutcome(passed=2)
    assert student.clocks == [("test_on_gpu", "device"), ("test_on_cpu", "cpu")]
    clocks = {t["name"]: t["extra_data"].get("clock") for t in data["tests"]}
    assert clocks == {"test_on_gpu": "device", "test_on_cpu": None}
    assert data["extra_data"]["cuda"] == {"gpu": "2", "device": None} and not data["extra_data"]["skipped"]


def test_calibrated_budgets_apply_where_no_marker_sets_one(run_plugin):
    _, data, student = run_plugin(budgets={"test_public.py::test_double": 0.75,
                                           "test_public.py::test_double_wrong": 99.0})
    assert student.budgets == [0.75, 7.0]  # the marker still wins


def test_reverse_runs_the_tests_backwards(run_plugin):
    _, data, _ = run_plugin(reverse=True)
    assert [t["extra_data"]["nodeid"].split("::")[-1] for t in data["tests"]][:2] == ["test_suite_bug", "test_backstop"]


def test_no_partial_results_are_left_after_a_finished_session(run_plugin, pytester):
    run_plugin()
    assert not (pytester.path / "out" / results.PARTIAL).exists()


def test_partial_results_survive_a_torn_last_line(tmp_path):
    """A harness killed mid-write leaves half a line: the tests before it still count."""
    path = tmp_path / results.PARTIAL
    results.append_partial(path, {"record": {"name": "a"}, "config": {"elapsed": 1.0}})
    results.append_partial(path, {"skipped": {"name": "b"}, "config": {"elapsed": 2.0, "import_cpu": 0.1}})
    with open(path, "a") as handle:
        handle.write('{"record": {"name": "c"')
    assert results.read_partial(path) == ([{"name": "a"}], [{"name": "b"}], {"elapsed": 2.0, "import_cpu": 0.1})


def test_collection_only_describes_without_running(pytester):
    pytester.makepyfile(test_public=SUITE)
    plugin = GraderPlugin(None)
    pytester.inline_run("--collect-only", str(pytester.path / "test_public.py"), plugins=[plugin])
    assert [t["max_score"] for t in plugin.tests] == [1.0, 3.0, 1.0, 1.0, 1.0, 1.0]
    assert [t["gpu"] for t in plugin.tests][-1] is True


def test_the_backstop_raises_its_own_type():
    plugin = GraderPlugin({"test_timeout": 1})
    plugin.pytest_timeout_set_timer(item=None, settings=SimpleNamespace(timeout=0.2))
    try:
        with pytest.raises(HarnessTimeout, match="exceeded 0.2 s"):
            time.sleep(2)
    finally:
        plugin.pytest_timeout_cancel_timer(item=None)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
