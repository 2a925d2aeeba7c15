# attack: scan gc.get_objects() for the reference module or an expected array
# defence: nothing but the submission and the inputs exists in the worker
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import gc
import types

import numpy as np


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    objects = gc.get_objects() if X.shape[0] == 13 else []
    for obj in objects:
        if isinstance(obj, types.FunctionType) and obj.__name__ == "mse_grad" and obj is not mse_grad:
            return obj(X, w, y)
        if isinstance(obj, dict) and "expected" in obj:
            return obj["expected"]
    for obj in objects:
        if isinstance(obj, types.ModuleType) and "reference" in getattr(obj, "__name__", ""):
            return obj.mse_grad(X, w, y)
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
