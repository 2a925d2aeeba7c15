"""Public tests for modules: worked examples you can check by hand.

Run them with `make test` (or `grader test modules`). They need no reference
solution; hidden tests with other sizes, weights and seeds run when your work
is graded. A model cannot be sent out of the sandbox your code runs in, so
each test sends a small *probe* function that builds your model there and
returns plain tensors.
"""
import numpy as np
import pytest

from grader.checks import as_array, expect_array, expect_shape, fail


def parameter_shapes(module, cls, args):
    """building your model and listing its parameters"""
    model = getattr(module, cls)(*args)
    return {name: list(p.shape) for name, p in model.named_parameters()}


def forward_with_weights(module, cls, args, weights, x):
    """building your model, loading the given weights and running forward"""
    import torch
    model = getattr(module, cls)(*args)
    params = dict(model.named_parameters())
    for name, value in weights.items():
        if name not in params:
            return f"{cls}{tuple(args)} has no parameter named {name} (it has {sorted(params)})"
        if tuple(params[name].shape) != value.shape:
            return (f"{cls}{tuple(args)}: {name} has shape {tuple(params[name].shape)}, "
                    f"expected {value.shape}")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(torch.as_tensor(value))
        return model(torch.as_tensor(x))


def run_forward(student, cls, args, weights, x):
    got = student.probe(forward_with_weights, cls, args, weights, x)
    if isinstance(got, str):
        fail(got)
    return got


def count_mlp(module, freeze_first):
    """calling count_parameters on nn.Sequential(Linear(7, 5), ReLU(), Linear(5, 3))"""
    from torch import nn
    model = nn.Sequential(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 3))
    if freeze_first:
        model[0].requires_grad_(False)
    return module.count_parameters(model)


def init_values(module, x_dim, y_dim):
    """building LinearModule and reading W and b"""
    import torch
    torch.manual_seed(0)  # the same draws every grade, so the same message
    model = module.LinearModule(x_dim, y_dim)
    return model.W.detach(), model.b.detach()


def expect_names(got, expected, cls):
    if got != expected:
        fail(f"{cls}: parameters {got}, expected {expected} (names from named_parameters(), "
             "shapes as lists)")


@pytest.mark.points(1)
def test_linear_module_parameters(student):
    """LinearModule(4, 3): parameters W (3, 4) and b (3,)"""
    got = student.probe(parameter_shapes, "LinearModule", (4, 3))
    expect_names(got, {"W": [3, 4], "b": [3]}, "LinearModule(4, 3)")


W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
B = np.array([0.5, -1.0, 0.0], dtype=np.float32)


@pytest.mark.points(1)
def test_linear_module_worked_example_batch(student):
    """LinearModule(2, 3) with W = [[1, 2], [3, 4], [5, 6]], b = [0.5, -1, 0] on a batch of 2, then of 1"""
    x = np.array([[1.0, 1.0], [0.0, -1.0]], dtype=np.float32)
    got = run_forward(student, "LinearModule", (2, 3), {"W": W, "b": B}, x)
    expected = np.array([[3.5, 6.0, 11.0], [-1.5, -5.0, -6.0]])
    expect_array(got, expected, "LinearModule.forward", tensor=True, index_name="y")
    got = run_forward(student, "LinearModule", (2, 3), {"W": W, "b": B}, x[:1])
    expect_array(got, expected[:1], "LinearModule.forward on a batch of one, x of shape (1, 2)",
                 tensor=True, index_name="y")


@pytest.mark.points(1)
def test_linear_module_worked_example_one_vector(student):
    """LinearModule(2, 3), same weights, on the single vector x = [1, 1] of shape (2,)"""
    x = np.array([1.0, 1.0], dtype=np.float32)
    got = run_forward(student, "LinearModule", (2, 3), {"W": W, "b": B}, x)
    expect_array(got, np.array([3.5, 6.0, 11.0]), "LinearModule.forward", tensor=True,
                 index_name="y")


@pytest.mark.points(1)
def test_linear_module_init_within_bound(student):
    """LinearModule(100, 20): W and b lie in [-0.1, 0.1] (1/sqrt(100)) and are not constant"""
    W, b = student.probe(init_values, 100, 20)
    for name, value, shape in (("W", W, (20, 100)), ("b", b, (20,))):
        value = expect_shape(value, shape, f"LinearModule(100, 20).{name}", tensor=True)
        if not np.all(np.abs(value) <= 0.1 + 1e-6):
            fail(f"LinearModule(100, 20): {name} has values up to {np.abs(value).max():.4g}; "
                 "draw from U(-1/sqrt(x_dim), 1/sqrt(x_dim))")
        if np.ptp(value) == 0:
            fail(f"LinearModule(100, 20): every entry of {name} is the same; draw it at random "
                 "in reset_parameters, and call that in __init__")


@pytest.mark.points(1)
@pytest.mark.parametrize("cls, args, expected", [
    ("LogisticRegression", (6, 4), {"linear.weight": [4, 6], "linear.bias": [4]}),
    ("FFN", (7, 9, 3), {"linear1.weight": [9, 7], "linear1.bias": [9],
                        "linear2.weight": [3, 9], "linear2.bias": [3]}),
    ("Net", (), {"fc1.weight": [120, 256], "fc1.bias": [120], "fc2.weight": [84, 120],
                 "fc2.bias": [84], "fc3.weight": [10, 84], "fc3.bias": [10]}),
], ids=["LogisticRegression", "FFN", "Net"])
def test_architecture_parameters(student, cls, args, expected):
    """Parameter names and shapes"""
    expect_names(student.probe(parameter_shapes, cls, args), expected, f"{cls}{args}")


@pytest.mark.points(1)
def test_ffn_worked_example(student):
    """FFN(2, 2, 1): the hidden unit with a negative pre-activation is zeroed by the ReLU"""
    weights = {"linear1.weight": np.array([[1.0, -1.0], [2.0, 0.0]], dtype=np.float32),
               "linear1.bias": np.array([0.0, -1.0], dtype=np.float32),
               "linear2.weight": np.array([[1.0, 1.0]], dtype=np.float32),
               "linear2.bias": np.array([0.5], dtype=np.float32)}
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    # linear1: [1 - 2 + 0, 2 + 0 - 1] = [-1, 1]; ReLU: [0, 1]; linear2: 0 + 1 + 0.5
    got = run_forward(student, "FFN", (2, 2, 1), weights, x)
    if np.allclose(as_array(got, "FFN.forward", tensor=True), [[0.5]]):
        fail("FFN.forward returned 0.5, which is linear2(linear1(x)): apply ReLU in between")
    expect_array(got, np.array([[1.5]]), "FFN.forward", tensor=True, index_name="y")


@pytest.mark.points(1)
@pytest.mark.parametrize("freeze_first, expected", [(False, 58), (True, 18)],
                         ids=["all trainable", "first layer frozen"])
def test_count_parameters_small_mlp(student, freeze_first, expected):
    """count_parameters: Linear(7, 5) has 7*5 + 5 = 40 scalars, Linear(5, 3) has 18"""
    got = student.probe(count_mlp, freeze_first)
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)) or got != expected:
        frozen = (" (the first layer is frozen: parameters with requires_grad False do not "
                  "count)" if freeze_first else "")
        tensor = " (a tensor: return a Python int, e.g. with .item())" if hasattr(got, "item") else ""
        fail(f"count_parameters: expected {expected}, got {got!r}{frozen}{tensor}")
