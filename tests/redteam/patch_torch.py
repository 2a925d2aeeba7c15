# attack: import torch and monkeypatch torch.allclose / torch.testing.assert_close / torch.equal
# defence: comparisons run in the harness; the patch stays in the worker
# allowance: 15
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import torch

import numpy as np


torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
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
