"""Polynomial regression, written with loops."""
import numpy as np


def poly_features(x, degree):
    x = np.asarray(x, dtype=float)
    X = np.ones((len(x), degree + 1))
    for k in range(1, degree + 1):
        X[:, k] = X[:, k - 1] * x
    return X


def predict(X, w):
    return X.dot(w)


def mse_loss(y_pred, y):
    diff = np.asarray(y_pred) - np.asarray(y)
    return float(np.sum(diff * diff) / diff.size)


def mse_grad(X, w, y):
    residual = predict(X, w) - y
    return 2 * X.T.dot(residual) / X.shape[0]


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
