"""`grader release OUT`: the student repository leaks nothing and its `make test` works.

The leak check looks in every released file for each solution line (between
BEGIN/END SOLUTION, 16+ characters) of every reference, as a whole line, and
for every hidden test's name anywhere. `make test` runs
in a fresh copy with this project's venv (`PYTHON=`); that venv's grader is
the project's package, checked byte-identical to the released one, and the
course files come from the copy (GRADER_COURSE_ROOT, set by its Makefile).
"""
import ast
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli
from grader import course
from grader.course import PACKAGE_DIR


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student-repo"
    result = run_cli("release", out)
    assert result.returncode == 0, result.stderr
    return out


def released_lines(release):
    """Every released file as its set of stripped lines."""
    return {p: {line.strip() for line in p.read_text(errors="replace").splitlines()}
            for p in release.rglob("*") if p.is_file()}


def solution_lines(path, public_files):
    """The lines students must write: between BEGIN/END SOLUTION, minus those the
    reference's docstrings or the instructor's public files (handout, public
    tests) state outright, on purpose."""
    source = path.read_text()
    docstrings = " ".join(ast.get_docstring(n) or "" for n in ast.walk(ast.parse(source))
                          if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)))
    docstrings += "".join(p.read_text() for p in public_files if p.is_file())
    found, inside = set(), False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("# BEGIN SOLUTION") or text.startswith("# END SOLUTION"):
            inside = text.startswith("# BEGIN")
        elif inside and len(text) >= 16 and not text.startswith("#") and text not in docstrings:
            found.add(text)
    return found


def defined_tests(path):
    return {n.name for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def hidden_test_names():
    """Names of hidden tests that are not also public tests' names."""
    names = set()
    for assignment in course.all_assignments():
        if assignment.hidden_suite:
            public = defined_tests(assignment.public_suite) if assignment.public_suite.is_file() else set()
            names |= defined_tests(assignment.hidden_suite) - public
    return names


def test_no_reference_code_or_hidden_test_is_released(release):
    texts = released_lines(release)
    assert not any(p.name == "test_hidden.py" or "reference" in p.relative_to(release).parts
                   for p in texts)
    graded = [a for a in course.all_assignments() if a.reference]
    assert graded, "no reference solution to check against"
    for assignment in graded:
        reference = assignment.reference
        lines = solution_lines(reference, [assignment.folder / "README.md",
                                            assignment.public_suite])
        assert lines, reference
        for line in lines:
            leaks = [str(p.relative_to(release)) for p, text in texts.items() if line in text]
            assert not leaks, f"{reference.name}: {line!r} appears in {leaks}"
    names = hidden_test_names()
    assert names
    for name in names:
        word = re.compile(rf"\b{name}\b")
        leaks = [str(p.relative_to(release)) for p, lines in texts.items()
                 if any(word.search(line) for line in lines)]
        assert not leaks, f"hidden test {name} appears in {leaks}"


def test_release_holds_what_students_need(release):
    for assignment in course.all_assignments():
        folder = release / "assignments" / assignment.id
        assert (folder / f"{assignment.id}.py").read_bytes() == assignment.stub.read_bytes()
        assert (folder / "test_public.py").is_file() and (folder / "assignment.toml").is_file()
        if (assignment.folder / "README.md").is_file():
            assert (folder / "README.md").is_file()
    for path in PACKAGE_DIR.rglob("*"):  # the runtime is the grader itself, unchanged
        if path.is_file() and "__pycache__" not in path.parts:
            assert (release / "grader" / path.relative_to(PACKAGE_DIR)).read_bytes() == path.read_bytes()
    assert (release / "Makefile").is_file() and (release / "pyproject.toml").is_file()
    assert (release / "course.toml").read_text() == (ROOT / "course.toml").read_text()
    readme = (release / "README.md").read_text()
    assert "from grader import check" in readme and "pandas" in readme   # check() and the environment


def make_test(repo, *extra):
    return subprocess.run(["make", "-s", "test", f"PYTHON={sys.executable}", *extra], cwd=repo,
                          capture_output=True, text=True, timeout=600)


def test_make_test_in_a_fresh_copy(release, tmp_path):
    repo = tmp_path / "clone"
    shutil.copytree(release, repo)
    stubs = make_test(repo, "ID=polyfit")
    assert stubs.returncode != 0, stubs.stdout  # the stubs fail their public tests
    assert "0 of 5 public tests passed" in stubs.stdout
    assert "Hidden tests" in stubs.stdout and "not implemented" in stubs.stdout
    shutil.copy(ROOT / "reference/polyfit/polyfit.py", repo / "assignments/polyfit/polyfit.py")
    done = make_test(repo, "ID=polyfit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 of 5 public tests passed" in done.stdout
    assert not (repo / ".venv").exists()  # PYTHON= means no venv is built


def test_release_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run_cli("release", tmp_path)
    assert result.returncode == 2 and "not empty" in result.stderr


def test_every_handout_states_the_grading_environment_and_check():
    for assignment in course.all_assignments():
        text = " ".join((assignment.folder / "README.md").read_text().split())
        assert f"Python {assignment.environment.python}" in text and f'check("{assignment.id}")' in text
        for package in assignment.environment.allowed(assignment.limits.blocked_modules):
            assert package in text, (assignment.id, package)
