"""Correct: explicit Python loops over layers and examples; caches as a list of dicts."""
import numpy as np


def init_params(layer_dims, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        params["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2.0 / layer_dims[l - 1])
        params["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return params


def relu(Z):
    out = np.zeros_like(Z, dtype=float)
    for idx in np.ndindex(Z.shape):
        if Z[idx] > 0:
            out[idx] = Z[idx]
    return out


def sigmoid(Z):
    out = np.empty_like(Z, dtype=float)
    for idx in np.ndindex(Z.shape):
        out[idx] = 1.0 / (1.0 + np.exp(-Z[idx]))
    return out


def relu_backward(dA, Z):
    dZ = np.array(dA, dtype=float, copy=True)
    for idx in np.ndindex(Z.shape):
        if Z[idx] <= 0:
            dZ[idx] = 0.0
    return dZ


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * s * (1 - s)


def forward(X, params):
    L = len(params) // 2
    caches = []
    A = X
    for l in range(1, L + 1):
        W, b = params["W" + str(l)], params["b" + str(l)]
        Z = np.zeros((W.shape[0], A.shape[1]))
        for i in range(A.shape[1]):          # one example at a time
            Z[:, i] = W @ A[:, i] + b[:, 0]
        caches.append({"A_prev": A, "W": W, "b": b, "Z": Z})
        A = sigmoid(Z) if l == L else relu(Z)
    return A, caches


def bce_cost(AL, Y):
    m = Y.shape[1]
    total = 0.0
    for i in range(m):
        y, a = Y[0, i], AL[0, i]
        total += y * np.log(a) + (1 - y) * np.log(1 - a)
    return -total / m


def backward(AL, Y, caches):
    L = len(caches)
    m = AL.shape[1]
    grads = {}
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in reversed(range(1, L + 1)):
        cache = caches[l - 1]
        dZ = sigmoid_backward(dA, cache["Z"]) if l == L else relu_backward(dA, cache["Z"])
        dW = np.zeros_like(cache["W"])
        db = np.zeros_like(cache["b"])
        for i in range(m):                   # accumulate the per-example gradients
            dW += np.outer(dZ[:, i], cache["A_prev"][:, i])
            db[:, 0] += dZ[:, i]
        grads["dW" + str(l)] = dW / m
        grads["db" + str(l)] = db / m
        dA = cache["W"].T @ dZ
    return grads


def update(params, grads, lr):
    new_params = {}
    for key in params:
        new_params[key] = params[key] - lr * grads["d" + key]
    return new_params


def train(X, Y, layer_dims, lr=0.05, epochs=2000, seed=0):
    params = init_params(layer_dims, seed)
    costs = []
    for epoch in range(epochs):
        AL, caches = forward(X, params)
        costs.append(bce_cost(AL, Y))
        grads = backward(AL, Y, caches)
        params = update(params, grads, lr)
    return params, costs
