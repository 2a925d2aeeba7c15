"""Inputs `grader audit backprop` runs every mutant on, beside the reference.

Nets with a single unit, a single example (m = 1, also through a wider hidden layer) and unequal sizes; ReLU
inputs with exact zeros (so `Z > 0` and `Z >= 0` differ).
"""
import numpy as np

from grader.audit.inputs import Call, Probe


def forward_backward(module, X, Y, params):
    """running forward, then backward on its caches"""
    AL, caches = module.forward(X, params)
    return AL, module.backward(AL, Y, caches)


def net(rng, dims, m):
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.normal(scale=0.5, size=(dims[l], 1))
    X = rng.normal(size=(dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    Y[0, 0] = 1.0
    return X, Y, params


def cases(rng):
    for dims in ([1, 1], [3, 1], [2, 1, 1], [4, 3, 2, 1]):
        yield Call("init_params", dims, 5)
    yield Call("init_params", [3, 2, 1])
    for shape in ((1, 1), (3, 4), (3, 1), (1, 4)):
        Z = rng.normal(size=shape)
        Z.flat[0] = 0.0
        dA = rng.normal(size=shape)
        for fn in ("relu", "sigmoid"):
            yield Call(fn, Z)
        for fn in ("relu_backward", "sigmoid_backward"):
            yield Call(fn, dA, Z)
    for dims, m in (([1, 1], 1), ([2, 1, 1], 1), ([3, 4, 1], 1), ([3, 2, 1], 5), ([4, 5, 3, 1], 7)):
        X, Y, params = net(rng, dims, m)
        yield Call("forward", X, params)
        yield Probe(forward_backward, X, Y, params)
        AL = rng.uniform(0.05, 0.95, size=(1, m))
        yield Call("bce_cost", AL, Y)
        grads = {f"d{k}": rng.normal(size=v.shape) for k, v in params.items()}
        yield Call("update", params, grads, 0.1)
        for epochs in (1, 3):
            yield Call("train", X, Y, dims, lr=0.5, epochs=epochs, seed=2)
