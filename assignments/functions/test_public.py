"""Public tests for functions: worked examples and checks of your own Functions.

Run them with `make test` (or `grader test functions`). They need no reference
solution; hidden tests with other inputs, dtypes and shapes run when your work
is graded.
"""
import math

import numpy as np
import pytest
import torch

from grader.checks import (central_differences, expect_array, expect_gradient, expect_shape, fail,
                           perturbations, sample_indices)


def forward_backward(module, name, inputs, needs_grad, grad_output, perturbed):
    """running your Function's forward, then calling its backward"""
    import torch

    def tensor(array, requires_grad=False):
        return None if array is None else torch.tensor(array, requires_grad=requires_grad)

    function = getattr(module, name)
    out = function.apply(*[tensor(a, flag) for a, flag in zip(inputs, needs_grad)])
    grads = out.grad_fn.apply(torch.tensor(grad_output))  # calls your backward with this graph's ctx
    grads = grads if isinstance(grads, tuple) else (grads,)
    return {"output": out.detach(),
            "needs_input_grad": list(out.grad_fn.needs_input_grad),
            "grads": [g if g is None or not isinstance(g, torch.Tensor) else g.detach() for g in grads],
            "perturbed": [function.apply(*[tensor(a) for a in p]).detach() for p in perturbed]}


@pytest.mark.points(1)
def test_exp_worked_example(student):
    """Exp: exp([0, 1, -1, 2]) is [1, e, 1/e, e²]"""
    got = student.call("Exp.apply", torch.tensor([0.0, 1.0, -1.0, 2.0], dtype=torch.float64))
    expected = np.array([1.0, math.e, 1 / math.e, math.e ** 2])
    expect_array(got, expected, "Exp.apply", tensor=True, index_name="y")


@pytest.mark.points(1)
def test_sigmoid_worked_example(student):
    """Sigmoid: sigmoid([0, 2, -2]) is [0.5, 0.8808, 0.1192]"""
    got = student.call("Sigmoid.apply", torch.tensor([0.0, 2.0, -2.0], dtype=torch.float64))
    expected = np.array([0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))])
    expect_array(got, expected, "Sigmoid.apply", tensor=True, index_name="y")


@pytest.mark.points(1)
def test_legendre_worked_example(student):
    """LegendreP3: P3([0, 1, -1, 0.5]) is [0, 1, -1, -0.4375]"""
    got = student.call("LegendreP3.apply", torch.tensor([0.0, 1.0, -1.0, 0.5], dtype=torch.float64))
    expect_array(got, np.array([0.0, 1.0, -1.0, -0.4375]), "LegendreP3.apply", tensor=True, index_name="y")


@pytest.mark.points(1)
def test_linear_worked_example(student):
    """LinearFunction: a 2x3 input, a 2x3 weight and a bias"""
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]], dtype=torch.float64)
    weight = torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], dtype=torch.float64)
    bias = torch.tensor([0.5, -1.0], dtype=torch.float64)
    got = student.call("LinearFunction.apply", x, weight, bias)
    expect_array(got, np.array([[-1.5, 3.0], [-1.5, -2.0]]), "LinearFunction.apply", tensor=True,
                 index_name="out")


@pytest.mark.points(2)
@pytest.mark.parametrize("name", ["Exp", "Sigmoid", "LegendreP3", "LinearFunction"])
def test_backward_matches_finite_differences_of_your_forward(student, rng, name):
    """backward agrees with central differences of your own forward (float64)"""
    if name == "LinearFunction":
        inputs, labels, grad_output = [rng.normal(size=(4, 3)), rng.normal(size=(2, 3)),
                                       rng.normal(size=2)], ["x", "weight", "bias"], rng.normal(size=(4, 2))
    else:
        inputs, labels, grad_output = [rng.uniform(-2, 2, size=5)], ["x"], rng.normal(size=5)
    picks = [(i, sample_indices(a.shape, 4, rng)) for i, a in enumerate(inputs)]
    perturbed = [inputs[:i] + [p] + inputs[i + 1:] for i, indices in picks for p in perturbations(inputs[i], indices)]
    report = student.probe(forward_backward, name, inputs, [True] * len(inputs), grad_output, perturbed)
    sums = [float(np.sum(grad_output * expect_shape(out, grad_output.shape, f"{name}.apply", tensor=True)))
            for out in report["perturbed"]]
    numeric = iter(central_differences(sums))
    for i, indices in picks:
        grad = report["grads"][i] if i < len(report["grads"]) else None
        if not isinstance(grad, torch.Tensor):
            fail(f"{name}.backward should return a tensor as the gradient for {labels[i]}, got {grad!r}")
        grad = expect_shape(grad, inputs[i].shape, f"{name}.backward: the gradient for {labels[i]}", tensor=True)
        expect_gradient(grad, [next(numeric) for _ in indices], indices,
                        f"{name}.backward: the gradient for {labels[i]}", index_name=labels[i])


@pytest.mark.points(1)
def test_linear_backward_returns_none(student, rng):
    """LinearFunction.backward returns None for an input without requires_grad and for a missing bias"""
    x, weight, grad_output = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=(4, 2))
    report = student.probe(forward_backward, "LinearFunction", [x, weight], [False, True], grad_output, [])
    grads = report["grads"]
    if not grads or grads[0] is not None:
        fail("LinearFunction.backward: x does not require grad (ctx.needs_input_grad[0] is False), "
             "so its gradient must be None")
    if len(grads) < 2 or not isinstance(grads[1], torch.Tensor):
        fail("LinearFunction.backward should return a tensor as the gradient for weight")
    if len(grads) > 2 and grads[2] is not None:
        fail("LinearFunction.backward: no bias was given (LinearFunction.apply(x, weight)), so the "
             "gradient for bias must be None")
