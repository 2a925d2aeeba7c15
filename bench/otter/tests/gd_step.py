"""gd_step: values, and inputs left alone (hidden)."""
import numpy as np
from otter.test_files import test_case

OK_FORMAT = False

name = "gd_step"


@test_case(points=1, hidden=True)
def test_values(gd_step):
    rng = np.random.default_rng(50)
    X, w, y = rng.normal(size=(9, 4)), rng.normal(size=4), rng.normal(size=9)
    expected = w - 0.05 * 2.0 / len(y) * (X.T @ (X @ w - y))
    assert np.allclose(gd_step(X, w, y, 0.05), expected), "gd_step: wrong values"


@test_case(points=1, hidden=True)
def test_leaves_inputs_alone(gd_step):
    rng = np.random.default_rng(51)
    X, w, y = rng.normal(size=(9, 4)), rng.normal(size=4), rng.normal(size=9)
    copies = X.copy(), w.copy(), y.copy()
    gd_step(X, w, y, 0.05)
    for label, before, now in zip("Xwy", copies, (X, w, y)):
        assert np.array_equal(before, now), f"gd_step modified its input {label} in place"
