"""Correct, written with plain Python loops."""
import numpy as np


def poly_features(x, degree):
    X = np.empty((len(x), degree + 1))
    for i, xi in enumerate(x):
        for k in range(degree + 1):
            X[i, k] = xi ** k
    return X


def predict(X, w):
    out = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            out[i] += X[i, j] * w[j]
    return out


def mse_loss(y_pred, y):
    total = 0.0
    for a, b in zip(y_pred, y):
        total += (a - b) ** 2
    return total / len(y)


def mse_grad(X, w, y):
    r = predict(X, w) - y
    g = np.zeros(len(w))
    for j in range(len(w)):
        for i in range(len(y)):
            g[j] += 2 * X[i, j] * r[i] / len(y)
    return g


def gd_step(X, w, y, lr):
    return w - lr * mse_grad(X, w, y)


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    X = poly_features(x, degree)
    w = np.random.default_rng(seed).normal(size=degree + 1)
    losses = []
    for _ in range(steps):
        r = X @ w - y
        losses.append(float(np.mean(r ** 2)))
        w = w - lr * 2 * X.T @ r / len(y)
    return w, losses
