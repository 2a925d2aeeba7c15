# attack: return numpy object and structured arrays holding a __reduce__ payload
# defence: the codec accepts only numeric dtypes and sends raw bytes
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
    return np.array([Payload()] + [0.0] * (len(w) - 1), dtype=object)


def gd_step(X, w, y, lr):
    return np.zeros(len(w), dtype=[("a", "f8"), ("b", "O")])


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(predict(X, w), y))
        w = gd_step(X, w, y, lr)
    return w, losses
