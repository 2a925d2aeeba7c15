"""`grader batch`: grade a whole class, in parallel, resumably.

Every student found by grader.lms is graded by grade() (a harness process and
its own sandbox per grade) into a scratch folder; then DIR/<student>/feedback.md
and, last, DIR/<student>/results.json are written, both atomically, stamped
(resume.py) so a later run with the same DIR skips every student already
graded the same way. gradebook.csv and report.html are rebuilt from the
results on disk at the end of every run, interrupted or not.

Where the grades run: local.py (threads on this machine) or cluster.py (Dask).
"""
import dataclasses
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from .. import course, gpus, gradebook, lms, similarity
from ..course import Assignment
from ..errors import BatchBusy, ExportError, UsageError
from ..grade import Options, calibrated
from ..sandbox import SANDBOXES, choose
from ..similarity.report import write_all as write_similarity
from .cluster import run_cluster
from .display import Progress, print_summary
from .local import run_local
from .resume import Exclusive, stamp, store, up_to_date

WORK_DIR = ".work"          # scratch space inside DIR, emptied by every run


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
    similar: int | None = None  # pairs above the similarity threshold (None: not analysed)


def run(assignment: Assignment, source, out_dir, *, jobs: int = 1, options: Options = Options(),
        cluster: str | None = None, progress: Progress | None = None,
        compare: bool = True) -> Summary:
    """Grade every student in source (a folder or an LMS zip) into out_dir; return a Summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress or Progress(None)
    started = time.monotonic()
    with Exclusive(out):
        work = out / WORK_DIR
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            export = lms.discover(source, work, assignment.id)
            stamps = {e.student: stamp(assignment, e.path, options) for e in export.entries}
            todo = [e for e in export.entries if not up_to_date(out / e.student, stamps[e.student])]
            summary = Summary(out, export.layout, export.entries, [], [], [], export.warnings, 0.0)
            summary.skipped = [e.student for e in export.entries if e not in todo]
            progress.start(len(todo), len(summary.skipped))
            if todo and not cluster and options.budgets is None:  # calibrate once, not per grade
                options = dataclasses.replace(options, budgets=calibrated(assignment, options))

            def keep(entry, data):
                store(out / entry.student, data, stamps[entry.student], entry)
                summary.graded.append(entry.student)
                progress.advance(entry.student, data)

            try:
                if cluster:
                    run_cluster(cluster, assignment, todo, options, keep)
                else:
                    devices = gpus.device_ids() if options.cuda else []
                    if devices and jobs > len(devices):
                        summary.warnings.append(f"--jobs {jobs} lowered to {len(devices)}: "
                                                "one GPU per grade at a time")
                    run_local(assignment, todo, options, jobs, work, keep, devices)
            except KeyboardInterrupt:
                summary.interrupted = True
            finally:
                progress.stop()
            section = None   # code similarity reads the same entries (before the scratch goes)
            if compare and not summary.interrupted:
                analysis = similarity.analyse(assignment, export.entries)
                section = write_similarity(analysis, out)
                summary.similar = len(analysis.flagged)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary.elapsed = time.monotonic() - started
        students = {e.student for e in export.entries}
        summary.rows = [r for r in gradebook.load_rows(out) if r.student in students]
        gradebook.write_gradebook(out, summary.rows)
        gradebook.write_report(out, summary.rows, assignment.id, summary.elapsed,
                               section["similarity"] if section else None)
    return summary


# --- the command ---------------------------------------------------------------------

def configure(parser) -> None:
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
    parser.add_argument("--no-similarity", dest="similarity", action="store_false",
                        help="skip the code-similarity analysis (similarity.csv, report section)")


def main(args) -> int:
    assignment = course.load(args.assignment)
    if not Path(args.submissions).exists():
        raise UsageError(f"{args.submissions}: no such file or folder")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.device == "cuda":
        gpus.require_cuda()
    sandbox, note = choose(args.sandbox, allow_unsandboxed=False, cuda=args.device == "cuda")
    if note:
        print(note, file=sys.stderr)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = run(assignment, args.submissions, args.out, jobs=args.jobs,
                      options=Options(sandbox=sandbox, cuda=args.device == "cuda"),
                      cluster=args.cluster, progress=Progress.for_terminal(), compare=args.similarity)
    except (ExportError, BatchBusy) as exc:
        raise UsageError(str(exc)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_summary(summary)
    if summary.interrupted:
        return 130
    return 0 if summary.entries else 2


def _interrupt(signum, frame):
    """SIGTERM stops a batch like Ctrl-C: what was written stays, no process is left."""
    raise KeyboardInterrupt
