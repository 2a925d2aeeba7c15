"""Inputs `grader audit training` runs every mutant on, beside the reference.

Datasets of 9 samples with batch sizes 1, 4 (a last batch of one), 5 and 9;
models that record their mode and whether gradients are on, with stale
gradients left in .grad before training; the global random state set to
different values to see who ignores a seed.
"""
from grader.audit.inputs import Probe


def seeded_draws(module, seed):
    """drawing numbers after your set_seed"""
    import random

    import numpy as np
    import torch
    random.seed(12345)
    np.random.seed(12345)
    torch.manual_seed(12345)
    module.set_seed(seed)
    return [random.random(), float(np.random.rand()), torch.rand(2)]


def loader_batches(module, n, batch_size, shuffle, seed):
    """listing the batches of your make_dataloader, under two global random states"""
    import torch
    X = torch.arange(n * 2, dtype=torch.float64).reshape(n, 2)
    Y = torch.arange(n)
    runs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        loader = module.make_dataloader(X, Y, batch_size, shuffle=shuffle, seed=seed)
        runs.append([[x, y] for x, y in loader])
    return runs


def train_run(module, function, state, X, y, batch_size, epochs, dropout, mode):
    """training a small classifier with your functions"""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.3) if dropout else nn.Tanh(),
                                       nn.Linear(4, 3)).double()
            self.calls = []

        def forward(self, x):
            self.calls.append([self.training, torch.is_grad_enabled(), len(x)])
            return self.inner(x)

    torch.manual_seed(0)
    model = Recorder()
    model.inner.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    getattr(model, mode)()
    for p in model.parameters():
        p.grad = torch.ones_like(p)                  # stale gradients: zero_grad must clear them
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=batch_size)
    val = DataLoader(TensorDataset(torch.tensor(X[:5]), torch.tensor(y[:5])), batch_size=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    if function == "train_epoch":
        result = module.train_epoch(model, loader, loss_fn, optimizer)
    elif function == "evaluate":
        result = module.evaluate(model, loader, loss_fn)
    else:
        result = module.fit(model, loader, val, loss_fn, optimizer, epochs)
    return {"result": result, "calls": model.calls, "training": model.training,
            "state": {k: v.detach() for k, v in model.inner.state_dict().items()}}


def cases(rng):
    for seed in (0, 7):
        yield Probe(seeded_draws, seed)
    for n, batch_size, shuffle, seed in ((9, 4, False, 0), (9, 4, True, 0), (9, 4, True, 3), (1, 1, True, 0),
                                         (9, 9, True, 1)):
        yield Probe(loader_batches, n, batch_size, shuffle, seed)
    state = {"0.weight": rng.normal(size=(4, 2)), "0.bias": rng.normal(size=4) * 0.1,
             "2.weight": rng.normal(size=(3, 4)), "2.bias": rng.normal(size=3) * 0.1}
    X, y = rng.normal(size=(9, 2)), rng.integers(0, 3, size=9)
    for function in ("train_epoch", "evaluate"):
        for batch_size in (1, 4, 5, 9):
            for dropout, mode in ((False, "eval"), (True, "train"), (True, "eval")):
                yield Probe(train_run, function, state, X, y, batch_size, 1, dropout, mode)
    for epochs in (1, 3):
        yield Probe(train_run, "fit", state, X, y, 4, epochs, True, "eval")
