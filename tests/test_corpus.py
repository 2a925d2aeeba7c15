"""The suites' verdicts on a corpus of correct and buggy submissions.

tests/corpus/ID/correct/*.py must get full marks (any correct implementation:
loops, vectorised, another library call). tests/corpus/ID/buggy/*.py each
hold one realistic bug, described in a header:

    # bug: mse_grad forgets the factor 2
    # fails: mse_grad_values, mse_grad_finite

Every `fails:` entry must name (a substring of the id of) a failing test, the
grade must be below the maximum, and every failing test must say why in a
message the student can read.
"""

import pytest

from conftest import CORPUS, failed, max_score
from grader import course

BUDGET_MARGIN = 5  # every CPU budget is at least this many times what a correct submission needs
CASES = sorted(CORPUS.glob("*/correct/*.py")) + sorted(CORPUS.glob("*/buggy/*.py"))


def header(path, key):
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}:"):
            return [part.strip() for part in line.split(":", 1)[1].split(",") if part.strip()]
    return []


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}/{p.stem}")
def test_corpus_verdict(path, grade_submission):
    assignment_id, kind = path.parts[-3], path.parts[-2]
    data = grade_submission(assignment_id, path)
    failures = failed(data)
    if kind == "correct":
        assert data["score"] == max_score(data), [(t["name"], t["output"]) for t in failures]
        for test in data["tests"]:  # calibrated budgets leave room for slow correct code
            extra = test["extra_data"]
            assert extra["budget"] >= BUDGET_MARGIN * extra["cpu"], (test["name"], extra)
        return
    expected = header(path, "fails")
    assert header(path, "bug") and expected, f"{path.name} needs '# bug:' and '# fails:' lines"
    assert data["score"] < max_score(data), "the buggy submission got full marks"
    ids = [t["extra_data"]["nodeid"] for t in failures]
    for needle in expected:
        assert any(needle in nodeid for nodeid in ids), f"no failing test matches {needle!r}: {ids}"
    for test in failures:
        assert test["output"].strip(), f"{test['name']} failed without a message"
        assert "internal grader error" not in test["output"], test["output"]


@pytest.mark.parametrize("assignment_id", [a.id for a in course.all_assignments()])
def test_every_assignment_has_a_big_enough_corpus(assignment_id):
    folder = CORPUS / assignment_id
    assert folder.is_dir(), f"{assignment_id} has no corpus in {folder}"
    assert len(list((folder / "correct").glob("*.py"))) >= 4, assignment_id
    assert len(list((folder / "buggy").glob("*.py"))) >= 12, assignment_id


def test_every_corpus_belongs_to_an_assignment():
    known = {a.id for a in course.all_assignments()}
    assert {p.name for p in CORPUS.iterdir() if p.is_dir()} <= known
