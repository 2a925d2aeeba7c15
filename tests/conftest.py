"""Shared fixtures for the engine's own tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import course
from grader.grade import Options, grade
from grader.warm import HarnessServer
from grader.sandbox import bwrap_problem

ROOT = Path(__file__).resolve().parent.parent
collect_ignore = ["course"]  # the fixture course's suites run only inside a grade
CORPUS = ROOT / "tests" / "corpus"


def default_sandbox():
    """bwrap where it works (CI installs it); the plain subprocess elsewhere."""
    return "bwrap" if bwrap_problem() is None else "none"


needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None,
                                 reason=f"bubblewrap unavailable: {bwrap_problem()}")


@pytest.fixture(scope="session")
def harness_servers():
    """One warm harness server per assignment for this test process, as a batch has."""
    servers = {}

    def server_for(assignment):
        if assignment.id not in servers:
            servers[assignment.id] = HarnessServer(assignment.suites(), assignment.course_root)
        return servers[assignment.id]
    yield server_for
    for server in servers.values():
        server.close()


@pytest.fixture
def grade_submission(tmp_path, harness_servers):
    """grade_submission(assignment_id, path, **options) -> results document (a warm harness)."""
    def run(assignment_id, path, sandbox=None, **options):
        out = tmp_path / f"out-{assignment_id}-{Path(path).stem}"
        assignment = course.load(assignment_id)
        return grade(assignment, path, out, Options(sandbox=sandbox or default_sandbox(), **options),
                     harness=harness_servers(assignment))
    return run


def run_cli(*args, cwd=ROOT, timeout=600, **kwargs):
    """Run `python -m grader ARGS` as a user would; returns CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def failed(data):
    return [t for t in data["tests"] if t["status"] == "failed"]


def max_score(data):
    return data["extra_data"]["max_score"]


# The fixture course: one toy numpy assignment, for testing the engine apart
# from the six real assignments (whose content changes as suites improve).
COURSE = ROOT / "tests" / "course"
TOY_REFERENCE = COURSE / "reference" / "toy" / "toy.py"
TOY_STUB = COURSE / "assignments" / "toy" / "toy.py"


def toy():
    return course.load("toy", root=COURSE)


def run_toy_cli(*args, course_root=COURSE, **kwargs):
    """`grader ARGS` with the fixture course (or another) as the course root."""
    env = dict(kwargs.pop("env", None) or os.environ, GRADER_COURSE_ROOT=str(course_root))
    return run_cli(*args, env=env, **kwargs)
