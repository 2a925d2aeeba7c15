"""Correct: Coursera-style; caches as ((A_prev, W, b), Z) tuples, dZL = AL - Y shortcut,
cost via np.dot and np.squeeze (a 0-d array), update on a deep copy."""
import copy

import numpy as np


def init_params(layer_dims, seed=0):
    rng = np.random.default_rng(seed)
    parameters = {}
    L = len(layer_dims)
    for l in range(1, L):
        parameters["W" + str(l)] = rng.normal(0.0, np.sqrt(2 / layer_dims[l - 1]),
                                              size=(layer_dims[l], layer_dims[l - 1]))
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def relu(Z):
    return Z * (Z > 0)


def sigmoid(Z):
    # numerically stable: never exponentiate a large positive number
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * (s - s ** 2)


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, ((A_prev, W, b), Z)


def forward(X, params):
    caches = []
    A = X
    L = len(params) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, params["W" + str(l)], params["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, params["W" + str(L)], params["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def bce_cost(AL, Y):
    m = Y.shape[1]
    cost = -(np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T)) / m
    return np.squeeze(cost)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    linear_cache, _ = caches[L - 1]
    dZ = AL - Y                      # sigmoid + cross-entropy, simplified
    dA_prev, grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(dZ, linear_cache)
    for l in reversed(range(L - 1)):
        linear_cache, Z = caches[l]
        dZ = relu_backward(dA_prev, Z)
        dA_prev, grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = linear_backward(dZ, linear_cache)
    return grads


def update(params, grads, lr):
    parameters = copy.deepcopy(params)
    for key in parameters:
        parameters[key] -= lr * grads["d" + key]
    return parameters


def train(X, Y, layer_dims, lr=0.0075, epochs=3000, seed=0):
    parameters = init_params(layer_dims, seed)
    costs = []
    for i in range(epochs):
        AL, caches = forward(X, parameters)
        costs.append(bce_cost(AL, Y))
        grads = backward(AL, Y, caches)
        parameters = update(parameters, grads, lr)
    return parameters, costs
