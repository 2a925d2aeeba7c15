"""Correct, with np.vander and np.dot; fit uses a larger stable step."""
import numpy as np


def poly_features(x, degree):
    return np.vander(x, degree + 1, increasing=True).astype(np.float64)


def predict(X, w):
    return np.dot(X, w)


def mse_loss(y_pred, y):
    return float(np.square(y_pred - y).mean())


def mse_grad(X, w, y):
    n = X.shape[0]
    return (2 / n) * np.dot(X.T, np.dot(X, w) - y)


def gd_step(X, w, y, lr):
    new = w.copy()
    new -= lr * mse_grad(X, w, y)
    return new


def fit(x, y, degree=3, lr=6e-3, steps=2500, seed=0):
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(predict(X, w), y))
        w = gd_step(X, w, y, lr)
    return w, losses
