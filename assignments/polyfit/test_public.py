"""Public tests for polyfit: worked examples and checks of your own functions.

Run them with `make test` (or `grader test polyfit`). They need no reference
solution; hidden tests with other inputs run when your work is graded.
"""
import numpy as np
import pytest

from grader.checks import (central_differences, expect_array, expect_gradient, expect_scalar,
                           expect_shape, expect_tuple, perturbations, sample_indices)


@pytest.mark.points(1)
def test_poly_features_worked_example(student):
    """poly_features: x = [0, 1, 2, -1], degree 2"""
    got = student.poly_features(np.array([0.0, 1.0, 2.0, -1.0]), 2)
    expected = np.array([[1, 0, 0], [1, 1, 1], [1, 2, 4], [1, -1, 1]], dtype=float)
    expect_array(got, expected, "poly_features", index_name="X")


@pytest.mark.points(1)
def test_predict_worked_example(student):
    """predict: a 3x2 example"""
    X = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]])
    got = student.predict(X, np.array([0.5, 2.0]))
    expect_array(got, np.array([4.5, -1.5, 1.5]), "predict", index_name="y_pred")


@pytest.mark.points(1)
def test_mse_loss_worked_example(student):
    """mse_loss: ([1, 2, 3] vs [1, 1, 1]) is 5/3"""
    got = student.mse_loss(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    expect_scalar(got, 5 / 3, "mse_loss")


@pytest.mark.points(2)
def test_mse_grad_matches_finite_differences_of_your_loss(student, rng):
    """mse_grad agrees with finite differences of your own mse_loss(predict(X, w), y)"""
    X, w, y = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6)
    grad = expect_shape(student.mse_grad(X, w, y), (3,), "mse_grad")
    indices = sample_indices(w.shape, 3, rng)
    preds = student.many("predict", [(X, wp) for wp in perturbations(w, indices)])
    losses = student.many("mse_loss", [(p, y) for p in preds])
    expect_gradient(grad, central_differences(losses, name="mse_loss"), indices, "mse_grad", index_name="w")


@pytest.mark.points(2)
def test_fit_sin_converges(student):
    """fit: y = sin(x) on [-pi, pi] reaches MSE <= 0.005 with the defaults"""
    x = np.linspace(-np.pi, np.pi, 2000)
    w, losses = expect_tuple(student.fit(x, np.sin(x)), 2, "fit")
    X = x[:, None] ** np.arange(4)
    final = float(np.mean((X @ np.asarray(w, dtype=float) - np.sin(x)) ** 2))
    assert final <= 0.005, (f"fit: final MSE {final:.5f} is above 0.005 (the best cubic reaches "
                            "0.00441); check the learning rate, the number of steps and mse_grad")
