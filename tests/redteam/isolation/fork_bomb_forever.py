# attack: a fork bomb in every mse_grad call, each spinning until the test's deadline kills it
# defence: each slot has its own uid (RLIMIT_NPROC), pids cgroup and session; a parallel grade is unaffected
"""The honest twin plus a sustained fork bomb, for tests/test_isolation.py (at most 500 forks a call)."""
import os
import time

import numpy as np


def _bomb():
    for _ in range(500):
        try:
            pid = os.fork()
        except OSError:
            time.sleep(0.01)
            continue
        if pid == 0:
            end = time.time() + 60
            while time.time() < end:
                pass
            os._exit(0)
    end = time.time() + 60
    while time.time() < end:
        pass


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    _bomb()
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
