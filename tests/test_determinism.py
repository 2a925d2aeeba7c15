"""Same submission, same grade: repeated grades agree, in any test order.

Each grade is run forward and in reverse test order (Options.reverse); all
must give identical verdicts and messages. Training, where a missing seed
would show first, is graded five times.
"""
import pytest

from conftest import CORPUS

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
