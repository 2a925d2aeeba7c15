# attack: read every inherited file descriptor and write junk into the writable ones
# defence: the worker inherits only its own pipes and log; the harness owns the verdicts
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os

import numpy as np


def _scan():
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            found.append((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:
            continue
        if fd > 2:
            try:
                found.append(os.pread(fd, 200, 0))
            except OSError:
                pass
            try:
                os.write(fd, b'{"ok": true, "value": 25}')
            except OSError:
                pass
    return found


print(_scan())


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
