"""A toy numpy assignment for the grader's own tests."""
import numpy as np


def scale(x, k):
    """k * x, for an array x and a number k."""
    raise NotImplementedError  # TODO: your code here


def square_grad(x):
    """The gradient of sum(x ** 2) with respect to x."""
    raise NotImplementedError  # TODO: your code here


def mean(values):
    """The mean of a list of numbers, as a float."""
    raise NotImplementedError  # TODO: your code here
