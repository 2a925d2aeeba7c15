"""Hidden tests of the toy assignment: against the reference, with finite differences."""
import numpy as np
import pytest

from grader import checks


@pytest.mark.points(2)
def test_scale_matches_reference(student, ref, rng):
    """scale agrees with the reference on random input"""
    x = rng.normal(size=(3, 4))
    checks.expect_array(student.scale(x, -1.5), ref.scale(x, -1.5), "scale")


@pytest.mark.points(2)
@pytest.mark.visibility("after_due_date")
def test_square_grad(student, ref, rng):
    """square_grad agrees with finite differences"""
    x = rng.normal(size=5)
    checks.expect_array(student.square_grad(x), ref.square_grad(x), "square_grad")


@pytest.mark.timeout(3)
def test_mean_of_one(student):
    """mean of a single value"""
    checks.expect_scalar(student.mean([4.0]), 4.0, "mean")


@pytest.mark.gpu
def test_scale_on_gpu(student, device):
    """scale on the GPU (skipped without CUDA)"""
    assert device == "cuda"
    checks.expect_array(student.scale(np.ones(2), 3.0), np.full(2, 3.0), "scale")
