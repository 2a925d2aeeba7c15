"""Backward as convolutions: dx is a full correlation of the dilated grad_out with the
flipped kernel, dw a correlation of the input with the dilated grad_out. TextCNN uses
torch.amax and builds its layers in another order."""
import numpy as np
import torch
import torch.nn as nn


def _corr(xp, w, stride):
    """Valid cross-correlation of xp (N, C, Lp) with w (O, C, K), stride `stride`."""
    K = w.shape[2]
    L_out = (xp.shape[2] - K) // stride + 1
    out = np.empty((xp.shape[0], w.shape[0], L_out))
    for i in range(L_out):
        out[:, :, i] = np.tensordot(xp[:, :, i * stride:i * stride + K], w, axes=([1, 2], [1, 2]))
    return out


def conv1d(x, w, b=None, stride=1, padding=0):
    out = _corr(np.pad(x, ((0, 0), (0, 0), (padding, padding))), w, stride)
    if b is not None:
        out += np.asarray(b).reshape(1, -1, 1)
    return out


def _dilate(g, stride):
    N, O, L_out = g.shape
    d = np.zeros((N, O, (L_out - 1) * stride + 1))
    d[:, :, ::stride] = g
    return d


def conv1d_backward(x, w, grad_out, stride=1, padding=0):
    N, C_in, L = x.shape
    K = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    gd = _dilate(grad_out, stride)                       # (N, O, Ld)
    Ld = gd.shape[2]
    # dw[o, c, k] = sum_n sum_t gd[n, o, t] xp[n, c, t + k]
    dw = np.stack([np.einsum("not,nct->oc", gd, xp[:, :, k:k + Ld]) for k in range(K)], axis=2)
    # dxp = full correlation of gd with the flipped kernel, channels swapped
    gfull = np.pad(gd, ((0, 0), (0, 0), (K - 1, K - 1)))
    dxp_used = _corr(gfull, w[:, :, ::-1].transpose(1, 0, 2), 1)   # (N, C_in, Ld + K - 1)
    dxp = np.zeros(xp.shape)
    dxp[:, :, :dxp_used.shape[2]] = dxp_used
    return dxp[:, :, padding:padding + L], dw, grad_out.sum(axis=2).sum(axis=0)


def conv2d(x, w, b=None, stride=1, padding=0):
    N, C_in, H, W = x.shape
    O, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    out = np.zeros((N, O, H_out, W_out))
    for a in range(KH):          # loop over kernel taps instead of output positions
        for c in range(KW):
            patch = xp[:, :, a:a + stride * (H_out - 1) + 1:stride, c:c + stride * (W_out - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, a, c])
    if b is not None:
        out += b.reshape(1, O, 1, 1)
    return out


def max_pool2d(x, kernel_size, stride=None):
    if stride is None:
        stride = kernel_size
    N, C, H, W = x.shape
    H_out, W_out = (H - kernel_size) // stride + 1, (W - kernel_size) // stride + 1
    out = np.full((N, C, H_out, W_out), -np.inf)
    for a in range(kernel_size):
        for c in range(kernel_size):
            out = np.maximum(out, x[:, :, a:a + stride * (H_out - 1) + 1:stride,
                                    c:c + stride * (W_out - 1) + 1:stride])
    return out


def avg_pool2d(x, kernel_size, stride=None):
    if stride is None:
        stride = kernel_size
    N, C, H, W = x.shape
    H_out, W_out = (H - kernel_size) // stride + 1, (W - kernel_size) // stride + 1
    out = np.zeros((N, C, H_out, W_out))
    for a in range(kernel_size):
        for c in range(kernel_size):
            out += x[:, :, a:a + stride * (H_out - 1) + 1:stride, c:c + stride * (W_out - 1) + 1:stride]
    return out / kernel_size ** 2


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_filters, kernel_size, num_classes, padding_idx=0):
        super().__init__()
        self.fc = nn.Linear(num_filters, num_classes)
        self.conv = nn.Conv1d(embed_dim, num_filters, kernel_size, stride=1, padding=kernel_size // 2)
        self.embedding = nn.Embedding(num_embeddings=vocab_size, embedding_dim=embed_dim,
                                      padding_idx=padding_idx)

    def forward(self, tokens):
        h = self.conv(self.embedding(tokens).transpose(-1, -2)).clamp(min=0)
        return self.fc(torch.amax(h, dim=-1))
