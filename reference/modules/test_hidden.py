"""Hidden tests for modules.

Models cannot cross the sandbox, so every test sends a probe: it builds the
student's model in the worker, loads the weights the harness chose, and
returns plain tensors. The same probe run on the reference in the harness
gives the expected values. Registration, shapes, outputs, gradients, the
init's distribution, and count_parameters on models the probe builds.
"""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.checks import as_array, expect_array, fail

# The models the suite builds: class -> (constructor arguments, input width).
MODELS = {
    "LinearModule": ((5, 3), 5),
    "LogisticRegression": ((6, 4), 6),
    "FFN": ((7, 9, 3), 7),
    "Net": ((), 256),
}
# float32 models: another correct summation order (addmm, F.linear) moves
# outputs by ~1e-7 relative; every bug below moves them by > 1e-2.
RTOL, ATOL = 1e-4, 1e-5


# --- probes: run in the worker on the submission, and in the harness on ref ---

def describe(module, cls, args, attributes=()):
    """building your model and listing its parameters"""
    import torch
    from torch import nn
    model = getattr(module, cls)(*args)

    def summary(t):
        return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
                "parameter": isinstance(t, nn.Parameter), "leaf": t.is_leaf,
                "requires_grad": t.requires_grad}

    unregistered = {}  # plain attributes holding tensors or modules: name -> what
    for name, value in vars(model).items():
        items = (list(value.values()) if isinstance(value, dict) else
                 list(value) if isinstance(value, (list, tuple)) else [value])
        if name.startswith("_") or not any(isinstance(v, (torch.Tensor, nn.Module)) for v in items):
            continue
        unregistered[name] = "tensor" if isinstance(value, torch.Tensor) else type(value).__name__
    return {"params": {n: summary(p) for n, p in model.named_parameters()},
            "all_names": [n for n, _ in model.named_parameters(remove_duplicate=False)],
            "attributes": {n: summary(getattr(model, n)) for n in attributes
                           if isinstance(getattr(model, n, None), torch.Tensor)},
            "unregistered": unregistered}


def run_model(module, cls, args, state, inputs, device="cpu", backward=False):
    """building your model, loading the grader's weights into it and running forward"""
    import torch
    model = getattr(module, cls)(*args)
    own = dict(model.named_parameters())
    missing = [n for n in state if n not in own]
    if missing or len(own) != len(state):
        return {"problem": f"{cls} cannot take the grader's weights: it has parameters "
                           f"{sorted(own) or 'none'}, expected {sorted(state)}"}
    for name, value in state.items():
        if tuple(own[name].shape) != tuple(value.shape):
            return {"problem": f"{cls} cannot take the grader's weights: {name} has shape "
                               f"{tuple(own[name].shape)}, expected {tuple(value.shape)}"}
    with torch.no_grad():
        for name, value in state.items():
            own[name].copy_(value)
    model.to(device)
    outputs, output_devices = [], set()
    for x in inputs:
        out = model(x.to(device))
        if backward:
            out.sum().backward()
        if isinstance(out, torch.Tensor):
            output_devices.add(str(out.device))
        outputs.append(out.detach().cpu() if isinstance(out, torch.Tensor) else out)
    grads = {n: None if p.grad is None else p.grad.cpu() for n, p in model.named_parameters()}
    return {"outputs": outputs, "grads": grads, "output_devices": sorted(output_devices),
            "devices": sorted({str(p.device) for p in model.parameters()})}


def draw_init(module, x_dim, y_dim, seeds):
    """building LinearModule after torch.manual_seed(seed)"""
    import torch
    draws = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = module.LinearModule(x_dim, y_dim)
        draws.append({"W": model.W.detach().clone(), "b": model.b.detach().clone()})
    return draws


def draw_reset(module, x_dim, y_dim, seed):
    """calling reset_parameters() on your LinearModule"""
    import torch
    torch.manual_seed(seed)
    model = module.LinearModule(x_dim, y_dim)
    before = {"W": model.W.detach().clone(), "b": model.b.detach().clone()}
    model.reset_parameters()
    return before, {"W": model.W.detach().clone(), "b": model.b.detach().clone()}


def count_on(module, case):
    """calling count_parameters on a small model built by the grader"""
    from torch import nn
    if case == "buffers":
        model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    else:
        model = nn.Sequential(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU(),
                              nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3))
    if case == "frozen":
        model[0].requires_grad_(False)
    if case == "shared":
        model[4].weight = model[2].weight
    return module.count_parameters(model)


# --- harness-side helpers -------------------------------------------------------

def args_of(cls):
    return MODELS[cls][0]


def reference_state(ref, rng, cls):
    """The state_dict of a reference model initialised from this test's rng."""
    torch.manual_seed(int(rng.integers(2**31)))
    return dict(getattr(ref, cls)(*args_of(cls)).state_dict())


def inputs_for(rng, cls, shape=None):
    width = MODELS[cls][1]
    return torch.from_numpy(rng.normal(size=shape or (6, width)).astype(np.float32))


def student_run(student, cls, state, inputs, **options):
    result = student.probe(run_model, cls, args_of(cls), state, inputs, **options)
    if not isinstance(result, dict):
        fail(f"{cls}: the grader could not run your model")
    if "problem" in result:
        fail(result["problem"])
    return result


def check_parameters(got, expected, where, attributes=()):
    """Names, shapes, dtypes, registration: got and expected come from `describe`."""
    have, want = got["params"], expected["params"]
    for name in want:
        if name not in have:
            base = name.split(".")[0]
            never = "parameters(), state_dict(), .to() and optimizers never see"
            if got["unregistered"].get(base) == "tensor":
                fail(f"{where}: self.{base} is a plain tensor, not a registered parameter: "
                     f"{never} it. Wrap it in nn.Parameter")
            for attr, kind in got["unregistered"].items():
                if kind != "tensor":
                    fail(f"{where}: no parameter named {name}. self.{attr} is a Python {kind}, "
                         f"and the layers in a {kind} are not registered: {never} them. Make "
                         f"each layer an attribute of its own (the names are {sorted(want)})")
            fail(f"{where}: no parameter named {name}; your model's parameters are "
                 f"{sorted(have) or 'none'} (expected {sorted(want)})")
    extra = sorted(set(have) - set(want))
    if extra:
        fail(f"{where}: unexpected parameters {extra}; expected exactly {sorted(want)}")
    for name, spec in want.items():
        mine = have[name]
        if mine["shape"] != spec["shape"]:
            swapped = sorted(mine["shape"]) == sorted(spec["shape"])
            fail(f"{where}: {name} has shape {tuple(mine['shape'])}, expected "
                 f"{tuple(spec['shape'])}" + (" — transposed? A weight is (out_features, "
                                              "in_features) and forward uses its transpose"
                                              if swapped else ""))
        if mine["dtype"] != spec["dtype"]:
            fail(f"{where}: {name} has dtype {mine['dtype']}, expected {spec['dtype']} "
                 "(torch's default; a tensor made from numpy is float64 — draw with torch)")
    for name in attributes:
        attr = got["attributes"].get(name)
        if attr is None or not attr["parameter"]:
            fail(f"{where}: self.{name} should be an nn.Parameter")
        if not (attr["leaf"] and attr["requires_grad"]):
            fail(f"{where}: self.{name} should be a leaf tensor that requires grad (do not "
                 "pass requires_grad=False to nn.Parameter)")


def expect_output(got, expected, name, variants=()):
    """Compare an output with the reference; name the bug when got matches a known variant."""
    array = as_array(got, name, tensor=True)
    expected = expected.numpy()
    if array.shape == expected.shape and not np.allclose(array, expected, rtol=RTOL, atol=ATOL):
        for text, variant in variants:
            if np.allclose(array, variant.numpy(), rtol=RTOL, atol=ATOL):
                fail(f"{name}: {text}")
    expect_array(array, expected, name, rtol=RTOL, atol=ATOL, index_name="output")


def variants_for(cls, state, x):
    """Outputs of buggy forwards, computed from the weights, with what each bug is."""
    s = state
    if cls == "LogisticRegression":
        logits = F.linear(x, s["linear.weight"], s["linear.bias"])
        return [("returns softmax probabilities; return the logits linear(x) "
                 "(nn.CrossEntropyLoss applies the softmax itself)", logits.softmax(1)),
                ("returns log-probabilities (log_softmax); return the logits linear(x)",
                 logits.log_softmax(1)),
                ("returns sigmoid(linear(x)); return the logits linear(x)", logits.sigmoid())]
    if cls == "FFN":
        hidden = F.linear(x, s["linear1.weight"], s["linear1.bias"])
        out = lambda h: F.linear(h, s["linear2.weight"], s["linear2.bias"])  # noqa: E731
        return [("the output equals linear2(linear1(x)): the ReLU between linear1 and linear2 "
                 "is missing", out(hidden)),
                ("the output equals relu(linear2(relu(linear1(x)))): a ReLU follows linear2 too; "
                 "the output layer has no activation", out(hidden.relu()).relu()),
                ("returns a softmax of the outputs; return linear2's output as it is",
                 out(hidden.relu()).softmax(1))]
    if cls == "Net":
        def net(relu1, relu2, relu3):
            h = F.linear(x, s["fc1.weight"], s["fc1.bias"])
            h = F.linear(h.relu() if relu1 else h, s["fc2.weight"], s["fc2.bias"])
            out = F.linear(h.relu() if relu2 else h, s["fc3.weight"], s["fc3.bias"])
            return out.relu() if relu3 else out
        return [("a ReLU follows fc3; the logits come straight from fc3", net(1, 1, 1)),
                ("the ReLU after fc1 is missing", net(0, 1, 0)),
                ("the ReLU after fc2 is missing", net(1, 0, 0)),
                ("there is no ReLU at all; put one after fc1 and one after fc2", net(0, 0, 0)),
                ("returns a softmax of fc3's output; return the logits", net(1, 1, 0).softmax(1))]
    return []


# --- registration and architecture ------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("x_dim, y_dim", [(5, 3), (2, 7)])
def test_linear_parameters(student, ref, x_dim, y_dim):
    """LinearModule: W (y_dim, x_dim) and b (y_dim,) are registered leaf nn.Parameters"""
    check_parameters(student.probe(describe, "LinearModule", (x_dim, y_dim), ("W", "b")),
                     describe(ref, "LinearModule", (x_dim, y_dim), ("W", "b")),
                     f"LinearModule({x_dim}, {y_dim})", ("W", "b"))


@pytest.mark.points(1)
@pytest.mark.parametrize("cls", ["LogisticRegression", "FFN", "Net"])
def test_architecture_parameters(student, ref, cls):
    """Parameter names and shapes: linear; linear1, linear2; fc1, fc2, fc3"""
    args = args_of(cls)
    check_parameters(student.probe(describe, cls, args), describe(ref, cls, args),
                     f"{cls}({', '.join(map(str, args))})")


@pytest.mark.points(0.5)
@pytest.mark.parametrize("cls", list(MODELS))
def test_each_parameter_registered_once(student, cls):
    """Every parameter is registered under one name only"""
    got = student.probe(describe, cls, args_of(cls))
    names = got["all_names"]
    aliases = sorted({n for n in names if n not in got["params"]})
    if aliases or len(names) != len(set(names)):
        fail(f"{cls}: some parameters are registered twice, under {aliases} as well as their "
             f"own names {sorted(got['params'])}; the state_dict then holds them twice. "
             "Register each layer once: keep it in its one attribute and call that in forward")


# --- outputs and gradients against the reference ----------------------------------

@pytest.mark.points(2)
def test_linear_forward_batched(student, ref, rng):
    """LinearModule: forward on (N, x_dim) input equals x @ W.T + b, for a batch of 8 and a batch of one"""
    state = reference_state(ref, rng, "LinearModule")
    x = inputs_for(rng, "LinearModule", (8, 5))
    inputs = [x, x[:1]]
    got = student_run(student, "LinearModule", state, inputs)["outputs"]
    want = run_model(ref, "LinearModule", args_of("LinearModule"), state, inputs)["outputs"]
    expect_output(got[0], want[0], "LinearModule.forward on a (8, 5) batch")
    expect_output(got[1], want[1], "LinearModule.forward on a batch of one, shape (1, 5) (keep the "
                  "batch dimension: the output is (1, y_dim))")


@pytest.mark.points(1)
def test_linear_forward_unbatched(student, ref, rng):
    """LinearModule: forward on one (x_dim,) vector returns (y_dim,)"""
    state = reference_state(ref, rng, "LinearModule")
    x = inputs_for(rng, "LinearModule", (5,))
    got = student_run(student, "LinearModule", state, [x])["outputs"][0]
    want = run_model(ref, "LinearModule", args_of("LinearModule"), state, [x])["outputs"][0]
    expect_output(got, want, "LinearModule.forward on one vector of shape (5,) (unbatched; "
                  "`x @ W.T + b` handles both shapes, torch.mm does not)")


@pytest.mark.points(2)
@pytest.mark.parametrize("cls", ["LogisticRegression", "FFN", "Net"])
def test_architecture_forward(student, ref, rng, cls):
    """forward equals the reference's after loading the same weights, for a batch of 6 and a batch of one"""
    state = reference_state(ref, rng, cls)
    x = inputs_for(rng, cls)
    inputs = [x, x[:1]]
    got = student_run(student, cls, state, inputs)["outputs"]
    want = run_model(ref, cls, args_of(cls), state, inputs)["outputs"]
    expect_output(got[0], want[0], f"{cls}.forward", variants_for(cls, state, x))
    expect_output(got[1], want[1], f"{cls}.forward on a batch of one, shape {tuple(x[:1].shape)} (keep "
                  f"the batch dimension: no squeeze())", variants_for(cls, state, x[:1]))


@pytest.mark.points(1)
@pytest.mark.parametrize("cls", list(MODELS))
def test_gradients_reach_every_parameter(student, ref, rng, cls):
    """backward of output.sum() gives every parameter its gradient"""
    state = reference_state(ref, rng, cls)
    x = inputs_for(rng, cls)
    got = student_run(student, cls, state, [x], backward=True)
    want = run_model(ref, cls, args_of(cls), state, [x], backward=True)
    expect_output(got["outputs"][0], want["outputs"][0], f"{cls}.forward",
                  variants_for(cls, state, x))
    for name, grad in want["grads"].items():
        mine = got["grads"].get(name)
        if mine is None or (np.any(grad.numpy()) and not np.any(as_array(mine, name, tensor=True))):
            fail(f"{cls}: no gradient reached {name} after output.sum().backward(): forward "
                 "must use the registered parameter itself (not .data, .detach(), a copy or "
                 "a numpy round trip)")
        expect_array(mine, grad, f"{cls}: gradient of output.sum() w.r.t. {name}", rtol=RTOL,
                     atol=ATOL, tensor=True, index_name=name)


# --- LinearModule's initialisation ---------------------------------------------------
# reset_parameters must draw from U(-s, s), s = 1/sqrt(x_dim). The probes draw W
# (n = x_dim * y_dim = 12000 values) after a fixed seed, so each verdict is
# fixed; the tolerances are set so that ANY correct draw passes with
# probability > 1 - 1e-5 per check, while each wrong init misses by far:
#   * max|W| <= s exactly (float32 rounding allowed).
#   * max|W| >= 0.99 s: P(all 12000 |U| < 0.99 s) = 0.99**12000 ~ 1e-52.
#   * std within 3% of s/sqrt(3): for a uniform, Var(sample var) ~ 0.8 sigma^4/n,
#     so the relative error of the std is sqrt(0.8/(4n)) = 0.0041: 3% is 7 SE.
#   * |mean| <= 0.03 s: the mean's SE is s/sqrt(3n) = 0.0053 s, so 5.7 SE.
#   * Kolmogorov-Smirnov distance to U(-s, s) <= sqrt(ln(2/1e-6)/(2n)) = 0.0246:
#     by the DKW-Massart inequality P(D > eps) <= 2 exp(-2 n eps^2) = 1e-6.
#     A normal with the same std is 0.057 away; U(0, s) is 0.5 away. (Over 200
#     seeds, correct draws gave at most 0.016.)
# b has only y_dim values: within ±s, some with |b| >= s/2 and both signs
# (for 30 draws each fails with probability <= 0.5**30 ~ 1e-9).
INIT_SHAPES = [(400, 30), (30, 400)]


def init_hint(values, x_dim, y_dim):
    """A guess at which init produced these values, as ' — ...' or ''."""
    v = np.asarray(values, float).ravel()
    std = v.std()
    kurtosis = ((v - v.mean()) ** 4).mean() / max(std ** 4, 1e-300) - 3
    if v.size >= 1000 and kurtosis > -0.6:
        return " — the values look normally distributed (torch.randn?); draw them uniformly"
    if std == 0:
        return " — every value is the same (is reset_parameters called in __init__?)"
    guesses = {"1/sqrt(y_dim): the fan-in is x_dim, the number of inputs": 1 / math.sqrt(y_dim),
               "1/x_dim: the bound is 1/sqrt(x_dim)": 1 / x_dim,
               "sqrt(6/x_dim), kaiming_uniform_'s default; nn.Linear's init passes "
               "a=math.sqrt(5)": math.sqrt(6 / x_dim),
               "sqrt(6/(x_dim + y_dim)), Xavier's": math.sqrt(6 / (x_dim + y_dim)),
               "1 (torch.rand/uniform_ without a bound)": 1.0}
    if v.min() >= 0:
        return " — every value is >= 0: U(0, s) instead of U(-s, s)?"
    bound = std * math.sqrt(3)
    misfit, text = min((abs(bound / guess - 1), text) for text, guess in guesses.items())
    return f" — the values fit the bound {text}" if misfit < 0.05 else ""


def check_uniform_weights(W, x_dim, y_dim, what):
    v = as_array(W, "W", tensor=True).astype(float).ravel()
    s, n = 1 / math.sqrt(x_dim), v.size
    sigma = s / math.sqrt(3)
    label = f"{what}: W of LinearModule({x_dim}, {y_dim})"
    if not np.isfinite(v).all():
        fail(f"{label} holds non-finite values (torch.empty without a draw? call "
             "reset_parameters in __init__)")
    if np.abs(v).max() > s * (1 + 1e-5):
        fail(f"{label} has values up to {np.abs(v).max():.4g}, outside ±1/sqrt(x_dim) = ±{s:.4g}"
             + init_hint(v, x_dim, y_dim))
    if abs(v.mean()) > 0.03 * s:
        fail(f"{label}: mean {v.mean():.4g}, expected about 0" + init_hint(v, x_dim, y_dim))
    if np.abs(v).max() < 0.99 * s or abs(v.std() / sigma - 1) > 0.03:
        fail(f"{label}: std {v.std():.4g}, expected 1/sqrt(3*x_dim) = {sigma:.4g} for "
             f"U(-{s:.4g}, {s:.4g})" + init_hint(v, x_dim, y_dim))
    u = np.sort((v + s) / (2 * s))
    ks = max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))
    if ks > math.sqrt(math.log(2 / 1e-6) / (2 * n)):
        fail(f"{label}: the values are not uniform on ±1/sqrt(x_dim) (Kolmogorov-Smirnov "
             f"distance {ks:.3f})" + init_hint(v, x_dim, y_dim))


def check_uniform_bias(b, x_dim, y_dim, what):
    v = as_array(b, "b", tensor=True).astype(float).ravel()
    s = 1 / math.sqrt(x_dim)
    label = f"{what}: b of LinearModule({x_dim}, {y_dim})"
    if not np.isfinite(v).all() or np.abs(v).max() > s * (1 + 1e-5):
        fail(f"{label} has values up to {np.abs(v).max():.4g}, outside ±1/sqrt(x_dim) = "
             f"±{s:.4g}" + init_hint(v, x_dim, y_dim))
    if np.abs(v).max() < s / 2 or v.min() >= 0 or v.max() <= 0:
        fail(f"{label} ranges over [{v.min():.4g}, {v.max():.4g}]: draw b from U(-{s:.4g}, "
             f"{s:.4g}) as well (not zeros, not a smaller bound)" + init_hint(v, x_dim, y_dim))


@pytest.mark.points(2)
@pytest.mark.parametrize("x_dim, y_dim", INIT_SHAPES)
def test_linear_init_weights(student, rng, x_dim, y_dim):
    """LinearModule: W is drawn from U(-1/sqrt(x_dim), 1/sqrt(x_dim))"""
    draw = student.probe(draw_init, x_dim, y_dim, [int(rng.integers(2**31))])[0]
    check_uniform_weights(draw["W"], x_dim, y_dim, "after LinearModule(...)")


@pytest.mark.points(1)
@pytest.mark.parametrize("x_dim, y_dim", INIT_SHAPES)
def test_linear_init_bias(student, rng, x_dim, y_dim):
    """LinearModule: b is drawn from U(-1/sqrt(x_dim), 1/sqrt(x_dim))"""
    draw = student.probe(draw_init, x_dim, y_dim, [int(rng.integers(2**31))])[0]
    check_uniform_bias(draw["b"], x_dim, y_dim, "after LinearModule(...)")


@pytest.mark.points(1)
def test_linear_init_follows_torch_seed(student, rng):
    """LinearModule: torch.manual_seed(s) makes the init repeatable"""
    seed = int(rng.integers(2**31))
    first, again, other = student.probe(draw_init, 20, 10, [seed, seed, seed + 1])
    for name in ("W", "b"):
        a, b, c = (as_array(d[name], name, tensor=True) for d in (first, again, other))
        if not np.array_equal(a, b):
            fail(f"LinearModule: two models built right after torch.manual_seed({seed}) have "
                 f"different {name}: draw with torch's random functions (uniform_, torch.rand), "
                 "not numpy or Python's random")
        if np.array_equal(a, c):
            why = ("every entry is the same, so nothing was drawn (is reset_parameters called "
                   "in __init__?)" if np.ptp(a) == 0 else "do not set a seed or build a fixed "
                   "torch.Generator inside your module")
            fail(f"LinearModule: models built after different seeds have the same {name}: {why}")


@pytest.mark.points(1)
def test_linear_reset_parameters_redraws(student, rng):
    """LinearModule: reset_parameters() draws W and b again from the same distribution"""
    x_dim, y_dim = 60, 200
    before, after = student.probe(draw_reset, x_dim, y_dim, int(rng.integers(2**31)))
    for name in ("W", "b"):
        old, new = (as_array(d[name], name, tensor=True) for d in (before, after))
        if old.shape != new.shape or np.mean(old == new) > 0.01:
            fail(f"LinearModule.reset_parameters() did not draw new values for {name}")
    check_uniform_weights(after["W"], x_dim, y_dim, "after reset_parameters()")
    check_uniform_bias(after["b"], x_dim, y_dim, "after reset_parameters()")


# --- count_parameters -------------------------------------------------------------

def count_hint(case, got):
    """Name the counting rule that gives `got` on this case, if a known wrong one does."""
    rules = {
        "counted frozen parameters too: skip those with requires_grad False":
            lambda m: sum(p.numel() for p in m.parameters()),
        "counted a shared parameter twice: model.parameters() lists it once":
            lambda m: sum(p.numel() for _, p in m.named_parameters(remove_duplicate=False)
                          if p.requires_grad),
        "counted the state_dict, which also holds buffers (BatchNorm's running statistics) "
        "and frozen parameters: count model.parameters() that require grad":
            lambda m: sum(v.numel() for v in m.state_dict().values()),
        "counted parameter tensors, not their scalars: add up p.numel()":
            lambda m: sum(1 for p in m.parameters() if p.requires_grad),
    }
    for text, rule in rules.items():
        if got == count_on(SimpleNamespace(count_parameters=rule), case):
            return f" — {text}"
    return ""


def check_count(student, ref, case, description):
    """The student's count on `case` must equal the reference's; returns it as sent."""
    got = student.probe(count_on, case)
    value = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
    expected = count_on(ref, case)
    number = isinstance(value, (int, np.integer, float)) and not isinstance(value, bool)
    if not number or value != expected:
        fail(f"count_parameters on {description}: expected {expected}, got {value!r}"
             + count_hint(case, value))
    return got


@pytest.mark.points(1)
def test_count_parameters_returns_int(student, ref):
    """count_parameters: an int, the number of scalars in a 4-layer MLP"""
    got = check_count(student, ref, "plain", "nn.Sequential(Linear(7, 5), ReLU, Linear(5, 5), "
                      "ReLU, Linear(5, 5), ReLU, Linear(5, 3))")
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        fail(f"count_parameters should return an int, got a {type(got).__name__}"
             + (" (use .item() or int(...))" if isinstance(got, torch.Tensor) else ""))


@pytest.mark.points(1)
def test_count_parameters_skips_frozen(student, ref):
    """count_parameters: frozen parameters (requires_grad False) are not counted"""
    check_count(student, ref, "frozen", "the same MLP with its first layer frozen")


@pytest.mark.points(1)
def test_count_parameters_skips_buffers(student, ref):
    """count_parameters: buffers (BatchNorm's running statistics) are not counted"""
    check_count(student, ref, "buffers", "nn.Sequential(Linear(6, 4), BatchNorm1d(4), ReLU, "
                "Linear(4, 2))")


@pytest.mark.points(1)
def test_count_parameters_counts_shared_once(student, ref):
    """count_parameters: a parameter shared by two layers is counted once"""
    check_count(student, ref, "shared", "the MLP with its 2nd and 3rd Linear sharing one weight")


# --- on the GPU ----------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.points(1)
@pytest.mark.parametrize("cls", list(MODELS))
def test_model_runs_on_cuda(student, ref, rng, device, cls):
    """model.to("cuda") moves every parameter, and forward runs there"""
    state = reference_state(ref, rng, cls)
    x = inputs_for(rng, cls)
    got = student_run(student, cls, state, [x], device=device)
    if any(not d.startswith(device) for d in got["devices"]):
        fail(f"{cls}: after model.to({device!r}) the parameters are on {got['devices']}: "
             "every tensor the model owns must be registered (nn.Parameter, submodules)")
    if any(not d.startswith(device) for d in got["output_devices"]):
        fail(f"{cls}.forward returned its output on {got['output_devices']} for a model and an input "
             f"on {device!r}: keep the result where the input is (no .cpu() inside forward)")
    want = run_model(ref, cls, args_of(cls), state, [x])["outputs"][0]
    expect_output(got["outputs"][0], want, f"{cls}.forward on {device}",
                  variants_for(cls, state, x))
