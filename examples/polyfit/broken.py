"""A broken polyfit submission: it does not even parse."""
import numpy as np


def poly_features(x, degree)
    return np.vander(x, degree + 1, increasing=True)
