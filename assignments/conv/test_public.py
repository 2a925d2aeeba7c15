"""Public tests for conv: the lecture's worked examples and checks of your own functions.

Run them with `make test` (or `grader test conv`). They need no reference
solution; hidden tests with other inputs, shapes, strides and paddings run
when your work is graded.
"""
import numpy as np
import pytest

from grader.checks import (central_differences, expect_array, expect_gradient, expect_shape, fail,
                           perturbations, sample_indices)

# The lecture's 2-D example: a 4x4 image and an (asymmetric) 3x3 kernel.
IMAGE = np.array([[3, 2, 3, 2],
                  [2, 1, 2, 1],
                  [2, 1, 2, 1],
                  [1, 0, 1, 0]], dtype=float)[None, None]
KERNEL = np.array([[1, 2, 3],
                   [1, 2, 3],
                   [0, 1, 2]], dtype=float)[None, None]
# The lecture's pooling example: 2x2 windows, stride 2.
POOL_INPUT = np.array([[1, 0, 2, 0],
                       [2, 1, 2, 0],
                       [5, 1, 3, 1],
                       [3, 0, 2, 0]], dtype=float)[None, None]


@pytest.mark.points(2)
def test_conv2d_worked_example_padding_1(student):
    """conv2d: the lecture's 4x4 image and 3x3 kernel, zero padding 1"""
    got = student.conv2d(IMAGE, KERNEL, padding=1)
    expected = np.array([[16, 21, 18, 8],
                         [23, 31, 26, 12],
                         [15, 22, 17, 8],
                         [9, 14, 10, 5]], dtype=float)[None, None]
    true_convolution = np.array([[13, 26, 22, 21],
                                 [13, 28, 23, 24],
                                 [9, 19, 14, 16],
                                 [4, 9, 6, 8]], dtype=float)[None, None]
    if isinstance(got, np.ndarray) and got.shape == expected.shape and np.allclose(got, true_convolution):
        fail("conv2d: you computed the true convolution (kernel flipped); PyTorch's convention, "
             "used here, is cross-correlation: out[i, j] = sum_{a,b} w[a, b] * xp[i + a, j + b], "
             "with no flip")
    expect_array(got, expected, "conv2d(padding=1)", index_name="out")


@pytest.mark.points(1)
def test_conv2d_worked_example_no_padding_and_stride_2(student):
    """conv2d: the same example without padding, and with padding 1 and stride 2"""
    expect_array(student.conv2d(IMAGE, KERNEL), np.array([[[[31, 26], [22, 17]]]], dtype=float),
                 "conv2d(padding=0)", index_name="out")
    expect_array(student.conv2d(IMAGE, KERNEL, stride=2, padding=1),
                 np.array([[[[16, 18], [15, 17]]]], dtype=float), "conv2d(stride=2, padding=1)",
                 index_name="out")


@pytest.mark.points(1)
def test_max_pool2d_worked_example(student):
    """max_pool2d: the lecture's 4x4 example, 2x2 windows (stride defaults to 2)"""
    expect_array(student.max_pool2d(POOL_INPUT, 2), np.array([[[[2, 2], [5, 3]]]], dtype=float),
                 "max_pool2d(x, 2)", index_name="out")


@pytest.mark.points(1)
def test_avg_pool2d_worked_example(student):
    """avg_pool2d: the lecture's 4x4 example, 2x2 windows (stride defaults to 2)"""
    expect_array(student.avg_pool2d(POOL_INPUT, 2), np.array([[[[1, 1], [2.25, 1.5]]]]),
                 "avg_pool2d(x, 2)", index_name="out")


@pytest.mark.points(1)
def test_conv1d_rolling_average(student):
    """conv1d: a 7-day rolling average is a convolution with w = [1/7] * 7"""
    daily = np.array([12, 15, 9, 20, 31, 28, 17, 14, 22, 26, 30, 19, 11, 16], dtype=float)
    got = student.conv1d(daily[None, None], np.full((1, 1, 7), 1 / 7))
    expected = np.convolve(daily, np.ones(7) / 7, mode="valid")[None, None]
    expect_array(got, expected, "conv1d (7-day average of 14 days)", index_name="out")


@pytest.mark.points(1)
def test_conv1d_small_example_bias_stride_padding(student):
    """conv1d: [1, 2, 3, 4, 5] with w = [1, 0, -1], b = 0.5, stride 2, padding 1"""
    x = np.array([[[1, 2, 3, 4, 5]]], dtype=float)
    w = np.array([[[1, 0, -1]]], dtype=float)
    got = student.conv1d(x, w, np.array([0.5]), stride=2, padding=1)
    # padded: [0, 1, 2, 3, 4, 5, 0]; windows start at 0, 2, 4
    if isinstance(got, np.ndarray) and got.shape != (1, 1, 3):
        fail(f"conv1d: wrong shape: expected (1, 1, 3), got {got.shape}; L_out = (L + 2 * padding - K) "
             "// stride + 1 = (5 + 2 - 3) // 2 + 1 = 3, with zero padding on both sides")
    if isinstance(got, np.ndarray) and got.shape == (1, 1, 3) and np.allclose(got, [[[2.5, 2.5, -3.5]]]):
        fail("conv1d: you flipped the kernel (true convolution); use cross-correlation: "
             "out[i] = b + sum_k w[k] * xp[i * stride + k]")
    expect_array(got, np.array([[[-1.5, -1.5, 4.5]]]), "conv1d", index_name="out")


@pytest.mark.points(2)
def test_conv1d_backward_matches_finite_differences_of_your_conv1d(student, rng):
    """conv1d_backward agrees with finite differences of your own conv1d (stride 2, padding 1)"""
    x, w, b = rng.normal(size=(2, 2, 7)), rng.normal(size=(3, 2, 3)), rng.normal(size=3)
    out = expect_shape(student.conv1d(x, w, b, stride=2, padding=1), (2, 3, 4), "conv1d")
    grad_out = rng.normal(size=out.shape)   # the loss is sum(grad_out * conv1d(x, w, b))
    grads = student.conv1d_backward(x, w, grad_out, stride=2, padding=1)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail("conv1d_backward should return a tuple (dx, dw, db)")
    for name, value, args_for in (("x", x, lambda v: (v, w, b)), ("w", w, lambda v: (x, v, b)),
                                  ("b", b, lambda v: (x, w, v))):
        grad = expect_shape(grads["xwb".index(name)], value.shape, f"conv1d_backward: d{name}")
        indices = sample_indices(value.shape, 6, rng)
        outs = student.many("conv1d", [args_for(v) + (2, 1) for v in perturbations(value, indices)])
        losses = [float(np.sum(grad_out * expect_shape(o, out.shape, "conv1d"))) for o in outs]
        expect_gradient(grad, central_differences(losses), indices, f"conv1d_backward: d{name}",
                        index_name=f"d{name}")


@pytest.mark.points(1)
def test_textcnn_output_shape_and_padding_row(student):
    """TextCNN: logits of shape (N, num_classes) and a zero embedding for the padding token"""
    shape, pad_row = student.probe(textcnn_shape_and_pad_row, [[4, 5, 6, 0, 0], [1, 2, 3, 9, 0]])
    if tuple(shape) != (2, 3):
        fail(f"TextCNN(vocab_size=10, embed_dim=4, num_filters=6, kernel_size=3, num_classes=3): "
             f"forward on tokens of shape (2, 5) should return logits of shape (2, 3), got {tuple(shape)}")
    if np.any(np.asarray(pad_row) != 0):
        fail("TextCNN: embedding.weight[padding_idx] should be all zeros; pass padding_idx to "
             "nn.Embedding")


def textcnn_shape_and_pad_row(module, tokens):
    """building TextCNN(10, 4, 6, 3, 3) and running it on tokens of shape (2, 5)"""
    import torch
    torch.manual_seed(0)
    model = module.TextCNN(10, 4, 6, 3, 3)
    with torch.no_grad():
        logits = model(torch.tensor(tokens, dtype=torch.int64))
    return list(logits.shape), model.embedding.weight[0].detach().numpy().copy()
