"""The null vector of ``Aᵀ`` of a row-scaled symmetric matrix with zero row sums (a Neumann
or graph Laplacian whose rows were multiplied by cell volumes, densities or time-step
factors): :func:`row_scaling`, one breadth-first pass over ``A``'s graph."""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def row_scaling(indptr, indices, data, tdata, n):
    """The factors ``d`` of ``A = diag(d)·S`` with ``S`` symmetric, read off the graph.

    ``a_ij = d_i s_ij`` and ``a_ji = d_j s_ij`` give ``d_j = d_i · a_ji / a_ij`` along each
    stored pair; a breadth-first pass sets ``d = 1`` at the first node of each connected
    component and carries the ratios from there (a pair whose one entry is zero and the
    other not cannot be such a matrix: ``ok`` False).  Nothing here checks that the ratios
    agree around every cycle: the caller checks ``Aᵀ d⁻¹ = 0`` itself.

    Parameters
    ----------
    indptr, indices, data : CSR arrays of ``A`` (canonical: sorted indices, no duplicates)
        with a symmetric pattern.
    tdata : float64 array
        The values of ``Aᵀ`` on the same pattern (``tdata[k] = a_ji`` for the entry ``k`` of
        ``a_ij``).
    n : int

    Returns
    -------
    d : float64 array of n
    labels : int64 array of n
        The connected component of each node, ``0 .. count − 1``.
    count : int
    ok : bool
    """
    d = np.zeros(n)
    labels = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    count = 0
    for root in range(n):
        if labels[root] >= 0:
            continue
        labels[root] = count
        d[root] = 1.0
        head, tail = 0, 1
        queue[0] = root
        while head < tail:
            i = queue[head]
            head += 1
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                a, t = data[k], tdata[k]
                if j == i or (a == 0.0 and t == 0.0):
                    continue
                if a == 0.0 or t == 0.0:
                    return d, labels, count + 1, False
                if labels[j] < 0:
                    labels[j] = count
                    d[j] = d[i] * (t / a)
                    queue[tail] = j
                    tail += 1
        count += 1
    return d, labels, count, True
