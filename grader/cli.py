"""`grader` / `python -m grader`: list, test, grade, batch, export, release, stubs."""
import argparse
import sys
import tempfile
from pathlib import Path

from . import audit, batch, course, export, gpus, release
from .batch import tls
from .collect import collect
from .errors import GraderError, SandboxUnavailable, SuiteError, UnknownAssignment, UsageError
from .grade import Options, grade
from .report import print_grade_summary, print_student_summary
from .sandbox import SANDBOX_HELP, SANDBOXES, choose
from .similarity import cli as similarity_cli
from .stubgen import make_stub

# Subcommands whose arguments and behaviour live in their own module:
# each module has configure(parser) and main(args) -> exit code.
EXTENSIONS = {
    "audit": (audit, "grade mutants of the reference: which realistic bugs do the suites miss?"),
    "batch": (batch, "grade every submission in a folder or LMS zip"),
    "cluster": (tls, "grading on a Dask cluster: `grader cluster certs DIR` makes its TLS certificates"),
    "export": (export, "build a Gradescope autograder zip"),
    "release": (release, "write the student repository (no reference, no hidden tests)"),
    "similarity": (similarity_cli, "find pairs of submissions that share unusual code"),
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)   # as typed, for "resume with: ..."
    try:
        return args.handler(args)
    except UnknownAssignment as exc:
        known = ", ".join(a.id for a in course.all_assignments())
        print(f"grader: unknown assignment {exc.args[0]!r} (known: {known})", file=sys.stderr)
        return 2
    except (UsageError, SandboxUnavailable) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except SuiteError as exc:  # the instructor's suite, not the user's command
        print(f"grader: {exc}", file=sys.stderr)
        return 1
    except GraderError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, an unwritable --out: say so, not a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"grader: cannot complete: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("list", help="the assignments, their tests and points")
    p.add_argument("assignment", nargs="?")
    p.set_defaults(handler=cmd_list)

    p = commands.add_parser("test", help="run the public tests on your work", epilog=SANDBOX_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment")
    p.add_argument("submission", nargs="?", help="default: assignments/ID/ID.py")
    p.add_argument("--sandbox", choices=SANDBOXES, default="auto")
    p.set_defaults(handler=cmd_test)

    p = commands.add_parser("grade", help="grade one submission with every test", epilog=SANDBOX_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment")
    p.add_argument("submission")
    p.add_argument("--out", default="out/grade")
    p.add_argument("--sandbox", choices=SANDBOXES, default="auto")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: also run the GPU-marked tests (needs CUDA in the sandbox)")
    p.add_argument("--format", choices=("text", "json", "classroom"), default="text")
    p.set_defaults(handler=cmd_grade)

    p = commands.add_parser("stubs", help="regenerate the stubs from the reference solutions")
    p.add_argument("--check", action="store_true", help="only report stubs that drifted")
    p.set_defaults(handler=cmd_stubs)

    for name, (module, help_text) in EXTENSIONS.items():
        p = commands.add_parser(name, help=help_text)
        module.configure(p)
        p.set_defaults(handler=module.main)
    return parser


def cmd_list(args) -> int:
    chosen = [course.load(args.assignment)] if args.assignment else course.all_assignments()
    for assignment in chosen:
        tests = collect(assignment)
        total = sum(t["points"] for t in tests)
        print(f"{assignment.id}: {assignment.title} — {len(tests)} tests, {total:g} points")
        for test in tests:
            print(f"  [{test['suite']:<11}] {test['points']:>4g}  {test['name']}")
    return 0


def cmd_test(args) -> int:
    assignment = course.load(args.assignment)
    submission_path = Path(args.submission) if args.submission else assignment.stub
    if not submission_path.exists() and not submission_path.is_symlink():
        raise UsageError(f"{submission_path}: no such file or folder")
    sandbox, note = choose(args.sandbox, allow_unsandboxed=True)
    if note:
        print(note, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="grader-test-") as out:
        data = grade(assignment, submission_path, out, Options(sandbox=sandbox, hidden=False))
    all_passed = print_student_summary(assignment, data)
    return 0 if all_passed else 1


def cmd_grade(args) -> int:
    assignment = course.load(args.assignment)
    if not Path(args.submission).exists() and not Path(args.submission).is_symlink():
        raise UsageError(f"{args.submission}: no such file or folder")
    if args.device == "cuda":
        gpus.require_cuda()
    sandbox, note = choose(args.sandbox, allow_unsandboxed=False, cuda=args.device == "cuda")
    if note:
        print(note, file=sys.stderr)
    data = grade(assignment, args.submission, args.out, Options(sandbox=sandbox, cuda=args.device == "cuda"))
    print_grade_summary(data, Path(args.out), args.format)
    return 0


def cmd_stubs(args) -> int:
    drifted = []
    for assignment in course.all_assignments():
        if assignment.reference is None:
            continue
        stub = make_stub(assignment.reference.read_text())
        if assignment.stub.exists() and assignment.stub.read_text() == stub:
            continue
        drifted.append(assignment.id)
        if not args.check:
            assignment.stub.write_text(stub)
            print(f"wrote {assignment.stub}")
    if args.check and drifted:
        print("stubs out of date: " + ", ".join(drifted) + " (run `grader stubs`)")
        return 1
    return 0
