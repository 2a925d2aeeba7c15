#!/usr/bin/env python
# coding: utf-8

# In[ ]:


import math
import torch
from torch import nn


# In[ ]:


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
        self.x_dim, self.y_dim = x_dim, y_dim
        self.W = nn.Parameter(torch.empty(y_dim, x_dim))
        self.b = nn.Parameter(torch.empty(y_dim))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw W and b again, in place, from U(-1/sqrt(x_dim), 1/sqrt(x_dim)).

        This is nn.Linear's default. The bound shrinks like 1/sqrt(fan_in)
        (fan_in = x_dim, the number of inputs each output adds up), so the
        outputs' scale does not grow with x_dim. Use torch's random
        functions so that torch.manual_seed makes the draw repeatable.
        """
        bound = 1.0 / math.sqrt(self.x_dim)
        with torch.no_grad():
            self.W.uniform_(-bound, bound)
            self.b.uniform_(-bound, bound)

    def forward(self, x):
        """x @ W.T + b for x of shape (x_dim,) or (N, x_dim)."""
        return x @ self.W.T + self.b


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one nn.Linear named `linear`.

    forward returns the logits, shape (N, num_classes): no softmax, because
    nn.CrossEntropyLoss applies log-softmax itself.
    """

    def __init__(self, input_size, num_classes):
        super().__init__()
        self.linear = nn.Linear(input_size, num_classes)

    def forward(self, x):
        return self.linear(x)


class FFN(nn.Module):
    """A feed-forward net with one hidden layer: linear1 -> ReLU -> linear2.

    linear1: nn.Linear(input_size, hidden_size); linear2:
    nn.Linear(hidden_size, output_size). No activation after linear2.
    """

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.linear2(torch.relu(self.linear1(x)))


class Net(nn.Module):
    """fc1 (256 -> 120), ReLU, fc2 (120 -> 84), ReLU, fc3 (84 -> 10).

    Input (N, 256), output the logits (N, 10): no activation after fc3.
    """

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def count_parameters(model):
    """The number of trainable scalars in model, as an int.

    Count every entry of every parameter that requires a gradient; skip
    frozen parameters (requires_grad False) and buffers (e.g. BatchNorm's
    running statistics), and count a parameter shared by two layers once.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# In[ ]:


get_ipython().run_line_magic('matplotlib', 'inline')
import matplotlib.pyplot as plt


