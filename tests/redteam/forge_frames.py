# attack: find the worker's reply pipe by a frame walk and write forged frames: a perfect-looking reply and an out-of-range numpy scalar
# defence: replies carry data, never verdicts; the codec rejects what it cannot decode with a CodecError
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import json
import struct
import sys

import numpy as np


def _channel():
    frame = sys._getframe()
    while frame is not None:
        if "replies" in frame.f_locals:
            return frame.f_locals["replies"]
        frame = frame.f_back
    return None


def _send(value):
    channel = _channel()
    if channel is not None:
        data = json.dumps(value).encode()
        channel.write(struct.pack(">Q", len(data)) + data)
        channel.flush()


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    _send({"$dict": {"ok": True, "value": {"$np": ["int8", 1000]}}})
    _send({"$dict": {"ok": True, "value": {"$np": ["uint8", -1]}}})
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
