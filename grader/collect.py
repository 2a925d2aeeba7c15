"""The tests of an assignment, with their points, found without running anything."""
import contextlib
import functools
import io
import threading
from pathlib import Path

import pytest

from .plugin import describe


class _Collector:
    def __init__(self):
        self.tests = []

    def pytest_collection_modifyitems(self, items):
        for item in items:
            test = describe(item)
            test["points"] = test.pop("max_score")
            self.tests.append(test)


_lock = threading.Lock()  # pytest.main is not thread-safe; batches grade from threads


@functools.cache
def _collect(suites, root):
    collector = _Collector()
    ini = Path(__file__).with_name("harness.ini")
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main([*suites, "--collect-only", "-c", str(ini), "--rootdir", root,
                     "--import-mode=importlib", "-p", "grader.plugin"], plugins=[collector])
    return tuple(collector.tests)


def collect(assignment, hidden=True):
    from .course import ROOT
    suites = tuple(str(s) for s in assignment.suites(hidden=hidden))
    with _lock:
        return [dict(t) for t in _collect(suites, str(ROOT))]
