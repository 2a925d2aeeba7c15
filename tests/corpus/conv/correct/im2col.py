"""im2col with index arrays and one matrix product; pooling by reshape; TextCNN with
nn.ReLU and F.max_pool1d over the whole length."""
import numpy as np
import torch.nn as nn
import torch.nn.functional as F


def _cols1d(xp, K, stride, L_out):
    # idx[i, k] = i * stride + k  ->  cols (N, C_in, L_out, K)
    idx = np.arange(L_out)[:, None] * stride + np.arange(K)[None, :]
    return xp[:, :, idx]


def conv1d(x, w, b=None, stride=1, padding=0):
    N, C_in, L = x.shape
    C_out, _, K = w.shape
    L_out = (L + 2 * padding - K) // stride + 1
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding)], mode="constant")
    cols = _cols1d(xp, K, stride, L_out).transpose(0, 2, 1, 3).reshape(N, L_out, C_in * K)
    out = cols @ w.reshape(C_out, C_in * K).T            # (N, L_out, C_out)
    out = out.transpose(0, 2, 1)
    if b is not None:
        out = out + b.reshape(1, -1, 1)
    return np.ascontiguousarray(out)


def conv1d_backward(x, w, grad_out, stride=1, padding=0):
    N, C_in, L = x.shape
    C_out, _, K = w.shape
    L_out = grad_out.shape[2]
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding)])
    cols = _cols1d(xp, K, stride, L_out)                  # (N, C_in, L_out, K)
    g = grad_out.transpose(0, 2, 1).reshape(N * L_out, C_out)
    flat = cols.transpose(0, 2, 1, 3).reshape(N * L_out, C_in * K)
    dw = (g.T @ flat).reshape(w.shape)
    dcols = (g @ w.reshape(C_out, C_in * K)).reshape(N, L_out, C_in, K).transpose(0, 2, 1, 3)
    dxp = np.zeros(xp.shape)
    idx = np.arange(L_out)[:, None] * stride + np.arange(K)[None, :]
    np.add.at(dxp, (slice(None), slice(None), idx), dcols)
    db = g.sum(axis=0)
    return dxp[:, :, padding:xp.shape[2] - padding], dw, db


def conv2d(x, w, b=None, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    rows = (np.arange(H_out) * stride)[:, None, None, None] + np.arange(KH)[None, None, :, None]
    cols = (np.arange(W_out) * stride)[None, :, None, None] + np.arange(KW)[None, None, None, :]
    patches = xp[:, :, rows, cols]                        # (N, C_in, H_out, W_out, KH, KW)
    patches = patches.transpose(0, 2, 3, 1, 4, 5).reshape(N, H_out, W_out, C_in * KH * KW)
    out = (patches @ w.reshape(C_out, -1).T).transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b[None, :, None, None]
    return np.ascontiguousarray(out)


def _windows(x, k, s):
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
    if s == k:   # non-overlapping: crop and reshape
        return x[:, :, :H_out * k, :W_out * k].reshape(N, C, H_out, k, W_out, k).transpose(0, 1, 2, 4, 3, 5)
    rows = (np.arange(H_out) * s)[:, None, None, None] + np.arange(k)[None, None, :, None]
    cols = (np.arange(W_out) * s)[None, :, None, None] + np.arange(k)[None, None, None, :]
    return x[:, :, rows, cols]


def max_pool2d(x, kernel_size, stride=None):
    return _windows(x, kernel_size, stride if stride is not None else kernel_size).max(axis=(4, 5))


def avg_pool2d(x, kernel_size, stride=None):
    return _windows(x, kernel_size, stride if stride is not None else kernel_size).mean(axis=(4, 5))


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_filters, kernel_size, num_classes, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.conv = nn.Conv1d(in_channels=embed_dim, out_channels=num_filters,
                              kernel_size=kernel_size, padding=kernel_size // 2)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(num_filters, num_classes)

    def forward(self, tokens):
        h = self.relu(self.conv(self.embedding(tokens).transpose(1, 2)))
        h = F.max_pool1d(h, kernel_size=h.shape[2]).squeeze(2)
        return self.fc(h)
