"""PETSc backend: the same three solvers and the same :class:`SolveResult` on PETSc KSP objects.

``solvers.sor/ssor_pcg/cg(..., backend="petsc")`` dispatch to :func:`solve`.  The KSP set-up
reproduces the solvers' conventions (stopping rule, iteration count) so iteration counts can be compared with
the Numba kernels:

=============  ==================================================  ==============================
solver         KSP / PC                                            parity with the Numba kernels
=============  ==================================================  ==============================
``sor``        KSPRICHARDSON + PCSOR local forward sweep           identical counts
``ssor_pcg``   KSPCG + PCSOR local symmetric sweep                 ±1 with the same ``order``
``cg``         KSPCG + PCNONE                                      identical counts
=============  ==================================================  ==============================

All three use the unpreconditioned residual norm and the stopping rule
``‖b − A x_k‖ <= max(rtol·‖b‖, atol)`` (with or without a warm start ``x0``).  KSPCG uses
PETSc's C default test, which with the unpreconditioned norm is exactly that rule; Richardson
gets a (Python) convergence test because with PETSc's default test and no monitor
Richardson + SOR takes a fast path that skips the test and always runs ``max_it`` sweeps.

PETSc's symmetric SOR sweep runs *forward first*: it is ``order="textbook"`` of the Numba
kernel.  ``order="paper"`` (backward first, the Numba default) is obtained exactly by solving
the system with each rank's rows numbered in reverse (the matrix is permuted once and cached).

Inputs: ``A`` may be a scipy sparse matrix / dense array / :class:`solvers.CSROperator`
(converted once with ``createAIJ(csr=...)``; the converted ``Mat`` is cached on a
``CSROperator``), a :class:`PetscOperator` from :func:`prepare`, or a user's assembled
``PETSc.Mat`` (used in place, never copied).  ``b`` and ``x0`` may be numpy arrays (global
length; each rank passes the whole vector) or ``PETSc.Vec`` with ``A``'s row layout.  If ``b``
or ``x0`` is a ``PETSc.Vec`` the result's ``x`` is a new ``PETSc.Vec``; otherwise it is a numpy
array of global length on every rank.

Each solver configuration (matrix, solver kind, order, options) owns one KSP with its own
options prefix; ω changes between solves through ``PCSORSetOmega`` without rebuilding the KSP.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict

import numpy as np

from ._checks import check_dtol, check_omega, check_tolerances, check_vector
from ._operator import LOG2_DOWN, CSROperator, prepare as _prepare_csr
from ._petsc_ksp import (CONVERGED_CODE, KINDS, KSP_SETUP,
                         PETSc, PetscSolver, options_for, options_key, petsc_message,
                         reason_name, solver_reason)  # PETSc initialised there
from ._petsc_causes import _INDEFINITE, _diagonal_spread, _empty_rows, _indefinite
# (each rank's input checks and the causes of a failure: solvers/_petsc_inputs.py and
# solvers/_petsc_causes.py; bandit imports _check_alive and _empty_rows from here)
from ._mpi_exchange import (_mark, exchange, fail, held_interrupts, interrupt_held,
                             rank_error)
from ._petsc_inputs import (_check_alive, _check_petsc_mat, _same_omega, check_vec,
                            rank_checks, same_on_every_rank)
from ._petsc_run import _run
from ._petsc_scale import _NORM_HI, _NORM_LO, _ldexp, _unscale
from ._result import SolveResult

__all__ = ["solve", "prepare", "PetscOperator", "PetscSolver", "KINDS", "KSP_SETUP",
           "reason_name", "to_petsc_mat", "options_for", "same_on_every_rank",
           "check_vec_on_every_rank"]

def _comm(comm):
    """``comm`` as a ``PETSc.Comm`` (default COMM_WORLD); an mpi4py communicator is wrapped."""
    if comm is None:
        return PETSc.COMM_WORLD
    if isinstance(comm, PETSc.Comm):
        return comm
    if type(comm).__module__.startswith("mpi4py"):
        return PETSc.Comm(comm)
    raise TypeError(f"comm must be a PETSc or mpi4py communicator (e.g. PETSc.COMM_WORLD), "
                    f"got {type(comm).__name__}")


def to_petsc_mat(A, comm=None) -> "PETSc.Mat":
    """Convert a (validated) matrix to an AIJ ``PETSc.Mat`` on ``comm`` (default COMM_WORLD).

    Every rank passes the whole matrix; each keeps its own block of rows (PETSc's default
    split).  On one rank this is ``createAIJ(size, csr=(indptr, indices, data))``.

    >>> from solvers import gallery
    >>> M = to_petsc_mat(gallery.laplacian_2d(3))
    >>> M.getSize(), M.getValue(0, 1)
    ((9, 9), -1.0)
    """
    op = A if isinstance(A, CSROperator) else _prepare_csr(A)
    comm = _comm(comm)
    n = op.n
    layout = PETSc.Vec().createMPI((PETSc.DECIDE, n), comm=comm)
    rstart, rend = layout.getOwnershipRange()
    layout.destroy()
    lo, hi = int(op.indptr[rstart]), int(op.indptr[rend])
    it = PETSc.IntType
    indptr = np.asarray(op.indptr[rstart:rend + 1] - lo, dtype=it)
    indices = np.asarray(op.indices[lo:hi], dtype=it)
    data = np.asarray(op.data[lo:hi], dtype=PETSc.ScalarType)
    mat = PETSc.Mat().createAIJ(((rend - rstart, n), (rend - rstart, n)),
                                csr=(indptr, indices, data), comm=comm)
    _no_inodes(mat)
    return mat


def _no_inodes(mat) -> None:
    """Switch an assembled Mat to the plain AIJ kernels (no i-nodes).

    MatSOR's i-node variant is only taken at omega == 1; keep the plain AIJ sweep throughout.
    The option alone, on an assembled Mat, drops the i-node tables but not every i-node
    kernel (PCEISENSTAT then reads the freed tables and crashes on any matrix with rows of
    identical pattern); assembling again installs the plain kernels.
    """
    mat.setOption(PETSc.Mat.Option.USE_INODES, False)
    mat.assemblyBegin()
    mat.assemblyEnd()


class PetscOperator:
    """A square ``PETSc.Mat`` prepared for repeated solves with many ω and settings.

    Holds the Mat (built from a scipy / dense / ``CSROperator`` matrix, or a user's own
    ``PETSc.Mat`` used in place), its row layout, and one :class:`PetscSolver` (a KSP with
    its own options prefix) per (solver kind, order, options) combination.

    Parameters
    ----------
    A : scipy sparse matrix, ndarray, CSROperator, PetscOperator or PETSc.Mat
    comm : PETSc.Comm or mpi4py communicator, optional
        Communicator for a converted matrix (default ``PETSc.COMM_WORLD``); a ``PETSc.Mat``
        keeps its own.

    Examples
    --------
    >>> import numpy as np
    >>> from solvers import gallery
    >>> op = prepare(gallery.laplacian_2d(10))
    >>> b = np.ones(100)
    >>> [solve("sor", op, b, w).iterations for w in (1.0, 1.56)]  # one Mat, one KSP
    [223, 41]
    >>> len(op.solvers)
    1
    """

    def __init__(self, A, *, comm=None):
        self._csr = None
        if isinstance(A, PETSc.Mat):
            self.mat = A
            self.owned = False
            _check_petsc_mat(A)
        else:
            self._csr = A if isinstance(A, CSROperator) else _prepare_csr(A)
            self.mat = to_petsc_mat(self._csr, comm)
            self.owned = True
        self.comm = self.mat.getComm()
        self.n = self.mat.getSize()[0]
        self.rstart, self.rend = self.mat.getOwnershipRange()
        self.nlocal = self.rend - self.rstart
        self.solvers = {}
        self._checked = {}
        self._reversed = None
        self._reversed_state = None
        self._reversed_pattern = None
        self._work = None
        self._scratch = False  # made by prepare(..., overwrite=True): may be refreshed in place
        self._local = None  # this rank's rows of the CSR pattern, for _refill
        self._down = None  # (the Mat's state, the copy scaled down or None): scaled_down

    #: The power of two a :meth:`scaled_down` copy's values were scaled down by (0: none).
    _shift = 0

    def __repr__(self):
        return (f"PetscOperator(n={self.n}, type={self.mat.getType()!r}, "
                f"ranks={self.comm.getSize()}, solvers={len(self.solvers)})")

    @property
    def size(self) -> int:
        return self.comm.getSize()

    def _refill(self) -> None:
        """Copy the values of ``self._csr`` (refreshed in place on the Mat's pattern) into the
        Mat: this rank's rows, ``MatSetValues`` row by row and assembly; the KSPs stay."""
        csr = self._csr
        if self._local is None:  # the pattern of this rank's rows, in PETSc's integer type
            lo, hi = int(csr.indptr[self.rstart]), int(csr.indptr[self.rend])
            it = PETSc.IntType
            self._local = (np.asarray(csr.indptr[self.rstart:self.rend + 1] - lo, dtype=it),
                           np.asarray(csr.indices[lo:hi], dtype=it), lo, hi)
        indptr, indices, lo, hi = self._local
        self.mat.setValuesCSR(indptr, indices,
                              np.asarray(csr.data[lo:hi], dtype=PETSc.ScalarType))
        self.mat.assemble()

    # -- a matrix near the double range: solved on a copy scaled down ------------------------
    def scaled_down(self) -> "PetscOperator":
        """This operator with its values times ``2**-k`` when its largest entry is beyond
        ``2**LOG2_DOWN`` (``k`` brings it into ``[2**(LOG2_DOWN − 1), 2**LOG2_DOWN)``, as
        :meth:`CSROperator.scaled_down` does), else ``self``.  Collective.

        The copy is a ``MatDuplicate`` of the Mat scaled by ``MatScale`` (exact: a power of
        two), with KSPs of its own; it is kept while the Mat's values are unchanged (its
        object state, compared on every rank: any rank's change makes every rank build it
        anew).  On entries near the double range KSPCG's products ``A p`` and ``pᵀAp``
        overflow (the 12 × 12 Laplacian times 3.9e307 stopped as "diverged" after 1
        iteration); on the copy the same system is solved at an ordinary scale, with the
        iterations of that system scaled by hand.  A diagonal entry that the copy would
        lose below the normal range is refused as on the Numba path."""
        state = self.mat.stateGet()
        down = self._down
        changed = down is None or down[0] != state
        if self.comm.getSize() > 1:  # every rank builds it or none (collective)
            changed = self.comm.tompi4py().allreduce(changed, op=_mpi_lor())
        if not changed:
            return self if down[1] is None else down[1]
        if down is not None and down[1] is not None:
            down[1].destroy()
        self._down = None
        k = self._down_shift()
        copy = None
        if k:
            mat = self.mat.duplicate(copy=True)
            mat.scale(2.0 ** -k)
            _no_inodes(mat)
            try:
                _check_lost_diagonal(self, mat, k)
            except ValueError:
                mat.destroy()
                raise
            copy = PetscOperator.__new__(PetscOperator)
            copy.__dict__.update(self.__dict__)
            copy.mat, copy.owned, copy.solvers, copy._work = mat, True, {}, None
            copy._reversed = copy._reversed_state = copy._reversed_pattern = None
            copy._csr, copy._local, copy._down, copy._scratch = None, None, None, False
            copy._checked = dict(self._checked)
            copy._shift = k
        self._down = (state, copy)
        return self if copy is None else copy

    def _down_shift(self) -> int:
        """``k`` of :meth:`scaled_down` (collective): ``max |a_ij|`` from the CSR operator
        this Mat was converted from, else from each rank's rows (``MatGetRowIJ``), else
        bounded by ``‖A‖∞`` (a Mat type without CSR access)."""
        if self._csr is not None:
            return self._csr.down_shift()
        try:
            av = self.mat.getValuesCSR()[2]
            amax = float(np.abs(av).max()) if av.size else 0.0
        except PETSc.Error:  # (a row sum bounds each entry; computed scaled if it overflows)
            amax = self.mat.norm(PETSc.NormType.INFINITY)
            if not math.isfinite(amax):
                tmp = self.mat.copy()
                tmp.scale(2.0 ** -64)
                amax = math.ldexp(tmp.norm(PETSc.NormType.INFINITY), 64)
                tmp.destroy()
        if self.comm.getSize() > 1:
            from mpi4py import MPI

            amax = self.comm.tompi4py().allreduce(amax, op=MPI.MAX)
        if not amax > 2.0 ** LOG2_DOWN:
            return 0
        return math.frexp(amax)[1] - LOG2_DOWN if math.isfinite(amax) else 1024 - LOG2_DOWN

    # -- checks: scipy input reuses CSROperator's (same messages as the Numba path) ---------
    def require(self, kind: str) -> None:
        """Raise ``ValueError`` if ``A`` cannot be used by ``kind`` (diagonal, symmetry)."""
        if self._csr is not None:
            self._csr.require(kind)
            return
        try:
            # (collective: a Ctrl-C on one rank is raised once every rank has checked)
            with held_interrupts(self.comm.getSize()):
                self._require_mat(kind)
        except PETSc.Error as exc:  # e.g. a shell Mat without a diagonal or a norm
            raise ValueError(
                f"A is a PETSc Mat of type {self.mat.getType()!r} without an operation {kind} "
                f"needs (its diagonal, or its norm for the symmetry check): "
                f"{petsc_message(exc)}") from None

    def _require_mat(self, kind: str) -> None:
        state = self.mat.stateGet()
        if kind in ("sor", "ssor_pcg") and self._checked.get(("diag", kind)) != state:
            d = self.mat.getDiagonal()
            dabs = d.copy()
            dabs.abs()
            row, val = dabs.min()
            if not val > 0.0:
                raise ValueError(
                    f"A has a zero or missing diagonal entry in row {row} (PETSc Mat); "
                    f"{kind} divides by a_ii")
            if kind == "ssor_pcg":
                row, val = d.min()
                if val < 0.0:
                    raise ValueError(
                        f"A has a negative diagonal entry a_ii = {val:g} in row {row}: A is not "
                        f"symmetric positive definite, as {kind} requires")
            d.destroy()
            dabs.destroy()
            self._checked[("diag", kind)] = state
        if kind in ("ssor_pcg", "cg") and "symmetric" not in self._checked:
            # once per Mat object: a simulation changes values, not the symmetry of its operator
            known = _symmetry_known(self.mat)
            if known is None:
                scale = self.mat.norm(PETSc.NormType.INFINITY)
                known = bool(self.mat.isSymmetric(1e-10 * scale))
            if not known:
                raise ValueError(
                    f"A is not symmetric (PETSc MatIsSymmetric fails at 1e-10 relative to "
                    f"‖A‖∞); {kind} needs a symmetric positive definite matrix — use sor for others")
            self._checked["symmetric"] = state

    def symmetry_lost(self, kind: str) -> str | None:
        """After a failed ``cg``/``ssor_pcg`` solve on a user's Mat whose values changed since
        its symmetry was checked: the message if it is no longer symmetric (else ``None``), and
        the check forgotten so that the next solve refuses it.  Collective.

        Symmetry is checked once per Mat (a simulation changes values, not the symmetry of its
        operator); a Mat whose values were changed into a non-symmetric matrix had run CG to
        ``maxiter`` on every solve (a Tuner: every arm), saying only ``"maxiter"``.  Checked
        again only here, on a failure, so a converging run pays nothing.
        """
        checked = self._checked.get("symmetric")
        if (kind not in ("ssor_pcg", "cg") or self._csr is not None or checked is None
                or checked == self.mat.stateGet() or _symmetry_known(self.mat) is not None):
            return None
        scale = self.mat.norm(PETSc.NormType.INFINITY)
        if self.mat.isSymmetric(1e-10 * scale):
            self._checked["symmetric"] = self.mat.stateGet()
            return None
        del self._checked["symmetric"]
        return (f"A is no longer symmetric: its values changed since it was checked (PETSc "
                f"MatIsSymmetric now fails at 1e-10 relative to ‖A‖∞), and {kind} did not "
                f"converge; {kind} needs a symmetric positive definite matrix — use sor for "
                f"others")

    # -- vectors -----------------------------------------------------------------------------
    def vector(self, v, name: str, *, zero_if_none=False, copy=True):
        """``v`` (numpy of global length, or a PETSc.Vec) as a Vec with A's layout.

        A new Vec unless ``copy=False`` and ``v`` already is a suitable PETSc.Vec (then ``v``).
        """
        if isinstance(v, PETSc.Vec):
            _check_alive(v, name)
            if v.getSize() != self.n:
                raise ValueError(f"{name} is a PETSc Vec of global size {v.getSize()}, expected "
                                 f"{self.n} to match A ({self.n}x{self.n})")
            if v.getLocalSize() != self.nlocal:
                raise ValueError(
                    f"{name} has local size {v.getLocalSize()} on rank {self.comm.getRank()}, "
                    f"but A owns {self.nlocal} rows there: create it with A.createVecs()")
            if not copy:
                return v
            out = self.mat.createVecRight()
            v.copy(out)
            return out
        if v is None and not zero_if_none:  # a b of None had been solved as b = 0: "converged"
            raise ValueError(f"{name} is None; the solvers take a vector of shape ({self.n},)")
        out = self.mat.createVecRight()
        if v is None:
            out.set(0.0)
            return out
        try:
            arr = check_vector(v, self.n, name)
        except ValueError:
            out.destroy()
            raise
        out.array[:] = arr[self.rstart:self.rend]
        return out

    def to_numpy(self, vec) -> np.ndarray:
        """The whole vector on every rank."""
        local = vec.getArray(readonly=True).copy()
        if self.size == 1:
            return local
        return np.concatenate(self.comm.tompi4py().allgather(local))

    def residual_norm(self, b, x) -> float:
        if self._work is None:
            self._work = self.mat.createVecLeft()
        r = self._work
        self.mat.mult(x, r)
        r.aypx(-1.0, b)
        return float(r.norm())

    # -- the reversed numbering used for order="paper" --------------------------------------
    def reversed(self) -> "PetscOperator":
        """``A`` with each rank's rows and columns numbered in reverse (cached).

        Built with ``MatPermute`` on first use and refreshed (values copied into the same
        permuted Mat, so its KSPs stay valid) whenever ``A``'s values have changed since; if
        its nonzero pattern has changed too (a user's Mat that took new entries), built anew
        with new KSPs (``MatCopy`` of the same pattern refuses another number of entries, and
        with as many entries in other places would copy the values into the old places).
        """
        state = self.mat.stateGet()
        if self._reversed is not None and self._reversed_state == state:
            return self._reversed
        idx = np.arange(self.rend - 1, self.rstart - 1, -1, dtype=PETSc.IntType)
        perm = PETSc.IS().createGeneral(idx, comm=self.comm)
        mat = self.mat.permute(perm, perm)
        perm.destroy()
        indptr, indices, _ = mat.getValuesCSR()
        pattern = (indptr.copy(), indices.copy())
        if self._reversed is not None:
            old = self._reversed_pattern
            changed = not (np.array_equal(old[0], pattern[0])
                           and np.array_equal(old[1], pattern[1]))
            if self.comm.getSize() > 1:  # every rank rebuilds or none (both are collective)
                changed = self.comm.tompi4py().allreduce(changed, op=_mpi_lor())
            if changed:
                for key in [k for k in self.solvers if k[1]]:
                    self.solvers.pop(key).destroy()
                self._reversed.destroy()
                self._reversed = None
        self._reversed_pattern = pattern
        if self._reversed is None:
            _no_inodes(mat)
            rev = PetscOperator.__new__(PetscOperator)
            rev.__dict__.update(self.__dict__)
            rev.mat, rev.owned, rev.solvers, rev._reversed, rev._work = mat, True, {}, None, None
            rev._down = None  # (the scaled copy is this operator's to keep and destroy)
            rev._checked = self._checked  # same matrix up to numbering
            self._reversed = rev
        else:
            mat.copy(self._reversed.mat, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
            mat.destroy()
        self._reversed_state = state
        return self._reversed

    def solver(self, kind: str, *, order: str = "textbook", options=None) -> "PetscSolver":
        """The cached :class:`PetscSolver` for this configuration (built on first use)."""
        if order not in ("textbook", "paper"):
            raise ValueError(f"order must be 'textbook' or 'paper', got {order!r}")
        reverse = kind == "ssor_pcg" and order == "paper"
        key = (kind, reverse, options_key(options))
        target = self.reversed() if reverse else self  # refreshes the permuted values
        s = self.solvers.get(key)
        if s is None or s.failed:
            if s is not None:
                s.destroy()
            s = PetscSolver(target, kind, options=options, reverse=reverse)
            self.solvers[key] = s
        return s

    def destroy(self) -> None:
        """Free the KSPs (and the Mat if this operator created it)."""
        for s in self.solvers.values():
            s.destroy()
        self.solvers.clear()
        if self._down is not None and self._down[1] is not None:
            self._down[1].destroy()
        self._down = None
        if self._reversed is not None:
            self._reversed.destroy()
            self._reversed = None
        if self._work is not None:
            self._work.destroy()
            self._work = None
        if self.owned:
            self.mat.destroy()


def _check_lost_diagonal(op, mat, k) -> None:
    """Refuse (collectively) a copy ``mat`` of ``op.mat`` scaled by ``2**-k`` in which a
    diagonal entry lost bits below the normal range (the message of the Numba path's
    :meth:`CSROperator.scaled_down`)."""
    d, dk = op.mat.getDiagonal(), mat.getDiagonal()
    try:
        orig, scaled = d.getArray(readonly=True), dk.getArray(readonly=True)
        with np.errstate(under="ignore"):
            lost = np.flatnonzero(np.ldexp(scaled, k) != orig)
        n = op.n
        first = op.rstart + int(lost[0]) if lost.size else n
        count = lost.size
        value = float(orig[lost[0]]) if lost.size else 0.0
        if op.comm.getSize() > 1:
            from mpi4py import MPI

            comm = op.comm.tompi4py()
            first, count = comm.allreduce(first, op=MPI.MIN), comm.allreduce(count, op=MPI.SUM)
            value = comm.allreduce(value if lost.size and op.rstart + int(lost[0]) == first
                                   else 0.0, op=MPI.SUM)
    finally:
        d.destroy()
        dk.destroy()
    if first < n:
        from ._operator import lost_diagonal_message

        amax = math.ldexp(1.0, k + LOG2_DOWN)
        raise ValueError(lost_diagonal_message(f"max |a_ij| <= {amax:.3e}", k, first, value,
                                               count))


def _symmetry_known(mat):
    """``True``/``False`` if the user told PETSc (MAT_SYMMETRIC set), else ``None``."""
    try:
        known, flag = mat.isSymmetricKnown()
        return bool(flag) if known else None
    except (AttributeError, PETSc.Error):
        return None


def _mpi_lor():
    from mpi4py import MPI

    return MPI.LOR


_MAT_CACHE: "OrderedDict[int, PetscOperator]" = OrderedDict()
_MAT_CACHE_SIZE = 8


def prepare(A, *, comm=None, like=None, overwrite=False) -> PetscOperator:
    """Convert / wrap ``A`` once for repeated PETSc solves (see :class:`PetscOperator`);
    ``solvers.prepare(A, backend="petsc", ...)`` calls this.

    A ``CSROperator`` keeps its PETSc operator (per communicator); a ``PETSc.Mat`` is looked up
    in a small cache so that solving with the same Mat again reuses its KSPs.  A bare scipy
    matrix is converted anew, unless ``like`` is the operator of an earlier call: then the
    checks reuse its pattern work (``solvers.prepare``'s ``like``), and with
    ``overwrite=True`` an operator made by such a call is refreshed in place — its Mat
    receives the new values (same nonzero pattern, ``MatSetValues``), so its KSPs are kept.
    An operator converted from a user's ``CSROperator`` or wrapping a user's ``PETSc.Mat``
    is never overwritten.

    On several ranks every rank must pass the same whole matrix (each keeps its own rows of
    it): ranks that pass different matrices get a ``ValueError`` on every rank, before any
    collective operation (see :func:`same_on_every_rank`).
    """
    if isinstance(A, (PetscOperator, PETSc.Mat)):
        return _prepare(A, comm=comm, like=like, overwrite=overwrite)
    world = _comm(comm)
    # (a Ctrl-C on one rank between the comparison and the conversion's collective calls is
    # raised at the end, once every rank has converted: held_interrupts)
    with held_interrupts(world.getSize()):
        same_on_every_rank(world, A=A, overwrite=overwrite, like=like is not None)
        return _prepare(A, comm=comm, like=like, overwrite=overwrite)


def _prepare(A, *, comm=None, like=None, overwrite=False) -> PetscOperator:
    """:func:`prepare` without the cross-rank comparison (the caller made it)."""
    if isinstance(A, PetscOperator):
        return A
    if isinstance(A, PETSc.Mat):
        _check_alive(A, "A")
        key = A.handle
        op = _MAT_CACHE.get(key)
        if op is not None and op.mat is A:
            _MAT_CACHE.move_to_end(key)
            return op
        op = PetscOperator(A)
        _MAT_CACHE[key] = op  # holds a reference, so the handle cannot be reused meanwhile
        while len(_MAT_CACHE) > _MAT_CACHE_SIZE:
            _MAT_CACHE.popitem(last=False)[1].destroy()
        return op
    if isinstance(A, CSROperator):
        comm = _comm(comm)
        cache = A.derived()  # emptied whenever A's values change
        key = ("petsc", comm.tompi4py().py2f() if comm.getSize() > 1 else "self")
        op = cache.get(key)
        if op is None:
            op = cache[key] = PetscOperator(A, comm=comm)
        return op
    if like is not None:
        if not isinstance(like, PetscOperator):
            raise ValueError(f"like must be a PetscOperator from an earlier prepare (backend "
                             f"'petsc'), got {type(like).__name__}")
        if like._csr is not None and like.comm.getSize() == _comm(comm).getSize():
            if overwrite and like._scratch:
                csr = _prepare_csr(A, like=like._csr, overwrite=True)
                if csr is like._csr:  # the same pattern, refreshed in place
                    like._refill()
                    return like
            else:
                csr = like._csr.with_values(A)
            op = PetscOperator(csr, comm=comm)
            op._scratch = bool(overwrite)
            return op
    if overwrite:
        op = PetscOperator(_prepare_csr(A, overwrite=True), comm=comm)
        op._scratch = True
        return op
    return PetscOperator(A, comm=comm)


def check_vec_on_every_rank(op, v, name) -> None:
    """Refuse a ``PETSc.Vec`` ``v`` (``b`` or ``x0`` of a solve with ``op``) whose layout is
    not ``op``'s or that holds NaN or Inf (:func:`solvers._petsc_inputs.check_vec`), on every
    rank of ``op`` when any rank refuses its share: the rank that refused raises its own
    ``ValueError``, the others one naming it (``rank 1: b has local size ...``), in one
    exchange (:func:`solvers._mpi_exchange.exchange`) — where a check of the layout on each
    rank followed by a collective norm had left the others waiting in the norm.  A
    :class:`bandit.Tuner` checks its ``b`` and ``x0`` with it before the policy draws.

    Examples
    --------
    >>> from solvers import gallery
    >>> op = prepare(gallery.laplacian_2d(3))
    >>> check_vec_on_every_rank(op, op.mat.createVecLeft(), "b")  # zeros: a fine b
    """
    ranks = op.comm.getSize()
    try:
        check_vec(v, name, op.n, op.nlocal, op.comm.getRank() if ranks > 1 else None)
        err = None
    except Exception as exc:  # noqa: BLE001 - raised on every rank, naming this one
        err = exc
    if ranks > 1:
        exchange(op.comm.tompi4py(), None, err)
    elif err is not None:
        raise err


def clear_cache() -> None:
    """Destroy the cached operators of user ``PETSc.Mat`` objects."""
    while _MAT_CACHE:
        _MAT_CACHE.popitem()[1].destroy()


def solve(kind, A, b, omega, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000, dtol=1e12,
          order="textbook", options=None, comm=None) -> SolveResult:
    """Solve ``A x = b`` with the PETSc KSP configuration of ``kind`` (see module docstring).

    Parameters
    ----------
    kind : {"sor", "ssor_pcg", "cg"}
    A : scipy sparse matrix, ndarray, CSROperator, PetscOperator or PETSc.Mat
    b : array_like or PETSc.Vec
    omega : float or None
        Set with ``PCSORSetOmega`` before the solve (``None`` for ``cg``).
    x0 : array_like or PETSc.Vec, optional
        Never modified.
    rtol, atol, maxiter
        ``‖b − A x‖ <= max(rtol·‖b‖, atol)``, at most ``maxiter`` iterations.
    dtol : float
        Diverged once ``‖r_k‖ > dtol·‖r_0‖`` (KSP's ``divtol``, applied to the true residual).
    order : {"textbook", "paper"}
        ``ssor_pcg`` only.  PETSc's own symmetric sweep is ``"textbook"``; ``"paper"`` runs it on
        the locally reversed numbering.
    options : dict, optional
        PETSc options for this solve's KSP/PC (e.g. ``{"pc_type": "jacobi"}``).
    comm : PETSc.Comm or mpi4py communicator, optional
        Communicator for a converted scipy matrix (default ``PETSc.COMM_WORLD``).

    Returns
    -------
    SolveResult
        ``backend="petsc"``; ``x`` is a ``PETSc.Vec`` if ``b`` or ``x0`` was one;
        ``info["petsc_reason"]`` is PETSc's converged-reason name, ``info["ksp_type"]``,
        ``info["pc_type"]`` and ``info["prefix"]`` describe the KSP.  A failed solve returns
        its best iterate, by the norm KSP monitored at each iteration, and its index in
        ``info["best_iteration"]`` (as the Numba solvers).
    """
    t0 = time.perf_counter()
    # first, before anything can be refused on one rank alone: every rank passed the same
    # input, so every check below has the same verdict on every rank (no rank left waiting)
    if isinstance(A, PETSc.Mat):
        world = A.getComm() if A else None  # (a destroyed Mat has no communicator)
    else:
        world = A.comm if isinstance(A, PetscOperator) else _comm(comm)
    if world is None or world.getSize() == PETSc.COMM_WORLD.getSize():
        # a Mat over every rank is compared on COMM_WORLD itself, which every rank can name
        # even when it has destroyed its copy of A (whose communicator it can no longer read)
        world = PETSc.COMM_WORLD
    ranks = world.getSize()
    if ranks == 1:
        return _solve(kind, A, b, omega, x0, rtol, atol, maxiter, dtol, order, options, comm,
                      t0)
    # several ranks: a Ctrl-C reaching one rank is raised once every collective call of the
    # solve is made (held_interrupts), and each rank's share of a distributed input is
    # checked before the first exchange, which carries the verdict to every rank
    told = False
    try:
        with held_interrupts(ranks):
            try:
                rank_checks(A, b, x0, world)
                err = None
            except Exception as exc:  # noqa: BLE001 - raised on every rank, naming this one
                err = exc
            same_on_every_rank(world, err, kind=kind, A=A, b=b, omega=omega, x0=x0,
                               rtol=rtol, atol=atol, maxiter=maxiter, dtol=dtol, order=order,
                               options=options)
            try:
                res = _solve(kind, A, b, omega, x0, rtol, atol, maxiter, dtol, order,
                             options, comm, t0)
            except BaseException as exc:
                # raised inside the solve's collective calls (a shell Mat's mult raising on
                # this rank, memory exhausted): told to the other ranks at their next
                # exchange — or, if they are left inside a collective call this rank left,
                # the job is ended with MPI_Abort after GRACE_SECONDS (_mpi_exchange.fail);
                # the same failure on every rank (a refusal every rank reaches) meets itself
                # there and is raised everywhere
                fail(world.tompi4py(), exc)
                raise
            if res.info["petsc_reason"] == "DIVERGED_NANORINF":
                # (every rank here: the reason is global) a Ctrl-C held on some rank may have
                # stopped a Richardson solve's sweeps (_petsc_ksp._poison): if so, raised on
                # every rank — that rank's own at the block's end, the others' here
                every = exchange(world.tompi4py(), interrupt_held())
                if any(every):
                    told = True
                    if not interrupt_held():
                        raise rank_error("builtins", "KeyboardInterrupt", "",
                                         prefix=f"rank {every.index(True)}")
            return res
    except KeyboardInterrupt as exc:
        if told:  # every rank raises it here: not to be told again (a Tuner's fail)
            _mark(exc)
        raise


def _solve(kind, A, b, omega, x0, rtol, atol, maxiter, dtol, order, options, comm,
           t0) -> SolveResult:
    """:func:`solve` once the ranks' inputs are compared (on one rank: nothing to compare)."""
    for name, v in (("A", A), ("b", b), ("x0", x0)):
        _check_alive(v, name)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind != "cg":
        omega = check_omega(omega)
        _same_omega(omega, options)
    if order not in ("paper", "textbook"):
        raise ValueError(f"order must be one of ('paper', 'textbook'), got {order!r}")
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter, _MAX_IT)
    dtol = check_dtol(dtol)
    op = _prepare(A, comm=comm)
    op.require(kind)
    down = op.scaled_down()  # (entries near the double range: a copy scaled down by 2**k)
    k = down._shift
    solver = down.solver(kind, order=order, options=options)
    want_vec = isinstance(b, PETSc.Vec) or isinstance(x0, PETSc.Vec)
    bv = op.vector(b, "b", copy=False)  # KSPSolve does not modify b: a user's Vec is used as is
    try:
        x = op.vector(x0, "x0", zero_if_none=True)
    except ValueError:
        if bv is not b:
            bv.destroy()
        raise
    bs = bv  # the right-hand side solved with: bv, or a copy scaled by 2**scale
    lost = None
    try:
        if x0 is not None and not np.isfinite(x.norm(PETSc.NormType.INFINITY)):
            raise ValueError("x0 contains NaN or Inf")
        b_norm = float(bv.norm())
        # the system solved: (A / 2^k) (2^scale x) = 2^unit b, unit = scale − k (A scaled
        # down near the double range, b far from norm 1: see solvers._api._system)
        scale, unit = 0, -k
        if not _NORM_LO <= math.ldexp(b_norm, -k) <= _NORM_HI:
            # overflowed, underflowed or far from 1: solve A (2^s x) = 2^s b, exactly the
            # same iterations (see solvers._api._scaled); b scaled once, from its own size
            amax = float(bv.norm(PETSc.NormType.INFINITY))
            if not np.isfinite(amax):
                raise ValueError("b contains NaN or Inf")
            b_norm = 0.0
            if amax > 0.0:
                unit = -math.frexp(amax)[1]
                scale = unit + k
                bs = bv.duplicate()
                _ldexp(bs, unit, bv)
                _ldexp(x, scale)
                if not np.isfinite(x.norm(PETSc.NormType.INFINITY)):
                    raise ValueError(
                        "x0 is out of proportion with b: solving at a safe scale would "
                        "overflow x0; pass a smaller x0 or none")
                try:
                    b_norm = math.ldexp(float(bs.norm()), -unit)
                except OverflowError:  # ‖b‖ itself beyond the double range
                    from ._checks import norm_overflow

                    raise norm_overflow("b", amax, bs.getSize()) from None
        elif k:
            bs = bv.duplicate()
            _ldexp(bs, unit, bv)
        tol_s = max(rtol * math.ldexp(b_norm, unit), math.ldexp(atol, unit))
        info = {"ksp_type": solver.ksp_type, "pc_type": solver.pc_type,
                "prefix": solver.prefix, "ranks": op.size,
                "order": order if kind == "ssor_pcg" else None}
        if b_norm == 0.0:  # b = 0 returns x = 0 with 0 iterations, as every solver does
            x.set(0.0)
            its, code, rnorm, kept = 0, CONVERGED_CODE, 0.0, 0
        else:
            its, code, rnorm, kept = _run(down, solver, bs, x, omega, tol=tol_s, rtol=rtol,
                                    atol=math.ldexp(atol, unit), maxiter=maxiter, dtol=dtol,
                                    nonzero_guess=x0 is not None)
        reason = solver_reason(code)
        converged = reason == "converged" and rnorm <= tol_s
        if reason == "converged" and not converged:
            reason = "maxiter" if its >= maxiter else "diverged"
        if scale:  # (in the caller's units: the residual of op, bv and x unscaled)
            rnorm = _unscale(op, bv, x, converged, rnorm, scale, b_norm, rtol, atol, k)
        elif k:
            rnorm = math.ldexp(rnorm, k)
        info["petsc_reason"] = reason_name(code)
        if not converged:  # a failed solve returns its best iterate: which one (as Numba)
            info["best_iteration"] = int(kept)
            lost = op.symmetry_lost(kind)  # collective: every rank has this reason
        cause = ""
        if not converged and kind == "cg":  # collective: every rank has this reason
            cause = _empty_rows(op.mat, bv, max(rtol * b_norm, atol))
        if not cause and reason == "diverged" and kind == "cg" and solver.pc_type == "none":
            cause = _diagonal_spread(op.mat, dtol)  # collective: every rank has this reason
        if not cause and info["petsc_reason"] in _INDEFINITE:
            # collective: every rank has this reason
            cause = _indefinite(op.mat, kind, int(its), info["petsc_reason"])
        if cause:
            info["cause"] = cause
        out = x if want_vec else op.to_numpy(x)
    finally:
        if bs is not bv:
            bs.destroy()
        if bv is not b:
            bv.destroy()
        if not want_vec or lost:
            x.destroy()
    if lost:
        raise ValueError(lost)
    return SolveResult(x=out, iterations=int(its), converged=bool(converged),
                       residual_norm=rnorm, omega=omega, solver=kind, reason=reason,
                       seconds=time.perf_counter() - t0, backend="petsc", b_norm=b_norm,
                       rtol=rtol, atol=atol, maxiter=maxiter, info=info)


# KSP's iteration cap is a PetscInt
_MAX_IT = int(np.iinfo(PETSc.IntType).max)
