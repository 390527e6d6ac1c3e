"""Preconditioners for conjugate gradients: set-up, application, reuse and work.

A :class:`Preconditioner` is built for a matrix (:meth:`~Preconditioner.setup`), applied as
``z = M⁻¹ r`` (:meth:`~Preconditioner.apply`), and may be kept for up to ``reuse`` later solves
with other matrices of the same sparsity pattern (:func:`solvers.pcg` decides when to rebuild).
A preconditioner built for an earlier matrix is still symmetric positive definite, so CG with it
still converges on the *new* matrix — only more slowly; the stopping test always uses the true
residual of the matrix being solved.

==========  =======================================================  =============================
name        ``M``                                                    set-up
==========  =======================================================  =============================
``none``    ``I`` (plain CG)                                         none
``jacobi``  ``D = diag(A)``                                          ``1/a_ii``
``ssor``    ``(D + ωU) D⁻¹ (D + ωL) / (ω(2 − ω))`` (Eisenstat form)  none (uses the current ``A``)
``ic0``     ``L Lᵀ``, ``L`` on the pattern of ``tril(A)`` (IC(0))    the incomplete factorisation
``amg``     one pyamg smoothed-aggregation cycle                     the multigrid hierarchy
==========  =======================================================  =============================

Work is counted in *matrix-pass equivalents*: multiply–adds divided by ``nnz(A)``, so one
product with ``A`` is 1.  Every multiply–add of a stored matrix entry counts 1, and every
vector operation (an update, a dot product, a diagonal scaling) counts 1 per entry.  See
:func:`work_model` and ``docs/preconditioners.md`` for the formulas.

Examples
--------
>>> import numpy as np
>>> from solvers import pcg, preconditioner, gallery
>>> A = gallery.laplacian_2d(30)
>>> b = np.ones(A.shape[0])
>>> [pcg(A, b, pc).iterations for pc in ("none", "ic0", "amg")]
[55, 28, 8]
>>> pc = preconditioner("ic0", reuse=2)      # keep a factor for two more solves
>>> [pcg(A * (1 + 0.01 * t), b, pc).info["reused"] for t in range(4)]
[False, True, True, False]
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _kernels as K
from . import _kernels_pcg as KP
from . import _kernels_ssor as KS
from ._checks import _check_dtype, check_omega
from ._operator import prepare

__all__ = ["Preconditioner", "NoPreconditioner", "Jacobi", "SSOR", "IC0", "AMG",
           "PRECONDITIONERS", "preconditioner", "WorkModel", "work_model", "SetupError",
           "IC0BreakdownError"]


class SetupError(ValueError):
    """A preconditioner cannot be set up for this matrix (its settings are valid, the matrix
    does not suit them: an AMG coarsest level too large for its dense solve, an IC(0) pivot
    that is not positive with ``breakdown="raise"``).

    The direct solver API raises it; a :class:`bandit.Tuner` records it as a failed attempt
    of that arm (reason ``"setup_failed"``) and falls back to another arm.

    Examples
    --------
    Catch it to handle every preconditioner's refusal at once (:class:`IC0BreakdownError`
    shows one):

    >>> import solvers
    >>> issubclass(solvers.IC0BreakdownError, solvers.SetupError)
    True
    >>> issubclass(solvers.SetupError, ValueError)
    True
    """


class IC0BreakdownError(SetupError):
    """IC(0) met a non-positive pivot and its settings do not allow a diagonal shift.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, solvers
    >>> A = sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]))   # symmetric, not SPD
    >>> try:
    ...     solvers.pcg(A, np.ones(2), pc=solvers.IC0(breakdown="raise"))
    ... except solvers.SetupError as exc:                          # an IC0BreakdownError
    ...     print(type(exc).__name__, str(exc)[:31])
    IC0BreakdownError IC(0) breaks down at row 1: non
    """


#: most later solves a set-up may serve (:attr:`Preconditioner.MAX_REUSE`): a set-up's share
#: of a solve's cost is ``1/(1 + reuse)`` of it, below a millionth there, so no cost can tell
#: a longer window apart (nor would most runs see one end); a slip such as
#: ``reuse=2**70`` is refused by name instead of being labelled, persisted and learned
MAX_REUSE = 10**6


def _check_reuse(reuse, where="reuse") -> int:
    """``reuse`` as an int in ``0..MAX_REUSE``, else ``ValueError`` starting with ``where``."""
    if isinstance(reuse, (bool, np.bool_)) or not isinstance(reuse, numbers.Integral) or reuse < 0:
        raise ValueError(f"{where} must be a non-negative integer (later solves that may keep a "
                         f"set-up), got {reuse!r}")
    if reuse > MAX_REUSE:
        raise ValueError(f"{where} must be at most {MAX_REUSE} (later solves that may keep a "
                         f"set-up: kept for more, its share of a solve's cost, 1/(1 + reuse) "
                         f"of it, is too small to matter), got {int(reuse)}")
    return int(reuse)


class Preconditioner:
    """Base class: a preconditioner ``M`` for CG on a symmetric positive definite ``A``.

    Parameters
    ----------
    reuse : int, default 0
        After a set-up for matrix ``A_s``, the next ``reuse`` solves with *other* matrices of
        the same sparsity pattern apply it unchanged; the solve after them sets up afresh
        (at most :attr:`MAX_REUSE` = 10⁶).  A
        solve with the operator it was built for, or with a matrix of the same pattern and
        equal values (the same matrix passed again), is neither a reuse nor a rebuild.  A
        changed pattern or size always sets up afresh, and so does the solve after a reused
        preconditioner failed to converge.

    Attributes
    ----------
    name : str
        Registry name (:data:`PRECONDITIONERS`).
    setup_seconds, setup_work : float
        Wall-clock seconds and work (matrix-pass equivalents) of the latest set-up.
    setups : int
        Number of set-ups so far.
    uses : int
        Solves that reused the latest set-up.

    Notes
    -----
    Subclasses implement ``_build(op)`` (returning the set-up work) and ``apply``, and may
    state ``apply_mults(op)``, the multiply–adds of one application (else the work of their
    solves is NaN).  :func:`solvers.pcg` runs them
    in a CG loop that calls :meth:`apply` once per iteration; the built-in ones run native
    kernels instead.

    Examples
    --------
    >>> import numpy as np, solvers
    >>> A = solvers.gallery.laplacian_2d(10)
    >>> pc = solvers.IC0()                        # or solvers.preconditioner("ic0")
    >>> isinstance(pc, solvers.Preconditioner)
    True
    >>> solvers.pcg(A, np.ones(100), pc=pc).iterations, solvers.cg(A, np.ones(100)).iterations
    (12, 15)
    >>> pc.setups
    1
    """

    name = "custom"
    #: most later solves a set-up may serve (``reuse``), the same for every preconditioner
    MAX_REUSE = MAX_REUSE
    #: whether there is anything to build and keep (``none`` and ``ssor`` use ``A`` directly)
    has_setup = True

    def __init__(self, *, reuse=0):
        self.reuse = _check_reuse(reuse)
        if reuse and not self.has_setup:
            raise ValueError(f"{self.name} has no set-up to keep: it always uses the current "
                             f"matrix, so reuse must be 0, got {reuse!r}")
        self._op = None  # the operator of the latest set-up
        self._version = 0  # its values_version at the set-up
        self._values = None  # a copy of its values (the operator's may change in place)
        self._holds_memo = (None, -1, False)  # (operator, values_version, _holds of them)
        self._stale = False
        self.uses = 0
        self.setups = 0
        self.setup_seconds = 0.0
        self.setup_work = 0.0

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> dict:
        """Settings other than ``reuse`` (defaults included), as keyword arguments."""
        return {}

    def params(self) -> dict:
        """All settings as a plain dict: ``preconditioner(pc.params())`` makes an equal,
        un-built preconditioner.

        Examples
        --------
        >>> preconditioner("amg", reuse=5, cycle="W").params()["cycle"]
        'W'
        """
        return {"pc": self.name, **self.settings(), "reuse": self.reuse}

    def _label_settings(self) -> str:
        defaults = type(self)().settings() if self.settings() else {}
        diff = [f"{k}={v}" for k, v in self.settings().items() if defaults.get(k) != v]
        return f"({', '.join(diff)})" if diff else ""

    @property
    def label(self) -> str:
        """Short readable description, e.g. ``"ic0"``, ``"ssor ω=1.40"``, ``"amg reuse=20"``."""
        return self.name + self._label_settings() + (f" reuse={self.reuse}" if self.reuse else "")

    def fresh(self) -> "Preconditioner":
        """An un-built preconditioner with the same settings."""
        return type(self)(**self.settings(), reuse=self.reuse)

    def __repr__(self):
        state = f"built for n={self._op.n}" if self._op is not None else "not built"
        return f"<{type(self).__name__} {self.label!r}, {state}, setups={self.setups}>"

    # -- set-up -----------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether a set-up exists."""
        return self._op is not None

    def check(self, op) -> None:
        """Raise ``ValueError`` if ``op`` cannot be used: not symmetric, or (except ``none``) a
        zero, missing or negative diagonal entry."""
        op.require_symmetric("pcg")
        op.require_diagonal(f"pcg with pc={self.name!r}", positive=True)

    def setup(self, A) -> "Preconditioner":
        """Build the preconditioner for ``A`` (validated); returns ``self``.

        Records :attr:`setup_seconds` and :attr:`setup_work` and resets the reuse count.
        """
        op = prepare(A)
        self.check(op)
        t0 = time.perf_counter()
        work = self._build(op)
        self.setup_seconds = time.perf_counter() - t0
        self.setup_work = float(work)
        self._op = op
        self._version = op.values_version
        # the values it is built for: a working copy refreshed in place may share the
        # caller's A.data (which the caller may change), any other operator keeps its own
        self._values = op.data.copy() if op._scratch else op.data
        self._holds_memo = (None, -1, False)
        self._stale = False
        self.uses = 0
        self.setups += 1
        return self

    def invalidate(self) -> None:
        """Make the next solve set up afresh (e.g. a caller that ages set-ups by its own clock,
        such as rounds of a sequence in which this preconditioner was not used every time)."""
        self._stale = True

    def _build(self, op) -> float:
        raise NotImplementedError(
            f"{type(self).__name__} must implement _build(op): set up for the CSROperator op "
            "and return the set-up's work (matrix-pass equivalents)")

    def _ready(self, op) -> str:
        """Make the preconditioner usable for ``op``: ``"current"`` (built for this operator,
        or for one with the same pattern and values), ``"reused"`` (built for an earlier
        matrix of the same pattern, within the reuse budget) or ``"built"`` (set up now)."""
        # an operator refreshed in place (prepare(..., overwrite=True)) is the same object
        # with other values: its values_version tells them apart
        version = op.values_version
        if self._op is op and self._version == version and not self._stale:
            return "current"
        if self._op is not None and not self._stale and _same_pattern(self._op, op):
            if self._holds(op):  # the same matrix again (prepared again, or refreshed in
                if self._op is op:  # place with equal values): neither a reuse nor a rebuild
                    self._version = version
                return "current"
            if self.uses < self.reuse:
                self.uses += 1
                self._version = version if self._op is op else self._version
                return "reused"
        self.setup(op)
        return "built"

    def _holds(self, op) -> bool:
        """Whether the latest set-up was built for a matrix with ``op``'s pattern and values
        (compared with a copy of the values taken at the set-up: an operator refreshed in
        place, like a Tuner's working copy, no longer holds them)."""
        if self._op is None:
            return False
        if self._op is op and self._version == op.values_version:
            return True
        memo_op, memo_version, memo = self._holds_memo
        if memo_op is op and memo_version == op.values_version:
            return memo
        ref, data = self._values, op.data
        # a sample first: a changed matrix usually differs in it, at 1/64 of a full pass
        same = (_same_pattern(self._op, op) and np.array_equal(ref[::64], data[::64])
                and np.array_equal(ref, data))
        self._holds_memo = (op, op.values_version, same)
        return same

    def _require_built(self, r, out=None):
        """``(r, out)`` for :meth:`apply`: ``r`` as a float64 vector of length ``n``, and
        ``out`` the caller's array (checked: the kernels write ``n`` float64 values into it
        with no bounds check) or a new vector."""
        if self._op is None:
            raise RuntimeError(f"{self.label}: call setup(A) before apply")
        n = self._op.n
        r = np.asarray(r)
        if r.dtype != np.float64:
            _check_dtype(r.dtype, "r")  # complex, boolean or not numbers: as the solvers
        r = np.ascontiguousarray(r, dtype=np.float64)
        if r.shape != (n,):
            raise ValueError(f"r has shape {r.shape}, expected ({n},)")
        if out is None:
            return r, np.empty(n)
        if not isinstance(out, np.ndarray):
            raise ValueError(f"out must be a float64 numpy array of shape ({n},), got a "
                             f"{type(out).__name__}")
        if out.dtype != np.float64 or out.shape != (n,):
            raise ValueError(f"out must be a float64 numpy array of shape ({n},), got "
                             f"{out.dtype} of shape {out.shape}")
        if not out.flags.writeable:
            raise ValueError("out is read-only")
        if np.may_share_memory(r, out):  # in place (out=r): the kernels read r after writing
            r = r.copy()
        return r, out

    # -- application ------------------------------------------------------------------------
    def apply(self, r, out=None) -> np.ndarray:
        """``z = M⁻¹ r`` (into ``out`` if given: a writable float64 vector, which may be ``r``
        itself or a column of a 2-D array)."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply(r, out=None)")

    def apply_mults(self, op) -> float:
        """Multiply–adds of one application (needs a set-up for ``amg``); NaN (unknown) for a
        subclass that does not state it."""
        return math.nan

    @property
    def apply_work(self) -> float:
        """Work of one application, in matrix-pass equivalents (``nnz(A)`` multiply–adds) of
        the matrix it was built for."""
        op = self._built_op()
        return self.apply_mults(op) / op.nnz

    @property
    def iteration_work(self) -> float:
        """Work of one PCG iteration: the product with ``A``, six vector operations and one
        application (see :func:`work_model`)."""
        op = self._built_op()
        return work_model("pcg", op, self).per_iteration

    def _built_op(self):
        if self._op is None:
            raise RuntimeError(f"{self.label}: not set up yet (its work depends on the matrix)")
        return self._op

    # -- solving (used by solvers.pcg) ------------------------------------------------------
    def _solve(self, op, x, b, r, rnorm, tol, maxiter, dtol):
        """PCG from ``x`` with ``r = b − A x``; returns ``(iterations, ‖r‖, status)``.

        This generic loop calls :meth:`apply` once per iteration and Numba for everything else;
        the built-in preconditioners override it with a single native kernel.
        """
        return _pcg_loop(op, self._apply_into, x, b, r, rnorm, tol, maxiter, dtol)

    def _apply_into(self, r, z):
        z[:] = self.apply(r)

    def _info(self) -> dict:
        """Preconditioner-specific entries of ``SolveResult.info``."""
        return {}


def _same_pattern(a, b) -> bool:
    if a.n != b.n or a.nnz != b.nnz:
        return False
    if a.indices is b.indices and a.indptr is b.indptr:  # with_values copies share them
        return True
    return bool(np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices))


def _pcg_loop(op, apply, x, b, r, rnorm, tol, maxiter, dtol):
    """PCG with a preconditioner applied from Python (``apply(r, z)``), the same steps,
    stopping rule, residual-gap guard, stagnation test and best iterate of a failed solve as
    the native kernels (``_kernels_pcg``); returns ``(iterations, ‖r‖, status, iteration of
    the returned x)``."""
    start = x.copy()
    it, rnorm, status, best_it, best = _pcg_run(op, apply, x, b, r, rnorm, tol, maxiter, dtol)
    kept = it
    if status != K.CONVERGED and best_it < it and best < rnorm < math.inf:
        last = np.empty_like(x)
        rlast = K.stash(op.indptr, op.indices, op.data, x, b, start, last)
        r0 = K.residual(op.indptr, op.indices, op.data, x, b, r)
        _pcg_run(op, apply, x, b, r, r0, tol, best_it, dtol)
        rnorm, kept = K.pick(op.indptr, op.indices, op.data, x, b, last, rlast, best_it, it)
    return it, rnorm, status, kept


def _pcg_run(op, apply, x, b, r, rnorm, tol, maxiter, dtol):
    """The iterations of :func:`_pcg_loop`; returns ``(iterations, ‖r‖, status, best
    iteration, its residual norm)``."""
    n = b.size
    limit = dtol * rnorm
    z = np.empty(n)
    q = np.empty(n)
    apply(r, z)
    rz = KP.dot(r, z)
    if not rz > 0.0:
        return 0, rnorm, K.BREAKDOWN, 0, rnorm
    p = z.copy()
    best, best_it = rnorm, 0
    ref, stalls, mark = math.inf, 0, 0
    it = 0
    while it < maxiter:
        pq = KP.spmv_dot(op.indptr, op.indices, op.data, p, q)
        if not pq > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        alpha = rz / pq
        rnorm = math.sqrt(KP.update(alpha, x, p, r, q))
        it += 1
        if rnorm <= tol or it - mark >= K.STAGNATION_WINDOW:
            rnorm = K.residual(op.indptr, op.indices, op.data, x, b, r)
            if rnorm <= tol:
                return it, rnorm, K.CONVERGED, it, rnorm
            ref, stalls = (rnorm, 0) if rnorm < K.PROGRESS * ref else (ref, stalls + 1)
            mark = it
        elif not rnorm <= limit:  # also NaN
            return it, rnorm, K.DIVERGED, best_it, best
        if rnorm < best:
            best, best_it = rnorm, it
        if ref == math.inf:
            mark = it
        elif stalls >= K.STALL_CHECKS or rnorm > K.GROWTH * ref:
            return it, rnorm, K.STAGNATED, best_it, best
        apply(r, z)
        rz_new = KP.dot(r, z)
        if not rz_new > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        KP.direction(p, z, rz_new / rz)
        rz = rz_new
    return it, rnorm, K.MAXITER, best_it, best


# -- the preconditioners ---------------------------------------------------------------------

class NoPreconditioner(Preconditioner):
    """``M = I``: :func:`solvers.pcg` runs plain CG (the same kernel and iterates as
    :func:`solvers.cg`).

    Examples
    --------
    >>> from solvers import gallery, cg, pcg
    >>> A, b = gallery.laplacian_2d(10), np.ones(100)
    >>> pcg(A, b, NoPreconditioner()).iterations == cg(A, b).iterations
    True
    """

    name = "none"
    has_setup = False

    def check(self, op):
        op.require_symmetric("pcg")

    def _build(self, op):
        return 0.0

    def apply(self, r, out=None):
        r, out = self._require_built(r, out)
        out[:] = r
        return out

    def apply_mults(self, op):
        return 0.0


class Jacobi(Preconditioner):
    """``M = D = diag(A)``: set-up stores ``1/a_ii`` (``n`` operations), an application is one
    scaling (``n``).

    Examples
    --------
    >>> from solvers import gallery
    >>> A = gallery.anisotropic_2d(6, 0.1) * np.repeat([1.0, 10.0], 18)[:, None]  # rows scaled
    >>> A = (A + A.T) / 2
    >>> pc = Jacobi().setup(A)
    >>> bool(np.allclose(pc.apply(A.diagonal()), 1.0))
    True
    """

    name = "jacobi"

    def _build(self, op):
        self._inv = op.inv_diagonal.copy()
        return op.n / op.nnz

    def apply(self, r, out=None):
        r, out = self._require_built(r, out)
        KP.jacobi_apply(self._inv, r, out)
        return out

    def apply_mults(self, op):
        return float(op.n)

    def _solve(self, op, x, b, r, rnorm, tol, maxiter, dtol):
        return KP.jacobi_pcg_solve(op.indptr, op.indices, op.data, self._inv, x, b, r, rnorm,
                                   tol, maxiter, dtol)


def omega_text(omega: float) -> str:
    """ω for a label: two decimals when they say all of it (to 12 significant digits), else
    up to 12 significant digits, so that distinct ω read differently.

    Examples
    --------
    >>> [omega_text(w) for w in (1.4, 1.95, 1 + 11 * 0.05, 1e-3, 1e-4, 1.405)]
    ['1.40', '1.95', '1.55', '0.001', '0.0001', '1.405']
    """
    short, full = f"{omega:.2f}", f"{omega:.12g}"
    return short if float(short) == float(full) else full


class SSOR(Preconditioner):
    """Symmetric SOR, ``M = (D + ωU) D⁻¹ (D + ωL) / (ω(2 − ω))`` (``order="paper"``; the
    ``"textbook"`` order swaps the triangles), 0 < ω < 2.

    :func:`solvers.pcg` runs :func:`solvers.ssor_pcg` (the Eisenstat form: one iteration is one
    pass over each triangle, the product with ``A`` included), so this preconditioner has no
    set-up to keep and always describes the current matrix (``reuse`` must be 0).
    :meth:`apply` is the plain two-triangular-solve application, for use outside that solver.

    Examples
    --------
    >>> from solvers import gallery, ssor_pcg, pcg
    >>> A, b = gallery.laplacian_2d(10), np.ones(100)
    >>> pcg(A, b, SSOR(1.5)).iterations == ssor_pcg(A, b, 1.5).iterations
    True
    """

    name = "ssor"
    has_setup = False

    def __init__(self, omega, order="paper", *, reuse=0):
        from ._api import SSOR_ORDERS

        super().__init__(reuse=reuse)
        self.omega = check_omega(omega)
        if order not in SSOR_ORDERS:
            raise ValueError(f"order must be one of {SSOR_ORDERS}, got {order!r}")
        self.order = order

    def settings(self):
        return {"omega": self.omega, "order": self.order}

    @property
    def label(self):
        order = "" if self.order == "paper" else f"({self.order})"
        return f"ssor ω={omega_text(self.omega)}{order}"

    def _build(self, op):
        return 0.0

    def apply(self, r, out=None):
        r, out = self._require_built(r, out)
        op = self._op
        lower, upper = op.split_triangles()
        KP.ssor_apply(*lower, *upper, op.diagonal, op.inv_diagonal, self.omega,
                      self.order == "paper", r, out)
        return out

    def apply_mults(self, op):
        # two triangular solves (each row: its off-diagonal entries and one scaling), the
        # scaling by D and by ω(2 − ω)
        return float(op.nnz - op.n) + 4.0 * op.n


class IC0(Preconditioner):
    """Zero fill-in incomplete Cholesky: ``M = L Lᵀ`` with ``L`` lower triangular on the
    sparsity pattern of ``tril(A)``, ``(L Lᵀ)_ij = a_ij`` wherever ``A`` stores ``(i, j)``.

    Parameters
    ----------
    shift : float, default 0.0
        Factorise ``A + shift·diag(A)`` from the start.
    breakdown : {"shift", "raise"}, default "shift"
        What a non-positive pivot does (possible for an SPD matrix that is not an M-matrix).
        ``"shift"`` (Manteuffel's shifted incomplete Cholesky) refactorises
        ``A + α·diag(A)`` with α = 10⁻³ and then doubling α until every pivot is positive (the
        shift in use is ``info["ic0_shift"]``; the work of every attempt is charged to the
        set-up); ``"raise"`` raises :class:`IC0BreakdownError` naming the row.
    reuse : int, default 0
        See :class:`Preconditioner`.

    Notes
    -----
    Row-oriented (up-looking) factorisation: ``l_ij = (a_ij − Σ_k l_ik l_jk)/l_jj`` over the
    columns ``k < j`` stored in both rows, ``l_ii = √(a_ii − Σ_j l_ij²)``.  For an M-matrix
    (the Laplacians, diffusion with positive coefficients) every pivot is positive
    (Meijerink and van der Vorst, 1977).  Where the pattern of ``A`` has no fill-in (a
    tridiagonal matrix) ``L`` is the exact Cholesky factor.  An application is a forward solve
    with ``L`` and a backward solve with ``Lᵀ``: ``2·nnz(tril(A))`` multiply–adds.

    Examples
    --------
    >>> from solvers import gallery
    >>> A = gallery.laplacian_1d(5)                  # tridiagonal: IC(0) is exact
    >>> pc = IC0().setup(A)
    >>> b = np.arange(5.0)
    >>> bool(np.allclose(A @ pc.apply(b), b)), pc.factor().shape
    (True, (5, 5))
    """

    name = "ic0"
    #: first diagonal shift tried after a breakdown, and the largest before giving up
    FIRST_SHIFT, MAX_SHIFT = 1e-3, 1e6

    def __init__(self, shift=0.0, breakdown="shift", *, reuse=0):
        super().__init__(reuse=reuse)
        if isinstance(shift, bool) or not isinstance(shift, numbers.Real) or not (
                0.0 <= shift < math.inf):
            raise ValueError(f"shift must be a finite number >= 0, got {shift!r}")
        if breakdown not in ("shift", "raise"):
            raise ValueError(f"breakdown must be 'shift' or 'raise', got {breakdown!r}")
        self.shift, self.breakdown = float(shift), breakdown
        self._pattern = None
        self.shift_used = math.nan
        self.attempts = 0

    def settings(self):
        return {"shift": self.shift, "breakdown": self.breakdown}

    def _pattern_for(self, op):
        """Pattern arrays of the split factor layout, computed once per sparsity pattern."""
        pat = self._pattern
        if pat is not None and _same_pattern(pat["op"], op):
            return pat
        n = op.n
        split = op.split_pattern()  # the far lower triangle and a_{i,i−1}, as SOR splits it
        lp, li, lk, lnear_k = split.lp, split.li, split.lk, split.lnear_k
        nl = li.size
        tp = np.empty(n + 1, op.indptr.dtype)
        ti = np.empty(nl, op.indices.dtype)
        tmap = np.empty(nl, np.int64)
        KP.transpose_pattern(lp, li, tp, ti, tmap)
        pat = {"op": op, "lp": lp, "li": li, "lk": lk, "lnear_k": lnear_k, "tp": tp, "ti": ti,
               "tmap": tmap, "mark": np.full(n, -1, np.int64),
               "nnz_lower": nl + int(np.count_nonzero(lnear_k >= 0))}
        self._pattern = pat
        return pat

    def _build(self, op):
        pat = self._pattern_for(op)
        n, nl = op.n, pat["li"].size
        lf, lnear_f, inv = np.empty(nl), np.empty(n), np.empty(n)
        shift, work, attempts = self.shift, 0, 0
        while True:
            attempts += 1
            row, w = KP.ic0_factor(op.data, op.diag_ptr, pat["lp"], pat["li"], pat["lk"],
                                   pat["lnear_k"], shift, lf, lnear_f, inv, pat["mark"])
            work += w
            if row < 0:
                break
            pat["mark"][:] = -1  # the failed row left its marks
            if self.breakdown == "raise":
                raise IC0BreakdownError(
                    f"IC(0) breaks down at row {row}: non-positive pivot with shift {shift:g} "
                    f"(A is not an M-matrix, or not SPD); use IC0(breakdown='shift') or a "
                    f"larger shift")
            shift = self.FIRST_SHIFT if shift == 0.0 else 2.0 * shift
            if shift > self.MAX_SHIFT:
                raise IC0BreakdownError(
                    f"IC(0) still breaks down at row {row} with the diagonal shifted by "
                    f"{self.MAX_SHIFT:g}·diag(A): A is not symmetric positive definite")
        ld, td = np.empty(nl), np.empty(nl)
        lnear, tnear = np.empty(n), np.empty(n)
        KP.ic0_scale(pat["lp"], lf, lnear_f, inv, pat["tmap"], pat["tp"], ld, lnear, td, tnear)
        self._solve_arrays = (pat["lp"], pat["li"], ld, lnear, pat["tp"], pat["ti"], td, tnear,
                              inv)
        self._unscaled = (lf, lnear_f, inv)
        self.shift_used, self.attempts = shift, attempts
        return (work + 2 * (pat["nnz_lower"] + n)) / op.nnz  # factorisation + scaling

    def factor(self):
        """``L`` as a scipy CSR array (lower triangular, diagonal included)."""
        import scipy.sparse as sp

        op = self._built_op()
        pat = self._pattern
        lf, lnear_f, inv = self._unscaled
        n = op.n
        rows = np.repeat(np.arange(n), np.diff(pat["lp"].astype(np.int64)))
        near = np.flatnonzero(pat["lnear_k"] >= 0)
        r = np.concatenate([rows, near, np.arange(n)])
        c = np.concatenate([pat["li"].astype(np.int64), near - 1, np.arange(n)])
        v = np.concatenate([lf, lnear_f[near], 1.0 / inv])
        return sp.csr_array(sp.coo_array((v, (r, c)), shape=(n, n)))

    def apply(self, r, out=None):
        r, out = self._require_built(r, out)
        KP.ic0_apply(*self._solve_arrays, r, out)
        return out

    def apply_mults(self, op):
        pat = self._pattern_for(op)
        return 2.0 * (pat["nnz_lower"] + op.n)

    def _solve(self, op, x, b, r, rnorm, tol, maxiter, dtol):
        return KP.ic0_pcg_solve(op.indptr, op.indices, op.data, *self._solve_arrays, x, b, r,
                                rnorm, tol, maxiter, dtol)

    def _info(self):
        return {"ic0_shift": self.shift_used, "ic0_attempts": self.attempts}


# AMG subclasses Preconditioner, so it is imported once the base class exists
from .amg import (AMG, AMG_CALIBRATION_SIDE, AMG_CYCLES, AMG_PRICE_FACTOR,  # noqa: E402
                  AMG_PROLONGATION, AMG_SMOOTHERS, AMG_STRENGTHS)


#: Registry of preconditioner names.
PRECONDITIONERS = {"none": NoPreconditioner, "jacobi": Jacobi, "ssor": SSOR, "ic0": IC0,
                   "amg": AMG}


def preconditioner(spec="jacobi", **settings) -> Preconditioner:
    """Make a preconditioner from a name, a settings dict or an existing one.

    Parameters
    ----------
    spec : str, dict or Preconditioner
        A :data:`PRECONDITIONERS` name; a dict ``{"pc": name, **settings}`` (what
        :meth:`Preconditioner.params` returns); or a :class:`Preconditioner`, returned as is
        (no ``settings`` allowed then).
    **settings
        Keyword arguments of the class, e.g. ``reuse=20``, ``omega=1.4``, ``cycle="W"``.

    Examples
    --------
    >>> preconditioner("ic0", reuse=20).label
    'ic0 reuse=20'
    >>> preconditioner({"pc": "ssor", "omega": 1.4}).label
    'ssor ω=1.40'
    >>> preconditioner("amg", strength="evolution", reuse=5).label
    'amg(strength=evolution) reuse=5'
    """
    if isinstance(spec, Preconditioner):
        if settings:
            raise ValueError("settings cannot be combined with a Preconditioner instance")
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        if "pc" not in spec:
            raise ValueError(f"a preconditioner dict needs a 'pc' name, got {spec!r}")
        name = spec.pop("pc")
        settings = {**spec, **settings}
    elif isinstance(spec, str):
        name = spec
    else:
        raise TypeError(f"pc must be a name in {sorted(PRECONDITIONERS)}, a dict or a "
                        f"Preconditioner, not {type(spec).__name__}")
    if name not in PRECONDITIONERS:
        raise ValueError(f"unknown preconditioner {name!r}; known: {sorted(PRECONDITIONERS)}")
    try:
        return PRECONDITIONERS[name](**settings)
    except TypeError as exc:  # an unknown keyword: say which names this one takes
        raise ValueError(f"bad settings for preconditioner {name!r}: {exc}") from None


# -- work model ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkModel:
    """Deterministic cost of one solve in matrix-pass equivalents (``nnz(A)`` multiply–adds).

    ``total(iterations) = setup + fixed + iterations · per_iteration``.  ``setup`` is the work
    of the latest set-up (charge it only to the solve that built it); ``fixed`` covers the
    initial residual, the first preconditioner application and the final true-residual check.

    Examples
    --------
    >>> import solvers
    >>> w = solvers.work_model("sor", solvers.gallery.laplacian_2d(10))
    >>> w.setup, round(w.per_iteration, 3)     # 460 entries: a sweep, and ‖r‖ for the test
    (0.0, 2.478)
    >>> w.total(10) == w.setup + w.fixed + 10 * w.per_iteration
    True
    """

    setup: float
    per_iteration: float
    fixed: float

    def total(self, iterations: int, *, setup: bool = True) -> float:
        """Work of a solve with ``iterations`` iterations (``setup=False``: a reused one)."""
        return (self.setup if setup else 0.0) + self.fixed + iterations * self.per_iteration


def work_model(method: str, A, pc=None) -> WorkModel:
    """Work of the solvers' iterations, counted from their kernels.

    With ``N = nnz(A)``, ``n`` unknowns, ``N_L``/``N_U`` the strictly lower/upper entries,
    in multiply–adds (divide by ``N`` for matrix-pass equivalents):

    ============  ======================================  ==================================
    method        per iteration                           fixed per solve
    ============  ======================================  ==================================
    ``cg``        ``N + 5n``                              ``2(N + n)``
    ``pcg``       ``N + 6n + apply`` (``jacobi``: ``n``;  ``2(N + n) + apply``
                  ``ic0``: ``2(N_L + n)``; ``amg``: the
                  cycle, see :class:`AMG`)
    ``ssor_pcg``  ``2N_U + N_L + 14n`` (Eisenstat form)   ``2N + 2N_U + N_L + 7n``
                  (ω < 1/2: ``N + N_L + N_U + 9n``,       (ω < 1/2: ``2N + N_L + N_U + 6n``)
                  the plain form)
    ``sor``       ``N + N_U + 5n`` (sweep and residual)   ``N + n``
    ============  ======================================  ==================================

    ``pcg`` with ``pc="none"`` is ``cg`` and with ``pc="ssor"`` is ``ssor_pcg``.  For a
    5-point stencil (``N ≈ 5n``) an iteration of cg, Jacobi-PCG, IC(0)-PCG and SSOR-PCG costs
    2.0, 2.4, 3.4 and 4.0.

    Parameters
    ----------
    method : {"cg", "pcg", "ssor_pcg", "sor"}
    A : matrix or CSROperator
    pc : Preconditioner, str or dict, optional
        For ``method="pcg"``: a preconditioner (set up for ``A`` here if it is not built yet;
        ``setup`` is the work of its latest set-up).  For ``method="ssor_pcg"``: its SSOR
        preconditioner, for the ω (``ssor_pcg`` runs the plain form below ω = 1/2, see
        :func:`solvers.ssor_pcg`); without it the Eisenstat form's figures.

    Examples
    --------
    >>> from solvers import gallery
    >>> A = gallery.laplacian_2d(100)
    >>> [round(work_model(m, A, pc).per_iteration, 2) for m, pc in (("cg", None), ("pcg", "ic0"))]
    [2.01, 3.41]
    """
    op = prepare(A)
    N, n = float(op.nnz), float(op.n)
    if method == "cg":
        return WorkModel(0.0, (N + 5 * n) / N, 2 * (N + n) / N)
    if method in ("ssor_pcg", "sor"):
        (lp, _, _, lnear), (up, _, _, unear) = op.split_triangles()
        NL = float(lp[-1]) + float(np.count_nonzero(lnear))
        NU = float(up[-1]) + float(np.count_nonzero(unear))
        if method == "sor":
            return WorkModel(0.0, (N + NU + 5 * n) / N, (N + n) / N)
        omega = None
        if pc is not None and method == "ssor_pcg":
            pc = preconditioner(pc)
            if pc.name != "ssor":
                raise ValueError(f"work_model('ssor_pcg', A, pc): pc must be an SSOR "
                                 f"preconditioner (its ω), got {pc.label!r}")
            omega = pc.omega
        if omega is not None and omega < KS.EISENSTAT_MIN_OMEGA:
            # ssor_pcg_plain_solve: product and pᵀAp, update and ‖r‖², the two solves with
            # their scalings, rᵀz and the direction; start and end: two residuals, one solve
            return WorkModel(0.0, (N + NL + NU + 9 * n) / N, (2 * N + NL + NU + 6 * n) / N)
        return WorkModel(0.0, (2 * NU + NL + 14 * n) / N, (2 * N + 2 * NU + NL + 7 * n) / N)
    if method != "pcg":
        raise ValueError(f"method must be 'cg', 'pcg', 'ssor_pcg' or 'sor', got {method!r}")
    pc = preconditioner("none" if pc is None else pc)
    if pc.name == "none":
        return work_model("cg", op)
    if pc.name == "ssor":
        return work_model("ssor_pcg", op, pc)
    if not pc.built:
        pc.setup(op)
    a = pc.apply_mults(op)
    return WorkModel(pc.setup_work, (N + 6 * n + a) / N, (2 * (N + n) + a) / N)
