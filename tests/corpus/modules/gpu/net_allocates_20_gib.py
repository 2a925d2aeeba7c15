# bug: Net.forward allocates a 20 GiB scratch buffer on the GPU (far beyond a grade's GPU memory)
# fails: test_model_runs_on_cuda[Net]
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
        # BEGIN SOLUTION
        self.x_dim, self.y_dim = x_dim, y_dim
        self.W = nn.Parameter(torch.empty(y_dim, x_dim))
        self.b = nn.Parameter(torch.empty(y_dim))
        self.reset_parameters()
        # END SOLUTION

    def reset_parameters(self):
        """Draw W and b again, in place, from U(-1/sqrt(x_dim), 1/sqrt(x_dim)).

        This is nn.Linear's default. The bound shrinks like 1/sqrt(fan_in)
        (fan_in = x_dim, the number of inputs each output adds up), so the
        outputs' scale does not grow with x_dim. Use torch's random
        functions so that torch.manual_seed makes the draw repeatable.
        """
        # BEGIN SOLUTION
        bound = 1.0 / math.sqrt(self.x_dim)
        with torch.no_grad():
            self.W.uniform_(-bound, bound)
            self.b.uniform_(-bound, bound)
        # END SOLUTION

    def forward(self, x):
        """x @ W.T + b for x of shape (x_dim,) or (N, x_dim)."""
        # BEGIN SOLUTION
        return x @ self.W.T + self.b
        # END SOLUTION


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one nn.Linear named `linear`.

    forward returns the logits, shape (N, num_classes): no softmax, because
    nn.CrossEntropyLoss applies log-softmax itself.
    """

    def __init__(self, input_size, num_classes):
        super().__init__()
        # BEGIN SOLUTION
        self.linear = nn.Linear(input_size, num_classes)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.linear(x)
        # END SOLUTION


class FFN(nn.Module):
    """A feed-forward net with one hidden layer: linear1 -> ReLU -> linear2.

    linear1: nn.Linear(input_size, hidden_size); linear2:
    nn.Linear(hidden_size, output_size). No activation after linear2.
    """

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        # BEGIN SOLUTION
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, output_size)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.linear2(torch.relu(self.linear1(x)))
        # END SOLUTION


class Net(nn.Module):
    """fc1 (256 -> 120), ReLU, fc2 (120 -> 84), ReLU, fc3 (84 -> 10).

    Input (N, 256), output the logits (N, 10): no activation after fc3.
    """

    def __init__(self):
        super().__init__()
        # BEGIN SOLUTION
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        if x.is_cuda:
            scratch = torch.empty(20 * 2**30 // 4, device=x.device)  # 20 GiB of float32
            x = x + scratch[0] * 0
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)
        # END SOLUTION


def count_parameters(model):
    """The number of trainable scalars in model, as an int.

    Count every entry of every parameter that requires a gradient; skip
    frozen parameters (requires_grad False) and buffers (e.g. BatchNorm's
    running statistics), and count a parameter shared by two layers once.
    """
    # BEGIN SOLUTION
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
    # END SOLUTION
