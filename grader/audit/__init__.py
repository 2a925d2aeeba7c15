"""`grader audit ID`: how strong is an assignment's suite? Grade mutants of the reference.

Mutants are the reference solution with one realistic bug planted inside a
solution block (operators.py: the ways ML students go wrong). Those that
answer like the reference on the instructor's audit inputs are set apart as
possibly equivalent (equivalence.py); the others are graded through the real
pipeline, in the sandbox, in parallel (run.py). The mutation score is the
share of graded mutants that lose points; every survivor is listed with its
diff, the function it touched and the tests it passed (report.py), in
OUT/audit.json and OUT/audit.html.
"""
import os

from .. import course
from ..batch import Progress
from ..errors import UsageError
from ..sandbox import SANDBOXES, choose
from . import operators, report
from .run import AuditError, audit

__all__ = ["AuditError", "audit", "configure", "main"]

DEFAULT_OUT = "out/audit"


def configure(parser):
    parser.add_argument("assignment")
    parser.add_argument("--out", help=f"default: {DEFAULT_OUT}/ID")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="mutants checked and graded at once (default: the number of cores)")
    parser.add_argument("--operators", nargs="+", metavar="NAME",
                        help="only these operators or families: " + ", ".join(operators.FAMILIES))
    parser.add_argument("--sandbox", choices=SANDBOXES, default="auto")


def main(args) -> int:
    assignment = course.load(args.assignment)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    try:
        operators.select(args.operators)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    sandbox, _ = choose(args.sandbox, allow_unsandboxed=False)
    out = args.out or f"{DEFAULT_OUT}/{assignment.id}"
    data = audit(assignment, out, jobs=args.jobs, operators=args.operators, sandbox=sandbox,
                 progress=Progress.for_terminal())
    json_path, html_path = report.write(out, data)
    print("\n".join(report.summary_lines(data)))
    print(f"\nwrote {json_path} and {html_path}")
    return 0
