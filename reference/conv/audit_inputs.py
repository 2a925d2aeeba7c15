"""Inputs `grader audit conv` runs every mutant on, beside the reference.

Convolutions with a batch of one, one channel, a kernel as long as the
input, strides that leave a remainder, padding; pools over non-square
inputs with ties-free values; TextCNN on one sentence and a batch, with
backward, after torch.manual_seed.
"""
import numpy as np

from grader.audit.inputs import Call, Probe


def text_cnn(module, args, tokens, seed):
    """building your TextCNN after torch.manual_seed, running forward and backward"""
    import torch
    torch.manual_seed(seed)
    model = module.TextCNN(*args)
    out = model(torch.tensor(tokens))
    out.sum().backward()
    return {"out": out.detach(), "parameters": [[n, p.detach(), p.grad] for n, p in model.named_parameters()]}


def cases(rng):
    conv1d = [((1, 1, 5), (1, 1, 5), 1, 0), ((1, 1, 6), (2, 1, 3), 1, 1), ((2, 3, 7), (4, 3, 3), 2, 1),
              ((3, 2, 9), (1, 2, 4), 3, 0), ((2, 1, 4), (3, 1, 1), 1, 2)]
    for x_shape, w_shape, stride, padding in conv1d:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        yield Call("conv1d", x, w, b, stride=stride, padding=padding)
        yield Call("conv1d", x, w)
        length = (x_shape[2] + 2 * padding - w_shape[2]) // stride + 1
        grad_out = rng.normal(size=(x_shape[0], w_shape[0], length))
        yield Call("conv1d_backward", x, w, grad_out, stride=stride, padding=padding)
    conv2d = [((1, 1, 3, 3), (1, 1, 3, 3), 1, 0), ((1, 2, 5, 4), (3, 2, 2, 3), 1, 1),
              ((2, 1, 7, 6), (2, 1, 3, 3), 2, 1), ((2, 3, 4, 5), (1, 3, 1, 1), 1, 0)]
    for x_shape, w_shape, stride, padding in conv2d:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        yield Call("conv2d", x, w, b, stride=stride, padding=padding)
        yield Call("conv2d", x, w)
    for shape, kernel, stride in (((1, 1, 2, 2), 2, None), ((2, 3, 5, 4), 2, None), ((1, 2, 6, 7), 3, 2),
                                  ((1, 1, 4, 4), 2, 1), ((1, 1, 3, 5), 3, None)):
        x = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0
        for fn in ("max_pool2d", "avg_pool2d"):
            yield Call(fn, x, kernel, stride)
    for args, tokens in (([10, 4, 3, 3, 2, 0], [[1, 2, 3, 0, 0]]), ([12, 5, 2, 2, 3, 0], [[1, 2], [3, 4], [0, 5]]),
                         ([20, 3, 4, 5, 2, 1], [[2, 3, 4, 5, 6, 7, 1], [8, 9, 1, 1, 1, 1, 1]])):
        yield Probe(text_cnn, args, tokens, 4)
