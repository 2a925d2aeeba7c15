"""Public tests for backprop: worked examples, shapes, and a gradient check of
your backward against finite differences of your own forward and bce_cost.

Run them with `make test` (or `grader test backprop`). They need no reference
solution; hidden tests with other nets and inputs run when your work is graded.
"""
import numpy as np
import pytest

from grader.checks import (central_differences, expect_array, expect_gradient, expect_scalar,
                           expect_shape, fail, perturbations)


def forward_and_backward(module, X, Y, params):
    """running your forward and then your backward on it"""
    AL, caches = module.forward(X, params)
    return module.backward(AL, Y, caches)


def forward_output(module, X, params):
    """running your forward"""
    return module.forward(X, params)[0]


def forward_outputs(module, X, params_list):
    """running your forward on copies of the parameters shifted by ±1e-5"""
    return [module.forward(X, params)[0] for params in params_list]


@pytest.mark.points(1)
def test_activations_worked_example(student):
    """relu and sigmoid: relu(-2, 0.5, 3) = (0, 0.5, 3); sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75"""
    expect_array(student.relu(np.array([[-2.0, 0.5, 3.0]])), np.array([[0.0, 0.5, 3.0]]), "relu",
                 index_name="A")
    expect_array(student.sigmoid(np.array([[0.0, np.log(3.0)]])), np.array([[0.5, 0.75]]),
                 "sigmoid", index_name="A")


@pytest.mark.points(1)
def test_init_params_shapes(student):
    """init_params([3, 4, 1]): W1 (4, 3), b1 (4, 1) zeros, W2 (1, 4), b2 (1, 1) zeros"""
    params = student.init_params([3, 4, 1], seed=0)
    if not isinstance(params, dict) or sorted(params) != ["W1", "W2", "b1", "b2"]:
        fail("init_params([3, 4, 1]) should return a dict with the keys W1, b1, W2, b2")
    for name, shape in (("W1", (4, 3)), ("b1", (4, 1)), ("W2", (1, 4)), ("b2", (1, 1))):
        expect_shape(params[name], shape, f"init_params: {name}")
    if np.any(params["b1"] != 0) or np.any(params["b2"] != 0):
        fail("init_params: the biases should start at zero")


@pytest.mark.points(1)
def test_forward_worked_example(student):
    """forward: a 2-2-1 net on two examples, then on one, worked by hand"""
    params = {"W1": np.array([[1.0, -1.0], [0.5, 2.0]]), "b1": np.array([[0.0], [-1.0]]),
              "W2": np.array([[1.0, -0.2]]), "b2": np.array([[0.5]])}
    X = np.array([[1.0, 2.0], [3.0, -1.0]])  # two examples, one per column
    # Z1 = W1 X + b1 = [[-2, 3], [5.5, -2]], A1 = relu(Z1) = [[0, 3], [5.5, 0]]
    # Z2 = W2 A1 + b2 = [[-0.6, 3.5]],       AL = sigmoid(Z2)
    AL = student.probe(forward_output, X, params)
    expected = 1 / (1 + np.exp(-np.array([[-0.6, 3.5]])))
    expect_array(AL, expected, "forward: AL = sigmoid([[-0.6, 3.5]])", index_name="AL")
    AL = student.probe(forward_output, X[:, :1], params)  # one example: AL keeps its shape (1, 1)
    expect_array(AL, expected[:, :1], "forward on the first example alone, X of shape (2, 1): "
                 "AL = sigmoid([[-0.6]])", index_name="AL")


@pytest.mark.points(1)
def test_bce_cost_worked_example(student):
    """bce_cost: AL = [[0.8, 0.1]], Y = [[1, 0]] gives -(ln 0.8 + ln 0.9) / 2 = 0.164252"""
    got = student.bce_cost(np.array([[0.8, 0.1]]), np.array([[1.0, 0.0]]))
    expect_scalar(got, -(np.log(0.8) + np.log(0.9)) / 2, "bce_cost")


def small_problem(rng, dims=(3, 4, 2, 1), m=5):
    """A net and data whose hidden pre-activations all satisfy |Z| > 0.02.

    Finite differences step by 1e-5, far less than 0.02, so no ReLU switches
    on or off between f(p + h) and f(p - h) (a kink would fake an error).
    """
    L = len(dims) - 1
    while True:
        params = {}
        for l in range(1, L + 1):
            params[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1]))
            params[f"b{l}"] = rng.normal(scale=0.5, size=(dims[l], 1))
        X, Y = rng.normal(size=(dims[0], m)), np.array([[1.0, 0.0, 1.0, 1.0, 0.0]])
        A, safe = X, True
        for l in range(1, L):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            safe = safe and np.abs(Z).min() > 0.02
            A = np.maximum(Z, 0)
        ZL = params[f"W{L}"] @ A + params[f"b{L}"]
        if safe and np.abs(ZL).max() < 4:
            return X, Y, params


def your_gradients(student, X, Y, params):
    """Your backward's gradients, after checking their keys and shapes."""
    grads = student.probe(forward_and_backward, X, Y, params)
    if not isinstance(grads, dict):
        fail(f"backward should return a dict, got {type(grads).__name__}")
    for name, value in params.items():
        if "d" + name not in grads:
            fail(f"backward: the returned dict has no key 'd{name}'")
        if name.startswith("b") and getattr(grads["d" + name], "shape", None) == (value.shape[0], X.shape[1]):
            fail(f"backward: d{name} has one column per example; b is shared by all m examples, "
                 "so sum dZ over them: np.sum(dZ, axis=1, keepdims=True) / m")
        expect_shape(grads["d" + name], value.shape,
                     f"backward: d{name} (it must have the shape of {name}, {value.shape})")
    return grads


@pytest.mark.points(1)
def test_backward_shapes(student, rng):
    """backward: dW1, db1, ..., dbL with the shapes of W1, b1, ..., bL"""
    your_gradients(student, *small_problem(rng))


@pytest.mark.points(2)
def test_backward_matches_finite_differences_of_your_cost(student, rng):
    """backward agrees with finite differences of your own bce_cost(forward(X, params), Y)"""
    X, Y, params = small_problem(rng)
    grads = your_gradients(student, X, Y, params)
    names = sorted(params, key=lambda n: (-int(n[1:]), n))   # dW3, db3, dW2, ...: backward's order
    everything = {name: [tuple(i) for i in np.ndindex(params[name].shape)] for name in names}
    shifted = [{**params, name: p} for name in names for p in perturbations(params[name], everything[name])]
    outputs = student.probe(forward_outputs, X, shifted)
    costs = student.many("bce_cost", [(AL, Y) for AL in outputs])
    start = 0
    for name in names:
        indices = everything[name]
        numeric = central_differences(costs[start:start + 2 * len(indices)], name="bce_cost")
        start += 2 * len(indices)
        grad = np.asarray(grads["d" + name], dtype=float)
        # Entries where both your gradient and the difference are below 1e-4
        # are left out: rounding in the differences (about 1e-10) would
        # dominate their relative error.
        keep = [k for k, (i, value) in enumerate(zip(indices, numeric))
                if max(abs(value), abs(grad[i])) > 1e-4]
        if keep:
            expect_gradient(grad, numeric[keep], [indices[k] for k in keep], f"backward: d{name}",
                            index_name="d" + name)


@pytest.mark.points(1)
def test_train_lowers_the_cost(student):
    """train: 200 epochs of lr = 0.1 on a small data set; costs has 200 entries and goes down"""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(2, 40))
    Y = (np.sum(X ** 2, axis=0, keepdims=True) < 1.7).astype(float)
    _, costs = train_result(student.train(X, Y, [2, 6, 1], lr=0.1, epochs=200, seed=1), 200)
    if not costs[-1] < 0.9 * costs[0]:
        fail(f"train: the cost went from {costs[0]:.4g} to {costs[-1]:.4g} in 200 epochs; it should "
             "fall by 10% or more (the reference: 0.624 to 0.407). Check your gradients and the "
             "sign in update (p - lr * dp)")


def train_result(result, epochs):
    """(params, costs) from what train returned, with costs as an array of `epochs` floats."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail("train should return a pair (params, costs)")
    params, costs = result
    if not isinstance(params, dict):
        fail(f"train should return (params, costs) with params a dict, got {type(params).__name__}")
    try:
        costs = np.asarray(costs, dtype=float).ravel()
    except (TypeError, ValueError):
        fail("train: costs should be a list of numbers, one per epoch")
    if costs.shape != (epochs,):
        fail(f"train: expected {epochs} costs (one per epoch), got {costs.size}")
    return params, costs
