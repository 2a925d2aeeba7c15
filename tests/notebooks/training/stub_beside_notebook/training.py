"""The training loop: seeding, mini-batches, one epoch of SGD, evaluation, fit.

Every PyTorch training script is the same scaffold:

    set_seed(0)                                   # reproducible runs
    loader = make_dataloader(X, Y, batch_size=32)  # mini-batches
    model = ...; loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()   # gradients accumulate unless you clear them
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

This module writes that scaffold once, as functions you will reuse.
"""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def set_seed(seed):
    """Seed Python's `random`, numpy's global generator and torch with `seed`.

    After set_seed(s), random.random(), np.random.rand() and torch.rand() give
    the same numbers on every run.
    """
    raise NotImplementedError  # TODO: your code here


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    """A DataLoader over TensorDataset(X, Y) with mini-batches of `batch_size`.

    X and Y are tensors with the same first dimension; keep them as they are
    (same dtype). The last batch may be shorter. With shuffle=True the order
    of the samples must depend on `seed` alone, never on the global torch
    random state: give the DataLoader its own torch.Generator seeded with
    `seed`.
    """
    raise NotImplementedError  # TODO: your code here


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    """One pass over `loader`, one optimizer step per mini-batch.

    Put the model in training mode (model.train(): dropout active), then for
    each batch: move it to `device`, zero the gradients, forward, loss,
    backward, step. Return the mean of the batch losses as a Python float
    (use loss.item(): keeping the tensors would keep their graphs alive).
    """
    raise NotImplementedError  # TODO: your code here


def evaluate(model, loader, loss_fn, device="cpu"):
    """Loss and accuracy of a classifier over a whole loader: (loss, accuracy).

    Use model.eval() (dropout off) and torch.no_grad() (no graph is built).
    `loss` is the mean over all samples: loss_fn returns the mean over its
    batch, so weight each batch by its size; the last batch may be shorter.
    `accuracy` is the fraction of samples with argmax(logits, 1) == y.
    Both are Python floats.
    """
    raise NotImplementedError  # TODO: your code here


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    """Train for `epochs` epochs, evaluating on `val_loader` after each one.

    Return {"train_loss": [...], "val_loss": [...], "val_acc": [...]}, each a
    list with one float per epoch: train_epoch's result and evaluate's loss
    and accuracy on the validation loader.
    """
    raise NotImplementedError  # TODO: your code here
