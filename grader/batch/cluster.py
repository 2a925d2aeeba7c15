"""Grading on a Dask distributed cluster (`grader batch --cluster ADDRESS`).

Each task gets the submission's bytes, grades them in a sandbox on its
worker (the harness forked from that worker's warm server) and returns the
results document as data; the client writes the files. The workers must have this course installed (same grader,
assignments, reference) at the same paths.
"""
import dataclasses
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from .. import course
from ..course import Assignment
from ..files import read_prefix
from ..grade import Options, grade
from ..lms import Entry
from ..submission import cap_for
from ..warm import HarnessServer
from .local import failure_document

CLUSTER_ATTEMPTS = 3        # tries per submission when cluster tasks fail
MAX_SHIPPED_BYTES = 64 * 2**20


def run_cluster(address: str, assignment: Assignment, todo: list[Entry], options: Options,
                store: Callable[[Entry, dict], None]) -> None:
    from distributed import Client, as_completed  # optional: only cluster runs need dask
    client = Client(address, timeout="30s")
    try:
        payload = {e.student: pack(e.path) for e in todo}
        # budgets are measured on each worker machine (they are relative to its speed)
        settings = dataclasses.asdict(dataclasses.replace(options, budgets=None))
        by_future, attempts = {}, {}

        def submit(entry):
            attempts[entry.student] = attempts.get(entry.student, 0) + 1
            future = client.submit(grade_remote, assignment.id, payload[entry.student], settings,
                                   pure=False, retries=1)
            by_future[future] = entry
            return future

        queue = as_completed([submit(e) for e in todo])
        try:
            for future in queue:
                entry = by_future.pop(future)
                try:
                    data = future.result()
                except Exception as exc:  # KilledWorker, a lost connection, a task error
                    if attempts[entry.student] < CLUSTER_ATTEMPTS:
                        queue.add(submit(entry))
                        continue
                    data = failure_document(assignment.id, f"the cluster could not grade it "
                                                           f"({type(exc).__name__}: {exc})")
                store(entry, data)
        except BaseException:
            client.cancel(list(by_future))
            raise
    finally:
        client.close()


def pack(path) -> dict:
    """A submission as plain data for a remote task: its name and files (bytes names).

    Only what grader.submission can use travels: files up to three levels
    deep, each cut just past its cap in grader.submission (enough to be refused as too
    large), MAX_SHIPPED_BYTES in all; symbolic links stay behind.
    """
    path = Path(path)
    if not path.is_dir():
        limit = MAX_SHIPPED_BYTES if path.suffix.lower() == ".zip" else cap_for(path.name) + 1
        data = b"" if path.is_symlink() else read_prefix(path, limit)
        return {"name": os.fsencode(path.name), "folder": False, "files": [(b"", data)]}
    files, budget = [], MAX_SHIPPED_BYTES
    for depth in ("*", "*/*", "*/*/*"):
        for item in sorted(path.glob(depth)):
            if item.is_symlink() or not item.is_file() or ".git" in item.relative_to(path).parts:
                continue
            data = read_prefix(item, min(budget, cap_for(item.name) + 1))
            budget -= len(data)
            files.append((os.fsencode(item.relative_to(path)), data))
    return {"name": os.fsencode(path.name), "folder": True, "files": files}


def grade_remote(assignment_id: str, payload: dict, settings: dict) -> dict:
    """The cluster task: rebuild the submission, grade it here, return the document."""
    with tempfile.TemporaryDirectory(prefix="grader-task-") as scratch:
        scratch = Path(scratch)
        target = scratch / "in" / os.fsdecode(payload["name"])
        if payload["folder"]:
            for relative, data in payload["files"]:
                parts = Path(os.fsdecode(relative)).parts
                if not parts or Path(os.fsdecode(relative)).is_absolute() or ".." in parts:
                    continue
                target.joinpath(*parts).parent.mkdir(parents=True, exist_ok=True)
                target.joinpath(*parts).write_bytes(data)
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True)
            target.write_bytes(payload["files"][0][1])
        options = Options(**settings)
        assignment = course.load(assignment_id)
        return grade(assignment, target, scratch / "out", options, harness=warm_server(assignment, options))


_servers: dict[tuple, HarnessServer] = {}
_servers_lock = threading.Lock()


def warm_server(assignment: Assignment, options: Options) -> HarnessServer:
    """This worker process's warm harness server for the assignment (started on first use).

    A Dask worker lives for many tasks, so it keeps one server per
    assignment, suites and sandbox, as a local batch does for its run; one
    that died (its starting thread ended) is replaced. The processes end
    with the worker.
    """
    key = (assignment.id, options.hidden, options.sandbox)
    with _servers_lock:
        server = _servers.get(key)
        if server is None or not server.alive():
            if server is not None:
                server.close()
            server = _servers[key] = HarnessServer(assignment.suites(hidden=options.hidden),
                                                   assignment.course_root, options.sandbox)
        return server
