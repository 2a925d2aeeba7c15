"""The notebook classes: correct answers, each notebook with one habit students have.

Every notebook here holds the reference solution (reference/ID/ID.py, split
into cells as a student would) plus one habit that Jupyter or Colab
tolerates: each must get full marks, and its feedback must name the cells
that failed. `python tests/notebook_habits.py` writes them to
tests/notebooks/ID/ (the class `grader batch ID tests/notebooks/ID` grades);
test_notebooks.py checks that the files there are what this module builds.

HABITS maps a student (the notebook's name) to its builder for polyfit; the
habits of issue 21 (NEW_HABITS: the working folder, choosing the file,
experiments past the budget, the environment, SystemExit and check()) are
built for four assignments (ASSIGNMENTS). A builder returns (cells, the cells
whose feedback must say they did not run as in Jupyter), or, for a student
who hands in a folder, (cells, failing, {other file: its text}).
"""
import ast
import base64
import struct
import sys
import zlib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "polyfit" / "polyfit.py"
CLASSES = ROOT / "tests" / "notebooks"
CLASS = CLASSES / "polyfit"
ASSIGNMENTS = ("polyfit", "backprop", "modules", "training")


def solution(assignment: str = "polyfit") -> dict[str, str]:
    """The reference, without its solution markers: {"imports": ..., "<function>": ..., ...}."""
    path = ROOT / "reference" / assignment / f"{assignment}.py"
    text = "\n".join(line for line in path.read_text().splitlines()
                     if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))
    tree = ast.parse(text)
    parts = {"imports": "\n".join(ast.get_source_segment(text, n) for n in tree.body
                                  if isinstance(n, (ast.Import, ast.ImportFrom)))}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            parts[node.name] = ast.get_source_segment(text, node)
    return parts


FUNCTIONS = ("poly_features", "predict", "mse_loss", "mse_grad", "gd_step", "fit")
DATA = "x = np.linspace(-np.pi, np.pi, 2000)\ny = np.sin(x)"
TRAIN = "w, losses = fit(x, y)\nprint(f'final loss {losses[-1]:.5f}')"


def _all_functions() -> str:
    parts = solution()
    return "\n\n\n".join(parts[f] for f in FUNCTIONS)


def _md(text):
    return nbformat.v4.new_markdown_cell(text)


def _code(source, tags=(), count=None, outputs=()):
    cell = nbformat.v4.new_code_cell(source, execution_count=count, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _numbered(cells):
    """Give the code cells the execution counts of a top-to-bottom run."""
    count = 0
    for cell in cells:
        if cell.cell_type == "code" and cell.execution_count is None:
            count += 1
            cell.execution_count = count
    return cells


def _head():
    return [_md("# Polynomial regression by gradient descent"), _code(solution()["imports"])]


def _png(width, height):
    """A valid, uncompressed (stored) grey PNG: large, yet almost nothing in git."""
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    blocks, level = [], zlib.compressobj(0)
    blocks.append(level.compress(raw) + level.flush())

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(blocks)) + chunk(b"IEND", b"")


def clean():
    return _numbered(_head() + [_code(_all_functions()), _code(DATA), _code(TRAIN)]), []


def display_and_plots():
    cells = _head() + [
        _code("%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\nimport matplotlib.pyplot as plt"),
        _code(_all_functions()), _code(DATA), _code(TRAIN),
        _code("display(w)\nw"),
        _code("plt.plot(losses)\nplt.yscale('log')\nplt.title('training loss')\nplt.show()"),
        _code("fig, ax = plt.subplots()\nax.scatter(x, y, s=2)\nax.plot(x, predict(poly_features(x, 3), w), 'r')\nfig"),
    ]
    return _numbered(cells), []


def ipython_imports():
    cells = _head() + [
        _code("from IPython.display import Markdown, HTML, Latex, display, clear_output\n"
              "from IPython import get_ipython\nget_ipython().run_line_magic('precision', '4')"),
        _code(_all_functions()), _code(DATA), _code(TRAIN),
        _code("display(Markdown(f'**final loss**: {losses[-1]:.4f}'))\ndisplay(HTML('<b>done</b>'))\n"
              "clear_output(wait=True)\nLatex(r'$w = ' + str(w.round(2)) + '$')"),
    ]
    return _numbered(cells), []


def missing_data_file():
    cells = _head() + [
        _code(_all_functions()),
        _code("data = np.loadtxt('/Users/alice/Downloads/polyfit_samples.csv', delimiter=',')\n"
              "x, y = data[:, 0], data[:, 1]"),
        _code("w, losses = fit(x, y)"),
    ]
    return _numbered(cells), [4, 5]


def input_prompt():
    cells = _head() + [
        _code(_all_functions()), _code(DATA),
        _code("degree = int(input('which degree? '))\nw, losses = fit(x, y, degree=degree)"),
    ]
    return _numbered(cells), [5]


def shell_escapes():
    cells = [_md("# Polynomial regression"),
             _code("!pip install numpy matplotlib\n%pip install --quiet tqdm\n!ls -la"),
             _code(solution()["imports"] + "\nfiles = !ls\nprint(files)"),
             _code("%%bash\necho 'hello from bash'\nnvidia-smi"),
             _code(_all_functions()), _code(DATA), _code(TRAIN)]
    return _numbered(cells), [2, 3, 4]


def stuck_experiment():
    cells = _head() + [
        _code(_all_functions()), _code(DATA),
        _md("Let it run and stop it when the loss looks good."),
        _code("best = None\nwhile True:\n    for lr in (1e-3, 3e-3, 5e-3):\n"
              "        w, losses = fit(x, y, lr=lr, steps=500)\n"
              "        best = min(best or losses[-1], losses[-1])"),
        _code(TRAIN),
    ]
    return _numbered(cells), [6]


def scratch_raises():
    cells = _head() + [
        _code(_all_functions()),
        _code("# scratch: does the gradient work on a tiny case?\nX = np.ones((3, 2))\n"
              "mse_grad(X, np.zeros(4), np.zeros(3))"),
        _code(DATA), _code(TRAIN),
        _code("assert losses[-1] < 1e-9, 'not good enough yet'"),
    ]
    return _numbered(cells), [4, 7]


def spread_definitions():
    parts = solution()
    cells = [_md("# Polynomial regression"), _code(parts["imports"])]
    for name in FUNCTIONS:
        cells += [_md(f"## `{name}`"), _code(parts[name])]
        if name == "poly_features":
            cells.append(_code("poly_features(np.array([1.0, 2.0]), 2)"))
    cells += [_code(DATA), _code(TRAIN)]
    return _numbered(cells), []


def help_and_inspect():
    cells = _head() + [
        _code(_all_functions()),
        _code("help(fit)"),
        _code("fit?"),
        _code("poly_features??\n%pinfo mse_grad\nnp.linalg.lstsq?"),
        _code(DATA), _code(TRAIN),
    ]
    return _numbered(cells), []


def timed_definition():
    parts = solution()
    others = "\n\n\n".join(parts[f] for f in FUNCTIONS if f != "fit")
    cells = _head() + [
        _code(others), _code(DATA),
        _code("%%time\n\n" + parts["fit"] + "\n\n\nw, losses = fit(x, y)\nlosses[-1]"),
        _code("%time w, losses = fit(x, y, steps=100)\n%timeit -n 1 -r 1 predict(poly_features(x, 3), w)"),
        _code("%%capture captured\nprint('training...')\nw, losses = fit(x, y)"),
    ]
    return _numbered(cells), []


def out_of_order():
    parts = solution()
    cells = [
        _md("# Polynomial regression"),
        _code(parts["imports"], count=1),
        _code(DATA + "\n" + TRAIN, count=9),
        _code("\n\n\n".join(parts[f] for f in FUNCTIONS if f != "fit"), count=2),
        _code(parts["fit"], count=7),
    ]
    return cells, [3]


def big_image_output():
    image = base64.b64encode(_png(1600, 3200)).decode()
    plot = _code("import matplotlib.pyplot as plt\nplt.figure(figsize=(16, 32))\nplt.plot(losses)\nplt.show()",
                 outputs=[nbformat.v4.new_output("display_data", data={"image/png": image,
                                                                      "text/plain": "<Figure>"})])
    cells = _head() + [_code(_all_functions()), _code(DATA), _code(TRAIN), plot]
    return _numbered(cells), []


def tagged_cells():
    cells = _head() + [
        _code(_all_functions()), _code(DATA),
        _code("# takes an hour on my laptop\nfor _ in range(10**9):\n    fit(x, y, steps=20000)",
              tags=["skip-execution"]),
        _code("# shows what a shape mistake looks like\npredict(np.ones((3, 2)), np.ones(5))",
              tags=["raises-exception"]),
        _code(TRAIN),
    ]
    return _numbered(cells), [5]


# --- issue 21: the habits of Colab, Kaggle and JupyterLab, for four assignments -----------

def _definitions(assignment):
    parts = solution(assignment)
    return "\n\n\n".join(source for name, source in parts.items() if name != "imports")


def _worked(assignment):
    """Imports, then the definitions: a notebook with the student's work."""
    return [_md(f"# {assignment}"), _code(solution(assignment)["imports"]), _code(_definitions(assignment))]


def writefile_and_import(assignment):
    """%%writefile ID.py then `from ID import *`: the module has the assignment's own name."""
    parts = solution(assignment)
    cells = [_md(f"# {assignment}: my code lives in a module"),
             _code(f"%%writefile {assignment}.py\n{parts['imports']}\n\n\n{_definitions(assignment)}\n"),
             _code(f"from {assignment} import *"),
             _code("%%writefile notes.txt\nlearning rate 0.1 worked best"),
             _code("with open('notes.txt') as handle:\n    notes = handle.read()\nprint(notes)")]
    return _numbered(cells), []


def stub_beside_notebook(assignment):
    """The folder holds the untouched stub ID.py beside the worked ID.ipynb."""
    stub = (ROOT / "assignments" / assignment / f"{assignment}.py").read_text()
    return _numbered(_worked(assignment)), [], {f"{assignment}.py": stub}


def exported_script(assignment):
    """`jupyter nbconvert --to script` left ID.py (it calls get_ipython()) beside the notebook."""
    cells = _worked(assignment) + [_code("%matplotlib inline\nimport matplotlib.pyplot as plt")]
    script = "#!/usr/bin/env python\n# coding: utf-8\n\n"
    for cell in cells:
        if cell.cell_type == "code":
            body = cell.source.replace("%matplotlib inline", "get_ipython().run_line_magic('matplotlib', 'inline')")
            script += f"# In[{cell.execution_count or ' '}]:\n\n\n{body}\n\n\n"
    return _numbered(cells), [], {f"{assignment}.py": script}


BURN = ("# experiment {n}: another setting\nimport time\nstart = time.process_time()\n"
        "while time.process_time() - start < {seconds}:\n    trial = sum(i * i for i in range(1000))")


def budget_experiments():
    """Seven experiment cells, each under the cell budget, together past the notebook's."""
    cells = _head() + [_code(_all_functions()), _code(DATA)]
    cells += [_code(BURN.format(n=n, seconds=9)) for n in range(1, 8)]
    cells += [_code(TRAIN)]
    return _numbered(cells), list(range(4, 13))


TRAINING = {"polyfit": "fit", "backprop": "train", "training": "fit"}   # what a progress bar wraps


def colab_environment(assignment):
    """Colab's stack in the import cell, a package the grader lacks, Drive, tqdm.notebook (in the
    training function the tests call too), 3.12 f-strings."""
    bar = [] if assignment not in TRAINING else [_code(
        f"_plain = {TRAINING[assignment]}\n\n\ndef {TRAINING[assignment]}(*args, **kwargs):\n"
        "    for _ in tqdm(range(1), desc='training'):\n        result = _plain(*args, **kwargs)\n    return result")]
    cells = [_md(f"# {assignment}"),
             _code("import pandas as pd\nimport seaborn as sns\nimport wandb\nfrom sklearn.metrics import r2_score\n"
                   "from tqdm.notebook import tqdm\nimport ipywidgets as widgets\n" + solution(assignment)["imports"]),
             _code("from google.colab import drive\ndrive.mount('/content/drive')"),
             _code(_definitions(assignment)),
             _code("frame = pd.DataFrame({'epoch': range(3), 'loss': [3.0, 2.0, 1.5]})\n"
                   "for _ in tqdm(range(3), desc='epochs'):\n    pass\nsns.lineplot(data=frame, x='epoch', y='loss')"),
             _code("wandb.init(project='homework')"),
             _code("name = 'loss'\nprint(f\"{frame[\"loss\"].min():.3f} is the best {name}\")")] + bar
    return _numbered(cells), [2, 3, 6, 7]


def system_exit_marker(assignment):
    """check() after the work, then `raise SystemExit` above an old attempt that would undo it."""
    first = next(name for name in solution(assignment) if name != "imports")
    cells = _worked(assignment) + [
        _code(f"from grader import check\ncheck({assignment!r})"),
        _md("## old attempts (do not run)"),
        _code("raise SystemExit('stop here')"),
        _code(f"def {first}(*args, **kwargs):\n    raise NotImplementedError('my first try')"),
        _code(f"{first} = None"),
    ]
    return _numbered(cells), [6]


NEW_HABITS = {"writefile_and_import": writefile_and_import, "stub_beside_notebook": stub_beside_notebook,
              "exported_script": exported_script, "colab_environment": colab_environment,
              "system_exit_marker": system_exit_marker}


HABITS = {name: builder for name, builder in [
    ("clean", clean), ("display_and_plots", display_and_plots), ("ipython_imports", ipython_imports),
    ("missing_data_file", missing_data_file), ("input_prompt", input_prompt),
    ("shell_escapes", shell_escapes), ("stuck_experiment", stuck_experiment),
    ("scratch_raises", scratch_raises), ("spread_definitions", spread_definitions),
    ("help_and_inspect", help_and_inspect), ("timed_definition", timed_definition),
    ("out_of_order", out_of_order), ("big_image_output", big_image_output),
    ("tagged_cells", tagged_cells)]}


def classes() -> dict[str, dict]:
    """{assignment: {student: builder of no arguments}}: polyfit's old and new habits, the new for three more."""
    found = {}
    for assignment in ASSIGNMENTS:
        students = dict(HABITS) if assignment == "polyfit" else {}
        if assignment == "polyfit":
            students["budget_experiments"] = budget_experiments
        for name, builder in NEW_HABITS.items():
            students[name] = (lambda b=builder, a=assignment: b(a))
        found[assignment] = students
    return found


def build(name: str, assignment: str = "polyfit") -> tuple[str, list[int]]:
    """(the notebook's JSON text, the cells its feedback must name)."""
    return files(name, assignment)[0][f"{assignment}.ipynb"], files(name, assignment)[1]


def files(name: str, assignment: str = "polyfit") -> tuple[dict[str, str], list[int]]:
    """({file name: text} of what the student hands in, the cells its feedback must name)."""
    cells, failing, *others = classes()[assignment][name]()
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{name[:20]}-{number}"  # stable ids: the files do not change between builds
    return {f"{assignment}.ipynb": nbformat.writes(notebook), **(others[0] if others else {})}, failing


def path(name: str, assignment: str = "polyfit", folder: Path = CLASSES) -> Path:
    """Where the student's submission lies: NAME.ipynb, or a folder NAME/ with several files."""
    handed, _ = files(name, assignment)
    return folder / assignment / (name if len(handed) > 1 else f"{name}.ipynb")


def write_classes(folder: Path = CLASSES) -> None:
    for assignment, students in classes().items():
        for name in students:
            handed, _ = files(name, assignment)
            target = path(name, assignment, folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            if len(handed) == 1:
                target.write_text(handed[f"{assignment}.ipynb"])
                continue
            target.mkdir(exist_ok=True)
            for file_name, text in handed.items():
                (target / file_name).write_text(text)


if __name__ == "__main__":
    write_classes(Path(sys.argv[1]) if len(sys.argv) > 1 else CLASSES)
