"""Inputs `grader audit polyfit` runs every mutant on, beside the reference.

Shapes students get wrong: one sample, one feature, a square X, degree 0.
"""
from grader.audit.inputs import Call


def cases(rng):
    for n, d in ((1, 1), (1, 3), (4, 1), (4, 4), (9, 3)):
        X, w, y = rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n)
        yield Call("predict", X, w)
        yield Call("mse_grad", X, w, y)
        yield Call("gd_step", X, w, y, 0.05)
    for n in (1, 3, 8):
        yield Call("poly_features", rng.uniform(-2, 2, size=n), 0)
        yield Call("poly_features", rng.uniform(-2, 2, size=n), 3)
        yield Call("mse_loss", rng.normal(size=n), rng.normal(size=n))
    yield Call("poly_features", rng.uniform(-2, 2, size=5).astype("float32"), 2)
    x = rng.uniform(-1, 1, size=12)
    for degree, steps, seed in ((0, 1, 0), (2, 5, 3), (3, 40, 7)):
        yield Call("fit", x, x ** 2, degree=degree, lr=0.05, steps=steps, seed=seed)
