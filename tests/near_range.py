"""Shared by the tests of matrices near the double range (Numba and PETSc backends): the
12 × 12 Laplacian scaled up to ``HUGE`` and the power of two the solvers scale such a matrix
down by, computed here from its definition (not read from the solvers)."""
import math

import numpy as np

from solvers import gallery

HUGE = 3.9e307  # the 12 x 12 Laplacian times this: k = 424


def lap(m=12):
    return gallery.laplacian_2d(m).tocsr().astype(np.float64)


def k_of(A):
    """The power of two bringing max |a_ij| into [2**599, 2**600)."""
    return math.frexp(float(np.abs(A.data).max()))[1] - 600
