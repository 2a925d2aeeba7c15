"""Correct: einsum everywhere, sigmoid through tanh, mean-based cost; caches in parallel lists."""
import numpy as np


def init_params(layer_dims, seed=0):
    rng = np.random.default_rng(seed)
    shapes = list(zip(layer_dims[1:], layer_dims[:-1]))
    params = {}
    for l, (n_out, n_in) in enumerate(shapes, start=1):
        params[f"W{l}"] = np.sqrt(2.0 / n_in) * rng.normal(size=(n_out, n_in))
        params[f"b{l}"] = np.zeros((n_out, 1))
    return params


def relu(Z):
    return np.where(Z > 0, Z, 0.0)


def sigmoid(Z):
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)


def sigmoid_backward(dA, Z):
    t = np.tanh(0.5 * Z)
    return dA * 0.25 * (1.0 - t ** 2)      # s (1 - s) = (1 - tanh^2(z/2)) / 4


def forward(X, params):
    L = len(params) // 2
    inputs, weights, pre = [], [], []
    A = X
    for l in range(1, L + 1):
        W = params[f"W{l}"]
        Z = np.einsum("jk,ki->ji", W, A) + params[f"b{l}"]
        inputs.append(A)
        weights.append(W)
        pre.append(Z)
        A = relu(Z) if l < L else sigmoid(Z)
    return A, [inputs, weights, pre]


def bce_cost(AL, Y):
    return float(-np.mean(Y * np.log(AL) + (1.0 - Y) * np.log1p(-AL)))


def backward(AL, Y, caches):
    inputs, weights, pre = caches
    L = len(weights)
    m = Y.shape[1]
    grads = {}
    dA = (1.0 - Y) / (1.0 - AL) - Y / AL
    for l in range(L, 0, -1):
        Z = pre[l - 1]
        dZ = sigmoid_backward(dA, Z) if l == L else relu_backward(dA, Z)
        grads[f"dW{l}"] = np.einsum("ji,ki->jk", dZ, inputs[l - 1]) / m
        grads[f"db{l}"] = np.einsum("ji->j", dZ)[:, None] / m
        dA = np.einsum("jk,ji->ki", weights[l - 1], dZ)
    return grads


def update(params, grads, lr):
    return {k: v - lr * grads["d" + k] for k, v in params.items()}


def train(X, Y, layer_dims, lr=0.1, epochs=500, seed=0):
    params = init_params(layer_dims, seed)
    costs = []
    for _ in range(epochs):
        AL, caches = forward(X, params)
        costs.append(bce_cost(AL, Y))
        params = update(params, backward(AL, Y, caches), lr)
    return params, costs
