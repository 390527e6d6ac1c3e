"""Young's optimal SOR parameter from the Jacobi spectral radius."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._operator import prepare

__all__ = ["jacobi_spectral_radius", "optimal_omega", "young_omega"]

#: Below this size the spectrum is computed densely (exact, and faster than ARPACK).
DENSE_LIMIT = 1500


def jacobi_spectral_radius(A) -> float:
    """``ρ(I − D⁻¹A)``, the spectral radius of the Jacobi iteration matrix.

    For symmetric A with positive diagonal the symmetric form ``D^{-1/2}(D − A)D^{-1/2}`` is used
    (real spectrum, ``eigvalsh`` / ``eigsh``); otherwise general eigenvalues.

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import gallery
    >>> bool(np.isclose(jacobi_spectral_radius(gallery.laplacian_2d(10)), np.cos(np.pi / 11)))
    True
    """
    op = prepare(A)
    op.require_diagonal("the Jacobi iteration")
    d = op.diagonal
    symmetric = op.asymmetry() <= 1e-12 and np.all(d > 0)
    if symmetric:
        s = 1.0 / np.sqrt(d)
        J = sp.diags_array(s) @ (sp.diags_array(d) - op.matrix) @ sp.diags_array(s)
    else:
        J = sp.diags_array(1.0 / d) @ (sp.diags_array(d) - op.matrix)
    if op.n <= DENSE_LIMIT:
        dense = J.toarray()
        ev = np.linalg.eigvalsh(dense) if symmetric else np.linalg.eigvals(dense)
        return float(np.max(np.abs(ev)))
    k = 2  # the largest-magnitude eigenvalues often come as a ± pair (bipartite graphs)
    if symmetric:
        ev = spla.eigsh(sp.csr_array(J), k=k, which="LM", tol=1e-10, return_eigenvectors=False)
    else:
        ev = spla.eigs(sp.csr_array(J), k=k, which="LM", tol=1e-10, return_eigenvectors=False)
    return float(np.max(np.abs(ev)))


def young_omega(rho_j: float) -> float:
    """Young's formula ``ω* = 2 / (1 + √(1 − ρ_J²))`` (needs ``0 <= ρ_J < 1``)."""
    if not 0.0 <= rho_j < 1.0:
        raise ValueError(
            f"Young's formula needs a Jacobi spectral radius in [0, 1), got {rho_j:.6g}: "
            "the Jacobi iteration does not converge for this matrix")
    return float(2.0 / (1.0 + np.sqrt(1.0 - rho_j * rho_j)))


def optimal_omega(A) -> float:
    """Young's optimal SOR ω* for ``A`` from its Jacobi spectral radius.

    Exact for consistently ordered matrices with real Jacobi spectrum (e.g. the 5-point
    Laplacian in natural order); the reference code's "instance-optimal" SOR ω.

    Examples
    --------
    >>> from solvers import gallery
    >>> round(float(optimal_omega(gallery.laplacian_2d(10))), 4)
    1.5604
    """
    return young_omega(jacobi_spectral_radius(A))
