"""The pytest plugin the harness runs suites with: one `GraderPlugin` object per grade.

Suites are ordinary pytest files. They reach the submission only through the
`student` fixture (see client.py) and the reference through `ref`; inputs come
from `rng`, seeded from the test's own id so no test depends on another.
Markers (validated at collection; a bad argument is an error naming the test):
    @pytest.mark.points(2)                  points for the test (default 1)
    @pytest.mark.visibility("hidden")       visible | hidden | after_due_date | after_published
    @pytest.mark.timeout(20)                seconds for the test (default: the assignment's)
    @pytest.mark.gpu                        needs CUDA; skipped and reported apart without it;
                                            in a CUDA grade its budget counts device time
The plugin records one result per test and writes them as it goes, so a
harness that dies still leaves what it graded (results.partial.jsonl).

    pytest.main(pytest_args(suites, root), plugins=[GraderPlugin(settings)])

settings is the grade's configuration (see grade.py); GraderPlugin(None)
only collects and describes tests. The per-session state (records, the
student handle, the sandbox) lives in pytest's `config.stash`.
"""
import dataclasses
import importlib.util
import signal
import time
import zlib
from collections.abc import Callable
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from . import results
from .client import Student
from .errors import GraderError, SubmissionError, SuiteError
from .limits import IMPORT_CPU_SECONDS, PRELOAD_SECONDS, Limits, wall_cap
from .sandbox import Sandbox, make_sandbox
from .vocabulary import PUBLIC_SUITE, VISIBILITIES, Outcome

HARNESS_INI = Path(__file__).with_name("harness.ini")
BACKSTOP_MARGIN = 15.0  # a stuck harness: beyond a test's wall cap, a worker's start and its import
MARKERS = ("points(n): points for this test", "visibility(v): Gradescope visibility",
           "gpu: needs CUDA", "timeout(s): seconds for this test")


def pytest_args(suites, root, *extra: str) -> list[str]:
    """The argument list every harness-side pytest run uses (grade, collect, benchmarks)."""
    return [*map(str, suites), "-c", str(HARNESS_INI), "--rootdir", str(root),
            "--import-mode=importlib", *extra]


class HarnessTimeout(GraderError):
    """The harness's backstop fired: a whole test ran far past its budget."""


@dataclasses.dataclass
class _Session:
    records: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    started: float = dataclasses.field(default_factory=time.monotonic)
    student: Any = None            # the Student handle, once spawned
    sandbox: Sandbox | None = None
    notebook: Any = None           # a notebook's cell report, once read (see _read_notebook)


_SESSION = pytest.StashKey[_Session]()


class GraderPlugin:
    """Runs one grade's suites: budgets, fixtures, recording, results files.

    settings: the grade's configuration dict (grade.py writes it), or None to
    only collect. student_factory(settings) may replace the sandboxed Student
    (the in-process benchmark baseline does).
    """

    def __init__(self, settings: dict | None,
                 student_factory: Callable[[dict], Any] | None = None):
        self.settings = settings
        self.student_factory = student_factory or _sandboxed_student
        self.tests: list[dict] = []   # what collection found, described
        self.suite_errors: list[str] = []

    # --- configuration and collection ----------------------------------------------
    def pytest_configure(self, config):
        for line in MARKERS:
            config.addinivalue_line("markers", line)
        config.stash[_SESSION] = _Session()

    def pytest_sessionstart(self, session):
        """Start the worker before collection, so its imports overlap the harness's."""
        if self.settings is not None:
            self._student(session.config).spawn()

    def pytest_collection_modifyitems(self, session, config, items):
        """Describe and validate every test; give each its budget and a backstop beyond it.

        The client enforces the budget itself; the backstop only catches a
        stuck harness, so it also leaves room for a worker's first import.
        """
        for item in items:
            try:
                self.tests.append(describe(item))
            except SuiteError as exc:
                self.suite_errors.append(str(exc))
        if self.suite_errors:
            raise pytest.UsageError("malformed suite:\n" + "\n".join(self.suite_errors))
        if self.settings is None:
            return
        if self.settings.get("reverse"):
            items.reverse()
        startup = PRELOAD_SECONDS + wall_cap(self.settings.get("import_budget") or IMPORT_CPU_SECONDS)
        for item in items:
            budget = self.budget(item)
            item.add_marker(pytest.mark.timeout(wall_cap(budget) + startup + BACKSTOP_MARGIN), append=False)
            item.user_properties.append(("budget", budget))

    def budget(self, item) -> float:
        """A test's CPU budget: its timeout marker, else the calibrated one, else the assignment's default."""
        marks = list(item.iter_markers("timeout"))
        if marks and marks[-1].args:
            return float(marks[-1].args[0])
        return float((self.settings.get("budgets") or {}).get(item.nodeid, self.settings["test_timeout"]))

    # pytest-timeout's hooks: the backstop raises our own HarnessTimeout, so a
    # harness timeout is told apart by its type, not its message.
    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item, settings):
        def expire(signum, frame):
            raise HarnessTimeout(f"timed out (the whole test exceeded {settings.timeout:g} s)")
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, settings.timeout)
        return True

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_cancel_timer(self, item):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        return True

    # --- fixtures -----------------------------------------------------------------
    @pytest.fixture(scope="session")
    def student(self, request):
        handle = self._student(request.config)
        yield handle
        self._close(request.config)

    @pytest.fixture(autouse=True)
    def _per_test(self, request):
        """Skip GPU tests without CUDA; count the student's budget for this test (a GPU test's in device time)."""
        on_device = request.node.get_closest_marker("gpu") is not None
        if on_device and not self._cuda_available():
            pytest.skip("needs CUDA")
        state = request.config.stash[_SESSION]
        handle = state.student
        if "student" in request.fixturenames:
            handle = request.getfixturevalue("student")
        if handle is not None:
            self._read_notebook(state, handle)
            reference_cpu = (self.settings.get("reference_cpu") or {}).get(request.node.nodeid)
            handle.begin_test(dict(request.node.user_properties).get("budget"),
                              describe(request.node)["name"], reference_cpu, on_device=on_device)
        yield
        if handle is not None:
            handle.end_test()

    @pytest.fixture(scope="session")
    def ref(self):
        """The reference solution, imported in the harness (never in the worker)."""
        path = (self.settings or {}).get("reference_file")
        if not path:
            pytest.fail("this suite needs the reference solution, which is not available here")
        spec = importlib.util.spec_from_file_location(f"reference_{self.settings['module_name']}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    @pytest.fixture
    def rng(self, request):
        """A generator seeded from this test's id: same inputs every run, every order."""
        return np.random.default_rng(zlib.crc32(request.node.nodeid.split("::", 1)[-1].encode()))

    @pytest.fixture
    def device(self, request):
        """'cuda' in a GPU-marked test (which is skipped without CUDA), else 'cpu' (a CPU test's
        budget counts CPU time, so it must not run on the GPU, even in a CUDA grade)."""
        gpu = request.node.get_closest_marker("gpu") is not None
        return "cuda" if gpu and self._cuda_available() else "cpu"

    # --- recording -------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if self.settings is None:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._record(item.config.stash[_SESSION], item, report, call)

    def pytest_sessionfinish(self, session, exitstatus):
        if self.settings is None:
            return
        self._write(session.config.stash[_SESSION])
        self._close(session.config)  # spawned, but perhaps no test asked for the student

    def _record(self, state, item, report, call):
        record = dict(describe(item), duration=round(report.duration, 3),
                      budget=dict(item.user_properties).get("budget"))
        if report.skipped:
            record["reason"] = "needs CUDA, which is not available here"
            state.skipped.append(record)
        else:
            record["status"] = "passed" if report.passed else "failed"
            record["message"] = "" if report.passed else _message(call)
            if not report.passed:
                raised = call.excinfo.value if call.excinfo is not None else None
                record["failure"] = _failure_kind(raised)
                record["refused"] = isinstance(raised, SubmissionError) and raised.refused
            if state.student is not None:
                record["cpu"] = state.student.test_cpu()
                if record["gpu"]:  # run, so CUDA is on: its budget and "cpu" count device time
                    record["clock"] = "device"
            printed = state.student.output() if state.student is not None else ""
            if printed.strip() and record["suite"] == PUBLIC_SUITE:
                record["printed"] = printed[-2000:]
            state.records.append(record)
        self._append(state, {"skipped" if report.skipped else "record": record})

    @staticmethod
    def _progress(state) -> dict:
        """What results.build takes from the grade so far besides its tests: time and import CPU."""
        return {"elapsed": time.monotonic() - state.started, "import_cpu": getattr(state.student, "import_cpu", None),
                "cuda_device": getattr(state.student, "cuda_device", None)}

    def _notebook_config(self, state) -> dict:
        """What results.build takes from a notebook's cell report (none for a .py submission)."""
        cells, notes = results.notebook_report(state.notebook)
        return {"cells": cells, "notes": list(self.settings.get("notes", [])) + notes}

    def _append(self, state, entry):
        """One line of results.partial.jsonl: a harness that dies still leaves what it graded."""
        entry.setdefault("config", {}).update(self._progress(state))
        results.append_partial(Path(self.settings["out_dir"]) / results.PARTIAL, entry)

    def _write(self, state):
        config = dict(self.settings, **self._progress(state), **self._notebook_config(state))
        data = results.build(state.records, state.skipped, config)
        out = Path(self.settings["out_dir"])
        results.write_json(out / "results.json", data)
        (out / results.PARTIAL).unlink(missing_ok=True)

    # --- the worker ---------------------------------------------------------------------
    def _read_notebook(self, state, handle):
        """A notebook's cell report, read once, before the first test's budget starts.

        Importing a notebook runs its cells (and takes the notebook's budget):
        it happens here, so no test pays for it, and the report is read
        before a test could crash the worker. An import that fails leaves no
        report; every test then says why.
        """
        if not self.settings.get("notebook") or state.notebook is not None:
            return
        state.notebook = {}
        try:
            state.notebook = handle.probe(_notebook_cells, label="reading the report of your notebook's cells")
        except SubmissionError:
            return
        self._append(state, {"config": self._notebook_config(state)})

    def _student(self, config):
        state = config.stash[_SESSION]
        if state.student is None:
            state.student, state.sandbox = self.student_factory(self.settings)
        return state.student

    def _close(self, config):
        state = config.stash[_SESSION]
        if state.student is not None:
            state.student.close()
        if state.sandbox is not None:
            state.sandbox.close()
            state.sandbox = None

    def _cuda_available(self):
        if not (self.settings or {}).get("cuda"):
            return False
        import torch  # only a CUDA grade pays for importing torch in the harness
        return torch.cuda.is_available()


def _notebook_cells(module):
    """The cell report grader/nbrun.py left in a notebook's namespace (a probe: runs in the worker)."""
    return {"cells": getattr(module, "__grader_cells__", None), "notes": getattr(module, "__grader_notes__", None)}


def _sandboxed_student(settings: dict) -> tuple[Student, Sandbox]:
    limits = Limits(**settings["limits"])
    cuda = bool(settings.get("cuda"))
    sandbox = make_sandbox(settings["sandbox"], limits, gpu=cuda, devices=settings.get("gpu"))
    source = Path(settings["module_file"]).read_bytes() if settings.get("module_file") else b""
    preload = tuple(settings.get("preload", ("numpy",)))  # torch unless the assignment blocks it
    student = Student(sandbox, source, settings["module_name"], preload=preload,
                      import_budget=settings.get("import_budget") or IMPORT_CPU_SECONDS,
                      notebook=settings.get("notebook"),
                      cuda={"memory_bytes": limits.gpu_memory_bytes} if cuda and "torch" in preload else None)
    return student, sandbox


def describe(item) -> dict:
    """A test as results and listings name it: title, id, suite, points, visibility, gpu.

    Raises SuiteError, naming the test, for a marker with a bad argument.
    """
    points = _marker_arg(item, "points", 1.0)
    if isinstance(points, bool) or not isinstance(points, Real) or not points >= 0:
        raise SuiteError(f"{item.nodeid}: points must be a number >= 0, got {points!r}")
    visibility = _marker_arg(item, "visibility", "visible")
    if visibility not in VISIBILITIES:
        raise SuiteError(f"{item.nodeid}: visibility must be one of {', '.join(VISIBILITIES)}, "
                         f"got {visibility!r}")
    timeout = _marker_arg(item, "timeout", None)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, Real) or not timeout > 0):
        raise SuiteError(f"{item.nodeid}: timeout must be a number of seconds > 0, got {timeout!r}")
    doc = getattr(item.function, "__doc__", None)
    title = doc.strip().splitlines()[0] if doc and doc.strip() else item.name
    if hasattr(item, "callspec"):
        title += f" [{item.callspec.id}]"
    return {"name": title, "nodeid": item.nodeid, "suite": Path(str(item.fspath)).stem,
            "max_score": float(points), "visibility": visibility,
            "gpu": item.get_closest_marker("gpu") is not None}


def _marker_arg(item, name, default):
    marker = item.get_closest_marker(name)
    if marker is None:
        return default
    if len(marker.args) != 1 or marker.kwargs:
        raise SuiteError(f"{item.nodeid}: @pytest.mark.{name} takes exactly one argument")
    return marker.args[0]


def _message(call) -> str:
    """The failure as a student should read it; never the suite's source code."""
    if call.excinfo is None:
        return "failed"
    exc = call.excinfo.value
    if isinstance(exc, (SubmissionError, HarnessTimeout)):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc).split("\nassert ")[0].strip() or "a check failed"
    if isinstance(exc, pytest.fail.Exception):
        return str(exc)
    return f"internal grader error ({call.excinfo.typename}: {str(exc)[:300]}); please tell your instructor"


def _failure_kind(exc: BaseException | None) -> Outcome:
    """Outcome of a failed test, by the type of what it raised: for the gradebook's status."""
    if isinstance(exc, SubmissionError):
        return exc.kind
    if isinstance(exc, HarnessTimeout):
        return Outcome.TIMEOUT
    return Outcome.ERROR
