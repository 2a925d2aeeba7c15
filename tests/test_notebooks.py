"""Notebooks graded as Jupyter runs them (issue 16).

nbrun (grader/nbrun.py) is tested on its own, in a subprocess that imports it
the way the worker does; the driver module and the caps on the host side
(grader/notebook.py, nothing executed); then the class of tests/notebooks/
(correct answers plus one student habit each, see notebook_habits.py) graded
once with `grader batch --jobs 2`: full marks for all, and feedback that
names the cells that failed.
"""
import ast
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, default_sandbox, run_cli
from grader import batch, course, submission
from grader.errors import GraderError, InvalidSubmission
from grader.grade import Options, grade
from grader.limits import NOTEBOOK_CELL_SECONDS, NOTEBOOK_CPU_SECONDS
from grader.notebook import is_driver, notebook_to_source

import notebook_habits

GRADER = ROOT / "grader"


def run_cells(tmp_path, cells, options=None, tags=None):
    """Run cells through nbrun in a fresh interpreter in tmp_path; (report, notes, stdout, stderr)."""
    cells = [{"index": number, "source": source, "tags": (tags or {}).get(number, [])}
             for number, source in enumerate(cells, start=1)]
    program = textwrap.dedent(f"""\
        import json, sys
        sys.path.insert(0, {str(GRADER)!r})
        import nbrun
        del sys.path[0]
        nbrun.configure({options or {}!r})
        namespace = {{"__name__": "notebook_under_test"}}
        nbrun.run_notebook({cells!r}, namespace)
        print("REPORT" + json.dumps([namespace["__grader_cells__"], namespace["__grader_notes__"]]))
        """)
    done = subprocess.run([sys.executable, "-I", "-B", "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    printed, _, report = done.stdout.partition("REPORT")
    cells, notes = json.loads(report)
    return {c["index"]: c for c in cells}, notes, printed, done.stderr


# --- nbrun ---------------------------------------------------------------------------

def test_an_error_costs_its_cell_and_lines_count_from_the_cell(tmp_path):
    cells, notes, printed, stderr = run_cells(tmp_path, [
        "import math\nx = 1",
        "\n\ndef f():\n    return 1 / 0\n\nf()",
        "y = x + 1",
        "%%time\n\ndef g():\n    return undefined_name\ng()",
        "z = (",
        "%%capture out\nprint(1)\nraise ValueError('hidden by capture')",
        "assert y == 2 and callable(g)",
    ])
    assert [c["status"] for c in cells.values()] == ["ok", "error", "ok", "error", "error", "error", "ok"]
    assert cells[2]["message"] == "ZeroDivisionError: division by zero (line 4)" and cells[2]["line"] == 4
    assert cells[4]["line"] == 4 and "NameError: name 'undefined_name' is not defined" in cells[4]["message"]
    assert cells[5]["message"].startswith("SyntaxError") and cells[5]["line"] == 1
    assert cells[5]["message"].endswith(f"; the grader runs Python {sys.version_info[0]}.{sys.version_info[1]}")
    assert cells[6]["message"] == "ValueError: hidden by capture (line 3)"
    assert cells[2]["first_line"] == "def f():" and notes == []
    assert printed == "" and stderr == ""      # what cells print stays in the notebook


def test_shell_escapes_and_magics_never_run(tmp_path):
    other = tmp_path / "other.py"
    other.write_text("open('ran-other', 'w').close()\n")
    cells, notes, _, _ = run_cells(tmp_path, [
        "!touch ran-bang\nfiles = !ls\n%system touch ran-system\n%sx touch ran-sx",
        "%%bash\ntouch ran-bash",
        "%%sh\ntouch ran-sh",
        "%%script bash\ntouch ran-script",
        "%%python3\nopen('ran-python3', 'w').close()",
        "get_ipython().system('touch ran-ipython')\nget_ipython().getoutput('touch ran-getoutput')\n"
        "get_ipython().run_cell_magic('bash', '', 'touch ran-cell-magic')",
        "%pip install numpy\n%conda install numpy\n%run other.py\n%load other.py\n%ls\n%cat other.py",
        "after = files",
    ])
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("ran-")]
    assert [c["status"] for c in cells.values()] == ["escaped"] * 7 + ["ok"]
    assert len(notes) == 7 and notes[0].startswith("cell 1: not run (shell commands")
    assert "`!touch ran-bang`" in notes[0] and "`%%bash`" in notes[1] and "`%run other.py`" in notes[6]


def test_input_raises_and_display_help_and_plots_work(tmp_path):
    cells, _, printed, stderr = run_cells(tmp_path, [
        "name = input('your name? ')",
        "from IPython.display import Markdown, display\nimport numpy as np\n"
        "display(Markdown('**hi**'), np.arange(3))\nget_ipython().run_line_magic('precision', '3')",
        "help(np.sum)\nnp.mean?\n%pinfo display",
        "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2])\nplt.show()\nimport matplotlib\nbackend = matplotlib.get_backend()",
        "import os\nassert backend.lower() == 'agg', backend\n"
        "assert os.environ['MPLCONFIGDIR'].startswith(os.getcwd() + '/.grader-notebook-')\n"
        "assert not plt.get_fignums()",
    ])
    assert cells[1]["status"] == "error" and cells[1]["message"] == \
        "InputNotAvailable: input() is not available during grading (line 1)"
    assert all(cells[n]["status"] == "ok" for n in (2, 3, 4, 5)), cells
    assert printed == "" and stderr == ""


def test_a_stuck_cell_is_interrupted_and_the_next_one_runs(tmp_path):
    cells, _, _, _ = run_cells(tmp_path, [
        "import nbrun\nrunning = nbrun.current_cell()",
        "while True:\n    pass",
        "import time\ntime.sleep(600)",
        "after = running",
    ], options={"cell_budget": 0.5})
    assert cells[2]["status"] == "interrupted" and "of CPU time (each cell may use 0.5 s)" in cells[2]["message"]
    assert cells[3]["status"] == "interrupted" and "waiting" in cells[3]["message"]
    assert cells[4]["status"] == "ok"


def test_skipped_and_tagged_cells(tmp_path):
    cells, _, _, _ = run_cells(tmp_path, [
        "a = 1", "while True:\n    pass", "raise ValueError('shown on purpose')", "b = 2\nraise KeyError('x')",
        "assert a == 1 and b == 2",
    ], options={"skip": [2]}, tags={3: ["raises-exception"], 4: ["skip-execution"]})
    assert cells[2]["status"] == "interrupted" and "without this cell" in cells[2]["message"]
    assert cells[3]["status"] == "ok" and "raises-exception" in cells[3]["message"]
    assert cells[4]["status"] == "skipped"
    assert cells[5]["status"] == "error"        # b was never defined: skip-execution is honoured


def test_system_exit_ends_run_all_with_a_note_naming_the_cell(tmp_path):
    cells, notes, _, _ = run_cells(tmp_path, [
        "def fit():\n    return 1", "print('hello')\nimport sys\nsys.exit(3)", "def fit():\n    raise ValueError",
        "fit = None"])
    assert [c["status"] for c in cells.values()] == ["ok", "ok", "stopped", "stopped"]
    assert cells[2]["message"].startswith("raised SystemExit (line 3)") and cells[2]["line"] == 3
    assert cells[3]["message"] == "not run: Run All stopped at cell 2 (SystemExit)"
    assert notes == ["cell 2 raised SystemExit, which ends Run All as in Jupyter: the 2 code cell(s) below it "
                     "were not run"]


def test_the_working_folder_is_on_sys_path_and_the_driver_never_shadows_a_written_module(tmp_path):
    program = textwrap.dedent(f"""\
        import json, sys, types
        sys.path.insert(0, {str(GRADER)!r})
        import nbrun
        del sys.path[0]
        driver = types.ModuleType("polyfit")
        sys.modules["polyfit"] = driver
        cells = [{{"index": 1, "source": "%%writefile polyfit.py\\ndef fit():\\n    return 42\\n", "tags": []}},
                 {{"index": 2, "source": "%%writefile helpers.py\\nSCALE = 2\\n", "tags": []}},
                 {{"index": 3, "source": "from polyfit import *\\nfrom helpers import SCALE", "tags": []}},
                 {{"index": 4, "source": "from grader import check\\ncheck('polyfit')", "tags": []}}]
        nbrun.run_notebook(cells, driver.__dict__)
        print(json.dumps([[c["status"] for c in driver.__grader_cells__], driver.fit(), driver.SCALE,
                          sys.modules["polyfit"] is driver]))
        """)
    done = subprocess.run([sys.executable, "-I", "-B", "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [["ok"] * 4, 42, 2, True]


def test_a_package_outside_the_environment_costs_only_what_uses_it(tmp_path):
    cells, notes, _, _ = run_cells(tmp_path, [
        "import numpy as np\nimport wandb\nfrom google.colab import drive\nfrom nopackage.sub import thing\nx = 1",
        "drive.mount('/content/drive')",
        "thing(3)",
        "import pandas\nimport importlib\ntry:\n    importlib.import_module('another_missing')\n"
        "except ImportError:\n    fallback = True",
        "try:\n    import google.colab\n    IN_COLAB = True\nexcept (ValueError, ImportError):\n    IN_COLAB = False",
        "assert fallback and not IN_COLAB",
    ], options={"environment": ["numpy", "pandas"]})
    assert [c["status"] for c in cells.values()] == ["ok", "error", "error", "ok", "ok", "ok"]
    assert cells[2]["message"] == ("ModuleNotFoundError: google is not in the grading environment, so "
                                   "`google.colab.drive.mount` cannot be used (the course's packages: numpy, "
                                   "pandas) (line 1)")
    assert "nopackage is not in the grading environment" in cells[3]["message"]
    assert notes == ["cell 1: `wandb`, `google`, `nopackage` not in the grading environment: the import went "
                     "through, and each use of it fails"]


def test_past_the_notebook_budget_only_the_cells_defining_what_the_tests_use_run_again(tmp_path):
    cells, notes, _, _ = run_cells(tmp_path, [
        "import numpy as np\nLR = 0.1",
        "%%writefile helpers.py\ndef scale(x):\n    return 2 * x",
        "from helpers import scale\nx = np.ones(3)",
        "def predict(X, w):\n    return scale(X) @ w",
        "class Fit:\n    def __call__(self, x):\n        return predict(x, x) * LR\nfit = Fit()",
        "for _ in range(10**9):\n    w = fit(x)",
        "w = fit(x)\nprint(w)",
        "assert 'w' not in globals() and fit(np.ones(2)) == 0.8",
    ], options={"api": ["fit", "predict"], "definitions": True, "over_budget": 6, "notebook_budget": 60})
    assert [c["status"] for c in cells.values()] == ["ok"] * 5 + ["interrupted", "skipped", "skipped"]
    assert cells[6]["message"].startswith("was running when the notebook had used 60 s of CPU time in all")
    assert cells[7]["message"].startswith("an experiment: not run again")
    assert notes == ["the notebook used more than its CPU budget in all, so it was run again with only the "
                     "cells that define what the tests use; cells 6, 7, 8 were left out"]


def test_the_report_survives_a_reset(tmp_path):
    cells, _, _, _ = run_cells(tmp_path, ["a = 1", "%reset -f", "b = 2"])
    assert [c["status"] for c in cells.values()] == ["ok", "ok", "ok"]


# --- the driver, on the host ---------------------------------------------------------------

def _notebook(*sources, outputs=()):
    cells = [nbformat.v4.new_markdown_cell("# title")]
    cells += [nbformat.v4.new_code_cell(s, outputs=list(outputs)) for s in sources]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()


def test_the_driver_holds_the_code_cells_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    source, notes = notebook_to_source(_notebook(f"open({str(marker)!r}, 'w')", "%%time\nx = 1"), "hw.ipynb")
    assert is_driver(source) and not marker.exists() and notes == []
    call = ast.parse(source).body[-2].value
    cells = ast.literal_eval(call.args[0])
    assert [c["index"] for c in cells] == [2, 3] and cells[1]["source"] == "%%time\nx = 1"
    assert not is_driver(b"import numpy\n")


def test_outputs_are_dropped_and_notebooks_have_their_own_cap(tmp_path):
    image = {"image/png": "A" * (5 * 2**20), "text/plain": "<Figure>"}
    big = _notebook("x = 1", outputs=[nbformat.v4.new_output("display_data", data=image)])
    path = tmp_path / "polyfit.ipynb"
    path.write_bytes(big)
    source = submission.load(path, "polyfit").source
    assert len(source) < 2000 and b"AAAA" not in source
    path.write_bytes(big[:-2] + b" " * (submission.MAX_NOTEBOOK_BYTES - len(big) + 10) + big[-2:])
    with pytest.raises(InvalidSubmission, match="larger than 32 MiB"):
        submission.load(path, "polyfit")
    (tmp_path / "polyfit.py").write_bytes(b"#" * (submission.MAX_SOURCE_BYTES + 1))
    with pytest.raises(InvalidSubmission, match="larger than 2 MiB"):
        submission.load(tmp_path / "polyfit.py", "polyfit")


def test_cells_saved_out_of_order_get_a_note():
    cells = [nbformat.v4.new_code_cell("a = 1", execution_count=3), nbformat.v4.new_code_cell("b = 2", execution_count=1)]
    _, notes = notebook_to_source(nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode(), "hw.ipynb")
    assert notes == ["the notebook was saved after running its cells out of order; the grader runs them "
                     "from top to bottom, as Restart & Run All does"]


def test_the_classes_on_disk_are_what_the_builder_makes():
    for assignment, students in notebook_habits.classes().items():
        for name in students:
            handed, _ = notebook_habits.files(name, assignment)
            where = notebook_habits.path(name, assignment)
            on_disk = {f"{assignment}.ipynb": where.read_text()} if where.is_file() else \
                {p.name: p.read_text() for p in where.iterdir()}
            assert on_disk == handed, \
                f"{where} is stale: rebuild the classes with .venv/bin/python tests/notebook_habits.py"
    assert len(notebook_habits.HABITS) >= 12 and len(notebook_habits.ASSIGNMENTS) >= 4


# --- choosing the file, the environment ---------------------------------------------------

def test_the_worked_notebook_beats_an_untouched_stub_and_an_exported_script(tmp_path):
    stub = (ROOT / "assignments" / "polyfit" / "polyfit.py").read_text()
    notebook = notebook_habits.build("clean")[0]
    exported = notebook_habits.files("exported_script")[0]["polyfit.py"]
    reference = (ROOT / "reference" / "polyfit" / "polyfit.py").read_text()
    for case, script, graded in (("stub", stub, "notebook"), ("export", exported, "notebook"),
                                 ("worked", reference, "script")):
        folder = tmp_path / case
        folder.mkdir()
        (folder / "polyfit.py").write_text(script)
        (folder / "polyfit.ipynb").write_text(notebook)
        source, notes, chosen = submission.load(folder, "polyfit")
        assert chosen == notes[0]
        assert is_driver(source) == (graded == "notebook"), (case, notes)
        assert notes[0].startswith(f"graded polyfit.{'ipynb' if graded == 'notebook' else 'py'}: "), notes
        with zipfile.ZipFile(tmp_path / f"{case}.zip", "w") as archive:
            archive.writestr("hw/polyfit.py", script)
            archive.writestr("hw/polyfit.ipynb", notebook)
        zipped, zip_notes, _ = submission.load(tmp_path / f"{case}.zip", "polyfit")
        assert zipped == source and zip_notes[0] == f"in {case}.zip, {notes[0]}"
    for assignment in course.all_assignments():   # every stub counts as untouched, every reference as work
        assert submission._work([assignment.stub.read_text()]) == 0 < submission._work([assignment.reference.read_text()])
    assert "untouched stub" in submission.load(tmp_path / "stub", "polyfit")[1][0]
    assert "exported from a notebook" in submission.load(tmp_path / "export", "polyfit")[1][0]


def test_the_environment_is_declared_and_checked(tmp_path):
    assert course.load("polyfit").environment.allowed(("torch",)) == tuple(
        p for p in course.DEFAULT_PACKAGES if p != "torch")
    assert course.load("polyfit").environment.problems() == []    # make venv installs it
    (tmp_path / "course.toml").write_text('python = "2.7"\npackages = ["numpy", "no-such-package-xyz"]\n')
    declared = course.environment(tmp_path)
    assert declared.problems() == ["the course declares Python 2.7, but this is Python "
                                   f"{course.RUNNING_PYTHON}",
                                   "not installed: no-such-package-xyz (pip install no-such-package-xyz)"]
    assert course.environment(tmp_path, {"packages": ["numpy"]}).packages == ("numpy",)
    lacking = dataclasses.replace(course.load("polyfit"), environment=declared)
    with pytest.raises(GraderError, match="not the course's grading environment .*no-such-package-xyz"):
        batch.run(lacking, tmp_path, tmp_path / "out")


def test_a_py_importing_a_package_outside_the_environment_is_told_so(tmp_path):
    (tmp_path / "polyfit.py").write_text("import numpy as np\nimport wandb\n")
    data = grade(course.load("polyfit"), tmp_path / "polyfit.py", tmp_path / "out",
                 Options(sandbox=default_sandbox(), hidden=False, calibrate=False))
    assert "No module named 'wandb' (wandb is not in the grading environment: the handout lists the " \
           "packages you may import)" in data["tests"][0]["output"]


# --- data files ------------------------------------------------------------------------------

def _data_course(root):
    """A course whose assignment ships data/points.csv, and a suite that needs it loaded."""
    (root / "reference" / "demo").mkdir(parents=True)
    folder = root / "assignments" / "demo"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "points.csv").write_text("1,2\n3,4\n")
    (folder / "assignment.toml").write_text('title = "Demo"\ntest_timeout = 10\n')
    (root / "reference" / "demo" / "demo.py").write_text(
        "def total(points):\n    # BEGIN SOLUTION\n    return float(points.sum())\n    # END SOLUTION\n")
    (folder / "test_public.py").write_text(textwrap.dedent('''\
        def test_total(student):
            """total of the course's points"""
            assert student.total_of_data() == 10.0, "total_of_data() should be 10"

        def test_read_only(student):
            """the data cannot be changed"""
            assert student.can_write() is False, "data/ should be read-only"
        '''))
    return course.load("demo", root=root)


@pytest.mark.parametrize("sandbox", sorted({default_sandbox(), "none"}))
def test_a_notebook_reads_the_assignments_data_at_its_handout_path(tmp_path, request, sandbox):
    shared = Path(tempfile.mkdtemp(prefix="data-course-"))  # readable by a slot's uid, unlike tmp_path
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    shared.chmod(0o755)
    assignment = _data_course(shared)
    assert assignment.limits.data_folder == str(assignment.folder / "data")
    notebook = tmp_path / "demo.ipynb"
    notebook.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (
        "import numpy as np\npoints = np.loadtxt('data/points.csv', delimiter=',')",
        "def total_of_data():\n    return float(points.sum())",
        "def can_write():\n    try:\n        open('data/points.csv', 'a').close()\n        return True\n"
        "    except OSError:\n        return False",
    )])))
    data = grade(assignment, notebook, tmp_path / "out", Options(sandbox=sandbox, calibrate=False))
    got = {t["name"]: (t["status"], t["output"]) for t in data["tests"]}
    assert got["total of the course's points"] == ("passed", ""), got
    if sandbox != "none":  # the plain subprocess links the folder: laptops trust their own code
        assert got["the data cannot be changed"] == ("passed", ""), got


# --- the classes: correct answers with one habit each, graded as a batch -----------------------

ACCEPTANCE = ("stub_beside_notebook", "exported_script", "writefile_and_import", "budget_experiments")


def _batch(assignment, submissions, out):
    started = time.monotonic()
    done = run_cli("batch", assignment, submissions, "--out", out, "--jobs", "2",
                   "--sandbox", default_sandbox(), "--no-similarity", timeout=1500)
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"{assignment}: {submissions} took {time.monotonic() - started:.1f} s")
    return out


@pytest.fixture(scope="module")
def graded_classes(tmp_path_factory):
    """`grader batch ID tests/notebooks/ID --jobs 2` for each class, once for every test below."""
    out = tmp_path_factory.mktemp("notebook-classes")
    return {assignment: _batch(assignment, notebook_habits.CLASSES / assignment, out / assignment)
            for assignment in notebook_habits.ASSIGNMENTS}


def _named_cells(feedback):
    """Cell numbers the summary at the top of feedback.md names (before the test list)."""
    summary = feedback.split("\n- **", 1)[0]
    return sorted({int(n) for n in re.findall(r"\bcell (\d+)\b", summary)})


@pytest.mark.parametrize("assignment,name", [(a, n) for a, students in notebook_habits.classes().items()
                                             for n in sorted(students)])
def test_every_habit_gets_full_marks_and_feedback_names_its_failing_cells(graded_classes, assignment, name):
    data = json.loads((graded_classes[assignment] / name / "results.json").read_text())
    feedback = (graded_classes[assignment] / name / "feedback.md").read_text()
    assert data["score"] == data["extra_data"]["max_score"] > 0, feedback
    assert data["extra_data"]["status"] == "ok"
    assert _named_cells(feedback) == notebook_habits.files(name, assignment)[1], feedback
    assert "Your code printed" not in feedback     # what cells print stays in the notebook
    if len(notebook_habits.files(name, assignment)[0]) > 1:   # a folder: feedback says which file and why
        assert data["extra_data"]["notes"][0].startswith(f"graded {assignment}.ipynb: "), feedback
        assert data["extra_data"]["chosen"] == data["extra_data"]["notes"][0]


def test_a_stuck_cell_costs_its_budget_only_and_experiments_past_the_budget_cost_it_once(graded_classes):
    spent = {name: json.loads((graded_classes["polyfit"] / name / "results.json").read_text())["extra_data"]["import_cpu"]
             for name in notebook_habits.classes()["polyfit"]}
    assert NOTEBOOK_CELL_SECONDS <= spent.pop("stuck_experiment") < NOTEBOOK_CELL_SECONDS + 5
    assert NOTEBOOK_CPU_SECONDS <= spent.pop("budget_experiments") < NOTEBOOK_CPU_SECONDS + 10
    assert max(spent.values()) < 5, spent


def test_the_report_counts_students_with_failing_cells(graded_classes):
    page = (graded_classes["polyfit"] / "report.html").read_text()
    students = notebook_habits.classes()["polyfit"]
    notes_only = ("shell_escapes", "system_exit_marker")   # their Python ran to the end, or to SystemExit
    failing = [n for n in students if n not in notes_only and notebook_habits.files(n)[1]]
    assert len(failing) == 8
    assert f'notebooks with failing cells<b>{len(failing)}</b>of {len(students)}' in page
    table = page.split('id="failing-cells"', 1)[1].split("</table>", 1)[0]
    assert sorted(re.findall(r"<tr><td>([a-z_]+)</td>", table)) == sorted(failing)
    chosen = page.split('id="chosen-files"', 1)[1].split("</table>", 1)[0]   # for the instructor, too
    assert sorted(re.findall(r"<tr><td>([a-z_]+)</td>", chosen)) == ["exported_script", "stub_beside_notebook"]


def test_the_acceptance_class_gets_the_same_full_marks_beside_two_cpu_hogs(graded_classes, tmp_path):
    """Stub beside notebook, exported script beside notebook, writefile-and-import, experiments past
    the budget: full marks idle (graded_classes) and beside two busy loops, decided by CPU time."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ACCEPTANCE:
        where = notebook_habits.path(name)
        (shutil.copytree if where.is_dir() else shutil.copy)(where, folder / where.name)
    hogs = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 900\n"
                              "while time.time() < end: pass"]) for _ in range(2)]
    try:
        busy = _batch("polyfit", folder, tmp_path / "busy")
    finally:
        for hog in hogs:
            hog.kill()
    for name in ACCEPTANCE:
        idle_data = json.loads((graded_classes["polyfit"] / name / "results.json").read_text())
        busy_data = json.loads((busy / name / "results.json").read_text())
        for data in (idle_data, busy_data):
            assert data["score"] == data["extra_data"]["max_score"] > 0 and data["extra_data"]["status"] == "ok", name
        assert [c["status"] for c in busy_data["extra_data"]["cells"]] == \
            [c["status"] for c in idle_data["extra_data"]["cells"]], name


# --- check() from inside a notebook, in a real Jupyter kernel ------------------------------------

def test_check_runs_the_public_tests_on_the_kernels_definitions(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    cells = notebook_habits.clean()[0] + [
        nbformat.v4.new_code_cell("from grader import check\nall_passed = check('polyfit')"),
        nbformat.v4.new_code_cell("def fit(x, y, degree=3, lr=0.1, steps=5000):\n    raise NotImplementedError"),
        nbformat.v4.new_code_cell("check('polyfit')"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                                             "display_name": "Python 3"}})
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, second = ("".join(o.get("text", "") for o in notebook.cells[n].outputs if o.get("name") == "stdout")
                     for n in (-3, -1))
    assert "5 of 5 public tests passed." in first and "PASS  fit:" in first, first
    assert "Hidden tests (23 more, 27 points) will also be run" in first
    assert "4 of 5 public tests passed." in second and "FAIL  fit:" in second, second
    assert "fit is not implemented yet" in second
