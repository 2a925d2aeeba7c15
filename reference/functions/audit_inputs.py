"""Inputs `grader audit functions` runs every mutant on, beside the reference.

One probe runs forward, then the Function's own backward on this graph's ctx
(the raw values it returns, None included), then .backward() through a small
graph; shapes include a scalar, size-1 dimensions and a batch of one, in
float32 and float64.
"""
from grader.audit.inputs import Probe


def forward_backward(module, name, inputs, needs_grad, grad_output, dtype):
    """running forward and backward"""
    import torch
    kind = getattr(torch, dtype)
    args = [None if a is None else torch.tensor(a, dtype=kind, requires_grad=flag)
            for a, flag in zip(inputs, needs_grad)]
    copies = [None if a is None else a.detach().clone() for a in args]
    out = getattr(module, name).apply(*args)
    report = {"output": out.detach() if isinstance(out, torch.Tensor) else repr(type(out))}
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        return report
    v = torch.tensor(grad_output, dtype=kind)
    raw = out.grad_fn.apply(v)                      # your backward, on this graph's ctx
    raw = raw if isinstance(raw, tuple) else (raw,)
    report["backward"] = [g.detach() if isinstance(g, torch.Tensor) else g for g in raw]
    report["grad_output_after"] = v.clone()
    (out * torch.tensor(grad_output, dtype=kind)).sum().backward()
    report["grads"] = [None if a is None else a.grad for a in args]
    report["inputs_after"] = [None if a is None else a.detach() for a in args]
    report["unchanged"] = all(c is None or torch.equal(a.detach(), c) for a, c in zip(args, copies))
    return report


def cases(rng):
    for name in ("Exp", "Sigmoid", "LegendreP3"):
        for shape in ((), (1,), (7,), (2, 1, 3)):
            for dtype in ("float64", "float32"):
                x = rng.uniform(-2, 2, size=shape)
                yield Probe(forward_backward, name, [x], [True], rng.normal(size=shape), dtype)
    yield Probe(forward_backward, "Sigmoid", [[-800.0, 0.0, 800.0]], [True], [1.0, 1.0, 1.0], "float64")
    for n, d_in, d_out in ((1, 1, 1), (1, 3, 2), (4, 1, 3), (4, 5, 3)):
        x, w, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_out, d_in)), rng.normal(size=d_out)
        g = rng.normal(size=(n, d_out))
        for dtype in ("float64", "float32"):
            yield Probe(forward_backward, "LinearFunction", [x, w, b], [True, True, True], g, dtype)
        yield Probe(forward_backward, "LinearFunction", [x, w], [True, True], g, "float64")
        yield Probe(forward_backward, "LinearFunction", [x, w, None], [True, True, False], g, "float64")
        for needs in ([False, True, True], [True, False, False], [True, True, False]):
            yield Probe(forward_backward, "LinearFunction", [x, w, b], needs, g, "float64")
