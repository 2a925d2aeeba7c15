"""Hidden tests for functions: forward values against the reference, gradients
against finite differences of the student's own forward, and the contract of
a Function (what backward returns, what it saves, what it must not touch).

One probe, `run_function`, does everything next to the submission and
returns plain data: the output, the saved tensors, the tuple backward
returned when called directly, and the outputs at perturbed inputs. Every
verdict is decided here, in float64, from that data.
"""
import numpy as np
import pytest
import torch

from grader.checks import (central_differences, expect_array, expect_gradient, expect_shape, fail,
                           perturbations, sample_indices)

ELEMENTWISE = ["Exp", "Sigmoid", "LegendreP3"]
FUNCTIONS = ELEMENTWISE + ["LinearFunction"]
NAMES = {"LinearFunction": ["x", "weight", "bias"]}
# A 0-d tensor, size-1 dimensions (a batch of one; a middle axis of 1) and a plain 1-D input.
SHAPES = [(7,), (2, 1, 4), (), (1,)]
# float32 results are compared with the float64 reference at float32 precision.
TOLERANCE = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}
N, IN, OUT = 4, 5, 3
# (N, IN, OUT) for LinearFunction: a plain batch, a batch of one, one input and one output feature.
LINEAR_DIMS = [(N, IN, OUT), (1, IN, OUT), (N, 1, 1)]
# How LinearFunction is called: with a bias, without one, and with bias=None.
BIAS_MODES = ["bias", "no_bias", "bias_none"]


def run_function(module, name, inputs, needs_grad, grad_output, perturbed, device):
    """running forward, then calling backward"""
    import contextlib
    import torch
    import torch.autograd as autograd

    def tensor(array, requires_grad=False):
        return None if array is None else torch.tensor(array, device=device, requires_grad=requires_grad)

    def plain(value):
        if value is None or isinstance(value, torch.Tensor):
            return value if value is None else value.detach()
        return type(value).__name__

    # Tensor methods that copy data to the host (np.asarray(t) goes through numpy): on CUDA,
    # forward and backward must not call them (a round trip through the CPU).
    HOST_COPIES = ("cpu", "numpy", "tolist", "item")
    host_copies = set()  # those that forward or backward called

    @contextlib.contextmanager
    def counting_host_copies():
        def counted(method, original):
            def copy_to_host(self, *a, **k):
                host_copies.add(method)
                return original(self, *a, **k)
            return copy_to_host
        own = {m: torch.Tensor.__dict__.get(m) for m in HOST_COPIES}
        for method in HOST_COPIES:
            setattr(torch.Tensor, method, counted(method, getattr(torch.Tensor, method)))
        try:
            yield
        finally:
            for method, original in own.items():
                if original is None:
                    delattr(torch.Tensor, method)  # inherited from the C base class again
                else:
                    setattr(torch.Tensor, method, original)

    function = getattr(module, name)
    args = [tensor(a, flag) for a, flag in zip(inputs, needs_grad)]
    copies = [None if a is None else a.detach().clone() for a in args]
    with counting_host_copies():
        out = function.apply(*args)
    report = {"output": plain(out)}
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        return report
    report["device"] = str(out.device)
    report["inputs_unchanged"] = all(c is None or torch.equal(a.detach(), c) for a, c in zip(args, copies))
    report["saved"] = [plain(t) for t in out.grad_fn.saved_tensors]
    report["needs_input_grad"] = list(out.grad_fn.needs_input_grad)
    v = tensor(grad_output)
    v_copy = v.clone()
    engine_runs = []
    run_backward = autograd._engine_run_backward  # both autograd.grad and .backward() end here

    def counting(*a, **k):
        engine_runs.append(1)
        return run_backward(*a, **k)

    autograd._engine_run_backward = counting
    try:
        with counting_host_copies():
            grads = out.grad_fn.apply(v)  # calls your backward with this graph's ctx
    finally:
        autograd._engine_run_backward = run_backward
    report["host_copies"] = sorted(host_copies)
    report["grads"] = [plain(g) for g in (grads if isinstance(grads, tuple) else (grads,))]
    report["autograd_calls"] = len(engine_runs)
    report["grad_output_unchanged"] = torch.equal(v, v_copy)
    report["perturbed"] = [plain(function.apply(*[tensor(a) for a in p])) for p in perturbed]
    return report


def backward_through_graph(module, name, inputs, needs_grad, grad_output):
    """using it in a graph and calling .backward() on a loss"""
    import torch
    args = [None if a is None else torch.tensor(a, requires_grad=flag) for a, flag in zip(inputs, needs_grad)]
    out = getattr(module, name).apply(*args)
    (out * torch.tensor(grad_output)).sum().backward()
    return [None if a is None else a.grad for a in args]


# --- the harness's side ---------------------------------------------------------

def names(name):
    return NAMES.get(name, ["x"])


def call(student, name, inputs, needs_grad, grad_output, perturbed=(), device="cpu"):
    """The probe's report; fails unless the output is a tensor of grad_output's shape."""
    report = probe(student, name, run_function, inputs, needs_grad, grad_output, list(perturbed), device)
    output = report["output"]
    if not isinstance(output, torch.Tensor):
        fail(f"{name}.apply should return a torch tensor, got {describe(output)}")
    expect_shape(output, np.shape(grad_output), f"{name}.apply on {shapes(name, inputs)}", tensor=True)
    return report


def shapes(name, inputs):
    """'x of shape (1, 5), weight of shape (3, 5)': which call went wrong, for messages."""
    return ", ".join(f"{label} of shape {np.shape(a)}" for label, a in zip(names(name), inputs) if a is not None)


def probe(student, name, function, *args):
    """student.probe, naming the Function in any failure of its code."""
    label = (function.__doc__ or function.__name__).strip().splitlines()[0]
    return student.probe(function, name, *args, label=f"{name}: {label}")


def describe(value):
    """None, or 'a list' for the type name the probe sent instead of an object."""
    if value is None:
        return "None"
    return f"a {value}" if isinstance(value, str) else f"a {type(value).__name__}"


def expect_output(report, name, expected, dtype):
    output = report["output"]
    if output.dtype != getattr(torch, dtype):
        fail(f"{name}.apply returned {output.dtype} for a torch.{dtype} input; keep the input's dtype")
    expect_array(output, expected, f"{name}.apply (torch.{dtype}, shape {tuple(expected.shape)})",
                 tensor=True, index_name="y", **TOLERANCE[dtype])


def gradients(report, name, inputs):
    """What backward returned, checked against the contract: a tensor of the input's
    shape where ctx.needs_input_grad is True, None everywhere else."""
    grads, needs, labels = report["grads"], report["needs_input_grad"], names(name)
    if len(grads) < len(needs):
        fail(f"{name}.backward returned {len(grads)} value(s) for {len(needs)} input(s) of forward "
             f"({', '.join(labels[:len(needs)])}); return one per input, None where no gradient is needed")
    for i, grad in enumerate(grads):
        label = labels[i] if i < len(labels) else f"input {i}"
        if i < len(needs) and needs[i]:
            if not isinstance(grad, torch.Tensor):
                fail(f"{name}.backward returned {describe(grad)} as the gradient for {label}, "
                     f"which requires grad; return a tensor")
            if label == "bias" and grad.shape == report["output"].shape:
                fail(f"{name}.backward: the gradient for bias has the output's shape "
                     f"{tuple(grad.shape)}; sum grad_output over the batch dimension to get shape "
                     f"{np.shape(inputs[i])}")
            expect_shape(grad, np.shape(inputs[i]), f"{name}.backward on {shapes(name, inputs)}: "
                         f"the gradient for {label}", tensor=True)
        elif grad is not None and (i >= len(inputs) or inputs[i] is None):
            fail(f"{name}.backward returned a gradient for {label}, but forward got no {label}; "
                 f"return None for a missing {label}")
        elif grad is not None:
            fail(f"{name}.backward returned a gradient for {label} although ctx.needs_input_grad[{i}] "
                 f"is False ({label} does not require grad); return None there and skip the work")
    return grads


def reference(ref, name, inputs, needs_grad, grad_output):
    """The reference's output and gradients in float64 (None where not needed)."""
    args = [None if a is None else torch.tensor(a, dtype=torch.float64, requires_grad=flag)
            for a, flag in zip(inputs, needs_grad)]
    out = getattr(ref, name).apply(*args)
    wanted = [a for a, flag in zip(args, needs_grad) if flag]
    grads = iter(torch.autograd.grad(out, wanted, torch.tensor(grad_output, dtype=torch.float64)))
    return out.detach().numpy(), [next(grads).numpy() if flag else None for flag in needs_grad]


def elementwise_input(rng, shape, dtype="float64"):
    return np.asarray(rng.uniform(-3, 3, size=shape), dtype=dtype)


def smooth_input(rng, shape):
    """Values with 0.5 <= |x| <= 2: away from LegendreP3's stationary points (±0.447),
    so finite differences have a comfortable relative error everywhere."""
    r = rng.uniform(-1.5, 1.5, size=shape)
    return np.sign(r) * (0.5 + np.abs(r))


def linear_inputs(rng, mode, dtype="float64", dims=(N, IN, OUT)):
    """(inputs, needs_grad) for LinearFunction: x (n, d_in), weight (d_out, d_in), bias (d_out,)."""
    n, d_in, d_out = dims
    x, weight, bias = (np.asarray(rng.normal(size=s), dtype=dtype) for s in ((n, d_in), (d_out, d_in), (d_out,)))
    inputs = {"bias": [x, weight, bias], "no_bias": [x, weight], "bias_none": [x, weight, None]}[mode]
    return inputs, [a is not None for a in inputs]


def problem(rng, name, shape=(5,), dtype="float64", mode="bias", dims=(N, IN, OUT)):
    """(inputs, needs_grad, grad_output) for one call of Function `name`."""
    if name == "LinearFunction":
        inputs, needs = linear_inputs(rng, mode, dtype, dims)
        return inputs, needs, np.asarray(rng.normal(size=(dims[0], dims[2])), dtype=dtype)
    return [elementwise_input(rng, shape, dtype)], [True], np.asarray(rng.normal(size=shape), dtype=dtype)


def check_finite_differences(student, name, inputs, needs_grad, grad_output, rng):
    """backward(grad_output) against central differences of sum(grad_output * forward)."""
    picks = [(i, sample_indices(np.shape(a), 6, rng)) for i, a in enumerate(inputs) if needs_grad[i]]
    perturbed = [inputs[:i] + [p] + inputs[i + 1:] for i, indices in picks
                 for p in perturbations(inputs[i], indices)]
    report = call(student, name, inputs, needs_grad, grad_output, perturbed)
    grads = gradients(report, name, inputs)
    sums = []
    for output in report["perturbed"]:
        if not isinstance(output, torch.Tensor):
            fail(f"{name}.apply should return a torch tensor, got {describe(output)}")
        output = expect_shape(output, np.shape(grad_output), f"{name}.apply", tensor=True)
        sums.append(float(np.sum(grad_output * output.astype(np.float64))))
    numeric = iter(central_differences(sums))
    for i, indices in picks:
        label = names(name)[i]
        expect_gradient(grads[i].numpy(), [next(numeric) for _ in indices], indices,
                        f"{name}.backward: the gradient for {label} of shape {np.shape(inputs[i])}",
                        index_name=label)


# --- element-wise Functions --------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_values(student, ref, rng, name, dtype):
    """forward: values, shape and dtype against the reference, for 0-d, 1-D and 3-D inputs with size-1 dimensions"""
    for shape in SHAPES:
        inputs, needs, grad_output = problem(rng, name, shape, dtype)
        report = call(student, name, inputs, needs, grad_output)
        expected, _ = reference(ref, name, inputs, needs, grad_output)
        expect_output(report, name, expected, dtype)


@pytest.mark.points(2)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_gradient_finite_differences(student, rng, name):
    """backward agrees with central differences of your forward (float64, 0-d, 1-D and 3-D, size-1 dimensions)"""
    for shape in SHAPES:
        x, grad_output = smooth_input(rng, shape), rng.normal(size=shape)
        check_finite_differences(student, name, [x], [True], grad_output, rng)


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_float32(student, ref, rng, name):
    """backward: values against the reference on a float32 input"""
    inputs, needs, grad_output = problem(rng, name, (3, 4), "float32")
    grads = gradients(call(student, name, inputs, needs, grad_output), name, inputs)
    _, expected = reference(ref, name, inputs, needs, grad_output)
    expect_array(grads[0], expected[0], f"{name}.backward (torch.float32)", tensor=True,
                 index_name="grad_x", **TOLERANCE["float32"])


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["Exp", "Sigmoid"])
def test_saves_output_not_input(student, rng, name):
    """forward saves its output y (not its input) with ctx.save_for_backward"""
    inputs, needs, grad_output = problem(rng, name, (6,))
    report = call(student, name, inputs, needs, grad_output)
    saved = [t for t in report["saved"] if isinstance(t, torch.Tensor)]
    why = {"Exp": "dy/dx = exp(x) = y", "Sigmoid": "dy/dx = y (1 - y)"}[name]
    if not saved:
        fail(f"{name}: nothing was saved with ctx.save_for_backward; save the output y there "
             f"({why}), not as an attribute of ctx")
    if any(t.shape == inputs[0].shape and np.array_equal(t.numpy(), inputs[0]) for t in saved):
        fail(f"{name}: forward saved its input x; save its output y instead ({why}, so backward "
             f"needs no exp)")
    if not any(torch.equal(t, report["output"]) for t in saved):
        fail(f"{name}: forward should save its output y with ctx.save_for_backward(y) ({why})")


@pytest.mark.points(1)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_large_inputs(student, ref, dtype):
    """Sigmoid: gives 0 and 1, not nan, for large |x|, and a finite gradient there"""
    x = np.array([-1000.0, -100.0, -30.0, 30.0, 100.0, 1000.0], dtype=dtype)
    inputs, needs, grad_output = [x], [True], np.ones_like(x)
    report = call(student, "Sigmoid", inputs, needs, grad_output)
    expected, expected_grads = reference(ref, "Sigmoid", inputs, needs, grad_output)
    expect_output(report, "Sigmoid", expected, dtype)
    grads = gradients(report, "Sigmoid", inputs)
    expect_array(grads[0], expected_grads[0], f"Sigmoid.backward (torch.{dtype}, large |x|)",
                 tensor=True, index_name="grad_x", **TOLERANCE[dtype])


# --- LinearFunction -------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("mode", BIAS_MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_linear_forward_values(student, ref, rng, dtype, mode):
    """LinearFunction forward: x @ weight.T + bias against the reference (non-square, a batch of one, one feature)"""
    for dims in LINEAR_DIMS:
        inputs, needs, grad_output = problem(rng, "LinearFunction", dtype=dtype, mode=mode, dims=dims)
        report = call(student, "LinearFunction", inputs, needs, grad_output)
        expected, _ = reference(ref, "LinearFunction", inputs, needs, grad_output)
        expect_output(report, "LinearFunction", expected, dtype)


@pytest.mark.points(2)
@pytest.mark.parametrize("mode", BIAS_MODES)
def test_linear_gradient_finite_differences(student, rng, mode):
    """LinearFunction backward agrees with central differences of your forward (float64; a batch of one, one feature)"""
    for dims in LINEAR_DIMS:
        inputs, needs, grad_output = problem(rng, "LinearFunction", mode=mode, dims=dims)
        check_finite_differences(student, "LinearFunction", inputs, needs, grad_output, rng)


@pytest.mark.points(1)
def test_linear_backward_float32(student, ref, rng):
    """LinearFunction backward: values against the reference on float32 inputs"""
    inputs, needs, grad_output = problem(rng, "LinearFunction", dtype="float32")
    grads = gradients(call(student, "LinearFunction", inputs, needs, grad_output), "LinearFunction", inputs)
    _, expected = reference(ref, "LinearFunction", inputs, needs, grad_output)
    for label, grad, want in zip(names("LinearFunction"), grads, expected):
        expect_array(grad, want, f"LinearFunction.backward: the gradient for {label} (torch.float32)",
                     tensor=True, index_name=f"grad_{label}", **TOLERANCE["float32"])


@pytest.mark.points(1)
@pytest.mark.parametrize("case", ["x_frozen", "only_x", "weight_frozen", "bias_frozen", "no_bias_weight_frozen"])
def test_linear_returns_none_where_not_needed(student, ref, rng, case):
    """LinearFunction backward returns None for inputs that do not require grad and for a missing bias"""
    inputs, _ = linear_inputs(rng, "no_bias" if case.startswith("no_bias") else "bias")
    needs = {"x_frozen": [False, True, True], "only_x": [True, False, False],
             "weight_frozen": [True, False, True], "bias_frozen": [True, True, False],
             "no_bias_weight_frozen": [True, False]}[case]
    grad_output = rng.normal(size=(N, OUT))
    grads = gradients(call(student, "LinearFunction", inputs, needs, grad_output), "LinearFunction", inputs)
    _, expected = reference(ref, "LinearFunction", inputs, needs, grad_output)
    for label, grad, want in zip(names("LinearFunction"), grads, expected):
        if want is not None:
            expect_array(grad, want, f"LinearFunction.backward: the gradient for {label}", tensor=True,
                         index_name=f"grad_{label}", **TOLERANCE["float64"])


# --- every Function ------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_through_graph(student, ref, rng, name):
    """works inside a graph: loss.backward() fills .grad as the reference does"""
    inputs, needs, grad_output = problem(rng, name, (2, 3))
    if name == "LinearFunction":
        needs = [False, True, True]  # x is data, weight and bias are parameters
    got = probe(student, name, backward_through_graph, inputs, needs, grad_output)
    _, expected = reference(ref, name, inputs, needs, grad_output)
    for label, grad, want in zip(names(name), got, expected):
        if want is None:
            if grad is not None:
                fail(f"{name}: {label}.grad was filled although {label} does not require grad")
            continue
        if not isinstance(grad, torch.Tensor):
            fail(f"{name}: after loss.backward(), {label}.grad is {describe(grad)}; expected a tensor")
        expect_array(grad, want, f"{name}: {label}.grad after loss.backward()", tensor=True,
                     index_name=f"{label}.grad", **TOLERANCE["float64"])


@pytest.mark.points(1)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_leaves_inputs_alone(student, rng, name):
    """forward does not modify its inputs, backward does not modify grad_output"""
    inputs, needs, grad_output = problem(rng, name, (2, 5))
    report = call(student, name, inputs, needs, grad_output)
    if not report["inputs_unchanged"]:
        fail(f"{name}.forward modified its input in place (an in-place op such as x.exp_() or "
             f"x *= ...); compute a new tensor instead")
    if not report["grad_output_unchanged"]:
        fail(f"{name}.backward modified grad_output in place; other parts of the graph may still "
             f"need it: compute a new tensor instead")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_backward_does_not_call_autograd(student, rng, name):
    """backward computes the gradient itself (no torch.autograd.grad or .backward() inside)"""
    inputs, needs, grad_output = problem(rng, name, (4,))
    report = call(student, name, inputs, needs, grad_output)
    if report["autograd_calls"]:
        fail(f"{name}.backward called autograd (torch.autograd.grad or .backward()) "
             f"{report['autograd_calls']} time(s); the point is to write the derivative yourself")


@pytest.mark.gpu
@pytest.mark.points(1)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_on_cuda(student, ref, rng, device, name):
    """works on CUDA: output on the input's device, values and gradients as the reference (float64, float32)"""
    for dtype in TOLERANCE:  # float32 at float32 precision: the worker turns TF32 off
        inputs, needs, grad_output = problem(rng, name, (3, 4), dtype=dtype)
        report = call(student, name, inputs, needs, grad_output, device=device)
        if torch.device(report["device"]).type != device:
            fail(f"{name}.apply returned a tensor on {report['device']} for {dtype} inputs on {device}; "
                 f"create any new tensor on the input's device")
        if report["host_copies"]:
            calls = ", ".join(f".{method}()" for method in report["host_copies"])
            fail(f"{name}: forward or backward copied data from the {device} to the CPU ({calls}) "
                 f"on its way back; compute with torch operations on the input's device, so the work "
                 f"stays on the GPU")
        expected, expected_grads = reference(ref, name, inputs, needs, grad_output)
        expect_output(report, name, expected, dtype)
        for label, grad, want in zip(names(name), gradients(report, name, inputs), expected_grads):
            expect_array(grad, want, f"{name}.backward on {device} ({dtype}): the gradient for {label}",
                         tensor=True, index_name=f"grad_{label}", **TOLERANCE[dtype])
