"""`grader batch`: LMS layouts, the end-to-end run, resuming after a kill, a
Dask cluster with a worker killed mid-batch, and the report in a real browser."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, default_sandbox, needs_bwrap, run_cli
from grader import batch, course, gradebook, lms
from grader.collect import collect
from grader.batch import WORK_DIR
from grader.batch.resume import results_from
from grader.grade import Options

EXAMPLES = ROOT / "examples" / "polyfit"
CORRECT = (EXAMPLES / "dave" / "polyfit.py").read_text()
POLYFIT_MAX = sum(t["points"] for t in collect(course.load("polyfit")) if not t["gpu"])
FULL = f"{POLYFIT_MAX:g}"   # as gradebook.csv writes it
BUGGY = (EXAMPLES / "bob.py").read_text()   # mse_grad without its factor 2


def _gradebook(out):
    with open(Path(out) / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


# --- layouts --------------------------------------------------------------------------

def test_gradescope_export_names_students_from_the_metadata(tmp_path):
    for folder in ("submission_101", "submission_102", "submission_103"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "polyfit.py").write_text(CORRECT)
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1815'\n"
        "    :email: ada@example.org\n  :created_at: 2024-01-01 10:00:00.0 -0800\n"
        "submission_102:\n  :submitters:\n  - :name: Alan Turing\n    :sid: '1912'\n"
        "  - :name: Alonzo Church\n    :sid: '1903'\n"
        "submission_103:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1815b'\n")
    found = lms.discover(tmp_path, tmp_path / "work", "polyfit")
    assert found.layout == "gradescope"
    assert [(e.student, e.path.name) for e in found.entries] == [
        ("Ada_Lovelace", "submission_101"), ("Ada_Lovelace-2", "submission_103"),
        ("Alan_Turing+Alonzo_Church", "submission_102")]
    assert found.entries[2].details["sid"] == ["1912", "1903"]


def test_canvas_download_groups_files_per_student(tmp_path):
    (tmp_path / "lovelaceada_1815_90001_polyfit.py").write_text(CORRECT)
    (tmp_path / "turingalan_LATE_1912_90002_polyfit-1.py").write_text(CORRECT)
    (tmp_path / "turingalan_LATE_1912_90003_helpers.py").write_text("X = 1\n")
    found = lms.discover(tmp_path, tmp_path / "work", "polyfit")
    assert found.layout == "canvas"
    ada, alan = found.entries
    assert (ada.student, ada.details) == ("lovelaceada", {"canvas_id": "1815", "late": False})
    assert (alan.student, alan.details["late"]) == ("turingalan", True)
    assert sorted(p.name for p in alan.path.iterdir()) == ["helpers.py", "polyfit.py"]


def test_github_classroom_clone_all_strips_the_assignment_prefix(tmp_path):
    for user in ("octocat", "hubot"):
        repo = tmp_path / f"polyfit-hw-{user}"
        (repo / ".git").mkdir(parents=True)
        (repo / "polyfit.py").write_text(CORRECT)
    found = lms.discover(tmp_path, tmp_path / "work", "polyfit")
    assert found.layout == "github-classroom"
    assert [e.student for e in found.entries] == ["hubot", "octocat"]


def test_an_lms_zip_wrapped_in_one_folder_is_opened(tmp_path):
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as archive:
        archive.writestr("hw1_submissions/alice.py", CORRECT)
        archive.writestr("hw1_submissions/bob/polyfit.py", CORRECT)
        archive.writestr("__MACOSX/hw1_submissions/._alice.py", b"\x00")
    found = lms.discover(tmp_path / "export.zip", tmp_path / "work", "polyfit")
    assert (found.layout, [e.student for e in found.entries], found.warnings) == \
        ("folder", ["alice", "bob"], [])


# --- end to end --------------------------------------------------------------------------

def _notebook(path, source):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("!pip install numpy\n%matplotlib inline"),
        nbformat.v4.new_code_cell(source)])
    path.write_text(nbformat.writes(nb))


@needs_bwrap
def test_batch_end_to_end_in_bwrap_then_resume(tmp_path):
    """The CLI as CI runs it (no tty): plain progress lines, files, then a resume."""
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "alice.py").write_text(CORRECT)
    _notebook(class_dir / "bob.ipynb", BUGGY)
    with zipfile.ZipFile(class_dir / "carol.zip", "w") as archive:
        archive.writestr("carol-hw/polyfit.py", CORRECT)
    out = tmp_path / "out"
    result = run_cli("batch", "polyfit", class_dir, "--out", out, "--jobs", "2", "--sandbox", "bwrap")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[3/3]" in result.stdout and "done: 3 graded, 0 skipped" in result.stdout
    book = _gradebook(out)
    assert {s: (r["total"], r["max"], r["status"]) for s, r in book.items()} == {
        "alice": (FULL, FULL, "ok"), "bob": (book["bob"]["total"], FULL, "ok"), "carol": (FULL, FULL, "ok")}
    assert float(book["bob"]["total"]) < POLYFIT_MAX
    bob = results_from(out / "bob")
    assert bob["extra_data"]["sandbox"] == "bwrap"
    assert "Note: cell 1: not run (shell commands" in bob["output"] and "`!pip install numpy`" in bob["output"]
    assert any("mse_grad" in t["output"] for t in bob["tests"] if t["status"] == "failed")
    assert (out / "bob" / "feedback.md").read_text().startswith("# polyfit: ")
    assert "data:image/png;base64," in (out / "report.html").read_text()
    # similarity ran too (how it ranks pairs is tests/test_similarity.py's; in a class of
    # three near-copies of one solution the class baseline leaves no score, only the overlap)
    pairs = {frozenset((r["student_a"], r["student_b"])): r
             for r in csv.DictReader(open(out / "similarity.csv", encoding="utf-8"))}
    same = pairs[frozenset(("alice", "carol"))]
    assert int(same["shared_fingerprints"]) > 0 and int(same["longest_run"]) > 0, pairs
    assert 'id="similarity"' in (out / "report.html").read_text() and list((out / "similarity").glob("*.html"))

    (class_dir / "alice.py").write_text(CORRECT + "\n# a late change\n")
    again = run_cli("batch", "polyfit", class_dir, "--out", out, "--jobs", "2", "--sandbox", "bwrap")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 already graded" in again.stdout and "done: 1 graded, 2 skipped" in again.stdout
    assert f"[1/1] alice: {FULL}/{FULL} ok" in again.stdout
    assert set(_gradebook(out)) == {"alice", "bob", "carol"}


def _processes_mentioning(marker):
    """PIDs whose command line or environment contains marker."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for name in ("cmdline", "environ"):
            try:
                if marker in Path(f"/proc/{entry}/{name}").read_bytes():
                    found.append(int(entry))
                    break
            except OSError:
                pass
    return found


@needs_bwrap
def test_relative_paths_grade_as_the_readme_runs_them(tmp_path):
    """`make grade` passes relative folders (--out out/examples/ID): the warm harness server,
    which has a working folder of its own, must still find each grade's files."""
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_text(CORRECT)
    result = run_cli("batch", "polyfit", "class", "--out", "out/rel", "--jobs", "1", "--sandbox", "bwrap",
                     "--no-similarity", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    book = _gradebook(tmp_path / "out" / "rel")
    assert book["alice"]["total"] == book["alice"]["max"] != "0", book


def test_a_killed_batch_loses_nothing_leaves_nothing_and_resumes(tmp_path):
    marker = f"batch-marker-{uuid.uuid4().hex}"
    scratch = tmp_path / marker   # TMPDIR: the harnesses' and workers' paths carry the marker
    scratch.mkdir()
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    slow = "import time\ntime.sleep(1.0)\n" + CORRECT   # every worker start takes a second
    for n in range(4):
        (class_dir / f"student{n}.py").write_text(slow)
    out = tmp_path / f"out-{marker}"
    command = [sys.executable, "-m", "grader", "batch", "polyfit", str(class_dir), "--out", str(out),
               "--jobs", "2", "--sandbox", default_sandbox()]
    env = dict(os.environ, TMPDIR=str(scratch))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/results.json")) and time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.1)
    assert _processes_mentioning(marker.encode()), "no harness was running when the batch was killed"
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert f"run again:\n  grader batch polyfit {class_dir} --out {out}" in output, output

    for _ in range(50):  # bwrap's --die-with-parent works asynchronously
        if not _processes_mentioning(marker.encode()):
            break
        time.sleep(0.1)
    assert _processes_mentioning(marker.encode()) == [], "processes of the killed batch remain"
    kept = sorted(p.parent.name for p in out.glob("*/results.json"))
    assert 1 <= len(kept) < 4, output
    for name in kept:
        data = results_from(out / name)
        assert data["score"] == POLYFIT_MAX and data["extra_data"]["batch"]["stamp"]["sha256"]
        assert (out / name / "feedback.md").is_file()
    assert set(_gradebook(out)) == set(kept)
    assert not (out / WORK_DIR).exists()

    resumed = run_cli("batch", "polyfit", class_dir, "--out", out, "--jobs", "2",
                      "--sandbox", default_sandbox(), env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{len(kept)} already graded" in resumed.stdout
    assert f"done: {4 - len(kept)} graded, {len(kept)} skipped" in resumed.stdout
    assert {r["total"] for r in _gradebook(out).values()} == {FULL} and len(_gradebook(out)) == 4
    assert _processes_mentioning(marker.encode()) == []


# --- a Dask cluster -------------------------------------------------------------------------

class _KillAWorkerOnFirstResult(batch.Progress):
    def __init__(self, pid):
        super().__init__(None)
        self.pid, self.killed = pid, False

    def advance(self, student, data):
        super().advance(student, data)
        if not self.killed:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True


def test_cluster_batch_survives_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "good.py").write_text(CORRECT)
    (class_dir / "buggy.py").write_text(BUGGY)
    (class_dir / "folder").mkdir()
    (class_dir / "folder" / "polyfit.py").write_text(CORRECT)
    (class_dir / "empty.py").write_text("")
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        pids = sorted(client.run(os.getpid).values())
        progress = _KillAWorkerOnFirstResult(pids[0])
        summary = batch.run(course.load("polyfit"), class_dir, out,
                            options=Options(sandbox="none"),
                            cluster=batch.Cluster(cluster.scheduler_address, insecure=True),
                            progress=progress)
    assert progress.killed and not summary.interrupted
    book = _gradebook(out)
    assert {s: r["status"] for s, r in book.items()} == {
        "buggy": "ok", "empty": "invalid submission", "folder": "ok", "good": "ok"}
    for student in ("good", "folder"):
        assert book[student]["total"] == FULL, (student, book[student])
    assert float(book["buggy"]["total"]) < POLYFIT_MAX
    assert "is empty" in book["empty"]["message"]


# --- the report in a browser -------------------------------------------------------------------

def _chromium():
    """The chromium binary, installed with apt-get when we are root and it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed (apt-get install chromium) and we are not root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
    installed = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env,
                               capture_output=True, text=True, timeout=900)
    if installed.returncode != 0 or not shutil.which("chromium"):
        pytest.skip(f"chromium could not be installed: {installed.stderr[-300:]}")
    return shutil.which("chromium")


def _fake_results(out, student, passed, status="ok", seconds=1.0):
    tests = [{"name": f"test {k}", "number": str(k), "score": 1.0 if k < passed else 0.0,
              "max_score": 1.0, "status": "passed" if k < passed else "failed",
              "output": "" if k < passed else f"f{k}: wrong value (expected 1, got 2)",
              "visibility": "visible", "extra_data": {"nodeid": f"t.py::test_{k}"}}
             for k in range(6)]
    data = {"score": float(passed), "execution_time": seconds, "output": "", "tests": tests,
            "extra_data": {"max_score": 6.0, "status": status}}
    (out / student).mkdir(parents=True)
    (out / student / "results.json").write_text(json.dumps(data))


def test_report_renders_its_charts_in_headless_chromium(tmp_path):
    browser = _chromium()
    out = tmp_path / "out"
    for n, passed in enumerate([6, 6, 5, 3, 0, 4, 6]):
        _fake_results(out, f"s{n}", passed, "invalid submission" if passed == 0 else "ok", 1.0 + n)
    report = gradebook.write_report(out, gradebook.load_rows(out), "polyfit")
    html = report.read_text()
    assert "<script" not in html and "http" not in html.split("<style>")[0]
    probe = tmp_path / "probe.html"   # the report plus a script that measures its images
    probe.write_text(html.replace("</body>", "<script>window.addEventListener('load', () => {"
                                  "document.title = 'widths:' + [...document.images].map("
                                  "i => i.complete ? i.naturalWidth : -1).join(',');});"
                                  "</script></body>"))
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(flags + ["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    title = dom.stdout.split("<title>")[1].split("</title>")[0]
    widths = [int(w) for w in title.removeprefix("widths:").split(",")]
    assert len(widths) == 2 and all(w > 200 for w in widths), (title, dom.stderr[-500:])

    shot = tmp_path / "report.png"
    subprocess.run(flags + ["--window-size=1000,1400", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=120)
    import matplotlib.image
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels[..., :3].std() > 0.05, "the screenshot is blank"
