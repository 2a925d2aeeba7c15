# attack: a notebook with ! shell escapes, % magics, %%bash/%%script cells and get_ipython() calls
# defence: the worker's grading shell (grader/nbrun.py) refuses every shell escape and notes it
# stage: notebook
"""Red-team submission: the honest twin (tests/redteam/twin.py) plus one exploit."""
import numpy as np


# %%
!touch @PWNED@
%system touch @PWNED@-magic
# %%
%%bash
touch @PWNED@-bash
# %%
%%script bash
touch @PWNED@-script
# %%
files = !touch @PWNED@-getoutput
%sx touch @PWNED@-sx
%pip install --target @PWNED@-pip six
# %%
try:
    get_ipython().system("touch @PWNED@-ipython")
    get_ipython().run_cell_magic("sh", "", "touch @PWNED@-cell-magic")
except NameError:
    pass
# %%


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
