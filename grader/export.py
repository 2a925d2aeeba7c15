"""`grader export gradescope ID --out autograder.zip`: Gradescope's autograder zip.

The zip holds, at its root, setup.sh (installs bubblewrap, a Python venv with
torch and the grader) and run_autograder (grades /autograder/submission into
/autograder/results/results.json), and the course files the grade needs:
pyproject.toml, course.toml, the grader package, assignments/ID/ and reference/ID/ (the
reference and hidden tests: the zip is for Gradescope only, never students).
"""
import zipfile
from pathlib import Path

from . import course
from .course import PACKAGE_DIR, TEMPLATES
from .errors import UsageError
SKIPPED = ("__pycache__", ".pyc", ".pytest_cache")


def configure(parser):
    parser.add_argument("target", choices=("gradescope",))
    parser.add_argument("assignment")
    parser.add_argument("--out", help="the zip to write (default out/ID-autograder.zip)")


def main(args):
    assignment = course.load(args.assignment)
    if assignment.reference is None:
        raise UsageError(f"reference/{assignment.id}/ is missing: export needs the instructor's course tree")
    if not (PACKAGE_DIR.parent / "pyproject.toml").is_file():
        raise UsageError("export needs the grader's source checkout (pyproject.toml beside grader/)")
    out = Path(args.out or f"out/{assignment.id}-autograder.zip")
    names = write_gradescope_zip(assignment, out)
    print(f"wrote {out} ({len(names)} files). On Gradescope: Programming Assignment → "
          "Configure Autograder → Zip file upload, base image Ubuntu 24.04 (22.04 works too).")
    return 0


def write_gradescope_zip(assignment, out):
    """Write the zip; return the names in it."""
    entries = {
        "setup.sh": ((TEMPLATES / "setup.sh").read_bytes(), 0o755),
        "run_autograder": ((TEMPLATES / "run_autograder").read_text()
                           .replace("@ASSIGNMENT@", assignment.id).encode(), 0o755),
        "pyproject.toml": ((PACKAGE_DIR.parent / "pyproject.toml").read_bytes(), 0o644),
    }
    settings = assignment.course_root / course.COURSE_SETTINGS
    if settings.is_file():  # the grading environment (its packages install with the grader)
        entries[course.COURSE_SETTINGS] = (settings.read_bytes(), 0o644)
    for folder, inside in ((PACKAGE_DIR, "grader"), (assignment.folder, f"assignments/{assignment.id}"),
                           (assignment.reference_folder, f"reference/{assignment.id}")):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part in str(path) for part in SKIPPED):
                entries[f"{inside}/{path.relative_to(folder).as_posix()}"] = (path.read_bytes(), 0o644)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return list(entries)
