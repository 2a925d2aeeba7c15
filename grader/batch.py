"""`grader batch`: grade a whole class, in parallel, resumably.

Every student found by grader.lms is graded by grade() (a harness process and
its own sandbox per grade) into a scratch folder; the client then writes
DIR/<student>/feedback.md and, last, DIR/<student>/results.json, both
atomically, with the submission's sha256 and the grader's version stamped in
results.json `extra_data.batch`. A later run with the same DIR skips every
student whose stamp still matches, so an interrupted batch resumes where it
stopped and loses nothing it had written. gradebook.csv and report.html are
rebuilt from the results on disk at the end of every run, interrupted or not.

With --cluster ADDRESS the grades run as tasks on a Dask distributed cluster:
each task gets the submission's bytes, grades them in a sandbox on its worker
and returns the results document as data; the client writes the files. The
workers must have this course installed (same grader, assignments, reference).
"""
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from . import __version__, course, gradebook, lms, results
from .grade import Options, grade
from .submission import MAX_SOURCE_BYTES

WORK_DIR = ".work"          # scratch space inside DIR, emptied by every run
CLUSTER_ATTEMPTS = 3        # tries per submission when cluster tasks fail
MAX_SHIPPED_BYTES = 64 * 2**20


def configure(parser):
    from .cli import SANDBOXES
    parser.add_argument("assignment")
    parser.add_argument("submissions", help="a folder with one entry per student, or an LMS zip")
    parser.add_argument("--out", default="out/batch")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="grades at once (default: the number of cores)")
    parser.add_argument("--sandbox", choices=SANDBOXES, default="auto")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="grade on this Dask scheduler (tcp://host:8786) instead of locally")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: also run the GPU-marked tests")


def main(args):
    from .cli import UsageError, resolve_sandbox
    assignment = course.load(args.assignment)
    if not Path(args.submissions).exists():
        raise UsageError(f"{args.submissions}: no such file or folder")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    sandbox = resolve_sandbox(args.sandbox, allow_unsandboxed=False)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        summary = run(assignment, args.submissions, args.out, jobs=args.jobs,
                      options=Options(sandbox=sandbox, cuda=args.device == "cuda"),
                      cluster=args.cluster, progress=Progress.for_terminal())
    except (lms.ExportError, BatchBusy) as exc:
        raise UsageError(str(exc)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_summary(summary)
    if summary.interrupted:
        return 130
    return 0 if summary.entries else 2


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


class BatchBusy(RuntimeError):
    """Another batch is writing to the same folder."""


@dataclasses.dataclass
class Summary:
    out: Path
    layout: str
    entries: list
    graded: list            # students graded by this run
    skipped: list           # students already graded with the same stamp
    rows: list              # gradebook rows for every student with a result
    warnings: list
    elapsed: float
    interrupted: bool = False


def run(assignment, source, out_dir, *, jobs=1, options=Options(), cluster=None, progress=None):
    """Grade every student in source into out_dir; return a Summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress or Progress(None)
    started = time.monotonic()
    with _exclusive(out):
        work = out / WORK_DIR
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            export = lms.discover(source, work, assignment.id)
            stamps = {e.student: stamp(assignment, e.path, options) for e in export.entries}
            todo = [e for e in export.entries if not _up_to_date(out / e.student, stamps[e.student])]
            summary = Summary(out, export.layout, export.entries, [], [], [], export.warnings, 0.0)
            summary.skipped = [e.student for e in export.entries if e not in todo]
            progress.start(len(todo), len(summary.skipped))

            def store(entry, data):
                _store(out / entry.student, data, stamps[entry.student], entry)
                summary.graded.append(entry.student)
                progress.advance(entry.student, data)

            try:
                if cluster:
                    _run_cluster(cluster, assignment, todo, options, store)
                else:
                    _run_local(assignment, todo, options, jobs, work, store)
            except KeyboardInterrupt:
                summary.interrupted = True
            finally:
                progress.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary.elapsed = time.monotonic() - started
        students = {e.student for e in export.entries}
        summary.rows = [r for r in gradebook.load_rows(out) if r.student in students]
        gradebook.write_gradebook(out, summary.rows)
        gradebook.write_report(out, summary.rows, assignment.id, summary.elapsed)
    return summary


# --- what makes a grade reusable -------------------------------------------------

def stamp(assignment, path, options):
    """What a stored grade must match to be reused: the submission, the grader, the tests."""
    return {"sha256": fingerprint(path), "grader_version": __version__,
            "suites_sha256": _suites_fingerprint(assignment, options)}


def fingerprint(path):
    """sha256 of a file, or of a folder's names, link targets and contents (.git left out)."""
    path = Path(path)
    digest = hashlib.sha256()
    if not path.is_dir() or path.is_symlink():
        _hash_one(digest, path, b"")
        return digest.hexdigest()
    for top, folders, files in os.walk(path):
        folders[:] = sorted(f for f in folders if f != ".git")
        for name in sorted(files):
            full = Path(top) / name
            _hash_one(digest, full, os.fsencode(full.relative_to(path)))
    return digest.hexdigest()


def _hash_one(digest, path, relative):
    digest.update(relative + b"\0")
    if path.is_symlink():
        digest.update(b"link:" + os.fsencode(os.readlink(path)))
        return
    with open(path, "rb") as handle:
        while chunk := handle.read(2**20):
            digest.update(chunk)
    digest.update(b"\0")


def _suites_fingerprint(assignment, options):
    digest = hashlib.sha256(f"hidden={options.hidden} cuda={options.cuda}".encode())
    files = [*assignment.suites(hidden=options.hidden), assignment.folder / "assignment.toml"]
    if assignment.reference:
        files.append(assignment.reference)
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _up_to_date(folder, expected):
    try:
        data = results_from(folder)
    except (OSError, ValueError):
        return False
    return data.get("extra_data", {}).get("batch", {}).get("stamp") == expected


def results_from(folder):
    return json.loads((Path(folder) / "results.json").read_text())


def _store(folder, data, stamp_value, entry):
    """feedback.md, then results.json (the mark of a finished grade), each atomically."""
    data["extra_data"]["batch"] = {"stamp": stamp_value, "student": entry.student,
                                   "origin": entry.origin, **entry.details}
    folder.mkdir(parents=True, exist_ok=True)
    feedback = folder / "feedback.md"
    tmp = folder / ".feedback.md.tmp"
    tmp.write_text(results.feedback_markdown(data), encoding="utf-8")
    tmp.replace(feedback)
    results.write_json(folder / "results.json", data)


class _exclusive:
    """Hold DIR/.lock so two batches never write the same folder."""

    def __init__(self, out):
        self.path = out / ".lock"

    def __enter__(self):
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise BatchBusy(f"another `grader batch` is writing to {self.path.parent}") from None

    def __exit__(self, *exc):
        self.handle.close()


def failure_document(assignment_id, problem):
    """A results document for a grade that could not run at all (a grader fault)."""
    data = results.build([], [], {"module_name": assignment_id, "status": "crash"})
    data["tests"].append({"name": "The grader finished every test", "number": "1", "score": 0.0,
                          "max_score": 0.0, "status": "failed", "visibility": "visible",
                          "output": f"Grading could not run: {problem}. Please tell your instructor."})
    data["output"] = results.summary(data)
    return data


# --- local: threads, each running grade() ---------------------------------------------

def _run_local(assignment, todo, options, jobs, work, store):
    stop = threading.Event()

    def task(entry):
        if stop.is_set():
            return None
        try:
            with tempfile.TemporaryDirectory(dir=work, prefix="grade-") as scratch:
                return grade(assignment, entry.path, scratch, options)
        except Exception as exc:  # a grader fault must not cost the other students
            return failure_document(assignment.id, f"{type(exc).__name__}: {exc}")

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


def kill_harnesses():
    """SIGKILL every grading harness this process started, with all it started.

    The whole tree is listed before anything is killed, so a worker whose
    harness dies first is still known (and bwrap's --die-with-parent takes
    care of what runs inside a sandbox).
    """
    children = _process_tree()
    me = os.getpid()
    victims = []
    for pid in children.get(me, []):
        if b"grader.harness" in _cmdline(pid):
            victims += _subtree(children, pid)
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _process_tree():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat_line = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat_line.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


def _subtree(children, pid):
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += children.get(current, [])
    return found


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# --- cluster: dask distributed -------------------------------------------------------------

def _run_cluster(address, assignment, todo, options, store):
    from distributed import Client, as_completed
    client = Client(address, timeout="30s")
    try:
        payload = {e.student: pack(e.path) for e in todo}
        settings = dataclasses.asdict(options)
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


def pack(path):
    """A submission as plain data for a remote task: its name and files (bytes names).

    Only what grader.submission can use travels: files up to three levels
    deep, each cut just past MAX_SOURCE_BYTES (enough to be refused as too
    large), MAX_SHIPPED_BYTES in all; symbolic links stay behind.
    """
    path = Path(path)
    if not path.is_dir():
        limit = MAX_SHIPPED_BYTES if path.suffix.lower() == ".zip" else MAX_SOURCE_BYTES + 1
        data = b"" if path.is_symlink() else _read_prefix(path, limit)
        return {"name": os.fsencode(path.name), "folder": False, "files": [(b"", data)]}
    files, budget = [], MAX_SHIPPED_BYTES
    for depth in ("*", "*/*", "*/*/*"):
        for item in sorted(path.glob(depth)):
            if item.is_symlink() or not item.is_file() or ".git" in item.relative_to(path).parts:
                continue
            data = _read_prefix(item, min(budget, MAX_SOURCE_BYTES + 1))
            budget -= len(data)
            files.append((os.fsencode(item.relative_to(path)), data))
    return {"name": os.fsencode(path.name), "folder": True, "files": files}


def _read_prefix(path, limit):
    with open(path, "rb") as handle:
        return handle.read(limit)


def grade_remote(assignment_id, payload, settings):
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
        return grade(course.load(assignment_id), target, scratch / "out", Options(**settings))


# --- what people see -----------------------------------------------------------------------

class Progress:
    """A rich progress bar with ETA on a terminal; one plain line per grade elsewhere (CI)."""

    def __init__(self, console):
        self.console, self.bar, self.done, self.total = console, None, 0, 0

    @classmethod
    def for_terminal(cls):
        if sys.stdout.isatty():
            from rich.console import Console
            return cls(Console())
        return cls(None)

    def start(self, total, skipped):
        self.total = total
        if skipped:
            print(f"{skipped} already graded with the same submission and grader: skipped")
        if self.console is None or not total:
            return
        from rich import progress as rp
        self.bar = rp.Progress(rp.TextColumn("grading"), rp.BarColumn(), rp.MofNCompleteColumn(),
                               rp.TimeElapsedColumn(), rp.TextColumn("ETA"), rp.TimeRemainingColumn(),
                               rp.TextColumn("{task.description}"), console=self.console)
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def advance(self, student, data):
        self.done += 1
        extra = data["extra_data"]
        line = (f"{student}: {data['score']:g}/{extra['max_score']:g} {extra.get('status', 'ok')} "
                f"({data.get('execution_time', 0.0):.1f} s)")
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=line)
        else:
            print(f"[{self.done}/{self.total}] {line}", flush=True)

    def stop(self):
        if self.bar is not None:
            self.bar.stop()


def print_summary(summary):
    from rich.console import Console
    from rich.table import Table
    for warning in summary.warnings:
        print(f"warning: {warning}")
    if not summary.entries:
        print("no submissions found", file=sys.stderr)
        return
    table = Table(title=f"{len(summary.rows)} students ({summary.layout} layout)", title_justify="left")
    for column, justify in (("student", "left"), ("score", "right"), ("status", "left"), ("message", "left")):
        table.add_column(column, justify=justify, overflow="fold" if column == "message" else "ellipsis")
    shown = summary.rows if len(summary.rows) <= 40 else [r for r in summary.rows if r.status != "ok"]
    for row in shown:
        table.add_row(row.student, f"{row.total:g}/{row.max:g}", row.status, row.message[:100])
    Console(width=max(100, shutil.get_terminal_size().columns)).print(table)
    if len(shown) < len(summary.rows):
        print(f"({len(summary.rows) - len(shown)} students graded ok are listed in gradebook.csv)")
    state = "interrupted after" if summary.interrupted else "done:"
    print(f"{state} {len(summary.graded)} graded, {len(summary.skipped)} skipped, "
          f"{summary.elapsed:.1f} s")
    print(f"gradebook: {summary.out / 'gradebook.csv'}  report: {summary.out / 'report.html'}")
