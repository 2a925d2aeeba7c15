"""The harness: one trusted process that runs the suites for one grade.

Started by grade.py with `command(SETTINGS.json)` (`python -I -B -c ...`), so
the submission's folder is never on sys.path and no startup hook from it runs.
It never imports the submission; the plugin starts sandboxed workers for that.

`command("--serve", ROOT, SANDBOX, SUITE...)` starts the warm server of
grader/warm.py: it imports pytest, the plugin and whatever the suites import
once, then reads one JSON line per grade ({"id", "settings", "log"}) and
forks a harness for it, answering {"id", "pid"} and later {"id", "exit"}.
"""
import ast
import importlib
import json
import os
import select
import signal
import sys
from pathlib import Path

import pytest

from .collect import collect_quietly
from .plugin import GraderPlugin, pytest_args
from .procs import die_with_parent, kill_pgid
from .sandbox import bwrap_problem


def run(settings_path: str) -> int:
    settings = json.loads(Path(settings_path).read_text())
    return pytest.main(pytest_args(settings["suites"], settings["root"]),
                       plugins=[GraderPlugin(settings)])


def exit_code(code: int) -> int:
    """The harness's exit status: 0 when the suites ran (whatever they found), else pytest's code."""
    return 0 if code in (0, 1) else int(code)


# --- the warm server ------------------------------------------------------------

# Modules a library imports lazily, on first use, that every grade would pay
# for again: torch imports sympy at the first backward() given an explicit
# gradient and torch._dynamo when the first optimizer is made (about a second
# each), which the suites do with the reference.
LAZY_IMPORTS = {"torch": ("torch.fx.experimental.symbolic_shapes", "torch._dynamo")}


def preload(suites: list[str]) -> None:
    """Import what the suites import (torch, the checks...; in a test function too), once,
    and what those import lazily (LAZY_IMPORTS)."""
    for suite in suites:
        for node in ast.walk(ast.parse(Path(suite).read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            for name in names:
                try:
                    importlib.import_module(name)
                except ImportError:
                    pass  # the suite's own collection will report it
    for library, lazy in LAZY_IMPORTS.items():
        if library in sys.modules:
            for name in lazy:
                try:
                    importlib.import_module(name)
                except (ImportError, RuntimeError):
                    pass  # another version of the library: each grade imports it if it needs it


def collect_once(suites: list[str], root: str) -> None:
    """Collect the suites in this process, so a forked harness finds them imported.

    pytest's importlib mode reuses a module already imported under the same
    rootdir-relative name, so the children skip importing and
    assertion-rewriting the suites. A suite that cannot be collected is left
    for each grade to report.
    """
    collect_quietly(suites, root)


def serve(root: str, sandbox: str, suites: list[str]) -> None:
    preload(suites)
    collect_once(suites, root)
    if sandbox in ("auto", "bwrap"):
        bwrap_problem()  # cached: each grade would check that bubblewrap works
    running: dict[int, tuple[int, int]] = {}  # a harness's pidfd -> (its pid, the request id)
    _send({"ready": True})
    requests = sys.stdin.buffer.fileno()
    pending = b""
    while True:
        readable, _, _ = select.select([requests, *running], [], [])
        for pidfd in set(readable) & set(running):  # a harness ended: report it at once
            _reap(pidfd, *running.pop(pidfd))
        if requests in readable:
            chunk = os.read(requests, 1 << 16)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = _fork_harness(request["settings"], request["log"])
                running[os.pidfd_open(pid)] = (pid, request["id"])
                _send({"id": request["id"], "pid": pid})
    for pid, _ in running.values():  # the batch has gone: so do its harnesses
        kill_pgid(pid)


def _fork_harness(settings: str, log: str) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        os.setsid()
        die_with_parent()
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.chdir(Path(settings).parent)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = exit_code(run(settings))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reap(pidfd: int, pid: int, request_id: int) -> None:
    """Report a harness that ended, after killing what it left behind in its group."""
    os.close(pidfd)
    kill_pgid(pid)  # the zombie still holds its pid: the group is its own
    _, status = os.waitpid(pid, 0)
    _send({"id": request_id, "exit": os.waitstatus_to_exitcode(status)})


def _send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--serve"]:
        serve(argv[1], argv[2], argv[3:])
    else:
        sys.exit(exit_code(run(argv[0])))


def command(*args: str) -> list[str]:
    """The argv that starts a harness (or, with --serve, the warm server).

    `python -I` keeps the submission's folder and PYTHONPATH off sys.path; the
    grader's own folder is put back explicitly, so a grader that is not
    installed in this Python (a student's `make test PYTHON=...`) still runs.
    """
    boot = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from grader.harness import main; main(sys.argv[1:])")
    return [sys.executable, "-I", "-B", "-c", boot, str(Path(__file__).resolve().parent.parent), *args]


if __name__ == "__main__":
    main(sys.argv[1:])
