"""Same submission, same grade: repeated grades agree, in any test order.

Each grade is run forward and in reverse test order (Options.reverse); all
must give identical verdicts and messages. Training, where a missing seed
would show first, is graded five times. A whole class graded beside CPU
hogs gets the grades it gets on an idle machine.
"""
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT, default_sandbox
from grader import batch, course
from grader.grade import Options

sys.path.insert(0, str(ROOT / "bench"))
import polyfit_class  # noqa: E402  (the benchmark's class generator, shared)

# Buggy submissions exercise the failure messages too, not only the passes.
CASES = {
    "training": (CORPUS / "training" / "buggy" / "no_zero_grad.py", 5),
    "modules": (CORPUS / "modules" / "buggy" / "init_randn.py", 3),
    "conv": (CORPUS / "conv" / "buggy" / "textcnn_no_relu.py", 3),
}


def verdicts(data):
    return {t["extra_data"]["nodeid"]: (t["status"], t["score"], t["output"]) for t in data["tests"]}


@pytest.mark.parametrize("assignment_id", CASES)
def test_repeated_grades_in_either_order_are_identical(assignment_id, grade_submission):
    path, count = CASES[assignment_id]
    grades = [grade_submission(assignment_id, path, reverse=bool(i % 2)) for i in range(count)]
    forward, backward = grades[0], grades[1]
    assert [t["extra_data"]["nodeid"] for t in backward["tests"]] == \
           [t["extra_data"]["nodeid"] for t in reversed(forward["tests"])], "the order did not change"
    assert 0 < forward["score"] < forward["extra_data"]["max_score"]
    for other in grades[1:]:
        assert other["score"] == forward["score"]
        assert verdicts(other) == verdicts(forward)


def test_a_class_gets_the_same_grades_on_a_busy_machine(tmp_path):
    """The 20-submission polyfit class (bench/polyfit_class.py), idle and beside two CPU hogs.

    Budgets count CPU time, so two busy loops beside the batch stretch its
    wall time but change no score and no status.
    """
    modules, _ = polyfit_class.write(tmp_path / "class")
    options = Options(sandbox=default_sandbox())
    idle = batch.run(course.load("polyfit"), modules, tmp_path / "idle", jobs=2, options=options)
    hogs = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 600\n"
                              "while time.time() < end: pass"]) for _ in range(2)]
    try:
        busy = batch.run(course.load("polyfit"), modules, tmp_path / "busy", jobs=2, options=options)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert len(idle.rows) == len(busy.rows) == 20
    assert {r.student: (r.total, r.status) for r in busy.rows} == {r.student: (r.total, r.status) for r in idle.rows}
    statuses = {r.student: r.status for r in idle.rows}
    assert "timeout" in statuses.values() and "invalid submission" in statuses.values()
