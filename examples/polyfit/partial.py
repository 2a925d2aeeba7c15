"""A partial polyfit submission: features and loss done, the gradient is off by 2, no fit yet."""
import numpy as np


def poly_features(x, degree):
    return np.vander(x, degree + 1, increasing=True).astype(float)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    return X.T @ (X @ w - y) / len(y)


def gd_step(X, w, y, lr):
    return w - lr * mse_grad(X, w, y)


def fit(x, y, degree=3, lr=5e-3, steps=2000, seed=0):
    raise NotImplementedError
