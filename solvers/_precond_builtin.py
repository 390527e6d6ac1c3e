"""The built-in preconditioners of :mod:`solvers.precond` but AMG: ``none``
(:class:`NoPreconditioner`), ``jacobi`` (:class:`Jacobi`), ``ssor`` (:class:`SSOR`) and
``ic0`` (:class:`IC0`), with :func:`omega_text`, the ω of a label.

Each subclasses :class:`solvers.precond.Preconditioner` (set-up, reuse and the checks of an
application are the base class's) and runs its own native PCG kernel (``_kernels_pcg``).
All are imported from :mod:`solvers.precond` (and :mod:`solvers`), where they are documented;
AMG is in :mod:`solvers.amg`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import _kernels_pcg as KP
from ._checks import check_omega
from .precond import IC0BreakdownError, Preconditioner, _same_pattern


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
    _compiled_solve = True  # (its _solve is one kernel call: solvers._fpmode)

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
    _compiled_solve = True  # (its _solve is one kernel call: solvers._fpmode)
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
