"""`grader` / `python -m grader`: list, test, grade, batch, export, release, stubs."""
import argparse
import importlib
import sys
import tempfile
from pathlib import Path

from . import course
from .sandbox import SandboxUnavailable, bwrap_problem

SANDBOXES = ("auto", "none", "bwrap", "docker")
# Subcommands whose arguments and behaviour live in their own module:
# each module has configure(parser) and main(args) -> exit code.
EXTENSIONS = {
    "batch": ("grader.batch", "grade every submission in a folder or LMS zip"),
    "export": ("grader.export", "build a Gradescope autograder zip"),
    "release": ("grader.release", "write the student repository (no reference, no hidden tests)"),
}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except course.UnknownAssignment as exc:
        known = ", ".join(a.id for a in course.all_assignments())
        print(f"grader: unknown assignment {exc.args[0]!r} (known: {known})", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, an unwritable --out: say so, not a traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"grader: cannot complete: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


class UsageError(Exception):
    pass


def build_parser():
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("list", help="the assignments, their tests and points")
    p.add_argument("assignment", nargs="?")
    p.set_defaults(handler=cmd_list)

    p = commands.add_parser("test", help="run the public tests on your work")
    p.add_argument("assignment")
    p.add_argument("submission", nargs="?", help="default: assignments/ID/ID.py")
    p.add_argument("--sandbox", choices=SANDBOXES, default="auto")
    p.set_defaults(handler=cmd_test)

    p = commands.add_parser("grade", help="grade one submission with every test")
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
        try:
            extension = importlib.import_module(module)
        except ImportError:
            p.set_defaults(handler=lambda args, name=name: _missing(name))
            continue
        extension.configure(p)
        p.set_defaults(handler=extension.main)
    return parser


def _missing(name):
    print(f"grader: `{name}` is not available in this installation", file=sys.stderr)
    return 2


def resolve_sandbox(kind, *, allow_unsandboxed):
    """auto means bwrap; `grade` never silently falls back to no sandbox."""
    if kind == "docker":
        from .docker_sandbox import DockerSandbox
        DockerSandbox().close()  # raises SandboxUnavailable when no engine answers
    if kind == "bwrap" and bwrap_problem():
        raise UsageError(f"the bwrap sandbox cannot run here: {bwrap_problem()}")
    if kind != "auto":
        return kind
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if allow_unsandboxed:
        print(f"Note: running without a sandbox ({problem}).", file=sys.stderr)
        return "none"
    raise UsageError(f"no sandbox available: {problem}. Pass --sandbox none to grade "
                     "unsandboxed (only for code you trust) or --sandbox docker.")


def cmd_list(args):
    from .collect import collect
    chosen = [course.load(args.assignment)] if args.assignment else course.all_assignments()
    for assignment in chosen:
        tests = collect(assignment)
        total = sum(t["points"] for t in tests)
        print(f"{assignment.id}: {assignment.title} — {len(tests)} tests, {total:g} points")
        for test in tests:
            print(f"  [{test['suite']:<11}] {test['points']:>4g}  {test['name']}")
    return 0


def cmd_test(args):
    from .grade import Options, grade
    from .report import print_student_summary
    assignment = course.load(args.assignment)
    submission_path = Path(args.submission) if args.submission else assignment.stub
    if not submission_path.exists() and not submission_path.is_symlink():
        raise UsageError(f"{submission_path}: no such file or folder")
    try:
        sandbox = resolve_sandbox(args.sandbox, allow_unsandboxed=True)
    except SandboxUnavailable as exc:
        raise UsageError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="grader-test-") as out:
        data = grade(assignment, submission_path, out, Options(sandbox=sandbox, hidden=False))
    all_passed = print_student_summary(assignment, data)
    return 0 if all_passed else 1


def cmd_grade(args):
    from .grade import Options, grade
    from .report import print_grade_summary
    assignment = course.load(args.assignment)
    if not Path(args.submission).exists() and not Path(args.submission).is_symlink():
        raise UsageError(f"{args.submission}: no such file or folder")
    try:
        sandbox = resolve_sandbox(args.sandbox, allow_unsandboxed=False)
        data = grade(assignment, args.submission, args.out,
                     Options(sandbox=sandbox, cuda=args.device == "cuda"))
    except SandboxUnavailable as exc:
        raise UsageError(str(exc)) from None
    print_grade_summary(data, Path(args.out), args.format)
    return 0


def cmd_stubs(args):
    from .stubgen import make_stub
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
