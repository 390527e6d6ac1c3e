"""Numba kernel of :mod:`solvers.spectral`: whether a non-symmetric matrix is a diagonal
similarity away from a symmetric one (same CSR conventions as :mod:`solvers._kernels`)."""
import math

import numba
import numpy as np


@numba.njit(cache=True)
def diagonally_symmetrizable(indptr, indices, data, mirror, tol, signs=True):
    """Whether ``S A S⁻¹`` is symmetric for some positive diagonal ``S`` (with ``signs=False``:
    whether ``|S A S⁻¹|`` is, i.e. the signs of ``a_ij`` and ``a_ji`` may differ).

    That needs ``a_ij a_ji > 0`` for every off-diagonal pair stored on either side (or both
    zero) and ``(s_i / s_j)² = a_ji / a_ij``: in logarithms ``y_i − y_j = ½ log(a_ji / a_ij)``,
    set along a breadth-first spanning forest of the matrix graph and checked on every other
    entry (the products of ``a_ji / a_ij`` round every cycle equal to 1), to ``tol`` relative
    to the logarithms' size (with ``signs=False`` only ``a_ij a_ji ≠ 0`` is needed: the pairs
of opposite signs become ``±√|a_ij a_ji|``, a skew part).  ``mirror[k]`` is the position of ``a_ji`` for the entry ``k`` of
    ``a_ij`` (−1 when not stored).  Logarithms, never ``S`` itself: along a path of a
    convection-dominated matrix ``s`` spans far beyond the double range.
    """
    n = indptr.size - 1
    y = np.empty(n)
    seen = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    for root in range(n):
        if seen[root]:
            continue
        seen[root] = True
        y[root] = 0.0
        head, tail = 0, 1
        queue[0] = root
        while head < tail:
            u = queue[head]
            head += 1
            for k in range(indptr[u], indptr[u + 1]):
                v = indices[k]
                if v == u:
                    continue
                a = data[k]
                m = mirror[k]
                b = data[m] if m >= 0 else 0.0
                if a == 0.0 and b == 0.0:
                    continue
                if a == 0.0 or b == 0.0 or (signs and (a > 0.0) != (b > 0.0)):
                    return False
                g = 0.5 * (math.log(abs(b)) - math.log(abs(a)))  # y_u − y_v
                if not seen[v]:
                    seen[v] = True
                    y[v] = y[u] - g
                    queue[tail] = v
                    tail += 1
                elif abs(y[u] - y[v] - g) > tol * (1.0 + abs(y[u]) + abs(y[v])):
                    return False
    return True
