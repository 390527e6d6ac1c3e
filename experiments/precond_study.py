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

import numpy as np

# the sequences and the scoring are kept in parts of their own; the running stays here, with
# every name a wrapper or a test replaces on this module (_policy, _method, _warm_up,
# _tuner_method, _Run, run_precond_study), so that each reader looks the name up here
from ._precond_scoring import (_ANCHOR_LABELS, CONFIG_LEARNERS, FAMILY_GAIN,  # noqa: F401
                               _best_by_context, _method_label, _method_name,
                               _owner_summary, _score_sequence, _split, _summarise, _targets,
                               family, family_switch_gain, format_precond_table, rescore,
                               work_vs_time)
from ._precond_sequences import HeatSequence, MCSequence, Sequence, make_sequence  # noqa: F401
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


def default_grid(omegas=OMEGAS, pcs=GRID_PCS, reuse=None) -> list:
    """The study's configuration arms (:func:`bandit.config_grid`)."""
    from bandit import config_grid

    return config_grid(omegas, pcs, reuse=GRID_REUSE if reuse is None else reuse)


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



def _warm_up(seqs, grid, omega_arms, learner, anchors, lag, settings, compare=None):
    """Every method once on a tiny sequence of each kind: no timed call pays a compilation,
    a first import, or the one-time calibration of the AMG set-up's price
    (:meth:`solvers.precond.AMG.setup_price`, once per process and AMG settings, like a
    compilation; a Tuner's guard asks for it the first time pyamg's clock floor alone would
    let a first AMG set-up start) and of its iteration's price
    (:meth:`~solvers.precond.AMG.iteration_price`, asked at a first AMG try) and of the
    compiled kernels' iterations (:func:`solvers._precond_work.iteration_clock`, asked at a
    first plain, Jacobi or IC(0) CG try), or the
    loading of the kernels a learner runs only now and then: its change test's when it
    raises an alarm (in a process after the code changed, its compilation: 0.5 s inside one
    timed call of heat2d), and its predictions of
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
            # the price of a never-run AMG family's iteration (AMG.iteration_price), once
            # per process like the set-up's: the guard asks for it at the first AMG try
            AMG(**knobs).iteration_price()
    # the compiled kernels' clocks per entry and per row (solvers._precond_work.
    # iteration_clock), once per process: the guard prices a never-run plain, Jacobi or
    # IC(0) CG family's first try with them
    if any(isinstance(c, dict) and c.get("method") == "cg" and c.get("pc", "none") in (
            "none", "jacobi", "ic0") for c in grid):
        from solvers._precond_work import iteration_clock

        iteration_clock("cg")
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
