# bug: Exp computes exp in numpy: a round trip through the CPU (.cpu().numpy()) and back to the input's device
# fails: test_on_cuda[Exp]
"""Custom autograd Functions: forward and backward written by hand.

Each class is a `torch.autograd.Function` and is used as `Name.apply(...)`.
`forward(ctx, ...)` computes the output from plain tensors and stores on
`ctx` what the gradient will need; `backward(ctx, grad_output)` receives
dL/d(output) and returns dL/d(input) for every input of forward, in order,
by the chain rule:

    dL/dx = grad_output * dy/dx          (element-wise functions)

Rules for all four:
- save tensors with `ctx.save_for_backward(...)` and read them back with
  `ctx.saved_tensors`;
- compute the gradient yourself: no `torch.autograd.grad` or `.backward()`
  inside backward;
- work on tensors of any shape, in float32 and float64, on CPU and CUDA,
  and never modify an input in place.
"""
import numpy as np
import torch


class Exp(torch.autograd.Function):
    """y = exp(x), element-wise.

    Since dy/dx = exp(x) = y, backward needs only the output: save y, not x.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        y = torch.as_tensor(np.exp(x.detach().cpu().numpy())).to(x.device)
        ctx.save_for_backward(y)
        return y
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION
        y, = ctx.saved_tensors
        return grad_output * y
        # END SOLUTION


class Sigmoid(torch.autograd.Function):
    """y = 1 / (1 + exp(-x)), element-wise.

    dy/dx = y (1 - y): again a function of the output alone, so save y.
    For large |x| the result must be 0 or 1, not nan.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        y = torch.sigmoid(x)
        ctx.save_for_backward(y)
        return y
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION
        y, = ctx.saved_tensors
        return grad_output * y * (1 - y)
        # END SOLUTION


class LegendreP3(torch.autograd.Function):
    """The Legendre polynomial P3(x) = 0.5 * (5 x^3 - 3 x), element-wise.

    Its derivative is 1.5 * (5 x^2 - 1), which needs the input: save x.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION
        x, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x ** 2 - 1)
        # END SOLUTION


class LinearFunction(torch.autograd.Function):
    """out = x @ weight.T + bias, the affine map of nn.Linear.

    x is (N, in), weight (out, in), bias (out,) or None; out is (N, out).
    With G = grad_output of shape (N, out):

        dL/dx      = G @ weight      (N, in)
        dL/dweight = G.T @ x         (out, in)
        dL/dbias   = G summed over the batch dimension   (out,)

    backward returns one value per input of forward, (grad_x, grad_weight,
    grad_bias), and None for every input whose ctx.needs_input_grad is False
    and for a missing bias: skip the work nobody asked for.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        # BEGIN SOLUTION
        ctx.save_for_backward(x, weight, bias)
        out = x @ weight.T
        if bias is not None:
            out = out + bias
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION
        x, weight, bias = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.T @ x
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_x, grad_weight, grad_bias
        # END SOLUTION
