"""Why a solve failed, in words: the causes the solvers put in ``info["cause"]`` on their
failure paths — a CG-type breakdown (:func:`breakdown_cause`), an inconsistent singular system
(:func:`_inconsistent`, its words shared with a Tuner's refusal: :func:`inconsistency`), rows of ``A`` with no entry where ``b`` does not vanish
(:func:`_empty_rows_cause`), a divergence stop that may be a convergent solve's transient
(:func:`_transient_growth`).  Nothing here runs on a solve that converged; the PETSc backend's
counterparts are in :mod:`solvers._petsc_causes`."""
from __future__ import annotations

import math

import numpy as np

from . import _kernels as K
from . import _kernels_prep as _prep


def breakdown_cause(name: str, iteration: int, lo_row: int, lo: float, hi: float,
                    preconditioned: bool = None) -> str:
    """Why a CG-type solve broke down (reason ``"breakdown"``), from where it stopped and
    ``A``'s diagonal (its smallest entry ``lo``, in row ``lo_row``, and its largest ``hi``;
    both backends).

    Plain CG and SSOR-PCG stop so when a search direction ``p`` has ``pᵀAp <= 0`` (SSOR's
    preconditioner is positive definite for ω in (0, 2) and a positive diagonal), which no
    positive definite ``A`` allows; ``pcg`` also when ``rᵀz <= 0`` (``z = M⁻¹r``: the
    preconditioner is not positive definite).  A breakdown at the rounding level of an
    ill-conditioned positive definite system is reported as ``"stagnated"`` instead
    (:func:`solvers._api._at_rounding_level`).  The diagonal says which kind of matrix it is: every
    entry negative (an operator assembled with the other sign), some ``a_ii <= 0`` (then
    ``e_iᵀ A e_i <= 0`` itself), or all positive (then ``A`` has eigenvalues of both signs).

    Examples
    --------
    >>> breakdown_cause("cg", 0, 3, -2.0, -1.0)[:58]
    'pᵀAp <= 0 at iteration 0: the matrix is not positive defin'
    """
    if preconditioned is None:
        preconditioned = name == "pcg"
    what = "pᵀAp <= 0 or rᵀz <= 0 (z = M⁻¹r)" if preconditioned else "pᵀAp <= 0"
    who = ("the matrix or the preconditioner is not positive definite" if preconditioned
           else "the matrix is not positive definite")
    head = (f"{what} at iteration {iteration}: {who}, as {name} requires (CG-type methods "
            f"need a symmetric positive definite A)")
    if hi < 0.0:
        return (f"{head}; every diagonal entry of A is negative: if A is negative definite "
                f"(an operator assembled with the other sign), solve (−A) x = −b")
    if lo <= 0.0:
        return (f"{head}; A's diagonal entry a_ii = {lo:.6g} in row {lo_row} is not positive "
                f"(e_iᵀ A e_i = a_ii){', while others are' if hi > 0.0 else ''}: A is "
                f"indefinite or singular; for a symmetric indefinite system use MINRES "
                f"(scipy.sparse.linalg.minres)")
    return (f"{head}; A's diagonal is positive, so A is indefinite (eigenvalues of both "
            f"signs: a saddle point, or a shift beyond the smallest eigenvalue); use MINRES "
            f"(scipy.sparse.linalg.minres)")


def _inconsistent(res, system):
    """``res``, with ``info["cause"]`` saying why when a failed solve's system ``A x = b`` is
    inconsistent: ``Aᵀ`` has a known null vector ``y`` (``1`` when the columns of ``A`` sum
    to zero, as a pure Neumann or graph Laplacian's do; ``d⁻¹`` for a row-scaled one) and
    ``b`` is not orthogonal to it, so ``‖b − A x‖`` keeps a floor above the tolerance for
    every ``x`` (:func:`solvers.spectral.null_floor`).  SOR had run to ``maxiter`` and CG
    stopped as ``"stagnated"`` with nothing to say why (a ``bandit.Tuner`` refuses such a
    system by name); a preconditioned CG (and plain CG on a 2-D Neumann grid) breaks down
    there, ``pᵀAp <= 0`` or ``rᵀz <= 0``, with a cause that named only the breakdown: the
    inconsistency is said first, the breakdown after.  Called by the public :func:`sor`,
    :func:`ssor_pcg`, :func:`cg` and :func:`pcg` on the failure path only, for a cause not
    already found (a breakdown's aside); two passes over ``A``.  A run
    stopped at a ``maxiter`` shorter than the stagnation window (``STAGNATION_WINDOW``
    iterations) is too short to say anything of the system and pays nothing: a timed
    ``bandit.Tuner``'s untimed first run of plain CG is such a run.  (A system solved
    scaled, ``system`` of :func:`solvers._api._system`, is left as it is.)"""
    if res.converged or ("cause" in res.info and res.reason != "breakdown") or (
            res.reason == "maxiter" and res.iterations < K.STAGNATION_WINDOW):
        return res
    op, b, scale = system[0], system[1], system[5]
    if scale or op._shift:
        return res
    from .spectral import null_floor

    try:
        floor, comps, kind = null_floor(op, b)
    except (TypeError, ValueError):
        return res
    cause = inconsistency(floor, comps, kind, max(res.rtol * res.b_norm, res.atol),
                          res.b_norm)
    if not cause:
        return res
    cause += ": no solver can converge; " + consistent_rhs(comps, kind) + (
        ", or fix x's free constant with one Dirichlet row")
    if "cause" in res.info:  # a breakdown, which CG meets on such a system: said after
        cause += f" (the solve stopped at a breakdown: {res.info['cause']})"
    res.info["cause"] = cause
    return res


def inconsistency(floor, comps, kind, tol, b_norm) -> str:
    """The words for an inconsistent singular system ``A x = b``, or ``""`` when the floor
    :func:`solvers.spectral.null_floor` found (``floor``, over ``comps`` connected components,
    of ``kind`` ``"columns"`` or ``"rows"``) is within the tolerance ``tol`` or at the rounding
    level of the sums (about ``ε‖b‖₁`` a component, never taken for inconsistency).  One
    wording for the solvers' failure causes (:func:`_inconsistent`) and a
    :class:`bandit.Tuner`'s refusal, which add what follows from it.

    Examples
    --------
    >>> inconsistency(0.5, 1, "columns", 1e-8, 1.0)[:62]
    'A x = b is inconsistent: the columns of A sum to zero (1ᵀA = 0'
    >>> inconsistency(1e-9, 1, "columns", 1e-8, 1.0)
    ''
    """
    if not (floor > tol and floor > 1e3 * np.finfo(float).eps * b_norm):
        return ""
    rows = ("over all rows" if comps == 1 else
            f"over the rows of each of the {comps} connected components of A's graph")
    if kind == "rows":
        what = ("A = diag(d)·S with S symmetric and zero row sums (a row-scaled Neumann or "
                "graph Laplacian: A·1 = 0, d = diag(A)/diag(S) read off the ratios "
                f"a_ji/a_ij), so Aᵀ(1/d) = 0 and b − A x keeps b's sum weighted by 1/d {rows}")
    else:
        what = ("the columns of A sum to zero (1ᵀA = 0, as a pure Neumann or graph "
                f"Laplacian's do), so b − A x keeps b's sum {rows}")
    return (f"A x = b is inconsistent: {what} whatever x is, and ‖b − A x‖ >= {floor:.3e} > "
            f"the tolerance max(rtol·‖b‖, atol) = {tol:.3e} for every x")


def consistent_rhs(comps, kind) -> str:
    """How to make the right-hand side of an inconsistent system (:func:`inconsistency`)
    consistent."""
    if kind == "rows":
        return ("a consistent b has Σ b_i/d_i = 0" + ("" if comps == 1 else " on each component")
                + " (divide b by d, subtract the mean, multiply by d)")
    return ("a consistent b sums to zero there ("
            + ("b − b.mean()" if comps == 1 else "b minus its mean on each component") + ")")

def _empty_rows_cause(op, b, tol, unit=0, b_unit=0) -> str:
    """Why a failed plain CG solve could not converge when ``A`` has rows with no non-zero
    entry and ``b`` does not vanish there, or ``""``.

    Such a row ``i`` (a node left out of the assembly, an isolated vertex of a graph
    Laplacian) makes ``e_i`` a null vector of ``Aᵀ``: ``(b − A x)_i = b_i`` for every ``x``,
    so ``‖b − A x‖ >= ‖b_E‖`` over the empty rows ``E``, and above the tolerance no solver
    can converge (plain CG is the one solver that accepts a zero diagonal; it had stopped as
    "diverged" with nothing to say why).  One pass over ``A``'s values, on the failure path
    only, and there only when some diagonal entry is zero or missing: a row with a non-zero
    diagonal entry is not empty, and the operator keeps that check with its values (an O(n)
    pass when not yet made).  A run stopped at its ``maxiter`` by design — a Tuner's
    untimed first run of plain CG, or a try stopped at the guard's budget — then pays
    nothing here: on a 16 384-unknown fin the pass had cost 0.5-0.6 ms, as much as the
    4-iteration solve.  ``b`` times ``2**b_unit`` and ``tol`` times ``2**unit`` are the
    caller's (the message's units)."""
    if op._diag_check is None:
        op._diag_check = _prep.diagonal_problems(op.has_diagonal, op.diagonal)
    if not op._diag_check[1]:
        return ""
    rows = np.repeat(np.arange(op.n), np.diff(op.indptr))
    empty = np.bincount(rows, weights=np.abs(op.data), minlength=op.n) == 0.0
    if not empty.any():
        return ""
    if b_unit != unit:  # (the tolerance in b's units)
        tol = math.ldexp(tol, unit - b_unit)
        unit = b_unit
    top = float(np.abs(b[empty]).max())
    floor = top * float(np.linalg.norm(b[empty] / top)) if top > 0.0 else 0.0  # (b of 1e-200)
    if not floor > tol:
        return ""
    first = int(np.flatnonzero(empty & (b != 0.0))[0])
    return empty_rows_message(int(np.count_nonzero(empty)), first,
                              math.ldexp(float(b[first]), unit), math.ldexp(floor, unit),
                              math.ldexp(tol, unit))


def empty_rows_message(count, first, value, floor, tol) -> str:
    """The cause of :func:`_empty_rows_cause` (also the PETSc backend's): ``count`` empty
    rows, the first where ``b`` does not vanish and its ``b`` value, the residual floor and
    the tolerance."""
    return (f"A has {count} row{'s' if count > 1 else ''} with no non-zero entry (the first "
            f"where b does not vanish: row {first}, b[{first}] = {value:.6g}), so b − A x "
            f"keeps b there for every x: ‖b − A x‖ >= {floor:.3e} > the tolerance "
            f"max(rtol·‖b‖, atol) = {tol:.3e}, and A x = b has no solution; set b to 0 on "
            "those rows, or remove them (and their columns)")


def _transient_growth(op, dtol, solver="cg") -> str:
    """Why a plain CG solve stopped as diverged may not be diverging at all, or ``""``.

    On a symmetric positive definite ``A`` CG's error falls in the energy norm at every step,
    but its residual may grow on the way by up to ``√κ(A)``, and ``κ(A) >= max a_jj / min
    a_ii`` (each ``a_ii`` is a Rayleigh quotient).  A diagonal spanning more than ``dtol²``
    therefore lets a convergent CG cross ``dtol``: ``diag(1e-30, 1, …, 1)`` with ``b = 1``
    stopped as "diverged" after 2 steps and converges in 4 with ``dtol=inf``, and
    ``diag(1e-320, 1, …)`` — whose solution, 1e320, is beyond double range — is then
    refused as an overflowing iterate.  Called on the failure path only.

    Any preconditioned CG keeps that bound (its error falls in the energy norm too), so
    ``solver`` — ``"ssor_pcg"`` or ``"pcg"`` — gets the same cause with its own way out:
    SSOR-PCG on a 10 × 10 Laplacian scaled symmetrically by ``logspace(-8, 8)`` (a diagonal
    spanning 1e32) with ``b = 1``, ω = 1.5 and ``rtol=1e-2`` had stopped as "diverged"
    after one iteration with nothing to say why, and converges in 23 with ``dtol=inf``."""
    d = op.diagonal
    if not (d.size and np.all(d > 0.0)):
        return ""
    lo_row, k = int(np.argmin(d)), op._shift  # (a copy scaled down by 2**k: the caller's)
    fix = None if solver == "cg" else (
        f"{solver} with dtol=inf (the same solve, not stopped there) may solve it, or the "
        "system rescaled symmetrically, D^-1/2 A D^-1/2 y = D^-1/2 b with x = D^-1/2 y "
        "(D = diag(A))")
    return diagonal_spread_cause(lo_row, math.ldexp(float(d[lo_row]), k),
                                 math.ldexp(float(d.max()), k), dtol, "pcg(A, b, 'jacobi')",
                                 fix)


def diagonal_spread_cause(lo_row, lo, hi, dtol, jacobi, fix=None) -> str:
    """The message of :func:`_transient_growth` for a positive diagonal whose smallest entry
    ``lo`` (in row ``lo_row``) and largest ``hi`` are given, ``""`` when it spans at most
    ``dtol²``; ``jacobi`` names the Jacobi-preconditioned solve of the caller's backend;
    ``fix``, if given, is the way out instead (a preconditioned solve's)."""
    if not (lo > 0.0 and hi / lo > dtol * dtol):  # (inf when lo is subnormal)
        return ""
    if lo <= _prep.TINY_DIAGONAL:
        return (f"A's diagonal entry in row {lo_row} is {lo:.3g} against a largest of "
                f"{hi:.3g}: 1/a_ii overflows, so in double precision A is singular at this "
                "scale and a solution excited along that row is out of range (with "
                "dtol=inf the iterates overflow); rescale A")
    ratio = hi / lo
    if fix is None:
        fix = (f"{jacobi}, whose diagonal scaling removes that spread, or cg with dtol=inf "
               "may solve it")
    return (f"A's diagonal spans {lo:.3g} (row {lo_row}) to {hi:.3g}, so κ(A) >= "
            f"{f'{ratio:.3g}' if ratio < math.inf else 'the largest double'}: on a "
            "symmetric positive definite system CG's residual may grow by up to √κ(A) on its "
            f"way to the solution, beyond dtol = {dtol:.3g}, so the stop may be that "
            f"transient, not divergence; {fix}")
