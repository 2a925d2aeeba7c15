#!/usr/bin/env python
# coding: utf-8

# In[ ]:


import numpy as np


# In[ ]:


def init_params(layer_dims, seed=0):
    """He initialisation for a net with layer sizes layer_dims = [n_x, n_1, ..., n_L].

    Returns {"W1": ..., "b1": ..., ..., "WL": ..., "bL": ...} with
    W{l} = rng.normal(size=(n_l, n_{l-1})) * sqrt(2 / n_{l-1}) and b{l} zeros
    of shape (n_l, 1). Use ONE rng = np.random.default_rng(seed) and draw the
    weights in layer order (W1 first): the same seed must give the same net.

    Why sqrt(2 / n_{l-1}): each unit of layer l sums n_{l-1} inputs, and ReLU
    zeroes about half of them; this scale keeps the variance of the
    activations roughly constant from layer to layer, so signals (and
    gradients) neither die out nor blow up in a deep net.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        fan_in = layer_dims[l - 1]
        params[f"W{l}"] = rng.normal(size=(layer_dims[l], fan_in)) * np.sqrt(2.0 / fan_in)
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params


def relu(Z):
    """max(0, Z), element-wise, as a new array."""
    return np.maximum(Z, 0.0)


def sigmoid(Z):
    """1 / (1 + exp(-Z)), element-wise."""
    return 1.0 / (1.0 + np.exp(-Z))


def relu_backward(dA, Z):
    """dZ = dA * relu'(Z): the upstream gradient where Z > 0, zero elsewhere.

    Decide with Z (the pre-activation), not with dA. Do not modify dA.
    """
    return dA * (Z > 0)


def sigmoid_backward(dA, Z):
    """dZ = dA * s * (1 - s) with s = sigmoid(Z): sigmoid's derivative is s(1 - s)."""
    s = sigmoid(Z)
    return dA * s * (1.0 - s)


def forward(X, params):
    """Forward pass: returns (AL, caches).

    AL is the output of the last layer, shape (1, m). caches holds what
    backward needs to compute the gradients, one entry per layer: for
    instance the tuple (A_prev, W, Z) of layer l. Any layout works, as long
    as your own backward reads it back the same way.
    """
    L = len(params) // 2
    A = X
    caches = []
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = W @ A + b
        caches.append((A, W, Z))
        A = relu(Z) if l < L else sigmoid(Z)
    return A, caches


def bce_cost(AL, Y):
    """Binary cross-entropy -(1/m) * sum(Y log AL + (1 - Y) log(1 - AL)), a Python float."""
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def backward(AL, Y, caches):
    """Gradients of bce_cost(AL, Y) with respect to every parameter.

    Returns {"dW1": ..., "db1": ..., ..., "dWL": ..., "dbL": ...}, each with
    its parameter's shape. Walk the layers from L down to 1, starting from
    dAL = -(Y / AL - (1 - Y) / (1 - AL)); for each layer
        dZ      = activation_backward(dA, Z)    (sigmoid for L, relu below)
        dW      = (1/m) dZ A_prev^T             (n_l, n_{l-1})
        db      = (1/m) sum of dZ over the m columns, kept as (n_l, 1)
        dA_prev = W^T dZ                        passed down to layer l-1
    The 1/m comes from the cost being a mean over the m examples.
    """
    m = AL.shape[1]
    L = len(caches)
    grads = {}
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l in range(L, 0, -1):
        A_prev, W, Z = caches[l - 1]
        dZ = sigmoid_backward(dA, Z) if l == L else relu_backward(dA, Z)
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = W.T @ dZ
    return grads


def update(params, grads, lr):
    """One gradient-descent step: a NEW dict with p - lr * dp for every parameter p.

    Leave params (the dict and its arrays) unchanged.
    """
    return {name: value - lr * grads[f"d{name}"] for name, value in params.items()}


def train(X, Y, layer_dims, lr=0.1, epochs=1000, seed=0):
    """Full-batch gradient descent from init_params(layer_dims, seed).

    Each epoch: forward on all of X, record the cost, backward, update.
    Returns (params, costs) where costs is a list of `epochs` floats and
    costs[e] is the cost *before* the update of epoch e (so costs[0] is the
    cost of the initial net).
    """
    params = init_params(layer_dims, seed)
    costs = []
    for _ in range(epochs):
        AL, caches = forward(X, params)
        costs.append(bce_cost(AL, Y))
        params = update(params, backward(AL, Y, caches), lr)
    return params, costs


# In[ ]:


get_ipython().run_line_magic('matplotlib', 'inline')
import matplotlib.pyplot as plt


