"""`from grader import check; check("polyfit")`: the public tests, from inside a notebook.

It runs in the student's own Jupyter or Colab kernel. The cells that kernel
has run so far, in the order they ran (IPython's input history), become a
notebook that `python -m grader test ID` grades like any submission: the
same sandbox, the same cell-by-cell run, the same messages as `make test`,
and never "all passed" while hidden tests exist. Nothing of the grader is
imported into the kernel (the standard library only): the kernel's own
definitions are never graded next to the tests.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the student repository


def check(assignment: str, timeout: float = 900.0) -> bool:
    """Run assignment's public tests on what this notebook's kernel has run; print the results.

    True when every public test passed (hidden tests still run at grading).
    """
    cells = _history()
    with tempfile.TemporaryDirectory(prefix="grader-check-") as folder:
        notebook = os.path.join(folder, f"{assignment}.ipynb")
        with open(notebook, "w", encoding="utf-8") as handle:
            json.dump(_notebook(cells), handle)
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
        environment.setdefault("GRADER_COURSE_ROOT", ROOT)
        done = subprocess.run([sys.executable, "-m", "grader", "test", assignment, notebook],
                              capture_output=True, text=True, timeout=timeout, env=environment, cwd=folder)
    print(done.stdout.rstrip())
    if done.returncode not in (0, 1) or done.stderr.strip():
        print(done.stderr.rstrip(), file=sys.stderr)
    return done.returncode == 0


def _history() -> list[str]:
    """The cells this kernel has run, oldest first (IPython's raw input history)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        raise RuntimeError("check() runs inside a Jupyter or Colab notebook; elsewhere run "
                           "`python -m grader test ID FILE`") from None
    return [cell for cell in shell.history_manager.input_hist_raw[1:] if cell.strip()]


def _notebook(cells: list[str]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": f"cell-{n}", "metadata": {}, "execution_count": None,
                       "outputs": [], "source": source} for n, source in enumerate(cells)]}
