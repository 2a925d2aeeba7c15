"""A broken training submission: a misspelt import stops the module from loading."""
import torch
from torch.utils.data import DataLoader, TensorDataSet


def set_seed(seed):
    torch.manual_seed(seed)


def make_dataloader(X, Y, batch_size, shuffle=True, seed=0):
    return DataLoader(TensorDataSet(X, Y), batch_size=batch_size, shuffle=shuffle)
