"""Hidden tests for conv.

numpy functions: a grid of shapes, strides and paddings against
torch.nn.functional, computed here in float64 (random kernels are
asymmetric, so a flipped kernel cannot pass); conv1d_backward against torch
autograd and against finite differences of the reference conv1d; pooling on
tie-free inputs; inputs left alone; no torch inside the numpy functions.
TextCNN: its layers, the padding row, output shapes, outputs equal to the
reference's once the reference's parameters are loaded, and learning a small
task (does token 7 appear?).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.checks import (central_differences, expect_array, expect_gradient, expect_shape, fail,
                           perturbations, sample_indices)

# (N, C_in, C_out, L, K, stride, padding)
CONV1D_CASES = [
    (1, 1, 1, 8, 3, 1, 0),
    (2, 3, 4, 10, 3, 1, 1),
    (2, 2, 3, 10, 4, 2, 0),
    (3, 2, 2, 11, 5, 3, 2),
    (2, 1, 2, 7, 7, 1, 0),
    (2, 3, 2, 6, 1, 2, 0),
    (1, 2, 3, 5, 3, 4, 1),
]
# (N, C_in, C_out, H, W, KH, KW, stride, padding): mostly non-square, so H and W cannot be swapped
CONV2D_CASES = [
    (1, 1, 1, 5, 5, 3, 3, 1, 0),
    (2, 2, 3, 6, 5, 3, 2, 1, 1),
    (2, 3, 2, 8, 7, 2, 3, 2, 0),
    (1, 2, 2, 5, 7, 3, 1, 2, 1),
    (2, 1, 2, 4, 6, 4, 2, 3, 2),
]
# conv1d_backward: overlapping windows (stride < K), gaps (stride > K), padding; the last one is
# a batch of one with one output channel (a squeeze() drops those size-1 dimensions)
BACKWARD_CASES = [
    (2, 2, 3, 8, 3, 1, 0),
    (2, 3, 2, 9, 3, 2, 1),
    (3, 1, 2, 10, 4, 3, 2),
    (2, 2, 2, 9, 2, 3, 1),
    (2, 2, 2, 7, 5, 1, 2),
    (1, 2, 1, 6, 3, 1, 1),
]
# (N, C, H, W, kernel_size, stride); stride None means the default (= kernel_size)
POOL_CASES = [
    (2, 3, 4, 4, 2, None),
    (1, 2, 6, 4, 2, None),
    (2, 2, 5, 7, 2, None),
    (1, 2, 6, 6, 3, None),
    (1, 3, 7, 6, 3, 2),
    (2, 1, 8, 9, 2, 3),
]


def case_id(case):
    return "-".join(str(v) for v in case)


def t64(array):
    return torch.from_numpy(np.asarray(array, dtype=np.float64))


def expect_conv(got, expected, flipped, name, size_formula, rule):
    """Shape with the output-size formula in the message, then values; names a flipped kernel."""
    array = got if isinstance(got, np.ndarray) else None
    if array is not None and array.shape != expected.shape:
        fail(f"{name}: wrong output shape: expected {expected.shape}, got {array.shape}; "
             f"{size_formula}")
    if array is not None and not np.allclose(array, expected) and np.allclose(array, flipped):
        fail(f"{name}: you computed the true convolution (kernel flipped); PyTorch's conv is "
             f"cross-correlation, with no flip: {rule}")
    expect_array(got, expected, name, dtype=np.float64, index_name="out")


# --- conv1d ---------------------------------------------------------------------------

@pytest.mark.points(0.5)
@pytest.mark.parametrize("bias", [False, True], ids=["no_bias", "bias"])
@pytest.mark.parametrize("case", CONV1D_CASES, ids=case_id)
def test_conv1d_matches_torch(student, rng, case, bias):
    """conv1d: values against torch.nn.functional.conv1d"""
    n, c_in, c_out, length, k, stride, padding = case
    x, w = rng.normal(size=(n, c_in, length)), rng.normal(size=(c_out, c_in, k))
    b = rng.normal(size=c_out) if bias else None
    got = (student.conv1d(x, w, b, stride=stride, padding=padding) if bias
           else student.conv1d(x, w, stride=stride, padding=padding))
    expected = F.conv1d(t64(x), t64(w), None if b is None else t64(b), stride=stride,
                        padding=padding).numpy()
    flipped = F.conv1d(t64(x), t64(w[..., ::-1].copy()), None if b is None else t64(b),
                       stride=stride, padding=padding).numpy()
    formula = (f"L_out = (L + 2 * padding - K) // stride + 1 = ({length} + 2 * {padding} - {k}) "
               f"// {stride} + 1 = {expected.shape[2]} (zero padding on both sides)")
    expect_conv(got, expected, flipped, f"conv1d(x {x.shape}, w {w.shape}, "
                f"{'b' if bias else 'b=None'}, stride={stride}, padding={padding})", formula,
                "out[n, o, i] = b[o] + sum_{c,k} w[o, c, k] * xp[n, c, i * stride + k]")


# --- conv1d_backward ------------------------------------------------------------------------

def backward_problem(rng, case):
    n, c_in, c_out, length, k, stride, padding = case
    x, w, b = rng.normal(size=(n, c_in, length)), rng.normal(size=(c_out, c_in, k)), rng.normal(size=c_out)
    l_out = (length + 2 * padding - k) // stride + 1
    return x, w, b, rng.normal(size=(n, c_out, l_out))


def student_grads(student, x, w, grad_out, stride, padding):
    """The student's (dx, dw, db), each checked to have its parameter's shape."""
    grads = student.conv1d_backward(x, w, grad_out, stride=stride, padding=padding)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail("conv1d_backward should return a tuple (dx, dw, db)")
    dx, dw, db = grads
    if isinstance(dx, np.ndarray) and dx.shape == x.shape[:2] + (x.shape[2] + 2 * padding,) \
            and padding > 0:
        fail(f"conv1d_backward: dx has shape {dx.shape}, the padded input's; dx must have x's shape "
             f"{x.shape}: drop the padded positions (dx = dxp[:, :, padding:padding + L])")
    on = f"conv1d_backward on x {x.shape}, w {w.shape}"
    return (expect_shape(dx, x.shape, f"{on}: dx"),
            expect_shape(dw, w.shape, f"{on}: dw"),
            expect_shape(db, (w.shape[0],), f"{on}: db"))


def describe(case):
    n, c_in, c_out, length, k, stride, padding = case
    return f"x ({n}, {c_in}, {length}), w ({c_out}, {c_in}, {k}), stride={stride}, padding={padding}"


@pytest.mark.points(1)
@pytest.mark.parametrize("case", BACKWARD_CASES, ids=case_id)
def test_conv1d_backward_matches_autograd(student, rng, case):
    """conv1d_backward: dx, dw, db against torch autograd"""
    x, w, b, grad_out = backward_problem(rng, case)
    stride, padding = case[5], case[6]
    dx, dw, db = student_grads(student, x, w, grad_out, stride, padding)
    tx, tw, tb = (t64(v).requires_grad_() for v in (x, w, b))
    F.conv1d(tx, tw, tb, stride=stride, padding=padding).backward(t64(grad_out))
    where = f"conv1d_backward ({describe(case)})"
    expect_array(db, tb.grad.numpy(), f"{where}: db (sum grad_out over the batch and positions)",
                 index_name="db")
    expect_array(dw, tw.grad.numpy(), f"{where}: dw (sum over the batch and every window)",
                 index_name="dw")
    expect_array(dx, tx.grad.numpy(), f"{where}: dx", index_name="dx")


@pytest.mark.points(1)
@pytest.mark.parametrize("case", BACKWARD_CASES[1:4], ids=case_id)
def test_conv1d_backward_finite_differences(student, ref, rng, case):
    """conv1d_backward: central finite differences of the loss sum(grad_out * conv1d(x, w, b))"""
    x, w, b, grad_out = backward_problem(rng, case)
    stride, padding = case[5], case[6]
    grads = student_grads(student, x, w, grad_out, stride, padding)
    args = {"x": lambda v: (v, w, b), "w": lambda v: (x, v, b), "b": lambda v: (x, w, v)}
    for (name, value), grad in zip((("x", x), ("w", w), ("b", b)), grads):
        indices = sample_indices(value.shape, 8, rng)
        losses = [np.sum(grad_out * ref.conv1d(*args[name](v), stride=stride, padding=padding))
                  for v in perturbations(value, indices)]
        expect_gradient(grad, central_differences(losses), indices,
                        f"conv1d_backward ({describe(case)}): d{name}", index_name=f"d{name}")


# --- conv2d -----------------------------------------------------------------------------------

@pytest.mark.points(0.5)
@pytest.mark.parametrize("bias", [False, True], ids=["no_bias", "bias"])
@pytest.mark.parametrize("case", CONV2D_CASES, ids=case_id)
def test_conv2d_matches_torch(student, rng, case, bias):
    """conv2d: values against torch.nn.functional.conv2d"""
    n, c_in, c_out, height, width, kh, kw, stride, padding = case
    x, w = rng.normal(size=(n, c_in, height, width)), rng.normal(size=(c_out, c_in, kh, kw))
    b = rng.normal(size=c_out) if bias else None
    got = (student.conv2d(x, w, b, stride=stride, padding=padding) if bias
           else student.conv2d(x, w, stride=stride, padding=padding))
    tb = None if b is None else t64(b)
    expected = F.conv2d(t64(x), t64(w), tb, stride=stride, padding=padding).numpy()
    flipped = F.conv2d(t64(x), t64(w[..., ::-1, ::-1].copy()), tb, stride=stride,
                       padding=padding).numpy()
    formula = (f"H_out = (H + 2 * padding - KH) // stride + 1 = {expected.shape[2]} and "
               f"W_out = (W + 2 * padding - KW) // stride + 1 = {expected.shape[3]}, with H = {height}, "
               f"W = {width}, KH = {kh}, KW = {kw} (w is (C_out, C_in, KH, KW))")
    expect_conv(got, expected, flipped, f"conv2d(x {x.shape}, w {w.shape}, "
                f"{'b' if bias else 'b=None'}, stride={stride}, padding={padding})", formula,
                "out[n, o, i, j] = b[o] + sum_{c,a,d} w[o, c, a, d] * "
                "xp[n, c, i * stride + a, j * stride + d]")


# --- pooling ------------------------------------------------------------------------------------

@pytest.mark.points(0.5)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=case_id)
def test_pool2d_matches_torch(student, rng, case, kind):
    """max_pool2d / avg_pool2d: values against torch.nn.functional on tie-free inputs"""
    n, c, height, width, k, stride = case
    x = rng.normal(size=(n, c, height, width))
    name = f"{kind}_pool2d"
    got = student.call(name, x, k) if stride is None else student.call(name, x, k, stride=stride)
    expected = getattr(F, name)(t64(x), k, stride).numpy()
    call = f"{name}(x {x.shape}, kernel_size={k}" + (")" if stride is None else f", stride={stride})")
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        fail(f"{call}: wrong output shape: expected {expected.shape}, got {got.shape}; "
             f"H_out = (H - kernel_size) // stride + 1 (windows that run past the edge are dropped), "
             f"and stride defaults to kernel_size")
    expect_array(got, expected, call, dtype=np.float64, index_name="out")


# --- purity and numpy only ------------------------------------------------------------------

@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["conv1d", "conv1d_backward", "conv2d", "max_pool2d", "avg_pool2d"])
def test_inputs_left_alone(student, rng, name):
    """conv functions do not modify their inputs in place"""
    if name == "conv1d":
        args = (rng.normal(size=(2, 2, 6)), rng.normal(size=(3, 2, 3)), rng.normal(size=3), 1, 1)
    elif name == "conv1d_backward":
        args = (rng.normal(size=(2, 2, 6)), rng.normal(size=(3, 2, 3)), rng.normal(size=(2, 3, 6)), 1, 1)
    elif name == "conv2d":
        args = (rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), 1, 1)
    else:
        args = (rng.normal(size=(2, 2, 4, 4)), 2)
    _, after = student.call_and_inputs(name, *args)
    for index, (before, now) in enumerate(zip(args, after)):
        if isinstance(before, np.ndarray) and not (isinstance(now, np.ndarray) and np.array_equal(before, now)):
            fail(f"{name} modified its argument {index + 1} in place; work on a copy "
                 f"(e.g. np.pad returns a new array, x = x / k does not modify x, x /= k does)")


@pytest.mark.points(1)
def test_numpy_functions_do_not_call_torch(student):
    """conv1d, conv1d_backward, conv2d and the pools are written with numpy, not torch"""
    used, errors = student.probe(torch_functions_used)
    if used:
        fail("these numpy functions called torch's own implementation: " + "; ".join(used)
             + ". Write them with numpy (that is the point of the exercise)")
    if errors:
        fail("this check runs all five numpy functions, and some failed: " + "; ".join(errors))


def torch_functions_used(module):
    """running your numpy functions with torch's conv and pooling disabled"""
    import numpy as np
    import torch
    import torch.nn.functional as F
    targets = [(F, "conv1d"), (F, "conv2d"), (F, "max_pool2d"), (F, "avg_pool2d"),
               (torch, "conv1d"), (torch, "conv2d"), (torch, "max_pool2d"), (torch, "avg_pool2d"),
               (torch.autograd, "grad"), (torch.Tensor, "backward"), (torch.Tensor, "unfold")]
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr in targets if hasattr(owner, attr)]
    called = []

    def trap(label):
        def replacement(*args, **kwargs):
            called.append(label)
            raise RuntimeError(f"{label} is not allowed here")
        return replacement

    for owner, attr, _ in saved:
        setattr(owner, attr, trap(f"{getattr(owner, '__name__', owner)}.{attr}"))
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 2, 6)), rng.normal(size=(3, 2, 3))
    calls = [("conv1d", (x, w)), ("conv1d_backward", (x, w, rng.normal(size=(2, 3, 4)))),
             ("conv2d", (rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(2, 2, 3, 3)))),
             ("max_pool2d", (rng.normal(size=(1, 1, 4, 4)), 2)),
             ("avg_pool2d", (rng.normal(size=(1, 1, 4, 4)), 2))]
    used, errors = [], []
    try:
        for name, args in calls:
            called.clear()
            try:
                getattr(module, name)(*args)
            except Exception as exc:
                if not called:
                    errors.append(f"{name} raised {type(exc).__name__}")
            if called:
                used.append(f"{name} used {', '.join(sorted(set(called)))}")
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)
    return used, errors


# --- TextCNN ---------------------------------------------------------------------------------

SMALL = dict(vocab_size=20, embed_dim=6, num_filters=5, kernel_size=3, num_classes=4)
WIDE = dict(vocab_size=30, embed_dim=4, num_filters=7, kernel_size=5, num_classes=2, padding_idx=2)
EVEN = dict(vocab_size=15, embed_dim=5, num_filters=6, kernel_size=4, num_classes=3)   # L_out = L + 1


def textcnn_layers(module, config):
    """building your TextCNN and looking at its layers"""
    import torch.nn as nn
    model = module.TextCNN(**config)
    found = {}
    for name, kind in (("embedding", nn.Embedding), ("conv", nn.Conv1d), ("fc", nn.Linear)):
        layer = getattr(model, name, None)
        found[name] = None if layer is None else {"type": type(layer).__name__,
                                                  "is_expected_type": isinstance(layer, kind)}
    emb, conv, fc = (getattr(model, n, None) for n in ("embedding", "conv", "fc"))
    if isinstance(emb, nn.Embedding):
        found["embedding"].update(num_embeddings=emb.num_embeddings, embedding_dim=emb.embedding_dim,
                                  padding_idx=emb.padding_idx)
    if isinstance(conv, nn.Conv1d):
        found["conv"].update(in_channels=conv.in_channels, out_channels=conv.out_channels,
                             kernel_size=list(conv.kernel_size),
                             padding=conv.padding if isinstance(conv.padding, str) else list(conv.padding),
                             stride=list(conv.stride))
    if isinstance(fc, nn.Linear):
        found["fc"].update(in_features=fc.in_features, out_features=fc.out_features)
    return found


@pytest.mark.points(2)
@pytest.mark.parametrize("config", [SMALL, WIDE], ids=["k3", "k5_pad2"])
def test_textcnn_layers(student, config):
    """TextCNN: embedding, conv and fc layers of the right types and sizes"""
    found = student.probe(textcnn_layers, config)
    k = config["kernel_size"]
    expected = {
        "embedding": ("nn.Embedding", dict(num_embeddings=config["vocab_size"],
                                           embedding_dim=config["embed_dim"],
                                           padding_idx=config.get("padding_idx", 0))),
        "conv": ("nn.Conv1d", dict(in_channels=config["embed_dim"], out_channels=config["num_filters"],
                                   kernel_size=[k], padding=[k // 2], stride=[1])),
        "fc": ("nn.Linear", dict(in_features=config["num_filters"], out_features=config["num_classes"])),
    }
    args = ", ".join(f"{key}={value}" for key, value in config.items())
    for name, (kind, fields) in expected.items():
        layer = found[name]
        if layer is None:
            fail(f"TextCNN({args}) has no attribute `{name}`; the layers must be called "
                 "embedding, conv and fc")
        if not layer["is_expected_type"]:
            fail(f"TextCNN.{name} should be an {kind}, got {layer['type']}")
        if layer.get("padding") == "same" and k % 2 == 1:
            layer["padding"] = [k // 2]        # the same thing for an odd kernel
        for field, value in fields.items():
            if layer[field] != value:
                extra = (" (padding=kernel_size // 2 keeps every word at the centre of a window)"
                         if field == "padding" else
                         " (pass padding_idx to nn.Embedding)" if field == "padding_idx" else "")
                fail(f"TextCNN({args}): {name}.{field} should be {value}, got {layer[field]}{extra}")


def padding_rows(module):
    """building TextCNN with padding_idx=3 and with the default padding_idx"""
    import torch
    torch.manual_seed(1)
    custom = module.TextCNN(12, 5, 4, 3, 2, padding_idx=3)
    default = module.TextCNN(12, 5, 4, 3, 2)
    return [m.embedding.weight.detach().clone() for m in (custom, default)]


@pytest.mark.points(1)
def test_textcnn_padding_row_is_zero(student):
    """TextCNN: the padding token's embedding is zero (padding_idx=3, and the default 0)"""
    custom, default = student.probe(padding_rows)
    for weight, index, how in ((custom, 3, "padding_idx=3"), (default, 0, "the default padding_idx=0")):
        row = expect_shape(weight, (12, 5), f"TextCNN(12, 5, 4, 3, 2) with {how}: embedding.weight",
                           tensor=True)[index]
        if np.any(row != 0):
            fail(f"TextCNN with {how}: embedding.weight[{index}] should be all zeros, got {row.round(3)}; "
                 "pass padding_idx to nn.Embedding")
    if not torch.any(custom[0] != 0):
        fail("TextCNN with padding_idx=3: embedding.weight[0] is zero; use the padding_idx argument "
             "rather than always 0")


def forward_shapes(module, config, token_batches):
    """building your TextCNN and running forward on batches of different lengths"""
    import torch
    torch.manual_seed(0)
    model = module.TextCNN(**config)
    with torch.no_grad():
        return [list(model(tokens).shape) for tokens in token_batches]


@pytest.mark.points(1)
def test_textcnn_output_shape(student, rng):
    """TextCNN: logits of shape (N, num_classes) for any sentence length, even shorter than the kernel"""
    sizes = [(1, 9), (3, 2), (4, 1), (2, 16)]
    batches = [torch.from_numpy(rng.integers(1, WIDE["vocab_size"], size=s)) for s in sizes]
    shapes = student.probe(forward_shapes, WIDE, batches)
    for (n, length), shape in zip(sizes, shapes):
        if tuple(shape) != (n, WIDE["num_classes"]):
            fail(f"TextCNN(kernel_size=5, num_classes=2): tokens of shape ({n}, {length}) gave logits "
                 f"of shape {tuple(shape)}, expected ({n}, 2); take the max over time (the last axis "
                 "of the conv output), not over the filters")


def forward_with_parameters(module, config, state, tokens):
    """building your TextCNN, loading the reference's parameters into it and running forward"""
    import torch
    model = module.TextCNN(**config)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        return model(tokens)


def tokens_with_padding(rng, n, length, vocab, pad):
    """Random tokens whose sentences end in padding of random lengths (never all padding)."""
    tokens = rng.integers(0, vocab, size=(n, length))
    tokens[tokens == pad] = (pad + 1) % vocab
    for row, keep in zip(tokens, rng.integers(1, length + 1, size=n)):
        row[keep:] = pad
    return torch.from_numpy(tokens)


@pytest.mark.points(2)
@pytest.mark.parametrize("config", [SMALL, WIDE, EVEN], ids=["k3", "k5_pad2", "k4"])
def test_textcnn_matches_reference_with_its_parameters(student, ref, rng, config):
    """TextCNN: with the reference's parameters loaded, the logits equal the reference's"""
    torch.manual_seed(7)
    model = ref.TextCNN(**config)
    model.eval()
    state = {key: value.clone() for key, value in model.state_dict().items()}
    tokens = tokens_with_padding(rng, 6, 7, config["vocab_size"], config.get("padding_idx", 0))
    with torch.no_grad():
        expected = model(tokens)
    got = student.probe(forward_with_parameters, config, state, tokens)
    expect_array(got, expected, "TextCNN logits (embedding -> conv with padding kernel_size // 2 -> "
                 "ReLU -> max over time -> fc)", rtol=1e-4, atol=1e-5, tensor=True, index_name="logits")


# The learning task: does token 7 appear in a sentence of 12 tokens drawn from 1..19? (about half do)
TASK = dict(vocab_size=20, embed_dim=8, num_filters=8, kernel_size=3, num_classes=2)
TASK_DATA_SEED, TASK_MODEL_SEED, TASK_TRAIN, TASK_TEST, TASK_LENGTH = 1234, 0, 256, 256, 12
TASK_EPOCHS, TASK_BATCH, TASK_LR = 15, 32, 0.01
# Reference, model seeds 0..19: test accuracy min 0.996, median 1.0 on this data; min 0.984 over
# data seeds 1..4 as well (100 runs). Chance is about 0.5.
TASK_MIN_ACCURACY = 0.9


def token_task(seed, n, length):
    """tokens (n, length) from 1..19 and labels 1 where token 7 appears."""
    tokens = np.random.default_rng(seed).integers(1, TASK["vocab_size"], size=(n, length))
    return torch.from_numpy(tokens), torch.from_numpy((tokens == 7).any(axis=1).astype(np.int64))


def train_and_predict(module, config, seed, train_tokens, train_labels, test_tokens, epochs,
                      batch_size, lr):
    """training your TextCNN with Adam on a small task (does token 7 appear?)"""
    import torch
    torch.manual_seed(seed)
    model = module.TextCNN(**config)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        permutation = torch.randperm(len(train_tokens), generator=order)
        for start in range(0, len(train_tokens), batch_size):
            batch = permutation[start:start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(train_tokens[batch]), train_labels[batch]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return model(test_tokens)


@pytest.mark.points(2)
@pytest.mark.timeout(60)
def test_textcnn_learns_token_task(student):
    """TextCNN: learns whether token 7 appears (test accuracy >= 0.9 after 15 epochs of Adam)"""
    train_tokens, train_labels = token_task(TASK_DATA_SEED, TASK_TRAIN, TASK_LENGTH)
    test_tokens, test_labels = token_task(TASK_DATA_SEED + 1, TASK_TEST, TASK_LENGTH)
    logits = student.probe(train_and_predict, TASK, TASK_MODEL_SEED, train_tokens, train_labels,
                           test_tokens, TASK_EPOCHS, TASK_BATCH, TASK_LR)
    logits = expect_shape(logits, (TASK_TEST, 2), "TextCNN logits on the test sentences", tensor=True)
    accuracy = float(np.mean(logits.argmax(axis=1) == test_labels.numpy()))
    if not accuracy >= TASK_MIN_ACCURACY:
        fail(f"TextCNN: after training, test accuracy is {accuracy:.3f}, below {TASK_MIN_ACCURACY} "
             "(the reference reaches 0.99 or more); check the ReLU, the max over time and that "
             "forward uses every layer")


def forward_on(module, config, state, tokens, device):
    """running your TextCNN on the GPU"""
    import torch
    model = module.TextCNN(**config)
    model.load_state_dict(state)
    model.to(device).eval()
    with torch.no_grad():
        logits = model(tokens.to(device))
    return {"logits": logits.cpu(), "device": str(logits.device)}


@pytest.mark.gpu
@pytest.mark.points(1)
def test_textcnn_runs_on_cuda(student, ref, rng, device):
    """TextCNN: runs on cuda with the same logits as on the CPU"""
    torch.manual_seed(3)
    model = ref.TextCNN(**SMALL).eval()
    state = {key: value.clone() for key, value in model.state_dict().items()}
    tokens = tokens_with_padding(rng, 4, 9, SMALL["vocab_size"], 0)
    with torch.no_grad():
        expected = model(tokens)
    got = student.probe(forward_on, SMALL, state, tokens, device)
    if not str(got["device"]).startswith(device):
        fail(f"TextCNN.forward returned its logits on {got['device']} for a model and tokens on "
             f"{device!r}: keep the result where the input is")
    expect_array(got["logits"], expected, f"TextCNN logits on {device}", rtol=1e-3, atol=1e-4, tensor=True,
                 index_name="logits")
