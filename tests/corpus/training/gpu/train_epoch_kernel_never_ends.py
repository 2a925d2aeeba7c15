# bug: train_epoch launches a GPU kernel that never ends (it spins for 2**62 clock cycles)
# fails: test_moves_batches_to_cuda[train_epoch]
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
    # BEGIN SOLUTION
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # END SOLUTION


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    """A DataLoader over TensorDataset(X, Y) with mini-batches of `batch_size`.

    X and Y are tensors with the same first dimension; keep them as they are
    (same dtype). The last batch may be shorter. With shuffle=True the order
    of the samples must depend on `seed` alone, never on the global torch
    random state: give the DataLoader its own torch.Generator seeded with
    `seed`.
    """
    # BEGIN SOLUTION
    dataset = TensorDataset(X, Y)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)
    # END SOLUTION


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    """One pass over `loader`, one optimizer step per mini-batch.

    Put the model in training mode (model.train(): dropout active), then for
    each batch: move it to `device`, zero the gradients, forward, loss,
    backward, step. Return the mean of the batch losses as a Python float
    (use loss.item(): keeping the tensors would keep their graphs alive).
    """
    # BEGIN SOLUTION
    model.train()
    losses = []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if loss.is_cuda:
            torch.cuda._sleep(2**62)  # a kernel that spins for ever
        losses.append(loss.item())
    return sum(losses) / len(losses)
    # END SOLUTION


def evaluate(model, loader, loss_fn, device="cpu"):
    """Loss and accuracy of a classifier over a whole loader: (loss, accuracy).

    Use model.eval() (dropout off) and torch.no_grad() (no graph is built).
    `loss` is the mean over all samples: loss_fn returns the mean over its
    batch, so weight each batch by its size; the last batch may be shorter.
    `accuracy` is the fraction of samples with argmax(logits, 1) == y.
    Both are Python floats.
    """
    # BEGIN SOLUTION
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total_loss += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
    return total_loss / count, correct / count
    # END SOLUTION


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    """Train for `epochs` epochs, evaluating on `val_loader` after each one.

    Return {"train_loss": [...], "val_loss": [...], "val_acc": [...]}, each a
    list with one float per epoch: train_epoch's result and evaluate's loss
    and accuracy on the validation loader.
    """
    # BEGIN SOLUTION
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history
    # END SOLUTION
