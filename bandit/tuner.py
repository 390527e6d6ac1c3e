"""The Tuner: one-line change inside a simulation loop that learns the solver's ω as it goes.

The class is put together from one module per part of a solve: the checks of its settings
(:mod:`bandit._tuner_checks`), each solve's input and operator refresh
(:mod:`bandit._tuner_input`), the policy's prior and one run of an arm with its clock checks
(:mod:`bandit._tuner_run`), the guard and the fallback chain with its order
(:mod:`bandit._tuner_guard`), the audit step (:mod:`bandit._tuner_audit`), the log of rounds,
the reports read from it and the per-solve hooks (:mod:`bandit._tuner_records`), and pickling
and the tuner file (:mod:`bandit._tuner_persist`); construction, the decision point and the
steps of a round are here.
"""
from __future__ import annotations

import math
import numbers
import threading
import time as _time
from threading import get_ident as _get_ident

import numpy as np

from ._base import Policy
from .arms import COSTS, _is_config_dict, arm_kwargs
from .armset import ArmSet
from ._persist import TunerFileError
from . import mpi as _mpi
from . import report as _report
from .audit import Auditor
from ._tuner_account import told_cost as _told_cost
from ._tuner_audit import AuditSteps
from ._tuner_checks import (SettingChecks, _FIXED, _check_hooks, _first_checks, _fixed,
                            _integer, _number, _takes_dtol, _what_policy)
from ._tuner_guard import GUARD_DTOL, GuardSteps
from ._tuner_input import AUTO_CONTEXT_STEPS, AUTO_CONTEXTS, InputSteps
from ._tuner_persist import FORMAT, VERSION, Persistence
from ._tuner_records import Records
from . import _tuner_own
from ._tuner_tol import ToleranceSteps, check_tuner_tolerances
# (_COLD_ITERATIONS and _takes_prior, defined in tuner.py before, still importable from it)
from ._tuner_run import _COLD_ITERATIONS, RunSteps, _scratch_rows, _takes_prior
from ._tuner_share import (policy_taken as _policy_taken, still_held as _still_held,
                           take_policy as _take_policy)

__all__ = ["Tuner", "arm_kwargs", "TunerFileError", "GUARD_DTOL", "AUTO_CONTEXTS",
           "AUTO_CONTEXT_STEPS"]

_COLUMNS = _report.LOG_COLUMNS  # the fields of one solve's row tuple in the log
# the costs a converged attempt is told without ArmSet.cost_of (Tuner._solve): counted
# (iterations) or priced by attach_work (work, timed_work), never read off the clock here
_COUNTED = frozenset(("iterations", "work", "timed_work"))


class Tuner(InputSteps, RunSteps, GuardSteps, AuditSteps, Records, Persistence,
            SettingChecks, ToleranceSteps):
    """Solve a sequence of systems, choosing each solve's arm (ω or a whole solver
    configuration) with a policy; costs minimised.

    Parameters
    ----------
    policy : Policy or sequence of arms, optional
        Any :data:`bandit.POLICIES` learner over the arms: ω values, setting dicts of
        ``solver``, or configuration dicts that name their own method and preconditioner
        (``{"method": "cg", "pc": "amg", "reuse": 20}``; see :mod:`bandit.arms` and
        :func:`bandit.config_grid`); default :func:`bandit.default_policy` for the solver.
        A list of arms without a learner (``Tuner(bandit.config_grid(...))``) is
        ``bandit.default_policy`` over them (for the solver's name when they are plain ω
        values, ``None`` otherwise).  A policy with a ``prime(A, solver)``
        method is shown the first system once, before its first draw (its prior).
    solver : {"ssor_pcg", "sor", "cg"} or callable
        The method of float arms and of setting dicts (configuration arms carry their own),
        or a function with the same signature
        ``f(A, b, omega=..., *, x0, rtol, atol, maxiter, backend)`` returning a SolveResult
        (if it also takes ``dtol``, guarded attempts pass :data:`GUARD_DTOL`).
    rtol, atol, maxiter : float, float, int
        Stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` and iteration cap of every solve;
        ``rtol`` in ``[0, 1)`` (0 only with ``atol > 0``: from ``x0 = 0`` a larger one holds
        before any iteration).  A solve may pass a tolerance of its own
        (:meth:`solve`'s ``rtol``/``atol``).
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
        converges whenever some arm converges on the system within ``maxiter`` (unless a run
        stagnates: the tolerance looks unattainable and the chain is cut, Notes).  ``None``
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
    seed : int, optional
        Seed of the learner the Tuner builds when ``policy`` is None or a list of arms (two
        such Tuners with the same seed make the same choices on the same systems when the
        cost is counted); refused with a policy object, which owns its generator already.
    progress : bool or str, default False
        Show a tqdm bar with running iterations, regret estimate and leader (a string is
        its description; an empty one, a bar without one).  With standard error not a
        terminal (a batch job's log) the bar writes plain lines instead of redraws: at most
        one a minute, and the final totals when it closes.
    callback : callable, optional
        ``callback(result)`` after each solve, with the returned SolveResult.  An exception
        it raises (Ctrl-C too) leaves :meth:`solve` with the solve recorded, and carries its
        result as ``exc.result``.

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
       arms with a converged observation by predicted cost; the arms that finished earlier
       solves in this chain, the latest first; the most conservative arm; then every
       remaining arm, from the most conservative on.  The first fallback continues from
       the attempt's iterate if the attempt was only stopped by its budget; every other run
       starts from the user's ``x0``.
    3. *Last resort*, if none converged: every arm whose failure was not final — stopped by
       the budget, by the cap of a reused set-up (rebuilt now) or by ``GUARD_DTOL``, or run
       from a warm iterate — is run again from ``x0``
       with ``maxiter`` and the solver's default divergence tolerance.

    A run that stops as ``"stagnated"`` (the tolerance looks unattainable in double precision)
    cuts steps 2 and 3 short: the most conservative arm not yet run is tried once, then the
    best run is returned, not converged, with ``info["unattainable"] = True`` and a message in
    ``info["failure"]`` (:data:`bandit._tuner_guard.STAGNATION_FALLBACKS`).

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
      audited, and the regret counts every arm at what it paid (a contribution of 0).  (A
      custom solver function with ``cost="time"`` may count no iterations at all: its
      rounds are told as below.)
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

    **The Tuner's own time**: every solve's wall time outside the solver's runs (result
    ``seconds``) and the audit runs — the input's checks, the learner, the guard, the records —
    is read on ``time.perf_counter`` (two reads a solve) into ``history["tuner_seconds"]`` and
    ``summary()["tuner"]`` (docs/regret.md, *What the Tuner itself costs*); when its median
    over the latest 50 solves exceeds theirs, a :class:`bandit.TunerCostWarning` (a
    ``RuntimeWarning``, once per Tuner) says so and how to call the solver itself at the
    leader's settings.

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

    What the Tuner itself cost besides the solver's runs (``time.perf_counter``, the
    solvers' clock; audits apart), per solve in the history and in the summary (on systems
    of 64 unknowns it exceeds the solves; past 50 such solves it warns so, once):

    >>> own = tuner.summary()["tuner"]
    >>> own["rounds"], bool(own["seconds"] == tuner.history["tuner_seconds"].sum())
    (20, True)
    >>> own["clock"], bool(own["per_call_us"] > 0 and own["share_of_solves"] > 0)
    ('time.perf_counter', True)

    Configuration arms choose among solver families (compared by default by their work
    priced at the clock's rate for each family):

    >>> from bandit import config_grid
    >>> t = Tuner(SmoothIGW(config_grid(omegas=[1.2, 1.7], pcs=["jacobi", "ic0"]), seed=0))
    >>> t.cost, t.arm_labels
    ('timed_work', ['ssor_pcg ω=1.20', 'ssor_pcg ω=1.70', 'cg+jacobi', 'cg+ic0'])
    >>> t.solve(A, np.ones(64)).converged
    True
    """

    #: a converged attempt's cost in a counted or priced unit read in :meth:`_solve` itself
    #: (the numbers of :meth:`ArmSet.cost_of`, bit for bit); False: through ``_cost_of``, as
    #: before (what the tests compare with)
    _inline_cost = True

    policy, solver, rtol, atol, maxiter, cost, backend, guard, audit_budget, audit_seed, \
        auto_context = (_fixed(name) for name in _FIXED)

    def __init__(self, policy=None, solver="ssor_pcg", *, rtol=1e-8, atol=0.0, maxiter=10_000,
                 cost=None, backend="numba", guard=3.0, audit_budget=0.0,
                 audit_seed=None, progress=False, callback=None, comm=None,
                 auto_context=None, seed=None):
        # on several ranks a refusal on one rank is a refusal on every rank: the others would
        # wait forever in the comparison of settings below
        world = _mpi.world(backend, comm) if isinstance(backend, str) else None
        _mpi.on_every_rank(world, lambda: self._construct(
            policy, solver, rtol=rtol, atol=atol, maxiter=maxiter, cost=cost, backend=backend,
            guard=guard, audit_budget=audit_budget, audit_seed=audit_seed, progress=progress,
            callback=callback, comm=comm, auto_context=auto_context, seed=seed))
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
        _take_policy(self)  # (a refused construction takes nothing over)

    def _construct(self, policy, solver, *, rtol, atol, maxiter, cost, backend, guard,
                   audit_budget, audit_seed, progress, callback, comm, auto_context, seed):
        """The constructor's checks and state, up to the ranks' comparison of settings."""
        if seed is not None:
            if isinstance(policy, Policy):
                raise ValueError("seed seeds the learner the Tuner builds (policy None or a "
                                 "list of arms); a policy given already owns its generator: "
                                 "seed it where it is made (e.g. bandit.default_policy(..., "
                                 "seed=...))")
            seed = _integer(seed, "seed")
            if seed < 0:
                raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
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
            policy = default_policy(solver if isinstance(solver, str) else None, seed=seed)
        elif isinstance(policy, (list, tuple, np.ndarray)):
            # arms without a learner: the recommended one over them; the solver's theory
            # prior only for plain ω arms (configuration arms name their own methods)
            from ._checks import arm_sequence
            from .defaults import default_policy

            self._resolve(solver)
            arms = arm_sequence(policy)  # (a 2-D array is refused, not split into its rows)
            plain = all(isinstance(a, numbers.Real) and not isinstance(a, (bool, np.bool_))
                        for a in arms)
            policy = default_policy(solver if plain and isinstance(solver, str) else None, arms,
                                    seed=seed)
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
        rtol, atol = check_tuner_tolerances(rtol, atol)  # (solve's rtol/atol: the same)
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
        # on several ranks an ic0 arm runs block Jacobi + ICC(0) per rank (arms.on_ranks)
        world = _mpi.world(backend, comm)  # (None on one rank or without PETSc)
        arms = ArmSet(policy.arms, solver, backend, ranks=1 if world is None else world.size)
        if (isinstance(solver, str) and solver != "ssor_pcg" and arms.configs is not None
                and all(_is_config_dict(a) for a in policy.arms)
                and any(c.method != solver for c in arms.configs)):
            # configuration arms name their own method: a solver= they do not use had been
            # ignored without a word (config_grid() with solver="sor" ran SSOR-PCG and CG)
            raise ValueError(
                f"solver={solver!r} is not used: every arm is a configuration naming its own "
                f"method ({', '.join(sorted({c.method for c in arms.configs}))}); drop "
                f"solver=, or give {solver} arms as configurations "
                f"({{'method': {solver!r}, ...}}; config_grid(sor_omegas=[...]) for SOR)")
        if arms.configs is not None:  # a float arm of a method without ω (cg): NaN, not 1.0
            self._omegas = [math.nan if c.omega is None else w
                            for w, c in zip(self._omegas, arms.configs)]
        cost = self._resolve_cost(cost, arms, backend)
        arms.cost = cost
        self._arms = arms
        self._rtol, self._atol, self._maxiter = rtol, atol, maxiter
        self._cost, self._backend = cost, backend
        self._guard = guard
        gate = getattr(policy, "gate_tries", None)
        if gate is not None:  # a learner's try gate weighs a rival's try by this guard's
            gate(arms.gate_spec(guard))  # allowance, inside its own draw (JointCB.try_gate)
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
        # the tuner's own seconds per solve (NaN: not measured) and their sums: own, solver
        # seconds of the same rounds, rounds, and the same without a process's first solve
        # (bandit._tuner_own); warned once (per process)
        self._own, self._own_sums, self._own_warned = [], [0.0, 0.0, 0, 0.0, 0.0, 0], False
        # solves of this process (the first loads the kernels), the next warning check
        self._own_since, self._own_next = 0, _tuner_own.WARN_ROUNDS
        self._round_start = 0.0  # the clock when the solve in progress began
        # the arms that finished earlier solves in the fallback chain, latest first, and the
        # rounds of the log read for them (fallback_order; rebuilt from a loaded log)
        self._rescuers = [0, []]
        # rounds at which a process began solving with this tuner (0, and each Tuner.load's
        # next round): each such first solve also loads the compiled kernels
        self._process_starts = [0]
        # the next round when this tuner was loaded from a file (Tuner.load): a start once a
        # solve has been recorded there, so loading and saving again changes nothing
        self._resumed_at = None
        self._progress, self._callback = progress, callback
        # one attribute test per solve when both are off
        self._hook = (_report.Hook(self, progress, callback)
                      if progress is not False or callback is not None else None)
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
        self._comm = world
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
        if not self._by_name:
            self._check_solver_call()  # (a function that cannot take the call: named now)
        self._safe = arms.safety_order()
        # per arm and guarded/plain: the solver's entry without its own checks of A, b and x0,
        # which _validate has made (None: the public function runs)
        # set by _checked_entries (Numba arms)
        self._run_checked = self._check_rhs = self._copy_x0 = None
        self._fast = self._checked_entries()
        # an arm's first run in this process is preceded by an untimed short one (_run)
        self._cold_runs = cost in ("time", "timed_work")
        # (b, ‖b‖, x0, the first run's start: a copy of x0 or None) of the solve in progress,
        # as _validate checked them
        self._checked = None
        # one arm: the leader is that arm once it has converged (no prediction needed)
        self._lone = policy.n_arms == 1
        # JointCB's own leader: a round whose draw played the leader asks it for no predicted
        # cost when nothing reads one (no auditor): see _solve
        from .joint import JointCB
        self._drawn = isinstance(policy, JointCB) and type(policy).leader is JointCB.leader
        self._require = arms.requirement_check() if self._by_name else None
        # SOR and SSOR-PCG read the operator's split triangles, built by the first solve on a
        # new sparsity pattern (later operators prepared like it get them in `prepare`): built
        # in _validate instead, so no arm's first timed solve pays the pattern's one-time work
        self._split = backend == "numba" and self._by_name and any(
            m in ("sor", "ssor_pcg") for m in arms.methods)
        # so is the kernels' scratch space (kept per pattern), touched page by page by the
        # first solve that uses it: 0.2 ms, as much as the solve, at n = 10⁴
        self._scratch_rows = max([_scratch_rows(m) for m in arms.methods] or [0]) if (
            backend == "numba" and self._by_name) else 0

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
        (``backend="petsc"``, > 1 rank) every rank's policy, a copy of rank 0's from the first
        draw on (its prior, seed and generator included), draws, and rank 0's decision is the
        one every rank uses, so every rank solves with the same arm and keeps the same policy
        (:func:`bandit.mpi.decide_on_every_rank`; a policy that does not pickle is asked on
        rank 0 only).
        """
        if self._comm is None:
            return self._decide(context)
        copied = self.__dict__.get("_replicated")
        if copied is None:  # the first draw, after the prior rank 0's policy took (_prime)
            copied = _mpi.copy_root_policy(self._comm, self.policy)
            if self._primed:
                self._replicated = copied
        if copied:
            return _mpi.decide_on_every_rank(self._comm, self.policy, self._decide, context)
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
    def solve(self, A, b, *, x0=None, context=None, rtol=None, atol=None):
        """Solve ``A x = b`` with the arm the policy picks, learn from the cost, return the result.

        Steps: validate (nothing changes if the call is refused), decide, attempt, fall back
        (guarded solves that did not converge), tell, record — see the class notes.

        Parameters
        ----------
        A, b : matrix and vector
            The system (as for the solver; on PETSc also a ``PETSc.Mat`` and ``PETSc.Vec``).
        x0 : vector, optional
            Initial guess (default zero).
        context : float or vector, optional
            The context of a contextual policy (its features of this system).
        rtol, atol : float, optional
            This solve's stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)``; ``None`` (the
            default) is the Tuner's own ``rtol``/``atol``, and one given alone is combined
            with the Tuner's other.  Checked as the constructor checks them (finite, >= 0,
            ``rtol < 1``, not both 0; ``ValueError`` naming the one refused, before anything
            changes).  Every run of the solve uses it — the attempt, the fallbacks, the last
            resort and the audit runs on this system, on either backend and for every arm —
            so all the costs of one round are costs of one stopping rule; the history
            records it (``rtol``/``atol`` columns).  An inexact Newton method passes its
            forcing term here: ``tuner.solve(J, -F, rtol=eta_k)``.  On several MPI ranks
            every rank must pass the same values (else a ``ValueError`` on every rank).

            The learner is told iteration counts (or seconds) at whatever tolerance each
            solve asked for, and a looser tolerance costs fewer iterations with any arm: it
            compares arms within a round, but its cost estimates mix tolerances.  With a
            contextual policy pass the tolerance as a context — e.g.
            ``context=math.log10(rtol)`` (or appended to your own context vector) — so it
            learns the cost as a function of it; see docs/bandit.md.

        Returns
        -------
        SolveResult
            ``arm``/``settings``/``omega`` are the arm that produced ``x``; ``iterations``,
            ``seconds`` and ``info["work"]`` (where recorded) cover every run; when
            the chosen arm did not converge ``info["explored"]`` describes its attempt and
            ``info["attempts"]`` lists every run (arm, ω, iterations, seconds, reason, start,
            budget, dtol, and its own ``work`` where recorded).

        Raises
        ------
        ValueError
            For an unusable ``A``, ``b``, ``x0``, ``context``, ``rtol`` or ``atol``
            (``TypeError`` for an ``A`` of an unknown type), before the policy draws.
        RuntimeError
            When called from inside a solve of this tuner (its solver function, a signal
            handler), or when another Tuner has since been made with this tuner's policy
            object (the later one holds the learner: give each Tuner its own): before
            anything is checked or changed.

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
        self._round_start = _time.perf_counter()  # (its own time: bandit._tuner_own)
        try:
            if not _still_held(self):
                raise _policy_taken(self)  # another Tuner was made with this policy since
            if self._comm is None:
                # this solve's stopping rule, for every run of its round (ToleranceSteps)
                self._tol = None if rtol is None and atol is None else (
                    self._solve_tolerance(rtol, atol))
                op, b, x0, context = self._validate(A, b, x0, context)
            else:  # a refusal on any rank is a refusal on every rank (no rank left waiting);
                # the context and tolerances first, before the collective steps of preparing A
                context, _, self._tol = _mpi.on_every_rank(
                    self._comm, lambda: (*_first_checks(context, A, b, x0),
                                         self._solve_tolerance(rtol, atol)),
                    same=("contexts", "kinds of (A, b, x0)", "tolerances (rtol, atol)"))
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
                self._prime(op, A, context)
            policy = self.policy
            undo, told = policy._draw_state(), policy.t
            try:
                res = self._solve(op, b, x0, context, undo)
                if auto is not None:
                    res.info["auto_context"] = auto
                return res
            except BaseException as exc:
                if self._comm is not None:  # raised on this rank alone: on every rank
                    _mpi.fail(self._comm, exc)
                # raised between the draw and the update (a solver refusing the system once
                # it has run, e.g. a solution that underflows; Ctrl-C in a long solve): the
                # abandoned round draws nothing, so the same seed gives the same arms with or
                # without it
                if policy.t == told:
                    policy._undo_draw(undo)
                if auto is not None and isinstance(exc, ValueError):
                    self._auto_context_refusal(exc, np.size(context) - 1)
                raise
        except BaseException as exc:
            if isinstance(exc, SystemError):
                # Ctrl-C handled inside Numba's own Python helpers of a learner's compiled
                # call (a kernel's dispatch or cache load, seen in a rescaling of the
                # default learner's ridge) reaches here as "SystemError: ... returned a
                # result with an exception set", the KeyboardInterrupt as its cause: raised
                # as the KeyboardInterrupt it is (the round was undone above), as the solvers
                # raise it from their kernels
                from solvers._jitcache import raise_interrupt

                try:
                    raise_interrupt(exc)
                except KeyboardInterrupt as ki:
                    exc = ki
                    if self._comm is not None:
                        _mpi.fail(self._comm, ki)
                    raise
            if self._comm is not None:  # (before the draw: the prior, the kernels' load)
                _mpi.fail(self._comm, exc)
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
        if not self._log and self._arms.retell_early:  # the learner before its first draw
            self._arms.start_early(self.policy, self._comm is None)
        if self._comm is not None:
            arm, best, pred, pv = self.decide(context)
        elif self._lone and self._auditor is None:  # the leader needs no prediction
            policy = self.policy
            arm = policy.select(context)
            best, pred, pv = (0 if policy.converged_counts[0] else None), math.nan, policy.p
        elif self._drawn and self._auditor is None:
            # the leader's predicted cost is read by the guard's budget of an arm that is not
            # the leader (and by the audits): a round that plays the leader its draw found
            # skips it (JointCB.drawn_leader: the leader() of the round, without the cost)
            policy = self.policy
            arm = policy.select(context)
            best = policy.drawn_leader(context)
            if best is None or arm != best:
                best, pred = policy.leader(context)
            else:
                pred = math.nan
            pv = policy.p
        else:
            arm, best, pred, pv = self._decide(context)
        arms = self._arms
        arms.round = len(self._log)  # the clock of set-up reuse
        if arm != best:
            budget = self._budget(arm, best, pred, op)
        elif self._guard is not None and arms.has_setups and (
                arms._pcs[arm] is not None):  # a stale set-up is capped
            budget = arms.stale_cap(arm, op, self._maxiter)
        else:
            budget = self._maxiter
        r = self._attempt(op, b, x0, arm, budget, arm != best) if budget else self._skip(
            op, b, x0, arm)
        if not r.converged and not self._budget_stop(r, budget):
            # no arm could converge: say so, tell nothing (an attempt the guard's budget cut
            # short says nothing of that: checked if the chain's next run fails, _fall_back)
            self._refuse_inconsistent(op, b)
        # `censored`: the history's (the attempt did not converge); `tell`: the policy's
        # (censored, converged)
        if r.converged:
            # ArmSet.cost_of's numbers read here for the counted units (the common round:
            # two Python calls fewer after a solve has pushed them out of the caches)
            unit = self._cost
            if unit in _COUNTED and self._inline_cost:
                cost = float(r.info[unit]) if unit != "iterations" else float(r.iterations)
            else:
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
        if self._arms.has_setups:  # a kept set-up told at its share (paid keeps it whole)
            cost = _told_cost(self, arm, r, cost, tell, budget)
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
        if final.converged and not final.iterations and self._counts_starts:
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
        audit_from = 0.0  # the clock when the audit runs began (not the tuner's own time)
        costly = False  # the tuner's own time exceeds the solves' (warned once released)
        own = None  # rank 0's own-time reading, shared (MPI)
        try:
            self.tell(arm, cost, context, *tell)
            if arms._early is not None:  # (the rounds before the price is fixed)
                arms.keep_early(self.policy, arm, cost, context, *tell, r)
            if self._paid is not None:  # (before the audits, whose budget reads the sum)
                self._paid.append(paid)
                self._paid_sum += paid
            if self._auditor is not None and self._auditor.due(t, censored):
                # (a round run again from x = 0, x0 dropped: its audits start there too)
                start = None if info and "zero_start" in info else x0
                audit_from = _time.perf_counter()
                self._audit(t, op, b, start, arm, best, pred, pv, r, final.iterations,
                            context)
            if self._comm is not None:
                # the round's last exchange, before it is recorded: a failure of any rank's
                # since the draw (its update, an audit run) is raised on every rank here
                own = _tuner_own.share(self, self._round_start, final.seconds,
                                       audit_from or _time.perf_counter())
        except BaseException as exc:  # Ctrl-C in an audit run: the round is the caller's
            if self._comm is not None:
                # every rank raises it (at the exchange this rank's failure meets), and the
                # round is then recorded on every rank or on none, as on rank 0
                _mpi.fail(self._comm, exc)
                _mpi.settle_policy(self._comm, self.policy)
            if self.policy.t != told:
                _report._keep_result(exc, final, t + 1, "during the solve's audit runs")
            raise
        finally:
            self._checked = None
            if self.policy.t != told:
                try:
                    if self._paid is not None and len(self._paid) == len(self._log):
                        self._paid.append(paid)  # (interrupted between the update and this)
                        self._paid_sum += paid
                    self._log.append(row)
                    costly = _tuner_own.record(self, self._round_start, final.seconds,
                                               audit_from or _time.perf_counter(), own)
                except BaseException as exc:
                    if own is not None and self._hook is None:
                        # (Ctrl-C here) after the round's last exchange: the other ranks
                        # have returned; telling them would leave this rank waiting
                        _mpi.keep_local(exc)
                    raise
                # released before the callback, which may solve or save again (an untold
                # round keeps the tuner until solve has undone its draw)
                self._owner = None
                self._lock.release()
        if costly:
            _tuner_own.warn(self)
        if self._hook is not None:
            self._call_hook(final)
        return final

    def _call_hook(self, final):
        """The progress bar and callback after a recorded round; under MPI an exception of
        one rank's callback is raised on every rank (one exchange, only with a hook)."""
        if self._comm is None:
            self._hook(final)
        else:
            _mpi.on_every_rank(self._comm, self._hook, final)

    def _settings(self, arm):
        a = self.policy.arms[arm]
        if isinstance(a, dict):
            return dict(a)
        return {} if math.isnan(self._omegas[arm]) else {"omega": a}  # cg takes no ω

    def __repr__(self):
        return (f"Tuner({type(self.policy).__name__}, solver={self.solver_name!r}, "
                f"cost={self.cost!r}, rounds={len(self._log)})")
