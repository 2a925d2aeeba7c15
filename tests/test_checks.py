"""The shared checks: their verdicts and the hints in their messages."""
import numpy as np
import pytest

from grader import checks


def message(fn, *args, **kwargs):
    with pytest.raises(checks.CheckFailed) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_factor_of_two_is_named_with_the_entry():
    expected = np.array([0.1, -0.2, 0.31])
    text = message(checks.expect_array, expected * 2, expected, "mse_grad", index_name="w")
    assert text.startswith("mse_grad: wrong value at w[2] (expected 0.31, got 0.62 — off by a factor of 2?)")


@pytest.mark.parametrize("factor,needle", [(-1, "sign flipped"), (0.5, "factor of 1/2"),
                                           (100, "factor of 100 (a sum instead of a mean?)"),
                                           (0.01, "factor of 1/100")])
def test_constant_factors_are_recognised(factor, needle):
    expected = np.linspace(1, 2, 5)
    assert needle in message(checks.expect_array, expected * factor, expected, "f")


def test_a_single_value_gets_no_arbitrary_factor_hint():
    assert "factor" not in message(checks.expect_scalar, -1.915, 1.0, "loss")
    assert "factor of 3 (a sum instead of a mean?)" in message(checks.expect_scalar, 3.0, 1.0, "loss")


def test_transposes_and_shapes():
    a = np.arange(6.0).reshape(2, 3)
    assert "transposed?" in message(checks.expect_array, a.T, a, "dW")
    assert "expected (3,), got (3, 1)" in message(checks.expect_array, np.ones((3, 1)), np.ones(3), "g")
    squeezed = message(checks.expect_array, np.ones(3), np.ones((1, 3)), "out")
    assert "expected (1, 3), got (3,)" in squeezed and "squeeze()" in squeezed
    assert "squeeze()" in message(checks.expect_shape, np.ones(()), (1,), "y")
    assert "broadcast against a (n, 1)" in message(checks.expect_shape, np.ones((3, 3)), (3, 1), "dZ")
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transposed?" in message(checks.expect_array, square.T, square, "dW")


def test_types_dtypes_and_nan_are_refused():
    assert "should return a numpy array, got a list" in message(checks.expect_array, [1.0], np.ones(1), "f")
    assert "floating-point" in message(checks.expect_array, np.ones(2, dtype=int), np.ones(2), "f")
    assert "non-finite" in message(checks.expect_array, np.array([np.nan, 1.0]), np.ones(2), "f")
    assert "wrong dtype" in message(checks.expect_array, np.ones(2, dtype=np.float32), np.ones(2), "f",
                                    dtype=np.float64)


def test_scalars():
    assert checks.expect_scalar(np.float64(0.5), 0.5, "loss") == 0.5
    assert checks.expect_scalar(np.array(0.5), 0.5, "loss") == 0.5
    assert "should return a number" in message(checks.expect_scalar, np.ones(1), 1.0, "loss")
    assert "should return a number" in message(checks.expect_scalar, True, 1.0, "loss")
    assert "expected 1.66667, got 5" in message(checks.expect_scalar, 5.0, 5 / 3, "loss")


def test_central_differences_of_a_quadratic_match_its_gradient():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    f = lambda v: float(v @ A @ v)
    indices = checks.sample_indices(x.shape, 3, rng)
    numeric = checks.central_differences([f(p) for p in checks.perturbations(x, indices)])
    checks.expect_gradient((A + A.T) @ x, numeric, indices, "grad")
    text = message(checks.expect_gradient, 2 * (A + A.T) @ x, numeric, indices, "grad", index_name="x")
    assert "gradient wrong at x[" in text and "relative error" in text


def test_rel_error_and_sampling():
    assert checks.rel_error(0.0, 0.0) == 0
    assert checks.rel_error(1.0, 1.0 + 1e-9) < 1e-9
    rng = np.random.default_rng(1)
    picked = checks.sample_indices((30, 40), 10, rng)
    assert len(set(picked)) == 10 and all(0 <= i < 30 and 0 <= j < 40 for i, j in picked)
    assert checks.sample_indices((2, 2), 10, rng) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_a_float32_result_is_not_called_a_factor_of_one():
    expected = np.linspace(1.1, 2.3, 5)
    text = message(checks.expect_array, expected.astype(np.float32).astype(float), expected, "g", rtol=1e-12)
    assert "factor" not in text and "float32 somewhere?" in text
