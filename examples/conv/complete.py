"""A complete conv submission."""
import numpy as np
import torch
import torch.nn as nn


def conv1d(x, w, b=None, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    K = w.shape[2]
    L_out = (x.shape[2] - K) // stride + 1
    out = np.stack([np.tensordot(x[:, :, i * stride:i * stride + K], w, axes=([1, 2], [1, 2]))
                    for i in range(L_out)], axis=2)
    if b is not None:
        out = out + b.reshape(1, -1, 1)
    return out


def conv1d_backward(x, w, grad_out, stride=1, padding=0):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    K = w.shape[2]
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    for i in range(grad_out.shape[2]):
        window = xp[:, :, i * stride:i * stride + K]
        dw += np.tensordot(grad_out[:, :, i], window, axes=([0], [0]))
        dxp[:, :, i * stride:i * stride + K] += np.tensordot(grad_out[:, :, i], w, axes=([1], [0]))
    return dxp[:, :, padding:padding + x.shape[2]], dw, grad_out.sum(axis=(0, 2))


def conv2d(x, w, b=None, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    KH, KW = w.shape[2:]
    H_out = (x.shape[2] - KH) // stride + 1
    W_out = (x.shape[3] - KW) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            patch = x[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _pool(x, k, stride, reduce):
    s = k if stride is None else stride
    H_out, W_out = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.zeros(x.shape[:2] + (H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = reduce(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


def max_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride, np.max)


def avg_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride, np.mean)


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_filters, kernel_size, num_classes, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.conv = nn.Conv1d(embed_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self.fc = nn.Linear(num_filters, num_classes)

    def forward(self, tokens):
        h = torch.relu(self.conv(self.embedding(tokens).transpose(1, 2)))
        return self.fc(h.max(dim=2).values)
