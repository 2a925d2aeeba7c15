"""Public tests for functions: worked examples and checks of your own Functions.

Run them with `make test` (or `grader test functions`). They need no reference
solution; hidden tests with other inputs, dtypes and shapes run when your work
is graded. The probe below runs next to your code and sends back numpy arrays,
so the grader's side never needs torch.
"""
import math

import numpy as np
import pytest

from grader.checks import (central_differences, expect_array, expect_gradient, expect_shape, fail,
                           perturbations, sample_indices)


def forward_backward(module, name, inputs, needs_grad, grad_output, perturbed):
    """running forward, then calling backward"""
    import torch

    def tensor(array, requires_grad=False):
        return None if array is None else torch.tensor(array, requires_grad=requires_grad)

    def plain(value):
        if value is None or not isinstance(value, torch.Tensor):
            return value if value is None else type(value).__name__
        return value.detach().cpu().numpy()

    function = getattr(module, name)
    out = function.apply(*[tensor(a, flag) for a, flag in zip(inputs, needs_grad)])
    report = {"output": plain(out)}
    if grad_output is not None and isinstance(out, torch.Tensor) and out.grad_fn is not None:
        grads = out.grad_fn.apply(torch.tensor(grad_output))  # calls your backward with this graph's ctx
        report["grads"] = [plain(g) for g in (grads if isinstance(grads, tuple) else (grads,))]
    report["perturbed"] = [plain(function.apply(*[tensor(a) for a in p])) for p in perturbed]
    return report


def run(student, name, inputs, needs_grad=None, grad_output=None, perturbed=()):
    """The probe's report; fails unless forward returned a tensor."""
    report = student.probe(forward_backward, name, inputs, needs_grad or [False] * len(inputs),
                           grad_output, list(perturbed), label=f"running {name}.apply forward and backward")
    for output in [report["output"]] + report["perturbed"]:
        if not isinstance(output, np.ndarray):
            fail(f"{name}.apply should return a torch tensor, got {output or 'None'}")
    return report


@pytest.mark.points(1)
def test_exp_worked_example(student):
    """Exp: exp([0, 1, -1, 2]) is [1, e, 1/e, e²]"""
    got = run(student, "Exp", [np.array([0.0, 1.0, -1.0, 2.0])])["output"]
    expect_array(got, np.array([1.0, math.e, 1 / math.e, math.e ** 2]), "Exp.apply", index_name="y")


@pytest.mark.points(1)
def test_sigmoid_worked_example(student):
    """Sigmoid: sigmoid([0, 2, -2]) is [0.5, 0.8808, 0.1192]"""
    got = run(student, "Sigmoid", [np.array([0.0, 2.0, -2.0])])["output"]
    expected = np.array([0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))])
    expect_array(got, expected, "Sigmoid.apply", index_name="y")


@pytest.mark.points(1)
def test_legendre_worked_example(student):
    """LegendreP3: P3([0, 1, -1, 0.5]) is [0, 1, -1, -0.4375]"""
    got = run(student, "LegendreP3", [np.array([0.0, 1.0, -1.0, 0.5])])["output"]
    expect_array(got, np.array([0.0, 1.0, -1.0, -0.4375]), "LegendreP3.apply", index_name="y")


@pytest.mark.points(1)
def test_linear_worked_example(student):
    """LinearFunction: a 2x3 input, a 2x3 weight and a bias"""
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    weight = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    got = run(student, "LinearFunction", [x, weight, np.array([0.5, -1.0])])["output"]
    expect_array(got, np.array([[-1.5, 3.0], [-1.5, -2.0]]), "LinearFunction.apply", index_name="out")


@pytest.mark.points(2)
@pytest.mark.parametrize("name", ["Exp", "Sigmoid", "LegendreP3", "LinearFunction"])
def test_backward_matches_finite_differences_of_your_forward(student, rng, name):
    """backward agrees with central differences of your own forward (float64; also a batch of one)"""
    for batch in (4, 1):  # a batch of one: shapes keep their size-1 dimension
        check_finite_differences(student, rng, name, batch)


def check_finite_differences(student, rng, name, batch):
    """Your backward against central differences of your forward, on a batch of `batch`."""
    if name == "LinearFunction":
        inputs = [rng.normal(size=(batch, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)]
        labels, grad_output = ["x", "weight", "bias"], rng.normal(size=(batch, 2))
    else:
        shape = (5,) if batch > 1 else (1, 3)
        inputs, labels, grad_output = [rng.uniform(-2, 2, size=shape)], ["x"], rng.normal(size=shape)
    picks = [(i, sample_indices(a.shape, 4, rng)) for i, a in enumerate(inputs)]
    perturbed = [inputs[:i] + [p] + inputs[i + 1:] for i, indices in picks
                 for p in perturbations(inputs[i], indices)]
    report = run(student, name, inputs, [True] * len(inputs), grad_output, perturbed)
    on = f"on x of shape {inputs[0].shape}"
    sums = [float(np.sum(grad_output * expect_shape(out, grad_output.shape, f"{name}.apply {on}")))
            for out in report["perturbed"]]
    numeric = iter(central_differences(sums))
    for i, indices in picks:
        label = f"{name}.backward {on}: the gradient for {labels[i]}"
        grads = report.get("grads", [])
        grad = grads[i] if i < len(grads) else None
        if not isinstance(grad, np.ndarray):
            fail(f"{label} should be a tensor, got {grad or 'None'}")
        grad = expect_shape(grad, inputs[i].shape, label)
        expect_gradient(grad, [next(numeric) for _ in indices], indices, label, index_name=labels[i])


@pytest.mark.points(1)
def test_linear_backward_returns_none(student, rng):
    """LinearFunction.backward returns None for an input without requires_grad and for a missing bias"""
    x, weight, grad_output = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=(4, 2))
    grads = run(student, "LinearFunction", [x, weight], [False, True], grad_output).get("grads")
    if not grads or grads[0] is not None:
        fail("LinearFunction.backward: x does not require grad (ctx.needs_input_grad[0] is False), "
             "so its gradient must be None")
    if len(grads) < 2 or not isinstance(grads[1], np.ndarray):
        fail("LinearFunction.backward should return a tensor as the gradient for weight")
    if len(grads) > 2 and grads[2] is not None:
        fail("LinearFunction.backward: no bias was given (LinearFunction.apply(x, weight)), so the "
             "gradient for bias must be None")
