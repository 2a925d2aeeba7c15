"""A 20-submission polyfit class shaped like a real one, written both ways:
DIR/<student>.py modules for `grader batch`, and DIR/<student>.ipynb notebooks
for Otter (the same source, split into one cell per top-level definition, as
a student's notebook would be).

The mix (issue 11): 6 correct variants, 4 realistic bugs, the unanswered stub,
a syntax error, an infinite loop in `fit`, sys.exit(0) and os._exit(0) after
correct code, a patched numpy.allclose, an attempt on the test runner, a glob
of the whole filesystem at import, one that kills its parent, and zero stubs.
Usage: python bench/polyfit_class.py OUT_DIR   (writes OUT_DIR/modules and OUT_DIR/notebooks)
"""
import ast
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CORRECT = ROOT / "tests" / "corpus" / "polyfit" / "correct"
BUGGY = ROOT / "tests" / "corpus" / "polyfit" / "buggy"
EXAMPLES = ROOT / "examples" / "polyfit"
REFERENCE = ROOT / "reference" / "polyfit" / "polyfit.py"
STUB = ROOT / "assignments" / "polyfit" / "polyfit.py"

# The two that never finish on their own: every grader must stop them.
HANGS = {"infinite_loop_in_fit", "glob_filesystem_at_import"}

LOOPING_FIT = '''def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    """Fit by gradient descent (never returns)."""
    X = poly_features(x, degree)
    while True:
        pass
'''

ZERO_STUBS = '''"""Every function returns zeros of the right shape."""
import numpy as np


def poly_features(x, degree):
    return np.zeros((len(x), degree + 1))


def predict(X, w):
    return np.zeros(X.shape[0])


def mse_loss(y_pred, y):
    return 0.0


def mse_grad(X, w, y):
    return np.zeros_like(w)


def gd_step(X, w, y, lr):
    return np.array(w, copy=True)


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    return np.zeros(degree + 1), [0.0] * steps
'''

PATCH_ALLCLOSE = '''
# every comparison passes from now on
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
'''

RUNNER_ATTACK = '''
# attack on the test runner: a conftest.py that marks every test passed,
# written wherever it may be picked up, and pytest's failure functions disarmed
import os as _os
_CONFTEST = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""
for _folder in {_os.getcwd(), _os.path.dirname(_os.path.abspath(globals().get("__file__", "x")))}:
    try:
        with open(_os.path.join(_folder, "conftest.py"), "w") as _file:
            _file.write(_CONFTEST)
    except OSError:
        pass
try:
    import _pytest.outcomes
    import pytest
    pytest.fail = _pytest.outcomes.fail = lambda *args, **kwargs: None
except ImportError:
    pass
'''

GLOB_AT_IMPORT = '''
# looks at every file on the machine at import
import glob
_EVERYTHING = glob.glob("/**", recursive=True)
'''

KILL_PARENT = '''
# kills whatever started it
import os
os.kill(os.getppid(), 9)
'''


def solution(path: Path) -> str:
    """A source file without the reference's solution markers."""
    return "".join(line for line in path.read_text().splitlines(keepends=True)
                   if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))


def after_imports(source: str, code: str) -> str:
    """`code` inserted right after the module's `import numpy as np`."""
    return source.replace("import numpy as np\n", "import numpy as np\n" + code, 1)


def submissions() -> dict[str, str]:
    """student id -> module source, the 20 of the class in a fixed order."""
    reference = solution(REFERENCE)
    bob = (EXAMPLES / "bob.py").read_text()            # mse_grad forgets the factor 2
    looping = re.sub(r"def fit\(.*", LOOPING_FIT, reference, flags=re.S)
    assert "while True" in looping
    return {
        "correct_einsum": (CORRECT / "einsum.py").read_text(),
        "correct_loops": (CORRECT / "loops.py").read_text(),
        "correct_stacked": (CORRECT / "stacked.py").read_text(),
        "correct_vander": (CORRECT / "vander.py").read_text(),
        "correct_alice": (EXAMPLES / "alice.py").read_text(),
        "correct_complete": (EXAMPLES / "complete.py").read_text(),
        "bug_grad_no_factor_2": (BUGGY / "grad_no_factor_2.py").read_text(),
        "bug_loss_after_update": (BUGGY / "loss_after_update.py").read_text(),
        "bug_features_decreasing": (BUGGY / "features_decreasing.py").read_text(),
        "bug_step_in_place": (BUGGY / "step_in_place.py").read_text(),
        "unanswered_stub": STUB.read_text(),
        "syntax_error": (EXAMPLES / "broken.py").read_text(),
        "infinite_loop_in_fit": looping,
        "sys_exit_after_correct": reference + "\nimport sys\nsys.exit(0)\n",
        "os_exit_after_correct": reference + "\nimport os\nos._exit(0)\n",
        "patched_allclose": after_imports(bob, PATCH_ALLCLOSE),
        "attack_on_test_runner": after_imports(bob, RUNNER_ATTACK),
        "glob_filesystem_at_import": after_imports(reference, GLOB_AT_IMPORT),
        "kills_parent": after_imports(reference, KILL_PARENT),
        "zero_stubs": ZERO_STUBS,
    }


def cells(source: str) -> list[str]:
    """The source split before each top-level statement (or comment) that follows a blank line.

    Statement starts come from the syntax tree, so a blank line inside a string
    never splits; a source that does not parse is split on the text alone.
    """
    lines = source.splitlines()
    try:
        starts = {node.lineno - 1 - len(getattr(node, "decorator_list", []))
                  for node in ast.parse(source).body}
    except SyntaxError:
        starts = {i for i, line in enumerate(lines) if line[:1] not in ("", " ", "\t")}
    starts |= {i for i, line in enumerate(lines) if line.startswith("#")}
    chunks, current = [], []
    for i, line in enumerate(lines):
        if i in starts and i > 0 and not lines[i - 1].strip() and any(c.strip() for c in current):
            chunks.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(c.strip() for c in current):
        chunks.append("\n".join(current).strip("\n"))
    return chunks


def notebook(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Polynomial regression by gradient descent")]
    nb.cells += [nbformat.v4.new_code_cell(chunk) for chunk in cells(source)]
    return nb


def write(out_dir: Path) -> tuple[Path, Path]:
    """Write the class as modules and as notebooks; return the two folders."""
    modules, notebooks = Path(out_dir) / "modules", Path(out_dir) / "notebooks"
    modules.mkdir(parents=True, exist_ok=True)
    notebooks.mkdir(parents=True, exist_ok=True)
    for student, source in submissions().items():
        (modules / f"{student}.py").write_text(source)
        nbformat.write(notebook(source), notebooks / f"{student}.ipynb")
    return modules, notebooks


if __name__ == "__main__":
    print(*write(Path(sys.argv[1])), sep="\n")
