"""A broken backprop submission: a missing colon, so the module does not even parse."""
import numpy as np


def relu(Z)
    return np.maximum(0.0, Z)
