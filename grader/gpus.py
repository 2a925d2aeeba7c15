"""The CUDA devices a grade may use, found without initialising CUDA.

torch.cuda.device_count() asks NVML, not the CUDA driver, so calling it
leaves a process safe to fork (the warm harness server forks one harness per
grade). torch is imported only when CUDA is asked for: a CPU grade never
pays for it here.
"""
import os

from .errors import UsageError


def _torch():
    """The torch module, or None where it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def cuda_problem() -> str | None:
    """None when this machine has a CUDA device torch can use, else why not (for a person)."""
    torch = _torch()
    if torch is None:
        return "torch is not installed in the grader's Python"
    if torch.version.cuda is None:
        return (f"this torch ({torch.__version__}) is built without CUDA; install torch's CUDA "
                "wheels (docs/deployment.md, GPU runners)")
    if torch.cuda.device_count() < 1:
        hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
        why = (f"CUDA_VISIBLE_DEVICES={hidden!r} hides every device" if hidden is not None
               else "is the NVIDIA driver loaded (does nvidia-smi list a GPU)?")
        return f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no GPU: {why}"
    return None


def require_cuda() -> None:
    """Raise UsageError, saying why, unless a CUDA device is there for `--device cuda`."""
    problem = cuda_problem()
    if problem:
        raise UsageError(f"--device cuda asked for CUDA, but {problem}. Without --device cuda "
                         "the GPU-marked tests are skipped and listed apart.")


def device_ids() -> list[str]:
    """One CUDA_VISIBLE_DEVICES entry per usable GPU: a batch gives each concurrent grade one.

    Where CUDA_VISIBLE_DEVICES is already set, its entries (indices or UUIDs)
    are the GPUs this machine lends the grader, in that order.
    """
    torch = _torch()
    count = torch.cuda.device_count() if torch is not None else 0
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [entry.strip() for entry in given.split(",") if entry.strip()][:count]
    return [str(index) for index in range(count)]
