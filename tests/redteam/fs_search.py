# attack: search the file system for the reference or the hidden tests (os.walk from /, /proc/*/cwd, known paths)
# defence: the sandbox shows only /usr, the venv, the worker and the module
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os

import numpy as np


FOUND = []


def _search():
    candidates = ["@ROOT@/reference/polyfit/polyfit.py", "@ROOT@/reference/polyfit/test_hidden.py",
                  "/proc/1/cwd/reference/polyfit/polyfit.py", "/proc/1/root/@ROOT@/reference/polyfit/polyfit.py"]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for link in ("cwd", "root"):
                candidates.append(f"/proc/{pid}/{link}/reference/polyfit/polyfit.py")
    budget = 50000
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if not (top == "/" and d in ("proc", "sys", "dev"))]
        budget -= len(files) + 1
        if budget < 0:
            break
        for name in files:
            if name in ("test_hidden.py", "results.json", "config.json") or (
                    name == "polyfit.py" and "reference" in top):
                candidates.append(os.path.join(top, name))
    for path in candidates:
        try:
            with open(path) as handle:
                FOUND.append((path, handle.read()))
        except OSError:
            pass


_search()
for _path, _text in FOUND:
    print("found", _path, _text[:3000])


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    for path, text in FOUND:
        if "def mse_grad" in text and path.endswith("polyfit.py"):
            namespace = {}
            exec(text, namespace)
            return namespace["mse_grad"](X, w, y)
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
