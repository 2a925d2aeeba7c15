"""A fully connected binary classifier, forward and backward by hand (numpy).

Column convention: one example per column.
    X   (n_x, m)          m examples with n_x features each
    Y   (1, m)            labels, 0 or 1
    W{l} (n_l, n_{l-1})   weights of layer l (layers are numbered from 1)
    b{l} (n_l, 1)         biases of layer l, broadcast over the m columns
    A{l} (n_l, m)         activations of layer l; A0 is X

Layer l computes Z{l} = W{l} A{l-1} + b{l}, then A{l} = relu(Z{l}) on the
hidden layers and A{L} = sigmoid(Z{L}) on the last one. The cost is the
binary cross-entropy of A{L} against Y. numpy only: do not import torch here.
"""
import numpy as np


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
    raise NotImplementedError  # TODO: your code here


def relu(Z):
    """max(0, Z), element-wise, as a new array."""
    raise NotImplementedError  # TODO: your code here


def sigmoid(Z):
    """1 / (1 + exp(-Z)), element-wise."""
    raise NotImplementedError  # TODO: your code here


def relu_backward(dA, Z):
    """dZ = dA * relu'(Z): the upstream gradient where Z > 0, zero elsewhere.

    Decide with Z (the pre-activation), not with dA. Do not modify dA.
    """
    raise NotImplementedError  # TODO: your code here


def sigmoid_backward(dA, Z):
    """dZ = dA * s * (1 - s) with s = sigmoid(Z): sigmoid's derivative is s(1 - s)."""
    raise NotImplementedError  # TODO: your code here


def forward(X, params):
    """Forward pass: returns (AL, caches).

    AL is the output of the last layer, shape (1, m). caches holds what
    backward needs to compute the gradients, one entry per layer: for
    instance the tuple (A_prev, W, Z) of layer l. Any layout works, as long
    as your own backward reads it back the same way.
    """
    raise NotImplementedError  # TODO: your code here


def bce_cost(AL, Y):
    """Binary cross-entropy -(1/m) * sum(Y log AL + (1 - Y) log(1 - AL)), a Python float."""
    raise NotImplementedError  # TODO: your code here


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
    raise NotImplementedError  # TODO: your code here


def update(params, grads, lr):
    """One gradient-descent step: a NEW dict with p - lr * dp for every parameter p.

    Leave params (the dict and its arrays) unchanged.
    """
    raise NotImplementedError  # TODO: your code here


def train(X, Y, layer_dims, lr=0.1, epochs=1000, seed=0):
    """Full-batch gradient descent from init_params(layer_dims, seed).

    Each epoch: forward on all of X, record the cost, backward, update.
    Returns (params, costs) where costs is a list of `epochs` floats and
    costs[e] is the cost *before* the update of epoch e (so costs[0] is the
    cost of the initial net).
    """
    raise NotImplementedError  # TODO: your code here
