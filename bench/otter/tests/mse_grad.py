"""mse_grad: finite differences of the student's own loss (public), values and
finite differences of the reference's loss (hidden)."""
import numpy as np
from otter.test_files import test_case

OK_FORMAT = False

name = "mse_grad"
EPS = 1e-6


def reference_loss(X, w, y):
    return float(np.mean((X @ w - y) ** 2))


def central_differences(loss, w):
    grad = np.zeros_like(w)
    for i in range(len(w)):
        step = np.zeros_like(w)
        step[i] = EPS
        grad[i] = (loss(w + step) - loss(w - step)) / (2 * EPS)
    return grad


@test_case(points=2, hidden=False)
def test_matches_finite_differences_of_your_loss(mse_grad, mse_loss, predict):
    rng = np.random.default_rng(40)
    X, w, y = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6)
    grad = mse_grad(X, w, y)
    assert np.shape(grad) == (3,), f"mse_grad: shape {np.shape(grad)}, expected (3,)"
    numeric = central_differences(lambda v: mse_loss(predict(X, v), y), w)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-6), f"mse_grad: {grad} vs finite differences {numeric}"


@test_case(points=2, hidden=True)
def test_values(mse_grad):
    rng = np.random.default_rng(41)
    X, w, y = rng.normal(size=(9, 4)), rng.normal(size=4), rng.normal(size=9)
    got = mse_grad(X, w, y)
    assert np.shape(got) == (4,), f"mse_grad: shape {np.shape(got)}, expected (4,)"
    assert np.allclose(got, 2.0 / len(y) * (X.T @ (X @ w - y))), "mse_grad: wrong values"


@test_case(points=2, hidden=True)
def test_finite_differences(mse_grad):
    rng = np.random.default_rng(42)
    X, w, y = rng.normal(size=(13, 5)), rng.normal(size=5), rng.normal(size=13)
    grad = mse_grad(X, w, y)
    assert np.shape(grad) == (5,), f"mse_grad: shape {np.shape(grad)}, expected (5,)"
    numeric = central_differences(lambda v: reference_loss(X, v, y), w)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-6), "mse_grad: disagrees with finite differences"
