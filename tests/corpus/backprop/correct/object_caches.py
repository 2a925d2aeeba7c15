"""Correct: caches that could never cross to the grader (a dict keyed by int layer
holding objects), layers as a small class, numpy float costs, a recursive backward."""
from types import SimpleNamespace

import numpy as np


def init_params(layer_dims, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(layer_dims, layer_dims[1:]), start=1):
        std = (2 / fan_in) ** 0.5
        params[f"W{l}"] = rng.normal(size=(fan_out, fan_in)) * std
        params[f"b{l}"] = np.zeros((fan_out, 1), dtype=np.float64)
    return params


def relu(Z):
    return np.maximum(0, Z).astype(np.float64)


def sigmoid(Z):
    return np.exp(-np.logaddexp(0.0, -Z))


def relu_backward(dA, Z):
    return np.multiply(dA, np.heaviside(Z, 0.0))


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * s * sigmoid(-Z)            # 1 - sigmoid(z) = sigmoid(-z)


class Layer:
    def __init__(self, W, b, last):
        self.W, self.b, self.last = W, b, last

    def forward(self, A_prev):
        Z = self.W @ A_prev + self.b
        cache = SimpleNamespace(A_prev=A_prev, Z=Z, layer=self)
        return (sigmoid(Z) if self.last else relu(Z)), cache


def forward(X, params):
    L = len(params) // 2
    caches = {}
    A = X
    for l in range(1, L + 1):
        A, caches[l] = Layer(params[f"W{l}"], params[f"b{l}"], last=(l == L)).forward(A)
    return A, caches


def bce_cost(AL, Y):
    m = Y.shape[1]
    losses = np.where(Y == 1, -np.log(AL), -np.log(1 - AL))
    return losses.sum() / m                 # a numpy float64


def backward(AL, Y, caches):
    m = Y.shape[1]
    grads = {}

    def step(l, dA):
        if l == 0:
            return
        c = caches[l]
        dZ = sigmoid_backward(dA, c.Z) if c.layer.last else relu_backward(dA, c.Z)
        grads[f"dW{l}"] = (dZ @ c.A_prev.T) / m
        grads[f"db{l}"] = dZ.mean(axis=1, keepdims=True)
        step(l - 1, c.layer.W.T @ dZ)

    step(len(caches), (AL - Y) / (AL * (1 - AL)))
    return grads


def update(params, grads, lr):
    return dict((name, params[name] - lr * grads["d" + name]) for name in params)


def train(X, Y, layer_dims, lr=0.3, epochs=800, seed=0):
    params = init_params(layer_dims, seed=seed)
    costs = []
    while len(costs) < epochs:
        AL, caches = forward(X, params)
        costs.append(bce_cost(AL, Y))
        params = update(params, backward(AL, Y, caches), lr)
    return params, costs
