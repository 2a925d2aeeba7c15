"""A warm harness: one server process per batch that forks a fresh harness per grade.

Starting a harness costs an interpreter plus pytest, numpy and (for torch
assignments) torch: about a second per grade before any test runs. The
server (`harness.command("--serve", ...)`, see harness.py) imports all of
that once, with the suites' own imports and the suites themselves (collected
once, so their assertions are rewritten once), and then forks one child per grade:
copy-on-write, trusted code only, no CUDA initialised before the fork (the
server never touches a device). Workers are not forked from it: each grade
still starts its own sandboxed worker, fresh per submission.

This side (in the batch process) sends one JSON line per grade and reads
JSON lines back: {"id", "pid"} when the child started, {"id", "exit"} when it
ended (the server kills the child's process group before reaping it, so
nothing a harness started outlives it). `run` blocks the calling thread until
its grade's harness ends or its timeout passes (then this side kills the
child's group), so grade() can use it from the batch's threads like a
subprocess.
"""
import json
import queue
import subprocess
import threading
from pathlib import Path

from .harness import command as harness_command
from .procs import die_with_parent, kill_pgid

READY_SECONDS = 120.0


class HarnessServer:
    def __init__(self, suites: list[Path], root: Path, sandbox: str = "bwrap"):
        self._process = subprocess.Popen(
            harness_command("--serve", str(root), sandbox, *map(str, suites)),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True, preexec_fn=die_with_parent, bufsize=1)
        self._lock = threading.Lock()
        self._waiting: dict[int, queue.Queue] = {}
        self._next = 0
        ready = self._process.stdout.readline()
        if json.loads(ready or "{}").get("ready") is not True:
            self.close()
            raise OSError("the warm harness server did not start")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def run(self, settings_file: Path, log_path: Path, timeout: float) -> int | None:
        """Run one harness; its exit code, or None when it was killed at the timeout."""
        answers: queue.Queue = queue.Queue()
        with self._lock:
            self._next += 1
            request_id = self._next
            self._waiting[request_id] = answers
            self._process.stdin.write(json.dumps({"id": request_id, "settings": str(settings_file),
                                                  "log": str(log_path)}) + "\n")
            self._process.stdin.flush()
        try:
            started = answers.get(timeout=READY_SECONDS)
            if started.get("pid") is None:
                return started.get("exit")
            try:
                return answers.get(timeout=timeout)["exit"]
            except queue.Empty:  # still running, so its pid is still its own: kill its group
                kill_pgid(started["pid"])
                return None
        except queue.Empty:
            return None
        finally:
            with self._lock:
                self._waiting.pop(request_id, None)

    def _read(self):
        for line in self._process.stdout:
            message = json.loads(line)
            with self._lock:
                answers = self._waiting.get(message["id"])
            if answers is not None:
                answers.put(message)
        with self._lock:  # the server is gone: every grade in flight ends now
            for answers in self._waiting.values():
                answers.put({"pid": None, "exit": None})

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        kill_pgid(self._process.pid)
        self._process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
