"""The Tuner: one-line change inside a simulation loop that learns the solver's ω as it goes."""
from __future__ import annotations

import inspect
import math
import numbers
import threading
import time
import warnings
from operator import attrgetter
from threading import get_ident as _get_ident

import numpy as np

from ._base import Policy, arm_omega, from_jsonable, to_jsonable
from .arms import COSTS, arm_kwargs
from .armset import ArmSet
from ._persist import TunerFileError, write_atomic
from ._tunerfile import read_tuner_file
from . import mpi as _mpi
from . import report as _report
from .audit import Auditor
from solvers._operator import scalar
from solvers._result import IterateOverflowError
from solvers.precond import SetupError

__all__ = ["Tuner", "arm_kwargs", "TunerFileError", "GUARD_DTOL", "AUTO_CONTEXTS",
           "AUTO_CONTEXT_STEPS"]

#: Version 3 adds the per-round ``p``, ``leader`` and ``budget`` and budgeted audits; version 2
#: wrote strict JSON (non-finite floats tagged); versions 1 and 2 are still read.
FORMAT, VERSION = "relaxtune.tuner", 3
_COLUMNS = _report.LOG_COLUMNS  # the fields of one solve's row tuple in the log

#: Divergence tolerance of the attempts of a guarded solve: an attempt stops as diverged once
#: ``‖r_k‖ > GUARD_DTOL·‖r_0‖``, so an unstable ω costs a few iterations, not the climb to the
#: solvers' default 1e12.  Converging SOR can grow its residual first (by up to ~1e5 on upwind
#: convection–diffusion at a Péclet number of 1000), so such a stop is not final: when no arm
#: converges, the stopped arms are run again with the solvers' default.
GUARD_DTOL = 1e6
#: What ``Tuner(auto_context=...)`` may compute for every system as (part of) its context.
AUTO_CONTEXTS = ("spectral",)
#: Lanczos steps of the automatic spectral context (about one SOR sweep each).
AUTO_CONTEXT_STEPS = 10
# solve keywords the Tuner sets itself; an arm may not set them
_TUNER_KEYS = frozenset({"x0", "rtol", "atol", "maxiter", "backend", "dtol"})
_INT64_MAX = int(np.iinfo(np.int64).max)


# --- argument checks (ValueError naming the parameter; NumPy scalars are numbers too) ----------
def _float(value) -> float:
    """``float(value)`` of a real number, ``±inf`` for one beyond the float range (an integer
    like ``10**400``), so that the callers' finiteness checks refuse it by name."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _number(value, name) -> float:
    if type(value) is float:
        return value
    value = scalar(value)  # a 0-d array is a number too
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return _float(value)


def _integer(value, name) -> int:
    if type(value) is int:
        return value
    value = scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _check_context(context):
    """``None``, a finite float, or a finite 1-D float array; else ``ValueError``.

    Checked before the policy draws, and what the history records; whether the policy can use
    it (a context at all, its length) the policy checks before it draws.
    """
    if context is None or (type(context) is float and math.isfinite(context)):
        return context
    if isinstance(context, numbers.Real) and not isinstance(context, (bool, np.bool_)):
        c = _float(context)
        if not math.isfinite(c):
            raise ValueError(f"context must be finite, got {context!r}")
        return c
    if isinstance(context, (str, bytes, bool, np.bool_)):
        raise ValueError(f"context must be a number or a sequence of numbers, got {context!r}")
    try:
        raw = np.asarray(context)
        if raw.dtype.kind == "O" and raw.ndim == 1 and all(
                isinstance(c, numbers.Real) and not isinstance(c, (bool, np.bool_)) for c in raw):
            raw = raw.astype(np.float64)  # numbers of mixed types (a Fraction, an int, ...)
        if raw.dtype.kind not in "fiu":  # strings float() would parse, bools, anything else
            raise TypeError
        arr = np.array(raw, dtype=np.float64)
    except OverflowError:  # an integer beyond the float range
        raise ValueError(f"context must be finite, got {context!r}") from None
    except (TypeError, ValueError):
        raise ValueError(
            f"context must be a number or a sequence of numbers, got {context!r}") from None
    if arr.ndim == 0 and isinstance(context, np.ndarray):  # np.array(0.5): a number
        return _check_context(float(arr))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"context must be a number or a 1-D sequence of numbers, got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"context must be finite, got {context!r}")
    return arr


def _first_checks(context, A, b, x0):
    """The checks a rank makes on its own before any collective step of a solve on several
    ranks: the context, and that no PETSc object was destroyed (any PETSc call on one
    crashes; a rank refusing one later, alone, would leave the others waiting).  Returns the
    context and the kind of ``A``, both compared across the ranks."""
    from solvers.petsc import _check_alive

    for name, v in (("A", A), ("b", b), ("x0", x0)):
        _check_alive(v, name)
    # a PETSc Mat is used in place, any other matrix is converted collectively (after a
    # comparison across the ranks); a PETSc Vec is checked collectively, a numpy vector by
    # each rank alone: ranks mixing the two would wait in different operations
    kind = {"Mat": "a PETSc Mat", "PetscOperator": "a prepared PETSc operator"}.get(
        type(A).__name__, "a matrix to convert")
    vecs = ["a PETSc Vec" if type(v).__name__ == "Vec" else "none" if v is None else "an array"
            for v in (b, x0)]
    return _check_context(context), (kind, *vecs)


def _what_policy(policy) -> str:
    """What was passed instead of a policy, with the way to make one (a class or a registry
    name is the usual slip)."""
    from . import POLICIES

    if isinstance(policy, type) and issubclass(policy, Policy):
        return (f"the class {policy.__name__}; pass an instance, e.g. "
                f"{policy.__name__}(arms, seed=0)")
    if isinstance(policy, str) and policy in POLICIES:
        return (f"the name {policy!r}; make one with bandit.POLICIES[{policy!r}](arms, seed=0)"
                f" or bandit.default_policy(solver)")
    return type(policy).__name__


def _check_hooks(progress, callback):
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a function or None, got {callback!r}")
    if not isinstance(progress, (bool, str)):
        raise ValueError(f"progress must be True, False or a description, got {progress!r}")


#: Settings fixed at construction: the arms' solver calls, budgets, audits and cost model are
#: built from them, so a change would reach some runs and not others — and a saved file
#: would load with it.  Read-only attributes (stored as ``_name``).
_FIXED = ("policy", "solver", "rtol", "atol", "maxiter", "cost", "backend", "guard",
          "audit_budget", "audit_seed", "auto_context")


def _fixed(name):
    def refuse(self, value):
        raise AttributeError(
            f"Tuner.{name} is fixed when the tuner is made (its solves, budgets and audits are "
            f"built from it; a change would reach some runs and not others, and a saved file "
            f"would load with it): make a new Tuner for other settings")
    return property(attrgetter("_" + name), refuse, doc=f"``{name}`` as given to the "
                                                         f"constructor (read-only).")


def _residual_key(r) -> float:
    return r.residual_norm if math.isfinite(r.residual_norm) else math.inf


def _takes_dtol(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "dtol" or p.kind is p.VAR_KEYWORD for p in params)


class Tuner:
    """Solve a sequence of systems, choosing each solve's arm (ω or a whole solver
    configuration) with a policy; costs minimised.

    Parameters
    ----------
    policy : Policy, optional
        Any :data:`bandit.POLICIES` learner over the arms: ω values, setting dicts of
        ``solver``, or configuration dicts that name their own method and preconditioner
        (``{"method": "cg", "pc": "amg", "reuse": 20}``; see :mod:`bandit.arms` and
        :func:`bandit.config_grid`); default :func:`bandit.default_policy` for the solver.  A policy with a ``prime(A, solver)``
        method is shown the first system once, before its first draw (its prior).
    solver : {"ssor_pcg", "sor", "cg"} or callable
        The method of float arms and of setting dicts (configuration arms carry their own),
        or a function with the same signature
        ``f(A, b, omega=..., *, x0, rtol, atol, maxiter, backend)`` returning a SolveResult
        (if it also takes ``dtol``, guarded attempts pass :data:`GUARD_DTOL`).
    rtol, atol, maxiter : float, float, int
        Stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` and iteration cap of every solve.
    cost : {"iterations", "time", "work", "timed_work"} or None
        What the policy minimises: iteration counts; wall-clock seconds of the solve (set-up
        of a preconditioner included, charged to the solve that builds it); work in
        matrix-pass equivalents (:func:`solvers.work_model`; deterministic; Numba backend);
        or work priced in seconds at the family's seconds per unit of work measured by this
        tuner (the least median of 31 consecutive solves), plus the measured set-up
        (:meth:`ArmSet.timed_work`: the clock's ranking without its per-solve noise).  On
        the clock a set-up is charged as :meth:`ArmSet.setup_charge` says (one slow reading
        is not charged in full before a second confirms it).  ``None`` (default):
        iterations when the arms differ only in ω, else timed work (time on PETSc).
        Iterations are refused for arms that differ in more than ω (an AMG iteration costs
        many SSOR iterations).
    backend : {"numba", "petsc"}
        Passed through to the solver.
    comm : mpi4py or PETSc communicator, optional
        ``backend="petsc"`` only: the ranks that share this Tuner's systems (default
        ``PETSc.COMM_WORLD``).  Every rank of ``comm`` constructs the Tuner with the same
        settings and solves one system distributed over ``comm``; rank 0 of ``comm`` decides.
        ``comm=MPI.COMM_SELF`` gives each rank a Tuner of its own for a system of its own
        (matrices converted on ``COMM_SELF``, no exchange between ranks; see docs/petsc.md).
    guard : float or None, default 3.0
        Guarded solving (see Notes): an arm that is not the policy's predicted best gets a
        budget of ``guard ×`` the best arm's predicted cost, every attempt stops early on
        divergence, and a failed attempt is followed by the fallback chain, so the solve
        converges whenever some arm converges on the system within ``maxiter``.  ``None``
        means no guard at all: one solve with the chosen arm, up to ``maxiter`` iterations and
        the solver's default divergence tolerance, returned as it is (also unconverged).
    audit_budget : float, default 0.0
        Fraction of the user's solves' cost, in the tuner's cost unit (iterations, seconds
        or work), to aim at spending on audits (an aim, not a cap: short runs of cheap solves
        spend more; ``summary()["audits"]["budget_used"]`` says what was spent): other arms run
        on the same systems after the solve, off the user's clock and never told to the
        policy, which make :meth:`regret` unbiased for every policy (``bandit/audit.py``).
        0 runs none.
    audit_seed : int, optional
        Seed of the audit generator (kept apart from the policy's generator).
    progress : bool or str, default False
        Show a tqdm bar with running iterations, regret estimate and leader (a string is
        its description).
    callback : callable, optional
        ``callback(result)`` after each solve, with the returned SolveResult.

    Notes
    -----
    **A guarded solve** (``guard`` a number) runs these steps:

    1. *Attempt*: the policy's arm, with ``maxiter`` if it is the leader (the arm with the
       lowest predicted cost among arms with a converged observation, :meth:`Policy.leader`;
       on a reused set-up, a few times the iterations it was built with,
       :meth:`ArmSet.stale_cap`) or if there is no leader yet, else with the budget ``guard ×``
       (a rival of another family: ``min(guard, 1.5) ×``) the leader's predicted
       cost, converted to iterations for that arm (:meth:`ArmSet.budget`: the arm's own cost
       per iteration, measured on its family or, before that, from the work model; a set-up
       it must build, shared over the ``reuse + 1`` rounds it serves, taken off first; an
       attempt whose set-up alone exceeds the budget is not started); stopped as diverged
       once ``‖r_k‖ > GUARD_DTOL·‖r_0‖``.
    2. *Fall back*, if it did not converge: the other arms in this order, each with
       ``maxiter`` (on a reused set-up, :meth:`ArmSet.stale_cap`) and the same divergence
       test, until one converges — the leader; the other
       arms with a converged observation by predicted cost; the most conservative arm; then
       every remaining arm, from the most conservative on.  The first fallback continues from
       the attempt's iterate if the attempt was only stopped by its budget; every other run
       starts from the user's ``x0``.
    3. *Last resort*, if none converged: every arm whose failure was not final — stopped by
       the budget, by the cap of a reused set-up (rebuilt now) or by ``GUARD_DTOL``, or run
       from a warm iterate — is run again from ``x0``
       with ``maxiter`` and the solver's default divergence tolerance.

    Conservative arms (most likely to converge, used first when nothing has converged yet):
    for ``"sor"`` the smallest ω (under-relaxation damps the sweep; on a nonsymmetric matrix
    large ω are the ones that diverge); for ``"ssor_pcg"`` the ω closest to 1 (symmetric
    Gauss–Seidel: every ω in (0, 2) gives an SPD preconditioner, the ends of the interval
    the worst conditioned); for ``"cg"`` and custom solvers the first arm of the list.
    Among configuration arms: Jacobi-CG, then plain CG (they converge on any SPD system and
    have no set-up that could be stale), SSOR-PCG by ``|ω − 1|``, IC(0)-CG, AMG-CG, other
    PETSc preconditioners, SOR by ω; fresh set-ups before reused ones
    (:meth:`ArmSet.safety_order`).

    *Set-up reuse* (``reuse=k`` arms) is counted in rounds of this tuner: a set-up built in
    round ``t`` serves the arm's solves up to round ``t + k``.

    The result is converged whenever one of these runs converged; ``iterations`` and
    ``seconds`` cover every run; ``arm``/``omega`` name the arm that produced ``x``.  When
    every arm failed the result is the run with the smallest residual, ``converged=False``,
    ``reason`` that run's reason, and ``info["all_arms_failed"] = True`` with a message in
    ``info["failure"]``.

    **What the policy is told** (one ``update`` per solve, for the arm it chose):

    * already solved (the result converged in 0 iterations: ``x0`` met the stopping rule, or
      ``b = 0``): nothing, and its draw is undone — every arm would have cost 0 there, so the
      round says nothing about the arms; it is recorded (history, counts, totals) but not
      audited, and the regret counts every arm at what it paid (a contribution of 0).
    * converged: its cost, ``converged=True``.
    * stopped by the budget (it may converge later): the attempt's cost as a censored lower
      bound (an attempt not started: the set-up it would have paid); a ``report_round_cost``
      policy (the adversarial ones, which use a censored cost
      as if observed) gets the round's cost instead — attempt plus fallback, the loss its
      choice caused — uncensored.  Either way ``converged=False``.
    * failed (diverged, broke down, or hit ``maxiter``): the cost of ``maxiter`` iterations
      (``cost="time"``/``"work"``: the largest over the arms of ``maxiter`` × the arm's
      running cost per iteration plus its set-up), at least the
      round's cost for a ``report_round_cost`` policy, censored, ``converged=False``.  No arm
      converging on the system can cost more than ``maxiter`` iterations, so a failed arm
      never looks cheaper than one that converged on the same system, whatever its attempt
      and fallback cost; and only arms with a converged observation become the leader.

    A run of the chain is not told to the policy (it did not choose it; an importance
    weighted learner cannot use it), except that when the chosen arm itself converges in the
    last resort that run is its (uncensored) observation.

    ``solve`` checks ``A``, ``b``, ``x0`` and ``context`` — with a solver name, everything the
    solver itself would refuse — before the policy draws: a refused call raises
    ``ValueError`` (``TypeError`` for an ``A`` of an unknown type) and leaves the policy, its
    generator and the history as they were.  A custom solver function checks its own input,
    after the draw.

    Examples
    --------
    >>> import numpy as np
    >>> from bandit import Tuner, SmoothIGW
    >>> from solvers import gallery
    >>> A = gallery.laplacian_2d(8)
    >>> tuner = Tuner(SmoothIGW(np.linspace(1.0, 1.9, 10), seed=0), solver="sor")
    >>> rng = np.random.default_rng(0)
    >>> results = [tuner.solve(A + c * np.eye(64), rng.standard_normal(64), context=c)
    ...            for c in rng.uniform(0, 0.5, 20)]
    >>> all(r.converged for r in results), tuner.summary()["rounds"]
    (True, 20)

    Configuration arms choose among solver families (compared by default by their work
    priced at the clock's rate for each family):

    >>> from bandit import config_grid
    >>> t = Tuner(SmoothIGW(config_grid(omegas=[1.2, 1.7], pcs=["jacobi", "ic0"]), seed=0))
    >>> t.cost, t.arm_labels
    ('timed_work', ['ssor_pcg ω=1.20', 'ssor_pcg ω=1.70', 'cg+jacobi', 'cg+ic0'])
    >>> t.solve(A, np.ones(64)).converged
    True
    """

    policy, solver, rtol, atol, maxiter, cost, backend, guard, audit_budget, audit_seed, \
        auto_context = (_fixed(name) for name in _FIXED)

    def __init__(self, policy=None, solver="ssor_pcg", *, rtol=1e-8, atol=0.0, maxiter=10_000,
                 cost=None, backend="numba", guard=3.0, audit_budget=0.0,
                 audit_seed=None, progress=False, callback=None, comm=None,
                 auto_context=None):
        # on several ranks a refusal on one rank is a refusal on every rank: the others would
        # wait forever in the comparison of settings below
        world = _mpi.world(backend, comm) if isinstance(backend, str) else None
        _mpi.on_every_rank(world, lambda: self._construct(
            policy, solver, rtol=rtol, atol=atol, maxiter=maxiter, cost=cost, backend=backend,
            guard=guard, audit_budget=audit_budget, audit_seed=audit_seed, progress=progress,
            callback=callback, comm=comm, auto_context=auto_context))
        # before any collective step (the arms' trial solves below are collective): the ranks'
        # Tuners must run the same solves in the same order
        if self._comm is not None:
            _mpi.same_settings(self._comm, solver=self.solver_name,
                               arms=list(self._arms.configs or self._arms.labels),
                               omegas=self._omegas, rtol=self.rtol, atol=self.atol,
                               maxiter=self.maxiter, cost=self.cost, guard=self.guard,
                               audit_budget=self.audit_budget, auto_context=self.auto_context)
        if self._by_name:
            self._try_arms()

    def _construct(self, policy, solver, *, rtol, atol, maxiter, cost, backend, guard,
                   audit_budget, audit_seed, progress, callback, comm, auto_context):
        """The constructor's checks and state, up to the ranks' comparison of settings."""
        if auto_context is not None and not (isinstance(auto_context, str)
                                             and auto_context in AUTO_CONTEXTS):
            raise ValueError(f"auto_context must be None or one of {AUTO_CONTEXTS}, got "
                             f"{auto_context!r}")
        if comm is not None and backend != "petsc":
            raise ValueError(f"comm is an MPI communicator for backend='petsc', not "
                             f"backend={backend!r}")
        if policy is None:  # the recommended learner for the solver (bandit.default_policy)
            from .defaults import default_policy

            self._resolve(solver)  # an unknown name is refused in the Tuner's own words
            policy = default_policy(solver if isinstance(solver, str) else None)
        if not isinstance(policy, Policy):
            raise ValueError(f"policy must be a bandit Policy, got {_what_policy(policy)}")
        self._solve_fn = self._resolve(solver)
        self._by_name = isinstance(solver, str)
        if cost is not None and (not isinstance(cost, str) or cost not in COSTS):
            raise ValueError(f"cost must be 'iterations', 'time', 'work' or 'timed_work' (or "
                             f"None: iterations for ω-only arms, otherwise timed work on the "
                             f"Numba backend and time on PETSc), got {cost!r}")
        if self._by_name:
            import solvers

            if not isinstance(backend, str) or backend not in solvers.BACKENDS:
                raise ValueError(f"backend must be one of {solvers.BACKENDS}, got {backend!r}")
        rtol, atol = _number(rtol, "rtol"), _number(atol, "atol")
        for name, v in (("rtol", rtol), ("atol", atol)):
            if not 0.0 <= v < math.inf:  # NaN fails too
                raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
        if rtol == 0.0 and atol == 0.0:
            raise ValueError("rtol and atol cannot both be 0: the stopping rule could never hold")
        maxiter = _integer(maxiter, "maxiter")
        top = self._max_int(backend)
        if not 1 <= maxiter <= top:
            raise ValueError(f"maxiter must be a positive integer within the solvers' integer "
                             f"range (at most {top}), got {maxiter!r}")
        if guard is not None:
            guard = _number(guard, "guard")
            if not 1.0 <= guard < math.inf:
                raise ValueError(f"guard must be None or a finite number >= 1, got {guard!r}")
        audit_budget = _number(audit_budget, "audit_budget")
        if not 0.0 <= audit_budget <= 1.0:
            raise ValueError(f"audit_budget must be a fraction in [0, 1], got {audit_budget!r}")
        _check_hooks(progress, callback)
        if audit_seed is not None:
            audit_seed = _integer(audit_seed, "audit_seed")
            if audit_seed < 0:
                raise ValueError(f"audit_seed must be a non-negative integer, got {audit_seed!r}")
        self._policy = policy
        self._solver = solver
        self._omegas = self._check_arms()
        # the arms as configurations (bandit/arms.py): parsed and validated, labels, calls
        arms = ArmSet(policy.arms, solver, backend)
        cost = self._resolve_cost(cost, arms, backend)
        arms.cost = cost
        self._arms = arms
        self._rtol, self._atol, self._maxiter = rtol, atol, maxiter
        self._cost, self._backend = cost, backend
        self._guard = guard
        self._audit_budget = audit_budget
        self._audit_seed = audit_seed
        methods = {c.method for c in arms.configs} if arms.configs is not None else {None}
        if auto_context is not None and (len(methods) != 1 or methods
                                         - {"sor", "ssor_pcg"}):
            raise ValueError(f"auto_context={auto_context!r} is the relaxation parameter the "
                             f"theory gives each system: for ω arms of one solver, 'sor' or "
                             f"'ssor_pcg'; this tuner's arms run {sorted(map(str, methods))}")
        self._auto_context = auto_context
        self._context_seconds = 0.0  # what the automatic contexts cost (estimates)
        self._context_products = 0  # and their matrix–vector products
        # one arm: every cost is observed, so there is nothing to audit
        self._auditor = Auditor(policy.n_arms, audit_budget, audit_seed) if (
            audit_budget and policy.n_arms > 1) else None
        self._log = []  # one tuple of _COLUMNS per solve
        self._progress, self._callback = progress, callback
        # one attribute test per solve when both are off
        self._hook = _report.Hook(self, progress, callback) if progress or callback else None
        # held from a solve's validation to its record (and by save): one solve at a time
        # (reentrant, so a hold left by Ctrl-C between taking it and noting the owner is
        # known as this thread's: see _hold)
        self._lock, self._owner = threading.RLock(), None
        self._work = [0.0, 0]  # seconds, iterations of every solve: seconds per iteration
        # per solve, what it paid in the cost unit when that is neither iterations nor seconds
        # (work, timed work): the regret's `paid` and the audit budget's measure
        self._paid = [] if cost in ("work", "timed_work") else None
        self._paid_sum = 0.0  # their running sum (the audit budget reads it every solve)
        self._round_cost = 0.0  # the latest fallback chain's cost (see _fall_back)
        # PETSc on > 1 rank: rank 0 decides (bandit/mpi.py); None on COMM_SELF
        self._comm = _mpi.world(backend, comm)
        # the communicator scipy matrices are converted on (mpi4py: a Tuner pickles)
        self._mat_comm = None if comm is None else _mpi.mpi_comm(comm)
        self._last_op = None
        self._own_op = True  # whether _last_op is the Tuner's own working copy
        self._primed = False  # _prime runs once, before the policy's first draw
        self._setup_warned = set()  # arms whose set-up refusal has been warned about
        #: Readable name of every arm (summaries, histories, tables and plots use these).
        self.arm_labels = arms.labels
        self._dtol = guard is not None and (self._by_name or _takes_dtol(self._solve_fn))
        # per arm: the solver function and every keyword argument of its guarded (dtol) and
        # plain runs but x0 and maxiter, built once (a preconditioner object per arm)
        self._calls = arms.calls(self._solve_fn, {"rtol": rtol, "atol": atol, "backend": backend},
                                 GUARD_DTOL if self._dtol else None)
        self._safe = arms.safety_order()
        # per arm and guarded/plain: the solver's entry without its own checks of A, b and x0,
        # which _validate has made (None: the public function runs)
        # set by _checked_entries (Numba arms)
        self._run_checked = self._check_rhs = self._copy_x0 = None
        self._fast = self._checked_entries()
        # (b, ‖b‖, x0, the first run's start: a copy of x0 or None) of the solve in progress,
        # as _validate checked them
        self._checked = None
        # one arm: the leader is that arm once it has converged (no prediction needed)
        self._lone = policy.n_arms == 1
        self._require = arms.requirement_check() if self._by_name else None
        # SOR and SSOR-PCG read the operator's split triangles, built by the first solve on a
        # new sparsity pattern (later operators prepared like it get them in `prepare`): built
        # in _validate instead, so no arm's first timed solve pays the pattern's one-time work
        self._split = backend == "numba" and self._by_name and any(
            m in ("sor", "ssor_pcg") for m in arms.methods)

    def _checked_entries(self):
        if not self._by_name or self.backend != "numba":
            return [None] * self.policy.n_arms
        from solvers._api import checked_entry, run_checked
        from solvers._operator import check_rhs_start

        # bound once: the hot path
        self._run_checked, self._check_rhs = run_checked, check_rhs_start
        out = []
        for fn, kw in self._calls:
            entries = {g: checked_entry(fn, kw[g]) for g in kw}
            out.append(entries if None not in entries.values() else None)
        # the check copies x0 for the first run when every arm runs its checked entry (an
        # arm run through the public function copies x0 itself)
        self._copy_x0 = None not in out
        return out

    @staticmethod
    def _resolve_cost(cost, arms, backend):
        """``cost`` checked against the arms: iterations only where they mean the same work."""
        if cost is None:  # timed work: the clock's ranking of families without its noise
            if not arms.heterogeneous:
                return "iterations"
            return "timed_work" if backend == "numba" and not arms.custom else "time"
        if cost == "iterations" and arms.heterogeneous:
            a = arms.family.index(1)
            # the work costs are only offered where they are accepted (below)
            use = ("cost='timed_work' (the default for such arms), cost='time' or cost='work'"
                   if backend == "numba" and not arms.custom else
                   "cost='time' (the default for such arms)")
            raise ValueError(
                f"cost='iterations' compares iteration counts, which cost different work "
                f"across these arms (arm 0 {arms.labels[0]!r} and arm {a} {arms.labels[a]!r} "
                f"differ in more than ω); use {use}")
        if cost in ("work", "timed_work") and (arms.custom or backend != "numba"):
            raise ValueError(f"cost={cost!r} counts the Numba solvers' arithmetic "
                             "(solvers.work_model); it needs a solver name and "
                             "backend='numba' (use cost='time' otherwise)")
        return cost

    @staticmethod
    def _resolve(solver):
        if isinstance(solver, str):
            import solvers

            if solver not in solvers.SOLVERS:
                raise ValueError(f"unknown solver {solver!r}; known: {sorted(solvers.SOLVERS)}")
            return solvers.SOLVERS[solver]
        if callable(solver):
            return solver
        raise ValueError(f"solver must be a solvers.SOLVERS name or a function, got {solver!r}")

    @staticmethod
    def _max_int(backend) -> int:
        """Largest ``maxiter`` the kernels take: int64 for Numba, ``PetscInt`` for PETSc."""
        if backend == "petsc":
            try:
                from petsc4py import PETSc
            except ImportError:
                return _INT64_MAX  # the solver explains how to install it
            return int(np.iinfo(PETSc.IntType).max)
        return _INT64_MAX

    def _check_arms(self):
        """Every arm's ω (NaN if none), as the history records it; the arms of a custom solver
        function are checked here (configurations are checked by :class:`ArmSet`)."""
        omegas = []
        for i, arm in enumerate(self.policy.arms):
            try:
                om = arm_omega(arm)
            except (TypeError, ValueError):
                raise ValueError(f"arm {i} ({arm!r}): omega must be a number") from None
            if isinstance(arm, dict) and not self._by_name:
                owned = sorted(_TUNER_KEYS & arm.keys())
                if owned:
                    raise ValueError(f"arm {i} ({arm!r}) sets {owned}, which the Tuner sets "
                                     "for every solve")
            omegas.append(math.nan if om is None else om)
        return omegas

    def _try_arms(self):
        """Run every arm that is more than an ω once on a tiny SPD system, with its own
        (throwaway) preconditioner, so that a setting the solver refuses is refused here
        rather than after a draw, and the first timed solve of each kernel is not its
        compilation."""
        import solvers

        arms = self._arms
        # on PETSc, a Mat on the Tuner's communicator: the trials are as collective as its
        # solves (on COMM_SELF, not at all)
        tiny = solvers.prepare(np.array([[2.0, -1.0], [-1.0, 2.0]]), backend=self.backend,
                               comm=self._mat_comm)
        seen = set()
        # with a clock for cost, a float arm's solver runs once too: the first timed solve
        # would otherwise pay for loading its kernels (~10 ms against a solve of ~50 µs), and
        # the learner would be told that as the arm's cost
        timed = self.cost in ("time", "timed_work")
        for i, (arm, cfg) in enumerate(zip(self.policy.arms, arms.configs)):
            key = (cfg.family, cfg.knobs)
            if key in seen or not (isinstance(arm, dict) or arms.heterogeneous or timed):
                continue  # a float arm is a checked ω
            seen.add(key)
            fn, kw = cfg.call()
            kw = {**self._calls[i][1][True], **kw, "backend": self.backend}
            try:
                fn(tiny, np.ones(2), x0=None, maxiter=1, **kw)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"arm {i} ({arm!r}) is not valid for {cfg.method}: "
                                 f"{exc}") from None

    @property
    def progress(self):
        """The progress setting; may be changed between solves (a loaded or copied tuner
        starts with ``False``)."""
        return self._progress

    @progress.setter
    def progress(self, value):
        self._set_hooks(value, self._callback)

    @property
    def callback(self):
        """``callback(result)`` after each solve, or None; may be changed between solves (a
        loaded or copied tuner starts with ``None``)."""
        return self._callback

    @callback.setter
    def callback(self, value):
        self._set_hooks(self._progress, value)

    def _set_hooks(self, progress, callback):
        _check_hooks(progress, callback)
        old = self._hook
        if old is not None and (not progress or progress != self._progress):
            old.close()  # its bar's final totals; a new bar opens at the next solve
            old = None
        self._progress, self._callback = progress, callback
        if not (progress or callback):
            self._hook = None
        elif old is not None:
            old.callback = callback
        else:
            self._hook = _report.Hook(self, progress, callback)

    @property
    def conservative_arm(self) -> int:
        """The arm a failed solve falls back to when nothing better is known (class notes)."""
        return self._safe[0]

    @property
    def solver_name(self):
        return self.solver if isinstance(self.solver, str) else getattr(self.solver, "__name__", "custom")

    # --- the decision point: the one place a parallel run would broadcast from rank 0 --------
    def decide(self, context=None):
        """Ask the policy for an arm; return ``(arm, best_arm, predicted_best_cost, p)``.

        ``best_arm`` is the leader (:meth:`Policy.leader`: the lowest predicted cost among arms
        with a converged observation; None before any), used for the guard budget and as the
        first fallback; ``p`` is the policy's distribution of this draw (None for a
        deterministic policy), which the history and the regret estimates use.  Under MPI
        (``backend="petsc"``, > 1 rank) the policy is asked on rank 0 only and the decision is
        broadcast, so every rank solves with the same arm.
        """
        if self._comm is None:
            return self._decide(context)
        return _mpi.on_root(self._comm, self._decide, context)

    def _decide(self, context):
        arm = self.policy.select(context)
        best, pred = self.policy.leader(context)
        return arm, best, pred, self.policy.p

    def tell(self, arm, cost, context=None, censored=False, converged=None):
        """Report a cost to the policy (the other half of the decision point).

        Every rank tells its own copy of the policy the same (agreed) numbers.
        """
        self.policy.update(arm, cost, context, censored, converged)

    # --- solving --------------------------------------------------------------------------------
    def solve(self, A, b, *, x0=None, context=None):
        """Solve ``A x = b`` with the arm the policy picks, learn from the cost, return the result.

        Steps: validate (nothing changes if the call is refused), decide, attempt, fall back
        (guarded solves that did not converge), tell, record — see the class notes.

        Returns
        -------
        SolveResult
            ``arm``/``settings``/``omega`` are the arm that produced ``x``; ``iterations`` and
            ``seconds`` cover every run; when the chosen arm did not converge
            ``info["explored"]`` describes its attempt and ``info["attempts"]`` lists every run
            (arm, ω, iterations, seconds, reason, start, budget, dtol).

        Raises
        ------
        ValueError
            For an unusable ``A``, ``b``, ``x0`` or ``context`` (``TypeError`` for an ``A`` of
            an unknown type), before the policy draws.
        RuntimeError
            When called from inside a solve of this tuner (its solver function, a signal
            handler): before anything is checked or changed.

        Notes
        -----
        A tuner solves one system at a time: a call from another thread while a solve runs
        waits for that solve to be recorded (the working copy of ``A``, the policy's draw
        and the history belong to one round at a time).
        """
        me = _get_ident()
        if self._owner == me:
            # a solve inside a solve (a custom solver function calling its own tuner) would
            # draw and tell in the middle of the outer round, whose update would then weigh
            # its cost by a distribution formed after the inner update
            raise RuntimeError("Tuner.solve was called while a solve of this tuner is "
                               "running (from its solver function or a signal handler); a "
                               "tuner solves one system at a time: use another Tuner for a "
                               "solve inside a solve")
        lock = self._lock
        if not lock._is_owned():  # (see _hold)
            lock.acquire()  # another thread's solve or save: wait for it
        self._owner = me
        try:
            if self._comm is None:
                op, b, x0, context = self._validate(A, b, x0, context)
            else:  # a refusal on any rank is a refusal on every rank (no rank left waiting);
                # the context first, before the collective steps of preparing A
                context, _ = _mpi.on_every_rank(self._comm, _first_checks, context, A, b, x0,
                                                same=("contexts", "kinds of (A, b, x0)"))
                op, b, x0, context = _mpi.on_every_rank(self._comm, self._validate, A, b, x0,
                                                        context)
            auto = None
            if self._auto_context is not None:  # before the draw: a refusal changes nothing
                auto = self._auto_context_of(op)
                context = auto if context is None else np.append(
                    np.asarray(context, dtype=np.float64).ravel(), auto)
            # the hot path of a simulation loop: at a few hundred unknowns a solve takes
            # ~20 µs, so every layer of Python here shows in the comparison with plain CG
            if not self._primed:
                self._prime(op)
            policy = self.policy
            undo, told = policy._draw_state(), policy.t
            try:
                res = self._solve(op, b, x0, context, undo)
                if auto is not None:
                    res.info["auto_context"] = auto
                return res
            except BaseException as exc:
                # raised between the draw and the update (a solver refusing the system once
                # it has run, e.g. a solution that underflows; Ctrl-C in a long solve): the
                # abandoned round draws nothing, so the same seed gives the same arms with or
                # without it
                if policy.t == told:
                    policy._undo_draw(undo)
                if auto is not None and isinstance(exc, ValueError):
                    self._auto_context_refusal(exc, np.size(context) - 1)
                raise
        finally:
            if self._owner == me:  # (released already once the round was recorded: _solve)
                self._owner = None
                self._lock.release()

    def _hold(self):
        """Take the tuner's lock, waiting for another thread's solve or save; a hold this
        thread already has (Ctrl-C between taking it and noting the owner) is kept, not
        doubled, so the next release frees the tuner."""
        lock = self._lock
        if not lock._is_owned():
            lock.acquire()

    def _solve(self, op, b, x0, context, undo):
        """The steps of :meth:`solve` after validation: decide, attempt, fall back, tell,
        audit, record, hook (``undo``: the policy's draw state before this round's draw)."""
        if self._comm is not None:
            arm, best, pred, pv = self.decide(context)
        elif self._lone and self._auditor is None:  # the leader needs no prediction
            policy = self.policy
            arm = policy.select(context)
            best, pred, pv = (0 if policy.converged_counts[0] else None), math.nan, policy.p
        else:
            arm, best, pred, pv = self._decide(context)
        self._arms.round = len(self._log)  # the clock of set-up reuse
        if arm != best:
            budget = self._budget(arm, best, pred, op)
        elif self.guard is not None and self._arms.has_setups:  # a stale set-up is capped
            budget = self._arms.stale_cap(arm, op, self.maxiter)
        else:
            budget = self.maxiter
        r = self._run(op, b, arm, x0, budget, True) if budget else self._skip(op, b, x0, arm)
        # `censored`: the history's (the attempt did not converge); `tell`: the policy's
        # (censored, converged)
        if r.converged:
            cost = self._cost_of(r)
            final, censored, tell, fallback, info = r, False, (False, True), -1, None
            paid = cost
        elif self.guard is None:  # no fallback: the failure is returned as it is
            paid = self._cost_of(r)
            cost = self._failure_cost(paid)
            final, censored, tell, fallback, info = r, True, (True, False), -1, None
        else:
            final, cost, censored, tell, fallback, info = self._fall_back(
                op, b, x0, context, arm, best, r, budget)
            paid = self._round_cost
        used = arm if fallback < 0 else fallback
        # a result of our own solvers is fresh from this call: label it in place (a user's
        # solver function might hand out a shared object, so that one is copied)
        if self._by_name or info:
            extra = final.info
            extra["cost"] = cost
            extra["censored"] = censored
            if info:
                extra.update(info)
            final.arm, final.settings = used, self._settings(used)
        else:
            final = final.replace(arm=used, settings=self._settings(used),
                                  info={**final.info, "cost": cost, "censored": censored})
        if final.converged and not final.iterations:
            # the start already met the stopping rule: every arm would have cost 0 here
            return self._already_solved(final, undo, context, arm, best, pv, budget,
                                        fallback, paid)
        t = len(self._log)
        row = self._row(context, arm, final, cost, censored, fallback, pv, best, budget)
        # the row is complete before the policy is told: once told, the round is recorded
        # whatever stops it — Ctrl-C just after the update or in a long audit run (with the
        # audits it finished) — so the history, the policy and the audit records stay one
        # run (a file saved then loads and continues)
        told = self.policy.t
        try:
            self.tell(arm, cost, context, *tell)
            if self._paid is not None:  # (before the audits, whose budget reads the sum)
                self._paid.append(paid)
                self._paid_sum += paid
            if self._auditor is not None and self._auditor.due(t, censored):
                self._audit(t, op, b, x0, arm, best, pred, pv, r, final.iterations, context)
        finally:
            self._checked = None
            if self.policy.t != told:
                if self._paid is not None and len(self._paid) == len(self._log):
                    self._paid.append(paid)  # (interrupted between the update and this)
                    self._paid_sum += paid
                self._log.append(row)
                # released before the callback, which may solve or save again (an untold
                # round keeps the tuner until solve has undone its draw)
                self._owner = None
                self._lock.release()
        if self._hook is not None:
            self._hook(final)
        return final

    def _row(self, context, arm, final, cost, censored, fallback, pv, best, budget):
        """The log's tuple of one round (:data:`_COLUMNS`)."""
        if context is None:
            ctx = math.nan
        elif type(context) is float:
            ctx = context
        else:
            ctx = context.tolist()
        return (arm, self._omegas[arm], final.iterations, final.seconds, ctx, final.converged,
                cost, censored, fallback, 1.0 if pv is None else pv[arm],
                -1 if best is None else best, budget)

    def _already_solved(self, final, undo, context, arm, best, pv, budget, fallback, paid):
        """Record a round whose start already met the stopping rule (0 iterations; ``b = 0``
        too), without teaching anyone: every arm would have cost 0 iterations there (and
        built no set-up: the solvers test the start first), so the round says nothing about
        which arm is cheaper.  The policy is not told and its draw is undone (the next round
        draws as if this one had not been played); the arms' costs per iteration are not fed
        (:meth:`_run`); no audit is run (a round the audit schedule drew is passed on); the
        regret counts the round as one on which every arm costs what it paid
        (:func:`bandit.report.estimator_data`).  It is recorded like any other round:
        history (``cost`` is what it cost, in the cost unit), result, counts and totals."""
        t = len(self._log)
        self.policy._undo_draw(undo)
        final.info["already_solved"] = True
        final.info["cost"] = paid
        final.info["censored"] = False
        row = self._row(context, arm, final, paid, False, fallback, pv, best, budget)
        aud = self._auditor
        if aud is not None and t == aud.next_audit:
            if self._comm is None:
                aud.pass_round(t)
            else:  # rank 0 draws; every rank then holds the same schedule and generator
                ctl = _mpi.on_root(self._comm, lambda: (aud.pass_round(t),
                                                        aud.control_state())[1])
                if not _mpi.is_root(self._comm):
                    aud.load_control(ctl)
        self._checked = None
        try:
            self._log.append(row)
        finally:  # (Ctrl-C between the two: the log and what each round paid stay one run)
            if self._paid is not None and len(self._paid) < len(self._log):
                self._paid.append(paid)
                self._paid_sum += paid
        # released before the callback, which may solve or save again
        self._owner = None
        self._lock.release()
        if self._hook is not None:
            self._hook(final)
        return final

    def _validate(self, A, b, x0, context):
        """Step 1: everything the solve needs, checked and converted before the policy draws
        (``A`` prepared once per call; a matrix on the previous call's sparsity pattern reuses
        its pattern work)."""
        if not (context is None or (type(context) is float and context - context == 0.0)):
            context = _check_context(context)  # (a finite float needs no more)
        if not self._by_name:
            return A, b, x0, context  # a custom solver checks its own input
        op = self._last_op
        if self._check_rhs is not None and self._own_op and op is not None and (
                op._refresh_in_place(A)):
            # a simulation loop's usual call: a matrix on the pattern of the Tuner's own
            # working copy, refreshed in place with every check of prepare (see below)
            self._require(op)
            self._checked = checked = self._check_rhs(b, x0, op.n, self._copy_x0)
            return op, checked[0], checked[2], context
        import solvers

        # the previous call's operator lends its pattern work, and its storage when the
        # Tuner made it (overwrite: it is used by no one else) — never an operator the user
        # passed, even one the user prepares with overwrite=True: the user keeps that one
        op = solvers.prepare(A, backend=self.backend, like=self._last_op,
                             overwrite=self._own_op, comm=self._mat_comm)
        if not self._own_op and op is not A and op is not self._last_op:
            op._scratch = True  # a new operator of the Tuner's own: its working copy from now
        if self.backend == "petsc":
            ranks = 1 if self._comm is None else self._comm.Get_size()
            if op.comm.getSize() != ranks or (ranks > 1 and not _mpi.congruent(
                    op.comm, self._comm)):
                # rank 0's iteration count and verdict are every rank's: a rank solving its
                # own system would be told another rank's result
                said = f"A is distributed over {op.comm.getSize()} MPI rank(s), but the Tuner"
                if self._mat_comm is not None:
                    raise ValueError(
                        f"{said} runs on its communicator (comm=) of {ranks}: pass a system "
                        f"distributed over that communicator (a PETSc Mat on it, or a scipy "
                        f"matrix, which the Tuner converts on it)")
                raise ValueError(
                    f"{said} runs on PETSc.COMM_WORLD's {ranks}: rank 0 decides and its "
                    f"results are every rank's, so every rank must solve one system "
                    f"distributed over COMM_WORLD (for a separate system on each rank, give "
                    f"each rank a Tuner of its own with comm=MPI.COMM_SELF)")
            for method in self._arms.methods:
                op.require(method)
        else:
            self._require(op)
            if self._split:
                op.split_triangles()  # cached: only a new pattern's first operator builds them
        if self.backend == "petsc":
            b, x0 = self._petsc_vector(op, b, "b"), (
                None if x0 is None else self._petsc_vector(op, x0, "x0"))
        else:
            self._checked = checked = self._check_rhs(b, x0, op.n, self._copy_x0)
            b, x0 = checked[0], checked[2]
        self._last_op, self._own_op = op, op is not A
        return op, b, x0, context

    @staticmethod
    def _petsc_vector(op, v, name):
        from petsc4py import PETSc

        if isinstance(v, PETSc.Vec):
            op.vector(v, name, copy=False)  # global and local sizes
            if not math.isfinite(v.norm()):
                raise ValueError(f"{name} contains NaN or Inf")
            return v
        from solvers._operator import check_vector

        return check_vector(v, op.n, name)

    def _run(self, op, b, arm, x0, maxiter, guarded, tally=True):
        """One solver run with ``arm``; ``guarded`` runs stop early on divergence; ``tally``
        adds it to the running costs per iteration (the user's solves), else it is an audit
        run, on a copy of the arm's preconditioner (:meth:`ArmSet.audit_call`)."""
        arms = self._arms
        fast = self._fast[arm]
        checked = self._checked
        start = time.perf_counter()
        try:
            if fast is not None and checked is not None and b is checked[0] and (
                    x0 is checked[2]):
                # b and x0 as _validate checked them, A prepared and its requirements checked
                x = checked[3]  # the copy of x0 made by the check, for the first run only
                if x is None:
                    x = np.zeros(op.n) if x0 is None else x0.copy()
                else:
                    self._checked = checked[:3] + (None,)
                res = self._run_checked(fast[guarded], op, b, checked[1], x, maxiter)
            else:
                if tally:
                    fn, kw = self._calls[arm]
                    if arms.has_setups:
                        arms.age(arm, op)
                else:
                    fn, kw = arms.audit_call(arm, self._calls[arm], op)
                res = fn(op, b, x0=x0, maxiter=maxiter, **kw[guarded])
        except SetupError as exc:
            return self._refused(arm, op, x0, exc, time.perf_counter() - start, tally,
                                 "setup_failed")
        except IterateOverflowError as exc:
            if not self._by_name:  # a custom solver function's errors are its own
                raise
            # an iterate out of double range: an unstable ω (SOR's first sweep) fails like a
            # divergence; a system no arm can solve (the solution itself out of range) is
            # raised once every arm has failed so (_fall_back)
            return self._refused(arm, op, x0, exc, time.perf_counter() - start, tally,
                                 "diverged")
        if self._comm is not None:
            res = _mpi.agree_result(self._comm, res)  # rank 0's clock: same costs on every rank
        seconds = res.seconds
        if not 0.0 <= seconds < math.inf or (arms.has_setups and not 0.0 <= res.info.get(
                "setup_seconds", 0.0) <= seconds):  # (NaN fails both)
            res = self._clock_fault(arm, res, op)
        if arms.needs_work:
            arms.attach_work(arm, res, op)
        if tally:
            work = self._work
            work[0] += res.seconds
            work[1] += res.iterations
            if res.iterations or not res.converged:  # (a start that met the rule: no
                arms.observe(arm, res)  # iteration to measure, no set-up built)
        return res

    def _clock_fault(self, arm, res, op):
        """A run whose measured seconds are not a finite number >= 0 (a clock stepped back or
        jumping, a solver function's NaN), or whose set-up seconds are not within them: the
        seconds it is counted at, so no policy, estimate, history or file ever holds them —
        its iterations at the seconds per iteration measured so far (the arm's family's with
        ``cost="time"``, every run's otherwise; 0 before any), plus its set-up seconds when
        those are valid.  The reading is kept in ``info["clock_reading"]``; a
        ``RuntimeWarning`` says so."""
        reading = res.seconds
        setup = res.info.get("setup_seconds", 0.0)
        if not 0.0 <= setup < math.inf:
            setup = 0.0
        if 0.0 <= reading < math.inf:  # only the set-up's reading is out of place
            setup = min(setup, reading)
            seconds = reading
        else:
            if self.cost == "time":
                rate = self._arms.rate(arm, op)
            else:
                sec, its = self._work
                rate = sec / its if its > 0 else 0.0
            seconds = setup + res.iterations * (rate if 0.0 < rate < math.inf else 0.0)
        info = dict(res.info, clock_reading=reading)
        if "setup_seconds" in info:
            info["setup_seconds"] = setup
        # one message whatever the reading (shown once per call site by Python's default
        # filter, not once per solve), pointing at the user's call
        level, frame = 1, inspect.currentframe()
        while frame is not None and frame.f_globals.get("__name__", "").startswith("bandit"):
            level, frame = level + 1, frame.f_back
        warnings.warn("a run's measured seconds are not a finite number >= 0 (a clock stepped "
                      "back, a solver's NaN): it counts as its iterations at the seconds per "
                      "iteration measured so far (the reading is in info['clock_reading'])",
                      RuntimeWarning, stacklevel=level)
        return res.replace(seconds=float(seconds), info=info)

    def _auto_context_of(self, op) -> float:
        """The automatic context of ``op`` (``auto_context="spectral"``): the relaxation
        parameter the theory gives the system — Young's ω* for SOR, Axelsson's for SSOR-PCG —
        from :data:`AUTO_CONTEXT_STEPS` Lanczos steps
        (:func:`solvers.spectral.estimate_spectrum`; on PETSc with the Mat's own products, on
        every rank).  About that many matrix–vector products per solve; the seconds are kept
        (:meth:`summary`'s ``auto_context``)."""
        from solvers.spectral import estimate_spectrum

        t0 = time.perf_counter()
        try:
            est = estimate_spectrum(op, AUTO_CONTEXT_STEPS)
        except (TypeError, ValueError) as exc:
            # (the estimator's own hint, to solve with SOR instead, does not apply here)
            why = str(exc).split(" — use sor for others")[0]
            raise ValueError(f"auto_context='spectral' estimates the spectrum of every system: "
                             f"{why}") from None
        w = est.omega_sor if self._arms.configs[0].method == "sor" else est.omega_ssor
        self._context_seconds += time.perf_counter() - t0
        self._context_products += est.steps  # fewer than the steps on a small system
        return float(w)

    def _auto_context_refusal(self, exc, mine: int) -> None:
        """A policy's refusal of a context of another length, in the user's terms: the policy
        counts the automatic context too, one entry more than the user passed."""
        msg = str(exc)
        if not (msg.startswith("context must have ") or msg.startswith("a contextual policy")
                or msg.startswith("this policy was started without")):
            return
        ctx = self.history["context"]
        if not len(ctx):
            return
        first = ctx.shape[1] - 1 if ctx.ndim == 2 else 0

        def values(k):
            return "none" if k == 0 else str(k)

        given = ("no context of yours" if mine == 0 else
                 f"{mine} context value{'s' if mine > 1 else ''} of yours")
        raise ValueError(f"{given}, {values(first)} on the first solve: with "
                         f"auto_context={self._auto_context!r} the context is yours followed "
                         f"by the automatic one, so pass the same number of values on every "
                         f"solve") from None

    def _refused(self, arm, op, x0, exc, seconds, tally, reason):
        """The run of an arm the solver refused once it had started: its preconditioner
        refused this matrix (:class:`SetupError`, reason ``"setup_failed"``, warned once per
        arm), or an iterate left double range (:class:`solvers.IterateOverflowError`, reason
        ``"diverged"``).  A failed run of 0 iterations carrying the refusal in
        ``info["error"]``; the round goes on as after any failed attempt (a guarded solve falls
        back; the policy is told a failure), so a loop never stops on one unusable arm.  Not an
        observation of a solve for the arm's rates; its seconds are the user's all the same."""
        from solvers import SolveResult

        if reason == "setup_failed" and arm not in self._setup_warned:
            self._setup_warned.add(arm)
            warnings.warn(f"arm {arm} ({self.arm_labels[arm]}) could not be set up on a "
                          f"{op.n}-unknown system: {exc}; counted as a failed attempt of that "
                          f"arm (reason 'setup_failed')", RuntimeWarning, stacklevel=4)
        x = np.zeros(op.n) if x0 is None else np.array(x0, dtype=np.float64)
        res = SolveResult(x=x, iterations=0, converged=False, residual_norm=math.inf,
                          omega=arm_omega(self.policy.arms[arm]), solver=self._calls[arm][0]
                          .__name__, reason=reason, seconds=seconds,
                          backend=self.backend, rtol=self.rtol, atol=self.atol, maxiter=0,
                          info={"error": str(exc), "refused": type(exc).__name__,
                                "work": 0.0, "timed_work": seconds,
                                "setup": False, "setup_seconds": 0.0, "setup_work": 0.0})
        if tally:
            self._work[0] += seconds
        return res

    def _skip(self, op, b, x0, arm):
        """The attempt of an arm whose set-up alone exceeds its budget, not started: a stopped
        run of 0 iterations, carrying a lower bound of what it would have cost (``cost_floor``:
        :meth:`ArmSet.skip_floor`, at least the set-up it would have paid)."""
        from solvers import SolveResult

        x = np.zeros(op.n) if x0 is None else np.array(x0, dtype=np.float64)
        floor = self._arms.skip_floor(arm, op)
        return SolveResult(x=x, iterations=0, converged=False, residual_norm=math.inf,
                           omega=arm_omega(self.policy.arms[arm]), solver="skipped",
                           reason="stopped", seconds=0.0, backend=self.backend,
                           rtol=self.rtol, atol=self.atol, maxiter=0,
                           info={"work": 0.0, "timed_work": 0.0, "skipped": True,
                                 "cost_floor": floor})

    def _cost_of(self, r):
        return self._arms.cost_of(r)

    def _failure_cost(self, spent):
        """What a failed arm is told: ``maxiter`` iterations — in seconds or work, the most
        expensive arm's ``maxiter`` iterations at its running cost per iteration plus its
        set-up — at least ``spent`` (the failed round's own cost): more than any arm
        converging within ``maxiter`` costs."""
        return self._arms.failure_cost(self.maxiter, spent, self._last_op)

    def _budget(self, arm, best, pred, op=None):
        """Iteration cap of an exploratory attempt (``maxiter`` when not guarded; 0: not
        started, its set-up alone would exceed ``guard ×`` the leader's predicted cost)."""
        if self.guard is None or best is None or arm == best or not math.isfinite(pred):
            return self.maxiter
        return self._arms.budget(arm, self.guard, pred, op, self.maxiter, leader=best)

    # --- falling back -----------------------------------------------------------------------------
    def fallback_order(self, arm, best, context=None) -> list:
        """Every arm in the order a failed guarded solve tries them, the chosen ``arm`` in its
        place (it is skipped until the last resort; see the class notes).

        ``best`` is the leader from :meth:`decide`: first, then the other arms with a converged
        observation by the policy's predicted cost, then the conservative arm, then the rest
        from the most conservative on.

        Examples
        --------
        >>> from bandit import FixedArm
        >>> t = Tuner(FixedArm([1.0, 1.3, 1.6, 1.9], arm=3), solver="sor")
        >>> t.fallback_order(3, None)          # nothing converged yet: the smallest ω first
        [0, 1, 2, 3]
        >>> t.policy.update(2, 30.0); t.policy.update(1, 50.0)
        >>> t.policy.update(3, 9.0, converged=False)  # failed: not proven
        >>> t.fallback_order(3, 2)
        [2, 1, 0, 3]
        """
        p = self.policy
        trusted = p.converged_counts > 0
        first = [] if best is None else [int(best)]
        proven = [k for k in range(p.n_arms) if trusted[k] and k not in first]
        if proven:
            pred = np.asarray(p.predict(context), dtype=np.float64)
            rank = {k: i for i, k in enumerate(self._safe)}
            proven.sort(key=lambda k: (pred[k] if pred[k] == pred[k] else math.inf, rank[k]))
        safe = self._safe[0]
        order = first + [k for k in proven if k != safe]
        if safe not in first:
            order.append(safe)
        order += [k for k in self._safe if k not in order]
        return order

    def _fall_back(self, op, b, x0, context, arm, best, first, budget):
        """The fall-back step of a guarded solve whose attempt did not converge: the chain,
        the last resort, and what the policy is to be told (class notes).  Returns ``(result,
        cost to tell, True (the history's censored), (censored, converged) to tell,
        fallback arm, info)``."""
        order = _mpi.on_root(self._comm, self.fallback_order, arm, best, context)
        runs = [(arm, first, "x0", budget, self._dtol)]
        done = None
        # only the budget stopped it ("stopped": a custom solver's word for the same)
        budget_stop = first.reason in ("maxiter", "stopped") and budget < self.maxiter
        warm = first.x if budget_stop and first.iterations else None
        setups = self._arms.has_setups
        for k in order:  # the chain
            if k == arm:
                continue
            # a run on a reused set-up is capped here too (a stale one is rebuilt for the
            # last resort: a capped run is not a final failure)
            cap = self._arms.stale_cap(k, op, self.maxiter) if setups else self.maxiter
            if warm is None:
                r = self._run(op, b, k, x0, cap, True)
                runs.append((k, r, "x0", cap, self._dtol))
            else:  # the first fallback goes on from a budget-stopped attempt
                r = self._run(op, b, k, warm, cap, True)
                runs.append((k, r, "warm", cap, self._dtol))
                warm = None
            if r.converged:
                done = len(runs) - 1
                break
        if done is None:  # last resort: every failure that was not final, from x0, plain
            for k in order:
                if self._settled(k, runs):
                    continue
                r = self._run(op, b, k, x0, self.maxiter, False)
                runs.append((k, r, "x0", self.maxiter, False))
                if r.converged:
                    done = len(runs) - 1
                    break
        if done is None and all(r.info.get("refused") == "IterateOverflowError"
                                for _, r, *_ in runs):
            # every arm's iterate left double range: the system's (its solution, or x0 out of
            # proportion with b), not an arm's — refused as the solvers refuse it (the round
            # is abandoned, nothing is told)
            raise IterateOverflowError(runs[0][1].info["error"])
        its = sum(r.iterations for _, r, *_ in runs)
        secs = sum(r.seconds for _, r, *_ in runs)
        floor = first.info.get("cost_floor", 0.0)  # a skipped attempt's set-up
        if done is None:
            best_run = min(range(len(runs)), key=lambda i: _residual_key(runs[i][1]))
        else:
            best_run = done
        used, res = runs[best_run][0], runs[best_run][1]
        final = res.replace(iterations=its, seconds=secs, info=dict(res.info))
        round_cost = secs if self.cost == "time" else float(its) if self.cost == "iterations" \
            else sum(self._cost_of(r) for _, r, *_ in runs)
        self._round_cost = round_cost
        # what the policy is told about the arm it chose (class notes)
        mine = [r for k, r, *_ in runs[1:] if k == arm and r.converged]
        if mine:
            cost = round_cost if self.policy.report_round_cost else self._cost_of(mine[0])
            censored, converged = False, True
        elif budget_stop and all(k != arm for k, *_ in runs[1:]):
            censored, converged = True, False  # stopped by the budget: at least this much
            cost = max(self._cost_of(first), floor)
            if self.policy.report_round_cost:
                cost, censored = round_cost + floor, False
        else:  # failed
            cost = self._failure_cost(round_cost)
            if self.policy.report_round_cost:
                cost = max(cost, round_cost)
            censored, converged = True, False
        info = {"explored": {"arm": arm, "omega": arm_omega(self.policy.arms[arm]),
                             "iterations": first.iterations, "seconds": first.seconds,
                             "reason": first.reason, "censored": True, "budget": budget,
                             "restarted": len(runs) < 2 or runs[1][2] == "x0"},
                "attempts": [{"arm": k, "omega": self._omegas[k], "iterations": r.iterations,
                              "seconds": r.seconds, "reason": r.reason, "start": s, "budget": m,
                              "dtol": GUARD_DTOL if g else None} for k, r, s, m, g in runs]}
        if "error" in first.info:
            info["explored"]["error"] = first.info["error"]
        if floor or first.info.get("skipped"):  # not started: its set-up exceeded the budget
            info["explored"]["skipped"] = True
        if done is None:
            tried = sorted({k for k, *_ in runs})
            info["all_arms_failed"] = True
            info["failure"] = (f"every arm failed on this system: {len(tried)} of "
                               f"{self.policy.n_arms} arms, {len(runs)} runs, {its} iterations; "
                               f"returning the run with the smallest residual (arm {used}, "
                               f"{res.reason})")
        fallback = -1 if best_run == 0 else used
        return final, cost, True, (censored, converged), fallback, info

    def _settled(self, k, runs) -> bool:
        """Whether a run of arm ``k`` this round failed for good: from ``x0`` with the whole
        ``maxiter``, and not merely stopped by the guard's divergence tolerance."""
        for arm, r, start, cap, guarded in runs:
            if arm == k and r.reason == "setup_failed":
                return True  # the same matrix would be refused again
            if arm != k or start != "x0" or cap < self.maxiter:
                continue
            if r.reason in ("maxiter", "breakdown", "converged"):
                return True
            if r.reason == "diverged" and (not guarded or not math.isfinite(r.residual_norm)):
                return True
        return False

    def _prime(self, op):
        """Show the policy the first system before its first draw, once: a policy with a
        ``prime(A, solver)`` method (e.g. ``JointCB(prior="theory")``) takes its prior from it.
        Under MPI only rank 0's policy decides, so only rank 0 is primed.  Ctrl-C while it
        runs (a spectral estimate of a large matrix) leaves it to the next solve, so an
        interrupted first call changes nothing, as any call abandoned before the draw."""
        prime = getattr(self.policy, "prime", None)
        if prime is None or self.policy.t > 0:
            self._primed = True
            return
        try:
            if self._comm is None:
                prime(op, self.solver_name)
            else:
                # the spectral estimate of a distributed matrix is collective: every rank
                # runs it, and rank 0's policy takes its prior from the estimate
                from solvers.spectral import estimate_spectrum

                try:
                    est = estimate_spectrum(op)
                except (TypeError, ValueError):  # no prior (as theory_costs on one rank)
                    est = None
                _mpi.on_root(self._comm, prime, est, self.solver_name)
        except Exception:
            self._primed = True  # an error of the prior itself is not retried every solve
            raise
        self._primed = True

    def _settings(self, arm):
        a = self.policy.arms[arm]
        return dict(a) if isinstance(a, dict) else {"omega": a}

    def _audit(self, t, op, b, x0, arm, best, pred, pv, first, paid, context):
        """The audit step (``bandit/audit.py``): after the solve, off the user's clock and
        never told to the policy, run the arms the audit generator drew on this system."""
        aud = self._auditor
        stopped = not first.converged
        # a randomised policy's probability of the arm (a deterministic one favours none)
        p_arm = 0.0 if pv is None or not self.policy.randomised else float(pv[arm])
        if self._comm is None:
            cols, row, complete = aud.decide(self, t, stopped, p_arm)
        else:  # rank 0 draws; every rank then holds the same plans and generator
            cols, row, complete, ctl = _mpi.on_root(
                self._comm, lambda: (*aud.decide(self, t, stopped, p_arm),
                                     aud.control_state()))
            if not _mpi.is_root(self._comm):
                aud.load_control(ctl)
        if complete and arm not in cols:
            cols = [arm] + list(cols)  # the stopped arm, run to the end
        if not cols and not row:
            return
        self._audit_runs(t, op, b, x0, arm, best, pred, pv, first, paid, context, cols, row)
        aud.settle(self, t)

    def _audit_runs(self, t, op, b, x0, arm, best, pred, pv, first, paid, context, cols, row):
        """The audit runs of round ``t``: the column arms ``cols``, then the row if ``row``."""
        aud = self._auditor
        fail = self._failure_cost(0.0)
        known = {arm: self._cost_of(first)} if first.converged else {}

        def prob(k):
            return (1.0 if k == arm else 0.0) if pv is None else float(pv[k])

        def cap_of(k):  # what an attempt of arm k would have been capped at this round
            return self.maxiter if k == best else self._budget(k, best, pred, op)

        for k in cols:
            run_cap = aud.column_cap(k, paid, self.maxiter)
            if k in known:  # the played arm converged: observed for free
                aud.record(t, k, False, known[k], first.iterations, 0.0, True, cap_of(k),
                           run_cap, prob(k), 0.0)
                continue
            res = self._run(op, b, k, x0, run_cap, True, tally=False)
            value = self._cost_of(res) if res.converged else fail
            aud.record(t, k, False, value, res.iterations, res.seconds, res.converged,
                       cap_of(k), run_cap, prob(k), self._cost_of(res), completion=k == arm)
            if res.converged:
                known[k] = value
        if not row:
            return
        # every other arm, capped at the cheapest cost found so far (it cannot be the minimum
        # if it needs more); cheapest predicted first so the cap falls fast
        low = min(known.values(), default=math.inf)
        order = _mpi.on_root(self._comm, self._row_order, context)
        for k in order:
            if k in known:
                continue
            cap = self.maxiter
            if self.cost == "iterations" and math.isfinite(low):
                cap = min(self.maxiter, int(low) - 1)
                if cap < 1:
                    break  # nothing can beat the minimum
            res = self._run(op, b, k, x0, cap, True, tally=False)
            value = self._cost_of(res) if res.converged else fail
            aud.record(t, k, True, value, res.iterations, res.seconds, res.converged,
                       cap_of(k), cap, prob(k), self._cost_of(res))
            if res.converged and value < low:
                low = value

    def _row_order(self, context):
        pred = np.asarray(self.policy.predict(context), dtype=float)
        pred = np.where(np.isfinite(pred), pred, math.inf)
        rank = {k: i for i, k in enumerate(self._safe)}
        return sorted(range(self.policy.n_arms), key=lambda k: (pred[k], rank[k]))

    @property
    def _rows(self) -> dict:
        """The log as one list per column (:data:`_COLUMNS`)."""
        cols = list(zip(*self._log)) if self._log else [()] * len(_COLUMNS)
        return {k: list(v) for k, v in zip(_COLUMNS, cols)}

    # --- reporting (bandit/report.py) -------------------------------------------------------------
    @property
    def history(self) -> dict:
        """Per-solve arrays, one entry per solve (schema: :data:`bandit.report.HISTORY_SCHEMA`):
        ``round``, ``arm`` (chosen), ``label``, ``omega``, ``iterations`` and ``seconds`` (all
        runs, audits excluded), ``context`` (NaN if none; 2-D for vectors), ``converged``,
        ``cost`` told to the policy (of a round already solved: what it cost, not told),
        ``censored`` (the chosen arm's attempt did not converge),
        ``fallback_arm`` (−1 if none), ``p`` (the policy's probability of the chosen arm),
        ``leader``, ``budget`` (the attempt's iteration cap), ``audit_runs``."""
        return _report.history(self)

    def to_csv(self, path) -> None:
        """Write :attr:`history` to a CSV file (:func:`bandit.report.read_csv` reads it)."""
        _report.write_csv(self.history, path)

    def regret(self, *, level=0.9, n_boot=200, seed=0, rounds=None):
        """Estimated regret against the best fixed arm and the instance-optimal choice.

        Returns a :class:`bandit.estimate.RegretReport`: for each comparator the estimate,
        its interval at ``level``, the method (and whether it is biased), per-round curves,
        and what the estimation cost (docs/regret.md).  Costs are in the tuner's unit
        (iterations, or seconds with ``cost="time"``); regret = what the run paid (every run of
        every solve) minus what the comparator would have paid.

        ``rounds``: estimate over the first ``rounds`` rounds only (default: all so far) —
        their solves, and the audits run on them — e.g. to compare with exact costs known for
        those systems only; the comparators are then those of that part of the run.  The
        report's ``cost`` block still describes the whole run's audits.

        Examples
        --------
        >>> import numpy as np
        >>> from bandit import Tuner, TsallisINF
        >>> from solvers import gallery
        >>> A = gallery.laplacian_2d(6)
        >>> t = Tuner(TsallisINF([1.2, 1.5], seed=0), solver="sor")
        >>> for c in (0.0, 0.1, 0.2):
        ...     _ = t.solve(A + c * np.eye(36), np.ones(36))
        >>> rep = t.regret(rounds=2)               # over the first two solves only
        >>> rep.rounds, rep.paid == int(t.history["iterations"][:2].sum())
        (2, True)
        """
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if rounds is not None:
            T = len(self._log)
            if isinstance(rounds, (bool, np.bool_)) or not isinstance(
                    rounds, numbers.Integral) or not 0 <= rounds <= T:
                raise ValueError(f"rounds must be None or an integer from 0 to the {T} rounds "
                                 f"so far, got {rounds!r}")
            rounds = int(rounds)
        return _report.regret(self, level=level, n_boot=n_boot, seed=int(seed), rounds=rounds)

    def summary(self) -> dict:
        """Totals, ``all_converged``, arm counts by label, audit cost and the regret block."""
        return _report.summary(self)

    @property
    def audits(self) -> dict:
        """Audit runs as arrays (``bandit.audit.AUDIT_COLUMNS``; empty without audits)."""
        from .audit import AUDIT_COLUMNS

        rec = self._auditor.records if self._auditor is not None else {}
        return {c: np.asarray(rec.get(c, [])) for c in AUDIT_COLUMNS}

    @property
    def audit_seconds(self) -> float:
        """Solver seconds of every audit run (never part of a result's ``seconds``)."""
        return 0.0 if self._auditor is None else self._auditor.seconds

    def _run_data(self):
        return _report.estimator_data(self)

    # --- persistence ----------------------------------------------------------------------------------
    def __getstate__(self):
        # the progress bar holds an open stream; like save, a copy keeps neither it nor the
        # callback (often a lambda, which pickle refuses; set them on the copy again); a copy
        # made inside a solve (its solver function) is idle
        state = dict(self.__dict__, _hook=None, _checked=None, _progress=False,
                     _callback=None)
        del state["_lock"], state["_owner"]
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in _FIXED + ("progress", "callback"):  # a copy made before they were read-only
            if name in state:
                state["_" + name] = state.pop(name)
        state.pop("_in_round", None)
        self.__dict__.update(state)
        # a copy made by an earlier version lacks what was added since
        for name, default in (("_mat_comm", None), ("_auto_context", None),
                              ("_context_seconds", 0.0), ("_context_products", 0)):
            self.__dict__.setdefault(name, default)
        self.__dict__.setdefault("_setup_warned", set())
        self._lock, self._owner = threading.RLock(), None
        # the hot path's functions are this version's (a copy made by another version may
        # name others, with other results)
        self._run_checked = self._check_rhs = self._copy_x0 = None
        self._checked_entries()

    def save(self, path) -> None:
        """Write the tuner (policy state, history, audits) to a versioned strict-JSON file.

        Progress and callback settings are not saved (pass them again to :meth:`load`).

        Save between solves — in the loop, or in the ``callback`` (the round is recorded
        before it runs).  A save from inside a solve of this tuner (a signal handler that
        interrupts it, the solver function) raises ``RuntimeError`` and writes nothing: the
        round is half done (the policy may have drawn or been told, the history not yet
        written), and such a file would not continue the run.  A save from another thread
        waits for the running solve to be recorded.

        The file is replaced atomically (a crash leaves the old file or the new one), keeps
        the permission bits of the file it replaces where the file system allows it, and no
        temporary file stays behind (one
        left by a save that was killed is removed by the next save of the same file).

        A Tuner also pickles (``pickle.dumps``), copying its full working state, except while
        it holds an AMG set-up, and without progress and callback settings (as :meth:`save`;
        the copy reports nothing).  pyamg's hierarchy cannot be pickled, so that raises a
        ``TypeError`` pointing here; :meth:`save` and :meth:`load` are the documented way to
        keep a tuner.
        """
        if not isinstance(self.solver, str):
            raise ValueError("a Tuner with a custom solver function cannot be saved by name; "
                             "use a solvers.SOLVERS name")
        me = _get_ident()
        if self._owner == me:
            raise RuntimeError(
                "Tuner.save was called while a solve of this tuner is running (from a signal "
                "handler or its solver function): the round is half done, so the file would "
                "not continue the run; nothing was written. Save between solves: e.g. let "
                "the handler set a flag, and save once solve returns (or in the callback)")
        self._hold()  # another thread's solve: wait until it is recorded
        self._owner = me
        try:
            self._save(path)
        finally:
            self._owner = None
            self._lock.release()

    def _save(self, path):
        from . import POLICIES

        if type(self.policy) not in POLICIES.values():  # load rebuilds it by class name
            raise ValueError(f"a Tuner whose policy is a {type(self.policy).__name__}, not a "
                             f"bandit.POLICIES class, cannot be saved: Tuner.load rebuilds the "
                             f"policy by its class name (pickle the tuner instead)")
        payload = to_jsonable({
            "format": FORMAT, "version": VERSION,
            "config": {"solver": self.solver, "rtol": self.rtol, "atol": self.atol,
                       "maxiter": self.maxiter, "cost": self.cost, "backend": self.backend,
                       "guard": self.guard, "audit_budget": self.audit_budget,
                       "audit_seed": self.audit_seed,
                       **({} if self.auto_context is None else
                          {"auto_context": self.auto_context})},
            "policy": self.policy.state_dict(), "rows": self._rows, "work": self._work,
            "audits": None if self._auditor is None else self._auditor.state_dict(),
            "measured": self._arms.measured_state(),
            **({} if self._paid is None else {"paid": self._paid})})
        _mpi.write_on_root(self._comm, write_atomic, path, payload)  # once, by rank 0

    @classmethod
    def load(cls, path, *, progress=False, callback=None, comm=None, **settings) -> "Tuner":
        """Read a file written by :meth:`save` (``progress``/``callback``/``comm`` as for the
        constructor: the communicator is not saved).  Every other setting is the file's.

        Raises
        ------
        TunerFileError
            If the file is missing, a folder, unreadable, corrupt, from a newer relaxtune or
            inconsistent in any part (see ``bandit/_tunerfile.py`` and docs/guarantees.md);
            the message names the file and the problem.
        TypeError
            For a setting other than ``progress``, ``callback`` and ``comm`` (``rtol=...``): the file's
            settings are restored as saved (make a new Tuner for others).
        ValueError
            For a ``progress`` or ``callback`` the constructor refuses (before the file is
            read).
        """
        if settings:
            names = ", ".join(sorted(settings))
            raise TypeError(
                f"Tuner.load takes only progress, callback and comm, got {names}: a loaded tuner "
                f"continues with the settings it was saved with (a change would part it from "
                f"the run it continues); for other settings make a new "
                f"Tuner(loaded.policy, ...), which continues the learner with a new history")
        _check_hooks(progress, callback)  # the caller's, not the file's
        data = read_tuner_file(path, fmt=FORMAT, version=VERSION, oldest=1, columns=_COLUMNS)
        try:
            tuner = cls(data["policy"], **data["config"], progress=progress, callback=callback,
                        comm=comm)
        except (TypeError, ValueError, ImportError) as exc:
            raise TunerFileError(f"{path}: config: {exc}") from None
        tuner._log = data["log"]
        tuner._work = data["work"]
        measured = data.get("measured")
        if measured is not None:  # what the runs measured: the guard's budgets go on the same
            arms = tuner._arms
            families = max(arms.n_families, 1)
            if len(measured["rate"]) != families:
                raise TunerFileError(f"{path}: measured.rate has {len(measured['rate'])} "
                                     f"families, expected {families} for these arms")
            for part in ("setup", "solve_floor", "served"):
                for k, _ in measured.get(part, ()):
                    if not (k < tuner.policy.n_arms and arms.configs
                            and arms.configs[k].setup_key is not None):
                        raise TunerFileError(f"{path}: measured.{part} names arm {k}, which "
                                             "has no set-up")
            arms.load_measured(measured)
        if tuner._paid is not None:
            # what each solve paid in work or timed work; a file without it (written before
            # it was kept) reads the cost told to the policy, exact for a round whose first
            # attempt converged
            paid = data.get("paid")
            rows = tuner._rows
            tuner._paid = list(paid) if paid is not None else [float(c) for c in rows["cost"]]
            tuner._paid_sum = float(sum(tuner._paid))
        if data["auditor"] is not None and tuner._auditor is not None:
            tuner._auditor.load_state(data["auditor"])  # (a one-arm tuner audits nothing)
        return tuner

    def __repr__(self):
        return (f"Tuner({type(self.policy).__name__}, solver={self.solver_name!r}, "
                f"cost={self.cost!r}, rounds={len(self._log)})")

