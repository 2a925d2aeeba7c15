"""Inputs `grader audit modules` runs every mutant on, beside the reference.

Each model is built after torch.manual_seed, run on a batch of one, an
unbatched vector (LinearModule) and a larger batch, in float32 and float64,
and backward of output.sum(): its parameters' names, shapes, initial values,
outputs and gradients are compared.
"""
from grader.audit.inputs import Probe


def build_and_run(module, cls, args, seed, shapes, dtype):
    """building your model after torch.manual_seed, running forward and backward"""
    import torch
    kind = getattr(torch, dtype)
    torch.manual_seed(seed)
    model = getattr(module, cls)(*args)
    report = {"parameters": [[name, p.detach().clone(), p.requires_grad, type(p).__name__]
                             for name, p in model.named_parameters()],
              "buffers": [name for name, _ in model.named_buffers()]}
    model = model.to(kind)
    generator = torch.Generator().manual_seed(seed + 1)
    runs = []
    for shape in shapes:
        x = torch.randn(*shape, generator=generator, dtype=kind, requires_grad=True)
        model.zero_grad()
        out = model(x)
        out.sum().backward()
        runs.append([out.detach(), out.requires_grad, x.grad,
                     [[n, p.grad] for n, p in model.named_parameters()]])
    report["runs"] = runs
    if hasattr(model, "reset_parameters") and cls == "LinearModule":
        torch.manual_seed(seed + 2)
        model.reset_parameters()
        report["reset"] = [[n, p.detach().clone()] for n, p in model.named_parameters()]
    return report


def count(module, case):
    """calling count_parameters on a small model built by the grader"""
    import torch
    from torch import nn
    torch.manual_seed(0)
    if case == "frozen":
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        model[0].weight.requires_grad_(False)
    elif case == "shared":
        layer = nn.Linear(2, 2)
        model = nn.Sequential(layer, layer)
    elif case == "batchnorm":
        model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    else:
        model = nn.Linear(1, 1)
    return module.count_parameters(model)


def cases(rng):
    for x_dim, y_dim in ((1, 1), (1, 3), (4, 1), (5, 3)):
        for dtype in ("float64", "float32"):
            yield Probe(build_and_run, "LinearModule", [x_dim, y_dim], 3,
                        [[x_dim], [1, x_dim], [6, x_dim]], dtype)
    for cls, args, width in (("LogisticRegression", [4, 3], 4), ("LogisticRegression", [1, 1], 1),
                             ("FFN", [4, 5, 2], 4), ("FFN", [1, 1, 1], 1), ("Net", [], 256)):
        for dtype in ("float64", "float32"):
            yield Probe(build_and_run, cls, args, 5, [[1, width], [7, width]], dtype)
    for case in ("frozen", "shared", "batchnorm", "tiny"):
        yield Probe(count, case)
