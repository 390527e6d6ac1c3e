"""The arms of a :class:`bandit.Tuner` at run time: one call per arm, the costs each has
shown, set-ups and their reuse, and the guard's budget per arm.

:mod:`bandit.arms` says what an arm *is* (:class:`~bandit.arms.Config`, parsed and checked);
:class:`ArmSet` keeps what running them has measured.
"""
from __future__ import annotations

import math

from ._armset_budget import _CHALLENGE, GuardBudget  # noqa: F401
from ._armset_cold import ColdTime
from ._armset_labels import _short_label, _unique
from ._armset_persist import MeasuredState
from ._armset_prices import TimedPrices
from ._armset_retell import EarlyRetell
from ._armset_reuse import _STALE_FACTOR, _STALE_MIN, SetupReuse  # noqa: F401
from ._armset_probe import _PROBE_FRACTION, _PROBE_MARGIN, _PROBE_MIN, ProbeRules  # noqa: F401
from ._armset_setup import _SETUP_READINGS, _SETUP_TRUST, SetupCosts  # noqa: F401
from ._armset_work import IterationCost
from ._kernels import expected_saving as _expected_saving
from ._kernels import try_pays as _try_pays
from ._prices import _WINDOW, _Prices
from .arms import arm_kwargs, on_ranks, parse_arm

__all__ = ["ArmSet"]


def _tally_work(pw, fit, sec, work) -> None:
    """Add a run's ``sec`` seconds and ``work`` (set-up excluded) to every run's sums ``pw``
    (seconds, work) and to its family's ``fit`` (n, Σw, Σw², Σs, Σsw)."""
    pw[0] += sec
    pw[1] += work
    fit[0] += 1
    fit[1] += work
    fit[2] += work * work
    fit[3] += sec
    fit[4] += sec * work


# how conservative each kind of arm is (smaller first; see ArmSet.safety_order)
_SAFETY = {("cg", "jacobi"): 0, ("cg", "none"): 1, ("ssor_pcg", None): 2, ("cg", "ic0"): 3,
           ("cg", "icc"): 3, ("cg", "amg"): 4, ("cg", "gamg"): 4, ("sor", None): 6}


class _RequirementCheck:
    """What every arm needs of a prepared operator (a diagonal, a positive one, symmetry),
    naming the solver in its messages; a class, not a closure, so a Tuner pickles."""

    def __init__(self, name, diagonal, positive, symmetric):
        # ``name``: one name, or per requirement ("diagonal", "symmetric") the arms that need
        # it, so a refusal says which arm could not run on ``A``
        self.name, self.diagonal, self.positive, self.symmetric = (name, diagonal, positive,
                                                                   symmetric)

    def _who(self, need):
        return self.name if isinstance(self.name, str) else self.name[need]

    def __call__(self, op):
        if self.diagonal:
            op.require_diagonal(self._who("positive" if self.positive else "diagonal"),
                                positive=self.positive)
        if self.symmetric:
            op.require_symmetric(self._who("symmetric"))


def _one_plain_cg(arms, backend) -> None:
    """Refuse several ω arms of plain CG: CG takes no ω, so each would run the same solve,
    and the learner would split its plays (and the history its ω) among identical arms.
    (On PETSc a dict is a set of options, a configuration of its own.)"""
    from ._base import arm_omega

    def plain(a):
        if isinstance(a, dict):
            return backend == "numba" and not ("method" in a or "pc" in a) and (
                arm_omega(a) is not None)
        return True

    plain = [(i, a) for i, a in enumerate(arms) if plain(a)]
    if len(plain) > 1:
        (i, a), (j, b) = plain[:2]
        raise ValueError(f"solver='cg' takes no ω: arm {i} ({a!r}) and arm {j} ({b!r}) would "
                         "both run plain CG; give one arm, or configuration arms to choose a "
                         "preconditioner (bandit.config_grid)")


# ArmSet is put together from parts kept in private modules: the guard's budget of a try
# (bandit/_armset_budget.py), what a set-up costs (bandit/_armset_setup.py), the probe of a
# rival's try (bandit/_armset_probe.py), how a cold first run is told with cost="time"
# (bandit/_armset_cold.py), the first rounds told again at a fixed price
# (bandit/_armset_retell.py), the measured state a Tuner file keeps
# (bandit/_armset_persist.py), timed_work's prices (bandit/_armset_prices.py), the work and
# cost of an iteration (bandit/_armset_work.py) and the reuse clock of a kept set-up
# (bandit/_armset_reuse.py); the per-call path (observe, attach_work, cost_of), the try gate
# and the constants they read stay here (the moved constants are importable from here as
# before)
class ArmSet(GuardBudget, SetupCosts, ProbeRules, ColdTime, MeasuredState,
             EarlyRetell, TimedPrices, IterationCost, SetupReuse):
    """The arms of a :class:`bandit.Tuner` as runnable configurations, with their costs.

    Holds one :class:`~bandit.arms.Config` and one call (solver function, keyword arguments, and for a
    Numba ``cg`` arm with a preconditioner its own preconditioner object) per arm, the
    running estimates behind the guard's budget, and the set-up reuse clock.

    *Reuse is counted in Tuner rounds*: a set-up built in round ``t`` by an arm with
    ``reuse=k`` serves that arm's solves up to round ``t + k`` and is rebuilt after that,
    however often the learner played the arm in between (an arm played rarely would
    otherwise apply a hierarchy built for a matrix hundreds of steps old; counted in rounds,
    an arm's cost depends on the sequence, not on the learner's past choices).

    Parameters
    ----------
    arms : list
        The policy's arms.
    solver : str or callable
        The Tuner's solver: the method of float arms and of settings dicts; a function runs
        every arm through itself (arms passed as keyword arguments, no configurations).
    backend : {"numba", "petsc"}
    cost : {"iterations", "time", "work", "timed_work"}
    ranks : int
        MPI ranks the systems are distributed over (PETSc): on several, an ``ic0`` arm runs
        block Jacobi with ICC(0) per rank (:func:`~bandit.arms.on_ranks`).
    """

    def __init__(self, arms, solver, backend="numba", cost="time", ranks=1):
        self.custom = not isinstance(solver, str)
        self.backend, self.cost = backend, cost
        self.arms = list(arms)
        self.solver_name = solver if isinstance(solver, str) else getattr(
            solver, "__name__", "custom")
        K = len(arms)
        if self.custom:
            self.configs = None
            self.labels = [_short_label(a) for a in arms]
            self.family = [0] * K
        else:
            self.configs = [on_ranks(parse_arm(a, solver, backend, index=i), ranks)
                            for i, a in enumerate(arms)]
            if solver == "cg":
                _one_plain_cg(arms, backend)
            full = any(isinstance(a, dict) for a in arms) or len(
                {c.method for c in self.configs}) > 1
            labels = [c.label if full or isinstance(a, dict) or c.omega is None
                      else _short_label(a)  # a float arm of cg is "cg", not "1"
                      for a, c in zip(arms, self.configs)]
            self.labels = _unique(labels, self.configs)
            fams = {}
            self.family = [fams.setdefault(c.family, len(fams)) for c in self.configs]
        self.n_families = max(self.family) + 1 if K else 0
        self.heterogeneous = self.n_families > 1
        #: the methods of the arms (what ``A`` is checked for)
        self.methods = sorted({c.method for c in self.configs}) if self.configs else []
        #: whether some arm keeps a preconditioner across solves (then runs are aged)
        self.has_setups = False
        self.round = 0
        self._pcs = [None] * K
        self._built_round = [-1] * K
        self._built_its = [0] * K  # iterations of the converged solve that built the set-up
        # runs of arm k on the user's clock that reused its latest set-up, and whether arm k
        # has built a set-up (saved with the tuner: a rival's rebuild is shared by them)
        self._uses = [0] * K
        self._built_once = [False] * K
        self._stale = [False] * K
        # per family: cost units spent by iterations (set-up excluded), iterations
        self._rate = [[0.0, 0] for _ in range(max(self.n_families, 1))]
        self._all = [0.0, 0]  # every run: cost units, iterations
        self._per_work = [0.0, 0.0]  # every run, set-up excluded: seconds, work
        # per family, set-up excluded: n, Σw, Σw², Σs, Σsw (saved with the tuner; Σs/Σw
        # prices the set-up prior, and restarts timed_work's rate in a loaded tuner)
        self._fit = [[0, 0.0, 0.0, 0.0, 0.0] for _ in range(max(self.n_families, 1))]
        # per family (timed_work): the seconds per unit of work (set-up excluded) of its
        # last _WINDOW warm solves, oldest first, the least of its cold ones (each
        # configuration's first), and its rate
        F = max(self.n_families, 1)
        self._recent = [[] for _ in range(F)]
        self._cold = [math.inf] * F
        self._per_unit = [math.nan] * F
        self._prices = _Prices(F)
        # per arm: whether it has run on the user's clock in this process (its next reading
        # is warm; not saved: a loaded tuner's first solves are cold again)
        self._warm = [False] * K
        # per family (cost="time"): the seconds per iteration (set-up excluded) of its last
        # _WINDOW warm runs, oldest first, at which an arm's cold first run is told
        # (cold_time; a loaded tuner starts from its saved cost per iteration)
        self._time_recent = [[] for _ in range(F)]
        # per family: the dearest converged reading on the clock taken warm (cost units,
        # set-up excluded; not saved, as above)
        self._warm_most = [0.0] * max(self.n_families, 1)
        # per family: the cost of its latest converged run that was its round's first (a
        # whole solve from the round's start, not a fall-back going on from a stopped try;
        # cost units, a set-up built included; 0 before one): the yardstick of a rival's
        # first try (GuardBudget.yardstick)
        self._latest_solve = [0.0] * max(self.n_families, 1)
        self._setup = {}  # set-up key -> its cost (cost units): the latest, on the clock
        # the least of the last _SETUP_READINGS
        self._setup_readings = {}  # set-up key -> the last readings on the clock
        # set-up key -> the cheapest converged solve's cost without its set-up (cost units)
        self._solve_floor = {}
        self._floor_of_skip = (None, 0.0)  # (arm, lower bound) of the latest attempt refused
        self._probe = (None, 0)  # (arm, probe's iterations) of the latest budget (probe_at)
        self._clock_floor = {}  # (set-up key, n, nnz) -> clock floor of a set-up (seconds)
        # (set-up key, n, nnz) -> its price over the price's factor (seconds)
        self._clock_price = {}
        self._models = {}  # (method, pattern) -> WorkModel of sor, ssor_pcg, cg
        self._it_work = {}  # (arm, pattern) -> work of one iteration (model), or None

    # -- construction of the calls ---------------------------------------------------------
    def calls(self, solve_fn, common, guard_dtol):
        """Per arm: ``(function, {False: kwargs, True: kwargs with dtol})``; ``common`` holds
        the Tuner's tolerances and backend, ``guard_dtol`` the guarded runs' ``dtol`` (None: a
        function without ``dtol``)."""
        import solvers

        # the library's solvers: their tries are capped by the guard, and the Tuner checks an
        # inconsistent system itself (GuardDiagnosis._refuse_inconsistent), so no run pays
        # the solver's own diagnosis (two passes over A) on top
        own = (solvers.sor, solvers.ssor_pcg, solvers.cg, solvers.pcg)
        out = []
        for k in range(len(self.labels)):
            if self.custom:
                fn, kw = solve_fn, arm_kwargs(self.arms[k], self.solver_name, self.backend)
            else:
                fn, kw = self.configs[k].call()
                kw.pop("backend", None)
                self._pcs[k] = kw.get("pc")
                self.has_setups = self.has_setups or self._pcs[k] is not None
            if fn in own:
                kw = dict(kw, diagnose=False)
            plain = {**common, **kw}
            guarded = plain if guard_dtol is None else dict(plain, dtol=guard_dtol)
            out.append((fn, {False: plain, True: guarded}))
        return out

    def requirement_check(self):
        """One function of a prepared operator checking what every arm needs of ``A`` (a
        diagonal, a positive one, symmetry), naming the solver in its messages."""
        needs = {r for c in self.configs or () for r in c.requirements}
        first = self.configs[0] if self.configs else None
        if self.heterogeneous:  # name the arms that need each property
            def who(need):
                ks = [k for k, c in enumerate(self.configs) if need in c.requirements]
                head = f"arm {ks[0]} ({self.labels[ks[0]]})"
                if len(ks) == 1:
                    return head
                return f"{head}, like {len(ks) - 1} other arm{'s' if len(ks) > 2 else ''},"
            name = {need: who(need) for need in needs}
        elif first is None:
            name = "the arms"
        elif first.method == "cg" and first.pc not in (None, "none") and self.backend == "numba":
            name = f"pcg with pc={first.pc!r}"
        else:
            name = first.method  # the solver's own words
        return _RequirementCheck(name, "diagonal" in needs, "positive" in needs,
                                 "symmetric" in needs)

    def __getstate__(self):
        # a pyamg hierarchy holds a class local to pyamg, which pickle cannot find
        for pc in self._pcs:
            if type(pc).__name__ == "AMG" and pc.built:
                raise TypeError("a Tuner holding an AMG set-up (a pyamg hierarchy) cannot be "
                                "pickled; keep it with Tuner.save and restore it with Tuner.load")
        return self.__dict__

    def safety_order(self) -> list:
        """Arm indices from the most conservative to the least.

        For configuration arms: Jacobi-CG, plain CG (they converge on any SPD system, with
        nothing to set up that could be stale), SSOR-PCG by ``|ω − 1|``, IC(0)-CG, AMG-CG,
        other PETSc preconditioners, then SOR by ω; within each, fresh set-ups before reused
        ones.  ω-only arms keep their solver's order: SOR smallest ω first (under-relaxation
        damps the sweep), SSOR-PCG ω closest to 1; plain CG and custom solvers the list order.
        """
        K = len(self.labels)
        if self.custom:
            return list(range(K))
        keys = []
        for i, c in enumerate(self.configs):
            base = _SAFETY.get((c.method, c.pc if c.method == "cg" else None), 5)
            om = 0.0 if c.omega is None else (c.omega if c.method == "sor" else abs(c.omega - 1))
            keys.append((base, c.reuse > 0, om, i))
        return [k[3] for k in sorted(keys)]

    # -- running --------------------------------------------------------------------------
    def observe(self, k, res) -> None:
        """After a run of arm ``k`` on the user's clock: the set-up clock and the estimates."""
        info = res.info
        setup = 0.0
        pc = self._pcs[k]
        if pc is not None:
            if info.get("setup"):
                self.note_build(k)  # (the set-up it replaces: how long it could serve)
                self._built_round[k] = self.round
                self._uses[k] = 0
                self._built_once[k] = True
                self._built_its[k] = res.iterations if res.converged else 0
                self._stale[k] = False
                key = self.configs[k].setup_key
                if self.cost == "work":  # counted, not timed: the latest
                    setup = info.get("setup_work", 0.0)
                    self._setup[key] = setup
                else:  # (timed_work: in its prices' seconds, _clock_units)
                    units = self._clock_units(res)
                    setup = self.setup_charge(k, res) * units
                    recent = self._setup_readings.setdefault(key, [])
                    recent.append(info["setup_seconds"] * units)
                    del recent[:-_SETUP_READINGS]
                    # one reading stands for the set-up as charged; two confirm each other
                    self._setup[key] = min(recent) if len(recent) > 1 else setup
                self._held[k] = setup  # (the learner is told its share: told_cost)
            elif info.get("reused"):
                self._uses[k] += 1
                if not res.converged:
                    self._stale[k] = True  # the solver rebuilds after a reused set-up failed
        unit = self.cost
        cost = float(info[unit]) if unit in ("work", "timed_work") else self.cost_of(res)
        its = res.iterations
        every = self._all
        every[0] += cost
        every[1] += its
        fam = self.family[k]
        if self.round != self._latest_round:  # the round's first run: a whole solve
            self._latest_round = self.round
            if res.converged and self._latest_solve is not None:
                self._latest_solve[fam] = cost
        row = self._rate[fam]
        row[0] += cost - setup if cost > setup else 0.0
        row[1] += its
        if pc is not None and res.converged and self.configs is not None:
            key = self.configs[k].setup_key
            part = cost - setup
            if part >= 0 and part < self._solve_floor.get(key, math.inf):
                self._solve_floor[key] = part
        if unit in ("time", "timed_work") and "work" in info:
            sec = res.seconds - info.get("setup_seconds", 0.0)
            work = info["work"] - info.get("setup_work", 0.0)
            # seconds per unit of work (the prior of an unplayed arm), the family's fit
            _tally_work(self._per_work, self._fit[fam], sec, work)
            if unit == "timed_work" and work > 0 and sec > 0:
                self._price(k, fam, sec / work, work, sec)
            if self._warm[k] and res.converged and cost - setup > self._warm_most[fam]:
                self._warm_most[fam] = cost - setup
            self._warm[k] = True
        if unit == "time":
            if its and self._warm[k]:
                if self._time_recent is None:  # (a set pickled without it)
                    self._time_recent = [[] for _ in self._rate]
                recent = self._time_recent[fam]
                recent.append((res.seconds - info.get("setup_seconds", 0.0)) / its)
                del recent[:-_WINDOW]
            self._warm[k] = True

    def cost_of(self, res) -> float:
        """The cost of a run in the Tuner's units (``work`` and ``timed_work`` set by
        :meth:`attach_work`; a set-up on the clock as :meth:`setup_charge` charged it; a
        cold run as :meth:`cold_time` tells it)."""
        if self.cost == "time":
            info = res.info
            seconds = info.get("cold_told", res.seconds)
            charged = info.get("setup_charged")
            if charged is not None:
                return float(seconds - info["setup_seconds"] + charged)
            return float(seconds)
        if self.cost in ("work", "timed_work"):
            return float(res.info[self.cost])
        return float(res.iterations)

    @property
    def needs_work(self) -> bool:
        """Whether runs carry ``info["work"]``: the cost, or (time over several families) the
        prior of an arm's cost per iteration before it has run."""
        return self.backend == "numba" and self.configs is not None and (
            self.cost in ("work", "timed_work") or (self.cost == "time" and self.heterogeneous))

    #: per arm, its work model on the pattern it last ran on, as ``(n, nnz, id(indptr),
    #: setup + fixed, per_iteration)`` (:meth:`attach_work`; a class default, so a set
    #: pickled without it loads)
    _arm_work = None

    #: :meth:`attach_work`'s hot path for an arm without a set-up (SSOR-PCG, plain CG) whose
    #: family has a warm ``timed_work`` price; False: every arm through :meth:`timed_work`,
    #: the same numbers bit for bit (what the tests compare the hot path with)
    plain_fast = True

    def attach_work(self, k, res, op) -> None:
        """``res.info["work"]`` for arms whose solver does not report it (``pcg`` does)."""
        if self.configs is None or self.backend != "numba":
            return
        info = res.info
        if "work" not in info:
            if res.b_norm > 0:
                # the hot path of a configuration tuner (every solve of an SSOR-PCG or CG
                # arm): the arm's model on this pattern is kept with the arm, under
                # _model's own key, so a solve neither builds that key nor looks it up
                memo = self._arm_work
                if memo is None:
                    memo = self._arm_work = [None] * len(self.configs)
                m = memo[k]
                if m is None or m[2] != id(op.indptr) or m[0] != op.n or m[1] != op.nnz:
                    model = self._model(self.configs[k], op)
                    m = memo[k] = (op.n, op.nnz, id(op.indptr), model.setup + model.fixed,
                                   model.per_iteration)
                work = info["work"] = m[3] + res.iterations * m[4]  # (WorkModel.total's sum)
            else:
                work = info["work"] = 0.0
            # an arm without a set-up whose family has a warm price: timed_work's last line
            # (its work times the price; no set-up, no clock reading to convert) without the
            # general path's look-ups — after a solve every object a call touches is a cache
            # miss, and this runs on every solve of the leader
            if self.cost == "timed_work" and self._pcs[k] is None and self.plain_fast and (
                    self.paired_prices):
                book = self._prices
                fam = self.family[k]
                if book is not None and book.warm(fam):
                    info["timed_work"] = book.price(fam) * work + 0.0
                    return
        if self.cost == "timed_work":
            info["timed_work"] = self.timed_work(k, res)

    # -- the try gate -----------------------------------------------------------------------
    def members(self, k) -> list:
        """The arms of arm ``k``'s family (indices, ``k`` among them)."""
        fam = self.family
        return [j for j, f in enumerate(fam) if f == fam[k]]

    def gate_spec(self, guard):
        """What a guarded Tuner gives a learner with a try gate (:attr:`bandit.JointCB.try_gate`,
        :meth:`bandit.JointCB.gate_tries`): ``(family, allowances)``, each arm's family and the
        allowance of a rival whose family has converged and of one whose family has not
        (:meth:`allowance`), or None where there is nothing to gate (one family, or no
        guard: a try is then not capped, so it has no allowance to weigh)."""
        if guard is None or not self.heterogeneous:
            return None
        return self.family, (self.allowance(guard, True), self.allowance(guard, False))

    @staticmethod
    def expected_saving(gap, spread) -> float:
        """The expected fraction of the leader's cost a rival saves a solve, ``E[max(0, 1 −
        e^d)]`` for a log-cost difference ``d ~ N(gap, spread²)`` (rival less leader):
        ``Φ(−gap/s) − e^(gap + s²/2) Φ(−gap/s − s)``, the lognormal's partial expectation
        (0 where the rival cannot be cheaper; ``max(0, 1 − e^gap)`` for ``spread = 0``;
        the compiled :func:`bandit._kernels.expected_saving` the learner's draw calls).

        Examples
        --------
        >>> round(ArmSet.expected_saving(0.0, 0.3), 4)   # as dear as the leader, ±30 %
        0.1003
        >>> ArmSet.expected_saving(math.log(0.5), 0.0)   # surely half the cost
        0.5
        """
        return float(_expected_saving(float(gap), float(spread)))

    @staticmethod
    def try_pays(gap, spread, evidence, allowance) -> bool:
        """Whether a rival's try is worth its price, by the learner's own model (the rule of
        :attr:`bandit.JointCB.try_gate`, applied inside its compiled draw,
        :func:`bandit._kernels.try_pays`): the fraction of the leader's cost it is expected
        to save a solve (:meth:`expected_saving`, from the predicted log-cost ``gap`` over
        the leader and its ``spread``), times ``evidence`` — the solves the leader's
        prediction at this context is worth, what the sequence has shown of how often such a
        system comes (not its length, which a loop does not know) — must reach
        ``allowance``, what a try that loses may cost in leader's solves.  A try at a context
        seen once or never, or of a rival the model expects to be dearer, waits until the
        context has recurred enough to pay for it.

        Examples
        --------
        >>> ArmSet.try_pays(0.0, 0.3, 20.0, 1.5)    # a tie ±30 % where 20 solves were seen
        True
        >>> ArmSet.try_pays(0.0, 0.3, 0.4, 1.5)     # the same at a context not seen yet
        False
        >>> ArmSet.try_pays(1.1, 0.3, 200.0, 1.5)   # three times dearer, surely
        False
        """
        return bool(_try_pays(float(gap), float(spread), float(evidence), float(allowance)))

    @staticmethod
    def projected_iterations(iterations, r0, r, tol) -> float:
        """Iterations a run needs to reach ``tol`` at the mean reduction rate of its first
        ``iterations``, from residual norm ``r0`` to ``r`` (``inf`` when it has not reduced
        the residual): ``iterations · log(tol / r0) / log(r / r0)``; ``iterations`` when
        ``r`` is already within ``tol``; NaN (no projection, never a stop) when ``r0`` is
        not a finite positive number or ``tol`` is 0.

        Examples
        --------
        >>> round(ArmSet.projected_iterations(10, 1.0, 1e-2, 1e-8), 9)   # 100× in 10: 10⁸ in 40
        40.0
        >>> ArmSet.projected_iterations(10, 1.0, 2.0, 1e-8)
        inf
        """
        if not (math.isfinite(r0) and r0 > 0.0 and tol > 0.0):
            return math.nan  # nothing to measure the rate against: no projection
        if r <= tol:
            return float(iterations)
        if not (0.0 < r < r0 and iterations > 0):
            return math.inf
        return iterations * math.log(tol / r0) / math.log(r / r0)
