"""`grader release OUT`: the student repository.

It holds what students may see: each assignment's handout, stub, public tests
and settings (assignments/ID/), the grader runtime (the grader package: no
reference/ folder and no hidden suite exist in it), pyproject.toml and
course.toml (the grading environment: its packages install with the grader), a Makefile
whose `make test` runs the public tests, a README, and
.github/workflows/classroom.yml, which grades on push for GitHub Classroom.
"""
import shutil
from pathlib import Path

from . import course
from .course import PACKAGE_DIR, TEMPLATES
from .errors import UsageError
PUBLIC_FILES = ("README.md", "assignment.toml", "test_public.py")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def configure(parser):
    parser.add_argument("out", help="the folder to write (must not exist, or be empty)")
    parser.add_argument("--assignment", action="append", dest="assignments", metavar="ID",
                        help="release only these assignments (repeatable; default all)")


def main(args):
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty")
    chosen = ([course.load(a) for a in args.assignments] if args.assignments
              else course.all_assignments())
    write_release(chosen, out)
    print(f"wrote {out}: {', '.join(a.id for a in chosen)}. Students run `make test`.")
    return 0


def write_release(assignments, out):
    out.mkdir(parents=True, exist_ok=True)
    for assignment in assignments:
        target = out / "assignments" / assignment.id
        target.mkdir(parents=True)
        for name in (*PUBLIC_FILES, f"{assignment.id}.py"):
            if (assignment.folder / name).is_file():
                shutil.copy(assignment.folder / name, target / name)
        if assignment.limits.data_folder:
            shutil.copytree(assignment.limits.data_folder, target / "data")
    shutil.copytree(PACKAGE_DIR, out / "grader", ignore=IGNORED)
    shutil.copy(PACKAGE_DIR.parent / "pyproject.toml", out / "pyproject.toml")
    if (course.ROOT / course.COURSE_SETTINGS).is_file():  # the grading environment, as graders have it
        shutil.copy(course.ROOT / course.COURSE_SETTINGS, out / course.COURSE_SETTINGS)
    ids = " ".join(a.id for a in assignments)
    (out / "Makefile").write_text((TEMPLATES / "Makefile.student").read_text().replace("@ASSIGNMENTS@", ids))
    environment = assignments[0].environment if assignments else course.environment()
    (out / "README.md").write_text((TEMPLATES / "README.student.md").read_text()
                                   .replace("@ASSIGNMENTS@", ", ".join(a.id for a in assignments))
                                   .replace("@PYTHON@", environment.python)
                                   .replace("@PACKAGES@", ", ".join(environment.packages)))
    (out / ".gitignore").write_text(".venv/\n__pycache__/\nout/\n*.egg-info/\n")
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(classroom_workflow([a.id for a in assignments]))


def classroom_workflow(ids):
    """The workflow: one grading step per assignment, then the Classroom reporter."""
    steps, results = [], []
    for assignment_id in ids:
        steps.append(f"""      - name: {assignment_id}
        id: {assignment_id}
        run: python -m grader grade {assignment_id} assignments/{assignment_id} --sandbox none --format classroom --out out/{assignment_id} >> "$GITHUB_OUTPUT"
""")
        results.append(f"          {assignment_id.upper()}_RESULTS: \"${{{{ steps.{assignment_id}.outputs.result }}}}\"\n")
    return ((TEMPLATES / "classroom.yml").read_text()
            .replace("@STEPS@\n", "".join(steps)).replace("@RESULTS@\n", "".join(results))
            .replace("@RUNNERS@", ",".join(ids)))
