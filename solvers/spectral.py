"""Spectral facts that fix the relaxation parameter: Young's ω* for SOR, Axelsson's for SSOR-PCG.

Exact values (:func:`jacobi_spectral_radius`, :func:`optimal_omega`) for tests and studies, and
a cheap estimate for any symmetric matrix with a positive (or an all-negative) diagonal
(:func:`estimate_spectrum`: a few Lanczos steps, one matrix–vector product each) that the
learners use as their prior belief about ω.
"""
from __future__ import annotations

import math
import numbers
import sys
import time
import types
from dataclasses import dataclass

import numpy as np

from . import _spectral_floor, _spectral_radius
from ._operator import prepare
from ._spectral_floor import NULL_ROWS, _components, null_floor, residual_floor  # noqa: F401
from ._spectral_omega import sor_rate, ssor_condition_bound, ssor_omega, young_omega
from ._spectral_radius import (ARPACK_RESTARTS, ARPACK_RETRY_TOL, ARPACK_TOL,  # noqa: F401
                               CONDITION_TOL, DENSE_FALLBACK_LIMIT, DENSE_LIMIT,
                               GENERAL_DENSE_LIMIT, _jacobi_extreme)

# The Jacobi spectral radius is computed in _spectral_radius.py (a non-symmetric matrix reduced
# first in _spectral_reduce.py), the ω formulas are kept in _spectral_omega.py and the residual
# floor in _spectral_floor.py: imported here, where users import them and the docs list them.
# A constant is read only in the module that defines it; one of them set here is set there too
# (_ForwardingModule below), so solvers.spectral.DENSE_LIMIT = 3000 does what the docs say.


class _ForwardingModule(types.ModuleType):
    """The class of :mod:`solvers.spectral`: a limit or tolerance documented here and read by
    the private module that defines it (``DENSE_LIMIT``, ``DENSE_FALLBACK_LIMIT``,
    ``GENERAL_DENSE_LIMIT``, ``ARPACK_TOL``, ``ARPACK_RETRY_TOL``, ``ARPACK_RESTARTS``,
    ``CONDITION_TOL`` in ``solvers._spectral_radius``; ``NULL_ROWS`` in
    ``solvers._spectral_floor``), set on this module, is set in that module too.  Set here
    it had reached no code (the value here is a copy); reads stay plain global reads in the
    private modules, so a solve pays nothing for it."""

    def __setattr__(self, name, value):
        part = _FORWARDED.get(name)
        if part is not None:
            setattr(part, name, value)
        super().__setattr__(name, value)


_FORWARDED = {name: part for part, names in (
    (_spectral_radius, ("DENSE_LIMIT", "DENSE_FALLBACK_LIMIT", "GENERAL_DENSE_LIMIT",
                        "ARPACK_TOL", "ARPACK_RETRY_TOL", "ARPACK_RESTARTS", "CONDITION_TOL")),
    (_spectral_floor, ("NULL_ROWS",))) for name in names}
sys.modules[__name__].__class__ = _ForwardingModule

__all__ = ["jacobi_spectral_radius", "optimal_omega", "young_omega", "ssor_omega",
           "sor_rate", "ssor_condition_bound", "SpectrumEstimate", "estimate_spectrum",
           "residual_floor", "null_floor", "NotPositiveDefiniteError", "INDEFINITE_TOL"]


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
    return _jacobi_extreme(A)[0]


def optimal_omega(A) -> float:
    """Young's optimal SOR ω* for ``A`` from its Jacobi spectral radius.

    Exact for consistently ordered matrices with real Jacobi spectrum (e.g. the 5-point
    Laplacian in natural order); the "instance-optimal" SOR ω of the paper's code.

    Examples
    --------
    >>> from solvers import gallery
    >>> round(float(optimal_omega(gallery.laplacian_2d(10))), 4)
    1.5604

    Raises
    ------
    ValueError
        When the Jacobi eigenvalues of largest modulus are complex (``|Im λ| > 1e-6 ρ_J``): a
        non-symmetric matrix such as central-difference convection–diffusion beyond a cell
        Péclet number of 2 (or one so far from normal that its eigenvalues cannot be computed
        in double precision).  Young's formula is not the optimum there, and SOR at its ω may
        diverge (convection–diffusion on a 12 × 12 grid, cell Péclet number 3.8: the formula
        gives ω = 1.47, where the SOR iteration matrix has spectral radius 2.5).
    """
    rho, imag = _jacobi_extreme(A)
    if imag > _REAL_TOL * rho:
        formula = (f"its ω = 2/(1 + √(1 − ρ_J²)) = {young_omega(rho):.4g} is not the optimum "
                   f"here, and SOR at that ω may diverge" if rho < 1.0 else
                   "and the Jacobi iteration does not converge (ρ_J >= 1)")
        raise ValueError(
            f"Young's formula needs a real Jacobi spectrum, and the eigenvalues of largest "
            f"modulus of I − D⁻¹A are complex (|λ| = {rho:.6g}, |Im λ| = {imag:.3g}), as "
            f"those of a non-symmetric matrix may be (convection–diffusion with a cell Péclet "
            f"number above 2): {formula}; measure ω instead (a Tuner over a grid of ω, "
            f"solver='sor')")
    return young_omega(rho)


#: The relative imaginary part above which a Jacobi eigenvalue of largest modulus counts as
#: complex (eigenvalues of a real spectrum computed by a non-symmetric eigensolver carry
#: rounding of order ε·‖J‖ times their condition).
_REAL_TOL = 1e-6


class NotPositiveDefiniteError(ValueError):
    """:func:`estimate_spectrum` found ``A`` (or ``−A``, for an all-negative diagonal) not
    positive definite: a Ritz value of ``D^{-1/2} A D^{-1/2}`` lies below zero, and a Ritz
    value is a Rayleigh quotient, so some vector has ``xᵀAx < 0``.  Neither SOR nor
    SSOR-PCG converges for any ω on such a symmetric matrix, so the estimate has no ω to
    give (its formulas had returned ω ≈ 2 as if the matrix were merely ill-conditioned).

    Its attributes ``mu_min`` and ``mu_max`` are the extreme Ritz values.

    Examples
    --------
    >>> import numpy as np
    >>> try:
    ...     estimate_spectrum(np.array([[1.0, 2.0], [2.0, 1.0]]))   # eigenvalues −1, 3
    ... except NotPositiveDefiniteError as exc:
    ...     print(str(exc)[:45])
    estimate_spectrum: A is not positive definite
    """

    def __init__(self, message, mu_min=math.nan, mu_max=math.nan):
        super().__init__(message)
        self.mu_min, self.mu_max = mu_min, mu_max


#: A Ritz value below ``−INDEFINITE_TOL · max(|μ_max|, 1)`` proves the matrix indefinite:
#: the Lanczos run's Ritz values of a positive semidefinite matrix lie at or above zero up to
#: rounding (about ``ε·μ_max·√steps``), far above this.
INDEFINITE_TOL = 1e-10

#: With ``A·1 = 0``, a top of the spectrum of ``D⁻¹A`` up to ``2 + PARTNER_TOL`` is taken as
#: the null vector's bipartite partner (exactly 2, the Ritz value rounded), not as a Jacobi
#: iteration diverging through the top (see :attr:`SpectrumEstimate.rho_jacobi`).
PARTNER_TOL = 1e-10


@dataclass(frozen=True)
class SpectrumEstimate:
    """Extreme eigenvalues of ``D⁻¹A`` from a Lanczos run, and the ω they suggest.

    The Ritz values lie inside the spectrum: ``mu_min >= λ_min`` and ``mu_max <= λ_max``, so
    :attr:`rho_jacobi` is a *lower* estimate of the Jacobi spectral radius and the ω's are at
    or below the theory's (for SOR the cheaper side to err on is above ω*).

    Attributes
    ----------
    mu_min, mu_max : float
        Smallest and largest Ritz values of ``D^{-1/2} A D^{-1/2}``.
    steps : int
        Lanczos steps done = matrix–vector products with ``A``.
    exact : bool
        True when the Krylov space became invariant (the Ritz values are eigenvalues).
    seconds : float
        Wall-clock time of the estimate.
    mu_gap : float
        When ``A·1 = 0`` (a pure Neumann or graph Laplacian, ``mu_min = 0``): the smallest
        Ritz value on the complement of that null vector, which the Lanczos run deflates —
        the smallest eigenvalue a consistent system (``b ⟂ 1``) ever excites, and the one that
        sets its convergence rate.  NaN when no null vector is known.
    """

    mu_min: float
    mu_max: float
    steps: int
    exact: bool
    seconds: float
    mu_gap: float = math.nan

    @property
    def singular(self) -> bool:
        """True when ``A·1 = 0``: a known null vector (see :attr:`mu_gap`)."""
        return not math.isnan(self.mu_gap)

    @property
    def mu_low(self) -> float:
        """The smallest eigenvalue that sets the convergence of a consistent system:
        :attr:`mu_gap` when ``A·1 = 0``, else :attr:`mu_min`."""
        return self.mu_gap if self.singular else self.mu_min

    @property
    def rho_jacobi(self) -> float:
        """``max(1 − μ_min, μ_max − 1)``: the Jacobi spectral radius ``ρ(I − D⁻¹A)``.

        When ``A·1 = 0`` it is the radius on the complement of the null vector, ``1 − μ_gap``:
        the top of the spectrum is then at most 2 for a Laplacian (Gershgorin), and at 2 only
        on a bipartite graph, where its vector (alternating in sign between the two colours)
        is the null vector's partner in Young's theory — SOR maps the pair ``±1`` of Jacobi
        eigenvalues to 1 (the null vector, which a consistent system never excites) and
        ``(ω − 1)²`` — so the radius that sets SOR's rate is ``1 − μ_gap``.
        """
        if self.singular and self.mu_max <= 2.0 + PARTNER_TOL:
            return 1.0 - self.mu_gap
        return max(1.0 - self.mu_low, self.mu_max - 1.0)

    @property
    def omega_sor(self) -> float:
        """Young's ω* from :attr:`rho_jacobi` (optimal for consistently ordered A)."""
        return young_omega(min(max(self.rho_jacobi, 0.0), 1.0 - 1e-15))

    @property
    def omega_ssor(self) -> float:
        """Axelsson's SSOR-PCG ω from :attr:`mu_low` (:func:`ssor_omega`)."""
        return ssor_omega(min(max(self.mu_low, 1e-300), 1.0))


def estimate_spectrum(A, steps: int = 40, *, seed=0) -> SpectrumEstimate:
    """Estimate the extreme eigenvalues of ``D⁻¹A`` with ``steps`` Lanczos steps.

    Lanczos runs on the symmetric ``S = D^{-1/2} A D^{-1/2}`` (similar to ``D⁻¹A``) from the
    start vector ``D^{1/2}(1 + ½ z)``, ``z`` uniform in [−1, 1] (seeded): mostly the smooth
    vector, which is close to the eigenvector of ``λ_min`` for diffusion-like matrices, plus
    noise so that no eigenvector is missed.  Without reorthogonalisation the extreme Ritz
    values still converge.

    Cost: ``steps`` matrix–vector products plus ``5 steps`` vector operations, i.e. about
    ``steps`` SOR sweeps or ``steps/2`` SSOR-PCG iterations — 40 steps are an eighth to a third
    of one SOR solve at the best ω on a 24³ random-coefficient diffusion problem (100–300
    sweeps) and one or two SSOR-PCG solves of a warm-started heat step.  The error in
    ``λ_min`` shrinks with the steps like the Chebyshev polynomials of the spectral gap; at 40
    steps Young's ω is within 0.002 of the exact one on those diffusion problems (0.04–0.05 at
    10 steps).

    Parameters
    ----------
    A : sparse matrix, ndarray, CSROperator or petsc4py Mat
        Symmetric with a positive diagonal, or with every diagonal entry negative (an
        operator assembled with the other sign: ``D⁻¹A = (−D)⁻¹(−A)``, so ``A`` and ``−A``
        have the same estimate, as SOR's sweep does not see the sign; Lanczos then runs on
        ``|D|^{-1/2} A |D|^{-1/2}``).  A PETSc ``Mat`` (or the PETSc backend's
        prepared operator) is estimated with PETSc's own products, collectively: every rank
        of its communicator must call this.
    steps : int, default 40
        Lanczos steps (matrix–vector products).
    seed : int
        Seed of the start vector's noise.

    Returns
    -------
    SpectrumEstimate
        With ``mu_min = 0`` exactly when every row sums to zero (``A·1 = 0`` within
        :data:`NULL_ROWS`: a known null vector, which the Lanczos steps resolve only on small
        matrices).

    Raises
    ------
    NotPositiveDefiniteError
        (a ``ValueError``) when a Ritz value lies below zero (beyond :data:`INDEFINITE_TOL`):
        ``A`` is symmetric but indefinite, and neither SOR nor SSOR-PCG converges on it for
        any ω.  The steps can only find a negative eigenvalue, not rule one out: a matrix
        whose negative eigenvalues the start vector hardly excites may pass.
    ValueError
        Not symmetric, or a diagonal that is neither all positive nor all negative.

    Examples
    --------
    >>> from solvers import gallery
    >>> est = estimate_spectrum(gallery.laplacian_2d(10), steps=60)
    >>> bool(abs(est.rho_jacobi - np.cos(np.pi / 11)) < 1e-6), round(est.omega_sor, 3)
    (True, 1.56)
    >>> round(estimate_spectrum(-gallery.laplacian_2d(10), steps=60).omega_sor, 3)  # −A too
    1.56
    """
    from ._kernels_spectral import lanczos_scaled

    if (isinstance(steps, (bool, np.bool_)) or not isinstance(steps, numbers.Integral)
            or steps < 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    t0 = time.perf_counter()
    mat = getattr(A, "mat", None) if type(A).__module__ == "solvers.petsc" else A
    if type(mat).__module__.startswith("petsc4py"):  # a Mat, or the PETSc backend's operator
        from ._mpi_exchange import held_interrupts

        # collective on several ranks: a Ctrl-C reaching one rank is raised once every rank
        # has run the estimate (it had left the others inside its reductions)
        with held_interrupts(_ranks_of(mat)):
            return _estimate_spectrum_petsc(mat, int(steps), seed, t0)
    op = prepare(A)
    op.require_diagonal("estimate_spectrum")
    # every diagonal entry negative (an operator assembled with the other sign): D⁻¹A =
    # (−D)⁻¹(−A), so Lanczos runs on |D|^{-1/2} A |D|^{-1/2}, whose spectrum is minus D⁻¹A's
    sign = -1.0 if op.diagonal[0] < 0.0 and op.diagonal.max() < 0.0 else 1.0
    if sign > 0.0:
        op.require_diagonal("estimate_spectrum", positive=True)
    op.require_symmetric("estimate_spectrum")
    steps = int(min(steps, op.n))
    rng = np.random.default_rng(seed)
    # D^{-1/2} A D^{-1/2} of A scaled by a power of two (exactly; almost always by 1): near
    # the double range A's row sums and its products with D^{1/2} had overflowed
    shift = _spectral_floor.unit_shift(op.data)
    data = np.ldexp(op.data, shift) if shift else op.data
    d_half = np.sqrt(sign * (np.ldexp(op.diagonal, shift) if shift else op.diagonal))
    v = d_half * (1.0 + 0.5 * rng.uniform(-1.0, 1.0, op.n))
    rows = np.add.reduceat(data, op.indptr[:-1])  # every row holds its diagonal entry
    scale = np.add.reduceat(np.abs(data), op.indptr[:-1]).max()
    null = np.abs(rows).max() <= _spectral_floor.NULL_ROWS * scale
    u, comp, ncomp = np.empty(0), np.zeros(0, dtype=np.int64), 1
    if null:
        # A·1 = 0: D^{1/2}·1 on each connected component of A's graph is a null vector of
        # the scaled matrix (a disconnected graph has one per component), deflated from the
        # run; scipy finds the components in O(nnz)
        ncomp, labels = _components(op.indptr, op.indices, op.data, op.n)
        comp = labels.astype(np.int64)
        norms = np.sqrt(np.bincount(comp, weights=d_half * d_half, minlength=ncomp))
        u = d_half / norms[comp]
    alpha, beta = np.zeros(steps), np.zeros(steps)
    k = lanczos_scaled(op.indptr, op.indices, data, 1.0 / d_half, v, steps, alpha, beta,
                       u, comp, ncomp)
    return _estimate(alpha, beta, k, sign, null, steps, op.n - (ncomp if null else 0), t0)


def _estimate(alpha, beta, k, sign, null, steps, dim, t0) -> SpectrumEstimate:
    """The estimate from ``k`` Lanczos steps' tridiagonal (run on the complement of the
    known null vectors when ``null``, a space of dimension ``dim``), on either backend."""
    from scipy.linalg import eigvalsh_tridiagonal

    ritz = eigvalsh_tridiagonal(alpha[:k], beta[:k - 1]) if k > 1 else alpha[:1]
    lo, hi = (ritz[0], ritz[-1]) if sign > 0.0 else (-ritz[-1], -ritz[0])
    if lo < -INDEFINITE_TOL * max(abs(hi), 1.0):
        # a Ritz value is a Rayleigh quotient: xᵀAx < 0 for some x.  The ω formulas below
        # would clip it to μ = 0 and report ω ≈ 2, as for a singular SPD matrix
        which = "−A" if sign < 0.0 else "A"
        raise NotPositiveDefiniteError(
            f"estimate_spectrum: {which} is not positive definite: a Ritz value of "
            f"D^(-1/2) {which} D^(-1/2) is {lo:.3g} < 0 (its largest {hi:.3g}), so "
            f"xᵀ{which}x < 0 for some x; SOR and SSOR-PCG converge for no ω on a symmetric "
            "matrix that is not positive definite, and no ω can be estimated",
            mu_min=float(lo), mu_max=float(hi))
    gap = math.nan
    if null:  # A·1 = 0: singular, μ_min = 0 exactly (see NULL_ROWS); the run saw the rest
        lo, gap = 0.0, float(lo)
    return SpectrumEstimate(mu_min=float(lo), mu_max=float(hi), steps=k,
                            exact=bool(k < steps or k == dim), seconds=time.perf_counter() - t0,
                            mu_gap=gap)


def _ranks_of(mat) -> int:
    """The ranks of a petsc4py object's communicator (1 if it has none: destroyed)."""
    try:
        return mat.getComm().getSize()
    except Exception:  # noqa: BLE001 - refused by name in the estimate itself
        return 1


def _estimate_spectrum_petsc(A, steps, seed, t0) -> SpectrumEstimate:
    """:func:`estimate_spectrum` of a petsc4py ``Mat``, on every rank of its communicator
    (collective: each rank calls it): the same Lanczos run with PETSc's products and
    reductions, from the same start vector as the serial estimate (the global noise vector
    drawn on every rank, each keeping its rows), so one rank and many agree to rounding."""
    from ._api import _petsc

    PETSc = _petsc().PETSc
    if not isinstance(A, PETSc.Mat):
        raise TypeError(f"A must be a PETSc Mat, got {type(A).__name__}")
    n, ncols = A.getSize()
    if n != ncols:
        raise ValueError(f"A must be square, got {n}x{ncols}")
    scale = A.norm(PETSc.NormType.INFINITY)
    # entries whose row sums overflow (near the double range): a copy scaled by a power of
    # two, exactly — the inf norm had passed every matrix as symmetric and every row sum as 0
    A = _spectral_floor.petsc_in_range(A, scale)
    scale = A.norm(PETSc.NormType.INFINITY)
    d = A.getDiagonal()
    # a diagonal all of one sign: with a negative one, Lanczos on |D|^{-1/2} A |D|^{-1/2}
    # (minus the spectrum of D⁻¹A = (−D)⁻¹(−A)), as the serial estimate does
    dmin, dmax = d.min()[1], d.max()[1]
    sign = -1.0 if dmax < 0.0 else 1.0
    if not (dmin > 0.0 or dmax < 0.0):
        raise ValueError("estimate_spectrum needs a positive diagonal (or an all-negative one)")
    # MatIsSymmetric compares |a_ij − a_ji| with an absolute tolerance; the serial check's
    # is 1e-10 relative to max |a_ij|, which the infinity norm bounds from above
    if not A.isSymmetric(1e-10 * scale):
        raise ValueError("A is not symmetric; estimate_spectrum needs a symmetric matrix")
    steps = min(steps, n)
    s = d.copy()
    s.sqrtabs()
    lo, hi = d.getOwnershipRange()
    z = np.random.default_rng(seed).uniform(-1.0, 1.0, n)[lo:hi]
    q = d.duplicate()
    q.setArray(s.getArray() * (1.0 + 0.5 * z))
    t = d.duplicate()
    t.set(1.0)
    w = d.duplicate()
    A.mult(t, w)  # A·1, collectively: a zero row sum everywhere is a known null vector
    null = w.norm(PETSc.NormType.INFINITY) <= _spectral_floor.NULL_ROWS * scale
    u, project, ncomp = None, None, 1
    if null:  # D^{1/2}·1, a null vector of the scaled matrix, deflated from the run
        u = s.copy()
        if A.getComm().getSize() == 1:
            # one per connected component, as the serial estimate (on several ranks the
            # components are not known: only the constant vector is deflated there)
            ncomp, comp = _components(*A.getValuesCSR(), n)
            ua = u.getArray()
            ua /= np.sqrt(np.bincount(comp, weights=ua * ua, minlength=ncomp))[comp]
            u.setArray(ua)

            def project(x):
                xa = x.getArray()
                ua = u.getArray(readonly=True)
                xa -= np.bincount(comp, weights=ua * xa, minlength=ncomp)[comp] * ua
                x.setArray(xa)
        else:
            u.scale(1.0 / u.norm())

            def project(x):
                x.axpy(-u.dot(x), u)
        project(q)
    s.reciprocal()  # s = D^{-1/2}
    q.scale(1.0 / q.norm())
    q_prev = q.duplicate()
    q_prev.set(0.0)
    alpha, beta = np.zeros(steps), np.zeros(steps)
    b_prev, k = 0.0, 0
    for j in range(steps):  # one MatMult and a few reductions per step: PETSc's own work
        t.pointwiseMult(s, q)
        A.mult(t, w)
        w.pointwiseMult(w, s)
        w.axpy(-b_prev, q_prev)
        a = w.dot(q)
        alpha[j] = a
        k = j + 1
        w.axpy(-a, q)
        if project is not None:
            project(w)
        b = w.norm()
        if j + 1 == steps or b <= 1e-14 * max(abs(a), 1.0):
            break
        beta[j] = b
        q.copy(q_prev)
        w.copy(q)
        q.scale(1.0 / b)
        b_prev = b
    for v in (d, s, q, q_prev, w, t) + ((u,) if u is not None else ()):
        v.destroy()
    return _estimate(alpha, beta, k, sign, null, steps, n - (ncomp if null else 0), t0)
