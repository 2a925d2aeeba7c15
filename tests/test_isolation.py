"""Isolation between parallel grades: a fork bomb in one slot does not starve another.

The reference is graded alone (its normal time), then again while a fork
bomb (tests/redteam/isolation/fork_bomb_forever.py) runs in a parallel grade.
It must still get full marks, in at most FACTOR times its normal time plus
SLACK seconds.
"""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, needs_bwrap
from grader import results
from test_redteam import REDTEAM, REFERENCE, _children, _prctl_subreaper, strays

BOMB = REDTEAM / "isolation" / "fork_bomb_forever.py"
FACTOR, SLACK = 3.0, 5.0
SLOT_UIDS = range(61000, 61256)


def grade_command(submission, out):
    return [sys.executable, "-m", "grader", "grade", "polyfit", str(submission), "--out", str(out),
            "--sandbox", "bwrap"]


# Budgets count CPU time, and a spinning fork bomb spends its test's budget in
# a second or two; this bomb's grade gets 120 s of CPU per test, so it is still
# bombing while the reference is graded beside it.
LONG_BOMB = """\
import sys
from grader import course
from grader.budgets import Budgets
from grader.collect import collect
from grader.grade import Options, grade
polyfit = course.load("polyfit")
long = {t["nodeid"]: 120.0 for t in collect(polyfit)}
grade(polyfit, sys.argv[1], sys.argv[2], Options(sandbox="bwrap", budgets=Budgets(long, {}, 10.0, 0.0)))
"""


def bomb_command(out):
    return [sys.executable, "-c", LONG_BOMB, str(BOMB), str(out)]


def timed_reference_grade(out):
    started = time.monotonic()
    result = subprocess.run(grade_command(REFERENCE, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    assert data["score"] == data["extra_data"]["max_score"] > 0, data["output"]
    return elapsed


def running_in_slots():
    """Processes of any grading slot's uid that are running right now."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                status = open(f"/proc/{entry.name}/status").read()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            uid = int(fields.get("Uid", "0").split()[0])
            if uid in SLOT_UIDS and fields.get("State", "").strip().startswith("R"):
                count += 1
    return count


def partial_tests(out):
    try:
        return len(results.read_partial(out / results.PARTIAL)[0])
    except OSError:
        return 0


@needs_bwrap
def test_fork_bomb_does_not_starve_a_parallel_grade(tmp_path):
    alone = timed_reference_grade(tmp_path / "alone")
    bomb_out = tmp_path / "bomb"
    before = {pid for pid, _ in _children()}
    _prctl_subreaper(True)
    bomb = subprocess.Popen(bomb_command(bomb_out), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while partial_tests(bomb_out) < 3 and time.monotonic() < deadline:   # test 4 calls mse_grad
            time.sleep(0.1)
        time.sleep(2.0)
        spinning = running_in_slots()
        beside = timed_reference_grade(tmp_path / "beside")
        still_bombing = bomb.poll() is None
    finally:
        os.killpg(bomb.pid, signal.SIGKILL)
        bomb.wait()
        strays(before)   # the bomb's harness and sandbox, left by the kill (test_faults covers that case)
        _prctl_subreaper(False)
    print(f"reference alone {alone:.2f} s; beside the fork bomb ({spinning} slot processes running) "
          f"{beside:.2f} s; allowed {FACTOR * alone + SLACK:.2f} s")
    assert spinning >= 10, f"the fork bomb did not run ({spinning} running slot processes)"
    assert still_bombing, "the fork bomb's grade ended before the reference's: the test proved nothing"
    assert beside <= FACTOR * alone + SLACK
