# attack: ship pytest.ini, setup.cfg, tox.ini and pyproject.toml that would reconfigure pytest
# defence: the harness passes its own -c harness.ini and --rootdir; the submission folder is never pytest's
# stage: folder
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import numpy as np


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


SHIPPED = {
    "pytest.ini": "[pytest]\naddopts = -p no:grader.plugin --collect-only\npython_files = *.py\n",
    "setup.cfg": "[tool:pytest]\naddopts = --collect-only\n",
    "tox.ini": "[pytest]\naddopts = --collect-only\n",
    "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--collect-only'\n",
}
