"""Plane linear elasticity (:mod:`experiments.problems`): a matrix on which Young's SOR theory
mispredicts the best ω, and a sweep of right-hand sides for it."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._problems_checks import _integer, _positive

__all__ = ["elasticity_2d", "PlaneElasticity"]


def elasticity_2d(m: int, lam: float = 10.0, mu: float = 1.0) -> sp.csr_matrix:
    """Plane linear elasticity on an ``m × m`` interior grid, finite differences, the two
    displacement components in block order (``2 m²`` unknowns, clamped boundary):

    ``A = [[μL + (λ+μ)(T⊗I), (λ+μ)(D⊗D)], [(λ+μ)(D⊗D)ᵀ, μL + (λ+μ)(I⊗T)]]``

    with ``T`` the 1-D second difference (2 on the diagonal, −1 off), ``D`` the central first
    difference (±1/2), ``L = T⊗I + I⊗T`` the 5-point Laplacian and Lamé parameters ``λ``,
    ``μ``.  Symmetric positive definite; not consistently ordered (the coupling blocks link
    unknowns whose levels in the two blocks do not differ by one), so Young's SOR theory,
    read off its Jacobi spectrum, predicts a best ω above the measured one.

    Examples
    --------
    >>> A = elasticity_2d(4)
    >>> A.shape, bool(abs(A - A.T).max() == 0), float(A.diagonal().min())
    ((32, 32), True, 26.0)
    >>> bool(np.linalg.eigvalsh(A.toarray()).min() > 0)
    True
    """
    m = _integer(m, "m", 2)
    lam, mu = _positive(lam, "lam"), _positive(mu, "mu")
    eye = sp.identity(m, format="csr")
    T = sp.diags([-np.ones(m - 1), 2.0 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    D = 0.5 * sp.diags([-np.ones(m - 1), np.ones(m - 1)], [-1, 1])
    L = sp.kron(T, eye) + sp.kron(eye, T)
    C = (lam + mu) * sp.kron(D, D)
    return sp.csr_matrix(sp.bmat([[mu * L + (lam + mu) * sp.kron(T, eye), C],
                                  [C.T, mu * L + (lam + mu) * sp.kron(eye, T)]]))


class PlaneElasticity:
    """``T`` right-hand sides for one :func:`elasticity_2d` matrix (a load-case sweep).

    The right-hand sides are standard normal, drawn in order from one
    ``numpy.random.Generator`` seeded with ``seed``.  The matrix never changes, so a learner
    has no context that varies; ``λ`` is given as the (constant) context.  Young's theory
    from the matrix's Jacobi spectrum puts SOR's best ω at 1.65 on the 8 × 8 grid, while the
    cheapest fixed ω over 200 right-hand sides is 1.45 (1.65 costs 1.4 × as much): a
    sequence on which a learner's theory prior is wrong along a whole side of the curve.

    Examples
    --------
    >>> seq = PlaneElasticity(3, m=4, seed=0)
    >>> len(seq), seq.n
    (3, 32)
    >>> A, b, c = seq[1]
    >>> A is seq.A, b.shape, c
    (True, (32,), 10.0)
    """

    def __init__(self, T: int, *, m: int = 8, lam: float = 10.0, mu: float = 1.0, seed=None):
        self.T = _integer(T, "T", 0)
        self.lam = _positive(lam, "lam")
        self.A = elasticity_2d(m, self.lam, mu)
        self.n = self.A.shape[0]
        rng = np.random.default_rng(seed)
        self.B = np.array([rng.standard_normal(self.n) for _ in range(self.T)]).reshape(
            self.T, self.n)

    def __len__(self) -> int:
        return self.T

    def __getitem__(self, t: int):
        """``(A, b_t, λ)``."""
        if not -self.T <= t < self.T:
            raise IndexError(t)
        return self.A, self.B[t % self.T], self.lam
