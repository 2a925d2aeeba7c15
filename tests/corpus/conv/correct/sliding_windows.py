"""np.lib.stride_tricks.sliding_window_view and einsum everywhere; TextCNN with
nn.AdaptiveMaxPool1d(1) and torch.flatten."""
import numpy as np
import torch
from torch import nn
from numpy.lib.stride_tricks import sliding_window_view


def conv1d(x, w, b=None, stride=1, padding=0):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    win = sliding_window_view(xp, w.shape[2], axis=2)[:, :, ::stride]   # (N, C_in, L_out, K)
    out = np.einsum("ncik,ock->noi", win, w)
    return out if b is None else out + b[:, None]


def conv1d_backward(x, w, grad_out, stride=1, padding=0):
    K = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    win = sliding_window_view(xp, K, axis=2)[:, :, ::stride]
    dw = np.einsum("noi,ncik->ock", grad_out, win)
    db = np.einsum("noi->o", grad_out)
    dxp = np.zeros_like(xp, dtype=np.float64)
    contrib = np.einsum("noi,ock->ncik", grad_out, w)
    for k in range(K):   # position of x read by tap k of window i: i * stride + k
        dxp[:, :, k:k + stride * (grad_out.shape[2] - 1) + 1:stride] += contrib[:, :, :, k]
    return dxp[:, :, padding:padding + x.shape[2]], dw, db


def conv2d(x, w, b=None, stride=1, padding=0):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("ncijab,ocab->noij", win, w)
    return out if b is None else out + b[:, None, None]


def _pool(x, kernel_size, stride):
    stride = kernel_size if stride is None else stride
    return sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))[:, :, ::stride, ::stride]


def max_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride).max(axis=(-2, -1))


def avg_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride).mean(axis=(-2, -1))


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_filters, kernel_size, num_classes, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx)
        self.conv = nn.Conv1d(embed_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.fc = nn.Linear(num_filters, num_classes)

    def forward(self, tokens):
        x = self.embedding(tokens)            # (N, L, E)
        x = torch.relu(self.conv(x.permute(0, 2, 1)))
        return self.fc(torch.flatten(self.pool(x), 1))
