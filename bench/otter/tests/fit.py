"""fit: convergence on sin (public and hidden), the loss history and the
trajectory against the reference (hidden)."""
import numpy as np
from otter.test_files import test_case

OK_FORMAT = False

name = "fit"
SIN_X = np.linspace(-np.pi, np.pi, 2000)


def reference_fit(x, y, degree, lr, steps, seed):
    X = np.asarray(x, dtype=np.float64)[:, None] ** np.arange(degree + 1)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(float(np.mean((X @ w - y) ** 2)))
        w = w - lr * 2.0 / len(y) * (X.T @ (X @ w - y))
    return w, losses


def final_mse(w):
    X = SIN_X[:, None] ** np.arange(4)
    return float(np.mean((X @ np.asarray(w, dtype=float) - np.sin(SIN_X)) ** 2))


@test_case(points=2, hidden=False)
def test_sin_converges(fit):
    result = fit(SIN_X, np.sin(SIN_X))
    assert isinstance(result, tuple) and len(result) == 2, "fit: should return (w, losses)"
    final = final_mse(result[0])
    assert final <= 0.005, f"fit: final MSE {final:.5f} is above 0.005"


@test_case(points=1, hidden=True)
def test_history_length_and_first_loss(fit):
    x = np.random.default_rng(60).uniform(-1, 1, size=50)
    y = np.cos(x)
    result = fit(x, y, degree=2, lr=0.01, steps=7, seed=3)
    assert isinstance(result, tuple) and len(result) == 2, "fit: should return (w, losses)"
    w, losses = result
    assert isinstance(losses, list) and len(losses) == 7, "fit: losses should be a list of 7 floats"
    _, ref_losses = reference_fit(x, y, 2, 0.01, 1, 3)
    assert np.isclose(losses[0], ref_losses[0]), f"fit: losses[0] is {losses[0]}, expected {ref_losses[0]}"
    assert np.shape(w) == (3,), f"fit: w has shape {np.shape(w)}, expected (3,)"


@test_case(points=2, hidden=True)
def test_trajectory_matches_reference(fit):
    x = np.random.default_rng(61).uniform(-1.5, 1.5, size=40)
    y = x ** 3 - x
    result = fit(x, y, degree=3, lr=0.02, steps=6, seed=11)
    assert isinstance(result, tuple) and len(result) == 2, "fit: should return (w, losses)"
    ref_w, ref_losses = reference_fit(x, y, 3, 0.02, 6, 11)
    assert np.allclose(np.asarray(result[1], dtype=float), ref_losses, rtol=1e-8), "fit: wrong losses"
    assert np.allclose(result[0], ref_w, rtol=1e-8), "fit: wrong w after 6 steps"


@test_case(points=2, hidden=True)
def test_defaults_converge_on_sin(fit):
    result = fit(SIN_X, np.sin(SIN_X))
    assert isinstance(result, tuple) and len(result) == 2, "fit: should return (w, losses)"
    w, losses = result
    assert np.shape(w) == (4,), f"fit: w has shape {np.shape(w)}, expected (4,)"
    assert final_mse(w) <= 0.005, "fit: final MSE is above 0.005 with the default lr and steps"
    assert all(isinstance(v, float) for v in losses[:5]), "fit: losses should hold Python floats"


@test_case(points=1, hidden=True)
def test_numpy_only(fit):
    import sys
    x = np.linspace(-1, 1, 20)
    fit(x, x ** 2, degree=2, lr=0.01, steps=3, seed=0)
    assert "torch" not in sys.modules, "polyfit imported torch; this assignment is numpy only"
