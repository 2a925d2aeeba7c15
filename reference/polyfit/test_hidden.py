"""Hidden tests for polyfit: values against the reference on the harness's own
inputs (float64 results, size-1 dimensions: a batch of one, degree 0), a
finite-difference check, purity, and the training trajectory."""
import contextlib
import math

import numpy as np
import pytest

from grader.checks import (central_differences, expect_array, expect_gradient, expect_scalar,
                           expect_shape, expect_tuple, fail, perturbations, sample_indices)
from grader.errors import SubmissionError
from grader.vocabulary import Outcome

SIN_X = np.linspace(-np.pi, np.pi, 2000)


def problem(rng, n=9, d=4):
    return rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=n)


@pytest.mark.points(1)
@pytest.mark.parametrize("degree", [0, 1, 3, 5])
def test_poly_features_values(student, ref, rng, degree):
    """poly_features: shape, dtype and values"""
    x = rng.uniform(-2, 2, size=7)
    expected = ref.poly_features(x, degree)
    X = expect_array(student.poly_features(x, degree), expected, "poly_features",
                     dtype=np.float64, index_name="X")
    expect_float64_precision(X, expected, "poly_features", "X")


@pytest.mark.points(1)
def test_predict_values(student, ref, rng):
    """predict: values on a non-square X"""
    X, w, _ = problem(rng)
    expect_float64(student.predict(X, w), ref.predict(X, w), "predict", "y_pred")


@pytest.mark.points(1)
def test_mse_loss_value_and_type(student, ref, rng):
    """mse_loss: a float equal to the mean squared error"""
    a, b = rng.normal(size=11), rng.normal(size=11)
    expect_scalar(student.mse_loss(a, b), ref.mse_loss(a, b), "mse_loss")


@pytest.mark.points(2)
def test_mse_grad_values(student, ref, rng):
    """mse_grad: values against the reference"""
    X, w, y = problem(rng)
    expect_float64(student.mse_grad(X, w, y), ref.mse_grad(X, w, y), "mse_grad", "grad")


@pytest.mark.points(2)
def test_mse_grad_finite_differences(student, ref, rng):
    """mse_grad: central finite differences of the loss, computed by the grader"""
    X, w, y = problem(rng, n=13, d=5)
    grad = expect_shape(student.mse_grad(X, w, y), w.shape, "mse_grad")
    indices = sample_indices(w.shape, 5, rng)
    losses = [ref.mse_loss(ref.predict(X, wp), y) for wp in perturbations(w, indices)]
    expect_gradient(grad, central_differences(losses), indices, "mse_grad", index_name="w")


@pytest.mark.points(1)
def test_gd_step_values(student, ref, rng):
    """gd_step: w - lr * grad"""
    X, w, y = problem(rng)
    expect_float64(student.gd_step(X, w, y, 0.05), ref.gd_step(X, w, y, 0.05), "gd_step", "w_new")


@pytest.mark.points(1)
def test_gd_step_leaves_inputs_alone(student, rng):
    """gd_step: returns a new array and does not modify X, w or y"""
    X, w, y = problem(rng)
    _, after = student.call_and_inputs("gd_step", X, w, y, 0.05)
    for name, before, now in zip("Xwy", (X, w, y), after[:3]):
        if not np.array_equal(before, now):
            fail(f"gd_step modified its input {name} in place; return a new array instead")


SIZE_ONE_SHAPES = [(1, 4), (5, 1), (1, 1)]  # a batch of one, one weight (degree 0), both


def size_one_calls(rng, fn):
    """(description, args) for fn on inputs with size-1 dimensions."""
    if fn == "poly_features":
        return [(f"x of shape {shape} and degree {degree}", (rng.uniform(-2, 2, size=shape), degree))
                for shape, degree in (((1,), 0), ((1,), 3), ((6,), 0))]
    calls = []
    for n, d in SIZE_ONE_SHAPES:
        X, w, y = problem(rng, n=n, d=d)
        args = {"predict": (X, w), "mse_grad": (X, w, y), "gd_step": (X, w, y, 0.05)}[fn]
        calls.append((f"X of shape ({n}, {d}) and w of shape ({d},)", args))
    return calls


@pytest.mark.points(1)
@pytest.mark.parametrize("fn", ["poly_features", "predict", "mse_grad", "gd_step"])
def test_size_one_dimensions(student, ref, rng, fn):
    """size-1 dimensions (a batch of one, degree 0) keep their axes"""
    calls = size_one_calls(rng, fn)
    results = student.many(fn, [args for _, args in calls])
    for (case, args), got in zip(calls, results):
        expected = getattr(ref, fn)(*args)
        expect_same_shape(got, expected.shape, f"{fn}: for {case}")
        expect_float64(got, expected, f"{fn}: for {case}", "result")


@pytest.mark.points(1)
def test_fit_degree_zero_and_a_single_point(student, ref, rng):
    """fit: degree 0 (w of size 1) and a batch of one (x of shape (1,)) follow the reference"""
    x = rng.uniform(-1, 1, size=12)
    cases = [("degree 0 (X of shape (12, 1), w of shape (1,))", x, np.cos(x), 0),
             ("a single point (x of shape (1,)) and degree 2", x[:1], np.cos(x[:1]), 2)]
    for case, xs, ys, degree in cases:
        with hint_on_error(f"fit with {case}: keep the size-1 axes (no .squeeze())"):
            got = student.fit(xs, ys, degree=degree, lr=0.05, steps=4, seed=5)
        w, losses = expect_tuple(got, 2, f"fit with {case}")
        ref_w, ref_losses = ref.fit(xs, ys, degree=degree, lr=0.05, steps=4, seed=5)
        expect_same_shape(w, ref_w.shape, f"fit with {case}: w")
        expect_array(w, ref_w, f"fit with {case}: w after 4 steps", rtol=1e-8, index_name="w")
        expect_array(np.asarray(losses, dtype=float), np.asarray(ref_losses),
                     f"fit with {case}: losses", rtol=1e-8, index_name="losses")


def purity_call(rng, fn):
    X, w, y = problem(rng)
    return {"poly_features": (("x", "degree"), (rng.uniform(-2, 2, size=7), 3)),
            "predict": (("X", "w"), (X, w)),
            "mse_loss": (("y_pred", "y"), (X @ w, y)),
            "mse_grad": (("X", "w", "y"), (X, w, y))}[fn]


@pytest.mark.points(1)
@pytest.mark.parametrize("fn", ["poly_features", "predict", "mse_loss", "mse_grad"])
def test_leaves_inputs_alone(student, rng, fn):
    """the function does not modify its array arguments in place"""
    names, args = purity_call(rng, fn)
    _, after = student.call_and_inputs(fn, *args)
    for name, before, now in zip(names, args, after):
        if isinstance(before, np.ndarray) and not np.array_equal(before, now):
            fail(f"{fn} modified its input {name} in place (e.g. {name} -= ... or {name} *= ...); "
                 f"compute a new array instead (a = {name} - ...), so the caller's {name} stays as it was")


@pytest.mark.points(1)
def test_fit_history_length_and_first_loss(student, ref, rng):
    """fit: `steps` losses, and losses[0] is the MSE at the seeded initial w"""
    x = rng.uniform(-1, 1, size=50)
    y = np.cos(x)
    w, losses = expect_tuple(student.fit(x, y, degree=2, lr=0.01, steps=7, seed=3), 2, "fit")
    if not isinstance(losses, list) or len(losses) != 7:
        fail(f"fit: losses should be a list of `steps` = 7 floats, got "
             f"{type(losses).__name__} of length {len(losses) if hasattr(losses, '__len__') else '?'}")
    w0 = np.random.default_rng(3).normal(size=3)
    start = ref.mse_loss(ref.predict(ref.poly_features(x, 2), w0), y)
    expect_scalar(losses[0], start, "fit: losses[0] (the loss before the first update, at "
                  "w = default_rng(seed).normal(size=degree + 1))")
    expect_shape(w, (3,), "fit: w")


@pytest.mark.points(2)
def test_fit_trajectory_matches_reference(student, ref, rng):
    """fit: the first steps follow the reference trajectory"""
    x = rng.uniform(-1.5, 1.5, size=40)
    y = x ** 3 - x
    w, losses = expect_tuple(student.fit(x, y, degree=3, lr=0.02, steps=6, seed=11), 2, "fit")
    ref_w, ref_losses = ref.fit(x, y, degree=3, lr=0.02, steps=6, seed=11)
    expect_array(np.asarray(losses, dtype=float), np.asarray(ref_losses), "fit: losses",
                 rtol=1e-8, index_name="losses")
    expect_array(w, ref_w, "fit: w after 6 steps", rtol=1e-8, index_name="w")


@pytest.mark.points(2)
def test_fit_defaults_converge_on_sin(student, ref):
    """fit: the defaults reach MSE <= 0.005 on sin (the optimum is 0.004409)"""
    w, losses = expect_tuple(student.fit(SIN_X, np.sin(SIN_X)), 2, "fit")
    w = expect_shape(w, (4,), "fit: w")
    final = ref.mse_loss(ref.predict(ref.poly_features(SIN_X, 3), w.astype(float)), np.sin(SIN_X))
    if not final <= 0.005:
        fail(f"fit: final MSE {final:.5g} is above 0.005 with the default lr and steps")
    if not all(isinstance(v, float) for v in losses[:5]):
        fail("fit: losses should hold Python floats")


@pytest.mark.points(1)
def test_numpy_only(student):
    """polyfit uses numpy only (no torch)"""
    if student.probe(imports_torch):
        fail("polyfit imported torch; this assignment is numpy only")


def imports_torch(module):
    """running fit and checking which libraries your module imported"""
    import sys
    import numpy as np
    x = np.linspace(-1, 1, 20)
    module.fit(x, x ** 2, degree=2, lr=0.01, steps=3, seed=0)
    return "torch" in sys.modules


# --- helpers -------------------------------------------------------------------------

def expect_same_shape(got, shape, name):
    """got must be an array of this shape; a squeezed-away size-1 axis is named as such."""
    got_shape = np.shape(got) if isinstance(got, (np.ndarray, float, np.floating)) else None
    if got_shape is not None and got_shape != tuple(shape) and math.prod(got_shape) == math.prod(shape) \
            and tuple(n for n in got_shape if n != 1) == tuple(n for n in shape if n != 1):
        fail(f"{name}: expected shape {shape_text(shape)}, got {shape_text(got_shape)}"
             f" — did you .squeeze() (or reshape) away a size-1 axis?")
    return expect_shape(got, shape, name)


def expect_float64(got, expected, name, index_name):
    """Values close to the reference's, with the float64 dtype the assignment promises."""
    array = expect_array(got, expected, name, index_name=index_name)
    if array.dtype != np.float64:
        fail(f"{name}: returned dtype {array.dtype} for float64 inputs; results must stay float64 "
             f"— did you cast to float32 (astype(np.float32), dtype=np.float32)?")
    return array


def expect_float64_precision(got, expected, name, index_name):
    """Agreement to float64 precision: computing in float32 loses digits even when cast back."""
    error = np.abs(got - expected) / np.maximum(np.abs(expected), 1e-300)
    index = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
    if error[index] > 1e-10:
        fail(f"{name}: {index_name}[{', '.join(map(str, index))}] is {float(got[index])!r}, expected "
             f"{float(expected[index])!r}: equal only to a relative {error[index]:.1e} (float64 gives "
             f"about 1e-16) — did you compute in float32 (dtype=np.float32) before the result became float64?")


@contextlib.contextmanager
def hint_on_error(hint):
    """Add a hint to the message when the submission raises (not when it times out or crashes)."""
    try:
        yield
    except SubmissionError as error:
        if error.kind is not Outcome.ERROR:
            raise
        first, newline, rest = str(error).partition("\n")
        raise SubmissionError(f"{first} ({hint}){newline}{rest}", error.kind) from None


def shape_text(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"
