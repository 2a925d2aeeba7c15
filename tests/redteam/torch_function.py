# attack: return a torch.Tensor subclass whose __torch_function__ makes comparisons pass
# defence: tensors cross as bytes and come back as plain tensors; comparisons run in the harness
# allowance: 15
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import torch

import numpy as np


_LIES = {"allclose": True, "equal": True, "isclose": None, "eq": None, "__eq__": None}


class LyingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    return torch.zeros(len(w), dtype=torch.float64).as_subclass(LyingTensor)


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
