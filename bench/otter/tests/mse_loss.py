"""mse_loss: the public worked example and a hidden value and type check."""
import numpy as np
from otter.test_files import test_case

OK_FORMAT = False

name = "mse_loss"


@test_case(points=1, hidden=False)
def test_worked_example(mse_loss):
    got = mse_loss(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    assert np.isclose(got, 5 / 3), f"mse_loss: got {got}, expected 5/3"


@test_case(points=1, hidden=True)
def test_value_and_type(mse_loss):
    rng = np.random.default_rng(30)
    a, b = rng.normal(size=11), rng.normal(size=11)
    got = mse_loss(a, b)
    assert isinstance(got, float), f"mse_loss: returned {type(got).__name__}, expected a Python float"
    assert np.isclose(got, np.mean((a - b) ** 2)), f"mse_loss: got {got}"
