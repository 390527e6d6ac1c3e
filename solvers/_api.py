"""Public solver functions: validate once, call a kernel, wrap the outcome in a SolveResult."""
from __future__ import annotations

import math
import time

import numpy as np

from . import _kernels as K
from . import _kernels_pcg as KP
from . import _kernels_prep as _prep
from . import _kernels_ssor as KS
from . import _fpmode
from ._fpmode import flush_on, restore
from ._checks import (check_dtol, check_omega, check_tolerances, check_unscaled, check_vector,
                      check_vector_norm, swapped_arguments)
from ._extras import install_hint
from ._jitcache import raise_interrupt
from ._operator import prepare
from ._overflow import out_of_range as _out_of_range
from ._result import IterateOverflowError, SolveResult
from ._causes import (_empty_rows_cause, _inconsistent, _transient_growth,  # noqa: F401
                      breakdown_cause, diagonal_spread_cause, empty_rows_message)

__all__ = ["sor", "ssor_pcg", "cg", "SOLVERS", "BACKENDS", "SSOR_ORDERS"]

BACKENDS = ("numba", "petsc")
#: SSOR sweep orders: "paper" = backward with D+ωU, then forward with D+ωL (the paper's code);
#: "textbook" = forward first.
SSOR_ORDERS = ("paper", "textbook")
_NO_MIRROR = np.empty(0)
_STATUS = {K.CONVERGED: "converged", K.MAXITER: "maxiter", K.BREAKDOWN: "breakdown",
           K.DIVERGED: "diverged", K.STAGNATED: "stagnated"}


def _petsc():
    try:
        from . import petsc as backend
    except ImportError as exc:  # petsc4py is an optional extra
        raise ImportError(
            f"backend='petsc' needs petsc4py and mpi4py: {install_hint('petsc')}") from exc
    return backend


def _check_backend(backend):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


_failure_kernel_loaded = False
_NO_INDEX = np.zeros(1, dtype=np.uint32)


def _load_failure_kernel():
    """Load the kernel of a failed solve's true residual (:func:`_finish`) with the solver
    kernels, when a solver is first used: loaded lazily, it cost the first failed solve of a
    process milliseconds (a cached kernel's load), as much as a thousand small solves and,
    in a ``bandit.Tuner``, an audit's time.  A call on an empty system of the types a solve
    passes (32-bit indices: every matrix below 2³² entries).  With it the check of a CG-type
    solve's start (:func:`_check_start`), which every such solve runs."""
    global _failure_kernel_loaded
    if not _failure_kernel_loaded:
        K.residual_norm(_NO_INDEX, _NO_INDEX[:0], _NO_MIRROR, _NO_MIRROR, _NO_MIRROR)
        K.residual_margin(_NO_INDEX, _NO_INDEX[:0], _NO_MIRROR, _NO_MIRROR, _NO_MIRROR)
        _prep.beyond(_NO_MIRROR, _START_HI)
        _fpmode.warm()
        _failure_kernel_loaded = True


# b is solved as given when 2^-100 <= ‖b‖ <= 2^100; beyond, the system is scaled by a power of
# two first (see _scaled)
_NORM_LO, _NORM_HI = 2.0 ** -100, 2.0 ** 100
#: A start vector with an entry beyond this is checked before a CG-type solve: its residual
#: ``b − A x0`` may be too large for the kernels' sums of squares (2^512 squared overflows).
_START_HI, _RESIDUAL_HI = 2.0 ** 400, 2.0 ** 510


def _setup(A, b, x0, rtol, atol, maxiter, name=None):
    """Shared validation: returns (op, b, x, tol, b_norm, scale, rtol, atol, maxiter), with
    ``op``, ``b``, ``x`` and ``tol`` those of the system solved (:func:`_system`: ``x`` scaled
    by ``2**scale``, 0 almost always) and ``b_norm``, ``atol`` the caller's."""
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    op = _prepared(A, b, _CALLS.get(name, "the solver"))
    # the kernels only read b: a finite float64 vector is used as given (no copy)
    b, b_norm = check_vector_norm(b, op.n, "b", copy=False)
    x = np.zeros(op.n) if x0 is None else check_vector(x0, op.n, "x0")  # x0 untouched
    return _system(op, b, b_norm, x, rtol, atol, maxiter)


#: How each public solver is called, for the question of swapped arguments.
_CALLS = {"sor": "sor(A, b, omega)", "ssor_pcg": "ssor_pcg(A, b, omega)", "cg": "cg(A, b)",
          "pcg": "pcg(A, b, pc)"}


def _prepared(A, b, call="the solver"):
    """``prepare(A)``; a refused ``A`` whose shape and ``b``'s suggest the two were swapped
    (``sor(b, A, omega)``) is refused with that question
    (:func:`solvers._checks.swapped_arguments`)."""
    try:
        return prepare(A)
    except (ValueError, TypeError):
        swapped = swapped_arguments(A, b, call)
        if swapped is not None:
            raise swapped from None
        raise


def _petsc_solve(kind, A, b, omega, **kw):
    """The PETSc backend's solve, with the question of swapped arguments (as :func:`_prepared`)
    when it refuses ``A``."""
    try:
        return _petsc().solve(kind, A, b, omega, **kw)
    except (ValueError, TypeError):
        swapped = swapped_arguments(A, b, _CALLS[kind])
        if swapped is not None:
            raise swapped from None
        raise


def _system(op, b, b_norm, x, rtol, atol, maxiter):
    """The tuple of :func:`_setup` from checked parts (``x`` the solve's own start vector;
    ``b_norm`` and ``atol`` stay the caller's, ``tol`` is the solved system's).

    A matrix whose entries lie near the double range (``max |a_ij|`` beyond
    ``2**LOG2_DOWN``) is solved as ``(A / 2**k) x = b / 2**k`` (``op.scaled_down()``, made
    once per values): exact, the same solution, and the iterations and ``x`` of that system
    scaled by hand.  ``atol`` is scaled with the residual (``‖b/2**k − A/2**k x‖`` is
    ``‖b − A x‖ / 2**k``), ``rtol`` is a ratio; :func:`_finish` reports the residual norm
    in the caller's units.  When ``‖b‖ / 2**k`` falls outside ``[2**-100, 2**100]`` (a tiny
    ``b``, whose entries divided by ``2**k`` alone would underflow to 0 or subnormal
    numbers) ``b`` is scaled once, by ``2**(scale − k)`` (:func:`_scaled`), so nothing of it
    is lost on the way.  An ordinary matrix pays one comparison of a value cached with the
    operator's values."""
    down = op._down
    k = down[0] if down is not None else op.down_shift()
    if k:
        op = op.scaled_down()
        norm = math.ldexp(b_norm, -k)  # (0 or subnormal for a tiny b: then _scaled)
        if _NORM_LO <= norm <= _NORM_HI or b_norm == 0.0:
            with np.errstate(under="ignore"):  # (entries 2**1000 below the largest)
                b = np.ldexp(b, -k)
            return op, b, x, max(rtol * norm, math.ldexp(atol, -k)), b_norm, 0, rtol, atol, \
                maxiter
    elif _NORM_LO <= b_norm <= _NORM_HI or b_norm == 0.0:
        return op, b, x, max(rtol * b_norm, atol), b_norm, 0, rtol, atol, maxiter
    return _scaled(op, b, x, b_norm, rtol, atol, maxiter, k)


def _scaled(op, b, x, b_norm, rtol, atol, maxiter, k=0):
    """Scale ``x`` in place by ``2**scale`` and ``b`` into a new vector by ``2**(scale − k)``
    so that ``‖b‖`` lies in [0.5, 1) (``b`` may be the caller's array; ``op`` the matrix
    scaled down by ``2**k``, :func:`_system`).  The exponent is read off the caller's
    ``‖b‖``, and ``b`` scaled in one step: scaled by ``2**-k`` first, a ``b`` of 1e-300
    beside entries of 4e307 had underflowed to 0 and been "solved" by ``x = 0``.

    ``A (2^s x) = 2^s b`` is the same system, and scaling by a power of two is exact: every
    iterate is the unscaled run's times ``2^s`` and iteration counts are unchanged — except
    that no sum of squares in the kernels (residual norms, ``pᵀAp``, ...) overflows or
    underflows, as it would for ``b`` near 1e200 or 1e-170.  (Entries of ``b`` more than about
    1e300 times smaller than its largest are below the double range after scaling down and
    become 0: a change of ``b`` by a relative 1e-300.)
    """
    unit = -math.frexp(b_norm)[1]  # b's scale: ‖b‖ · 2**unit in [0.5, 1)
    scale = unit + k  # x's
    x_max = float(np.abs(x).max())
    with np.errstate(over="ignore", under="ignore"):
        b = np.ldexp(b, unit)
        np.ldexp(x, scale, out=x)
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"x0 is out of proportion with b (max |x0_i| = {x_max:.3e}, ‖b‖ = {b_norm:.3e}): "
            "solving at a safe scale would overflow x0; pass a smaller x0 or none")
    b_norm_s = math.ldexp(b_norm, unit)
    return (op, b, x, max(rtol * b_norm_s, math.ldexp(atol, unit)), b_norm, scale, rtol, atol,
            maxiter)


def _unscale(op, b, x, converged, rnorm, scale, b_norm, rtol, atol):
    """Undo :func:`_scaled` on ``x`` (``b`` is left as solved); returns the residual norm in
    the caller's units.  Raises ``ValueError`` if the solution cannot be represented in
    double precision to the tolerance (it overflows, or its entries underflow where they
    matter): the residual is that of the ``x`` returned, scaled back exactly onto the
    solved system (``op``, ``b``), whatever entries it lost."""
    shift = op._shift
    with np.errstate(over="ignore", under="ignore"):
        np.ldexp(x, -scale, out=x)
        if shift:  # (b / 2**k may underflow: the caller's x scaled back, exactly)
            back = np.ldexp(x, scale)
        else:  # the caller's b and x (b is the solve's own copy here)
            np.ldexp(b, -scale, out=b)
            back = x
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"the solution of this system overflows double precision (‖b‖ = "
            f"{b_norm:.3e}): rescale A or b")
    actual = float(K.residual_norm_scaled(op.indptr, op.indices, op.data, back, b))
    if shift and math.isfinite(actual):
        actual = math.ldexp(actual, shift - scale)
    return check_unscaled(actual, converged, rnorm, scale, b_norm, rtol, atol, shift)


def _finish(name, op, b, x, omega, out, t0, b_norm, rtol, atol, maxiter, scale=0):
    iterations, rnorm, status, kept = out
    # a converged kernel returns the true residual of x (CG and SSOR-PCG verify it), and SOR
    # returns the exact residual of its last iterate; otherwise (a capped or failed CG) report
    # the true residual, not a running estimate
    margin = 0.0
    if status != K.CONVERGED:
        # the computed residual and how far the exact one may lie from it: a residual not
        # above twice its margin is rounding noise, reported with its bound (_flag_bound)
        computed, margin = K.residual_margin(op.indptr, op.indices, op.data, x, b)
        if not (name == "sor" and status == K.MAXITER and kept == iterations):
            rnorm = computed
        if not math.isfinite(rnorm):  # x is no iterate: NaN from the first step on
            raise _out_of_range(name, rnorm, b_norm, op if name == "sor" else None)
        if status == K.BREAKDOWN and _at_rounding_level(op, x, b, rnorm):
            status = K.STAGNATED
    # solved as A / 2**k, b / 2**(k − scale), x · 2**scale (_system): the caller's units
    if scale:
        rnorm = _unscale(op, b, x, status == K.CONVERGED, rnorm, scale, b_norm, rtol, atol)
    elif op._shift:
        rnorm = math.ldexp(rnorm, op._shift)
    seconds = time.perf_counter() - t0
    res = SolveResult(x=x, iterations=int(iterations), converged=status == K.CONVERGED,
                      residual_norm=float(rnorm), omega=omega, solver=name,
                      reason=_STATUS[int(status)], seconds=seconds, backend="numba",
                      b_norm=b_norm, rtol=rtol, atol=atol, maxiter=maxiter)
    if status != K.CONVERGED:  # a failed solve returns its best iterate: which one
        res.info["best_iteration"] = int(kept)
        if margin > 0.5 * computed:  # (the caller's units: scaled by a power of two)
            res.info["residual_bound"] = float(
                rnorm + math.ldexp(margin, op._shift - scale))
        if status == K.BREAKDOWN:
            d = op.diagonal  # (signs and positions are the caller's: scaled by 2**k only)
            lo_row = int(np.argmin(d))
            res.info["cause"] = breakdown_cause(name, int(iterations), lo_row, float(d[lo_row]),
                                                float(d.max()))
    return res


def _at_rounding_level(op, x, b, rnorm) -> bool:
    """Whether a CG-type solve that broke down had already reached the rounding level of the
    system, ``rnorm <= FLOOR_FACTOR·u·‖|b| + |A| |x|‖`` (SOR's test of stagnation).

    There the residual and the search direction are rounding noise, and ``pᵀAp`` or ``rᵀz``
    may round to ``<= 0`` on a symmetric positive definite matrix: SSOR-PCG on the 10 × 10
    model Laplacian with ``rtol=1e-300`` "broke down" after 177–194 iterations for ω = 1 and
    1.3–1.55, at a residual of 5e-14, and a ``Tuner`` told the user the matrix was not
    positive definite.  Such a stop is the tolerance's fault, not the matrix's: it is
    reported as ``"stagnated"``.  One pass over the matrix, on the failure path only."""
    level = K.rounding_scale(op.indptr, op.indices, op.data, x, b)
    return bool(rnorm <= K.FLOOR_FACTOR * K.UNIT_ROUNDOFF * level)


def _check_start(name, op, b, x, b_norm, scale=0, zero=False):
    """Refuse a CG-type solve whose start residual ``‖b − A x0‖`` is too large for the
    kernels' sums of squares (``x0 = 1e200·1`` with ``b = 1``): its norm, computed scaled,
    and why no solve from there can reach the tolerance, instead of the NaN the overflowed
    squares become.  One compiled pass over ``x`` when it is ordinary (no copy).  ``op``,
    ``b`` and ``x`` are the solved system's (``x`` scaled by ``2**scale``, ``op`` down by
    ``2**op._shift``: :func:`_system`), ``b_norm`` the caller's; the message is in the
    caller's units.  ``zero``: ``x`` is known to be the zero vector (a caller's new
    ``np.zeros``, :func:`run_checked`), within any bound: the pass over it is skipped."""
    if zero or not _prep.beyond(x, _START_HI):
        return
    r0 = float(K.residual_norm_scaled(op.indptr, op.indices, op.data, x, b))
    if r0 <= _RESIDUAL_HI:
        return
    with np.errstate(over="ignore"):
        r0 = math.ldexp(r0, op._shift - scale)
        x_max = math.ldexp(float(np.abs(x).max()), -scale)
    raise IterateOverflowError(
        f"{name} cannot solve from this start: x0 is out of proportion with b "
        f"(‖b − A x0‖ = {r0:.3e}, max |x0_i| = {x_max:.3e}, ‖b‖ = "
        f"{b_norm:.3e}): the squares of that residual overflow double precision, and a "
        "tolerance relative to ‖b‖ lies far below the rounding level of iterates that large "
        "(CG's updates of x keep it); pass a smaller x0 or none (SOR, whose sweeps shrink "
        "x itself, can solve from such a start)")


def _zero_rhs(name, op, b, x, omega, t0, b_norm, rtol, atol, maxiter):
    """``b = 0`` returns ``x = 0`` with 0 iterations (whatever ``x0``), else ``None``."""
    if b_norm > 0.0:
        return None
    x[:] = 0.0
    return _finish(name, op, b, x, omega, (0, 0.0, K.CONVERGED, 0), t0, b_norm, rtol, atol,
                   maxiter)


def sor(A, b, omega, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000, dtol=K.DIVERGENCE_FACTOR,
        backend="numba", options=None, diagnose=True):
    """Solve ``A x = b`` by successive over-relaxation (forward sweeps).

    One iteration is one forward sweep ``x_i ← (1 − ω) x_i + ω (b_i − Σ_{j≠i} a_ij x_j) / a_ii``
    for ``i = 1..n`` in the given row order; ω = 1 is Gauss–Seidel.  Stops at the first iterate
    with ``‖b − A x_k‖ <= max(rtol·‖b‖, atol)``; the test is exact and computed inside the sweep.

    Parameters
    ----------
    A : sparse matrix, ndarray or CSROperator
        Square, real (not boolean), with a non-zero diagonal.  Pass ``solvers.prepare(A)`` to
        reuse the conversion.  With ``backend="petsc"`` also a ``petsc4py.PETSc.Mat``.
    b : array_like, shape (n,)
        Dense; an ``(n, 1)`` column is accepted, a ``(1, n)`` row and a scipy sparse matrix
        are refused (as scipy does).
    omega : float
        Relaxation parameter in the open interval (0, 2).
    x0 : array_like, optional
        Starting guess (default zeros); never modified.
    rtol, atol : float
        Stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)``.
    maxiter : int
        Iteration cap; reaching it returns ``converged=False`` with ``iterations == maxiter``.
    dtol : float, default 1e12
        Divergence tolerance: the solve stops with ``reason="diverged"`` (``converged=False``)
        once ``‖b − A x_k‖ > dtol·‖b − A x_0‖`` or the residual is NaN, before ``x`` overflows.
        Must be > 1 (``inf`` keeps only the NaN test).  A caller trying an ω that may be
        unstable passes a small ``dtol`` so a diverging attempt costs few iterations.
    backend : {"numba", "petsc"}
        ``"petsc"`` runs KSPRICHARDSON + PCSOR (forward) with the same stopping rule.
    options : dict, optional
        Extra PETSc options-database entries (``backend="petsc"`` only), e.g.
        ``{"pc_type": "jacobi"}``.
    diagnose : bool, default True
        On a failed solve, look for the cause of an inconsistent singular system
        (``info["cause"]``: ``"A x = b is inconsistent: ..."`` with the floor of
        ``‖b − A x‖``; two passes over ``A``, on the failure path only, and not for a run
        stopped at a ``maxiter`` below 50 iterations; the Numba backend's).  ``False`` skips
        it, for runs stopped early on purpose whose caller checks the system itself: a
        ``bandit.Tuner``'s, whose guard caps its tries.  The same in :func:`ssor_pcg`,
        :func:`cg` and :func:`pcg`.

    Returns
    -------
    SolveResult
        A solve that does not converge returns its best iterate, not its last (which one in
        ``info["best_iteration"]``, on both backends), and stops as
        ``reason="stagnated"`` once a tolerance below the system's rounding level proves
        unattainable (docs/solvers.md); the same holds for every solver.

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import sor, gallery
    >>> A = gallery.laplacian_2d(10)
    >>> res = sor(A, np.ones(100), 1.56)
    >>> res.converged, res.iterations
    (True, 41)
    """
    _check_backend(backend)
    if backend == "petsc":  # checks every argument once the MPI ranks agree on them
        return _petsc_solve("sor", A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter,
                              dtol=dtol, options=options)
    omega = check_omega(omega)
    dtol = check_dtol(dtol)
    _no_options(options)
    _check_diagnose(diagnose)
    _load_failure_kernel()
    t0 = time.perf_counter()
    system = _setup(A, b, x0, rtol, atol, maxiter, "sor")
    system[0].require_diagonal("sor")
    res = _sor(t0, *system, omega, dtol)
    return _inconsistent(res, system) if diagnose else res


def _sor(t0, op, b, x, tol, b_norm, scale, rtol, atol, maxiter, omega, dtol, zero=False):
    # (zero: run_checked's; SOR has no check of the start's size to skip)
    done = _zero_rhs("sor", op, b, x, omega, t0, b_norm, rtol, atol, maxiter)
    if done is not None:
        return done
    lower, upper = op.split_triangles()
    mirror = op.sor_mirror()
    mode = flush_on(op, tol, omega)  # subnormal results flushed (solvers._fpmode)
    try:
        out = K.sor_solve(op.indptr, op.indices, op.data, *lower, *upper, op.diagonal,
                          op.inv_diagonal, op.sor_finish(), op.ring(),
                          _NO_MIRROR if mirror is None else mirror, mirror is not None, x, b,
                          omega, tol, maxiter, dtol, K.SOR_WINDOW,
                          op.workspace(K.SOR_WORK_VECTORS))
    except SystemError as exc:  # Ctrl-C handled inside Numba's own helpers
        raise_interrupt(exc)
        raise
    finally:
        restore(mode)
    return _finish("sor", op, b, x, omega, out, t0, b_norm, rtol, atol, maxiter, scale)


def ssor_pcg(A, b, omega, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
             dtol=K.DIVERGENCE_FACTOR, order=None, backend="numba", options=None,
             diagnose=True):
    """Conjugate gradients preconditioned by SSOR(ω) for symmetric positive definite ``A``.

    With ``order="paper"`` (default, matches the paper's code)
    ``M = (D + ωU) D⁻¹ (D + ωL) / (ω(2 − ω))``: applying ``M⁻¹`` is a backward triangular solve
    with ``D + ωU``, a scaling by ``D`` and a forward solve with ``D + ωL``.  ``order="textbook"``
    swaps the two solves.  Convergence is tested on the true, unpreconditioned residual
    ``‖b − A x_k‖ <= max(rtol·‖b‖, atol)``, also when warm-started.

    Parameters
    ----------
    A : sparse matrix, ndarray or CSROperator
        Symmetric positive definite (a clearly non-symmetric A or a non-positive diagonal raises).
    b, omega, x0, rtol, atol, maxiter, dtol, backend, diagnose
        As in :func:`sor`.
    order : {"paper", "textbook"}, optional
        Default: each backend's own sweep — ``"paper"`` for Numba, ``"textbook"`` (PETSc's
        symmetric PCSOR, forward sweep first) for PETSc.  Either order runs on either backend
        with the same iteration counts (±1).

    Returns
    -------
    SolveResult
        ``reason="breakdown"`` (``converged=False``) if ``pᵀAp <= 0``: A is not SPD.

    Notes
    -----
    For ω >= 1/2 an iteration is the Eisenstat form (one pass over each triangle, the product
    with ``A`` included); below, whose product would lose about ``log10((2 − ω)/ω)`` digits,
    the preconditioner is applied as two triangular solves next to a product with ``A``
    (same iterates, about twice the time per iteration).

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import ssor_pcg, cg, gallery
    >>> A = gallery.laplacian_2d(30)
    >>> b = np.ones(900)
    >>> ssor_pcg(A, b, 1.7).iterations < cg(A, b).iterations
    True
    """
    _check_backend(backend)
    if backend == "petsc":  # checks every argument once the MPI ranks agree on them
        return _petsc_solve("ssor_pcg", A, b, omega, x0=x0, rtol=rtol, atol=atol,
                              maxiter=maxiter, dtol=dtol,
                              order="textbook" if order is None else order, options=options)
    omega = check_omega(omega)
    dtol = check_dtol(dtol)
    if order is None:
        order = "paper"
    if order not in SSOR_ORDERS:
        raise ValueError(f"order must be one of {SSOR_ORDERS}, got {order!r}")
    _no_options(options)
    _check_diagnose(diagnose)
    return _ssor_pcg_public(A, b, x0, rtol, atol, maxiter, omega, dtol, order, diagnose)


def _ssor_pcg_public(A, b, x0, rtol, atol, maxiter, omega, dtol, order, diagnose):
    """:func:`ssor_pcg` on the Numba backend once its options are checked; ``diagnose``:
    look for an inconsistent system on the failure path (:func:`_inconsistent`)."""
    _load_failure_kernel()
    t0 = time.perf_counter()
    system = _setup(A, b, x0, rtol, atol, maxiter, "ssor_pcg")
    system[0].require_diagonal("ssor_pcg", positive=True)
    system[0].require_symmetric("ssor_pcg")
    res = _ssor_pcg(t0, *system, omega, dtol, order)
    return _inconsistent(res, system) if diagnose else res


def _ssor_pcg(t0, op, b, x, tol, b_norm, scale, rtol, atol, maxiter, omega, dtol, order,
              zero=False):
    done = _zero_rhs("ssor_pcg", op, b, x, omega, t0, b_norm, rtol, atol, maxiter)
    if done is not None:
        return done
    _check_start("ssor_pcg", op, b, x, b_norm, scale, zero)
    # the textbook order is the paper order of the row-reversed system
    sys_op, sys_x, sys_b = (op, x, b) if order == "paper" else (
        op.reversed(), x[::-1].copy(), b[::-1].copy())
    lower, upper = sys_op.split_triangles()
    # the Eisenstat form loses about log10((2 − ω)/ω) digits in its product with A; below
    # EISENSTAT_MIN_OMEGA that starts to cost iterations, and for small ω CG stalls on it
    solve = KS.ssor_pcg_solve if omega >= KS.EISENSTAT_MIN_OMEGA else KP.ssor_pcg_plain_solve
    mode = flush_on(op, tol, omega)  # subnormal results flushed (solvers._fpmode)
    try:
        out = solve(sys_op.indptr, sys_op.indices, sys_op.data, *lower, *upper,
                    sys_op.diagonal, sys_op.inv_diagonal, omega, sys_x, sys_b, tol, maxiter,
                    dtol, op.workspace(KS.WORK_VECTORS))
    except SystemError as exc:  # Ctrl-C handled inside Numba's own helpers
        raise_interrupt(exc)
        raise
    finally:
        restore(mode)
    if order != "paper":
        x[:] = sys_x[::-1]
    res = _finish("ssor_pcg", op, b, x, omega, out, t0, b_norm, rtol, atol, maxiter, scale)
    if out[2] == K.DIVERGED:  # (a diagonal spanning beyond dtol²: maybe a transient)
        cause = _transient_growth(op, dtol, "ssor_pcg")
        if cause:
            res.info["cause"] = cause
    return res


def cg(A, b, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000, dtol=K.DIVERGENCE_FACTOR,
       backend="numba", options=None, diagnose=True):
    """Unpreconditioned conjugate gradients (the baseline learned SSOR-PCG must beat).

    Same stopping rule, result and errors as :func:`ssor_pcg`; ``omega`` is ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import cg, gallery
    >>> A = gallery.laplacian_2d(10)
    >>> res = cg(A, np.ones(100))
    >>> res.converged, res.iterations
    (True, 15)
    """
    _check_backend(backend)
    if backend == "petsc":  # checks every argument once the MPI ranks agree on them
        return _petsc_solve("cg", A, b, None, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter,
                              dtol=dtol, options=options)
    dtol = check_dtol(dtol)
    _no_options(options)
    _check_diagnose(diagnose)
    return _cg_public(A, b, x0, rtol, atol, maxiter, dtol, diagnose)


def _cg_public(A, b, x0, rtol, atol, maxiter, dtol, diagnose):
    """:func:`cg` on the Numba backend once its options are checked; ``diagnose`` as in
    :func:`_ssor_pcg_public`."""
    _load_failure_kernel()
    t0 = time.perf_counter()
    system = _setup(A, b, x0, rtol, atol, maxiter, "cg")
    system[0].require_symmetric("cg")
    res = _cg(t0, *system, None, dtol)
    return _inconsistent(res, system) if diagnose else res


def _cg(t0, op, b, x, tol, b_norm, scale, rtol, atol, maxiter, omega, dtol, zero=False):
    done = _zero_rhs("cg", op, b, x, None, t0, b_norm, rtol, atol, maxiter)
    if done is not None:
        return done
    _check_start("cg", op, b, x, b_norm, scale, zero)
    mode = flush_on(op, tol)  # subnormal results flushed (solvers._fpmode)
    try:
        out = K.cg_solve(op.indptr, op.indices, op.data, x, b, tol, maxiter, dtol,
                         op.workspace(K.CG_WORK_VECTORS))
    except SystemError as exc:  # Ctrl-C handled inside Numba's own helpers
        raise_interrupt(exc)
        raise
    finally:
        restore(mode)
    res = _finish("cg", op, b, x, None, out, t0, b_norm, rtol, atol, maxiter, scale)
    # (tol is the solved system's, and b too on a matrix scaled down by 2**k: b ·
    # 2**(scale − k), _system; else _finish has scaled it back: named in the caller's units)
    cause = ""
    if out[2] != K.CONVERGED:
        k = op._shift
        cause = _empty_rows_cause(op, b, tol, k - scale, (k - scale) if k else 0)
    if not cause and out[2] == K.DIVERGED:
        cause = _transient_growth(op, dtol)
    if cause:
        res.info["cause"] = cause
    return res


def _check_diagnose(diagnose) -> None:
    if not isinstance(diagnose, (bool, np.bool_)):
        raise TypeError(f"diagnose must be True or False, got {diagnose!r}")


def _no_options(options):
    if options:
        raise ValueError(f"options {sorted(options)} are PETSc options database entries; "
                         "they are only accepted with backend='petsc'")


#: Registry of solver names used by the Tuner and the CLI.
SOLVERS = {"sor": sor, "ssor_pcg": ssor_pcg, "cg": cg}

# the solvers' cores after validation, and the keywords each takes (in order, after x0 and the
# tolerances): see checked_entry
_CORES = {sor: (_sor, ("omega", "dtol")), ssor_pcg: (_ssor_pcg, ("omega", "dtol", "order")),
          cg: (_cg, ("omega", "dtol"))}


def checked_entry(fn, kwargs):
    """The already-validated entry of ``fn(A, b, x0=..., maxiter=..., **kwargs)`` for a caller
    that validates every solve's input itself (``bandit.Tuner``), or ``None``.

    Returns ``(core, args)`` for :func:`run_checked` when ``fn`` is :func:`sor`,
    :func:`ssor_pcg` or :func:`cg` on the Numba backend and ``kwargs`` holds only what the core
    takes (``rtol``, ``atol``, ``omega``, ``dtol``, ``order``; checked here, once) and
    ``diagnose=False`` if anything of the failure diagnosis; ``None`` for anything else
    (another backend, PETSc options, a preconditioner, ``diagnose=True``), which the public
    function must run.
    """
    spec = _CORES.get(fn)
    if spec is None:
        return None
    _load_failure_kernel()  # the caller's first solve may fail (and be timed)
    kw = dict(kwargs)
    if kw.pop("backend", "numba") != "numba" or kw.pop("options", None):
        return None
    if kw.pop("diagnose", False):  # (the core runs no diagnosis: the public function must)
        return None
    core, names = spec
    rtol, atol, _ = check_tolerances(kw.pop("rtol", 1e-8), kw.pop("atol", 0.0), 0)
    omega = kw.pop("omega", None)
    if fn is cg:
        if omega is not None:
            return None
    elif omega is None:
        return None
    else:
        omega = check_omega(omega)
    args = [rtol, atol, omega, check_dtol(kw.pop("dtol", K.DIVERGENCE_FACTOR))]
    if "order" in names:
        order = kw.pop("order", None)
        order = "paper" if order is None else order
        if order not in SSOR_ORDERS:
            raise ValueError(f"order must be one of {SSOR_ORDERS}, got {order!r}")
        args.append(order)
    return None if kw else (core, tuple(args))


def run_checked(entry, op, b, b_norm, x, maxiter, zero=False):
    """Solve with an entry of :func:`checked_entry`, without validating anything again.

    The caller guarantees what the public function would have checked: ``op`` a usable
    :class:`CSROperator` that passed the solver's ``require`` checks; ``b`` a finite,
    contiguous float64 vector of length ``n`` with 2-norm ``b_norm``; ``x`` a new finite
    float64 vector of length ``n`` (the start, overwritten and returned as the result's
    ``x``); ``maxiter`` an integer in ``[0, MAX_ITER]``.  The result is the one the public
    function returns for the same input (its ``seconds`` start here).  ``zero``: ``x`` is a
    new ``np.zeros(n)`` (no ``x0``), so the CG-type solvers' check of the start's size
    (a pass over ``x``) has nothing to find and is skipped (at ``n = 10⁴`` a few µs).
    """
    t0 = time.perf_counter()
    core, args = entry
    return core(t0, *_system(op, b, b_norm, x, args[0], args[1], maxiter), *args[2:], zero)


def pcg(A, b, pc="jacobi", *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
        dtol=K.DIVERGENCE_FACTOR, backend="numba", options=None, diagnose=True):
    """Preconditioned conjugate gradients for symmetric positive definite ``A``.

    Same stopping rule, iteration count (CG steps) and result as :func:`cg`: converged at the
    first iterate with ``‖b − A x_k‖ <= max(rtol·‖b‖, atol)`` on the true, unpreconditioned
    residual, also when warm-started and also when the preconditioner was built for an earlier
    matrix.

    Parameters
    ----------
    A : sparse matrix, ndarray or CSROperator
        Symmetric positive definite.
    b, x0, rtol, atol, maxiter, dtol
        As in :func:`cg`.
    pc : str, dict or Preconditioner, default "jacobi"
        ``"none"``, ``"jacobi"``, ``"ic0"``, ``"amg"``, a settings dict such as
        ``{"pc": "ssor", "omega": 1.4}`` (see :func:`solvers.preconditioner`), or a
        :class:`solvers.Preconditioner`.  A name or dict makes a new preconditioner for this
        call; pass an object (``preconditioner("amg", reuse=20)``) to keep its set-up across
        solves.
    backend : {"numba"}
        Only the Numba backend (PETSc's preconditioners: ``cg(..., backend="petsc",
        options={"pc_type": ...})``).
    diagnose : bool, default True
        On a failed solve, look for the cause of an inconsistent singular system, as
        :func:`cg` does (``info["cause"]``: ``"A x = b is inconsistent: ..."`` with the floor
        of ``‖b − A x‖``; two passes over ``A``, on the failure path only, and not for a run
        stopped at a ``maxiter`` below 50 iterations).  ``False`` skips it, for runs stopped
        early on purpose whose caller checks the system itself: a ``bandit.Tuner``'s
        configuration arms, whose guard caps their tries.

    Returns
    -------
    SolveResult
        ``solver="pcg"``; ``omega`` is SSOR's ω (else ``None``); ``seconds`` includes a set-up
        made by this call; ``reason="breakdown"`` if ``pᵀAp <= 0`` or ``rᵀz <= 0``.
        ``info`` holds ``pc`` (name), ``pc_label``, ``setup`` (built by this call),
        ``reused`` (applied a set-up built for an earlier matrix), ``pc_age`` (solves that
        reused that set-up, this one included), ``setup_seconds`` and ``setup_work`` charged
        to this solve (0 unless built here), ``iteration_work`` and ``work`` (the solve's total
        in matrix-pass equivalents, set-up included; see :func:`solvers.work_model`), plus
        ``ic0_shift``/``ic0_attempts`` or ``amg_levels``/``amg_operator_complexity``.

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import pcg, cg, gallery
    >>> A = gallery.laplacian_2d(30)
    >>> b = np.ones(900)
    >>> res = pcg(A, b, "ic0")
    >>> res.converged, res.iterations < cg(A, b).iterations, res.info["pc"]
    (True, True, 'ic0')
    """
    from .precond import preconditioner, work_model

    _check_backend(backend)
    if backend != "numba":
        raise ValueError("pcg runs on the Numba backend only; for PETSc preconditioners use "
                         "cg(A, b, backend='petsc', options={'pc_type': ...})")
    _no_options(options)
    _check_diagnose(diagnose)
    pc = preconditioner(pc)
    dtol = check_dtol(dtol)
    _load_failure_kernel()
    t0 = time.perf_counter()
    omega = getattr(pc, "omega", None)
    info = {"pc": pc.name, "pc_label": pc.label, "setup": False, "reused": False,
            "pc_age": 0, "setup_seconds": 0.0, "setup_work": 0.0}
    if not pc.has_setup:  # plain CG and SSOR-PCG are those solvers themselves
        op = _prepared(A, b, _CALLS["pcg"])
        pc.check(op)
        if pc.name == "ssor":
            res = _ssor_pcg_public(op, b, x0, rtol, atol, maxiter, check_omega(omega), dtol,
                                   "paper" if pc.order is None else pc.order, diagnose)
        else:
            res = _cg_public(op, b, x0, rtol, atol, maxiter, dtol, diagnose)
        model = work_model("pcg", op, pc)
        info.update(iteration_work=model.per_iteration,
                    work=model.total(res.iterations) if res.b_norm > 0 else 0.0)
        info.update(res.info)  # a failed solve's best_iteration
        res.solver, res.omega, res.seconds, res.info = "pcg", omega, time.perf_counter() - t0, info
        return res
    system = _setup(A, b, x0, rtol, atol, maxiter, "pcg")
    op, b, x, tol, b_norm, scale, rtol, atol, maxiter = system
    pc.check(op)
    done = _zero_rhs("pcg", op, b, x, omega, t0, b_norm, rtol, atol, maxiter)
    if done is not None:
        done.info = {**info, "work": 0.0}
        return done
    _check_start("pcg", op, b, x, b_norm, scale)
    r = np.empty(op.n)
    rnorm = K.residual(op.indptr, op.indices, op.data, x, b, r)
    if not rnorm < math.inf:  # before a set-up that could not help
        raise _out_of_range("pcg", rnorm, b_norm)
    if rnorm <= tol:  # already converged: no set-up needed
        info["work"] = (op.nnz + op.n) / op.nnz
        res = _finish("pcg", op, b, x, omega, (0, rnorm, K.CONVERGED, 0), t0, b_norm, rtol,
                      atol, maxiter, scale)
        res.info = info
        return res
    state = pc._ready(op)
    # a built-in preconditioner's solve is one compiled kernel: subnormal results flushed
    mode = flush_on(op, tol) if type(pc).__dict__.get("_compiled_solve") else None
    try:
        out = pc._solve(op, x, b, r, rnorm, tol, maxiter, dtol)
    except SystemError as exc:  # Ctrl-C handled inside Numba's own helpers
        raise_interrupt(exc)
        raise
    finally:
        restore(mode)
    if state == "reused" and out[2] != K.CONVERGED:
        pc._stale = True  # a stale set-up that failed is rebuilt by the next solve
    res = _finish("pcg", op, b, x, omega, out, t0, b_norm, rtol, atol, maxiter, scale)
    if out[2] == K.DIVERGED and "cause" not in res.info:
        cause = _transient_growth(op, dtol, "pcg")
        if cause:
            res.info["cause"] = cause
    built = state == "built"
    model = work_model("pcg", pc._op, pc)
    info.update(setup=built, reused=state == "reused", pc_age=pc.uses,
                setup_seconds=pc.setup_seconds if built else 0.0,
                setup_work=pc.setup_work if built else 0.0,
                iteration_work=model.per_iteration,
                work=model.total(res.iterations, setup=built), **pc._info())
    info.update(res.info)  # a failed solve's best_iteration
    res.info = info
    return _inconsistent(res, system) if diagnose else res
