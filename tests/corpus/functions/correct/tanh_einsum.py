"""Sigmoid through tanh, LinearFunction with addmm and einsum."""
import torch


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return torch.mul(grad_output, result)


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        # sigmoid(x) = (1 + tanh(x / 2)) / 2, which never overflows
        s = 0.5 * (1 + torch.tanh(0.5 * x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        s, = ctx.saved_tensors
        return grad_output * s * (1.0 - s)


class LegendreP3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * torch.pow(x, 3) - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * (1.5 * (5 * torch.pow(x, 2) - 1))


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, bias)
        if bias is None:
            return torch.einsum("ni,oi->no", x, weight)
        return torch.addmm(bias, x, weight.T)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        need_b = bias is not None and ctx.needs_input_grad[2]
        grad_x = torch.einsum("no,oi->ni", grad_output, weight) if need_x else None
        grad_w = torch.einsum("no,ni->oi", grad_output, x) if need_w else None
        grad_b = torch.einsum("no->o", grad_output) if need_b else None
        return grad_x, grad_w, grad_b
