"""A sandboxed autograder for PyTorch/numpy course assignments."""
__version__ = "0.1.0"

from .kernel import check  # noqa: E402  (`from grader import check` in a notebook)

__all__ = ["check", "__version__"]
