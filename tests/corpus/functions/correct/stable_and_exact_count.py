"""A two-branch stable sigmoid; LinearFunction returns exactly one gradient per input."""
import torch


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        y, = ctx.saved_tensors
        grad_x = grad_output.clone()
        grad_x *= y
        return grad_x


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number only: no overflow for large |x|
        e = torch.exp(-x.abs())
        y = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        y, = ctx.saved_tensors
        return grad_output * y * (1 - y)


class LegendreP3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (5 * x ** 3 - 3 * x) / 2

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * (15 * x ** 2 - 3) / 2


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        out = torch.matmul(x, weight.transpose(0, 1))
        return out if bias is None else out + bias[None, :]

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grads = (torch.matmul(grad_output, weight) if needs[0] else None,
                 torch.matmul(grad_output.transpose(0, 1), x) if needs[1] else None)
        if len(needs) == 3:  # a bias argument was passed, possibly None
            grads += (grad_output.sum(0) if needs[2] else None,)
        return grads
