"""The reductions of a non-symmetric matrix before its Jacobi spectral radius is computed
(:func:`solvers.spectral.jacobi_spectral_radius`, in :mod:`solvers._spectral_radius`): the
entries between strongly connected components dropped (:func:`_strong_blocks`), and the rest
balanced by a positive diagonal similarity (:func:`_symmetrized`).  Each step is exact in exact
arithmetic and removes a source of non-normality that had made the computed eigenvalues wrong.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._operator import prepare


def _strong_blocks(op):
    """``op`` without its entries between strongly connected components of its graph (an
    operator on the same rows), ``op`` itself when the graph is strongly connected, ``None``
    when every component is one row (no off-diagonal entry left).

    Ordered by components, ``A`` is block triangular, and the eigenvalues of ``I − D⁻¹A`` are
    those of its diagonal blocks: the coupling dropped changes no eigenvalue but can make the
    matrix arbitrarily far from normal (a lower bidiagonal ``A`` has ``ρ_J = 0``; ARPACK gave
    up on it at n = 2025 and the dense fallback took 88 s)."""
    from scipy.sparse.csgraph import connected_components

    g = sp.csr_matrix((op.data != 0.0, op.indices, op.indptr), shape=(op.n, op.n))
    g.eliminate_zeros()
    count, labels = connected_components(g, directed=True, connection="strong")
    if count == op.n:  # (n = 1 included: J = 0)
        return None
    if count == 1:
        return op
    rows = np.repeat(np.arange(op.n), np.diff(op.indptr))
    keep = labels[rows] == labels[op.indices]
    M = sp.coo_array((op.data[keep], (rows[keep], op.indices[keep])), shape=(op.n, op.n))
    return prepare(M.tocsr())


def _symmetrized(op, signs=True):
    """The symmetric matrix ``C`` with ``c_ij = sign(a_ij)·√(a_ij a_ji)`` when ``A = S⁻¹ C S``
    for a positive diagonal ``S`` (:func:`_kernels_symmetrize.diagonally_symmetrizable`), else
    ``None``; with ``signs=False`` the same formula when only ``|S A S⁻¹|`` is symmetric
    (``C``'s pairs of opposite signs are ``±√|a_ij a_ji|``: a balanced, not a symmetric,
    matrix).

    Such a matrix (upwind or central-difference convection–diffusion below a cell Péclet
    number of 2, a row-scaled symmetric matrix) has a real Jacobi spectrum, that of
    ``I − D^{-1/2} C D^{-1/2}``; a general eigensolver on ``I − D⁻¹A`` itself, far from normal
    there, had returned spurious complex eigenvalues and a wrong radius (0.265 for 0.211 on
    upwind convection–diffusion, 30 × 30 grid, cell Péclet number 100).  Beyond a cell Péclet
    number of 2 the pairs have opposite signs; balanced, the matrix of constant coefficients
    is normal again (a 45 × 45 grid at cell Péclet numbers 1.9 and 2.1 had a computed radius
    of 1.25 for an exact 0.22).
    """
    from ._kernels_symmetrize import diagonally_symmetrizable

    mirror = op._mirror()
    data = op.data
    if not diagonally_symmetrizable(op.indptr, op.indices, data, mirror, 1e-10, signs):
        return None
    other = np.where(mirror >= 0, data[np.maximum(mirror, 0)], 0.0)
    values = np.sign(data) * np.sqrt(np.abs(data)) * np.sqrt(np.abs(other))
    # the diagonal as stored: √a_ii·√a_ii rounds (2.0000000000000004 for a_ii = 2), and a
    # diagonal matrix then had ρ_J = 2.2e-16 instead of 0
    on_diagonal = op.indices == np.repeat(np.arange(op.n), np.diff(op.indptr))
    values[on_diagonal] = data[on_diagonal]
    return sp.csr_array((values, op.indices.astype(np.int64), op.indptr.astype(np.int64)),
                        shape=(op.n, op.n))
