"""Plain Python loops over every index; TextCNN with F.relu and .max(dim=2).values."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def pad1d(x, p):
    n, c, length = x.shape
    out = np.zeros((n, c, length + 2 * p))
    out[:, :, p:p + length] = x
    return out


def conv1d(x, w, b=None, stride=1, padding=0):
    N, C_in, L = x.shape
    C_out, _, K = w.shape
    xp = pad1d(x, padding)
    L_out = (L + 2 * padding - K) // stride + 1
    out = np.zeros((N, C_out, L_out))
    for n in range(N):
        for o in range(C_out):
            for i in range(L_out):
                total = 0.0
                for c in range(C_in):
                    for k in range(K):
                        total += w[o, c, k] * xp[n, c, i * stride + k]
                out[n, o, i] = total + (b[o] if b is not None else 0.0)
    return out


def conv1d_backward(x, w, grad_out, stride=1, padding=0):
    N, C_in, L = x.shape
    C_out, _, K = w.shape
    xp = pad1d(x, padding)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    db = np.zeros(C_out)
    for n in range(N):
        for o in range(C_out):
            for i in range(grad_out.shape[2]):
                g = grad_out[n, o, i]
                db[o] += g
                for c in range(C_in):
                    for k in range(K):
                        dw[o, c, k] += g * xp[n, c, i * stride + k]
                        dxp[n, c, i * stride + k] += g * w[o, c, k]
    return dxp[:, :, padding:padding + L], dw, db


def conv2d(x, w, b=None, stride=1, padding=0):
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    xp = np.zeros((N, C_in, H + 2 * padding, W + 2 * padding))
    xp[:, :, padding:padding + H, padding:padding + W] = x
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    out = np.zeros((N, C_out, H_out, W_out))
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    patch = xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, o, i, j] = np.sum(patch * w[o]) + (b[o] if b is not None else 0.0)
    return out


def max_pool2d(x, kernel_size, stride=None):
    s = stride or kernel_size
    N, C, H, W = x.shape
    out = np.zeros((N, C, (H - kernel_size) // s + 1, (W - kernel_size) // s + 1))
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    best = -np.inf
                    for a in range(kernel_size):
                        for bb in range(kernel_size):
                            best = max(best, x[n, c, i * s + a, j * s + bb])
                    out[n, c, i, j] = best
    return out


def avg_pool2d(x, kernel_size, stride=None):
    s = stride or kernel_size
    N, C, H, W = x.shape
    out = np.zeros((N, C, (H - kernel_size) // s + 1, (W - kernel_size) // s + 1))
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    total = 0.0
                    for a in range(kernel_size):
                        for bb in range(kernel_size):
                            total += x[n, c, i * s + a, j * s + bb]
                    out[n, c, i, j] = total / (kernel_size * kernel_size)
    return out


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_filters, kernel_size, num_classes, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.conv = nn.Conv1d(embed_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self.fc = nn.Linear(num_filters, num_classes)

    def forward(self, tokens):
        emb = self.embedding(tokens).permute(0, 2, 1)
        feats = F.relu(self.conv(emb))
        return self.fc(feats.max(dim=2).values)
