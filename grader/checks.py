"""Checks that suites use: comparisons with teaching messages, gradient checks.

Everything here runs in the harness on plain data decoded from the worker.
A failed check raises AssertionError whose message names the function, the
entry that is off, expected and got, and a guess at the bug when one fits:

    mse_grad: wrong value at w[2] (expected 0.31, got 0.62 — off by a factor of 2?)

Gradient checks follow CS231n: central differences in float64 with h = 1e-5,
relative error |a - n| / max(1e-8, |a| + |n|), a few random coordinates of
every parameter when the parameter is large.
"""
import math

import numpy as np

H = 1e-5


class CheckFailed(AssertionError):
    pass


def fail(message):
    raise CheckFailed(message)


# --- values ---------------------------------------------------------------------

def as_array(value, name, *, tensor=False):
    """The value as a float ndarray; a torch tensor is accepted when tensor=True."""
    torch = _torch() if tensor else None
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    expected = "a torch tensor" if tensor else "a numpy array"
    fail(f"{name}: should return {expected}, got {_kind(value)}")


def expect_array(got, expected, name, *, rtol=1e-6, atol=1e-8, tensor=False, dtype=None,
                 index_name=None):
    """got must have expected's shape, a float dtype (or `dtype`), be finite and close."""
    expected = np.asarray(as_array(expected, "reference", tensor=True) if tensor else expected)
    array = as_array(got, name, tensor=tensor)
    if array.shape != expected.shape:
        fail(f"{name}: wrong shape: expected {_shape(expected.shape)}, got {_shape(array.shape)}"
             + _shape_hint(array.shape, expected.shape))
    want = np.dtype(dtype) if dtype is not None else None
    if want is not None and array.dtype != want:
        fail(f"{name}: wrong dtype: expected {want}, got {array.dtype}")
    if want is None and not (np.issubdtype(array.dtype, np.floating) or
                             np.issubdtype(array.dtype, np.complexfloating)):
        fail(f"{name}: expected floating-point values, got dtype {array.dtype}")
    bad = ~np.isfinite(array)
    if bad.any() and not (~np.isfinite(expected) == bad).all():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(f"{name}: non-finite value {array[index]} at {_at(index_name or name, index)}")
    close = np.isclose(array, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        error = np.where(close, 0, np.abs(array - expected))
        index = tuple(int(i) for i in np.unravel_index(np.argmax(error), array.shape))
        wrong = int((~close).sum())
        fail(f"{name}: wrong value at {_at(index_name or name, index)} (expected "
             f"{_num(expected[index])}, got {_num(array[index])}{hint(array, expected)}); "
             f"{wrong} of {array.size} entries are off")
    return array


def expect_scalar(got, expected, name, *, rtol=1e-6, atol=1e-8):
    """got must be a real number (Python or numpy scalar, or a 0-d array) close to expected."""
    if isinstance(got, np.ndarray) and got.shape == ():
        got = got.item()
    torch = _torch()
    if torch is not None and isinstance(got, torch.Tensor):
        fail(f"{name}: should return a Python float, got a tensor (use .item())")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        fail(f"{name}: should return a number, got {_kind(got)}")
    got = float(got)
    if not math.isfinite(got):
        fail(f"{name}: returned {got}, expected {_num(expected)}")
    if not math.isclose(got, float(expected), rel_tol=rtol, abs_tol=atol):
        fail(f"{name}: expected {_num(expected)}, got {_num(got)}"
             f"{hint(np.array([got]), np.array([float(expected)]))}")
    return got


def expect_tuple(got, length, name):
    """got must be a tuple (or list) of `length` items, e.g. fit's (w, losses)."""
    if not isinstance(got, (tuple, list)) or len(got) != length:
        size = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        fail(f"{name}: should return a tuple of {length} values, got {_kind(got)}{size}")
    return tuple(got)


def expect_shape(got, shape, name, *, tensor=False):
    array = as_array(got, name, tensor=tensor)
    if tuple(array.shape) != tuple(shape):
        fail(f"{name}: wrong shape: expected {_shape(shape)}, got {_shape(array.shape)}"
             + _shape_hint(array.shape, tuple(shape)))
    return array


def hint(got, expected):
    """A guess at the bug behind a wrong array, as ' — ...?' or ''."""
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    mask = np.abs(expected) > 1e-12
    if got.shape != expected.shape or not mask.any():
        return ""
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got, expected.T, rtol=1e-5):
        return " — transposed?"
    ratios = got[mask] / expected[mask]
    ratio = float(np.median(ratios))
    if not np.allclose(ratios, ratio, rtol=1e-4) or not math.isfinite(ratio):
        return ""
    if math.isclose(ratio, 1, rel_tol=1e-3):  # right but for the last digits
        return " — close, but not to float64 precision (float32 somewhere?)"
    for value, text in ((-1, "sign flipped"), (2, "off by a factor of 2"), (0.5, "off by a factor of 1/2"),
                        (0, "all zeros")):
        if math.isclose(ratio, value, rel_tol=1e-4, abs_tol=1e-9):
            return f" — {text}?"
    if abs(ratio) > 1 and abs(round(ratio)) >= 2 and math.isclose(ratio, round(ratio), rel_tol=1e-6):
        return f" — off by a factor of {round(ratio)} (a sum instead of a mean?)"
    if 0 < abs(ratio) < 1 and abs(round(1 / ratio)) >= 2 and math.isclose(1 / ratio, round(1 / ratio), rel_tol=1e-6):
        return f" — off by a factor of 1/{round(1 / ratio)} (a mean instead of a sum?)"
    if mask.sum() < 2:  # a single value fits any factor: name only the telling ones
        return ""
    return f" — every entry is off by a factor of {ratio:.4g}?"


def _shape_hint(got, expected):
    if 1 in expected and tuple(got) == tuple(d for d in expected if d != 1):
        return " — a squeeze() (or an index) dropped a size-1 dimension (a batch of one, a single feature)?"
    if len(got) == 2 and got[0] == got[1] > 1 and tuple(expected) in ((got[0], 1), (1, got[0])):
        return " — a (n,) array broadcast against a (n, 1) one: a squeeze() or a missing keepdims=True?"
    if len(got) == len(expected) and sorted(got) == sorted(expected):
        return " — transposed?"
    if math.prod(got) == math.prod(expected):
        return " — same number of entries: a reshape or a missing/extra axis?"
    return ""


# --- gradients -------------------------------------------------------------------

def rel_error(a, b):
    """CS231n's elementwise relative error, floored so 0 vs 0 is 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def sample_indices(shape, count, rng):
    """Up to `count` distinct multi-indices into an array of this shape."""
    size = math.prod(shape)
    flat = np.arange(size) if size <= count else rng.choice(size, size=count, replace=False)
    return [tuple(int(i) for i in np.unravel_index(int(f), shape)) for f in sorted(flat)]


def perturbations(x, indices, h=H):
    """[x + h e_i, x - h e_i for each index]: the inputs a central difference needs."""
    out = []
    for index in indices:
        for sign in (1, -1):
            shifted = np.array(x, dtype=np.float64, copy=True)
            shifted[index] += sign * h
            out.append(shifted)
    return out


def central_differences(values, h=H, name="the loss"):
    """From [f(x+h e_i), f(x-h e_i), ...] to the numerical partial derivatives.

    Each value must be a single real number: `name` says whose, for the message.
    """
    numbers = []
    for value in values:
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value.item()
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            fail(f"{name} should be a single number, got {_kind(value)}"
                 + (f" of shape {_shape(value.shape)}" if isinstance(value, np.ndarray) else ""))
        numbers.append(float(value))
    values = np.asarray(numbers, dtype=np.float64)
    return (values[0::2] - values[1::2]) / (2 * h)


def expect_gradient(analytic, numeric, indices, name, *, threshold=1e-6, index_name=None):
    """Compare an analytic gradient at `indices` with numerical partials there."""
    analytic = np.asarray(analytic, dtype=np.float64)
    picked = np.array([analytic[i] for i in indices])
    if not np.isfinite(picked).all():
        index = indices[int(np.argmin(np.isfinite(picked)))]
        fail(f"{name}: non-finite gradient {picked[indices.index(index)]} at "
             f"{_at(index_name or name, index)}")
    errors = rel_error(picked, numeric)
    worst = int(np.argmax(errors))
    if not errors[worst] <= threshold:  # NaN-safe: a NaN error fails too
        index = indices[worst]
        fail(f"{name}: gradient wrong at {_at(index_name or name, index)} (finite differences "
             f"give {_num(numeric[worst])}, your gradient {_num(picked[worst])}"
             f"{hint(picked, numeric)}; relative error {errors[worst]:.1e})")


# --- formatting ----------------------------------------------------------------

def _at(name, index):
    return f"{name}[{', '.join(str(i) for i in index)}]" if index else name


def _num(value):
    value = complex(value) if np.iscomplexobj(value) else float(value)
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _shape(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a {type(value).__name__}" if value is not None else "None"


def _torch():
    import sys
    return sys.modules.get("torch")
