"""The notebook class: correct polyfit answers, each notebook with one habit students have.

Every notebook here holds the reference solution (reference/polyfit/polyfit.py,
split into cells as a student would) plus one habit that Jupyter tolerates:
each must get full marks, and its feedback must name the cells that failed.
`python tests/notebook_habits.py` writes them to tests/notebooks/ (the class
`grader batch polyfit tests/notebooks` grades); test_notebooks.py checks that
the files there are what this module builds.

HABITS maps a student (the notebook's name) to the cells (numbered from 1,
markdown included) whose feedback must say they did not run as in Jupyter.
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
CLASS = ROOT / "tests" / "notebooks"


def solution() -> dict[str, str]:
    """The reference, without its solution markers: {"imports": ..., "<function>": ..., ...}."""
    text = "\n".join(line for line in REFERENCE.read_text().splitlines()
                     if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))
    tree = ast.parse(text)
    parts = {"imports": "\n".join(ast.get_source_segment(text, n) for n in tree.body
                                  if isinstance(n, (ast.Import, ast.ImportFrom)))}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
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


HABITS = {name: builder for name, builder in [
    ("clean", clean), ("display_and_plots", display_and_plots), ("ipython_imports", ipython_imports),
    ("missing_data_file", missing_data_file), ("input_prompt", input_prompt),
    ("shell_escapes", shell_escapes), ("stuck_experiment", stuck_experiment),
    ("scratch_raises", scratch_raises), ("spread_definitions", spread_definitions),
    ("help_and_inspect", help_and_inspect), ("timed_definition", timed_definition),
    ("out_of_order", out_of_order), ("big_image_output", big_image_output),
    ("tagged_cells", tagged_cells)]}


def build(name: str) -> tuple[str, list[int]]:
    """(the notebook's JSON text, the cells its feedback must name)."""
    cells, failing = HABITS[name]()
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{name[:20]}-{number}"  # stable ids: the files do not change between builds
    return nbformat.writes(notebook), failing


def write_class(folder: Path = CLASS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in HABITS:
        (folder / f"{name}.ipynb").write_text(build(name)[0])


if __name__ == "__main__":
    write_class(Path(sys.argv[1]) if len(sys.argv) > 1 else CLASS)
