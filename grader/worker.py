"""The worker: imports one submission inside the sandbox and answers requests.

Run as a script (`python -I worker.py MODULE_FILE MODULE_NAME`) with codec.py
beside it. Requests arrive on stdin and replies leave on the original stdout,
both framed by codec; the submission's own prints go to stderr, which the
harness captures with a size limit. The worker holds no verdicts, no expected
values and no reference code: whatever the submission does here can change
only its own answers.

Start-up: the first request is {"op": "start", "preload": [...], "hung":
{qualname: test}, "notebook": options or None, "cuda": {"memory_bytes": N}
or None}. The worker imports the preload modules (numpy, torch: their cost
is not the student's); in a CUDA grade it then caps the share of the GPU's
memory torch's allocator may take and turns TF32 off (see setup_cuda),
replies {"preloaded": true, "cuda": what setup_cuda found}, waits for {"op": "import"} (sent once the harness has
read the CPU counter, so the import's budget counts all of it), imports the submission (a notebook arrives as a driver
module that runs its cells through nbrun.py), replaces every function in
"hung" (it used up its budget earlier in this grade) by one that refuses to
run, and replies {"ready": true}. On SIGUSR1 (the harness's budget ran out)
it reports where the submission was stuck and exits (from a thread of its
own, so also while the submission waits inside C code: _watch_for_stuck). In a CUDA grade every
reply waits for the GPU (torch.cuda.synchronize), so the kernels a request
launched are timed with it and never spill into the next test.
"""
import importlib
import importlib.util
import os
import signal
import sys
import threading
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
STUCK_WRITE_SECONDS = 0.5  # the harness waits 1 s for the report
sys.path.insert(0, HERE)
import codec  # noqa: E402

del sys.path[0]


def _beside(name):
    """Import one of the grader's files copied beside this one (nbrun.py)."""
    sys.path.insert(0, HERE)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(HERE)


def main(module_file, module_name):
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, errors="replace", closefd=False)
    start = _read_request(requests)
    if start is None:
        return
    for name in start.get("preload", []):
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the submission's own import will say so, in its terms
    cuda = setup_cuda(start["cuda"]["memory_bytes"]) if start.get("cuda") else None
    device = sys.modules["torch"] if cuda and "error" not in cuda else None
    _watch_for_stuck(replies, module_file)
    _send(replies, codec.encode({"preloaded": True, "cuda": cuda}))
    if _read_request(requests) is None:  # {"op": "import"}: the harness's clock for the import has started
        return
    try:
        if start.get("notebook") is not None:
            _beside("nbrun").configure(start["notebook"])
        module = _import(module_file, module_name)
        _refuse(module, start.get("hung", {}))
    except BaseException as exc:  # the submission may raise anything at import
        _send(replies, codec.encode({"ready": False, "error": describe(exc, module_file)}))
        return
    _send(replies, codec.encode({"ready": True}))
    while True:
        request = _read_request(requests)
        if request is None:
            return
        reply = handle(module, module_file, request)
        if device is not None:
            reply = _synchronized(device, reply, module_file)
        try:
            data = codec.encode(reply)
        except codec.CodecError as exc:
            data = codec.encode({"ok": False, "error": {
                "type": "ReturnValueError", "message": str(exc), "traceback": ""}})
        _send(replies, data)


_writing = threading.Lock()  # replies leave from the main thread and, once, from the watcher


def _send(replies, data):
    """One encoded message to the harness, whole."""
    with _writing:
        replies.write(codec.frame(data))
        replies.flush()


def _watch_for_stuck(replies, module_file):
    """On SIGUSR1 (a budget ran out), report where the submission is stuck, even while its
    thread waits inside C code that never returns to Python (a GPU kernel that never ends).

    Python runs a signal handler only between bytecodes of the main thread, so the signal
    instead wakes a thread of its own (signal.set_wakeup_fd), which reads the main thread's
    stack; torch, numpy and time waits release the GIL it needs.
    """
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGUSR1, lambda signum, frame: None)  # Python's C-level handler writes the fd
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    main = threading.main_thread().ident

    def watch():
        while signal.SIGUSR1 not in os.read(wake_read, 256):  # other signals (nbrun's timers) pass
            pass
        _report_stuck(replies, sys._current_frames().get(main), module_file)

    threading.Thread(target=watch, name="grader-watch", daemon=True).start()


def setup_cuda(memory_bytes, torch=None):
    """Before the submission is imported: cap the memory torch's allocator may take on the
    GPU to memory_bytes (an allocation beyond it raises torch.OutOfMemoryError in the call
    that made it) and turn TF32 off, so float32 results match the CPU's at float32 precision.

    Returns {"name", "total_bytes", "fraction"}, or {"error"} where CUDA cannot be used here.
    """
    try:
        torch = torch or importlib.import_module("torch")
        if not torch.cuda.is_available():
            return {"error": "torch finds no CUDA device inside the sandbox"}
        total = torch.cuda.get_device_properties(0).total_memory
        fraction = min(1.0, memory_bytes / total)
        torch.cuda.set_per_process_memory_fraction(fraction, 0)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        return {"name": torch.cuda.get_device_name(0), "total_bytes": total, "fraction": fraction}
    except Exception as exc:  # no driver, a CPU-only torch, a device already in use
        return {"error": f"{type(exc).__name__}: {exc}"}


def _synchronized(torch, reply, module_file):
    """The reply, once every kernel the request launched has finished (its error, if one failed)."""
    try:
        torch.cuda.synchronize()
    except Exception as exc:  # a device-side assert, an illegal address: the request's own fault
        return {"ok": False, "error": describe(exc, module_file)}
    return reply


def _read_request(requests):
    header = codec.read_exact(requests.read, codec.HEADER_SIZE)
    if header is None:
        return None
    return codec.decode(codec.read_exact(requests.read, codec.message_length(header)))


def _own(filename, module_file):
    """Is this code the submission's: its module, or a notebook cell run by nbrun?"""
    return filename == module_file or filename.startswith("<cell ")


def _report_stuck(replies, frame, module_file):
    """Tell the harness which function of the submission was running (the outermost one), then exit.

    The outermost is the function the harness (or a probe) called: the one
    to refuse in later tests, not a helper it happened to be calling.
    """
    where = None
    while frame is not None:
        if _own(frame.f_code.co_filename, module_file):
            where = frame.f_code.co_qualname
        frame = frame.f_back
    nbrun = sys.modules.get("nbrun")
    cell = nbrun.current_cell() if nbrun is not None else None
    if _writing.acquire(timeout=STUCK_WRITE_SECONDS):  # else the harness kills it unnamed
        codec.write_message(replies, {"stuck": {"function": where, "cell": cell}})
    os._exit(0)


def _cell_number(filename):
    """N for a notebook cell's code ("<cell N>"), else None."""
    inside = filename[len("<cell "):-1] if filename.startswith("<cell ") else ""
    return int(inside) if inside.isdigit() else None


class HungBefore(Exception):
    """A function that used up its budget earlier in this grade is not run again."""


def _refuse(module, hung):
    """Replace each hung function (a qualname such as "fit" or "Net.forward") by a refusal."""
    for qualname, test in hung.items():
        *path, name = qualname.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part, None)
        if owner is None or "<" in qualname or not hasattr(owner, name):
            continue

        def refusal(*args, _qualname=qualname, _test=test, **kwargs):
            raise HungBefore(f"`{_qualname}` ran out of time in an earlier test ({_test}), "
                             "so it is not run again in this grade")
        setattr(owner, name, refusal)


def _import(module_file, module_name):
    spec = importlib.util.spec_from_file_location(module_name, module_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def handle(module, module_file, request):
    try:
        op = request["op"]
        if op == "call":
            target = resolve(module, request["fn"])
            args, kwargs = request.get("args", []), request.get("kwargs", {})
            value = target(*args, **kwargs)
            reply = {"ok": True, "value": value}
            if request.get("return_args"):
                reply["args"] = args
            return reply
        if op == "many":
            target = resolve(module, request["fn"])
            return {"ok": True, "value": [target(*a, **k) for a, k in request["calls"]]}
        if op == "probe":
            namespace = {"__name__": "grader_probe"}
            exec(compile(request["source"], "<grader probe>", "exec"), namespace)
            probe = namespace[request["name"]]
            return {"ok": True, "value": probe(module, *request.get("args", []), **request.get("kwargs", {}))}
        if op == "ping":
            return {"ok": True, "value": None}
        raise ValueError(f"unknown request {op!r}")
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, skips: all just errors
        return {"ok": False, "error": describe(exc, module_file)}


class MissingName(AttributeError):
    pass


def resolve(module, dotted):
    target = module
    for part in dotted.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise MissingName(f"your submission does not define `{dotted}`") from None
    return target


def describe(exc, module_file):
    """Type, message and the part of the traceback that is the submission's own."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _own(f.filename, module_file)]
    lines = traceback.format_list(frames[-6:])
    try:
        message = str(exc)
    except BaseException:
        message = "<the exception could not be printed>"
    if isinstance(exc, ModuleNotFoundError) and exc.name and importlib.util.find_spec(exc.name.partition(".")[0]) is None:
        message += (f" ({exc.name.partition('.')[0]} is not in the grading environment: "
                    "the handout lists the packages you may import)")
    return {
        "type": type(exc).__name__,
        "message": message[:2000],
        "traceback": "".join(lines)[-4000:],
        "lineno": frames[-1].lineno if frames else getattr(exc, "lineno", None),
        "cell": _cell_number(frames[-1].filename) if frames else None,
        "function": frames[-1].name if frames else None,
        "errno": exc.errno if isinstance(exc, OSError) and isinstance(exc.errno, int) else None,
    }


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
