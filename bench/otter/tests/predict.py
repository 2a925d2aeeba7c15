"""predict: the public worked example and hidden values on a non-square X."""
import numpy as np
from otter.test_files import test_case

OK_FORMAT = False

name = "predict"


@test_case(points=1, hidden=False)
def test_worked_example(predict):
    X = np.array([[1.0, 2.0], [1.0, -1.0], [1.0, 0.5]])
    got = predict(X, np.array([0.5, 2.0]))
    assert np.shape(got) == (3,), f"predict: shape {np.shape(got)}, expected (3,)"
    assert np.allclose(got, [4.5, -1.5, 1.5]), f"predict: got {got}, expected [4.5, -1.5, 1.5]"


@test_case(points=1, hidden=True)
def test_values(predict):
    rng = np.random.default_rng(20)
    X, w = rng.normal(size=(9, 4)), rng.normal(size=4)
    got = predict(X, w)
    assert np.shape(got) == (9,), f"predict: shape {np.shape(got)}, expected (9,)"
    assert np.allclose(got, X @ w), "predict: wrong values"
