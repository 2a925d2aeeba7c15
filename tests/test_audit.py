"""`grader audit`: mutants of the reference, equivalence on audit inputs, grading, reports.

The end-to-end test plants a deliberately weak suite in a tiny course of its
own (its gradient test compares values with np.allclose and never checks the
shape; tests/course is left as it is) and shows, through the command line,
that the audit reports the mutant that squeezes the gradient.
"""
import json
import textwrap

import numpy as np
import pytest

from conftest import default_sandbox, run_toy_cli
from grader.audit import operators
from grader.audit.equivalence import same
from grader.audit.mutants import generate, solution_lines

TOY_REFERENCE = '''\
"""A toy assignment: the gradient of a mean squared error."""
import numpy as np


def grad(X, w, y):
    """Gradient of mean((X w - y)**2) with respect to w, shape (d,)."""
    # BEGIN SOLUTION
    return 2.0 / len(y) * (X.T @ (X @ w - y))
    # END SOLUTION
'''

WEAK_HIDDEN_SUITE = '''\
import numpy as np
import pytest

from grader.checks import fail


@pytest.mark.points(2)
def test_grad_values(student, ref, rng):
    """grad: values against the reference"""
    X, w, y = rng.normal(size=(5, 1)), rng.normal(size=1), rng.normal(size=5)
    got, expected = student.grad(X, w, y), ref.grad(X, w, y)
    if not np.allclose(got, expected):          # weak: a (1,) gradient squeezed to () passes
        fail(f"grad: expected {expected}, got {got}")
'''

PUBLIC_SUITE = '''\
import numpy as np
import pytest


@pytest.mark.points(1)
def test_grad_runs(student):
    """grad: returns something for a 2x1 problem"""
    assert student.grad(np.ones((2, 1)), np.ones(1), np.zeros(2)) is not None
'''

AUDIT_INPUTS = '''\
from grader.audit.inputs import Call


def cases(rng):
    for n, d in ((1, 1), (4, 1), (4, 3)):
        yield Call("grad", rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n))
'''


@pytest.fixture
def toy_course(tmp_path):
    root = tmp_path / "course"
    handout, reference = root / "assignments" / "toy", root / "reference" / "toy"
    handout.mkdir(parents=True)
    reference.mkdir(parents=True)
    (handout / "assignment.toml").write_text(
        'title = "Toy gradient"\ntest_timeout = 10\nmemory_mb = 1024\nblocked_modules = ["torch"]\n')
    (handout / "toy.py").write_text(TOY_REFERENCE.replace(
        "    # BEGIN SOLUTION\n    return 2.0 / len(y) * (X.T @ (X @ w - y))\n    # END SOLUTION\n",
        "    raise NotImplementedError  # TODO: your code here\n"))
    (handout / "test_public.py").write_text(PUBLIC_SUITE)
    (reference / "toy.py").write_text(TOY_REFERENCE)
    (reference / "test_hidden.py").write_text(WEAK_HIDDEN_SUITE)
    (reference / "audit_inputs.py").write_text(AUDIT_INPUTS)
    return root


def test_audit_reports_the_mutant_a_weak_suite_lets_through(toy_course, tmp_path):
    out = tmp_path / "audit"
    run = run_toy_cli("audit", "toy", "--out", out, "--jobs", 2, "--sandbox", default_sandbox(),
                      "--operators", "insert_squeeze", "negate_result", "add_transpose", course_root=toy_course)
    assert run.returncode == 0, run.stderr
    json_path, html_path = out / "audit.json", out / "audit.html"
    data = json.loads(json_path.read_text())

    by_operator = {m["operator"]: m for m in data["mutants"]}
    squeezed = by_operator["insert_squeeze"]
    assert squeezed["status"] == "survived", squeezed
    assert "+    return (2.0 / len(y) * (X.T @ (X @ w - y))).squeeze()" in squeezed["diff"]
    assert squeezed["function"] == "grad"
    assert "grad: values against the reference" in squeezed["passed"]
    assert squeezed["told_apart_by"]                    # the 1x1 audit input shows the shape change
    # a sign error is caught by the value check; w.T on a 1-D w changes nothing
    assert by_operator["negate_result"]["status"] == "killed"
    assert by_operator["negate_result"]["killed_by"] == ["grad: values against the reference"]
    equivalent = [m for m in data["mutants"] if m["status"] == "possibly equivalent"]
    assert [m["after"] for m in equivalent] == ["return 2.0 / len(y) * (X.T @ (X @ w.T - y))"]

    assert (data["generated"], data["graded"], data["survived"]) == (4, 3, 1)
    assert data["families"]["shape"]["survived"] == 1
    assert data["score"] == pytest.approx(2 / 3)
    page = html_path.read_text()
    assert squeezed["id"] in page and ".squeeze()" in page
    assert "mutation score 66.7% (2 of 3 graded mutants killed" in run.stdout
    assert "1 surviving mutants:" in run.stdout and squeezed["id"] in run.stdout


# --- mutant generation: cheap, no sandbox ------------------------------------------------

ML_SNIPPET = textwrap.dedent('''\
    import numpy as np
    import torch


    def helper(x):
        return x + 1


    def train_epoch(model, loader, loss_fn, optimizer, seed):
        # BEGIN SOLUTION
        model.train()
        generator = torch.Generator().manual_seed(seed)
        losses = []
        for x, y in loader:
            optimizer.zero_grad()
            x = x - x.mean()
            loss = loss_fn(torch.relu(model(x)), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with torch.no_grad():
            total = np.sum(np.array(losses, dtype=np.float64), axis=0, keepdims=True) / len(losses)
        if total[0] > 1:
            return -total[1:3].detach()
        return float(total[0] * 2)
        # END SOLUTION
    ''')


def test_every_family_appears_on_ml_code_and_only_solution_blocks_change():
    mutants = generate(ML_SNIPPET, operators.select(None), "snippet")
    assert {m.family for m in mutants} == set(operators.FAMILIES)
    first, last = solution_lines(ML_SNIPPET)[0]
    for mutant in mutants:
        assert first <= mutant.line <= last
        assert "def helper(x):\n    return x + 1\n" in mutant.source
        compile(mutant.source, mutant.id, "exec")
    assert len({m.source for m in mutants}) == len(mutants)


def test_training_step_order_and_batch_weights():
    def order(source):
        calls = ("optimizer.zero_grad()", "loss.backward()", "optimizer.step()")
        return sorted(calls, key=source.index)

    misordered = generate(ML_SNIPPET, operators.select(["misorder_step"]), "snippet")
    assert [order(m.source) for m in misordered] == [
        ["loss.backward()", "optimizer.zero_grad()", "optimizer.step()"],
        ["optimizer.zero_grad()", "optimizer.step()", "loss.backward()"]]
    evaluate = textwrap.dedent('''\
        def evaluate(loader, loss_fn):
            # BEGIN SOLUTION
            total, count = 0.0, 0
            for x, y in loader:
                total += loss_fn(x, y).item() * len(y)
                count += y.shape[0]
            return total / count
            # END SOLUTION
        ''')
    unweighted = generate(evaluate, operators.select(["unweighted_batch_mean"]), "snippet")
    assert [m.after.strip() for m in unweighted] == ["total += loss_fn(x, y).item()", "count += 1"]


def test_operators_can_be_chosen_by_name_or_family():
    assert {o.family for o in operators.select(["seed"])} == {"seed"}
    assert [o.name for o in operators.select(["drop_keepdims"])] == ["drop_keepdims"]
    with pytest.raises(ValueError, match="no_such_operator"):
        operators.select(["no_such_operator"])


def test_answers_compare_by_type_dtype_shape_and_value():
    a = np.arange(3.0)
    assert same(a, a.copy()) and not same(a, a.astype(np.float32)) and not same(a, a[None])
    assert same(1.0, np.float64(1.0)) and not same(1.0, 1.1) and not same(1, 1.0)
    assert same({"w": (a, [1])}, {"w": (a + 1e-15, [1])}) and not same([a], [a + 1e-3])
    assert same(float("nan"), float("nan"))
