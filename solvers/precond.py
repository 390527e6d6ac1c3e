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

This module holds the base class, its errors and the registry; everything named above is
importable from here (and from :mod:`solvers`), though kept in modules of its own: the
built-in preconditioners but AMG in ``solvers/_precond_builtin.py``, AMG in
:mod:`solvers.amg`, the work model in ``solvers/_precond_work.py`` and the PCG loop that
applies a preconditioner from Python in ``solvers/_precond_pcg.py``.

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

import numpy as np

from ._checks import _check_dtype, _imaginary_zero
from ._operator import prepare
from ._precond_pcg import _pcg_loop, _pcg_run  # noqa: F401 - re-exported

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
        place, like a Tuner's working copy, no longer holds them).

        A matrix near the double range is solved on its copy scaled down by ``2**k``
        (:meth:`CSROperator.scaled_down`), and :func:`solvers.pcg` builds on that copy: the
        operator asked about is then compared through its own copy (the same, cached with
        its values), so a caller asking with the matrix it passes to ``pcg`` (the Tuner's
        ``will_setup``) hears what ``pcg`` will do."""
        if self._op is None:
            return False
        if self._op._shift and not op._shift:
            try:
                if op.down_shift() != self._op._shift:
                    return False
                op = op.scaled_down()
            except ValueError:  # (a matrix refused so: no set-up of this one holds it)
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
        if r.dtype.kind == "c" and _imaginary_zero(r):
            r = r.real  # (exactly real: as the solvers take it)
        if r.dtype != np.float64:
            _check_dtype(r.dtype, "r", r)  # complex, boolean or not numbers: as the solvers
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


# the built-in preconditioners (solvers/_precond_builtin.py, solvers/amg.py) subclass
# Preconditioner, so they are imported once the base class exists
from ._precond_builtin import (IC0, SSOR, Jacobi, NoPreconditioner,  # noqa: E402
                               omega_text)
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
    if name == "ssor" and "omega" not in settings:
        # (its constructor's TypeError, "missing 1 required positional argument", named no
        # way to give it)
        raise ValueError("preconditioner 'ssor' needs its relaxation parameter omega in "
                         "(0, 2): e.g. {'pc': 'ssor', 'omega': 1.4} or "
                         "preconditioner('ssor', omega=1.4)")
    try:
        return PRECONDITIONERS[name](**settings)
    except TypeError as exc:  # an unknown keyword: say which names this one takes
        raise ValueError(f"bad settings for preconditioner {name!r}: {exc}") from None


# the work model reads the registry above (work_model("pcg", A, "ic0")): imported after it
from ._precond_work import WorkModel, work_model  # noqa: E402
