"""The worker: imports one submission inside the sandbox and answers requests.

Run as a script (`python -I worker.py MODULE_FILE MODULE_NAME`) with codec.py
beside it. Requests arrive on stdin and replies leave on the original stdout,
both framed by codec; the submission's own prints go to stderr, which the
harness captures with a size limit. The worker holds no verdicts, no expected
values and no reference code: whatever the submission does here can change
only its own answers.
"""
import importlib.util
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec  # noqa: E402

del sys.path[0]


def main(module_file, module_name):
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, errors="replace", closefd=False)
    try:
        module = _import(module_file, module_name)
    except BaseException as exc:  # the submission may raise anything at import
        codec.write_message(replies, {"ready": False, "error": describe(exc, module_file)})
        return
    codec.write_message(replies, {"ready": True})
    while True:
        header = codec.read_exact(requests.read, codec.HEADER_SIZE)
        if header is None:
            return
        body = codec.read_exact(requests.read, codec.message_length(header))
        request = codec.decode(body)
        reply = handle(module, module_file, request)
        try:
            data = codec.encode(reply)
        except codec.CodecError as exc:
            data = codec.encode({"ok": False, "error": {
                "type": "ReturnValueError", "message": str(exc), "traceback": ""}})
        replies.write(codec.frame(data))
        replies.flush()


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
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == module_file]
    lines = traceback.format_list(frames[-6:])
    try:
        message = str(exc)
    except BaseException:
        message = "<the exception could not be printed>"
    return {
        "type": type(exc).__name__,
        "message": message[:2000],
        "traceback": "".join(lines)[-4000:],
        "lineno": frames[-1].lineno if frames else getattr(exc, "lineno", None),
        "function": frames[-1].name if frames else None,
    }


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
