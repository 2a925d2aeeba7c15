"""`grader similarity ID SUBMISSIONS [--out DIR] [--archive DIR ...]`."""
import re
import sys
import tempfile
from pathlib import Path

from .. import course, lms
from . import DEFAULT_THRESHOLD, analyse
from .report import write_all


def configure(parser):
    parser.add_argument("assignment")
    parser.add_argument("submissions", help="a folder with one entry per student, or an LMS zip")
    parser.add_argument("--out", default="out/similarity")
    parser.add_argument("--archive", action="append", default=[], metavar="DIR",
                        help="an earlier term's submissions (folder or zip) to compare with too; repeatable")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"score from which a pair is flagged (default {DEFAULT_THRESHOLD})")


def main(args):
    assignment = course.load(args.assignment)
    for source in [args.submissions, *args.archive]:
        if not Path(source).exists():
            print(f"grader: {source}: no such file or folder", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as work:
        try:
            export = lms.discover(args.submissions, Path(work) / "class", assignment.id)
            archives = [(_label(source, n), lms.discover(source, Path(work) / f"archive-{n}",
                                                         assignment.id).entries)
                        for n, source in enumerate(args.archive)]
        except lms.ExportError as exc:
            print(f"grader: {exc}", file=sys.stderr)
            return 2
        analysis = analyse(assignment, export.entries, archives, threshold=args.threshold)
        write_all(analysis, args.out)
    print_summary(analysis, Path(args.out))
    return 0 if export.entries else 2


def _label(source, number):
    """An archive's name in the output: its folder or zip name (numbered if two agree)."""
    name = re.sub(r"[^\w.@-]+", "_", Path(source).stem).strip("._-@") or "archive"
    return name + (f"-{number}" if number else "")


def print_summary(analysis, out):
    readable = [d for d in analysis.documents if not d.problem and not d.archive]
    print(f"{analysis.assignment}: {len(readable)} submissions compared in {analysis.elapsed:.1f} s; "
          f"{len(analysis.pairs)} pairs share distinctive code, {len(analysis.flagged)} at or above "
          f"{analysis.threshold:.2f}")
    for pair in analysis.flagged[:10]:
        print(f"  {pair.score:.2f}  {pair.a.student} – {pair.b.student}")
    for document in analysis.unreadable:
        print(f"  not compared: {document.student}: {document.problem}")
    print(f"similarity: {out / 'similarity.csv'}  pages: {out / 'similarity.html'}")
