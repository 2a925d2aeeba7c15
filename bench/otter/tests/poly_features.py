"""poly_features: the public worked example and the hidden values for degrees 0, 1, 3, 5."""
import numpy as np
from otter.test_files import test_case

OK_FORMAT = False

name = "poly_features"


def reference(x, degree):
    return np.asarray(x, dtype=np.float64)[:, None] ** np.arange(degree + 1)


def check(poly_features, degree, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=7)
    got, expected = poly_features(x, degree), reference(x, degree)
    assert np.shape(got) == expected.shape, f"poly_features: shape {np.shape(got)}, expected {expected.shape}"
    assert np.asarray(got).dtype == np.float64, f"poly_features: dtype {np.asarray(got).dtype}, expected float64"
    assert np.allclose(got, expected), f"poly_features: wrong values for degree {degree}"


@test_case(points=1, hidden=False)
def test_worked_example(poly_features):
    got = poly_features(np.array([0.0, 1.0, 2.0, -1.0]), 2)
    expected = np.array([[1, 0, 0], [1, 1, 1], [1, 2, 4], [1, -1, 1]], dtype=float)
    assert np.shape(got) == expected.shape, f"poly_features: shape {np.shape(got)}, expected {expected.shape}"
    assert np.allclose(got, expected), f"poly_features: got {got}, expected {expected}"


@test_case(points=1, hidden=True)
def test_values_degree_0(poly_features):
    check(poly_features, 0, 10)


@test_case(points=1, hidden=True)
def test_values_degree_1(poly_features):
    check(poly_features, 1, 11)


@test_case(points=1, hidden=True)
def test_values_degree_3(poly_features):
    check(poly_features, 3, 12)


@test_case(points=1, hidden=True)
def test_values_degree_5(poly_features):
    check(poly_features, 5, 13)
