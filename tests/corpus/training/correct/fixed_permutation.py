"""Training loop: model.zero_grad(set_to_none=True), a fixed numpy permutation per seed,
inference_mode in evaluate, batch-size-weighted losses."""
import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def set_seed(seed):
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    dataset = TensorDataset(X, Y)
    order = np.random.default_rng(seed).permutation(len(dataset)) if shuffle else np.arange(len(dataset))
    return DataLoader(dataset, batch_size=batch_size, sampler=order.tolist())


def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train(True)
    total, batches = 0.0, 0
    for batch in loader:
        inputs, labels = (t.to(device) for t in batch)
        model.zero_grad(set_to_none=True)
        predictions = model(inputs)
        loss = loss_fn(predictions, labels)
        loss.backward()
        optimizer.step()
        total += loss.detach().item()
        batches += 1
    return total / batches


def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    loss_sum, hits, seen = 0.0, 0, 0
    with torch.inference_mode():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            logits = model(inputs)
            size = labels.shape[0]
            loss_sum += size * loss_fn(logits, labels).item()
            hits += int(torch.sum(torch.argmax(logits, dim=1) == labels))
            seen += size
    return loss_sum / seen, hits / seen


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device="cpu"):
    train_losses, val_losses, val_accs = [], [], []
    for epoch in range(epochs):
        train_losses.append(train_epoch(model, train_loader, loss_fn, optimizer, device=device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device=device)
        val_losses.append(val_loss)
        val_accs.append(val_acc)
    return {"train_loss": train_losses, "val_loss": val_losses, "val_acc": val_accs}
