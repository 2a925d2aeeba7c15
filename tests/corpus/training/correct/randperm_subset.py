"""Training loop: torch.randperm with a seeded generator at build time (a list
as the sampler), a closure-style step, and a dict-of-lists fit built with setdefault."""
import random

import numpy
import torch
from torch.utils import data


def set_seed(seed: int) -> None:
    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    dataset = data.TensorDataset(X, Y)
    indices = list(range(len(dataset)))
    if shuffle:
        g = torch.Generator().manual_seed(seed)
        indices = torch.randperm(len(dataset), generator=g).tolist()
    return data.DataLoader(dataset, batch_size=batch_size, sampler=indices)


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    losses = []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)

        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            return loss

        losses.append(optimizer.step(closure).item())
    return sum(losses) / len(losses)


@torch.no_grad()
def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    weighted, right, count = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        scores = model(inputs)
        weighted += loss_fn(scores, targets).item() * len(targets)
        right += scores.max(dim=1).indices.eq(targets).sum().item()
        count += len(targets)
    return weighted / count, right / count


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    history = {}
    for _ in range(epochs):
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        for key, value in (("train_loss", train_loss), ("val_loss", val_loss), ("val_acc", val_acc)):
            history.setdefault(key, []).append(value)
    return history
