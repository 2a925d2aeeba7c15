"""`grader batch`: grade a whole class, in parallel, resumably.

Every student found by grader.lms is graded by grade() (a harness process and
its own sandbox per grade) into a scratch folder; then DIR/<student>/feedback.md
and, last, DIR/<student>/results.json are written, both atomically, stamped
(resume.py) so a later run with the same DIR skips every student already
graded the same way. A submission the grader could not grade is stored
unstamped, as "not graded", and graded again by the next run.
gradebook.csv and report.html are rebuilt from the results on disk at the
start of every run (when a killed run left them stale) and at its end,
interrupted or not.

Where the grades run: local.py (threads on this machine) or cluster.py (Dask).
"""
import argparse
import dataclasses
import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

from .. import course, gpus, gradebook, lms, results, similarity
from ..course import Assignment
from ..errors import BatchBusy, ClusterLost, ExportError, GraderError, UsageError
from ..grade import Options, calibrated
from ..sandbox import SANDBOX_HELP, SANDBOXES, choose
from ..similarity.report import write_all as write_similarity
from .cluster import Cluster, run_cluster
from .display import Progress, print_summary
from .local import run_local
from .resume import Exclusive, course_stamp, stamp, store, up_to_date

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
    not_graded: list = dataclasses.field(default_factory=list)  # students this run could not grade
    lost: str | None = None     # why the cluster was lost (None: it was not)

    @property
    def stored(self) -> int:
        """Students with a real grade on disk (the not graded left out)."""
        return sum(1 for r in self.rows if r.graded)


def run(assignment: Assignment, source, out_dir, *, jobs: int = 1, options: Options = Options(),
        cluster: Cluster | None = None, progress: Progress | None = None,
        compare: bool = True) -> Summary:
    """Grade every student in source (a folder or an LMS zip) into out_dir; return a Summary."""
    problems = assignment.environment.problems()
    if problems and options.sandbox != "docker":  # a docker worker has its image's packages
        raise GraderError("this Python is not the course's grading environment (course.toml): "
                          + "; ".join(problems))
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
            students = {e.student for e in export.entries}
            refresh(out, assignment, students, progress)
            course = course_stamp(assignment, options)
            stamps = {e.student: stamp(assignment, e.path, options) for e in export.entries}
            todo = [e for e in export.entries if not up_to_date(out / e.student, stamps[e.student])]
            summary = Summary(out, export.layout, export.entries, [], [], [], export.warnings, 0.0)
            summary.skipped = [e.student for e in export.entries if e not in todo]
            progress.start(len(todo), len(summary.skipped))
            if todo and not cluster and options.budgets is None:  # calibrate once, not per grade
                options = dataclasses.replace(options, budgets=calibrated(assignment, options))

            def keep(entry, data, graded_by=course):
                """Store a real grade, stamped with the course that graded it."""
                store(out / entry.student, data, {**stamps[entry.student], **graded_by}, entry)
                summary.graded.append(entry.student)
                progress.advance(entry.student, data)

            def give_up(entry, problem):
                """Store the record of a grade that could not be produced, unstamped."""
                data = results.not_graded(assignment.id, problem)
                store(out / entry.student, data, None, entry)
                summary.not_graded.append(entry.student)
                progress.advance(entry.student, data)

            def keep_local(entry, data):
                if "not_graded" in data["extra_data"]:   # the grader failed (results.not_graded)
                    give_up(entry, data["extra_data"]["not_graded"])
                else:
                    keep(entry, data)

            try:
                if cluster:
                    run_cluster(cluster, assignment, todo, options, keep, give_up)
                else:
                    devices = gpus.device_ids() if options.cuda else []
                    if devices and jobs > len(devices):
                        summary.warnings.append(f"--jobs {jobs} lowered to {len(devices)}: "
                                                "one GPU per grade at a time")
                    run_local(assignment, todo, options, jobs, work, keep_local, devices)
            except KeyboardInterrupt:
                summary.interrupted = True
            except ClusterLost as exc:
                summary.lost = str(exc)
            finally:
                progress.stop()
            section = None   # code similarity reads the same entries (before the scratch goes)
            if compare and not summary.interrupted and not summary.lost:
                analysis = similarity.analyse(assignment, export.entries)
                section = write_similarity(analysis, out)
                summary.similar = len(analysis.flagged)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary.elapsed = time.monotonic() - started
        summary.rows = [r for r in gradebook.load_rows(out) if r.student in students]
        gradebook.write_gradebook(out, summary.rows)
        gradebook.write_report(out, summary.rows, assignment.id, summary.elapsed,
                               section["similarity"] if section else None)
    return summary


def refresh(out: Path, assignment: Assignment, students: set, progress: Progress) -> None:
    """Rebuild gradebook.csv and report.html when they no longer list what is stored.

    A batch killed with SIGKILL (or a lost machine) writes no gradebook at its
    end, so the one on disk may list fewer students than the results stored;
    it must not survive into this run.
    """
    rows = [r for r in gradebook.load_rows(out) if r.student in students]
    book = out / "gradebook.csv"
    current = book.read_text(encoding="utf-8") if book.exists() else None
    if current == gradebook.gradebook_text(rows) or (current is None and not rows):
        return
    gradebook.write_gradebook(out, rows)
    gradebook.write_report(out, rows, assignment.id)
    progress.note(f"gradebook.csv and report.html were rebuilt from the {len(rows)} grades stored in {out} "
                  "(an earlier run ended before writing them)")


# --- the command ---------------------------------------------------------------------

def configure(parser) -> None:
    parser.epilog, parser.formatter_class = SANDBOX_HELP, argparse.RawDescriptionHelpFormatter
    parser.add_argument("assignment")
    parser.add_argument("submissions", help="a folder with one entry per student, or an LMS zip")
    parser.add_argument("--out", default="out/batch")
    parser.add_argument("--jobs", type=int, default=None,
                        help="grades at once (default: the number of cores); with --cluster, the most "
                             "grades in flight on the cluster (default: twice its workers' threads)")
    parser.add_argument("--sandbox", choices=SANDBOXES, default="auto",
                        help="with --cluster, each worker checks it can run this sandbox")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="grade on this Dask scheduler (tls://host:8786) instead of locally")
    parser.add_argument("--certs", metavar="DIR", type=Path,
                        help="with a tls:// --cluster: DIR/ca.pem, client.pem, client-key.pem "
                             "(`grader cluster certs DIR`)")
    parser.add_argument("--insecure", action="store_true",
                        help="allow a plain tcp:// --cluster (anyone who reaches it runs code on the workers)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: also run the GPU-marked tests")
    parser.add_argument("--no-similarity", dest="similarity", action="store_false",
                        help="skip the code-similarity analysis (similarity.csv, report section)")


def main(args) -> int:
    assignment = course.load(args.assignment)
    if not Path(args.submissions).exists():
        raise UsageError(f"{args.submissions}: no such file or folder")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    cluster = None
    if args.cluster:
        cluster = Cluster(args.cluster, args.certs, args.insecure, args.jobs)
        cluster.check()
        sandbox = "bwrap" if args.sandbox == "auto" else args.sandbox   # each worker checks it has it
    else:
        if args.device == "cuda":
            gpus.require_cuda()
        sandbox, note = choose(args.sandbox, allow_unsandboxed=False, cuda=args.device == "cuda")
        if note:
            print(note, file=sys.stderr)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = run(assignment, args.submissions, args.out, jobs=args.jobs or os.cpu_count() or 1,
                      options=Options(sandbox=sandbox, cuda=args.device == "cuda"),
                      cluster=cluster, progress=Progress.for_terminal(), compare=args.similarity)
    except (ExportError, BatchBusy) as exc:
        raise UsageError(str(exc)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_summary(summary, resume_command(args))
    if summary.interrupted:
        return 130
    if summary.lost or summary.not_graded:
        return 1
    return 0 if summary.entries else 2


def resume_command(args) -> str:
    """The command that was run, to run again: it grades what is missing and skips what is stored."""
    return shlex.join(["grader", *args.argv]) if getattr(args, "argv", None) else f"grader batch ... --out {args.out}"


def _interrupt(signum, frame):
    """SIGTERM stops a batch like Ctrl-C: what was written stays, no process is left."""
    raise KeyboardInterrupt
