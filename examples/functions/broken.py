"""A broken functions submission: it does not even parse."""
import torch


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x)
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y
