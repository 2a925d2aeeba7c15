"""Every assignment: the reference gets full marks, the stub gets zero, stubs are current."""
import pytest

from grader import course
from grader.stubgen import make_stub

from conftest import failed, max_score

ASSIGNMENTS = [a.id for a in course.all_assignments()]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_reference_gets_full_marks(assignment_id, grade_submission):
    assignment = course.load(assignment_id)
    data = grade_submission(assignment_id, assignment.reference)
    assert data["score"] == max_score(data) > 0, [t["output"] for t in failed(data)]
    assert data["extra_data"]["status"] == "ok"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_stub_gets_zero(assignment_id, grade_submission):
    data = grade_submission(assignment_id, course.load(assignment_id).stub)
    passing = [t["name"] for t in data["tests"] if t["status"] == "passed"]
    assert data["score"] == 0 and not passing, passing


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_stub_is_generated_from_reference(assignment_id):
    assignment = course.load(assignment_id)
    expected = make_stub(assignment.reference.read_text())
    assert assignment.stub.read_text() == expected, "stub drifted: run `make stubs`"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_assignment_has_handout_and_public_tests(assignment_id):
    assignment = course.load(assignment_id)
    assert (assignment.folder / "README.md").stat().st_size > 1500
    assert assignment.public_suite.is_file() and assignment.hidden_suite.is_file()
