"""Public tests of the toy assignment."""
import numpy as np

from grader import checks


def test_scale(student):
    """scale: [1, 2, 3] times 2"""
    checks.expect_array(student.scale(np.array([1.0, 2.0, 3.0]), 2.0), np.array([2.0, 4.0, 6.0]), "scale")


def test_mean(student):
    """mean: of [1, 2, 6] is 3"""
    checks.expect_scalar(student.mean([1.0, 2.0, 6.0]), 3.0, "mean")
