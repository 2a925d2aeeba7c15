"""`grader export gradescope`: the zip, unpacked into a fake /autograder tree, grades.

run_autograder runs for real against the tree (AUTOGRADER_ROOT) with this
project's venv (GRADER_PYTHON) instead of the venv setup.sh would build; the
zip's grader package is checked to be byte-identical to the one that runs.
setup.sh itself (apt-get, pip) is not run here: its syntax and pins are checked.
"""
import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, run_cli
from grader import course
from grader.course import PACKAGE_DIR

STATUSES = ("passed", "failed")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    result = run_cli("export", "gradescope", "polyfit", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def fake_autograder(zip_path, tmp_path, submission):
    """An /autograder tree: source/ (the zip), submission/ (one file), results/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the exec bits
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    (root / "submission").mkdir()
    shutil.copy(submission, root / "submission" / "polyfit.py")
    return root


def run_autograder(root):
    env = {"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    result = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads((root / "results" / "results.json").read_text())


def check_gradescope_schema(data):
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["execution_time"], (int, float)) and isinstance(data["output"], str)
    for number, test in enumerate(data["tests"], start=1):
        assert test["status"] in STATUSES and test["visibility"] in VISIBILITIES
        assert isinstance(test["name"], str) and test["number"] == str(number)
        assert 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["output"], str)
    assert data["score"] == sum(t["score"] for t in data["tests"])


def test_zip_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 & 0o777 for i in archive.infolist()}
        runner = archive.read("run_autograder").decode()
        packaged = {n: archive.read(n) for n in names if n.startswith("grader/")}
    assert {"setup.sh", "run_autograder", "pyproject.toml", "course.toml", "assignments/polyfit/assignment.toml",
            "assignments/polyfit/test_public.py", "reference/polyfit/polyfit.py",
            "reference/polyfit/test_hidden.py"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert 'ASSIGNMENT="polyfit"' in runner
    assert not any("__pycache__" in n or n.startswith("reference/") and "/polyfit/" not in n for n in names)
    for name, data in packaged.items():  # the grader that runs here is the one shipped
        assert (PACKAGE_DIR.parent / name).read_bytes() == data, name


def test_reference_gets_full_marks(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path, ROOT / "reference/polyfit/polyfit.py")
    data = run_autograder(root)
    check_gradescope_schema(data)
    assert data["score"] == data["extra_data"]["max_score"] > 0
    suites = {t["extra_data"]["suite"] for t in data["tests"]}
    assert suites == {"test_public", "test_hidden"}
    assert data["extra_data"]["sandbox"] in ("bwrap", "none")


def test_stub_gets_zero_with_messages(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path, ROOT / "assignments/polyfit/polyfit.py")
    data = run_autograder(root)
    check_gradescope_schema(data)
    assert data["score"] == 0
    assert all("not implemented" in t["output"] for t in data["tests"])


def test_a_failed_grade_still_writes_results(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path, ROOT / "reference/polyfit/polyfit.py")
    (root / "source" / "assignments" / "polyfit" / "assignment.toml").unlink()  # a broken upload
    data = run_autograder(root)
    assert data["score"] == 0 and "could not grade" in data["output"]


def test_setup_script_is_valid_and_pins_torch():
    script = PACKAGE_DIR / "templates" / "setup.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    pinned = [d for d in course.tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
              ["dependencies"] if d.startswith("torch")]
    assert pinned == ["torch==2.13.0"] and "TORCH_VERSION=2.13.0" in script.read_text()
    assert "bubblewrap" in script.read_text()


def test_export_needs_a_known_assignment(tmp_path):
    result = run_cli("export", "gradescope", "nope", "--out", tmp_path / "x.zip")
    assert result.returncode == 2 and "unknown assignment" in result.stderr
