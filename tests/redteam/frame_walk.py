# attack: walk sys._getframe() up the stack looking for the expected answer
# defence: expected values live only in the harness; the worker's frames hold just the inputs
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import sys

import numpy as np


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    frame, seen = sys._getframe(), []
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for key, value in list(scope.items()):
                if isinstance(value, np.ndarray) and value.shape == w.shape and value is not w:
                    return value
                if key in ("expected", "ref", "reference", "want", "answer"):
                    seen.append(value)
        frame = frame.f_back
    if seen:
        return np.asarray(seen[0], dtype=float)
    return X.T @ (X @ w - y) / len(y)


def gd_step(X, w, y, lr):
    return w - lr * mse_grad(X, w, y)


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(predict(X, w), y))
        w = gd_step(X, w, y, lr)
    return w, losses
