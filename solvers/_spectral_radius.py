"""The Jacobi spectral radius ``ρ(I − D⁻¹A)`` behind
:func:`solvers.spectral.jacobi_spectral_radius` and :func:`solvers.spectral.optimal_omega`: the
symmetric path (dense up to :data:`DENSE_LIMIT` rows, ARPACK above), the non-symmetric one
(the matrix first reduced by :mod:`solvers._spectral_reduce`, then ARPACK or a dense
eigensolver), and the refusal of a radius whose eigenvalue double precision cannot tell.

Its constants are read here only; :mod:`solvers.spectral` lists them, and one set there
(``solvers.spectral.DENSE_LIMIT = 3000``) is set here too.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._operator import prepare
from ._spectral_reduce import _strong_blocks, _symmetrized


#: Below this size the spectrum is computed densely (exact, and faster than ARPACK).
DENSE_LIMIT = 1500

#: Up to this size a spectrum on which ARPACK does not converge is computed densely instead.
DENSE_FALLBACK_LIMIT = 6000

#: The same limit for a non-symmetric Jacobi matrix, whose dense eigensolver costs about ten
#: times the symmetric one: 1.5 s at n = 1444 against ARPACK's 0.14 s (convection–diffusion,
#: one core of a Xeon), the same 0.04–0.07 s at n = 400.
GENERAL_DENSE_LIMIT = 500


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


def _extreme(ev) -> tuple[float, float]:
    """``(max |λ|, max |Im λ| over the λ of that modulus)`` of the eigenvalues ``ev`` (a
    conjugate pair, or a ± pair, shares the modulus up to rounding)."""
    modulus = np.abs(ev)
    rho = float(np.max(modulus))
    top = ev[modulus >= rho * (1.0 - 1e-6)]
    return rho, float(np.max(np.abs(np.imag(top))))
