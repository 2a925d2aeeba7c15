"""The harness's handle on the submission: calls and probes sent to a worker.

Tests see a `Student` object: `student.mse_grad(X, w, y)` sends a call to the
worker and returns plain data; `student.probe(fn, ...)` runs a trusted probe
function (sent as source) next to the submission and returns its data. Every
failure on the worker's side (an exception, an exit, a crash, a timeout,
unreadable data) becomes a `SubmissionError` whose message is written for the
student; a worker that died or hung is killed and a fresh one is started for
the next request.

Budgets count CPU time (the worker's whole process tree, from the sandbox),
with a wall-clock backstop for sleeps and blocking. A GPU-marked test in a
CUDA grade counts device time instead: the seconds from sending each request
to its reply, which the worker sends only once the GPU has finished the
request's kernels (a kernel makes the CPU wait, not work, so CPU time cannot
see one that never ends); the grade has that GPU to itself. A test's budget covers
all its requests (`begin_test`); importing the submission has its own, and
the modules a worker preloads (numpy, torch) are not charged to anyone.
When a budget runs out the worker is asked where it was stuck (SIGUSR1);
that function is then refused at once in later tests of the grade, so one
hang costs one budget.
"""
import dataclasses
import errno
import inspect
import os
import selectors
import signal
import subprocess
import tempfile
import textwrap
import time

from . import codec
from .errors import SandboxUnavailable, SubmissionError
from .limits import DEFAULT_TEST_TIMEOUT, IMPORT_CPU_SECONDS, MEMORY, OUTPUT, PRELOAD_SECONDS, wall_cap
from .sandbox import Sandbox
from .vocabulary import Outcome

MAX_SKIPPED_CELLS = 3      # notebook cells that ignored an interrupt, re-run without each
STUCK_REPORT_SECONDS = 1.0  # how long a worker has to say where it was stuck


@dataclasses.dataclass
class Phase:
    """What one stretch of waiting may cost: CPU seconds (None: wall clock only) and wall seconds."""
    label: str
    cpu_budget: float | None
    wall_seconds: float
    spent: float = 0.0          # CPU already used in this phase by earlier requests or workers
    startup: bool = False       # importing: a timeout makes the module unusable
    device: bool = False        # the budget counts device time (request to synchronized reply), not CPU
    ask_where: bool = True      # on a timeout, ask the worker where it was stuck
    reference_cpu: float | None = None

    def __post_init__(self):
        self.wall_deadline = time.monotonic() + self.wall_seconds

    @classmethod
    def of_cpu(cls, label: str, cpu_budget: float, **fields) -> "Phase":
        return cls(label, cpu_budget, wall_cap(cpu_budget), **fields)


class Student:
    """The submission as tests see it: attribute calls and probes answered by a worker."""

    def __init__(self, sandbox: Sandbox, module_source: bytes, module_name: str, *,
                 preload: tuple[str, ...] = ("numpy",), import_budget: float = IMPORT_CPU_SECONDS,
                 notebook: dict | None = None, cuda: dict | None = None):
        self._sandbox = sandbox
        self._source = module_source
        self.module_name = module_name
        self.preload = list(preload)
        self.import_budget = import_budget
        self.notebook = dict(notebook) if notebook is not None else None
        self.cuda = cuda                   # {"memory_bytes": N} in a CUDA grade, else None
        self.cuda_device = None            # what the worker found: {"name", ...} or {"error"}
        self.hung: dict[str, str] = {}     # qualname -> the test where it ran out of time
        self.import_cpu: float | None = None
        self._unusable = None              # a message once the module proved it cannot be run
        self._unusable_kind = None
        self._process = None
        self._ready = False
        self._log = tempfile.TemporaryFile()
        self._log_seen = 0
        self._test = None                  # the Phase of the test in progress
        self._test_label = "an earlier test"
        self._mark = None                  # CPU reading when the current request started
        self._mark_wall = None             # monotonic time then (a device-time budget)

    # --- the test-facing API ---------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, fn, *args, **kwargs):
        """fn(*args, **kwargs) in the worker; fn may be dotted ('Exp.apply')."""
        return self._request({"op": "call", "fn": fn, "args": list(args), "kwargs": kwargs}, fn)

    def call_and_inputs(self, fn, *args, **kwargs):
        """Like call, also returning the arguments as they were after the call."""
        reply = self._request({"op": "call", "fn": fn, "args": list(args), "kwargs": kwargs,
                               "return_args": True}, fn, whole=True)
        return reply["value"], reply["args"]

    def many(self, fn, arg_lists):
        """[fn(*args) for args in arg_lists] in one round trip."""
        calls = [[list(args), {}] for args in arg_lists]
        return self._request({"op": "many", "fn": fn, "calls": calls}, fn)

    def probe(self, function, *args, label=None, **kwargs):
        """Run the trusted, self-contained function(module, *args) in the worker.

        label names it in messages ("while <label>: ..."); by default the
        first line of its docstring.
        """
        source = textwrap.dedent(inspect.getsource(function))
        request = {"op": "probe", "source": source, "name": function.__name__,
                   "args": list(args), "kwargs": kwargs}
        label = label or (inspect.getdoc(function) or function.__name__).splitlines()[0]
        return self._request(request, label, probe=True)

    def output(self):
        """What the submission printed since the last call of output()."""
        self._log.seek(self._log_seen)
        data = self._log.read(8192)
        self._log_seen = self._log.seek(0, os.SEEK_END)
        return data.decode("utf-8", errors="replace")

    def close(self):
        self._stop()
        self._log.close()

    # --- budgets, set by the plugin for each test -------------------------------------
    def begin_test(self, budget: float | None, label: str, reference_cpu: float | None = None,
                   on_device: bool = False):
        """Start counting a test's budget (seconds; None: the default) across its requests:
        CPU time, or device time for a GPU test in a CUDA grade (on_device)."""
        budget = DEFAULT_TEST_TIMEOUT if budget is None else budget
        self._test = Phase.of_cpu(label, budget, reference_cpu=reference_cpu, device=on_device)
        self._test_label = label

    def test_cpu(self) -> float | None:
        """Seconds the submission has used in the test in progress (CPU, or device time)."""
        return round(self._test.spent, 4) if self._test else None

    def end_test(self) -> float:
        """Stop counting; return the CPU seconds the submission used in this test."""
        spent, self._test = (self._test.spent if self._test else 0.0), None
        return round(spent, 4)

    # --- the machinery -------------------------------------------------------------
    def _request(self, request, label, whole=False, probe=False):
        if self._unusable:
            raise SubmissionError(self._unusable, self._unusable_kind)
        try:
            reply = self._exchange(request, label, probe)
        except SubmissionError:
            raise
        except BaseException:  # interrupted mid-exchange: the worker's state is unknown
            self._stop()
            raise
        if not isinstance(reply, dict) or "ok" not in reply:
            self._stop()
            raise SubmissionError(f"{label}: the worker sent a malformed reply")
        if not reply["ok"]:
            error = reply.get("error")
            breach = _breach(error)
            if breach:  # the same words and kind as a worker killed for it in another sandbox
                raise SubmissionError(self._breach_message(breach, label), Outcome.CRASH)
            refused = isinstance(error, dict) and error.get("type") == "HungBefore"
            kind = Outcome.TIMEOUT if refused else Outcome.ERROR
            if probe:
                raise SubmissionError(f"while {label}: " + explain_error("your code", error), kind, refused)
            raise SubmissionError(explain_error(label, error), kind, refused)
        return reply if whole else reply.get("value")

    def _exchange(self, request, label, probe):
        phase = self._test or Phase.of_cpu(label, DEFAULT_TEST_TIMEOUT)
        starting = time.monotonic()
        self._ensure_started()
        phase.wall_deadline += time.monotonic() - starting  # a (re)start has its own budgets, not the test's
        if phase.device and self.cuda_device and "error" in self.cuda_device:
            raise SandboxUnavailable(f"CUDA is not usable inside the sandbox ({type(self._sandbox).__name__}): "
                                     f"{self.cuda_device['error']}")
        self._mark, self._mark_wall = self._cpu(), time.monotonic()
        self._send(request, label)
        try:
            return self._read_reply(phase, label, probe=probe)
        finally:
            self._charge(phase)

    def _send(self, request, label):
        try:
            self._process.stdin.write(codec.frame(codec.encode(request)))
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SubmissionError(self._died_message(label), Outcome.CRASH) from None

    def spawn(self):
        """Start a worker now, so it imports the module while the harness works on."""
        if self._process is None and not self._unusable:
            self._process = self._sandbox.start(self._source, self.module_name, self._log)
            self._ready = False
            start = {"op": "start", "preload": self.preload, "hung": self.hung, "notebook": self.notebook,
                     "cuda": self.cuda}
            try:
                self._process.stdin.write(codec.frame(codec.encode(start)))
                self._process.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # it died at once; reading its first reply says so

    def _ensure_started(self):
        if self._process is not None and self._ready and self._process.poll() is None:
            return
        if self._process is not None and self._ready:
            self._stop()  # it died since its last answer: replace it
        attempt, rerun_cpu = 0, 0.0   # a notebook run again counts the CPU of its earlier runs too
        while True:
            attempt += 1
            self.spawn()
            try:
                ready = self._start_up()
                self.import_cpu = round(self.import_cpu + rerun_cpu, 4)
                break
            except SubmissionError as exc:  # it died or hung while importing
                if exc.kind == Outcome.CRASH and attempt == 1 and not getattr(exc, "while_importing", False):
                    self._sandbox.settle()  # a sandbox cannot start while a slot drains
                    continue
                if getattr(exc, "stuck_cell", None) is not None and self._rerun_notebook(exc.stuck_cell):
                    rerun_cpu += self.import_cpu or 0.0
                    continue  # the notebook ran out of its budget: run what it needs again
                self._unusable = str(exc)
                self._unusable_kind = Outcome.TIMEOUT if exc.kind == Outcome.TIMEOUT else Outcome.INVALID
                raise SubmissionError(self._unusable, self._unusable_kind) from None
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            error = ready.get("error") if isinstance(ready, dict) else None
            breach = _breach(error)
            self._unusable = (self._breach_message(breach, "importing your module") if breach else
                              "your module could not be imported: " + explain_error("import", error, bare=True))
            self._unusable_kind = Outcome.INVALID
            self._stop()
            raise SubmissionError(self._unusable, self._unusable_kind)
        self._ready = True

    def _start_up(self):
        """Wait for the preloads (not charged), then for the submission's import (its own budget)."""
        preload = Phase("starting the worker", None, PRELOAD_SECONDS, startup=True, ask_where=False)
        loaded = self._read_reply(preload, preload.label, check_pending=False)
        if not isinstance(loaded, dict) or loaded.get("preloaded") is not True:
            return loaded  # an old or broken worker: _ensure_started reports it
        if self.cuda is not None:
            found = loaded.get("cuda")
            self.cuda_device = found if isinstance(found, dict) else {"error": "the worker did not say"}
        self._mark = self._cpu()
        phase = Phase.of_cpu("importing your module", self.import_budget, startup=True)
        try:
            self._send({"op": "import"}, phase.label)
            return self._read_reply(phase, phase.label)
        except SubmissionError as exc:
            exc.while_importing = True  # the submission's own doing: starting again would repeat it
            raise
        finally:
            self._charge(phase)
            self.import_cpu = round(phase.spent, 4)

    def _rerun_notebook(self, cell):
        """The notebook's budget ran out in cell: run again? (True: the options say how).

        First again with only the cells that define what the tests use
        (nbrun's definitions run), so experiments cannot cost the definitions;
        then, each time a cell keeps running past its interrupts, without it.
        """
        if self.notebook is None:
            return False
        if not self.notebook.get("definitions"):
            self.notebook.update(definitions=True, over_budget=cell, notebook_budget=self.import_budget)
            return True
        skipped = self.notebook.setdefault("skip", [])
        if cell in skipped or len(skipped) >= MAX_SKIPPED_CELLS:
            return False
        skipped.append(cell)
        return True

    def _cpu(self):
        if self._process is None:
            return None
        return self._sandbox.cpu_seconds(self._process)

    def _charge(self, phase):
        """Add what the request used since it started (CPU, or device time) to the phase."""
        now, wall = self._cpu(), time.monotonic()
        if phase.device and self._mark_wall is not None:
            phase.spent += max(0.0, wall - self._mark_wall)
        elif not phase.device and now is not None and self._mark is not None:
            phase.spent += max(0.0, now - self._mark)
        self._mark, self._mark_wall = now, wall

    def _used(self, phase):
        if phase.device:
            return None if self._mark_wall is None else phase.spent + max(0.0, time.monotonic() - self._mark_wall)
        now = self._cpu()
        if now is None or self._mark is None:
            return None
        return phase.spent + max(0.0, now - self._mark)

    def _read_reply(self, phase, label, probe=False, check_pending=True):
        stream = self._process.stdout
        try:
            header = self._read(stream, codec.HEADER_SIZE, phase, label, probe)
            body = self._read(stream, codec.message_length(header), phase, label, probe)
            reply = codec.decode(body)
        except codec.CodecError as exc:
            self._stop()
            raise SubmissionError(f"{label}: the grader could not read what your code returned ({exc})") from None
        if check_pending and _pending(stream):  # a reply nobody asked for: frames written behind the worker's back
            self._stop()
            raise SubmissionError(f"{label}: your code wrote to the grader's channel; "
                                  "its answers cannot be trusted", Outcome.CRASH)
        return reply

    def _read(self, stream, size, phase, label, probe):
        """size bytes from the worker, or a SubmissionError when a budget runs out or it dies."""
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)

            def chunk(limit):
                self._wait(selector, phase, label, probe)
                data = os.read(stream.fileno(), limit)
                if not data:
                    raise SubmissionError(self._died_message(label), Outcome.CRASH)
                return data

            return codec.read_exact(chunk, size)

    def _wait(self, selector, phase, label, probe):
        """Until the worker's reply is readable; raise when its CPU budget or wall cap runs out."""
        interval = 0.01
        while True:
            remaining = phase.wall_deadline - time.monotonic()
            if remaining <= 0:
                self._overrun(phase, label, probe, self._used(phase), wall=True)
            if selector.select(min(interval, remaining)):
                return
            interval = min(2 * interval, 0.2)
            if phase.cpu_budget is not None:
                used = self._used(phase)
                if used is not None and used > phase.cpu_budget:
                    self._overrun(phase, label, probe, used, wall=False)

    def _overrun(self, phase, label, probe, used, wall):
        """The budget ran out: learn where it was stuck, stop the worker, raise for the student."""
        stuck = (self._where_stuck() if phase.ask_where else None) or {}
        self._charge(phase)  # the CPU it burnt up to now belongs to this test's record
        self._stop()
        function = stuck.get("function")
        if not isinstance(function, str) or function == "<module>":
            function = None if (probe or phase.startup) else label
        if phase.startup:
            error = SubmissionError(_startup_message(phase, used, wall), Outcome.TIMEOUT)
            error.stuck_cell = stuck.get("cell") if isinstance(stuck.get("cell"), int) else None
            raise error
        message = _timeout_message(phase, label, used, wall)
        if function is not None:
            self.hung.setdefault(function, self._test_label)
            message += f"\n`{function}` is not run again in later tests of this grade."
        raise SubmissionError(message, Outcome.TIMEOUT)

    def _where_stuck(self):
        """Ask the worker (SIGUSR1) for {"function", "cell"} where it is stuck; None if it cannot say."""
        if self._process is None or not self._sandbox.signal_worker(self._process, signal.SIGUSR1):
            return None
        phase = Phase("reporting where it was stuck", None, STUCK_REPORT_SECONDS, ask_where=False)
        try:
            reply = self._read_reply(phase, phase.label, check_pending=False)
        except SubmissionError:
            return None
        return reply.get("stuck") if isinstance(reply, dict) and isinstance(reply.get("stuck"), dict) else None

    def _died_message(self, label):
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._stop()
            return f"your code closed the worker's connection to the grader during {label}"
        breach = self._sandbox.exceeded(self._process)
        self._stop()
        if breach:
            return self._breach_message(breach, label)
        if code > 128 and code - 128 in signal.Signals._value2member_map_:
            code = 128 - code  # bwrap's init reports a signal death as 128 + N, like a shell
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = {"SIGXCPU": " (CPU time limit exceeded)", "SIGSEGV": " (a segmentation fault)",
                    "SIGKILL": " (killed: out of memory or a limit)", "SIGXFSZ": " (file size limit exceeded)"}
            return f"the worker running your code crashed with {name}{hint.get(name, '')} during {label}"
        return (f"the worker running your code exited with code {code} during {label} "
                f"(did your code call os._exit(), exit() or quit()?)")

    def _breach_message(self, breach, label):
        return f"your code {self._sandbox.limits.breach(breach)} during {label}"

    def _stop(self):
        if self._process is not None:
            self._sandbox.kill(self._process)
            for stream in (self._process.stdin, self._process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._process = None


def _timeout_message(phase, label, used, wall):
    reference = (f"; the reference needs {phase.reference_cpu:.2g} s"
                 if phase.reference_cpu is not None else "")
    if phase.device and not wall:
        return (f"timed out after {phase.cpu_budget:.3g} s of device time in {label}{reference} "
                "(a GPU kernel that never ends, a loop that never stops, or far too much work?)")
    if wall:
        cpu = f" while using only {used:.1f} s of CPU" if used is not None else ""
        return (f"timed out after {phase.wall_seconds:.0f} s (wall clock) in {label}{cpu} "
                "(is it sleeping, or waiting for something?)")
    return (f"timed out after {phase.cpu_budget:.3g} s of CPU time in {label}{reference} "
            "(an infinite loop, or far too much work?)")


def _startup_message(phase, used, wall):
    if wall:
        return (f"{phase.label} took longer than {phase.wall_seconds:.0f} s "
                "(does your module run work or wait at import time?)")
    return (f"importing your module used more than {phase.cpu_budget:.3g} s of CPU time "
            "(does it run work at import time?)")


def _breach(error):
    """MEMORY or OUTPUT when the worker's error is going over that limit (a MemoryError under
    RLIMIT_AS, File too large under RLIMIT_FSIZE), else None."""
    if not isinstance(error, dict):
        return None
    if error.get("type") == "MemoryError":
        return MEMORY
    return OUTPUT if error.get("errno") == errno.EFBIG else None


def _pending(stream):
    """True when more bytes wait on the stream right now (not merely its end).

    Nothing may follow a reply, so reading here consumes nothing legitimate;
    a worker that exits right after replying shows only end-of-file.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        return bool(selector.select(0)) and os.read(stream.fileno(), 1) != b""


def explain_error(label, error, bare=False):
    """A student-facing sentence for an error reported by the worker."""
    if not isinstance(error, dict):
        return f"{label} failed"
    kind, message = str(error.get("type", "Exception")), str(error.get("message", ""))
    lineno, cell = error.get("lineno"), error.get("cell")
    where = f" (line {lineno})" if isinstance(lineno, int) and f"line {lineno}" not in message else ""
    if where and isinstance(cell, int):
        where = f" (cell {cell}, line {lineno})"
    if kind == "NotImplementedError":
        function = error.get("function")
        if label == "your code" and isinstance(function, str) and function != "<module>":
            label = f"`{function}`"
        text = "is not implemented yet (it still raises NotImplementedError)"
    elif kind in ("MissingName", "HungBefore"):
        return message
    elif kind == "SystemExit":
        text = f"called sys.exit({message}) — a submission must not exit the interpreter"
    elif kind == "ReturnValueError":
        text = f"returned something the grader cannot read: {message}"
    else:
        text = f"raised {kind}: {message}{where}"
    trace = str(error.get("traceback") or "").strip()
    if bare:
        return f"{kind}: {message}{where}" + (f"\n{trace}" if trace else "")
    return f"{label} {text}" + (f"\n{trace}" if trace and kind not in ("NotImplementedError",) else "")
