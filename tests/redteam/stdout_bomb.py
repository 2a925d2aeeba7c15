# attack: print up to 100 MB to stdout and stderr in mse_grad
# defence: the worker's output goes to a size-limited log; feedback keeps a short tail
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
    if X.shape[0] == 6:
        line = "spam " * 200000
        try:
            for _ in range(100):
                print(line)
                sys.stderr.write(line)
        except (OSError, ValueError):
            pass
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
