"""Polynomial regression with numpy, trained by gradient descent.

Fit y ≈ w0 + w1 x + w2 x^2 + ... + wd x^d by minimising the mean squared
error with plain gradient descent. numpy only: do not import torch here.
"""
import numpy as np


def poly_features(x, degree):
    """Polynomial features of a 1-D input.

    x: array of shape (n,). Returns X of shape (n, degree + 1) whose column k
    is x**k (column 0 is all ones).
    """
    raise NotImplementedError  # TODO: your code here


def predict(X, w):
    """Predictions X @ w, shape (n,)."""
    raise NotImplementedError  # TODO: your code here


def mse_loss(y_pred, y):
    """Mean squared error, mean((y_pred - y)**2), as a Python float."""
    raise NotImplementedError  # TODO: your code here


def mse_grad(X, w, y):
    """Gradient of mse_loss(predict(X, w), y) with respect to w, shape (d,).

    Differentiate mean((X w - y)**2) by hand: the result is (2/n) X^T (X w - y).
    """
    raise NotImplementedError  # TODO: your code here


def gd_step(X, w, y, lr):
    """One gradient-descent step: return w - lr * mse_grad(X, w, y) as a new array.

    Do not modify w in place.
    """
    raise NotImplementedError  # TODO: your code here


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    """Fit a degree-`degree` polynomial by plain gradient descent.

    Start from w = np.random.default_rng(seed).normal(size=degree + 1) on the
    raw features poly_features(x, degree). Return (w, losses) where losses is
    a list of `steps` Python floats and losses[t] is the MSE *before* update t.
    The defaults must fit y = sin(x) on 2000 points in [-pi, pi] to MSE <= 0.005.
    """
    raise NotImplementedError  # TODO: your code here
