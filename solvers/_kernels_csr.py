"""One-pass analyses of a CSR matrix (Numba): its diagonal and whether it is canonical,
the positions of each entry's mirror, and the asymmetry read through them
(``CSROperator`` calls them once per pattern or per matrix).

Plain functions over raw CSR arrays with unsigned indices, as everything in
``solvers._kernels``; re-exported there.
"""
import numba
import numpy as np

from ._kernels import U1, _row


@numba.njit(cache=True)
def analyse_csr(indptr, indices, data, diag_ptr, has_diag, diagonal):
    """One pass over a CSR matrix: fills the diagonal arrays; returns
    ``(canonical, nonfinite, bandwidth)``.

    ``canonical`` is false when some row's column indices are not strictly increasing (unsorted
    or duplicated); ``bandwidth`` (``max_i last column − i``) is only meaningful when canonical.
    """
    n = indptr.size - 1
    canonical = True
    nonfinite = 0
    bandwidth = 0
    for i in range(n):
        st, en = _row(indptr, i)
        prev = -1
        for k in range(st, en):
            j = np.intp(indices[k])
            if j <= prev:
                canonical = False
            prev = j
            v = data[k]
            if not np.isfinite(v):
                nonfinite += 1
            if j == i:
                diag_ptr[i] = k
                has_diag[i] = True
                diagonal[i] = v
        if prev - i > bandwidth:
            bandwidth = prev - i
    return canonical, nonfinite, bandwidth


@numba.njit(cache=True)
def mirror_positions(indptr, indices, mirror):
    """``mirror[k]`` = position of entry ``(j, i)`` for entry ``k = (i, j)``, or −1 if it is not
    stored (canonical CSR).  Rows are visited in order, so the mirrors of row ``i``'s upper
    entries are met in increasing ``i`` within row ``j``: one cursor per row walks its lower
    part once."""
    n = indptr.size - 1
    cur = indptr[:-1].copy()
    for k in range(mirror.size):
        mirror[k] = -1
    for i in range(n):
        st, en = _row(indptr, i)
        for k in range(st, en):
            j = np.intp(indices[k])
            if j == i:
                mirror[k] = k
                continue
            if j < i:
                continue
            c = np.uintp(cur[j])
            jend = np.uintp(indptr[j + 1])
            while c < jend and np.intp(indices[c]) < i:
                c += U1
            if c < jend and np.intp(indices[c]) == i:
                mirror[k] = c
                mirror[c] = k
                c += U1
            cur[j] = c


@numba.njit(cache=True)
def asymmetry_from_mirror(data, mirror):
    """``max |a_k − a_mirror(k)| / max |a_k|`` (a missing mirror, −1, counts as 0)."""
    worst = 0.0
    scale = 0.0
    for k in range(data.size):
        v = data[k]
        if abs(v) > scale:
            scale = abs(v)
        m = mirror[k]
        d = abs(v - data[m]) if m >= 0 else abs(v)
        if d > worst:
            worst = d
    return worst / scale if scale > 0.0 else 0.0
