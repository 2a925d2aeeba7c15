# bug: TextCNN uses padding='same', which differs from kernel_size // 2 for even kernels
# fails: textcnn_matches_reference_with_its_parameters[k4]
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
    n, _, length = x.shape
    c_out, _, k = w.shape
    l_out = (length + 2 * padding - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    out = np.zeros((n, c_out, l_out))
    for i in range(l_out):
        window = xp[:, :, i * stride:i * stride + k]            # (N, C_in, K)
        out[:, :, i] = np.einsum("nck,ock->no", window, w)      # one dot product per (n, o)
    if b is not None:
        out += b[None, :, None]
    return out


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
    length = x.shape[2]
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for i in range(grad_out.shape[2]):
        start = i * stride
        g = grad_out[:, :, i]                                     # (N, C_out)
        dw += np.einsum("no,nck->ock", g, xp[:, :, start:start + k])
        dxp[:, :, start:start + k] += np.einsum("no,ock->nck", g, w)
    db = grad_out.sum(axis=(0, 2))
    return dxp[:, :, padding:padding + length], dw, db


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation): x (N, C_in, H, W), w (C_out, C_in, KH, KW).

    Returns (N, C_out, H_out, W_out) with H_out = (H + 2 * padding - KH) // stride + 1
    and W_out = (W + 2 * padding - KW) // stride + 1; stride and padding apply
    to both axes. The filter slides over rows and columns; each output is the
    dot product of w[o] with a C_in x KH x KW window of the padded input.
    """
    n, _, height, width = x.shape
    c_out, _, kh, kw = w.shape
    h_out = (height + 2 * padding - kh) // stride + 1
    w_out = (width + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, c_out, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", window, w)
    if b is not None:
        out += b[None, :, None, None]
    return out


def _pool2d(x, kernel_size, stride, reduce):
    """Apply reduce(window, axis=(2, 3)) to every kernel_size x kernel_size window."""
    stride = kernel_size if stride is None else stride
    n, c, height, width = x.shape
    h_out = (height - kernel_size) // stride + 1
    w_out = (width - kernel_size) // stride + 1
    out = np.zeros((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling over kernel_size x kernel_size windows of x (N, C, H, W).

    stride defaults to kernel_size (windows side by side, no overlap). No
    padding: windows that would run past the edge are dropped, so
    H_out = (H - kernel_size) // stride + 1, and likewise W_out.
    Channels are pooled separately: the output has C channels too.
    """
    return _pool2d(x, kernel_size, stride, np.max)


def avg_pool2d(x, kernel_size, stride=None):
    """Average pooling: like max_pool2d, with the mean of each window's
    kernel_size * kernel_size values."""
    return _pool2d(x, kernel_size, stride, np.mean)


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
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.conv = nn.Conv1d(embed_dim, num_filters, kernel_size, padding="same")
        self.fc = nn.Linear(num_filters, num_classes)

    def forward(self, tokens):
        """tokens: (N, L) int64 -> logits (N, num_classes)."""
        h = self.embedding(tokens).transpose(1, 2)      # (N, E, L): Conv1d wants channels first
        h = torch.relu(self.conv(h))                    # (N, num_filters, L')
        h = h.max(dim=2).values                         # max over time: (N, num_filters)
        return self.fc(h)
