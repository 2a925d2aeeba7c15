"""A partial training submission: no zero_grad, evaluate averages batch means, no fit yet."""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(X, Y), batch_size=batch_size, shuffle=shuffle, generator=generator)


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    losses = []
    for x, y in loader:
        loss = loss_fn(model(x.to(device)), y.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    losses, accuracies = [], []
    with torch.no_grad():
        for x, y in loader:
            logits = model(x.to(device))
            losses.append(loss_fn(logits, y.to(device)).item())
            accuracies.append((logits.argmax(1) == y.to(device)).float().mean().item())
    return sum(losses) / len(losses), sum(accuracies) / len(accuracies)


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    raise NotImplementedError
