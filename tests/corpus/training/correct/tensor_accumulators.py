"""Training loop: running totals kept as tensors and converted at the end; fit
written out in full instead of calling train_epoch."""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.random.manual_seed(seed)


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(TensorDataset(X, Y), batch_size, shuffle, generator=generator, num_workers=0)


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    total = torch.zeros((), dtype=torch.float64)
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.detach().cpu().double()
    return (total / len(loader)).item()


def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    with torch.no_grad():
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss_sum += loss_fn(out, y).double().cpu() * len(x)
            correct += (out.argmax(-1) == y).sum().cpu()
    n = len(loader.dataset)
    return loss_sum.item() / n, correct.item() / n


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        model.train()
        losses = []
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history["train_loss"].append(sum(losses) / len(losses))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
    return history
