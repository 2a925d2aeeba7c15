"""A sandboxed autograder for PyTorch/numpy course assignments."""
__version__ = "0.1.0"
