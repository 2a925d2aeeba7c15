"""A toy numpy assignment for the grader's own tests."""
import numpy as np


def scale(x, k):
    """k * x, for an array x and a number k."""
    # BEGIN SOLUTION
    return k * np.asarray(x, dtype=float)
    # END SOLUTION


def square_grad(x):
    """The gradient of sum(x ** 2) with respect to x."""
    # BEGIN SOLUTION
    return 2.0 * np.asarray(x, dtype=float)
    # END SOLUTION


def mean(values):
    """The mean of a list of numbers, as a float."""
    # BEGIN SOLUTION
    return float(sum(values) / len(values))
    # END SOLUTION
