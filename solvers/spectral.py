"""Spectral facts that fix the relaxation parameter: Young's ω* for SOR, Axelsson's for SSOR-PCG.

Exact values (:func:`jacobi_spectral_radius`, :func:`optimal_omega`) for tests and studies, and
a cheap estimate for any symmetric matrix with a positive (or an all-negative) diagonal
(:func:`estimate_spectrum`: a few Lanczos steps, one matrix–vector product each) that the
learners use as their prior belief about ω.
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._operator import prepare

__all__ = ["jacobi_spectral_radius", "optimal_omega", "young_omega", "ssor_omega",
           "sor_rate", "ssor_condition_bound", "SpectrumEstimate", "estimate_spectrum",
           "residual_floor", "null_floor", "NotPositiveDefiniteError", "INDEFINITE_TOL"]

#: Below this size the spectrum is computed densely (exact, and faster than ARPACK).
DENSE_LIMIT = 1500
#: Up to this size a spectrum on which ARPACK does not converge is computed densely instead.
DENSE_FALLBACK_LIMIT = 6000
#: The same limit for a non-symmetric Jacobi matrix, whose dense eigensolver costs about ten
#: times the symmetric one: 1.5 s at n = 1444 against ARPACK's 0.14 s (convection–diffusion,
#: one core of a Xeon), the same 0.04–0.07 s at n = 400.
GENERAL_DENSE_LIMIT = 500


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


def _jacobi_extreme(A) -> tuple[float, float]:
    """``(ρ_J, ι)``: the Jacobi spectral radius and the largest ``|Im λ|`` among the computed
    eigenvalues of largest modulus (0 for a symmetric ``A`` with positive diagonal, whose
    Jacobi spectrum is real).

    A non-symmetric ``A`` is first reduced to what fixes its spectrum, each step exact in
    exact arithmetic and each removing a source of non-normality that had made the computed
    eigenvalues wrong: the entries between its strongly connected components are dropped (the
    spectrum of a block-triangular matrix is that of its diagonal blocks:
    :func:`_strong_blocks`), and the rest is balanced by a positive diagonal similarity when
    one makes ``|a_ij| = |a_ji|`` (:func:`_symmetrized`).  What is still non-symmetric is
    solved by a general eigensolver whose answer is checked: a radius whose eigenvalue is too
    ill-conditioned to be computed in double precision is refused
    (:func:`_check_conditioned`), never returned.
    """
    op = prepare(A)
    op.require_diagonal("the Jacobi iteration")
    d = op.diagonal
    if op.asymmetry() <= 1e-12 and np.all(d > 0):
        C, symmetric = op.matrix, True
    else:
        op = _strong_blocks(op)
        if op is None:  # every component one row: I − D⁻¹A is nilpotent up to a permutation
            return 0.0, 0.0
        C = _symmetrized(op, signs=True)
        symmetric = C is not None and bool(np.all(d > 0))
        if C is None:
            C = _symmetrized(op, signs=False)
        C = op.matrix if C is None else C
    s = 1.0 / np.sqrt(np.abs(d))
    # |D|^{1/2} (I − D⁻¹C) |D|^{-1/2}: similar to I − D⁻¹A, symmetric when C is and D > 0
    J = sp.diags_array(s * np.sign(d)) @ (sp.diags_array(d) - C) @ sp.diags_array(s)
    if J.count_nonzero() == 0:  # a diagonal matrix: ARPACK cannot start on J = 0
        return 0.0, 0.0
    if symmetric:
        return _symmetric_radius(J, op.n)
    J = sp.csr_array(J)
    if op.n <= GENERAL_DENSE_LIMIT:
        ev, X = _dense_eigenvalues(J), None
    else:
        ev, X = _sparse_eigenpairs(J)
    rho, imag = _extreme(ev)
    top = int(np.argmax(np.abs(ev)))
    _check_conditioned(J, ev[top], rho, None if X is None else X[:, top])
    return rho, imag


def _symmetric_radius(J, n) -> tuple[float, float]:
    if n <= DENSE_LIMIT:
        return _extreme(np.linalg.eigvalsh(J.toarray()))
    k = 2  # the largest-magnitude eigenvalues often come as a ± pair (bipartite graphs)
    try:
        ev = spla.eigsh(sp.csr_array(J), k=k, which="LM", tol=1e-10, return_eigenvectors=False)
    except spla.ArpackNoConvergence as exc:
        # extreme eigenvalues clustered (a singular graph Laplacian: ±1 and 1 − O(1/n²))
        if n <= DENSE_FALLBACK_LIMIT:
            return _extreme(np.linalg.eigvalsh(J.toarray()))
        raise ValueError(
            f"the Jacobi spectral radius of this matrix (n = {n}) cannot be computed: "
            f"ARPACK did not converge ({exc}); its largest eigenvalues are clustered, "
            "typically with ρ_J at or next to 1") from exc
    return _extreme(ev)


def _dense_eigenvalues(J):
    return np.linalg.eigvals(J.toarray())


#: ARPACK's tolerance for a non-symmetric Jacobi matrix, then the one of its second attempt.
ARPACK_TOL, ARPACK_RETRY_TOL = 1e-10, 1e-8
#: Restarts allowed to each ARPACK attempt (scipy's default, 10·n, took 400 s at n = 2025 on
#: a spectrum all of one modulus, where no number of restarts helps).
ARPACK_RESTARTS = 200


def _sparse_eigenpairs(J):
    """The eigenvalues of largest modulus of a non-symmetric ``J`` and their eigenvectors
    (columns) by ARPACK: a second attempt with a larger Krylov space and a looser tolerance
    when the first does not converge, then every eigenvalue densely (eigenvectors ``None``)
    up to :data:`DENSE_LIMIT` rows and ``ValueError`` naming the failure above (a dense
    eigensolver had been the fallback up to n = 6000: 35 s at n = 2025, and on a matrix far
    from normal a wrong answer)."""
    n = J.shape[0]
    k = 4  # a ± pair (bipartite graph) of complex-conjugate pairs shares the top modulus
    try:
        return spla.eigs(J, k=k, which="LM", tol=ARPACK_TOL, maxiter=ARPACK_RESTARTS)
    except spla.ArpackNoConvergence:
        pass
    try:
        return spla.eigs(J, k=k, which="LM", tol=ARPACK_RETRY_TOL, ncv=min(n - 1, 64),
                         maxiter=ARPACK_RESTARTS)
    except spla.ArpackNoConvergence as exc:
        if n <= DENSE_LIMIT:  # a few seconds at most, and checked as any dense answer
            return _dense_eigenvalues(J), None
        raise ValueError(
            f"the Jacobi spectral radius of this non-symmetric matrix (n = {n}) cannot be "
            f"computed: ARPACK did not converge to a relative tolerance of "
            f"{ARPACK_RETRY_TOL:g} ({exc}); its eigenvalues of largest modulus are clustered "
            "(many of one modulus, as the periodic upwind transport's, all on a circle) or "
            f"ill-conditioned (a matrix far from normal); {_norm_bound(J)}") from exc


def _norm_bound(J) -> str:
    """The upper bound on ``ρ_J`` an error message gives: the smaller of ``‖J‖₁`` and
    ``‖J‖∞`` of the balanced Jacobi matrix (every norm bounds the spectral radius)."""
    a = abs(J)
    bound = min(float(a.sum(axis=0).max()), float(a.sum(axis=1).max()))
    return f"a bound that holds: ρ_J <= {bound:.6g} (a norm of I − D⁻¹A, balanced)"


#: A radius is refused when its eigenvalue's error bound ``κ(λ)·η`` exceeds this share of it.
CONDITION_TOL = 1e-6


def _condition(J, lam, x) -> float:
    """``κ(λ) = 1/|yᴴx|`` of the eigenvalue ``lam`` of ``J`` for unit right and left
    eigenvectors ``x`` and ``y`` (``inf`` when they cannot be found).

    Dense (``x=None``): a few steps of inverse iteration from a shift next to ``lam`` with one
    LU of ``J − σI`` (a shift, not ``lam``: ``J − λI`` is singular when λ is exact), ``y``
    started from ``x`` (a semisimple multiple eigenvalue then keeps ``yᴴx ≈ 1``).  Sparse:
    ``x`` is ARPACK's, ``y`` ARPACK's eigenvector of ``Jᵀ`` for the eigenvalue next to
    ``lam`` (none next to it: the two runs disagree, which a well-conditioned eigenvalue
    cannot make them do)."""
    n = J.shape[0]
    if x is None:
        from scipy.linalg import lu_factor, lu_solve

        norm = float(abs(J).sum(axis=0).max())
        shift = complex(lam) + 1e-9 * norm * (1 + 1j)
        lu = lu_factor(J.toarray().astype(complex) - shift * np.eye(n), check_finite=False)
        x = np.random.default_rng(0).standard_normal(n).astype(complex)
        for _ in range(5):
            x = lu_solve(lu, x)
            x /= np.linalg.norm(x)
        y = x.copy()
        for _ in range(5):
            y = lu_solve(lu, y, trans=2)
            y /= np.linalg.norm(y)
    else:
        x = x / np.linalg.norm(x)
        try:
            # (the vector's direction is all that is needed: the looser tolerance)
            mu, V = spla.eigs(sp.csr_array(J.T), k=4, which="LM", tol=ARPACK_RETRY_TOL,
                              ncv=min(n - 1, 64), maxiter=ARPACK_RESTARTS)
            i = int(np.argmin(np.abs(mu - lam)))
            found = abs(mu[i] - lam) <= CONDITION_TOL * abs(lam)
        except spla.ArpackNoConvergence:
            found = False
        if not found:  # inverse iteration for y from x, with a sparse LU (this path only)
            return _sparse_inverse_condition(J, lam, x)
        y = np.conj(V[:, i]) / np.linalg.norm(V[:, i])
    overlap = abs(np.vdot(y, x))
    return 1.0 / overlap if overlap > 0.0 else math.inf


def _sparse_inverse_condition(J, lam, x) -> float:
    """:func:`_condition`'s ``κ(λ)`` from ``y`` found by inverse iteration with a sparse LU
    of ``J − σI`` started from ``x`` (when ARPACK on ``Jᵀ`` gave no eigenvalue next to
    ``lam``)."""
    n = J.shape[0]
    norm = float(abs(J).sum(axis=0).max())
    shift = complex(lam) + 1e-9 * norm * (1 + 1j)
    M = sp.csc_matrix(J, dtype=complex) - shift * sp.identity(n, dtype=complex, format="csc")
    try:
        lu = spla.splu(sp.csc_matrix(M))
    except RuntimeError:  # singular even off λ
        return math.inf
    y = x.astype(complex)
    for _ in range(5):
        y = lu.solve(y, trans="H")
        y /= np.linalg.norm(y)
    overlap = abs(np.vdot(y, x))
    return 1.0 / overlap if overlap > 0.0 else math.inf


def _check_conditioned(J, lam, rho, x=None) -> None:
    """Refuse a computed radius ``rho = |lam|`` of a non-symmetric ``J`` that double
    precision cannot tell: ``ValueError`` when ``κ(λ)·η > CONDITION_TOL·ρ``.

    ``κ(λ)`` from :func:`_condition` (``x``: ARPACK's eigenvector, or ``None`` after a dense
    eigensolver), ``η`` the backward error the eigensolver guarantees (``n·ε·‖J‖₁`` dense,
    ARPACK's tolerance times ``ρ``): to first order the computed eigenvalue is within
    ``κ·η`` of an exact one.  Far from normal (central differences of convection–diffusion at
    cell Péclet numbers 1.9 and 2.1 in the two directions, whose eigenvectors' condition is
    about 40⁴⁵) the eigenvalues computed are those of the pseudospectrum: 1.25 for an exact
    radius of 0.22, returned without a word.
    """
    n = J.shape[0]
    eps = np.finfo(float).eps
    eta = (ARPACK_RETRY_TOL * rho if x is not None
           else n * eps * float(abs(J).sum(axis=0).max()))
    kappa = _condition(J, lam, x)
    if kappa * eta <= CONDITION_TOL * rho:
        return
    raise ValueError(
        f"the Jacobi spectral radius of this non-symmetric matrix cannot be computed in "
        f"double precision: the eigenvalue of largest modulus found, |λ| = {rho:.6g}, has "
        f"condition number κ(λ) ≈ {kappa:.3g}, so it may be off by up to κ·η ≈ "
        f"{kappa * eta:.3g} (η = {eta:.3g}, the eigensolver's backward error); I − D⁻¹A "
        "is too far from normal (convection-dominated transport whose upstream and "
        "downstream couplings differ by orders of magnitude), and no diagonal similarity "
        f"balances it; {_norm_bound(J)}.  Measure ω instead (a Tuner over a grid of ω, "
        "solver='sor')")


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


def _extreme(ev) -> tuple[float, float]:
    """``(max |λ|, max |Im λ| over the λ of that modulus)`` of the eigenvalues ``ev`` (a
    conjugate pair, or a ± pair, shares the modulus up to rounding)."""
    modulus = np.abs(ev)
    rho = float(np.max(modulus))
    top = ev[modulus >= rho * (1.0 - 1e-6)]
    return rho, float(np.max(np.abs(np.imag(top))))


def _real(value, name: str) -> float:
    """``value`` as a float if it is a real number (numpy scalars included; bools, strings
    and arrays not), else ``ValueError`` naming the argument."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise ValueError(f"{name} must be a real number, got {value!r}")


#: The largest double below 2: the formulas' ω rounds to 2.0 next to a singular matrix, which
#: the solvers refuse (ω must lie in the open interval (0, 2)).
_BELOW_TWO = float(np.nextafter(2.0, 0.0))


def young_omega(rho_j: float) -> float:
    """Young's formula ``ω* = 2 / (1 + √(1 − ρ_J²))`` (needs ``0 <= ρ_J < 1``).

    Examples
    --------
    The 5-point Laplacian of a 10 × 10 grid has ``ρ_J = cos(π/11)``:

    >>> import numpy as np
    >>> round(young_omega(np.cos(np.pi / 11)), 4)
    1.5604
    >>> young_omega(0.0)                   # a diagonal matrix: plain Gauss–Seidel
    1.0
    """
    rho_j = _real(rho_j, "rho_j")
    if not 0.0 <= rho_j < 1.0:
        raise ValueError(
            f"Young's formula needs a Jacobi spectral radius in [0, 1), got {rho_j:.6g}: "
            "the Jacobi iteration does not converge for this matrix")
    return min(float(2.0 / (1.0 + np.sqrt(1.0 - rho_j * rho_j))), _BELOW_TWO)


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


def sor_rate(omega, rho_j):
    """Asymptotic SOR convergence factor ``ρ(L_ω)`` of a consistently ordered matrix (Young).

    With ``ω_b`` Young's ω*: ``ω − 1`` for ``ω >= ω_b``, else
    ``((ω ρ_J + √(ω² ρ_J² − 4(ω − 1))) / 2)²``.  ``ρ_J²`` at ω = 1 (Gauss–Seidel).

    Examples
    --------
    >>> rj = np.cos(np.pi / 11)
    >>> bool(np.isclose(sor_rate(1.0, rj), rj ** 2))
    True
    >>> bool(np.isclose(sor_rate(young_omega(rj), rj), young_omega(rj) - 1))
    True
    """
    w = np.asarray(omega, dtype=float)
    disc = np.maximum(w * w * rho_j * rho_j - 4.0 * (w - 1.0), 0.0)
    below = (0.5 * (w * rho_j + np.sqrt(disc))) ** 2
    return np.where(w >= young_omega(rho_j), np.abs(w - 1.0), below)


def ssor_omega(mu_min: float) -> float:
    """ω minimising Axelsson's bound on ``κ(M⁻¹A)`` for SSOR-PCG: ``2 / (1 + √(2 μ))``.

    ``μ = λ_min(D⁻¹A)``; the bound is :func:`ssor_condition_bound` with ``δ = 0`` (exact for
    the model Laplacian up to O(h²)).

    Examples
    --------
    >>> round(ssor_omega(1 - np.cos(np.pi / 11)), 4)
    1.5569
    """
    mu_min = _real(mu_min, "mu_min")
    if not 0.0 < mu_min <= 1.0:
        raise ValueError(f"λ_min(D⁻¹A) must lie in (0, 1], got {mu_min:.6g}")
    return min(2.0 / (1.0 + math.sqrt(2.0 * mu_min)), _BELOW_TWO)


def ssor_condition_bound(omega, mu_min, delta=0.0):
    """Axelsson's bound ``κ(M_ω⁻¹A) <= (1 + ωδ)/(2 − ω) + (2 − ω)/(4 ω μ)`` for SSOR(ω).

    ``A = D − L − Lᵀ`` SPD, ``μ = λ_min(D⁻¹A)``,
    ``δ = max_x xᵀ(L D⁻¹ Lᵀ − D/4)x / xᵀAx`` (≤ 0 for the model Laplacian).  The SSOR matrix
    satisfies ``M_ω >= A``, so ``λ_max(M⁻¹A) <= 1`` and the bound is ``max xᵀM x / xᵀA x``.

    Examples
    --------
    >>> mu = 0.01
    >>> w = ssor_omega(mu)
    >>> bool(ssor_condition_bound(w, mu) < ssor_condition_bound([1.0, 1.95], mu).min())
    True
    """
    w = np.asarray(omega, dtype=float)
    return (1.0 + w * delta) / (2.0 - w) + (2.0 - w) / (4.0 * w * mu_min)


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

#: Rows summing to zero within this share of the largest absolute row sum make the estimate's
#: ``mu_min`` exactly 0: ``A·1 = 0`` (a pure Neumann or graph Laplacian) is a null vector,
#: which 40 Lanczos steps resolve only on small matrices (``mu_min ≈ 2.5e-8`` on a 20 × 20
#: Neumann Laplacian, 1e-7 on 32 × 32) — too far from 0 for a caller to tell it singular.
NULL_ROWS = 1e-12

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
    d_half = np.sqrt(sign * op.diagonal)
    v = d_half * (1.0 + 0.5 * rng.uniform(-1.0, 1.0, op.n))
    rows = np.add.reduceat(op.data, op.indptr[:-1])  # every row holds its diagonal entry
    scale = np.add.reduceat(np.abs(op.data), op.indptr[:-1]).max()
    null = np.abs(rows).max() <= NULL_ROWS * scale
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
    k = lanczos_scaled(op.indptr, op.indices, op.data, 1.0 / d_half, v, steps, alpha, beta,
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
    d = A.getDiagonal()
    # a diagonal all of one sign: with a negative one, Lanczos on |D|^{-1/2} A |D|^{-1/2}
    # (minus the spectrum of D⁻¹A = (−D)⁻¹(−A)), as the serial estimate does
    dmin, dmax = d.min()[1], d.max()[1]
    sign = -1.0 if dmax < 0.0 else 1.0
    if not (dmin > 0.0 or dmax < 0.0):
        raise ValueError("estimate_spectrum needs a positive diagonal (or an all-negative one)")
    scale = A.norm(PETSc.NormType.INFINITY)
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
    null = w.norm(PETSc.NormType.INFINITY) <= NULL_ROWS * scale
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


def _components(indptr, indices, data, n):
    """Connected components of the graph of a CSR pattern's non-zero entries (scipy):
    ``(count, labels)``."""
    from scipy.sparse.csgraph import connected_components

    g = sp.csr_matrix((data != 0.0, indices, indptr), shape=(n, n))
    g.eliminate_zeros()
    count, labels = connected_components(g, directed=False)
    return count, labels


def residual_floor(A, b) -> tuple[float, int]:
    """A lower bound on ``‖b − A x‖`` over every ``x``, from the null vectors of ``Aᵀ`` that
    are known: ``(floor, components)``, ``(0.0, 0)`` when none is.

    When the columns of ``A`` sum to zero (``1ᵀA = 0`` within :data:`NULL_ROWS`, as a pure
    Neumann or graph Laplacian's do), the indicator ``1_c`` of each connected component of
    ``A``'s graph is a null vector of ``Aᵀ``: ``1_cᵀ(b − A x) = 1_cᵀ b`` for every ``x``, so
    the residual keeps ``b``'s projection on them, ``floor = sqrt(Σ_c (Σ_{i∈c} b_i)² / n_c)``.
    A floor above the stopping rule's ``max(rtol·‖b‖, atol)`` proves that no solver and no
    parameter can converge: ``A x = b`` is inconsistent.  One pass over ``A``'s entries
    (two, with the components, only when the columns sum to zero).

    Parameters
    ----------
    A : sparse matrix, ndarray, CSROperator, or the PETSc backend's operator
        On the PETSc backend the check is collective; when the columns sum to zero it uses
        the constant vector only (the components of a distributed graph are not known there):
        a weaker bound.  The row-scaled case (:func:`null_floor`) gathers the matrix on
        rank 0 when its rows sum to zero.
    b : array_like or petsc4py Vec
        Of ``A``'s size, finite (else ``ValueError``).

    Examples
    --------
    >>> from solvers import gallery
    >>> import scipy.sparse as sp
    >>> N = sp.csr_matrix([[1.0, -1.0], [-1.0, 1.0]])       # 1ᵀN = 0
    >>> residual_floor(N, [1.0, 1.0])                       # mean 1: ‖r‖ >= √2 for any x
    (1.4142135623730951, 1)
    >>> residual_floor(N, [1.0, -1.0])                      # consistent
    (0.0, 1)
    >>> residual_floor(gallery.laplacian_2d(4), np.ones(16))  # regular: nothing known
    (0.0, 0)
    """
    floor, count, _ = null_floor(A, b)
    return floor, count


def null_floor(A, b) -> tuple[float, int, str]:
    """:func:`residual_floor` and which null vectors of ``Aᵀ`` it used: ``(floor,
    components, kind)``, ``kind`` ``"columns"`` (``1ᵀA = 0``: each component's indicator),
    ``"rows"`` (``A = diag(d)·S``, ``S`` symmetric with zero row sums: each component's
    ``d⁻¹``) or ``""`` (none known).

    A Neumann or graph Laplacian whose rows were scaled (by cell volumes, a density, a time
    step per row) has ``A·1 = 0`` but columns that do not sum to zero; its null vector of
    ``Aᵀ`` is ``d⁻¹``, with ``d`` read off the ratios ``a_ji / a_ij`` of its entries
    (:func:`solvers._kernels_null.row_scaling`) and checked: ``Aᵀ d⁻¹ = 0`` within
    :data:`NULL_ROWS` of each column's absolute sum.  The residual then keeps
    ``sqrt(Σ_c (d_c⁻ᵀ b)² / ‖d_c⁻¹‖²)``.  Tried only when the columns do not sum to zero and
    the rows do (one more pass over ``A``; then a transpose and the graph pass).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> N = sp.csr_matrix([[1.0, -1.0], [-1.0, 1.0]])
    >>> null_floor(sp.diags([2.0, 1.0]) @ N, [2.0, 1.0])  # = diag(2, 1)·N: 2·(1/2) + 1·1 ≠ 0
    (1.7888543819998317, 1, 'rows')
    >>> null_floor(sp.diags([2.0, 1.0]) @ N, [2.0, -1.0])  # b = A (1, 0): consistent
    (0.0, 1, 'rows')
    """
    mat = getattr(A, "mat", None) if type(A).__module__ == "solvers.petsc" else A
    if type(mat).__module__.startswith("petsc4py"):
        floor, count = _residual_floor_petsc(mat, b)
        if count:
            return floor, count, "columns"
        return _row_scaled_floor_petsc(mat, b)
    op = prepare(A)
    b = np.asarray(b, dtype=np.float64).ravel()
    if b.shape != (op.n,):  # (a b of another length had been read as consistent)
        raise ValueError(f"b has {b.size} entries, expected {op.n} to match A")
    if not np.all(np.isfinite(b)):  # (a NaN had made the floor 0: "consistent")
        raise ValueError("b contains NaN or Inf")
    cols = np.bincount(op.indices, weights=op.data, minlength=op.n)
    scale = np.bincount(op.indices, weights=np.abs(op.data), minlength=op.n).max()
    if not np.abs(cols).max() <= NULL_ROWS * scale:
        return _row_scaled_floor(op, b)
    count, labels = _components(op.indptr, op.indices, op.data, op.n)
    return _floor(labels, count, np.ones(op.n), b), int(count), "columns"


def _floor(labels, count, y, b) -> float:
    """``sqrt(Σ_c (y_cᵀ b)² / ‖y_c‖²)`` over the components ``labels`` (``y_c``: ``y`` on
    component ``c``, zero elsewhere: orthogonal null vectors of ``Aᵀ``)."""
    sums = np.bincount(labels, weights=y * b, minlength=count)
    sizes = np.bincount(labels, weights=y * y, minlength=count)
    top = np.abs(sums).max()
    if not top > 0.0:  # (also the scale below: b of 1e200 would overflow its squares)
        return 0.0
    return float(top * math.sqrt(np.sum((sums / top) ** 2 / sizes)))


def _row_scaled_floor(op, b) -> tuple[float, int, str]:
    """The ``"rows"`` case of :func:`null_floor` (``(0.0, 0, "")`` when it does not apply)."""
    from ._kernels_null import row_scaling

    n, indptr, indices, data = op.n, op.indptr, op.indices, op.data
    a = sp.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)
    one = np.ones(n)
    if not np.all(np.abs(a @ one) <= NULL_ROWS * abs(a) @ one):  # A·1 ≠ 0: not D·S
        return 0.0, 0, ""
    rows = np.repeat(np.arange(n), np.diff(indptr))
    t = a.T.tocsr()
    t.sort_indices()
    if not (np.array_equal(t.indptr, indptr) and np.array_equal(t.indices, indices)):
        return 0.0, 0, ""  # (a pattern that is not symmetric)
    with np.errstate(all="ignore"):
        d, labels, count, ok = row_scaling(indptr, indices, data,
                                           np.ascontiguousarray(t.data, dtype=np.float64), n)
        y = 1.0 / d
        if not ok or not np.all(np.isfinite(y)):
            return 0.0, 0, ""
        y /= np.abs(y).max()
        col = np.bincount(indices, weights=data * y[rows], minlength=n)
        size = np.bincount(indices, weights=np.abs(data * y[rows]), minlength=n)
    if not np.all(np.abs(col) <= NULL_ROWS * size):  # the ratios disagree around a cycle
        return 0.0, 0, ""
    return _floor(labels, int(count), y, b), int(count), "rows"


def _row_scaled_floor_petsc(A, b) -> tuple[float, int, str]:
    """The ``"rows"`` case of :func:`null_floor` for a petsc4py ``Mat`` (collective).

    The local rows of every rank are tested for ``A·1 = 0`` (within :data:`NULL_ROWS` of
    each row's absolute sum); only when every rank's do — a singular matrix whose columns do
    not sum to zero — are the rows and ``b`` gathered on rank 0, which runs the Numba path's
    check (:func:`_row_scaled_floor`: ``d`` read off the ratios ``a_ji / a_ij`` needs the
    transposed entries, which a distributed matrix keeps on other ranks) and sends the
    result to every rank.  Called on a failure path only (the Tuner's refusal of an
    inconsistent system); a Mat type without CSR access gives ``(0.0, 0, "")``."""
    from ._api import _petsc

    PETSc = _petsc().PETSc
    comm = A.getComm().tompi4py()
    try:
        ai, aj, av = A.getValuesCSR()
        ok = True
    except PETSc.Error:  # a Mat type that cannot hand out its rows
        ai, aj, av, ok = np.zeros(1, dtype=np.int64), np.zeros(0, np.int64), np.zeros(0), False
    counts = np.diff(ai)
    with np.errstate(all="ignore"):
        rows = np.repeat(np.arange(counts.size), counts)
        sums = np.bincount(rows, weights=av, minlength=counts.size)
        size = np.bincount(rows, weights=np.abs(av), minlength=counts.size)
        ok = ok and bool(np.all(np.abs(sums) <= NULL_ROWS * size))
    if not comm.allreduce(int(ok), op=_mpi_min()):  # A·1 ≠ 0 somewhere: not diag(d)·S
        return 0.0, 0, ""
    start = A.getOwnershipRange()[0]
    local_b = (b.getArray(readonly=True) if isinstance(b, PETSc.Vec)
               else np.asarray(b, dtype=np.float64).ravel()[start:start + counts.size])
    parts = comm.gather((start + rows, np.asarray(aj), np.asarray(av), np.array(local_b)),
                        root=0)
    result = (0.0, 0, "")
    if comm.Get_rank() == 0:
        try:
            n = A.getSize()[0]
            r, c, v, bb = (np.concatenate(x) for x in zip(*parts))
            whole = sp.csr_matrix((v, (r, c)), shape=(n, n))
            result = _row_scaled_floor(prepare(whole), bb)
        except (ValueError, TypeError):  # a matrix the Numba path refuses: nothing known
            result = (0.0, 0, "")
    floor, count, kind = comm.bcast(result, root=0)
    return float(floor), int(count), str(kind)


def _mpi_min():
    from mpi4py import MPI

    return MPI.MIN


def _residual_floor_petsc(A, b) -> tuple[float, int]:
    """:func:`residual_floor` of a petsc4py ``Mat`` and ``Vec`` (collective): the constant
    vector only (the row-scaled case: :func:`_row_scaled_floor_petsc`)."""
    from ._api import _petsc

    PETSc = _petsc().PETSc
    one, cols = A.createVecs()
    one.set(1.0)
    A.multTranspose(one, cols)  # 1ᵀA, collectively
    scale = A.norm(PETSc.NormType.NORM_1)  # the largest absolute column sum
    null = cols.norm(PETSc.NormType.INFINITY) <= NULL_ROWS * scale
    n = one.getSize()
    one.destroy()
    cols.destroy()
    if not null:
        return 0.0, 0
    return abs(b.sum()) / math.sqrt(n), 1
