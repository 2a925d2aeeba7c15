"""Faults of the grader itself: killed mid-grade, a full disk, no bubblewrap.

None may leave a results.json that claims a score it did not finish, a
stray process, or a traceback where a clear error belongs; a re-run after a
kill produces the complete result.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, needs_bwrap
from grader import course, results
from grader.collect import collect
from test_redteam import REFERENCE, TWIN, _children, _prctl_subreaper, strays

SLOW_TEST = 13   # rows of X in the hidden finite-difference test, the 13th test graded
SLEEP = 8        # seconds that test spends in mse_grad (its budget is 10)


def cli(submission, out, sandbox="bwrap"):
    return [sys.executable, "-m", "grader", "grade", "polyfit", str(submission), "--out", str(out),
            "--sandbox", sandbox]


def slow_reference(folder):
    """The reference solution, sleeping SLEEP s inside one hidden test."""
    source = REFERENCE.read_text().replace(
        "def mse_grad(X, w, y):\n",
        f"def mse_grad(X, w, y):\n    if X.shape[0] == {SLOW_TEST}:\n"
        f"        __import__('time').sleep({SLEEP})\n", 1)
    assert "sleep" in source
    path = folder / "polyfit.py"
    path.write_text(source)
    return path


def graded_so_far(out):
    try:
        return len(results.read_partial(out / results.PARTIAL)[0])
    except OSError:
        return 0


@needs_bwrap
def test_grader_killed_mid_grade_leaves_no_score_and_a_rerun_completes(tmp_path):
    submission, out = slow_reference(tmp_path), tmp_path / "out"
    before = {pid for pid, _ in _children()}
    _prctl_subreaper(True)
    try:
        process = subprocess.Popen(cli(submission, out), cwd=ROOT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while graded_so_far(out) < SLOW_TEST - 1 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert graded_so_far(out) == SLOW_TEST - 1, "the grade never reached the slow test"
        time.sleep(1.0)                                   # now inside the slow test
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        time.sleep(SLEEP + 4)                             # long enough for a survivor to finish
        written = (out / "results.json").exists()
        left = strays(before)
    finally:
        _prctl_subreaper(False)
    assert not left, f"processes outlived the killed grader: {left}"
    assert not written, "a results.json appeared after the grader was killed"

    rerun = subprocess.run(cli(submission, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    data = json.loads((out / "results.json").read_text())
    assert data["score"] == data["extra_data"]["max_score"] > 0, data["output"]
    assert len(data["tests"]) == len(collect(course.load("polyfit"))) and data["extra_data"]["status"] == "ok"
    assert not (out / results.PARTIAL).exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs for the out dir (root only), filled to the brim."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        with open(mount / "filler", "wb") as handle:
            try:
                handle.write(b"\0" * 2**20)
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@needs_bwrap
def test_full_disk_is_a_clear_error(tiny_disk):
    out = tiny_disk / "out"
    result = subprocess.run(cli(TWIN, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0, "a grade was reported although nothing could be written"
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    assert "space" in result.stderr.lower(), result.stderr[-2000:]
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("sandbox", ["bwrap", "auto"])
def test_missing_bubblewrap_is_a_clear_error(sandbox, tmp_path):
    no_bwrap = tmp_path / "bin"
    no_bwrap.mkdir()
    for tool in ("setpriv", "mount", "umount"):
        if Path("/usr/bin", tool).exists():
            (no_bwrap / tool).symlink_to(Path("/usr/bin", tool))
    out = tmp_path / "out"
    result = subprocess.run(cli(TWIN, out, sandbox), cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PATH": str(no_bwrap)})
    written = (out / "results.json").read_text() if (out / "results.json").exists() else ""
    assert result.returncode != 0, f"exit 0 without bubblewrap: {result.stdout[-1000:]}"
    assert "bubblewrap" in result.stderr, result.stderr[-2000:]
    for text in (result.stdout, result.stderr, written):
        assert "Traceback" not in text and "INTERNALERROR" not in text, text[-3000:]
