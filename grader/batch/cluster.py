"""Grading on a Dask distributed cluster (`grader batch --cluster ADDRESS`).

- **Secure by default.** The client speaks TLS with mutual certificates
  (`--certs DIR`, see tls.py); a plain `tcp://` scheduler is refused unless
  `--insecure` says so explicitly.
- **One course, checked.** Each task carries the sha256 of the client's
  course for the assignment (suites, reference, settings, data); the worker
  hashes its own course and sandbox-checks itself before grading, and refuses
  the task (WorkerRefused) when either differs. A refused worker gets no more
  tasks from this batch. A grade is stored with the hash of the course that
  graded it.
- **Only real grades are stamped.** A task that fails (a refused course, a
  worker that died, a broken environment) is tried again, CLUSTER_ATTEMPTS
  times in all; then the student is recorded as not graded, never stamped,
  so the next run grades them again.
- **Streaming.** Submissions are read and sent only as grades finish: at most
  `in_flight` are submitted at a time, so the client's memory is bounded by
  the grades in flight, not by the class.
- **Faults.** A scheduler that cannot be reached or is lost raises
  ClusterLost; batch.run then rebuilds the gradebook from what is stored.
  A killed grade's scratch folder on a worker is removed by the next grade
  on that machine (task_scratch).
"""
import contextlib
import dataclasses
import fcntl
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import course
from ..course import Assignment
from ..errors import ClusterLost, GraderError, UnknownAssignment, UsageError, WorkerRefused
from ..files import read_prefix
from ..grade import Options, grade
from ..lms import Entry
from ..sandbox import choose
from ..submission import cap_for
from ..warm import HarnessServer
from .resume import course_stamp
from .tls import client_security

CLUSTER_ATTEMPTS = 3            # tries per submission before it is recorded as not graded
CONNECT_SECONDS = 10            # to reach the scheduler, and to get it back after a lost connection
MAX_SHIPPED_BYTES = 64 * 2**20
SCRATCH = "grader-cluster"      # the workers' scratch root, in their temp folder


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where and how to reach the scheduler."""
    address: str
    certs: Path | None = None       # the folder of ca.pem, client.pem, client-key.pem (tls://)
    insecure: bool = False          # allow a plain tcp:// scheduler
    in_flight: int | None = None    # grades submitted at once (default: twice the workers' threads)

    def check(self) -> None:
        """Refuse what would let others run code on the workers, before anything is sent."""
        scheme = self.address.split("://", 1)[0] if "://" in self.address else "tcp"
        if scheme == "tls":
            if self.certs is None:
                raise UsageError(f"--cluster {self.address}: a tls:// scheduler needs --certs DIR "
                                 "(ca.pem, client.pem, client-key.pem; `grader cluster certs DIR` makes them)")
        elif self.certs is not None:
            raise UsageError(f"--certs is for a tls:// scheduler, and {self.address} is {scheme}://")
        elif not self.insecure:
            raise UsageError(
                f"--cluster {self.address}: refusing a {scheme}:// scheduler. Anyone who can reach it "
                "runs code as root on every worker, next to the reference and the hidden tests. "
                "Use tls:// with --certs DIR (docs/deployment.md, \"Grading on a cluster\"), or pass "
                "--insecure for a scheduler that only you can reach.")
        if self.in_flight is not None and self.in_flight < 1:
            raise UsageError("--jobs must be at least 1")


def run_cluster(cluster: Cluster, assignment: Assignment, todo: list[Entry], options: Options,
                store: Callable[[Entry, dict, dict], None], give_up: Callable[[Entry, str], None]) -> None:
    """Grade todo on the cluster: store(entry, document, course stamp of the worker that graded it)
    each real grade, give_up(entry, why) each one the cluster could not produce."""
    cluster.check()
    if not todo:
        return
    try:  # optional: only cluster runs need dask
        from distributed import Client
    except ModuleNotFoundError:
        raise UsageError("--cluster needs Dask: pip install 'ml-autograder[cluster]'") from None
    security = client_security(cluster.certs) if cluster.certs else None
    try:
        client = Client(cluster.address, security=security, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError, TypeError, AssertionError) as exc:
        # TypeError/AssertionError: distributed's own words for a TLS setting the scheduler refused
        raise ClusterLost(f"cannot reach the scheduler at {cluster.address}: "
                          f"{type(exc).__name__}: {exc or 'TLS handshake refused (check --certs)'}") from None
    try:
        _Batch(client, cluster, assignment, options, store, give_up).run(todo)
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


class _Batch:
    def __init__(self, client, cluster, assignment, options, store, give_up):
        from distributed import as_completed  # optional: only cluster runs need dask
        self.client, self.assignment = client, assignment
        self.course = course_stamp(assignment, options)
        self.store, self.give_up = store, give_up
        # budgets are measured on each worker machine (they are relative to its speed)
        self.settings = dataclasses.asdict(dataclasses.replace(options, budgets=None))
        self.in_flight = cluster.in_flight or max(4, 2 * sum(client.nthreads().values()))
        self.queue = as_completed()
        self.running: dict = {}              # future -> entry
        self.attempts: dict[str, int] = {}
        self.refused: dict[str, str] = {}    # worker address -> why it refused

    def run(self, todo: list[Entry]) -> None:
        waiting = iter(todo)
        try:
            self._fill(waiting)
            for future in self.queue:
                entry = self.running.pop(future)
                self._finish(entry, future)
                self._fill(waiting)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.running))
            if isinstance(exc, Exception) and not isinstance(exc, GraderError) and self.client.status != "running":
                raise ClusterLost(f"lost the scheduler ({type(exc).__name__}: {exc})") from None
            raise

    def _fill(self, waiting: Iterator[Entry]) -> None:
        while len(self.running) < self.in_flight:
            entry = next(waiting, None)
            if entry is None:
                return
            self._submit(entry)

    def _submit(self, entry: Entry) -> None:
        self.attempts[entry.student] = self.attempts.get(entry.student, 0) + 1
        placement = {}
        if self.refused:   # keep off the workers that refused this course or could not sandbox
            workers = set(self.client.scheduler_info()["workers"]) - set(self.refused)
            if not workers:
                reasons = "; ".join(sorted(set(self.refused.values())))
                self.give_up(entry, f"every worker of the cluster refused to grade it: {reasons}")
                return
            placement = {"workers": sorted(workers), "allow_other_workers": False}
        future = self.client.submit(grade_remote, self.assignment.id, pack(entry.path), self.settings,
                                    self.course, pure=False, retries=0, **placement)
        self.running[future] = entry
        self.queue.add(future)

    def _finish(self, entry: Entry, future) -> None:
        try:
            data = future.result()
        except WorkerRefused as exc:
            self.refused[exc.worker] = str(exc)
            problem = str(exc)
        except Exception as exc:  # KilledWorker, a lost connection, an error on the worker
            if self.client.status != "running":
                raise ClusterLost(f"lost the scheduler ({type(exc).__name__}: {exc})") from None
            problem = f"{type(exc).__name__}: {exc}"
        else:
            self.store(entry, data, data["extra_data"].pop("course"))
            return
        if self.attempts[entry.student] < CLUSTER_ATTEMPTS:
            self._submit(entry)
        else:
            self.give_up(entry, f"the cluster could not grade it in {CLUSTER_ATTEMPTS} attempts "
                                f"(last: {problem})")


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


def unpack(payload: dict, folder: Path) -> Path:
    """Rebuild a packed submission under folder; its path (names with .. or / are dropped)."""
    target = folder / os.fsdecode(payload["name"])
    if not payload["folder"]:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload["files"][0][1])
        return target
    target.mkdir(parents=True, exist_ok=True)
    for relative, data in payload["files"]:
        parts = Path(os.fsdecode(relative)).parts
        if not parts or Path(os.fsdecode(relative)).is_absolute() or ".." in parts:
            continue
        target.joinpath(*parts).parent.mkdir(parents=True, exist_ok=True)
        target.joinpath(*parts).write_bytes(data)
    return target


# --- on the worker ----------------------------------------------------------------------

def grade_remote(assignment_id: str, payload: dict, settings: dict, expected: dict) -> dict:
    """The cluster task: check this worker, rebuild the submission, grade it here, return the document.

    expected: the client's course stamp (resume.course_stamp). The document
    carries this worker's in `extra_data.course`; the client stamps the stored grade with it.
    """
    from distributed import get_worker  # this runs on a Dask worker
    where = get_worker().address
    options = Options(**settings)
    problem = sandbox_problem(options.sandbox)
    if problem:
        raise WorkerRefused(f"worker {where} cannot grade: {problem}", where)
    try:
        assignment = course.load(assignment_id)
    except UnknownAssignment:
        raise WorkerRefused(f"worker {where} has no assignment {assignment_id!r} in its course "
                            f"({course.ROOT})", where) from None
    own = course_stamp(assignment, options)
    if own != expected:
        raise WorkerRefused(
            f"worker {where} has a different course for {assignment_id} than this client "
            f"(course sha256 {own['suites_sha256'][:12]} there, {expected['suites_sha256'][:12]} here; "
            f"grader {own['grader_version']} there, {expected['grader_version']} here): its suites, "
            f"reference, assignment.toml or data differ. Install the same course on every worker "
            f"({assignment.course_root} there)", where)
    with task_scratch() as scratch:
        target = unpack(payload, scratch / "in")
        data = grade(assignment, target, scratch / "out", options,
                     harness=warm_server(assignment, options, own["suites_sha256"]), scratch=scratch)
    data["extra_data"]["course"] = own
    return data


@functools.lru_cache(maxsize=None)
def sandbox_problem(kind: str) -> str | None:
    """Why this worker cannot run the sandbox asked for (checked once per worker process), or None."""
    try:
        choose(kind, allow_unsandboxed=False)
    except GraderError as exc:
        return str(exc)
    return None


@contextlib.contextmanager
def task_scratch() -> Iterator[Path]:
    """A private folder for one task, under the worker's temp folder, removed after it.

    Each task folder is flock-ed while its grade runs. A worker killed
    mid-grade leaves its folder (student code) behind, unlocked: the next
    task on this machine removes every such folder before it starts. One
    lock around the sweep and the creation keeps a new folder from being
    taken for a dead one.
    """
    root = Path(tempfile.gettempdir()) / SCRATCH
    root.mkdir(mode=0o700, exist_ok=True)
    with open(root / ".sweep", "w") as sweeping:
        fcntl.flock(sweeping, fcntl.LOCK_EX)
        for leftover in root.glob("task-*"):
            try:
                handle = _lock(leftover, blocking=False)
            except OSError:   # held: a grade running now
                continue
            shutil.rmtree(leftover, ignore_errors=True)
            os.close(handle)
        folder = Path(tempfile.mkdtemp(prefix="task-", dir=root))
        handle = _lock(folder, blocking=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(handle)


def _lock(folder: Path, blocking: bool) -> int:
    """An open descriptor of folder holding its flock (BlockingIOError when it is held and not blocking)."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BaseException:
        os.close(handle)
        raise
    return handle


_servers: dict[tuple, HarnessServer] = {}
_servers_lock = threading.Lock()


def warm_server(assignment: Assignment, options: Options, course_sha256: str) -> HarnessServer:
    """This worker process's warm harness server for the assignment (started on first use).

    A Dask worker lives for many tasks, so it keeps one server per
    assignment, course version, suites and sandbox, as a local batch does for
    its run (a course changed on disk gets a new server, which collects the
    new suites); one that died is replaced. The processes end with the worker.
    """
    key = (assignment.id, course_sha256, options.hidden, options.sandbox)
    with _servers_lock:
        server = _servers.get(key)
        if server is None or not server.alive():
            if server is not None:
                server.close()
            server = _servers[key] = HarnessServer(assignment.suites(hidden=options.hidden),
                                                   assignment.course_root, options.sandbox)
        return server
