"""Building models from torch.nn.Module.

A Module owns its parameters: tensors wrapped in nn.Parameter and assigned as
attributes are *registered*, so model.parameters(), model.state_dict(),
model.to("cuda") and every optimizer find them without being told. Modules
assigned as attributes (an nn.Linear inside your model) are registered too,
with their parameters named after the attribute: `linear1.weight`.

Always call super().__init__() first in __init__: registration needs it.
"""
import math

import torch
from torch import nn


class LinearModule(nn.Module):
    """y = x @ W.T + b, written from scratch (what nn.Linear does).

    Parameters (registered as nn.Parameter):
        W: shape (y_dim, x_dim)
        b: shape (y_dim,)
    forward accepts x of shape (x_dim,) or (N, x_dim) and returns (y_dim,)
    or (N, y_dim).
    """

    def __init__(self, x_dim, y_dim):
        super().__init__()
        raise NotImplementedError  # TODO: your code here

    def reset_parameters(self):
        """Draw W and b again, in place, from U(-1/sqrt(x_dim), 1/sqrt(x_dim)).

        This is nn.Linear's default. The bound shrinks like 1/sqrt(fan_in)
        (fan_in = x_dim, the number of inputs each output adds up), so the
        outputs' scale does not grow with x_dim. Use torch's random
        functions so that torch.manual_seed makes the draw repeatable.
        """
        raise NotImplementedError  # TODO: your code here

    def forward(self, x):
        """x @ W.T + b for x of shape (x_dim,) or (N, x_dim)."""
        raise NotImplementedError  # TODO: your code here


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one nn.Linear named `linear`.

    forward returns the logits, shape (N, num_classes): no softmax, because
    nn.CrossEntropyLoss applies log-softmax itself.
    """

    def __init__(self, input_size, num_classes):
        super().__init__()
        raise NotImplementedError  # TODO: your code here

    def forward(self, x):
        raise NotImplementedError  # TODO: your code here


class FFN(nn.Module):
    """A feed-forward net with one hidden layer: linear1 -> ReLU -> linear2.

    linear1: nn.Linear(input_size, hidden_size); linear2:
    nn.Linear(hidden_size, output_size). No activation after linear2.
    """

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        raise NotImplementedError  # TODO: your code here

    def forward(self, x):
        raise NotImplementedError  # TODO: your code here


class Net(nn.Module):
    """fc1 (256 -> 120), ReLU, fc2 (120 -> 84), ReLU, fc3 (84 -> 10).

    Input (N, 256), output the logits (N, 10): no activation after fc3.
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError  # TODO: your code here

    def forward(self, x):
        raise NotImplementedError  # TODO: your code here


def count_parameters(model):
    """The number of trainable scalars in model, as an int.

    Count every entry of every parameter that requires a gradient; skip
    frozen parameters (requires_grad False) and buffers (e.g. BatchNorm's
    running statistics), and count a parameter shared by two layers once.
    """
    raise NotImplementedError  # TODO: your code here
