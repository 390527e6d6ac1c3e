"""PETSc KSP configuration for the backend: options, the stopping test, converged reasons.

Split from :mod:`solvers.petsc` (operators, conversion, :func:`solvers.petsc.solve`).  Each
:class:`PetscSolver` owns one KSP with its own options prefix; ω changes through
``PCSORSetOmega`` called on the PC handle via ctypes, because petsc4py does not wrap it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import itertools
import math
import os
import re
import weakref
from typing import TYPE_CHECKING

import numpy as np

import petsc4py

# PETSc must leave the host process's signals to Python: its handlers (SIGPIPE, SIGSEGV, ...)
# had turned a write to a closed pipe -- `relaxtune ... | head`, which Python reports as
# BrokenPipeError -- into an MPI_Abort with exit status 59 (the first call of init wins)
petsc4py.init("-no_signal_handler")
from petsc4py import PETSc  # noqa: E402

from . import _kernels as K  # noqa: E402
from ._mpi_exchange import _HELD, exchange  # noqa: E402
from ._petsc_options import (DIAGONAL_SHIFT, check_cg_preconditioner,  # noqa: E402
                              check_shift_method, diagonal_shift, option_text, refuse_owned,
                              sub_options)

if TYPE_CHECKING:
    from .petsc import PetscOperator


KINDS = ("sor", "ssor_pcg", "cg")

#: The PETSc options each solver kind starts from (user ``options`` are applied on top).
KSP_SETUP = {
    "sor": {"ksp_type": "richardson", "pc_type": "sor", "pc_sor_local_forward": "true",
            "ksp_norm_type": "unpreconditioned"},
    "ssor_pcg": {"ksp_type": "cg", "pc_type": "sor", "pc_sor_local_symmetric": "true",
                 "ksp_norm_type": "unpreconditioned"},
    "cg": {"ksp_type": "cg", "pc_type": "none", "ksp_norm_type": "unpreconditioned"},
}

#: Iterations of one KSPSolve whose monitored norm is recorded (the array, of this length + 1
#: at most, is allocated once per solver, to the largest ``maxiter`` asked): a failed solve
#: looks for its best iterate among them
HISTORY_MAX = 1 << 20

_R = PETSc.KSP.ConvergedReason
#: ``KSPConvergedReason`` of "maximum iterations reached" (renamed DIVERGED_ITS ->
#: DIVERGED_MAX_IT in PETSc 3.24)
MAXIT_CODE = int(_R.DIVERGED_MAX_IT if hasattr(_R, "DIVERGED_MAX_IT") else _R.DIVERGED_ITS)
#: ``KSPConvergedReason`` of a solve that met the absolute tolerance (also: ``b = 0``, or a
#: zero-iteration solve that already met the tolerance)
CONVERGED_CODE = int(_R.CONVERGED_ATOL)
_REASON_NAMES = {}
for _name in sorted(n for n in dir(_R) if n.isupper()):
    code = getattr(_R, _name)
    if isinstance(code, int):  # prefer the specific name over the ITERATING alias
        if code not in _REASON_NAMES or _REASON_NAMES[code].startswith("CONVERGED_ITERATING"):
            _REASON_NAMES[code] = _name
#: Not a PETSc code: the reason relaxtune gives a KSP solve whose residual-gap continuations
#: stopped improving the true residual (``solvers._petsc.solve``; reason ``"stagnated"``).
STAGNATED_CODE = -1000
_REASON_NAMES[STAGNATED_CODE] = "RELAXTUNE_STAGNATED"
_BREAKDOWN = {getattr(_R, n) for n in ("DIVERGED_BREAKDOWN", "DIVERGED_BREAKDOWN_BICG",
                                       "DIVERGED_INDEFINITE_PC", "DIVERGED_INDEFINITE_MAT",
                                       "DIVERGED_PC_FAILED", "DIVERGED_PCSETUP_FAILED",
                                       "DIVERGED_NONSYMMETRIC")
              if hasattr(_R, n)}


def reason_name(code: int) -> str:
    """PETSc's name of a ``KSPConvergedReason`` code, e.g. ``2 -> "CONVERGED_RTOL"``.

    >>> reason_name(2)
    'CONVERGED_RTOL'
    """
    return _REASON_NAMES.get(int(code), f"KSP_REASON_{int(code)}")


def solver_reason(code: int) -> str:
    """The :data:`solvers.REASONS` key of a ``KSPConvergedReason`` code."""
    if code > 0:
        return "converged"
    if code == MAXIT_CODE:
        return "maxiter"
    if code == STAGNATED_CODE:
        return "stagnated"
    if code in _BREAKDOWN:
        return "breakdown"
    return "diverged"


# -- PCSORSetOmega / PCEisenstatSetOmega: not wrapped by petsc4py, called through ctypes ------
def _load_libpetsc():
    cfg = petsc4py.get_config()
    roots = [os.path.join(cfg.get("PETSC_DIR", ""), cfg.get("PETSC_ARCH", "") or "", "lib"),
             os.path.join(cfg.get("PETSC_DIR", ""), "lib")]
    for root in roots:
        for path in sorted(glob.glob(os.path.join(root, "libpetsc.so*"))) + sorted(
                glob.glob(os.path.join(root, "libpetsc*.dylib"))):
            try:
                lib = ctypes.CDLL(path)
                for fn in (lib.PCSORSetOmega, lib.PCEisenstatSetOmega):
                    fn.argtypes = [ctypes.c_void_p, ctypes.c_double]
                    fn.restype = ctypes.c_int
                return lib
            except (OSError, AttributeError):
                continue
    return None


_LIB = _load_libpetsc() if PETSc.RealType == np.float64 else None


def _release_read_locks(vec) -> None:
    """Pop the read locks a failed ``KSPSolve`` left on ``vec``.

    PETSc built with debugging locks the right-hand side read-only during a solve; an error
    inside returns before the unlock, and the Vec (possibly the user's) would refuse every
    later write.  ``VecLockGet``/``VecLockReadPop`` through ctypes (petsc4py does not wrap
    them); nothing to do on builds without them.
    """
    get, pop = (getattr(_LIB, name, None) for name in ("VecLockGet", "VecLockReadPop"))
    if get is None or pop is None:
        return
    cint = ctypes.c_int64 if np.dtype(PETSc.IntType).itemsize == 8 else ctypes.c_int32
    get.argtypes, get.restype = [ctypes.c_void_p, ctypes.POINTER(cint)], ctypes.c_int
    pop.argtypes, pop.restype = [ctypes.c_void_p], ctypes.c_int
    state = cint(0)
    for _ in range(64):  # one lock per nested solve; never loop forever
        if get(vec.handle, ctypes.byref(state)) or state.value <= 0 or pop(vec.handle):
            return


def _set_omega(pc, omega: float, prefix: str) -> None:
    """``PCSORSetOmega`` (or ``PCEisenstatSetOmega``) on ``pc``; no-op for other PC types."""
    pc_type = pc.getType()
    if pc_type not in ("sor", "eisenstat"):
        return
    if _LIB is not None:
        fn = _LIB.PCSORSetOmega if pc_type == "sor" else _LIB.PCEisenstatSetOmega
        err = fn(pc.handle, float(omega))
        if err:
            raise RuntimeError(f"PCSORSetOmega({omega}) failed with PETSc error {err}")
        return
    # fallback: through the options database (re-reads this PC's options only)
    PETSc.Options().setValue(f"{prefix}pc_{pc_type}_omega", repr(float(omega)))
    pc.setFromOptions()


# -- conversion and validation ------------------------------------------------------------


def options_key(options) -> tuple:
    """PETSc options as a sorted tuple of ``(name, value string)`` (checked): the key of a
    solver configuration."""
    if not options:
        return ()
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict of PETSc options, got {type(options).__name__}")
    return tuple(sorted((_clean_key(k), option_text(k, v)) for k, v in options.items()))


def _clean_key(key) -> str:
    if not isinstance(key, str) or not key.lstrip("-"):
        raise ValueError(f"PETSc option names must be non-empty strings, got {key!r}")
    return key.lstrip("-")


def options_for(kind: str, options=None) -> dict:
    """The option dict a :class:`PetscSolver` of ``kind`` applies (defaults, then ``options``).

    >>> options_for("cg", {"pc_type": "jacobi"})["pc_type"]
    'jacobi'
    """
    out = dict(KSP_SETUP[kind])
    out.update(dict(options_key(options)))
    return out


class _TestState:
    """Mutable per-solve state read by the Python convergence test (holds no PETSc objects)."""

    __slots__ = ("tol", "atol", "maxiter", "limit", "dtol", "best", "best_it", "ref", "mark",
                 "b_norm", "a_norm")

    def __init__(self):
        self.tol = self.atol = self.limit = 0.0
        self.dtol = K.DIVERGENCE_FACTOR
        self.maxiter = 0
        self.best, self.best_it, self.ref, self.mark = math.inf, 0, math.inf, 0
        self.b_norm = self.a_norm = 0.0


def _rounding_scale(ksp, state) -> float:
    """``‖|b| + |A| |x|‖`` of the KSP's current iterate, as the Numba kernels compute it
    (:func:`solvers._kernels.rounding_scale`): with a copy of the operator holding the
    magnitudes of its values, made at each call — once per window of sweeps without progress,
    and the operator's values may have been refreshed since the last.  The bound
    ``‖b‖ + ‖A‖ ‖x‖`` (``‖A‖ ≤ √(‖A‖₁ ‖A‖∞)``) stands in where PETSc cannot hand out the
    values (a Mat type without CSR access): on a badly scaled matrix it is orders of
    magnitude too high (``D A D``, ``D`` over eight decades: a solvable system called
    stagnated at its first window, its start the best iterate), so it is the fallback only."""
    x = ksp.getSolution()
    mat = ksp.getOperators()[0]
    try:
        absolute = mat.duplicate(copy=True)
    except PETSc.Error:
        absolute = None
    if absolute is not None:
        try:
            ai, aj, av = absolute.getValuesCSR()
            absolute.setValuesCSR(ai, aj, np.abs(av))
            absolute.assemble()
            ax, y = x.copy(), ksp.getRhs().copy()
            try:
                ax.abs()
                y.abs()
                absolute.multAdd(ax, y, y)  # |A| |x| + |b|
                return y.norm()
            finally:
                ax.destroy()
                y.destroy()
        except PETSc.Error:
            pass
        finally:
            absolute.destroy()
    if not state.a_norm:
        state.a_norm = math.sqrt(mat.norm(PETSc.NormType.NORM_1)
                                 * mat.norm(PETSc.NormType.NORM_INFINITY))
    return state.b_norm + state.a_norm * x.norm()


def _make_test(state):
    """The convergence test of Richardson + SOR: the solvers' stopping rule on the true
    residual, dtol, and SOR's stagnation test (``solvers._kernels``: no halving of the
    residual over ``SOR_WINDOW`` sweeps with the best residual within ``FLOOR_FACTOR`` of
    rounding level ``u ‖|b| + |A| |x|‖``, :func:`_rounding_scale`); records the best sweep
    for a failed solve's replay."""
    conv_rtol, conv_atol = _R.CONVERGED_RTOL, _R.CONVERGED_ATOL
    div_its, div_dtol, div_nan = MAXIT_CODE, _R.DIVERGED_DTOL, _R.DIVERGED_NANORINF
    iterating = _R.ITERATING
    floor = K.FLOOR_FACTOR * K.UNIT_ROUNDOFF
    held = _HELD

    def converged(ksp, its, rnorm):
        # ‖b − A x_its‖ <= max(rtol‖b‖, atol), the solvers' stopping rule; iteration count = its
        if held[0] is not None:  # a Ctrl-C held on this rank (several ranks): stop together
            _poison(ksp)
        if its == 0:
            state.limit = state.dtol * rnorm
            state.best, state.best_it, state.ref, state.mark = rnorm, 0, rnorm, 0
        if rnorm <= state.tol:
            return conv_atol if rnorm <= state.atol else conv_rtol
        if rnorm != rnorm:
            return div_nan
        if rnorm > state.limit:
            return div_dtol
        if rnorm < state.best:
            state.best, state.best_it = rnorm, its
        if rnorm < K.PROGRESS * state.ref:
            state.ref, state.mark = rnorm, its
        elif its - state.mark >= K.SOR_WINDOW:
            # the level is the current iterate's: the current residual lies on it too (a
            # slowly diverging run's iterate grows until its level passes the best residual)
            level = floor * _rounding_scale(ksp, state)
            if state.best <= level < math.inf and rnorm <= level:
                return STAGNATED_CODE
            state.mark = its
        if its >= state.maxiter:
            return div_its
        return iterating

    return converged


def _poison(ksp) -> None:
    """Stop a Richardson solve on every rank at the same sweep, from one rank: a NaN in this
    rank's rows of the iterate makes the next true-residual norm — a reduction over every
    rank — NaN on all of them, and every rank's test then returns ``DIVERGED_NANORINF`` at
    that sweep (a rank stopping alone would leave the others inside the next reduction).
    :func:`solvers.petsc.solve` then tells the ranks that a Ctrl-C stopped it."""
    a = ksp.getSolution().getArray()
    if a.size:
        a[0] = math.nan
    del a  # (the Vec's array restored: its state, and any norm cached, moves on)


_FRAME = re.compile(r"^\[\d+\]\s*(\S+\(\) at .*:\d+)?\s*")


def petsc_message(exc) -> str:
    """What a ``PETSc.Error`` says, on one line: PETSc's own messages without the call stack
    (``[0] KSPSetFromOptions() at .../itcl.c:626`` lines), then the error code.

    >>> petsc_message(PETSc.Error(86))
    'error code 86'
    """
    lines = str(exc).splitlines()
    said = [_FRAME.sub("", line) for line in lines[1:] if not _FRAME.fullmatch(line)]
    said = [line for line in said if line]
    code = lines[0] if lines else str(exc)
    return f"{'; '.join(said)} ({code})" if said else code


#: PETSC_ERR_MISSING_FACTOR: no factorisation package for this Mat type (e.g. ICC on MPIAIJ)
_ERR_MISSING_FACTOR = 92


class PetscSolver:
    """One KSP configured for one solver kind on one matrix, with its own options prefix.

    Parameters
    ----------
    op : PetscOperator
    kind : {"sor", "ssor_pcg", "cg"}
    options : dict, optional
        PETSc options (names without the leading ``-`` and without a prefix), applied under
        this solver's prefix on top of :data:`KSP_SETUP` ``[kind]``.  An option that PETSc
        never reads for this configuration (misspelt, or meant for another PC) is an error;
        so, for ``cg``, are options that do not make one fixed symmetric positive definite
        preconditioner (:func:`solvers._petsc_options.check_cg_preconditioner`).
    reverse : bool
        ``op`` is the reversed-numbering operator (``order="paper"``): vectors are reversed
        locally on the way in and out.

    Attributes
    ----------
    ksp : PETSc.KSP
    prefix : str
        The options prefix, e.g. ``"relaxtune3_"``.
    """

    _ids = itertools.count()

    def __init__(self, op: PetscOperator, kind: str, *, options=None, reverse=False):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.op = op
        self.kind = kind
        self.reverse = reverse
        self.prefix = f"relaxtune{next(self._ids)}_"
        user = dict(options_key(options))
        refuse_owned(kind, user)
        # IC(0) (or any PC) of A + s·diag(A): not a PETSc option, a preconditioning matrix
        self.shift = diagonal_shift(user)
        if kind != "cg":
            check_shift_method(kind, user)
        shifted = user.pop(DIAGONAL_SHIFT, None) is not None
        settings = dict(KSP_SETUP[kind])
        settings.update(user)
        self.options = settings
        self._pmat = None  # A + shift·diag(A), refilled when A's values change
        self._pmat_state = None
        db = PETSc.Options()
        self._names = [self.prefix + k for k in settings]
        for k, v in settings.items():
            db.setValue(self.prefix + k, v)
        weakref.finalize(self, _delete_options, list(self._names))
        ksp = PETSc.KSP().create(comm=op.comm)
        self.ksp = ksp
        ksp.setOptionsPrefix(self.prefix)
        ranks = op.comm.getSize()
        blocks = False  # the set-up of each rank's blocks reached (several ranks)
        err = None
        try:
            ksp.setOperators(op.mat, self._preconditioning_matrix())
            ksp.setFromOptions()
            if kind == "cg":
                # after PETSc has read the options (an unknown pc_type is PETSc's to name),
                # before the set-up (a GAMG hierarchy for a refused cycle)
                check_cg_preconditioner(user)
            ksp.setUp()
            if ranks > 1:
                # each rank's blocks (block Jacobi, ASM: a factorisation of the rank's own
                # block) are set up here rather than in the first KSPSolve: a block refused
                # on one rank (ICC of a block missing a diagonal entry) had stopped that
                # rank's KSPSolve alone, the others waiting inside theirs for ever
                blocks = True
                ksp.setUpOnBlocks()
        except ValueError as exc:
            err = exc
        except PETSc.Error as exc:
            if blocks:
                err = ValueError(
                    f"PETSc cannot set up {kind}'s preconditioner (KSP {ksp.getType()}, PC "
                    f"{ksp.getPC().getType()}) for this Mat on rank {op.comm.getRank()}: "
                    f"{petsc_message(exc)}")
            else:
                hint = ""
                if ranks > 1 and getattr(exc, "ierr", None) == _ERR_MISSING_FACTOR:
                    pc = settings.get("pc_type")
                    # every setting of the PC carried over to each block's (a
                    # pc_factor_shift_type of the arm's had been dropped, and PETSc's sub-ICC
                    # then shifts by default)
                    same = sub_options({k: v for k, v in user.items() if k.startswith("pc_")})
                    if shifted:
                        same[DIAGONAL_SHIFT] = self.shift
                    hint = (f"; PETSc has no {pc} factorisation of a Mat distributed over "
                            f"{ranks} ranks: use {same} (one factorisation of each rank's "
                            f"block)")
                err = ValueError(
                    f"PETSc rejected the options {user or settings} for {kind} "
                    f"(prefix -{self.prefix}): {petsc_message(exc)}{hint}")
        try:
            if ranks > 1:  # a refusal on one rank is raised on every rank, naming it
                exchange(op.comm.tompi4py(), None, err)
            elif err is not None:
                raise err from None
        except BaseException:
            self._destroy_pmat()
            ksp.destroy()
            raise
        if ksp.getPC().getType() == "eisenstat" and ranks > 1:
            # PCApply_Eisenstat needs MatMultDiagonalBlock, which the ranks' diagonal blocks
            # of an MPIAIJ Mat do not have: KSPSolve would fail (and leave a broken KSP)
            self._destroy_pmat()
            ksp.destroy()
            raise ValueError(
                f"pc_type eisenstat runs on one rank only (PETSc has no diagonal-block "
                f"product for a Mat distributed over {ranks} ranks); use pc_type sor "
                "(the symmetric sweep, ssor_pcg's default) instead")
        unused = sorted(k for k in user if not db.used(self.prefix + k))
        if unused:
            self._destroy_pmat()
            ksp.destroy()
            raise ValueError(
                f"unknown or unused PETSc option(s) {unused} for {kind} with "
                f"ksp_type={settings.get('ksp_type')}, pc_type={settings.get('pc_type')}: "
                "PETSc never read them (misspelt, or meant for another KSP/PC type)")
        self.ksp_type = ksp.getType()
        self.pc_type = ksp.getPC().getType()
        self._state = _TestState()
        # Richardson + PCSOR with PETSc's default test and no monitor skips the test and runs
        # max_it sweeps, so it gets our own test; KSPCG keeps the C default test, which with the
        # unpreconditioned norm is exactly ‖r‖ <= max(rtol‖b‖, atol) (also with x0 != 0).
        self.python_test = self.ksp_type == "richardson"
        if self.python_test:
            ksp.setConvergenceTest(_make_test(self._state))
        # the other KSPs record the norm they monitor at every iteration, in C (a Python
        # monitor would cost a callback per iteration): a failed solve finds its best
        # iterate there and replays to it (solvers._petsc_run._run_plain), as the Numba kernels do
        self._history = 0  # the length of the history array KSP holds (0: none yet)
        self._start = None  # a work Vec: the start of the last run, for a failed solve's replay
        self._b = op.mat.createVecRight() if reverse else None
        self._omega = None
        self.failed = False  # a KSPSolve raised: do not reuse this KSP

    def __repr__(self):
        return (f"PetscSolver(kind={self.kind!r}, ksp={self.ksp_type}, pc={self.pc_type}, "
                f"prefix={self.prefix!r}, reverse={self.reverse})")

    def _preconditioning_matrix(self):
        """The matrix the preconditioner is built from: ``A``, or with a diagonal shift ``s``
        a copy ``P = A + s·diag(A)`` made now and refilled by :meth:`run` whenever ``A``'s
        values change (so its set-up follows ``A``'s, as a PC built from ``A`` does: PETSc
        sets the PC up again when ``P``'s values change)."""
        if not self.shift:
            return self.op.mat
        mat = self.op.mat
        state = mat.stateGet()
        if self._pmat is not None and self._pmat_state == state:
            return self._pmat
        d = mat.getDiagonal()
        try:
            d.scale(self.shift)
            if self._pmat is None:
                self._pmat = mat.duplicate(copy=True)
            else:
                try:
                    mat.copy(self._pmat, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
                except PETSc.Error:  # a user's Mat that took new entries: a new P
                    self._destroy_pmat()
                    self._pmat = mat.duplicate(copy=True)
                    self.ksp.setOperators(mat, self._pmat)
            self._pmat.setDiagonal(d, addv=PETSc.InsertMode.ADD_VALUES)
        finally:
            d.destroy()
        self._pmat_state = state
        return self._pmat

    def _destroy_pmat(self) -> None:
        if self._pmat is not None:
            self._pmat.destroy()
            self._pmat = self._pmat_state = None

    def reversed_rhs(self, b):
        """``b`` (a Vec in the original numbering) copied, reversed, into this solver's work
        vector for the reversed-numbering operator (``reverse=True`` solvers only)."""
        self._b.array[:] = b.getArray(readonly=True)[::-1]
        return self._b

    def set_omega(self, omega) -> None:
        if omega is not None and omega != self._omega:
            _set_omega(self.ksp.getPC(), omega, self.prefix)
            self._omega = omega

    def run(self, b, x, omega, *, tol, rtol, atol, maxiter, nonzero_guess,
            dtol=K.DIVERGENCE_FACTOR):
        """KSPSolve in place on ``x`` (a Vec of this operator); returns ``(its, code)``."""
        ksp = self.ksp
        self.set_omega(omega)
        if self.shift:
            self._preconditioning_matrix()  # refilled if A's values changed since
        st = self._state
        st.tol, st.atol, st.maxiter, st.dtol = tol, atol, maxiter, dtol
        if self.python_test:
            st.b_norm = b.norm()
            st.a_norm = 0.0  # (the fallback bound's, computed when needed: values may change)
        # the Python convergence test applies dtol to the true residual; KSP needs a finite one
        ksp.setTolerances(rtol=rtol, atol=atol, divtol=min(dtol, 1e300), max_it=maxiter)
        ksp.setInitialGuessNonzero(nonzero_guess)
        if not self.python_test and self._history < min(maxiter, HISTORY_MAX) + 1:
            self._history = min(maxiter, HISTORY_MAX) + 1
            ksp.setConvergenceHistory(length=self._history, reset=True)
        try:
            ksp.solve(b, x)
        except PETSc.Error as exc:  # an operation this Mat type or setting does not support
            self.failed = True  # the KSP may be left in a broken state: the next call rebuilds
            _release_read_locks(b)
            cause = exc.__cause__
            if isinstance(cause, BaseException) and not isinstance(cause, PETSc.Error):
                # Python code PETSc called raised (a shell Mat's mult, a convergence test):
                # that exception, by its own class and words, not PETSc's "error code 101"
                raise cause from None
            raise ValueError(
                f"PETSc cannot run {self.kind} (KSP {self.ksp_type}, PC {self.pc_type}) on a "
                f"Mat of type {self.op.mat.getType()!r}: {petsc_message(exc)}") from None
        return ksp.getIterationNumber(), int(ksp.getConvergedReason())

    def keep_start(self, x):
        """A copy of ``x`` (the start of a solve, which a failed solve replays from) in this
        solver's work Vec: no Vec is made per solve."""
        if self._start is None:
            self._start = x.duplicate()
        x.copy(self._start)
        return self._start

    def history(self) -> np.ndarray:
        """The norms the last :meth:`run` monitored, one per iteration from its start (at most
        :data:`HISTORY_MAX` + 1 of them; none for Richardson + SOR, whose own test keeps its
        best sweep)."""
        return np.zeros(0) if self.python_test else self.ksp.getConvergenceHistory()

    def destroy(self) -> None:
        for v in (self._b, self._start):
            if v is not None:
                v.destroy()
        self._destroy_pmat()
        self.ksp.destroy()
        _delete_options(self._names)


def _delete_options(names):
    try:
        db = PETSc.Options()
        for name in names:
            if db.hasName(name):
                db.delValue(name)
    except Exception:  # interpreter shutdown: PETSc may already be finalised
        pass


# -- the cache of converted operators -----------------------------------------------------
