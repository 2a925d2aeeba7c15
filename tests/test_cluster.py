"""`grader batch --cluster` on a real Dask deployment: a TLS scheduler and workers started as
separate OS processes with the `dask` command line (bound to 127.0.0.1, dashboards off).

It grades a class as a local batch does; a client without the certificate is refused; a worker
whose course differs, or whose sandbox cannot run, is refused and nothing it would have graded is
stamped (the next run grades it); the scheduler killed mid-batch, or the client, ends in a
gradebook of what is stored and a run that resumes to the same grades.
"""
import csv
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, default_sandbox, needs_bwrap, run_cli
from grader import batch, course
from grader.batch import cluster as cluster_module
from grader.batch.cluster import SCRATCH
from grader.batch.resume import course_stamp, results_from
from grader.batch.tls import make_certs
from grader.collect import collect
from grader.grade import Options

psutil = pytest.importorskip("psutil")
pytest.importorskip("distributed")

DASK = str(Path(sys.executable).parent / "dask")
EXAMPLES = ROOT / "examples" / "polyfit"
CORRECT = (EXAMPLES / "dave" / "polyfit.py").read_text()
BUGGY = (EXAMPLES / "bob.py").read_text()   # mse_grad without its factor 2
FULL = f"{sum(t['points'] for t in collect(course.load('polyfit')) if not t['gpu']):g}"
START_SECONDS = 90


def slow(seconds):
    """A correct submission whose import sleeps (wall time, not CPU): grades a fault can land in."""
    return f"import time\ntime.sleep({seconds})\n" + CORRECT


class Dask:
    """A scheduler and workers, each its own process, all speaking TLS with the test CA."""

    def __init__(self, folder: Path, certs: Path):
        self.folder, self.certs, self.workers = folder, certs, []
        self.scheduler = None
        folder.mkdir(parents=True, exist_ok=True)

    def tls(self, role):
        return ["--tls-ca-file", str(self.certs / "ca.pem"), "--tls-cert", str(self.certs / f"{role}.pem"),
                "--tls-key", str(self.certs / f"{role}-key.pem")]

    def start_scheduler(self, port=0) -> str:
        info = self.folder / "scheduler.json"
        info.unlink(missing_ok=True)
        log = open(self.folder / "scheduler.log", "ab")
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--protocol", "tls",
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info), *self.tls("scheduler")],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + START_SECONDS
        while not (info.exists() and info.stat().st_size) and time.monotonic() < deadline:
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            time.sleep(0.1)
        self.address = json.loads(info.read_text())["address"]
        return self.address

    def start_workers(self, count=1, **env) -> list:
        started = []
        for _ in range(count):
            log_path = self.folder / f"worker-{len(self.workers)}.log"
            process = subprocess.Popen(
                [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--dashboard-address", "127.0.0.1:0",
                 "--host", "127.0.0.1", "--protocol", "tls", "--local-directory", str(self.folder / "dask"),
                 *self.tls("worker")],
                stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, cwd=self.folder,
                env={**os.environ, **env})
            started.append((process, log_path))
            self.workers.append(process)
        for process, log_path in started:   # registered with the scheduler
            deadline = time.monotonic() + START_SECONDS
            while b"Registered to" not in log_path.read_bytes():
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
        return [process for process, _ in started]

    def stop(self, processes=None):
        """Workers first, then the scheduler: a worker told to stop while its scheduler closes can
        hang in Dask's own shutdown (distributed 2026.11), so it is killed after 20 s."""
        everything = processes is None
        for group in ([*self.workers], [self.scheduler]) if everything else (processes,):
            for process in group:
                if process is not None and process.poll() is None:
                    process.terminate()
            for process in group:
                if process is None:
                    continue
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _listening(pid):
    return [c.laddr for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]


def _gradebook(out):
    with open(Path(out) / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _cluster_cli(dask, class_dir, out, *extra, certs=None, **kwargs):
    return run_cli("batch", "polyfit", class_dir, "--out", out, "--cluster", dask.address,
                   "--certs", certs or dask.certs, "--sandbox", default_sandbox(), "--no-similarity",
                   *extra, **kwargs)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """`grader cluster certs DIR`: a CA and a certificate per role, private keys for their owner only."""
    folder = tmp_path_factory.mktemp("certs")
    made = run_cli("cluster", "certs", folder)
    assert made.returncode == 0, made.stderr
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.glob("*-key.pem")} == \
        {f"{role}-key.pem": 0o600 for role in ("ca", "scheduler", "worker", "client")}
    again = run_cli("cluster", "certs", folder)   # a new CA would lock every machine out
    assert again.returncode == 2 and "pass --force" in again.stderr, again.stderr
    return folder


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """Six students, and their gradebook from a local batch (what the cluster must reproduce)."""
    folder = tmp_path_factory.mktemp("class")
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").write_text(BUGGY)
    (folder / "carol").mkdir()
    (folder / "carol" / "polyfit.py").write_text(CORRECT)
    (folder / "dan.py").write_text("")
    (folder / "eve.py").write_text(slow(0.5))
    (folder / "fay.py").write_text(CORRECT + "\n# fay's own copy\n")
    local = folder.parent / (folder.name + "-local")
    batch.run(course.load("polyfit"), folder, local, jobs=2, options=Options(sandbox=default_sandbox()),
              compare=False)
    return folder, (local / "gradebook.csv").read_text()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, certs):
    """A TLS scheduler and two workers on one 'machine' (a shared temp folder)."""
    dask = Dask(tmp_path_factory.mktemp("dask-a"), certs)
    try:
        dask.start_scheduler()
        dask.start_workers(2, TMPDIR=str(dask.folder))
        yield dask
    finally:
        dask.stop()


def test_a_tls_cluster_grades_a_class_as_local_does_and_refuses_strangers(cluster, classroom, certs, tmp_path):
    class_dir, local_book = classroom
    for pid in (cluster.scheduler.pid, *(w.pid for w in cluster.workers)):  # loopback only (the HTTP
        assert {a.ip for a in _listening(pid)} == {"127.0.0.1"}, (pid, _listening(pid))  # endpoint too)

    out = tmp_path / "out"
    result = _cluster_cli(cluster, class_dir, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "done: 6 graded, 0 skipped" in result.stdout
    assert (out / "gradebook.csv").read_text() == local_book
    alice = results_from(out / "alice")
    assert alice["extra_data"]["sandbox"] == default_sandbox()
    expected = course_stamp(course.load("polyfit"), Options())
    assert {k: alice["extra_data"]["batch"]["stamp"][k] for k in expected} == expected

    # no certificate: the scheduler ends the TLS session (mutual TLS), whatever the client says
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.check_hostname = False
    host, port = cluster.address.removeprefix("tls://").rsplit(":", 1)
    try:   # a scheduler that accepted it would wait for the rest of a message (a timeout, an error here)
        with socket.create_connection((host, int(port)), timeout=10) as raw, \
                context.wrap_socket(raw) as tls:
            tls.sendall(b"\0" * 16)
            answer = tls.recv(1)
    except (ssl.SSLError, ConnectionError):
        answer = b""
    assert answer == b"", "the scheduler answered a client without a certificate"
    # a certificate from another CA: refused, nothing graded
    strangers = tmp_path / "strangers"
    make_certs(strangers)
    shutil.copy(certs / "ca.pem", strangers / "ca.pem")   # it trusts our CA; ours does not trust it
    refused = _cluster_cli(cluster, class_dir, tmp_path / "out-stranger", certs=strangers)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "cannot reach the scheduler" in refused.stderr
    assert not list((tmp_path / "out-stranger").glob("*/results.json"))
    # plain TCP is refused before anything is sent, unless --insecure says so
    plain = run_cli("batch", "polyfit", class_dir, "--out", tmp_path / "o", "--cluster", "tcp://127.0.0.1:8786")
    assert plain.returncode == 2 and "refusing a tcp:// scheduler" in plain.stderr, plain.stderr


def test_a_submission_graded_on_the_cluster_cannot_reach_the_scheduler_or_a_worker(cluster, tmp_path):
    ports = sorted({a.port for p in (cluster.scheduler, *cluster.workers) for a in _listening(p.pid)})
    probe = (f"import socket\nREACHED = []\nfor port in {ports}:\n    try:\n"
             "        socket.create_connection(('127.0.0.1', port), timeout=2).close()\n"
             "        REACHED.append(port)\n    except OSError:\n        pass\n")
    namespace = {}
    exec(probe, namespace)   # outside a sandbox every one of them answers: the probe can tell
    assert namespace["REACHED"] == ports
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "mallory.py").write_text(probe + "if REACHED:\n    raise SystemExit(f'reached {REACHED}')\n"
                                          + CORRECT)
    result = _cluster_cli(cluster, class_dir, tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    row = _gradebook(tmp_path / "out")["mallory"]
    assert (row["total"], row["status"]) == (FULL, "ok"), row


def test_submissions_are_read_only_as_grades_finish(cluster, classroom, tmp_path, monkeypatch):
    """Memory bounded by the grades in flight: with --jobs 2, never more than two submissions read and
    not yet stored."""
    events = []
    real_pack = cluster_module.pack
    monkeypatch.setattr(cluster_module, "pack", lambda path: events.append("read") or real_pack(path))

    class Recorder(batch.Progress):
        def advance(self, student, data):
            events.append("stored")
            super().advance(student, data)
    summary = batch.run(course.load("polyfit"), classroom[0], tmp_path / "out", compare=False,
                        options=Options(sandbox=default_sandbox()), progress=Recorder(None),
                        cluster=batch.Cluster(cluster.address, cluster.certs, in_flight=2))
    assert len(summary.graded) == 6 and events.count("read") == 6
    held = [events[:n].count("read") - events[:n].count("stored") for n in range(1, len(events) + 1)]
    assert max(held) == 2, events


def test_a_killed_client_leaves_a_gradebook_the_next_run_rebuilds_first(cluster, classroom, tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "alice.py").write_text(CORRECT)
    out = tmp_path / "out"
    first = _cluster_cli(cluster, class_dir, out)
    assert first.returncode == 0, first.stdout + first.stderr
    for name in ("gus", "hal", "ivy", "jon"):
        (class_dir / f"{name}.py").write_text(slow(1.5))
    command = [sys.executable, "-m", "grader", "batch", "polyfit", str(class_dir), "--out", str(out),
               "--cluster", cluster.address, "--certs", str(cluster.certs), "--sandbox", default_sandbox(),
               "--no-similarity"]
    client = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/results.json"))) < 2 and time.monotonic() < deadline:
        assert client.poll() is None, client.stdout.read()
        time.sleep(0.05)
    client.send_signal(signal.SIGKILL)
    client.wait()
    stored = len(list(out.glob("*/results.json")))
    assert 2 <= stored < 5 and set(_gradebook(out)) == {"alice"}, "the gradebook should be stale now"

    again = _cluster_cli(cluster, class_dir, out)
    assert again.returncode == 0, again.stdout + again.stderr
    rebuilt = f"rebuilt from the {stored} grades stored"
    assert rebuilt in again.stdout and again.stdout.index(rebuilt) < again.stdout.index("[1/"), again.stdout
    assert f"done: {5 - stored} graded, {stored} skipped" in again.stdout
    assert {s: (r["total"], r["status"]) for s, r in _gradebook(out).items()} == \
        {s: (FULL, "ok") for s in ("alice", "gus", "hal", "ivy", "jon")}
    assert not (out / batch.WORK_DIR).exists()


def test_the_scheduler_killed_mid_batch_leaves_what_is_stored_and_resumes(certs, tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for n in range(6):
        (class_dir / f"student{n}.py").write_text(slow(1))
    with socket.socket() as probe:   # a port to start the scheduler on again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dask = Dask(tmp_path / "dask", certs)
    machine = tmp_path / "machine"   # the workers' temp folder
    machine.mkdir()
    out = tmp_path / "out"
    try:
        dask.start_scheduler(port)
        workers = dask.start_workers(2, TMPDIR=str(machine))
        command = [sys.executable, "-m", "grader", "batch", "polyfit", str(class_dir), "--out", str(out),
                   "--cluster", dask.address, "--certs", str(certs), "--sandbox", default_sandbox(),
                   "--no-similarity"]
        client = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:   # a grade stored, and both workers mid-grade
            grading = list((machine / SCRATCH).glob("task-*"))
            if len(grading) == 2 and list(out.glob("*/results.json")):
                break
            assert client.poll() is None, client.communicate()
            time.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)   # a worker dies mid-grade, and the scheduler
        dask.scheduler.send_signal(signal.SIGKILL)
        assert len(grading) == 2, grading
        stdout, stderr = client.communicate(timeout=120)
        assert client.returncode == 1, stdout + stderr
        stored = sorted(p.parent.name for p in out.glob("*/results.json"))
        assert 1 <= len(stored) < 6, stdout + stderr
        assert "the batch stopped: lost the scheduler" in stderr
        assert f"{len(stored)} of 6 students are graded and stored in {out}" in stderr
        assert sorted(_gradebook(out)) == stored   # the gradebook lists exactly what is stored
        resume = stderr.split("run again:\n")[1].strip()
        assert shlex.split(resume) == ["grader", *command[3:]], resume

        dask.stop()
        dask.start_scheduler(port)
        dask.start_workers(2, TMPDIR=str(machine))
        resumed = subprocess.run([sys.executable, "-m", *shlex.split(resume)], cwd=ROOT,
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"done: {6 - len(stored)} graded, {len(stored)} skipped" in resumed.stdout
        book = _gradebook(out)
        assert {s: (r["total"], r["status"]) for s, r in book.items()} == \
            {f"student{n}": (FULL, "ok") for n in range(6)}
        # the killed worker's scratch folder (one of those two) was removed by a later grade
        assert not list((machine / SCRATCH).glob("task-*")), "a killed grade's scratch folder was left"
    finally:
        dask.stop()


@needs_bwrap
def test_refused_workers_grade_nothing_stamped_and_the_next_run_grades_it(certs, classroom, tmp_path):
    """A worker with a changed hidden suite, then one without bubblewrap: every grade refused and
    recorded as not graded (exit 1, no stamp); then a good worker grades them all."""
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name in ("alice.py", "bob.py", "dan.py"):
        shutil.copy(classroom[0] / name, class_dir / name)
    changed = tmp_path / "course"
    for part in ("assignments", "reference"):
        shutil.copytree(ROOT / part / "polyfit", changed / part / "polyfit")
    hidden = changed / "reference" / "polyfit" / "test_hidden.py"
    hidden.write_text(hidden.read_text().replace("@pytest.mark.points(2)", "@pytest.mark.points(5)", 1))
    assert hidden.read_text() != (ROOT / "reference" / "polyfit" / "test_hidden.py").read_text()
    out = tmp_path / "out"
    dask = Dask(tmp_path / "dask", certs)
    try:
        dask.start_scheduler()
        for env, why in (({"GRADER_COURSE_ROOT": str(changed)}, "has a different course for polyfit"),
                         ({"PATH": str(tmp_path / "empty")}, "bubblewrap is not installed")):
            wrong = dask.start_workers(1, **env)
            result = _cluster_cli(dask, class_dir, out, "--sandbox", "bwrap")
            assert result.returncode == 1, result.stdout + result.stderr
            assert "done: 0 graded, 0 skipped, 3 not graded" in result.stdout
            assert "the next run grades them again" in result.stderr
            for student, row in _gradebook(out).items():
                assert (row["total"], row["status"]) == ("", "not graded") and why in row["message"], row
                assert results_from(out / student)["extra_data"]["batch"]["stamp"] is None
            assert "not graded yet" in (out / "report.html").read_text()
            dask.stop(wrong)

        dask.start_workers(1)
        result = _cluster_cli(dask, class_dir, out, "--sandbox", "bwrap")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "done: 3 graded, 0 skipped" in result.stdout
    finally:
        dask.stop()
    header, *rows = classroom[1].splitlines()
    assert (out / "gradebook.csv").read_text().splitlines() == \
        [header, *(row for row in rows if row.split(",")[0] in ("alice", "bob", "dan"))]
