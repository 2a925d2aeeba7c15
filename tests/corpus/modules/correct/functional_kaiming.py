"""F.linear, kaiming_uniform_(a=sqrt(5)) as nn.Linear does it, F.relu."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class LinearModule(nn.Module):
    def __init__(self, x_dim, y_dim):
        super().__init__()
        self.W = nn.Parameter(torch.Tensor(y_dim, x_dim))
        self.b = nn.Parameter(torch.Tensor(y_dim))
        self.reset_parameters()

    def reset_parameters(self):
        # nn.Linear's own code: kaiming_uniform_ with a = sqrt(5) has bound 1/sqrt(fan_in)
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        fan_in = self.W.size(1)
        bound = 1 / math.sqrt(fan_in)
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
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def count_parameters(model):
    return int(sum(p.numel() for _, p in model.named_parameters() if p.requires_grad))
