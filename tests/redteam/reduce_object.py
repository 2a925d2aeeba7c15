# attack: return an object whose __reduce__ runs os.system, and dicts that mimic the codec's tags
# defence: the codec never pickles; unknown types are refused in the worker
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os

import numpy as np


class Payload:
    def __reduce__(self):
        return (os.system, ("touch @PWNED@",))


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    return Payload()


def gd_step(X, w, y, lr):
    return {"$nd": ["object", [1], "gASVCAAAAAAAAACMAm9zlC4="], "$reduce": Payload()}


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(predict(X, w), y))
        w = gd_step(X, w, y, lr)
    return w, losses
