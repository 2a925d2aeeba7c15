# attack: write sitecustomize.py, usercustomize.py and .pth files into every sys.path folder for the next submission
# defence: the venv is bound read-only and /tmp is a fresh tmpfs per worker
# then-clean: true
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os
import site
import sys

import numpy as np


HOOK = 'open("@PWNED@", "w").close()\n'


def _persist():
    folders = set(sys.path) | set(site.getsitepackages()) | {site.getusersitepackages(), "/tmp"}
    folders |= {"@ROOT@/.venv/lib/python3.11/site-packages", "/venv/lib/python3.11/site-packages"}
    for folder in folders:
        for name, text in (("sitecustomize.py", HOOK), ("usercustomize.py", HOOK),
                           ("zz-pwned-@MARKER@.pth", "import os; " + HOOK)):
            try:
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, name), "w") as handle:
                    handle.write(text)
            except OSError:
                pass


_persist()


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
