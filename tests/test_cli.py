"""The command line as the contract (shared/spec/grader.md) describes it, on the fixture course."""
import json
import os

import pytest

from conftest import TOY_REFERENCE as REFERENCE
from conftest import needs_bwrap
from conftest import run_toy_cli as run_cli


def test_list_shows_assignments_tests_and_points():
    result = run_cli("list", "toy")
    assert result.returncode == 0, result.stderr
    assert "toy:" in result.stdout and "points" in result.stdout
    assert "[test_hidden" in result.stdout and "[test_public" in result.stdout


def test_student_check_fails_on_the_stub_and_mentions_hidden_tests():
    result = run_cli("test", "toy")
    assert result.returncode == 1
    assert "0 of 2 public tests passed" in result.stdout
    assert "not implemented yet" in result.stdout
    assert "Hidden tests" in result.stdout


def test_student_check_passing_everything_still_says_hidden_tests_come_later():
    result = run_cli("test", "toy", REFERENCE)
    assert result.returncode == 0, result.stdout
    assert "2 of 2 public tests passed" in result.stdout
    assert "Hidden tests" in result.stdout and "does not guarantee full marks" in result.stdout
    assert "all passed" not in result.stdout.lower()


@needs_bwrap
def test_grade_writes_gradescope_results_and_feedback(tmp_path):
    result = run_cli("grade", "toy", REFERENCE, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    for test in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed")
    assert data["score"] == sum(t["score"] for t in data["tests"]) == sum(t["max_score"] for t in data["tests"])
    assert data["extra_data"]["sandbox"] == "bwrap"
    assert "# toy: 7 / 7" in (tmp_path / "feedback.md").read_text()


@pytest.mark.parametrize("args", [("grade", "nosuch", "x.py"), ("grade", "toy", "missing.py"),
                                  ("test", "nosuch")])
def test_usage_errors_exit_2(args, tmp_path):
    result = run_cli(*args, "--out", tmp_path) if args[0] == "grade" else run_cli(*args)
    assert result.returncode == 2 and "grader:" in result.stderr


def test_grade_refuses_to_run_unsandboxed_unless_asked(tmp_path):
    env = dict(os.environ, PATH="/nonexistent")  # no bwrap on PATH
    result = run_cli("grade", "toy", REFERENCE, "--out", tmp_path, env=env)
    assert result.returncode == 2 and "--sandbox none" in result.stderr
    assert not (tmp_path / "results.json").exists()
    result = run_cli("grade", "toy", REFERENCE, "--out", tmp_path, "--sandbox", "none", env=env)
    assert result.returncode == 0 and json.loads((tmp_path / "results.json").read_text())["score"] == 7
    assert "--sandbox none: each worker is a plain subprocess" in result.stderr, "it says so"
