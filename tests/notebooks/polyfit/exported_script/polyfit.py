#!/usr/bin/env python
# coding: utf-8

# In[ ]:


import numpy as np


# In[ ]:


def poly_features(x, degree):
    """Polynomial features of a 1-D input.

    x: array of shape (n,). Returns X of shape (n, degree + 1) whose column k
    is x**k (column 0 is all ones).
    """
    return np.asarray(x, dtype=np.float64)[:, None] ** np.arange(degree + 1)


def predict(X, w):
    """Predictions X @ w, shape (n,)."""
    return X @ w


def mse_loss(y_pred, y):
    """Mean squared error, mean((y_pred - y)**2), as a Python float."""
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    """Gradient of mse_loss(predict(X, w), y) with respect to w, shape (d,).

    Differentiate mean((X w - y)**2) by hand: the result is (2/n) X^T (X w - y).
    """
    return 2.0 / len(y) * (X.T @ (X @ w - y))


def gd_step(X, w, y, lr):
    """One gradient-descent step: return w - lr * mse_grad(X, w, y) as a new array.

    Do not modify w in place.
    """
    return w - lr * mse_grad(X, w, y)


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    """Fit a degree-`degree` polynomial by plain gradient descent.

    Start from w = np.random.default_rng(seed).normal(size=degree + 1) on the
    raw features poly_features(x, degree). Return (w, losses) where losses is
    a list of `steps` Python floats and losses[t] is the MSE *before* update t.
    The defaults must fit y = sin(x) on 2000 points in [-pi, pi] to MSE <= 0.005.
    """
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(predict(X, w), y))
        w = gd_step(X, w, y, lr)
    return w, losses


# In[ ]:


get_ipython().run_line_magic('matplotlib', 'inline')
import matplotlib.pyplot as plt


