"""The pytest plugin the harness runs suites with.

Suites are ordinary pytest files. They reach the submission only through the
`student` fixture (see client.py) and the reference through `ref`; inputs come
from `rng`, seeded from the test's own id so no test depends on another.
Markers:
    @pytest.mark.points(2)                  points for the test (default 1)
    @pytest.mark.visibility("hidden")       visible | hidden | after_due_date | after_published
    @pytest.mark.timeout(20)                seconds for the test (default: the assignment's)
    @pytest.mark.gpu                        needs CUDA; skipped and reported apart without it
The plugin records one result per test and writes them as it goes, so a
harness that dies still leaves what it graded (results.partial.json).
"""
import importlib.util
import json
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from . import results as results_mod
from .client import STARTUP_SECONDS, Student, SubmissionError

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
_state = {}


def pytest_addoption(parser):
    parser.addoption("--grader-config", help="JSON file written by grader.harness")


def pytest_configure(config):
    for line in ("points(n): points for this test", "visibility(v): Gradescope visibility",
                 "gpu: needs CUDA", "timeout(s): seconds for this test"):
        config.addinivalue_line("markers", line)
    path = config.getoption("--grader-config")
    if path:
        _state["config"] = json.loads(Path(path).read_text())
        _state["records"] = []
        _state["skipped"] = []


def pytest_collection_modifyitems(session, config, items):
    """Give pytest-timeout a backstop beyond each test's own budget.

    The client enforces the budget itself; the backstop only catches a stuck
    harness, so it also leaves room for a worker's first import.
    """
    if "config" not in _state:
        return
    if _state["config"].get("reverse"):
        items.reverse()
    default = _state["config"]["test_timeout"]
    for item in items:
        budget = _budget(item, default)
        item.add_marker(pytest.mark.timeout(budget + STARTUP_SECONDS + 15), append=False)
        item.user_properties.append(("budget", budget))


def _budget(item, default):
    marks = [m for m in item.iter_markers("timeout")]
    return float(marks[-1].args[0]) if marks and marks[-1].args else default


def _cuda_available():
    if not _state["config"].get("cuda"):
        return False
    import torch
    return torch.cuda.is_available()


# --- fixtures -----------------------------------------------------------------

def pytest_sessionstart(session):
    """Start the worker before collection, so its imports overlap the harness's."""
    if "config" in _state:
        _student_handle().spawn()


def _student_handle():
    if "student" not in _state:
        from .sandbox import make_sandbox, Limits
        config = _state["config"]
        sandbox = make_sandbox(config["sandbox"], Limits(**config["limits"]), gpu=bool(config.get("cuda")))
        source = Path(config["module_file"]).read_bytes() if config.get("module_file") else b""
        _state["sandbox"] = sandbox
        _state["student"] = Student(sandbox, source, config["module_name"])
    return _state["student"]


@pytest.fixture(scope="session")
def student():
    handle = _student_handle()
    yield handle
    handle.close()
    _state.pop("sandbox").close()


@pytest.fixture(autouse=True)
def _per_test(request):
    """Seed nothing global; set the student's deadline for this test."""
    if request.node.get_closest_marker("gpu") and not _cuda_available():
        pytest.skip("needs CUDA")
    budget = dict(request.node.user_properties)["budget"]
    handle = _state.get("student")
    if "student" in request.fixturenames:
        handle = request.getfixturevalue("student")
    if handle is not None:
        handle.timeout = budget
        handle.deadline = time.monotonic() + budget
    yield
    if handle is not None:
        handle.deadline = None


@pytest.fixture(scope="session")
def ref():
    """The reference solution, imported in the harness (never in the worker)."""
    path = _state["config"].get("reference_file")
    if not path:
        pytest.fail("this suite needs the reference solution, which is not available here")
    spec = importlib.util.spec_from_file_location(f"reference_{_state['config']['module_name']}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rng(request):
    """A generator seeded from this test's id: same inputs every run, every order."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.split("::", 1)[-1].encode()))


@pytest.fixture
def device():
    """'cuda' in a GPU-marked test (which is skipped without CUDA), else 'cpu'."""
    return "cuda" if _cuda_available() else "cpu"


# --- recording -------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if "config" not in _state:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _record(item, report, call)


def describe(item):
    """A test as results and listings name it: title, id, suite, points, visibility, gpu."""
    points = item.get_closest_marker("points")
    visibility = item.get_closest_marker("visibility")
    visibility = visibility.args[0] if visibility else "visible"
    if visibility not in VISIBILITIES:
        raise ValueError(f"{item.nodeid}: unknown visibility {visibility!r}")
    doc = getattr(item.function, "__doc__", None)
    title = doc.strip().splitlines()[0] if doc and doc.strip() else item.name
    if hasattr(item, "callspec"):
        title += f" [{item.callspec.id}]"
    return {"name": title, "nodeid": item.nodeid, "suite": Path(str(item.fspath)).stem,
            "max_score": float(points.args[0]) if points else 1.0, "visibility": visibility,
            "gpu": item.get_closest_marker("gpu") is not None}


def _record(item, report, call):
    record = dict(describe(item), duration=round(report.duration, 3))
    if report.skipped:
        record["reason"] = "needs CUDA, which is not available here"
        _state["skipped"].append(record)
    else:
        record["status"] = "passed" if report.passed else "failed"
        record["message"] = "" if report.passed else _message(call)
        if not report.passed:
            record["failure"] = _failure_kind(call)
        handle = _state.get("student")
        printed = handle.output() if handle is not None else ""
        if printed.strip() and record["suite"] == "test_public":
            record["printed"] = printed[-2000:]
        _state["records"].append(record)
    _write(partial=True)


def _message(call):
    """The failure as a student should read it; never the suite's source code."""
    if call.excinfo is None:
        return "failed"
    exc = call.excinfo.value
    if isinstance(exc, SubmissionError):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc).split("\nassert ")[0].strip() or "a check failed"
    if call.excinfo.typename == "Failed":
        text = str(exc)
        return "timed out (the whole test exceeded its time limit)" if text.startswith("Timeout") else text
    return f"internal grader error ({call.excinfo.typename}: {str(exc)[:300]}); please tell your instructor"


def _failure_kind(call):
    """timeout, crash, invalid submission, or error: for the gradebook's status."""
    if call.excinfo is None:
        return "error"
    if isinstance(call.excinfo.value, SubmissionError):
        return call.excinfo.value.kind
    if call.excinfo.typename == "Failed" and str(call.excinfo.value).startswith("Timeout"):
        return "timeout"
    return "error"


def pytest_sessionfinish(session, exitstatus):
    if "config" in _state:
        _write(partial=False)
    if "sandbox" in _state:  # spawned, but no test asked for the student
        _state["student"].close()
        _state.pop("sandbox").close()


def _write(partial):
    config = _state["config"]
    config["elapsed"] = time.monotonic() - _state.get("started", time.monotonic())
    data = results_mod.build(_state["records"], _state["skipped"], config)
    out = Path(config["out_dir"])
    results_mod.write_json(out / ("results.partial.json" if partial else "results.json"), data)
    if not partial:
        (out / "results.partial.json").unlink(missing_ok=True)
