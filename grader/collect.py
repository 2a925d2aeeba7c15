"""The tests of an assignment, with their points, found without running anything."""
import contextlib
import functools
import io
import sys
import threading

import pytest

from .course import Assignment
from .errors import SuiteError
from .plugin import GraderPlugin, pytest_args

_lock = threading.Lock()  # pytest.main is not thread-safe; batches grade from threads


def collect_quietly(suites, root) -> tuple[int, GraderPlugin, str]:
    """pytest --collect-only of the suites with the plugin, printing nothing:
    (pytest's exit code, the plugin that described the tests, what pytest printed on stderr)."""
    plugin = GraderPlugin(None)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as errors:
        code = pytest.main(pytest_args(suites, root, "--collect-only"), plugins=[plugin])
    return code, plugin, errors.getvalue()


@functools.cache
def _collect(suites: tuple[str, ...], root: str) -> tuple[dict, ...]:
    before = set(sys.modules)
    try:
        code, plugin, errors = collect_quietly(suites, root)
    finally:
        # pytest's importlib mode reuses a module of the same rootdir-relative
        # name: forget the suites, so another course's suites are read afresh.
        for name in set(sys.modules) - before:
            if name.split(".")[0] in ("assignments", "reference"):
                del sys.modules[name]
    if plugin.suite_errors:
        raise SuiteError("malformed suite:\n" + "\n".join(plugin.suite_errors))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise SuiteError(f"the suites {', '.join(suites)} cannot be collected:\n{errors[-2000:]}")
    return tuple({**t, "points": t.pop("max_score")} for t in map(dict, plugin.tests))


def collect(assignment: Assignment, hidden: bool = True) -> list[dict]:
    """Each test of the assignment's suites: name, nodeid, suite, points, visibility, gpu."""
    suites = tuple(str(s) for s in assignment.suites(hidden=hidden))
    with _lock:
        return [dict(t) for t in _collect(suites, str(assignment.course_root))]
