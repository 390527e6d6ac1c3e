"""A learner's starting belief about the cost of every ω, from the theory of SOR and SSOR-PCG.

:func:`theory_costs` estimates the spectrum of ``D⁻¹A`` of one system with a few Lanczos steps
(:func:`solvers.spectral.estimate_spectrum`: 40 matrix–vector products, about 40 SOR sweeps,
once per sequence) and turns it into predicted iteration counts for every arm:

* SOR: ``log(rtol)/log ρ(L_ω)``, with ``ρ(L_ω)`` Young's convergence factor of a consistently
  ordered matrix (:func:`solvers.spectral.sor_rate`).  Its minimum is Young's ω*; measured
  iteration counts are lowest at the grid point just above it (the iteration matrix is defective
  at ω*, which slows the first iterations there), and the theory's curve, steep below ω* and
  linear above, already puts the cheaper side there.
* SSOR-PCG: ``√κ`` with ``κ`` Axelsson's bound on the preconditioned condition number
  (:func:`solvers.spectral.ssor_condition_bound`).  The bound is a worst case: the best ω of
  real solves lies well below its minimiser (1.1 / 1.5 / 1.725 against 1.56 / 1.82 / 1.90 for
  the 5-point Laplacian on 10² / 30² / 60² grids), and matches ``2/(1 + 3√(2μ))``, i.e. the
  bound's minimiser for ``9μ``; the curve is therefore evaluated at ``9μ``.

A learner takes ``log`` of these (relative to their minimum) as pseudo-observations of its
cost model and lets the costs it observes correct them.  The shapes are rough (SOR costs far
below ω* are exaggerated), and where the theory does not strictly apply (a matrix that is
not consistently ordered) its best ω can be off as a whole; ``theory_costs(..., shift=s)``
gives the curve of a best ω moved by ``s``, from which :class:`bandit.JointCB` takes the
prior's shared error (``prior_shift``).

SOR's curve also covers a non-symmetric ``A`` that a positive diagonal similarity makes
symmetric, ``A = P C P⁻¹`` (constant-coefficient upwind convection–diffusion, a row- or
column-scaled symmetric matrix): the similarity keeps the diagonal and the triangles apart, so
the Jacobi and SOR iteration matrices of ``A`` are similar to those of the symmetric ``C``,
and the curve is ``C``'s, from the same Lanczos estimate (:func:`_symmetrized_estimate`).
"""
from __future__ import annotations

import math

import numpy as np

from ._base import arm_omega

__all__ = ["theory_costs", "SSOR_MU_FACTOR", "SINGULAR_MU"]

#: The SSOR-PCG curve is Axelsson's bound at this multiple of ``λ_min(D⁻¹A)`` (see above).
SSOR_MU_FACTOR = 9.0

#: A smallest eigenvalue of ``D⁻¹A`` estimated at or below this (or below zero) means a
#: singular (or indefinite) matrix: a pure Neumann or graph Laplacian has ``μ_min = 0``, which
#: the Lanczos estimate gives to rounding (1e-17 to 1e-14).  The Ritz values lie inside the
#: spectrum, so the true ``μ_min`` is smaller still; a regular matrix that small (condition
#: above 1e10) is beyond any iteration cap of SOR.  On a consistent singular system SOR and
#: SSOR-PCG converge at rates set by the rest of the spectrum, which Young's and Axelsson's
#: formulas in ``μ_min`` do not see: they would put the best ω at 2.
SINGULAR_MU = 1e-10


def theory_costs(A, arms, solver, *, steps=40, rtol=1e-8, shift=0.0):
    """Predicted iterations of every arm on ``A`` (``None`` where no theory applies).

    Parameters
    ----------
    A : sparse matrix, ndarray, solvers.CSROperator, petsc4py Mat or SpectrumEstimate
        A system of the sequence (the first one, for a Tuner), or the
        :func:`~solvers.spectral.estimate_spectrum` of one (``None``: no prior).
    arms : sequence of float or dict
        The arms; each must stand for an ω (floats, or dicts with ``omega``/``pc_sor_omega``).
    solver : str
        ``"sor"`` or ``"ssor_pcg"``; other solvers (plain CG, a user's function) get ``None``.
    steps : int
        Lanczos steps of the spectrum estimate.
    rtol : float
        Relative tolerance of the solves.
    shift : float or sequence of float, default 0
        Evaluate the theory's curve as if its best ω were moved by ``shift`` (SOR: Young's
        ω* + ``shift`` and the Jacobi radius that gives it; SSOR-PCG: the bound's minimiser
        moved likewise), from the same spectrum estimate: how the prediction moves when the
        theory misplaces its best ω (:class:`bandit.JointCB`'s ``prior_shift``).  A
        sequence gives one curve per shift, from one estimate.

    Returns
    -------
    ndarray or None
        Positive predicted iteration counts, one per arm (a row per shift for a sequence of
        shifts); ``None`` if an arm has no ω, the solver is not SOR or SSOR-PCG, ``A`` has
        no diagonal of one sign (all positive, or all negative: ``A`` and ``−A`` give the
        same prediction), ``A`` is not symmetric and (SOR) not diagonally symmetrizable
        either (below; for SSOR-PCG, whose CG needs a symmetric ``A``, a non-symmetric ``A``
        has no prior), ``A`` is
        singular or indefinite (``λ_min(D⁻¹A) <= bandit.prior.SINGULAR_MU = 1e-10`` in the
        estimate) with no known null vector, or (SOR) the Jacobi iteration diverges through
        the top of ``A``'s spectrum (``λ_max(D⁻¹A) >= 2``), where Young's theory does not
        apply.  When the rows sum to zero (``A·1 = 0``, a pure Neumann or graph Laplacian)
        the estimate deflates that null vector, and the curves are those of the rest of the
        spectrum (``SpectrumEstimate.mu_gap``), which sets the rate of a consistent system
        (``b ⟂ 1``); the top at 2 of a bipartite graph is the null vector's partner there,
        not a diverging Jacobi iteration (``SpectrumEstimate.rho_jacobi``).

    Notes
    -----
    A non-symmetric ``A`` gets SOR's curve when ``A = P C P⁻¹`` with ``P`` positive
    diagonal and ``C`` symmetric: every off-diagonal pair has ``a_ij a_ji > 0`` (or both
    are zero) and the products of ``a_ji/a_ij`` round every cycle of its graph equal 1
    (checked exactly, in O(nnz), to 1e-10 in their logarithms: :func:`_symmetrized_estimate`).
    The estimate then runs on ``c_ij = sign(a_ij)·√(a_ij a_ji)``, ``c_ii = a_ii``, whose
    Jacobi and SOR iteration matrices are similar to ``A``'s; ``A``'s rows or columns summing
    to zero give no prior (``C``'s null vector is then not ``1``).  A symmetric ``A`` takes
    the symmetric estimate as before, and nothing more is run for it.  Constant-coefficient
    upwind convection–diffusion is such a matrix at every Péclet number; a variable wind, or
    central differences beyond a cell Péclet number of 2 (``a_ij a_ji < 0``), are not, and
    get no prior.  ``‖L_ω(A)^k‖`` can exceed ``ρ(L_ω)^k`` by up to ``κ(P)`` (huge where
    convection dominates): the curve is the asymptotic rate, and above ``ω*`` SOR from zero
    may diverge before it settles (where the measured best ω lies at or next to the curve's
    minimum, ``docs/studies/unseen.md``).

    Examples
    --------
    >>> from solvers import gallery
    >>> arms = [1.0, 1.2, 1.4, 1.6, 1.8]
    >>> c = theory_costs(gallery.laplacian_2d(10), arms, "sor")
    >>> int(np.argmin(c)), bool(c[0] > 3 * c.min())      # Young's ω* = 1.56
    (3, True)
    >>> theory_costs(gallery.laplacian_2d(10), arms, "cg") is None
    True
    >>> moved = theory_costs(gallery.laplacian_2d(10), arms, "sor", shift=[-0.2, 0.0, 0.2])
    >>> moved.shape, [arms[int(k)] for k in moved.argmin(axis=1)]   # ω* = 1.36, 1.56, 1.76
    ((3, 5), [1.4, 1.6, 1.8])

    Upwind convection–diffusion ``tridiag(−1 − p, 2 + p, −1)`` is ``P C P⁻¹`` with
    ``c_i,i+1 = −√(1 + p)``, so its Jacobi radius is ``2√(1 + p) cos(π/(n + 1))/(2 + p)``:

    >>> import scipy.sparse as sp
    >>> p, n = 1.0, 30
    >>> A = sp.diags([np.full(n - 1, -1 - p), np.full(n, 2 + p), np.full(n - 1, -1.0)],
    ...              [-1, 0, 1], format="csr")
    >>> rho = 2 * np.sqrt(1 + p) * np.cos(np.pi / (n + 1)) / (2 + p)     # 0.94
    >>> grid = np.round(np.arange(1.0, 1.96, 0.01), 2)
    >>> c = theory_costs(A, grid, "sor")          # its best: the grid point above Young's ω*
    >>> float(grid[np.argmin(c)]), round(float(2 / (1 + np.sqrt(1 - rho ** 2))), 3)
    (1.49, 1.485)
    >>> theory_costs(A, grid, "ssor_pcg") is None    # CG needs a symmetric matrix
    True
    """
    from solvers.spectral import (SpectrumEstimate, estimate_spectrum, sor_rate,
                                  ssor_condition_bound, young_omega)

    if solver not in ("sor", "ssor_pcg"):
        return None
    om = [arm_omega(a) for a in arms]
    if any(w is None or not 0.0 < w < 2.0 for w in om):
        return None
    if A is None:
        return None
    if isinstance(A, SpectrumEstimate):  # estimated already (collectively, under MPI)
        est = A
    else:
        try:
            est = estimate_spectrum(A, steps)
        except (ValueError, TypeError):  # not symmetric, a non-positive diagonal, not a matrix
            # (a symmetric A never gets past this point: its path is the estimate above)
            est = _symmetrized_estimate(A, steps) if solver == "sor" else None
            if est is None:
                return None
    om = np.asarray(om, dtype=float)
    if not est.mu_low > SINGULAR_MU:
        # singular (or indefinite) without a known null vector to deflate — or with more than
        # one (a disconnected graph): ρ_J = 1 puts Young's and Axelsson's ω at 2, and a prior
        # there held the default SOR learner at ω = 1.95 on a graph Laplacian (8 × the best
        # fixed ω's iterations over 40 solves, never leaving it).  With ``A·1 = 0`` the
        # estimate's ``mu_gap`` is the spectrum a consistent system sees (``b ⟂ 1``), and the
        # curves below are evaluated there
        return None
    if solver == "sor":
        if est.mu_max >= 2.0 and not (est.singular and est.rho_jacobi < 1.0):
            # the Jacobi iteration diverges through the top of the spectrum (a lower estimate
            # of it already reaches 2): the matrix is not consistently ordered and Young's
            # curve, whose minimum would sit at the grid's top, says nothing (on such SPD
            # matrices SOR is often cheapest near ω = 1)
            return None
        rho_j = min(max(est.rho_jacobi, 0.0), 1.0 - 1e-12)

        def curve(s):
            rho = _rho_for_omega(young_omega(rho_j) + s) if s else rho_j
            rate = np.clip(sor_rate(om, rho), 1e-3, 1.0 - 1e-12)
            return math.log(1.0 / rtol) / -np.log(rate)
    else:
        mu = min(max(SSOR_MU_FACTOR * est.mu_low, 1e-12), 1.0)

        def curve(s):
            m = mu
            if s:  # the bound's minimiser 2/(1 + √(2μ)) moved by s: μ = (2/ω − 1)²/2
                w = min(max(2.0 / (1.0 + math.sqrt(2.0 * mu)) + s, 1.0 + 1e-6), 2.0 - 1e-6)
                m = min(max(0.5 * (2.0 / w - 1.0) ** 2, 1e-12), 1.0)
            return 0.5 * np.sqrt(ssor_condition_bound(om, m)) * math.log(2.0 / rtol)
    if np.ndim(shift):
        return np.array([curve(float(s)) for s in shift])
    return curve(float(shift))


def _symmetrized_estimate(A, steps):
    """The spectrum estimate of a non-symmetric ``A`` that a positive diagonal similarity makes
    symmetric, from the symmetric matrix; ``None`` for any other ``A``.

    ``A = P C P⁻¹`` with ``P`` positive diagonal and ``C`` symmetric exactly when every
    off-diagonal pair has ``a_ij a_ji > 0`` (or both entries are zero) and the products of
    ``a_ji / a_ij`` round every cycle of ``A``'s graph equal 1; then ``c_ij = sign(a_ij)
    √(a_ij a_ji)`` and ``c_ii = a_ii``.  The test is exact and O(nnz)
    (:func:`solvers._kernels_symmetrize.diagonally_symmetrizable`): ``log p`` is set along a
    breadth-first spanning forest, ``log p_j = log p_i + ½ (log a_ji − log a_ij)``, and every
    entry is checked against it to ``1e-10`` in those logarithms, relative to
    ``1 + |log p_i| + |log p_j|`` (the forest's sums round in proportion to their size; never
    ``P`` itself, which on a convection-dominated grid spans far beyond the double range).
    ``P`` keeps ``A``'s diagonal and maps its strict triangles to ``C``'s, so the Jacobi and
    SOR iteration matrices of ``A`` are similar to ``C``'s: the same spectra, Young's
    theory for ``C`` is exact for ``A`` (their norms differ by at most ``κ(P)``).

    ``None`` also when ``A`` is symmetric (refused by the estimate for another reason), cannot
    be read as a Numba-backend matrix (a PETSc ``Mat``), or sums to zero along its rows or its
    columns (within :data:`solvers.spectral.NULL_ROWS`): ``C``'s null vector is then
    ``P⁻¹·1`` or ``P·1``, which the estimate does not know to deflate, and its ``μ_min``
    would put Young's ω near 2."""
    from solvers import prepare
    from solvers._spectral_floor import NULL_ROWS, unit_scaled
    from solvers._spectral_reduce import _symmetrized
    from solvers.spectral import estimate_spectrum

    try:
        op = prepare(A)
    except (ValueError, TypeError):
        return None
    if op.asymmetry() <= 1e-10:  # (the estimate's own test of symmetry)
        return None
    C = _symmetrized(op)
    if C is None:
        return None
    data, row = unit_scaled(op.data), np.repeat(np.arange(op.n), np.diff(op.indptr))
    rows = np.bincount(row, weights=data, minlength=op.n)
    cols = np.bincount(op.indices, weights=data, minlength=op.n)
    scale = np.bincount(row, weights=np.abs(data), minlength=op.n).max()
    if min(np.abs(rows).max(), np.abs(cols).max()) <= NULL_ROWS * scale:
        return None
    try:
        return estimate_spectrum(C, steps)
    except (ValueError, TypeError):
        return None


def _rho_for_omega(omega):
    """The Jacobi radius whose Young ω* is ``omega`` (clipped to (1, 2)): the inverse of
    ``2/(1 + √(1 − ρ²))``."""
    w = min(max(float(omega), 1.0 + 1e-9), 2.0 - 1e-9)
    return min(math.sqrt(max(1.0 - (2.0 / w - 1.0) ** 2, 0.0)), 1.0 - 1e-12)
