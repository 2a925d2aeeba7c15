"""Training loop: zero_grad after each step, RandomSampler with its own generator,
evaluate by concatenating every batch's outputs."""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset


def set_seed(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    data = TensorDataset(X, Y)
    if not shuffle:
        return DataLoader(data, batch_size=batch_size)
    sampler = RandomSampler(data, generator=torch.Generator().manual_seed(seed))
    return DataLoader(data, batch_size=batch_size, sampler=sampler)


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    batch_losses = []
    for x, y in loader:
        loss = loss_fn(model(x.to(device)), y.to(device))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        batch_losses.append(float(loss))
    return float(np.mean(batch_losses))


def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    outputs, targets = [], []
    with torch.no_grad():
        for x, y in loader:
            outputs.append(model(x.to(device)))
            targets.append(y.to(device))
    logits, labels = torch.cat(outputs), torch.cat(targets)
    loss = loss_fn(logits, labels).item()
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    return loss, accuracy


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
        loss, acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"] += [loss]
        history["val_acc"] += [acc]
    return history
