"""The harness's handle on the submission: calls and probes sent to a worker.

Tests see a `Student` object: `student.mse_grad(X, w, y)` sends a call to the
worker and returns plain data; `student.probe(fn, ...)` runs a trusted probe
function (sent as source) next to the submission and returns its data. Every
failure on the worker's side (an exception, an exit, a crash, a timeout,
unreadable data) becomes a `SubmissionError` whose message is written for the
student; a worker that died or hung is killed and a fresh one is started for
the next request.
"""
import inspect
import os
import selectors
import signal
import subprocess
import tempfile
import textwrap
import time

from . import codec
from .errors import SubmissionError
from .limits import STARTUP_SECONDS
from .sandbox import Sandbox
from .vocabulary import Outcome


class Student:
    """The submission as tests see it: attribute calls and probes answered by a worker."""

    def __init__(self, sandbox: Sandbox, module_source: bytes, module_name: str):
        self._sandbox = sandbox
        self._source = module_source
        self.module_name = module_name
        self._unusable = None              # a message once the module proved it cannot be run
        self._unusable_kind = None
        self._process = None
        self._ready = False
        self._log = tempfile.TemporaryFile()
        self._log_seen = 0
        self.deadline = None               # time.monotonic() value set per test
        self.timeout = None                # the test's budget in seconds, for messages

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

    # --- the machinery -------------------------------------------------------------
    def _request(self, request, label, whole=False, probe=False):
        if self._unusable:
            raise SubmissionError(self._unusable, self._unusable_kind)
        try:
            reply = self._exchange(request, label)
        except SubmissionError:
            raise
        except BaseException:  # interrupted mid-exchange: the worker's state is unknown
            self._stop()
            raise
        if not isinstance(reply, dict) or "ok" not in reply:
            self._stop()
            raise SubmissionError(f"{label}: the worker sent a malformed reply")
        if not reply["ok"]:
            if probe:
                raise SubmissionError(f"while {label}: " + explain_error("your code", reply.get("error")))
            raise SubmissionError(explain_error(label, reply.get("error")))
        return reply if whole else reply.get("value")

    def _exchange(self, request, label):
        self._ensure_started()
        try:
            self._process.stdin.write(codec.frame(codec.encode(request)))
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SubmissionError(self._died_message(label), Outcome.CRASH) from None
        return self._read_reply(self.deadline, label)

    def spawn(self):
        """Start a worker now, so it imports the module while the harness works on."""
        if self._process is None and not self._unusable:
            self._process = self._sandbox.start(self._source, self.module_name, self._log)
            self._ready = False

    def _ensure_started(self):
        if self._process is not None and self._ready and self._process.poll() is None:
            return
        if self._process is not None and self._ready:
            self._stop()  # it died since its last answer: replace it
        for attempt in (1, 2):
            self.spawn()
            try:
                ready = self._read_reply(time.monotonic() + STARTUP_SECONDS, "importing your module",
                                         startup=True)
                break
            except SubmissionError as exc:  # it died or hung while importing
                if exc.kind == Outcome.CRASH and attempt == 1:
                    self._sandbox.settle()  # a sandbox cannot start while a slot drains
                    continue
                self._unusable = str(exc)
                self._unusable_kind = Outcome.TIMEOUT if exc.kind == Outcome.TIMEOUT else Outcome.INVALID
                raise SubmissionError(self._unusable, self._unusable_kind) from None
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            error = ready.get("error") if isinstance(ready, dict) else None
            self._unusable = "your module could not be imported: " + explain_error("import", error, bare=True)
            self._unusable_kind = Outcome.INVALID
            self._stop()
            raise SubmissionError(self._unusable, self._unusable_kind)
        self._ready = True

    def _read_reply(self, deadline, label, startup=False):
        stream = self._process.stdout
        try:
            header = self._read(stream, codec.HEADER_SIZE, deadline, label, startup)
            body = self._read(stream, codec.message_length(header), deadline, label, startup)
            reply = codec.decode(body)
        except codec.CodecError as exc:
            self._stop()
            raise SubmissionError(f"{label}: the grader could not read what your code returned ({exc})") from None
        if _pending(stream):  # a reply nobody asked for: frames written behind the worker's back
            self._stop()
            raise SubmissionError(f"{label}: your code wrote to the grader's channel; "
                                  "its answers cannot be trusted", Outcome.CRASH)
        return reply

    def _read(self, stream, size, deadline, label, startup):
        """size bytes from the worker, or a SubmissionError at the deadline or its death."""
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)

            def chunk(limit):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and (remaining <= 0 or not selector.select(remaining)):
                    self._stop()
                    raise SubmissionError(self._timeout_message(label, startup), Outcome.TIMEOUT)
                data = os.read(stream.fileno(), limit)
                if not data:
                    raise SubmissionError(self._died_message(label), Outcome.CRASH)
                return data

            return codec.read_exact(chunk, size)

    def _timeout_message(self, label, startup):
        if startup:
            return f"importing your module took longer than {STARTUP_SECONDS:.0f} s (does it run work at import time?)"
        budget = f"{self.timeout:g} s" if self.timeout else "its time limit"
        return f"timed out after {budget} in {label} (an infinite loop, or far too much work?)"

    def _died_message(self, label):
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._stop()
            return f"your code closed the worker's connection to the grader during {label}"
        self._stop()
        if code > 128 and code - 128 in signal.Signals._value2member_map_:
            code = 128 - code  # bwrap's init reports a signal death as 128 + N, like a shell
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = {"SIGXCPU": " (CPU time limit exceeded)", "SIGSEGV": " (a segmentation fault)",
                    "SIGKILL": " (killed: out of memory or a limit)", "SIGXFSZ": " (file size limit exceeded)"}
            return f"the worker running your code crashed with {name}{hint.get(name, '')} during {label}"
        return (f"the worker running your code exited with code {code} during {label} "
                f"(did your code call os._exit(), exit() or quit()?)")

    def _stop(self):
        if self._process is not None:
            self._sandbox.kill(self._process)
            for stream in (self._process.stdin, self._process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._process = None


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
    lineno = error.get("lineno")
    where = f" (line {lineno})" if isinstance(lineno, int) and f"line {lineno}" not in message else ""
    if kind == "NotImplementedError":
        function = error.get("function")
        if label == "your code" and isinstance(function, str) and function != "<module>":
            label = f"`{function}`"
        text = "is not implemented yet (it still raises NotImplementedError)"
    elif kind == "MissingName":
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
