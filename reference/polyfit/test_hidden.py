"""Hidden tests for polyfit: values against the reference on the harness's own
inputs, a finite-difference check, purity, and the training trajectory."""
import numpy as np
import pytest

from grader.checks import (central_differences, expect_array, expect_gradient, expect_scalar,
                           expect_shape, expect_tuple, fail, perturbations, sample_indices)

SIN_X = np.linspace(-np.pi, np.pi, 2000)


def problem(rng, n=9, d=4):
    return rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n)


@pytest.mark.points(1)
@pytest.mark.parametrize("degree", [0, 1, 3, 5])
def test_poly_features_values(student, ref, rng, degree):
    """poly_features: shape, dtype and values"""
    x = rng.uniform(-2, 2, size=7)
    expect_array(student.poly_features(x, degree), ref.poly_features(x, degree), "poly_features",
                 dtype=np.float64, index_name="X")


@pytest.mark.points(1)
def test_predict_values(student, ref, rng):
    """predict: values on a non-square X"""
    X, w, _ = problem(rng)
    expect_array(student.predict(X, w), ref.predict(X, w), "predict", index_name="y_pred")


@pytest.mark.points(1)
def test_mse_loss_value_and_type(student, ref, rng):
    """mse_loss: a float equal to the mean squared error"""
    a, b = rng.normal(size=11), rng.normal(size=11)
    expect_scalar(student.mse_loss(a, b), ref.mse_loss(a, b), "mse_loss")


@pytest.mark.points(2)
def test_mse_grad_values(student, ref, rng):
    """mse_grad: values against the reference"""
    X, w, y = problem(rng)
    expect_array(student.mse_grad(X, w, y), ref.mse_grad(X, w, y), "mse_grad", index_name="grad")


@pytest.mark.points(2)
def test_mse_grad_finite_differences(student, ref, rng):
    """mse_grad: central finite differences of the loss, computed by the grader"""
    X, w, y = problem(rng, n=13, d=5)
    grad = expect_shape(student.mse_grad(X, w, y), w.shape, "mse_grad")
    indices = sample_indices(w.shape, 5, rng)
    losses = [ref.mse_loss(ref.predict(X, wp), y) for wp in perturbations(w, indices)]
    expect_gradient(grad, central_differences(losses), indices, "mse_grad", index_name="w")


@pytest.mark.points(1)
def test_gd_step_values(student, ref, rng):
    """gd_step: w - lr * grad"""
    X, w, y = problem(rng)
    expect_array(student.gd_step(X, w, y, 0.05), ref.gd_step(X, w, y, 0.05), "gd_step",
                 index_name="w_new")


@pytest.mark.points(1)
def test_gd_step_leaves_inputs_alone(student, rng):
    """gd_step: returns a new array and does not modify X, w or y"""
    X, w, y = problem(rng)
    _, after = student.call_and_inputs("gd_step", X, w, y, 0.05)
    for name, before, now in zip("Xwy", (X, w, y), after[:3]):
        if not np.array_equal(before, now):
            fail(f"gd_step modified its input {name} in place; return a new array instead")


@pytest.mark.points(1)
def test_fit_history_length_and_first_loss(student, ref, rng):
    """fit: `steps` losses, and losses[0] is the MSE at the seeded initial w"""
    x = rng.uniform(-1, 1, size=50)
    y = np.cos(x)
    w, losses = expect_tuple(student.fit(x, y, degree=2, lr=0.01, steps=7, seed=3), 2, "fit")
    if not isinstance(losses, list) or len(losses) != 7:
        fail(f"fit: losses should be a list of `steps` = 7 floats, got "
             f"{type(losses).__name__} of length {len(losses) if hasattr(losses, '__len__') else '?'}")
    w0 = np.random.default_rng(3).normal(size=3)
    start = ref.mse_loss(ref.predict(ref.poly_features(x, 2), w0), y)
    expect_scalar(losses[0], start, "fit: losses[0] (the loss before the first update, at "
                  "w = default_rng(seed).normal(size=degree + 1))")
    expect_shape(w, (3,), "fit: w")


@pytest.mark.points(2)
def test_fit_trajectory_matches_reference(student, ref, rng):
    """fit: the first steps follow the reference trajectory"""
    x = rng.uniform(-1.5, 1.5, size=40)
    y = x ** 3 - x
    w, losses = expect_tuple(student.fit(x, y, degree=3, lr=0.02, steps=6, seed=11), 2, "fit")
    ref_w, ref_losses = ref.fit(x, y, degree=3, lr=0.02, steps=6, seed=11)
    expect_array(np.asarray(losses, dtype=float), np.asarray(ref_losses), "fit: losses",
                 rtol=1e-8, index_name="losses")
    expect_array(w, ref_w, "fit: w after 6 steps", rtol=1e-8, index_name="w")


@pytest.mark.points(2)
@pytest.mark.timeout(20)
def test_fit_defaults_converge_on_sin(student, ref):
    """fit: the defaults reach MSE <= 0.005 on sin (the optimum is 0.004409)"""
    w, losses = expect_tuple(student.fit(SIN_X, np.sin(SIN_X)), 2, "fit")
    w = expect_shape(w, (4,), "fit: w")
    final = ref.mse_loss(ref.predict(ref.poly_features(SIN_X, 3), w.astype(float)), np.sin(SIN_X))
    if not final <= 0.005:
        fail(f"fit: final MSE {final:.5g} is above 0.005 with the default lr and steps")
    if not all(isinstance(v, float) for v in losses[:5]):
        fail("fit: losses should hold Python floats")


@pytest.mark.points(1)
def test_numpy_only(student):
    """polyfit uses numpy only (no torch)"""
    if student.probe(imports_torch):
        fail("polyfit imported torch; this assignment is numpy only")


def imports_torch(module):
    """running fit and checking which libraries your module imported"""
    import sys
    import numpy as np
    x = np.linspace(-1, 1, 20)
    module.fit(x, x ** 2, degree=2, lr=0.01, steps=3, seed=0)
    return "torch" in sys.modules
