"""The preconditioner study (``relaxtune precond``): learning the whole solver configuration.

Two kinds of sequence, each solved to ``rtol = 1e-8`` by every method, timed call by call
(the whole call: a Tuner's validation, decision, guard and solve; a hand-written anchor's
conversions, set-up and solve):

* **heat2d** (:class:`experiments.problems.Heat2D`): the Crank–Nicolson heat simulation,
  ``nx`` intervals per side, one period of κ(t) by default (1000 steps on [0, 1]), context
  κ(s), warm starts from the previous state;
* **mc3d** (:class:`experiments.problems.DiffusionMC3D`): a Monte Carlo sequence of steady
  3-D random-coefficient diffusion problems on an ``m³`` grid, context σ (the log-coefficient's
  standard deviation), ``x0 = 0``.

Methods, run one after the other in one process (never in parallel: the seconds are the
measurement):

* every **fixed configuration** of the grid (:func:`bandit.config_grid`), each through a
  :class:`bandit.Tuner` with a :class:`bandit.FixedArm` — the same preparation path as the
  learners, so the comparison is the policy and nothing else;
* the **configuration learner**: a contextual policy over the grid with the Tuner's default
  cost for such arms, ``"timed_work"``; and the same over ``cost="time"`` (the clock of
  each call) and ``cost="work"`` (matrix-pass equivalents, deterministic);
* the **ω-only learner**: the same policy over the SSOR-PCG ω of the grid (``solver=
  "ssor_pcg"``, its default cost, iterations);
* the **anchors** a user would write by hand: pyamg smoothed-aggregation CG set up every
  step and every ``lag`` steps (``ml.solve(b, x0, tol, accel="cg")``), PETSc CG + GAMG and
  CG + ICC(0) with the Mat converted each step (where petsc4py is installed), and scipy's
  ``splu`` factorisation every step.

Rounds: round ``r`` runs the learners with seed ``r`` (``seeds`` rounds) and the fixed
configurations again, interleaved, so each round's ratio learner / best fixed compares runs
made minutes apart.  Round 0 runs every fixed configuration and the anchors; later rounds
re-run only the fixed configurations within ``prune ×`` round 0's best (the others cannot be
best in hindsight).  A fixed configuration or an anchor whose running total exceeds ``cap ×``
the best complete fixed total of its round is stopped there, and its total is reported as a
lower bound.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .learners import derive_seed

__all__ = ["OMEGAS", "GRID_PCS", "GRID_REUSE", "ANCHORS", "LEARNER", "CONFIG_LEARNERS",
           "omega_learner_name", "default_grid",
           "Sequence", "make_sequence", "run_precond_study", "work_vs_time", "family",
           "format_precond_table"]

#: ω of the SSOR-PCG arms (and of the ω-only learner).
OMEGAS = (1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9)
#: CG preconditioners of the grid, and their set-up reuse values.
GRID_PCS = ("none", "jacobi", "ic0", "amg")
GRID_REUSE = {"ic0": (0,), "amg": (0, 20)}
#: Hand-picked anchors (names of :data:`_ANCHOR_LABELS`).
ANCHORS = ("pyamg", "pyamg_lagged", "petsc_gamg", "petsc_icc", "splu")
#: Default policy of the learners (a :data:`bandit.POLICIES` name, or ``"default"``: the
#: library's recommended learner, :func:`bandit.default_policy`).
LEARNER = "chebcb"
#: The configuration learners' costs: ``learner`` runs the Tuner's default for configuration
#: arms (timed work), the two others the alternatives (the clock; deterministic work).
LEARNER_COSTS = {"learner": "timed_work", "learner_timed": "time", "learner_work": "work"}
#: Method keys of the configuration learners: ``learner_compare`` is the configuration learner
#: of another policy (``compare``), with the default cost, side by side with ``learner``.
CONFIG_LEARNERS = ("learner", "learner_compare", "learner_timed", "learner_work")
_ANCHOR_LABELS = {"pyamg": "pyamg SA-CG, set up every step",
                  "pyamg_lagged": "pyamg SA-CG, set up every {lag} steps",
                  "petsc_gamg": "PETSc CG + GAMG (Mat per step)",
                  "petsc_icc": "PETSc CG + ICC(0) (Mat per step)",
                  "splu": "scipy splu every step"}


def default_grid(omegas=OMEGAS, pcs=GRID_PCS, reuse=None) -> list:
    """The study's configuration arms (:func:`bandit.config_grid`)."""
    from bandit import config_grid

    return config_grid(omegas, pcs, reuse=GRID_REUSE if reuse is None else reuse)


def family(label: str) -> str:
    """Family of a configuration label: ``"ssor_pcg ω=1.40"`` → ``"ssor_pcg"``,
    ``"cg+amg reuse=20"`` → ``"cg+amg"``."""
    return label.split(" ")[0].split("(")[0]


# -- sequences ---------------------------------------------------------------------------------
class Sequence:
    """A sequence of systems every method solves in lockstep.

    Step ``t``: :meth:`shared` builds what all methods share (the matrix, the context), then
    :meth:`system` gives each method its system from its own state (heat2d: the method's own
    previous solution, which the next right-hand side depends on), and :meth:`advance` stores
    the method's solution.
    """

    name = kind = context_name = ""
    n = T = 0
    bounds = (0.0, 1.0)

    def initial_state(self):
        return None

    def shared(self, t):
        raise NotImplementedError

    def system(self, shared, state):
        """``(A, b, x0, context)`` of one method at this step."""
        raise NotImplementedError

    def advance(self, state, x):
        return None

    def tiny(self):
        """A few-step sequence of the same kind, for warming up every method."""
        raise NotImplementedError


class HeatSequence(Sequence):
    """heat2d: ``A(s)`` and the forcing are shared; ``b = u − α L u + dt f(s)`` is built from
    each method's own state ``u`` (:meth:`experiments.problems.Heat2D.system`'s formulas)."""

    kind, context_name = "heat2d", "κ"

    def __init__(self, nx, steps=1000, t_end=1.0):
        from .problems import Heat2D

        self.sim = sim = Heat2D(nx, steps, t_end)
        self.name, self.n, self.T = f"heat2d_nx{nx}", sim.n, sim.steps
        self.bounds = sim.kappa_bounds
        self._args = (steps, t_end)

    def initial_state(self):
        return self.sim.initial()

    def shared(self, t):
        from .problems import kappa

        sim = self.sim
        s = (t + 0.5) * sim.dt
        kap = float(kappa(s))
        alpha = kap * sim.dt / (2.0 * sim.dx ** 2)
        return sim.matrix(s), alpha, sim.dt * sim.forcing(s), kap

    def system(self, shared, u):
        A, alpha, f, kap = shared
        return A, u - alpha * (self.sim.L @ u) + f, u, kap

    def advance(self, state, x):
        return np.asarray(x, dtype=float)

    def tiny(self):
        return HeatSequence(5, 4, self._args[1])


class MCSequence(Sequence):
    """mc3d: every method solves the same sample ``(A_t, b, σ_t)`` from ``x0 = 0``."""

    kind, context_name = "mc3d", "σ"

    def __init__(self, m, samples=100, seed=0):
        from .problems import DiffusionMC3D

        self.seq = DiffusionMC3D(m, samples, seed=seed)
        self.name, self.n, self.T = f"mc3d_m{m}", self.seq.n, samples
        self.bounds = self.seq.context_bounds
        self._seed = seed

    def shared(self, t):
        return self.seq[t]

    def system(self, shared, state):
        A, b, sigma = shared
        return A, b, None, sigma

    def tiny(self):
        return MCSequence(4, 3, self._seed)


def make_sequence(kind: str, size: int, *, steps=1000, t_end=1.0, samples=100,
                  seed=0) -> Sequence:
    """``heat2d`` or ``heatadapt`` (adaptive time steps,
    :class:`experiments._problems_adaptive.AdaptiveHeatSequence`) with ``nx = size``,
    ``mc3d`` with ``m = size``, or ``finadapt`` (a cooling fin with adaptive time steps,
    :class:`experiments._problems_fin.AdaptiveFinSequence`) with ``ny = size``."""
    if kind == "heat2d":
        return HeatSequence(size, steps, t_end)
    if kind == "heatadapt":
        from ._problems_adaptive import AdaptiveHeatSequence

        return AdaptiveHeatSequence(size)
    if kind == "mc3d":
        return MCSequence(size, samples, seed)
    if kind == "finadapt":
        from ._problems_fin import AdaptiveFinSequence

        return AdaptiveFinSequence(size)
    from ._problems_unseen import UNSEEN, make_unseen

    if kind in UNSEEN:  # aniso2d, heat3d, rgg, picard2d: the unseen study's sequences
        return make_unseen(kind, size)
    raise ValueError(f"sequence must be 'heat2d', 'heatadapt', 'mc3d' or 'finadapt', got "
                     f"{kind!r}")


# -- methods: each a factory of a fresh solve callable ------------------------------------------
def omega_learner_name(name: str) -> str:
    """The policy of the ω-only learner that goes with configuration learner ``name``:
    FamilyCB's own inner learner (ChebCB) for ``"familycb"`` (over one family FamilyCB makes
    the same choices as its inner learner), else ``name`` itself."""
    return "chebcb" if name == "familycb" else name


def _policy(name, arms, seed, bounds):
    """The learner ``name`` over ``arms``; ``"default"`` is :func:`bandit.default_policy`
    (the SSOR-PCG one over ω arms, the solver-free one over configuration arms), with the
    sequence's context range as its starting hint."""
    import bandit

    if name.partition("@")[0] == "default":  # default@line, default@family: that layout
        solver = None if any(isinstance(a, dict) for a in arms) else "ssor_pcg"
        return bandit.default_policy(solver, arms, context_bounds=bounds, seed=seed,
                                     arm_basis=name.partition("@")[2] or None)
    return bandit.make_policy(name, arms, seed=seed, context_bounds=bounds)


def _tuner_method(make_tuner):
    """A method run through a Tuner: returns (solve callable, finish() -> extras)."""
    def factory():
        tuner = make_tuner()

        def solve(A, b, x0, context):
            r = tuner.solve(A, b, x0=x0, context=context)
            explored = r.info.get("explored")
            return (r.x, r.iterations, r.converged, explored["arm"] if explored else r.arm,
                    r.info.get("work", math.nan))
        return solve, tuner
    return factory


def _anchor(name, lag, rtol, maxiter):
    """A hand-written solve of the kind a user would pick (returns the same tuple as above;
    arm = -1, work NaN)."""
    import scipy.sparse.linalg as spla

    if name == "splu":
        def factory():
            def solve(A, b, x0, context):
                x = spla.splu(A.tocsc()).solve(b)
                return x, 0, True, -1, math.nan
            return solve, None
        return factory
    if name in ("pyamg", "pyamg_lagged"):
        import pyamg
        from pyamg.krylov import cg as pyamg_cg

        every = 1 if name == "pyamg" else lag

        def factory():
            state = {"M": None, "age": 0}

            def solve(A, b, x0, context):
                # pyamg's own CG on the current matrix, preconditioned by one V-cycle of a
                # hierarchy built now (or up to `every` steps ago: a lagged hierarchy)
                if state["M"] is None or state["age"] >= every:
                    state["M"] = pyamg.smoothed_aggregation_solver(A).aspreconditioner()
                    state["age"] = 0
                state["age"] += 1
                res = []
                x, flag = pyamg_cg(A, b, x0=x0, tol=rtol, maxiter=maxiter, M=state["M"],
                                   residuals=res)
                return x, len(res) - 1, flag == 0, -1, math.nan
            return solve, None
        return factory
    if name in ("petsc_gamg", "petsc_icc"):
        import solvers

        opts = {"pc_type": "gamg" if name == "petsc_gamg" else "icc"}

        def factory():
            def solve(A, b, x0, context):
                r = solvers.cg(A, b, x0=x0, rtol=rtol, maxiter=maxiter, backend="petsc",
                               options=opts)
                return r.x, r.iterations, r.converged, -1, math.nan
            return solve, None
        return factory
    raise ValueError(f"unknown anchor {name!r}; known: {ANCHORS}")


def _petsc_available() -> bool:
    try:
        import petsc4py  # noqa: F401
        import solvers.petsc  # noqa: F401
    except ImportError:
        return False
    return True


# -- running every method side by side ---------------------------------------------------------
class _Run:
    """One method's run through a sequence: its solve callable, state and per-step records;
    ``cap``: the multiple of the best fixed running total at which it is stopped."""

    def __init__(self, key, factory, T, cap=math.inf):
        self.key, self.cap = key, cap
        self.solve, self.owner = factory()
        self.cpu = np.full(T, np.nan)
        self.wall = np.full(T, np.nan)
        self.its = np.full(T, -1, dtype=np.int64)
        self.ok = np.zeros(T, dtype=bool)
        self.arms = np.full(T, -1, dtype=np.int64)
        self.work = np.full(T, np.nan)
        self.total_cpu = self.total_wall = 0.0
        self.steps = 0
        self.capped = False
        self.capped_ratio = math.nan  # running total / best fixed running total, at the cap
        self.state = None


def _lockstep(seq, runs, *, rtol=1e-8, progress=None, min_fraction=0.05, seed=0, block=1):
    """Every run through ``seq`` side by side, in blocks of ``block`` consecutive steps: for
    each block every active method solves the block's systems one after the other, the
    methods in a random order drawn per block from a generator seeded with ``seed`` (a
    method's first call pays for what the method before it left in the caches, so no method
    may always follow the same one).  With ``block=1`` the methods alternate step by step;
    a larger block is a user's loop — one Tuner calling again and again, its own data
    still in the caches — while the pairing of the same systems stays within a block.
    Calls are timed one by one — CPU time of this thread (``time.thread_time``: what the
    call computed, not the time the process waited for a CPU on a shared machine) and
    wall-clock.  A run whose running CPU total exceeds its ``cap ×`` the smallest running
    total of the fixed configurations (once ``min_fraction`` of the steps are done; ``4 ×
    cap`` from the third step) stops there, at the end of a block.  The stopping rule is
    checked on each solution's true residual, off the clock."""
    for r in runs:
        r.state = seq.initial_state()
    active = list(runs)
    T = seq.T
    block = max(int(block), 1)
    thread_time, perf = time.thread_time, time.perf_counter
    rng = np.random.default_rng(seed)
    for start in range(0, T, block):
        steps = range(start, min(start + block, T))
        shared = [seq.shared(t) for t in steps]
        order = [active[i] for i in rng.permutation(len(active))]
        for run in order:
            for t, sh in zip(steps, shared):
                A, b, x0, ctx = seq.system(sh, run.state)
                c0, w0 = thread_time(), perf()
                x, its, conv, arm, work = run.solve(A, b, x0, ctx)
                dw, dc = perf() - w0, thread_time() - c0
                run.cpu[t], run.wall[t], run.its[t], run.arms[t], run.work[t] = (
                    dc, dw, its, arm, work)
                run.total_cpu += dc
                run.total_wall += dw
                run.steps = t + 1
                res = np.linalg.norm(b - A @ x)
                run.ok[t] = bool(conv) and res <= rtol * np.linalg.norm(b) * (1 + 1e-6)
                run.state = seq.advance(run.state, x)
        t = steps[-1]
        full = t + 1 >= max(min_fraction * T, min(10, T))
        if full or t + 1 >= min(3, T):  # hopeless (4 × the cap) ones go after 3 steps
            fixed = [r.total_cpu for r in active if _split(r.key)[0] == "fixed"]
            if fixed:
                best = min(fixed)
                for run in list(active):
                    if run.total_cpu > run.cap * best * (1 if full else 4):
                        run.capped = True
                        run.capped_ratio = run.total_cpu / best
                        active.remove(run)
        if progress is not None:
            progress.update(len(steps))
    return runs


def run_precond_study(*, sequences=(("heat2d", 100),), steps=1000, t_end=1.0, samples=100,
                      seeds=3, seed=0, learner=LEARNER, grid=None, omegas=OMEGAS,
                      anchors=ANCHORS, lag=50, cap=5.0, anchor_cap=None, prune=1.5,
                      work_learner=True, compare=None, rtol=1e-8, maxiter=10_000,
                      block=1, progress=True, checkpoint=None):
    """Run the study on each ``(kind, size)`` sequence and score every method.

    Parameters
    ----------
    sequences : sequence of (str, int)
        ``("heat2d", nx)``, ``("heatadapt", nx)``, ``("mc3d", m)`` or ``("finadapt", ny)``.
    steps, t_end : int, float
        heat2d time steps on ``[0, t_end]`` (default one period of κ: 1000 on [0, 1]).
    samples : int
        mc3d sequence length.
    seeds : int
        Rounds; round ``r`` runs the learners with seed ``r``.
    seed : int
        Master seed (learner seeds and the Monte Carlo samples derive from it).
    learner : str
        :data:`bandit.POLICIES` name of the configuration and ω-only learners, or
        ``"default"`` (:func:`bandit.default_policy` for both); with ``"familycb"`` the ω-only
        learner is FamilyCB's inner learner, ChebCB (:func:`omega_learner_name`).
    grid : list, optional
        Configuration arms (default :func:`default_grid` over ``omegas``).
    anchors : sequence of str
        Which of :data:`ANCHORS` to run (the PETSc ones only if petsc4py is installed).
    lag : int
        Steps between set-ups of the lagged pyamg anchor.
    cap, anchor_cap, prune : float
        A fixed configuration (an anchor: ``anchor_cap``, default ``cap``) stops once its
        running CPU total exceeds ``cap ×`` the best running total of the fixed
        configurations (the table then gives that ratio, a lower bound of where it would
        end); rounds after the first re-run only the fixed configurations within ``prune ×``
        round 0's best.
    work_learner : bool
        Also run the configuration learner with ``cost="time"`` and ``cost="work"``.
    compare : str, optional
        Another policy (a name as ``learner``) to run as a configuration learner with the
        default cost, side by side on the same sequence and seeds (method ``learner_compare``).
    block : int
        Steps each method runs in a row before the next method takes the same steps (in a
        random order per block): 1 alternates the methods step by step; a larger block keeps
        each method's own data in the caches between its calls, as in a loop that calls one
        Tuner (see :func:`_lockstep`).
    checkpoint : callable, optional
        ``checkpoint(summary, arrays)`` after every finished round, so a long study keeps its
        work as it goes (``summary["partial"]`` says how far it got).

    Returns
    -------
    (dict, dict)
        ``summary`` (``sequences`` → per-sequence ``methods``, ``targets``, ``work_vs_time``,
        ``best_by_context``) and ``arrays`` (per sequence: ``cpu/<m>``, ``sec/<m>``
        (wall-clock), ``iter/<m>``, ``arms/<m>``, ``work/<m>`` of shape (rounds, T),
        ``contexts``, ``labels``).

    Examples
    --------
    >>> s, a = run_precond_study(sequences=[("heat2d", 6)], steps=6, seeds=1,
    ...                          anchors=["splu"], grid=[{"method": "ssor_pcg", "omega": 1.5},
    ...                          {"method": "cg", "pc": "jacobi"}], omegas=[1.5],
    ...                          progress=False)
    >>> sorted(s["sequences"]["heat2d_nx6"]["methods"])
    ['cg+jacobi', 'learner', 'learner_timed', 'learner_work', 'omega_learner', 'splu', 'ssor_pcg ω=1.50']
    """
    import bandit
    from tqdm.auto import tqdm

    grid = default_grid(omegas) if grid is None else list(grid)
    labels = bandit.Tuner(bandit.FixedArm(grid)).arm_labels
    omega_arms = [float(w) for w in omegas]
    anchors = [a for a in anchors if a not in ("petsc_gamg", "petsc_icc") or _petsc_available()]
    learners = ["learner"] + (["learner_compare"] if compare else []) + (
        ["learner_timed", "learner_work"] if work_learner else []) + ["omega_learner"]
    anchor_cap = cap if anchor_cap is None else anchor_cap
    params = dict(study="precond", sequences=[list(x) for x in sequences], steps=int(steps),
                  t_end=float(t_end), samples=int(samples), seeds=int(seeds), seed=int(seed),
                  learner=learner, grid=grid, labels=labels, omegas=omega_arms,
                  anchors=list(anchors), lag=int(lag), cap=float(cap),
                  anchor_cap=float(anchor_cap), prune=float(prune),
                  omega_learner=omega_learner_name(learner), compare=compare,
                  work_learner=bool(work_learner), rtol=float(rtol), maxiter=int(maxiter),
                  learners=learners, learner_costs=dict(LEARNER_COSTS), clock="cpu",
                  block=int(block))
    seqs = [make_sequence(kind, size, steps=steps, t_end=t_end, samples=samples,
                          seed=derive_seed(seed, 7)) for kind, size in sequences]
    settings = {"rtol": rtol, "maxiter": maxiter}
    done = {}  # (sequence index, round) -> {key: _Run}
    t_start = time.perf_counter()
    total = sum(sq.T for sq in seqs) * seeds
    _warm_up(seqs, grid, omega_arms, learner, anchors, lag, settings, compare)
    with tqdm(total=total, desc="precond steps", disable=not progress) as bar:
        for i, sq in enumerate(seqs):
            for r in range(seeds):
                keys = [f"fixed/{k}" for k in range(len(grid))]
                if r > 0:  # only configurations that could be best in hindsight
                    first = done[(i, 0)]
                    best = min(v.total_cpu for k, v in first.items()
                               if _split(k)[0] == "fixed" and not v.capped)
                    keys = [k for k in keys if not first[k].capped
                            and first[k].total_cpu <= prune * best]
                keys += learners + ([f"anchor/{a}" for a in anchors] if r == 0 else [])
                runs = []
                for key in keys:
                    factory, kind = _method(key, grid, omega_arms, learner, sq, r, seed,
                                            lag, settings, compare)
                    limit = {"fixed": cap, "anchor": anchor_cap}.get(kind, math.inf)
                    runs.append(_Run(key, factory, sq.T, limit))
                _lockstep(sq, runs, rtol=rtol, progress=bar, seed=derive_seed(seed, r, 103),
                          block=block)
                done[(i, r)] = {run.key: run for run in runs}
                if checkpoint is not None and (i, r) != (len(seqs) - 1, seeds - 1):
                    part = _summarise(params, seqs, done, labels, time.perf_counter() - t_start)
                    part[0]["partial"] = {"finished": len(done), "of": len(seqs) * seeds,
                                          "unit": "rounds"}
                    checkpoint(*part)
    return _summarise(params, seqs, done, labels, time.perf_counter() - t_start)


def _owner_summary(owner):
    """What to keep of a method's Tuner: its choices per label (None for anchors)."""
    if owner is None:
        return None
    h = owner.history
    return {"arm_counts": owner.summary()["arm_counts"], "censored": int(h["censored"].sum()),
            "fallbacks": int((h["fallback_arm"] >= 0).sum())}


def _warm_up(seqs, grid, omega_arms, learner, anchors, lag, settings, compare=None):
    """Every method once on a tiny sequence of each kind: no timed call pays a compilation,
    a first import, or the one-time calibration of the AMG set-up's price
    (:meth:`solvers.precond.AMG.setup_price`, once per process and AMG settings, like a
    compilation; a Tuner's guard asks for it the first time pyamg's clock floor alone would
    let a first AMG set-up start), or the loading of the kernels a learner runs only now
    and then: its change test's when it raises an alarm (in a process after the code
    changed, its compilation: 0.5 s inside one timed call of heat2d), and its predictions of
    every arm, which a guarded solve reads only when an attempt fails after two arms have
    converged (to order the fall-back; loading that kernel from the cache took 9 ms inside
    the first such call on mc3d, and a tiny sequence's learner need not get there)."""
    import bandit
    from bandit._kernels_ridge import spd_inverse
    from solvers import prepare
    from solvers._kernels import residual_norm
    from solvers._kernels_prep import scaled_norm
    from solvers.amg import AMG, _poisson_cube

    spd_inverse(np.eye(2))
    # the start's residual a probed first try measures from a warm start (the guard's probe,
    # bandit.armset.ArmSet.probe_rivals): loaded now, not inside a timed call (the first
    # such call of a heat2d run after an edit took 211 ms, its compilation)
    cube = prepare(_poisson_cube(2))
    residual_norm(cube.indptr, cube.indices, cube.data, np.ones(cube.n), np.ones(cube.n))
    # the norm of a start vector whose sum of squares is 0 (solvers._checks): a guarded
    # fall-back that goes on from a budget-stopped attempt whose best iterate was its zero
    # start (mc3d: the configuration learner's step 4, a cache load inside a timed call)
    scaled_norm(np.zeros(2))
    for arms in (grid, omega_arms):
        policy = _policy(learner, arms, 0, None)
        if isinstance(policy, bandit.JointCB):
            for k, x in ((0, 0.0), (1, 1.0), (0, 0.5)):
                policy.update(k, 1.0 + k, x)
            policy.predict(0.25)
    for config in grid:
        if isinstance(config, dict) and config.get("pc") == "amg":
            knobs = {k: v for k, v in config.items() if k not in ("method", "pc", "reuse")}
            AMG(**knobs).setup_price(prepare(_poisson_cube(4)))
    kinds = {}
    for sq in seqs:
        kinds.setdefault(sq.kind, sq.tiny())
    keys = [f"fixed/{k}" for k in range(len(grid))] + [
        k for k in CONFIG_LEARNERS if compare or k != "learner_compare"] + ["omega_learner"] + [
        f"anchor/{a}" for a in anchors]
    for tiny in kinds.values():
        runs = [_Run(key, _method(key, grid, omega_arms, learner, tiny, 0, 0, lag,
                                  settings, compare)[0], tiny.T) for key in keys]
        _lockstep(tiny, runs)


def _method(key, grid, omega_arms, learner, seq, r, seed, lag, settings, compare=None):
    """``(factory, kind)`` of a method key: ``fixed``, ``anchor`` or ``learner``."""
    import bandit

    kind, arg = _split(key)
    if kind == "fixed":
        return _tuner_method(lambda: bandit.Tuner(bandit.FixedArm(grid, arm=arg), cost="time",
                                                  **settings)), "fixed"
    if kind == "anchor":
        return _anchor(arg, lag, settings["rtol"], settings["maxiter"]), "anchor"
    s = derive_seed(seed, r, 101)
    if key in LEARNER_COSTS:  # "learner": the Tuner's default cost (timed work)
        costs = {k: None if k == "learner" else v for k, v in LEARNER_COSTS.items()}
        return _tuner_method(lambda: bandit.Tuner(_policy(learner, grid, s, seq.bounds),
                                                  cost=costs[key], **settings)), "learner"
    if key == "learner_compare":
        return _tuner_method(lambda: bandit.Tuner(_policy(compare, grid, s, seq.bounds),
                                                  **settings)), "learner"
    if key == "omega_learner":
        return _tuner_method(lambda: bandit.Tuner(
            _policy(omega_learner_name(learner), omega_arms, s, seq.bounds), solver="ssor_pcg",
            **settings)), "learner"
    raise ValueError(f"unknown method {key!r}")


# -- scoring ---------------------------------------------------------------------------------
def _split(key):
    """``(kind, argument)`` of a method key: ``("fixed", grid index)`` for ``"fixed/<k>"``,
    ``("anchor", name)`` for ``"anchor/<name>"``, ``(key, None)`` for a learner."""
    kind, sep, arg = key.partition("/")
    if not sep:
        return key, None
    return kind, int(arg) if kind == "fixed" else arg


def _method_name(key, labels):
    kind, arg = _split(key)
    return labels[arg] if kind == "fixed" else arg if kind == "anchor" else key


def _method_label(key, labels, params):
    kind, arg = _split(key)
    if kind == "fixed":
        return labels[arg]
    if kind == "anchor":
        return _ANCHOR_LABELS[arg].format(lag=params["lag"])
    # (results of before the default cost became timed work have no "learner_costs")
    costs = params.get("learner_costs", {"learner": "time", "learner_timed": "timed_work",
                                         "learner_work": "work"})
    words = {"time": "time", "timed_work": "timed work", "work": "work"}
    default = " (default)" if "learner_costs" in params else ""
    return {"learner": f"configuration learner ({params['learner']}, "
                       f"{words[costs['learner']]}{default})",
            "learner_compare": f"configuration learner ({params.get('compare')}, "
                               f"{words[costs['learner']]}{default})",
            "learner_timed": f"configuration learner ({params['learner']}, "
                             f"{words[costs['learner_timed']]})",
            "learner_work": f"configuration learner ({params['learner']}, work)",
            "omega_learner": f"ω-only learner "
                             f"({params.get('omega_learner', params['learner'])}, SSOR-PCG)"}[key]


def _summarise(params, seqs, done, labels, elapsed):
    out, arrays = {}, {}
    for i, seq in enumerate(seqs):
        mine = {r: runs for (j, r), runs in done.items() if j == i}
        if mine:
            out[seq.name], arrays[seq.name] = _score_sequence(seq, mine, labels, params)
    last = list(out)[-1]
    summary = {"study": "precond", "params": params, "methods": out[last]["methods"],
               "sequences": out, "elapsed_seconds": elapsed}
    return summary, arrays


def _score_sequence(seq, rounds, labels, params):
    """Per-method entries of one sequence from ``rounds = {r: {key: _Run}}``; totals are CPU
    seconds of the calls (``wall_*``: wall-clock), means over the rounds a method ran."""
    R = params["seeds"]
    keys = list(dict.fromkeys(k for runs in rounds.values() for k in runs))
    T = seq.T
    methods, arr = {}, {}
    best_per_round = []
    for r in range(R):
        tot = [v.total_cpu for k, v in rounds.get(r, {}).items()
               if _split(k)[0] == "fixed" and not v.capped]
        best_per_round.append(min(tot) if tot else math.nan)
    for key in keys:
        name = _method_name(key, labels)
        stack = {f: np.full((R, T), np.nan) for f in ("cpu", "sec", "iter", "arms", "work")}
        cpu, wall, capped, conv, owners = [], [], False, True, []
        for r in range(R):
            v = rounds.get(r, {}).get(key)
            if v is None:
                cpu.append(math.nan)
                wall.append(math.nan)
                continue
            stack["cpu"][r], stack["sec"][r] = v.cpu, v.wall
            stack["iter"][r], stack["arms"][r], stack["work"][r] = v.its, v.arms, v.work
            cpu.append(v.total_cpu)
            wall.append(v.total_wall)
            capped = capped or v.capped
            conv = conv and bool(v.ok[:v.steps].all())
            if v.owner is not None:
                owners.append(_owner_summary(v.owner))
        tot, wtot = np.array(cpu), np.array(wall)
        ran = np.isfinite(tot)
        its = np.where(stack["iter"] > 0, stack["iter"], 0).sum(axis=1)
        kind = key.split("/")[0] if "/" in key else "learner"
        entry = {"label": _method_label(key, labels, params), "kind": kind,
                 "seconds": float(tot[ran].mean()),
                 "seconds_per_round": [float(x) if math.isfinite(x) else None for x in tot],
                 "seconds_min": float(tot[ran].min()), "seconds_max": float(tot[ran].max()),
                 "wall_seconds": float(wtot[ran].mean()),
                 "wall_seconds_per_round": [float(x) if math.isfinite(x) else None
                                            for x in wtot],
                 "iterations": float(its[ran].mean()), "lower_bound": capped,
                 "all_converged": conv, "rounds": int(ran.sum())}
        if capped:  # stopped at the cap: the ratio to the best fixed running total then
            stopped = [v for v in (rounds.get(r, {}).get(key) for r in range(R))
                       if v is not None and v.capped]
            entry["stopped_at"] = min(v.steps for v in stopped)
            entry["ratio_when_stopped"] = float(min(v.capped_ratio for v in stopped))
        if _split(key)[0] == "fixed":
            entry["config"] = params["grid"][_split(key)[1]]
            entry["work"] = None if capped else float(np.nansum(stack["work"][ran][0]))
        if kind == "learner":
            ratios = [t / b for t, b in zip(cpu, best_per_round)
                      if math.isfinite(t) and math.isfinite(b)]
            entry["vs_best_fixed"] = ratios
            entry["vs_best_fixed_mean"] = float(np.mean(ratios)) if ratios else None
            counts = {}
            for o in owners:
                for lab, n in o["arm_counts"].items():
                    counts[lab] = counts.get(lab, 0) + n
            entry["arm_counts"] = counts
            entry["censored"] = float(np.mean([o["censored"] for o in owners]))
            entry["fallbacks"] = float(np.mean([o["fallbacks"] for o in owners]))
        methods[name] = entry
        for f, a in stack.items():
            arr[f"{f}/{name}"] = a
    # learner against the ω-only learner, round by round
    omega = methods.get("omega_learner")
    for name in CONFIG_LEARNERS:
        if name in methods and omega:
            ratios = [a / b for a, b in zip(methods[name]["seconds_per_round"],
                                            omega["seconds_per_round"]) if a and b]
            methods[name]["vs_omega_learner"] = ratios
            methods[name]["vs_omega_learner_mean"] = float(np.mean(ratios)) if ratios else None
    ctx = np.array([seq.seq.sigma(t) for t in range(T)]) if seq.kind == "mc3d" \
        else seq.sim.contexts()
    arr["contexts"] = ctx
    arr["labels"] = np.array(labels, dtype=str)
    choices = _best_by_context(arr, labels, ctx)
    fixed = {n: m for n, m in methods.items() if m["kind"] == "fixed"}
    best_fixed = min((n for n in fixed if not fixed[n]["lower_bound"]),
                     key=lambda n: fixed[n]["seconds"], default=None)
    targets = _targets(methods, best_fixed, choices, seq)
    return {"name": seq.name, "kind": seq.kind, "n": seq.n, "T": seq.T,
            "context": seq.context_name, "bounds": list(seq.bounds), "methods": methods,
            "best_fixed": best_fixed, "best_fixed_per_round": best_per_round,
            "best_by_context": choices, "targets": targets,
            "work_vs_time": work_vs_time(fixed)}, arr


def _best_by_context(arr, labels, ctx, bins=8):
    """Per context bin (equal counts of steps), the fixed configuration and the family with
    the smallest total CPU seconds (median over rounds of each step)."""
    order = np.argsort(ctx, kind="stable")
    cols = [lab for lab in labels if f"cpu/{lab}" in arr]
    if not cols:
        return []
    with warnings.catch_warnings():  # steps a capped configuration never reached: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        S = np.stack([np.nanmedian(arr[f"cpu/{lab}"], axis=0) for lab in cols], axis=1)
    out = []
    for part in np.array_split(order, min(bins, ctx.size)):
        tot = S[part].sum(axis=0)  # NaN where a configuration missed a step (stopped at
        tot[np.isnan(tot)] = np.inf  # the cap): not comparable on this bin
        k = int(np.argmin(tot))
        fam = {}
        for j, lab in enumerate(cols):
            fam[family(lab)] = min(fam.get(family(lab), math.inf), tot[j])
        out.append({"context": [float(ctx[part].min()), float(ctx[part].max())],
                    "best": cols[k], "family": family(cols[k]),
                    "family_seconds": {f: float(v) for f, v in fam.items()}})
    return out


#: The best family "changes with the context" when taking, in every context bin, the best
#: family there instead of the best fixed configuration's family would save at least this
#: fraction of that family's seconds (per-bin minima over each family's configurations).
#: A bin of cheap steps where another family is a little faster is not a change that matters.
FAMILY_GAIN = 0.05


def family_switch_gain(choices, home) -> float:
    """Fraction of the ``home`` family's seconds (summed over the context bins, each bin at
    its best configuration of that family) saved by using the best family of each bin.

    Examples
    --------
    >>> bins = [{"family_seconds": {"ssor_pcg": 10.0, "cg": 6.0}},
    ...         {"family_seconds": {"ssor_pcg": 30.0, "cg": 90.0}}]
    >>> family_switch_gain(bins, "ssor_pcg")
    0.1
    """
    base = saved = 0.0
    for c in choices:
        fs = c["family_seconds"]
        if home not in fs or not math.isfinite(fs[home]):
            continue
        base += fs[home]
        saved += max(0.0, fs[home] - min(fs.values()))
    return saved / base if base > 0 else 0.0


def _targets(methods, best_fixed, choices, seq):
    """The study's targets, evaluated for each configuration learner (means over rounds of
    the per-round ratios)."""
    home = family(best_fixed) if best_fixed else None
    gain = family_switch_gain(choices, home) if home else 0.0
    changes = gain >= FAMILY_GAIN
    out = {"best_fixed": best_fixed, "best_family_changes": changes,
           "family_switch_gain": gain, "best_families": sorted({c["family"] for c in choices}),
           "target_vs_best_fixed": 0.9 if changes else 1.05,
           "target_vs_omega_learner": 1.05 if home == "ssor_pcg" else None}
    anchors = {n: m["seconds"] for n, m in methods.items() if m["kind"] == "anchor"
               and not m["lower_bound"]}
    for name in CONFIG_LEARNERS:
        lrn = methods.get(name)
        if not lrn:
            continue
        row = {"vs_best_fixed": lrn.get("vs_best_fixed_mean"),
               "vs_omega_learner": lrn.get("vs_omega_learner_mean")}
        row["meets_vs_best_fixed"] = row["vs_best_fixed"] is not None and \
            row["vs_best_fixed"] <= out["target_vs_best_fixed"]
        if out["target_vs_omega_learner"] and row["vs_omega_learner"] is not None:
            row["meets_vs_omega_learner"] = row["vs_omega_learner"] <= 1.05
        capped = [m for m in methods.values() if m["kind"] == "anchor" and m["lower_bound"]]
        if anchors or capped:  # a capped anchor took > its cap × the best fixed: behind
            row["ahead_of_anchors"] = all(lrn["seconds"] < v for v in anchors.values()) and all(
                (lrn.get("vs_best_fixed_mean") or math.inf) < m["ratio_when_stopped"]
                for m in capped)
        out[name] = row
    # the default configuration learner's figures, at the top level too
    out["learner_vs_best_fixed"] = out.get("learner", {}).get("vs_best_fixed")
    out["learner_vs_omega_learner"] = out.get("learner", {}).get("vs_omega_learner")
    return out


def rescore(summary: dict, arrays: dict) -> dict:
    """Recompute every sequence's ``best_by_context``, ``targets`` and ``work_vs_time`` from
    a results folder's summary and per-step arrays (``{sequence name: arrays}``), e.g. after
    a change of these rules; returns the summary, updated in place."""
    for name, seq in summary["sequences"].items():
        arr = arrays[name]
        labels = [str(v) for v in arr["labels"]]
        seq["best_by_context"] = _best_by_context(arr, labels, np.asarray(arr["contexts"]))
        fixed = {n: m for n, m in seq["methods"].items() if m["kind"] == "fixed"}
        seq["targets"] = _targets(seq["methods"], seq["best_fixed"], seq["best_by_context"],
                                  None)
        seq["work_vs_time"] = work_vs_time(fixed)
    return summary


def work_vs_time(fixed: dict) -> dict:
    """Does total work rank the fixed configurations as wall-clock does?

    Returns Spearman's rank correlation of total work and total seconds over the fixed
    configurations that finished, the pairs ranked differently (with their ratios), and the
    seconds per unit of work of each family (the calibration the work model would need).

    Examples
    --------
    >>> f = {"a": {"work": 10.0, "seconds": 1.0, "lower_bound": False},
    ...      "b": {"work": 20.0, "seconds": 3.0, "lower_bound": False},
    ...      "c": {"work": 30.0, "seconds": 2.0, "lower_bound": False}}
    >>> w = work_vs_time(f)
    >>> round(w["spearman"], 2), [d["pair"] for d in w["disagreements"]]  # (faster first)
    (0.5, [['c', 'b']])
    """
    ok = {n: m for n, m in fixed.items() if not m.get("lower_bound") and m.get("work")}
    names = sorted(ok, key=lambda n: ok[n]["seconds"])
    if len(names) < 2:
        return {"spearman": None, "disagreements": [], "seconds_per_work": {}}
    w = np.array([ok[n]["work"] for n in names])
    s = np.array([ok[n]["seconds"] for n in names])
    rw = np.argsort(np.argsort(w))
    rs = np.argsort(np.argsort(s))
    rho = 1 - 6 * float(np.sum((rw - rs) ** 2)) / (len(names) * (len(names) ** 2 - 1))
    dis = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            if (w[a] - w[b]) * (s[a] - s[b]) < 0:
                dis.append({"pair": [names[a], names[b]],
                            "work_ratio": float(w[a] / w[b]), "seconds_ratio": float(s[a] / s[b])})
    per = {}
    for n in names:
        per.setdefault(family(n), []).append(ok[n]["seconds"] / ok[n]["work"])
    return {"spearman": rho, "disagreements": dis,
            "seconds_per_work": {f: float(np.median(v)) for f, v in per.items()},
            "ranking_by_time": names,
            "ranking_by_work": [names[i] for i in np.argsort(w, kind="stable")]}


def format_precond_table(seq_summary: dict, *, markdown=False) -> str:
    """The comparison table of one sequence: every method by mean total seconds, with the
    spread over rounds, the ratio to the best fixed configuration, iterations and work."""
    methods = seq_summary["methods"]
    best = seq_summary["best_fixed"]
    base = methods[best]["seconds"] if best else None
    names = sorted(methods, key=lambda n: (methods[n]["lower_bound"], methods[n].get(
        "ratio_when_stopped", 0.0), methods[n]["seconds"]))
    header = ["method", "kind", "CPU seconds", "[min, max]", "vs best fixed", "wall seconds",
              "wall vs best fixed", "iterations", "work"]
    wbase = methods[best]["wall_seconds"] if best else None
    rows = []
    for n in names:
        m = methods[n]
        if m["lower_bound"]:  # stopped at the cap
            rows.append([m["label"], m["kind"], f"stopped at step {m['stopped_at']}", "-",
                         f"> {m['ratio_when_stopped']:.1f}", "-", "-", "-", "-"])
            continue
        rows.append([m["label"], m["kind"], f"{m['seconds']:.3f}",
                     f"[{m['seconds_min']:.3f}, {m['seconds_max']:.3f}]",
                     f"{m['seconds'] / base:.3f}" if base else "-",
                     f"{m['wall_seconds']:.3f}",
                     f"{m['wall_seconds'] / wbase:.3f}" if wbase else "-",
                     f"{m['iterations']:.0f}",
                     f"{m['work']:.0f}" if m.get("work") else "-"])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    from .cli_common import shown  # measured as printed: ω may print as "omega"

    table = [[shown(c) for c in r] for r in [header] + rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return "\n".join("   ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1])] +
                                [c.rjust(w) for c, w in zip(r[2:], widths[2:])]).rstrip()
                     for r in table)
