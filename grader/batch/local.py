"""Grading on this machine: a thread per concurrent grade, each running grade()."""
import dataclasses
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from .. import results
from ..course import Assignment
from ..grade import Options, grade
from ..warm import HarnessServer
from ..lms import Entry
from ..procs import cmdline, kill_pids, process_tree, subtree


def run_local(assignment: Assignment, todo: list[Entry], options: Options, jobs: int, work: Path,
              store: Callable[[Entry, dict], None], devices: list[str] = ()) -> None:
    """Grade todo with `jobs` grades at once, harnesses forked from one warm server;
    store(entry, data) each as it finishes.

    devices: the GPUs of a CUDA batch (CUDA_VISIBLE_DEVICES entries); each grade
    borrows one for its whole run, so at most len(devices) grades run at once.
    """
    if not todo:
        return
    lendable: queue.Queue | None = None
    if devices:
        jobs = min(jobs, len(devices))
        lendable = queue.Queue()
        for device in devices:
            lendable.put(device)
    with HarnessServer(assignment.suites(hidden=options.hidden), assignment.course_root, options.sandbox) as server:
        _grade_all(assignment, todo, options, jobs, work, store, server, lendable)


def _grade_all(assignment, todo, options, jobs, work, store, server, lendable=None):
    stop = threading.Event()

    def task(entry):
        if stop.is_set():
            return None
        device = lendable.get() if lendable is not None else None
        try:
            with tempfile.TemporaryDirectory(dir=work, prefix="grade-") as scratch:
                own = dataclasses.replace(options, gpu=device) if device is not None else options
                return grade(assignment, entry.path, scratch, own, harness=server, scratch=scratch)
        except Exception as exc:  # a grader fault must not cost the other students
            return results.not_graded(assignment.id, f"the grader failed ({type(exc).__name__}: {exc})")
        finally:
            if device is not None:
                lendable.put(device)

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    futures = {pool.submit(task, entry): entry for entry in todo}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: futures[f].student):
                store(futures[future], future.result())
    except BaseException:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        while not all(f.done() for f in futures):
            kill_harnesses()
            time.sleep(0.05)
        raise
    finally:
        pool.shutdown(wait=True)


def kill_harnesses() -> None:
    """SIGKILL every grading harness this process started, with all it started.

    The whole tree is listed before anything is killed, so a worker whose
    harness dies first is still known (and bwrap's --die-with-parent takes
    care of what runs inside a sandbox). The warm server's forked harnesses
    are its children, so its subtree holds them.
    """
    children = process_tree()
    victims = []
    for pid in children.get(os.getpid(), []):
        if b"grader.harness" in cmdline(pid):
            victims += subtree(children, pid)
    kill_pids(victims)
