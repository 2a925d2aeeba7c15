"""Convolution and pooling with numpy, and a convolutional text classifier in torch.

Everything follows PyTorch's layout and conventions, so you can check your
numpy code against torch.nn.functional:

- arrays are channels-first: x is (N, C_in, L) in 1-D, (N, C_in, H, W) in 2-D;
- a filter bank w is (C_out, C_in, K) or (C_out, C_in, KH, KW);
- "convolution" is cross-correlation: the kernel is NOT flipped,
      out[n, o, i] = b[o] + sum_c sum_k w[o, c, k] * xp[n, c, i * stride + k]
  where xp is x with `padding` zeros added on BOTH sides;
- the output length is L_out = (L + 2 * padding - K) // stride + 1.

conv1d, conv1d_backward, conv2d, max_pool2d and avg_pool2d use numpy only;
TextCNN is a torch.nn.Module.
"""
import numpy as np
import torch
from torch import nn


def conv1d(x, w, b=None, stride=1, padding=0):
    """1-D convolution (cross-correlation) of a batch of signals with a filter bank.

    x: (N, C_in, L), w: (C_out, C_in, K), b: (C_out,) or None.
    Returns (N, C_out, L_out) with L_out = (L + 2 * padding - K) // stride + 1.

    Each output value is one dot product: the filter w[o] (C_in x K numbers)
    against the window of the padded input that starts at i * stride. With
    one channel and w = [1/7] * 7, conv1d is the 7-day rolling average.
    """
    raise NotImplementedError  # TODO: your code here


def conv1d_backward(x, w, grad_out, stride=1, padding=0):
    """Gradients of a loss through conv1d: returns (dx, dw, db).

    grad_out = dloss/d(out) has conv1d's output shape (N, C_out, L_out).
    dx has x's shape (N, C_in, L), dw has w's shape, db has shape (C_out,).

    Output h[i] used the window xbar_i = xp[:, i * stride : i * stride + K],
    so by the chain rule the filter's gradient sums every window, weighted by
    how much the loss cares about that output:
        dw = sum over n and i of  grad_out[n, :, i] (outer) xbar_i
        db = sum over n and i of  grad_out[n, :, i]
    and each window sends w back to the input positions it read:
        dxp[n, :, i * stride : i * stride + K] += sum_o grad_out[n, o, i] * w[o]
    Windows overlap when stride < K, so contributions add up. Finally drop
    the padded positions: dx = dxp[:, :, padding : padding + L].
    """
    raise NotImplementedError  # TODO: your code here


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation): x (N, C_in, H, W), w (C_out, C_in, KH, KW).

    Returns (N, C_out, H_out, W_out) with H_out = (H + 2 * padding - KH) // stride + 1
    and W_out = (W + 2 * padding - KW) // stride + 1; stride and padding apply
    to both axes. The filter slides over rows and columns; each output is the
    dot product of w[o] with a C_in x KH x KW window of the padded input.
    """
    raise NotImplementedError  # TODO: your code here


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling over kernel_size x kernel_size windows of x (N, C, H, W).

    stride defaults to kernel_size (windows side by side, no overlap). No
    padding: windows that would run past the edge are dropped, so
    H_out = (H - kernel_size) // stride + 1, and likewise W_out.
    Channels are pooled separately: the output has C channels too.
    """
    raise NotImplementedError  # TODO: your code here


def avg_pool2d(x, kernel_size, stride=None):
    """Average pooling: like max_pool2d, with the mean of each window's
    kernel_size * kernel_size values."""
    raise NotImplementedError  # TODO: your code here


class TextCNN(nn.Module):
    """A convolutional text classifier.

    tokens (N, L) int64 -> embedding (N, L, E) -> transpose to channels-first
    (N, E, L) -> conv (N, num_filters, L') -> ReLU -> max over time
    (N, num_filters) -> fc -> logits (N, num_classes).

    Attributes, with exactly these names:
      embedding: nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
                 (the padding token's vector is zero and gets no gradient);
      conv:      nn.Conv1d(embed_dim, num_filters, kernel_size,
                 padding=kernel_size // 2) (every word, even at the edges,
                 is the centre of a window);
      fc:        nn.Linear(num_filters, num_classes).
    Each filter is an n-gram detector; the max over time keeps its strongest
    match anywhere in the sentence, so the classifier works for any length L.
    """

    def __init__(self, vocab_size, embed_dim, num_filters, kernel_size, num_classes, padding_idx=0):
        super().__init__()
        raise NotImplementedError  # TODO: your code here

    def forward(self, tokens):
        """tokens: (N, L) int64 -> logits (N, num_classes)."""
        raise NotImplementedError  # TODO: your code here
