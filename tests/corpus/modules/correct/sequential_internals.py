"""FFN as an nn.Sequential with named children, Net built with add_module,
einsum, parameters replaced (not filled) on reset."""
from collections import OrderedDict

import torch
from torch import nn


class LinearModule(nn.Module):
    def __init__(self, x_dim, y_dim):
        super().__init__()
        self.x_dim, self.y_dim = x_dim, y_dim
        self.reset_parameters()

    def reset_parameters(self):
        bound = self.x_dim ** -0.5
        self.W = nn.Parameter(torch.empty(self.y_dim, self.x_dim).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(self.y_dim).uniform_(-bound, bound))

    def forward(self, x):
        return torch.einsum("...i,oi->...o", x, self.W) + self.b


class LogisticRegression(nn.Module):
    def __init__(self, input_size, num_classes):
        super().__init__()
        self.linear = nn.Linear(input_size, num_classes)

    def forward(self, x):
        return self.linear(x)


class FFN(nn.Sequential):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__(OrderedDict([
            ("linear1", nn.Linear(input_size, hidden_size)),
            ("relu", nn.ReLU()),
            ("linear2", nn.Linear(hidden_size, output_size)),
        ]))


class Net(nn.Module):
    SIZES = [("fc1", 256, 120), ("fc2", 120, 84), ("fc3", 84, 10)]

    def __init__(self):
        super().__init__()
        for name, n_in, n_out in self.SIZES:
            self.add_module(name, nn.Linear(n_in, n_out))

    def forward(self, x):
        for i, (name, _, _) in enumerate(self.SIZES):
            x = getattr(self, name)(x)
            if i < len(self.SIZES) - 1:
                x = torch.relu(x)
        return x


def count_parameters(model):
    return sum(map(torch.Tensor.numel, filter(lambda p: p.requires_grad, model.parameters())))
