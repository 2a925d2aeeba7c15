"""GitHub Classroom: the v3 result line and the released workflow's structure."""
import base64
import json

import pytest
import yaml

from conftest import ROOT, run_cli
from grader.classroom import classroom_output
from grader.release import classroom_workflow

V3_TEST_FIELDS = {"name", "status", "message", "test_code", "task_id", "filename", "line_no",
                  "duration", "score"}


def decode(line):
    key, _, value = line.strip().partition("=")
    assert key == "result" and "\n" not in value
    return json.loads(base64.b64decode(value))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(reference, stub) classroom payloads from `grader grade --format classroom`."""
    payloads = []
    for path in ("reference/polyfit/polyfit.py", "assignments/polyfit/polyfit.py"):
        out = tmp_path_factory.mktemp("classroom")
        result = run_cli("grade", "polyfit", ROOT / path, "--out", out, "--format", "classroom",
                         "--sandbox", "none")
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\n") == 1
        payloads.append((decode(result.stdout), json.loads((out / "results.json").read_text())))
    return payloads


def test_v3_payload_of_a_full_marks_grade(graded):
    payload, data = graded[0]
    assert payload["version"] == 3 and payload["status"] == "pass"
    assert payload["max_score"] == data["extra_data"]["max_score"] > 0
    assert sum(t["score"] for t in payload["tests"]) == payload["max_score"]
    assert all(set(t) == V3_TEST_FIELDS and t["status"] == "pass" for t in payload["tests"])
    assert len(payload["tests"]) == len(data["tests"])


def test_v3_payload_of_a_failing_grade(graded):
    payload, data = graded[1]
    assert payload["status"] == "fail"
    assert sum(t["score"] for t in payload["tests"]) == 0 < payload["max_score"]
    assert all(t["status"] == "fail" and "not implemented" in t["message"] for t in payload["tests"])


def test_crashed_grade_is_an_error():
    data = {"output": "", "tests": [], "extra_data": {"max_score": 0, "status": "crash"}}
    assert decode(classroom_output(data))["status"] == "error"


def test_workflow_structure():
    workflow = yaml.safe_load(classroom_workflow(["polyfit", "backprop"]))
    assert set(workflow[True]) >= {"push"}  # YAML 1.1 reads the key `on` as True
    assert workflow["permissions"]["checks"] == "write" and workflow["permissions"]["actions"] == "read"
    assert list(workflow["jobs"]) == ["run-autograding-tests"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    ids = [s.get("id") for s in steps if s.get("id")]
    assert ids == ["polyfit", "backprop"]
    for step in steps:
        if step.get("id"):
            assert "--format classroom" in step["run"] and '>> "$GITHUB_OUTPUT"' in step["run"]
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    assert reporter["with"]["runners"] == "polyfit,backprop"
    assert reporter["env"] == {"POLYFIT_RESULTS": "${{ steps.polyfit.outputs.result }}",
                               "BACKPROP_RESULTS": "${{ steps.backprop.outputs.result }}"}
