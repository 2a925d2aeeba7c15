# attack: return float subclasses whose comparisons and arithmetic lie
# defence: the codec turns every float into a plain float before the harness sees it
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import numpy as np


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __sub__(self, other):
        return LyingFloat(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return LyingFloat(0.0)

    def __hash__(self):
        return 0


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    return [LyingFloat(v) for v in X.T @ (X @ w - y) / len(y)]


def gd_step(X, w, y, lr):
    return w - lr * mse_grad(X, w, y)


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(LyingFloat(mse_loss(predict(X, w), y)))
        w = gd_step(X, w, y, lr)
    return [LyingFloat(v) for v in w], losses
