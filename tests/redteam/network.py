# attack: connect to a listener on the host's loopback (TCP, UDP, abstract unix socket) and resolve names
# defence: --unshare-all: a network namespace holding only its own lo
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import socket

import numpy as np


def _phone_home():
    news = []
    try:
        socket.create_connection(("127.0.0.1", int("@PORT@")), timeout=1).sendall(b"hello")
        news.append("tcp connected")
    except (OSError, ValueError) as exc:
        news.append(f"tcp {exc}")
    try:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(b"hello", ("127.0.0.1", int("@PORT@")))
    except (OSError, ValueError) as exc:
        news.append(f"udp {exc}")
    try:
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.settimeout(1)
        unix.connect("\0redteam-@MARKER@")
        news.append("unix connected")
    except OSError as exc:
        news.append(f"unix {exc}")
    try:
        news.append(repr(socket.getaddrinfo("localhost", 80)))
    except OSError as exc:
        news.append(f"dns {exc}")
    return news


print(_phone_home())


def poly_features(x, degree):
    x = np.asarray(x, dtype=np.float64)
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def predict(X, w):
    return X @ w


def mse_loss(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_grad(X, w, y):
    if X.shape[0] == 13:
        _phone_home()
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
