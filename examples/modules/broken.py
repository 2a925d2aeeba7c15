"""A submission that cannot be imported: torch.nn has no name F."""
import math

import torch
from torch import nn, F


class LinearModule(nn.Module):
    def __init__(self, x_dim, y_dim):
        super().__init__()
        self.W = nn.Parameter(torch.empty(y_dim, x_dim))
        self.b = nn.Parameter(torch.empty(y_dim))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.W.shape[1])
        nn.init.uniform_(self.W, -bound, bound)
        nn.init.uniform_(self.b, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.W, self.b)


class LogisticRegression(nn.Module):
    def __init__(self, input_size, num_classes):
        super().__init__()
        self.linear = nn.Linear(input_size, num_classes)

    def forward(self, x):
        return self.linear(x)


class FFN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.linear2(F.relu(self.linear1(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
