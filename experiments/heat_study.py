"""The heat2d study (SSOR-PCG over a Crank–Nicolson simulation) and the ``demo`` job.

Two kinds of measurement (the paper's protocol plus the product's point):

* the **grid cost matrix** ``C[t, k]`` along one reference trajectory
  (:func:`experiments.costs.heat_costs`) scores the fixed ω's, the best fixed ω in hindsight,
  the per-step grid minimum, plain CG and a direct solve, and gives exact regret; with it,
  a per-step golden-section search over ω (``instance_optimal``) gives the instance-optimal
  baseline off the grid;
* every **learner runs for real**: the simulation loop is wrapped with :class:`bandit.Tuner`
  (``u = tuner.solve(A, b, x0=u, context=κ).x``), which gives its iterations and seconds;
  its arm sequence is also scored on ``C`` for regret ("replay").

Seconds are read on :func:`experiments.costs.study_clock` — CPU seconds of the process on the
Numba backend (robust to other jobs on a shared machine), wall seconds on PETSc — and every
method pays the operator update a loop running it pays: the first step's preparation, then the
values refreshed in place.

Tasks (the cost matrix of each size, and each learner × trial × size) run in parallel
processes with ``jobs > 1``.

With ``backend="petsc"`` the simulation is assembled on PETSc objects
(:class:`experiments.heat2d_petsc.Heat2DPetsc`: a distributed ``PETSc.Mat`` whose rows each
rank builds itself), so the same study runs on one rank or, under ``mpiexec``, on many: every
rank runs every task, in order and collectively, and gets the same summary (decisions are
made on rank 0 and broadcast by :class:`bandit.Tuner`; times are rank 0's).  The sparse
direct baseline needs the whole matrix: its own run uses the scipy simulation on each rank,
and a sampled one (``baseline_every``) gathers the distributed system first (not timed).
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .costs import (GOLDEN_EVALUATIONS, OMEGA_GRID, heat_costs, refreshed, study_clock,
                    warm_up)
from .learners import derive_seed, fixed_method, make_learner, uses_vector_context
from .offset_study import run_parallel
from .problems import Heat2D, _integer, _positive
from .results import score

__all__ = ["FIXED_OMEGAS", "PAPER_LEARNERS", "REFERENCE", "solver_settings", "mpi_ranks",
           "HeatTask", "heat_task", "run_heat_study"]

#: Fixed ω baselines of the paper's heat figure.
FIXED_OMEGAS = (1.0, 1.3, 1.5, 1.75, 1.95)
#: Learners of the paper's heat figure (registry names).
PAPER_LEARNERS = ("tsallis_inf", "tsallis_inf_cb", "chebcb")
#: Tsallis-INF-CB bins for the heat study (the paper: 6 bins on [min κ, max κ]).
HEAT_BINS = 6
#: Reference totals from an independent re-implementation of the paper's code (5000 steps),
#: by nx then method.
REFERENCE = {
    25: {"grid_min": 24.2e3, "chebcb": 25.3e3, "best_fixed": 29.5e3},
    50: {"grid_min": 34.7e3, "chebcb": 35.8e3, "tsallis_inf_cb": 41.1e3, "best_fixed": 42.9e3,
         "fixed_1.5": None, "tsallis_inf": 46.8e3, "fixed_1": 60.7e3, "cg": 164e3},
    100: {"grid_min": 49.6e3, "chebcb": 51.8e3, "tsallis_inf_cb": 61.6e3, "fixed_1.75": 63.8e3,
          "tsallis_inf": 77.1e3, "fixed_1.5": 77.3e3, "fixed_1": 117.6e3, "cg": 325e3},
    200: {"chebcb": 74.2e3, "fixed_1.75": 107.2e3, "tsallis_inf": 107.2e3, "fixed_1.5": 141.6e3,
          "fixed_1": 233.7e3, "cg": 655e3},
}


class HeatTask(NamedTuple):
    """One task of the heat2d study (picklable, for the worker processes): ``kind`` is a
    :data:`_TASKS` key — ``"costs"`` (the ω cost matrix, with plain CG unless ``cg`` is
    False), ``"cg"`` (plain CG only), ``"direct"`` (a sparse direct solve on every
    ``direct_every``-th step) or ``"learner"`` (one learner ``name``, the ``j``-th of the
    study, trial ``trial``)."""

    kind: str
    nx: int
    steps: int
    t_end: float
    omegas: tuple
    seed: int
    degree: int
    backend: str
    cg: bool
    golden: bool
    name: str | None = None
    j: int = 0
    trial: int = 0
    baseline_every: int | None = None
    direct: bool = False
    progress: str | None = None
    direct_every: int = 1


def solver_settings(backend: str = "numba", rtol: float = 1e-8, maxiter: int = 10_000) -> dict:
    """Keyword arguments of every solve in the study: the one place the backend is chosen.

    Passed unchanged to :func:`solvers.ssor_pcg` / :func:`solvers.cg` (cost matrix) and to
    :class:`bandit.Tuner` (learners), so ``--backend petsc`` switches both.
    """
    if backend not in ("numba", "petsc"):
        raise ValueError(f"backend must be 'numba' or 'petsc', got {backend!r}")
    return {"rtol": float(rtol), "maxiter": int(maxiter), "backend": backend}


def mpi_ranks(backend: str) -> tuple:
    """``(rank, size)`` of ``PETSc.COMM_WORLD`` with the PETSc backend, else ``(0, 1)``."""
    if backend != "petsc":
        return 0, 1
    from petsc4py import PETSc

    return PETSc.COMM_WORLD.getRank(), PETSc.COMM_WORLD.getSize()


def _simulation(nx, steps, t_end, backend):
    """The study's simulation for ``backend``: on PETSc, assembled as distributed PETSc objects
    (one rank or many, the same code); on Numba, scipy matrices."""
    if backend == "petsc":
        from .heat2d_petsc import Heat2DPetsc

        return Heat2DPetsc(nx, steps, t_end)
    return Heat2D(nx, steps, t_end)


def _learner(name, task, trial):
    lo, hi = (0.0, 10.0)  # κ(s) ∈ [0, 10] (Heat2D.kappa_bounds)
    return make_learner(name, list(task.omegas),
                        seed=derive_seed(task.seed, trial, task.nx, 1000 + task.j),
                        context_bounds=(lo, hi), bins=HEAT_BINS, cheb_m=task.degree,
                        vector_bounds=[(lo, hi)])


def _run_learner(task: HeatTask) -> dict:
    """One learner, one trial: the simulation loop wrapped with :class:`bandit.Tuner`.

    With ``task.baseline_every = K``, on every K-th step (0, K, 2K, ...) the baselines
    — plain CG, and a sparse direct solve if ``task.direct`` — also solve that step's
    system from the same state, timed the same way (whole calls) right next to the tuned
    solve, in alternating order; the trajectory goes on with the tuned solution.
    """
    import bandit
    import solvers
    from tqdm.auto import tqdm

    settings = solver_settings(task.backend)
    sim = _simulation(task.nx, task.steps, task.t_end, settings["backend"])
    name = task.name
    pol = _learner(name, task, task.trial)
    warm_up(settings["backend"])
    vector = uses_vector_context(name)
    # the tuned path's own kernels (value refresh, the policy's) load on first use too: run a
    # throwaway copy of this learner through a tiny simulation so no timed step pays for it
    spare = bandit.Tuner(_learner(name, task, task.trial + 1), solver="ssor_pcg",
                         **settings)
    _simulation(5, 4, task.t_end, settings["backend"]).run(
        lambda A, b, x0, context: spare.solve(A, b, x0=x0,
                                              context=[context] if vector else context))
    tuner = bandit.Tuner(pol, solver="ssor_pcg", **settings)
    T = sim.steps
    arms = np.zeros(T, dtype=np.int64)
    its = np.zeros(T, dtype=np.int64)
    solve_s = np.zeros(T)  # the solver's own clock
    call_s = np.zeros(T)  # the whole tuner.solve call: learner, guard and solve
    ok = np.zeros(T, dtype=bool)
    stopped = np.zeros(T, dtype=bool)

    clock = study_clock(settings["backend"])
    every = task.baseline_every
    sampled = {"cg_iterations": [], "cg_seconds": [], "cg_converged": [], "direct_seconds": []}

    cg_op = [None]  # plain CG's own operator, refreshed as a loop running CG would refresh it

    def baselines(A, b, x0):
        t0 = clock()
        cg_op[0] = refreshed(A, cg_op[0], settings["backend"])
        r = solvers.cg(cg_op[0], b, x0=x0, **settings)
        sampled["cg_seconds"].append(clock() - t0)
        sampled["cg_iterations"].append(r.iterations)
        sampled["cg_converged"].append(r.converged)
        if task.direct:
            sampled["direct_seconds"].append(_direct_seconds(A, b, clock))

    def solve(A, b, x0, context):
        base = bool(every) and k[0] % every == 0
        first = base and (k[0] // every) % 2 == 0  # alternate who runs first
        if first:
            baselines(A, b, x0)
        t0 = clock()
        r = tuner.solve(A, b, x0=x0, context=[context] if vector else context)
        call_s[k[0]] = clock() - t0
        if base and not first:
            baselines(A, b, x0)
        # the arm the policy chose (a guarded, stopped exploration is finished by another arm)
        explored = r.info.get("explored")
        arms[k[0]] = explored["arm"] if explored else r.arm
        its[k[0]], solve_s[k[0]], ok[k[0]] = r.iterations, r.seconds, r.converged
        stopped[k[0]] = explored is not None
        k[0] += 1
        return r

    k = [0]
    desc = task.progress
    # a step costs from a few to hundreds of iterations as κ(t) swings through its period,
    # so the time left is estimated from the average rate since the start (smoothing 0), not
    # from the last few steps
    bar = tqdm(total=sim.steps, desc=desc, disable=not desc, smoothing=0.0, leave=False,
               mininterval=1.0)

    def step(i, result):
        bar.update()

    t0 = time.perf_counter()
    with bar:
        sim.run(solve, callback=step)
    loop = time.perf_counter() - t0
    out = {"arms": arms, "iterations": its, "solve_seconds": solve_s, "seconds": call_s,
           "converged": ok, "stopped": stopped, "loop_seconds": loop}
    if every:
        out["sampled"] = {key: np.asarray(v) for key, v in sampled.items()}
    return out


def _direct_seconds(A, b, clock=time.perf_counter) -> float:
    """Seconds on ``clock`` of a sparse direct solve (``splu`` factor + solve) of ``A x = b``.

    A ``PETSc.Mat`` (distributed or not) is first gathered whole on every rank, untimed: the
    baseline is a serial direct solve of the same system.
    """
    import scipy.sparse.linalg as spla

    if not hasattr(A, "tocsc"):
        A, b = _gather_system(A, b)
    t0 = clock()
    spla.splu(A.tocsc()).solve(b)
    return clock() - t0


def _gather_system(A, b):
    """The whole of a (distributed) ``PETSc.Mat`` and ``PETSc.Vec`` on every rank, as a scipy
    CSR matrix and a numpy vector."""
    import scipy.sparse as sp

    indptr, indices, data = A.getValuesCSR()
    parts = A.getComm().tompi4py().allgather(
        (indptr, indices, data, b.getArray(readonly=True).copy()))
    n = A.getSize()[1]
    rows = [sp.csr_matrix((d, ix, ip), shape=(ip.size - 1, n)) for ip, ix, d, _ in parts]
    return sp.vstack(rows, format="csr"), np.concatenate([p[3] for p in parts])


def _run_costs(task: HeatTask) -> dict:
    settings = solver_settings(task.backend)
    sim = _simulation(task.nx, task.steps, task.t_end, settings["backend"])
    out = heat_costs(sim, task.omegas, cg=task.cg, direct=False,
                     golden=task.golden, golden_evaluations=GOLDEN_EVALUATIONS,
                     **settings)
    out.pop("u_final")  # the study does not use it (and a PETSc Vec cannot leave a worker)
    return out


def _run_direct(task: HeatTask) -> dict:
    """The simulation with a sparse direct solve (``splu`` factor + solve, timed) on every
    ``task.direct_every``-th step (0, K, 2K, ...; every step with K = 1).

    A separate task from the cost matrix so the two run in parallel.  With K > 1 the other
    steps are solved by SSOR-PCG (ω = 1.5, the study's ``rtol``, untimed) to carry the state
    on: every step's matrix depends on its time only, so the timed steps factor the same
    matrices as every other method's run, with right-hand sides that agree to ``rtol``.  A
    factorisation's time hardly depends on the step (the sparsity pattern is fixed), so the
    sample stands for the whole run (:func:`_score_size` extrapolates it and says so).

    Returns ``direct_seconds`` (one per timed step) and ``direct_steps`` (their indices).
    """
    import scipy.sparse.linalg as spla
    import solvers

    sim = Heat2D(task.nx, task.steps, task.t_end)
    every = int(task.direct_every)
    at = np.arange(0, sim.steps, every)
    seconds = np.zeros(at.size)
    clock = study_clock(task.backend)
    settings = solver_settings("numba")  # the scipy simulation: carried on by the Numba solver
    if every > 1:
        warm_up("numba")
    op = [None]

    def solve(A, b, x0, context):
        k = solve.k
        solve.k += 1
        if k % every == 0:
            t0 = clock()
            x = spla.splu(A.tocsc()).solve(b)
            seconds[k // every] = clock() - t0
            return x
        op[0] = refreshed(A, op[0], "numba")
        r = solvers.ssor_pcg(op[0], b, 1.5, x0=x0, **settings)
        if not r.converged:  # the timed steps must solve the same systems as the others
            raise RuntimeError(f"direct baseline: SSOR-PCG carrying the state did not "
                               f"converge at step {k}")
        return r

    solve.k = 0
    sim.run(solve)
    return {"direct_seconds": seconds, "direct_steps": at}


def _run_cg(task: HeatTask) -> dict:
    """The simulation with plain CG (used when the grid cost matrix is skipped)."""
    import solvers

    settings = solver_settings(task.backend)
    sim = _simulation(task.nx, task.steps, task.t_end, settings["backend"])
    warm_up(settings["backend"])
    its, secs = np.zeros(sim.steps, dtype=np.int64), np.zeros(sim.steps)
    clock = study_clock(settings["backend"])
    op = [None]

    def solve(A, b, x0, context):
        # the whole call, as for the learners (whose time includes the Tuner's bookkeeping),
        # the step's values refreshed into the operator as the Tuner refreshes its own
        t0 = clock()
        op[0] = refreshed(A, op[0], settings["backend"])
        r = solvers.cg(op[0], b, x0=x0, **settings)
        its[solve.k], secs[solve.k] = r.iterations, clock() - t0
        solve.k += 1
        return r

    solve.k = 0
    sim.run(solve)
    return {"cg_iterations": its, "cg_seconds": secs}


_TASKS = {"costs": _run_costs, "direct": _run_direct, "cg": _run_cg, "learner": _run_learner}


def heat_task(task: HeatTask) -> dict:
    """Worker entry point (picklable): ``kind`` is a :data:`_TASKS` key."""
    return _TASKS[task.kind](task)


def run_heat_study(*, nx=(50,), steps=5000, t_end=5.0, trials=3, methods=None, seed=0, jobs=1,
                   backend="numba", degree=6, direct=True, grid=True, golden=True,
                   progress=True, study="heat2d", checkpoint=None, baseline_every=None,
                   direct_every=1):
    """Run heat2d for each grid size and score every method.

    Parameters
    ----------
    nx : sequence of int
        Intervals per side (paper: 25, 50, 100, 200, 400).
    steps, t_end
        Time steps on ``[0, t_end]`` (paper: 5000 on [0, 5]).
    trials : int
        Trials per learner (the grid methods are deterministic).
    methods : list of str, optional
        Learner registry names to run (default :data:`PAPER_LEARNERS`).  The grid methods
        (fixed ω's, best fixed, grid minimum) and plain CG always come with the cost matrix.
    direct : bool
        Time a sparse direct solve too (on every ``direct_every``-th step).
    direct_every : int
        Time the direct solve on steps 0, K, 2K, ... only (K = ``direct_every``; 1: every
        step) and extrapolate: the ``direct`` row's seconds are the mean over the timed steps
        times ``steps``, labelled with how many steps were timed.  A factorisation costs about
        the same at every step, and it is the slowest baseline by far (the ``demo`` times it
        on every 50th step).  Ignored with ``baseline_every``, which samples it its own way.
    grid : bool
        Compute the grid cost matrix (fixed ω's, best fixed, grid minimum, regret).  Without
        it (large nx: 20 solves per step are costly) only the learners, plain CG and the
        direct solve run, each along its own trajectory, and no regret is reported.
    golden : bool
        With ``grid``: also search each step's best ω by golden section
        (:func:`experiments.costs.search_omega`, :data:`~experiments.costs.GOLDEN_EVALUATIONS`
        more solves per step), reported as ``instance_optimal`` and as the reference of
        every method's ``regret_golden``.  Ignored without ``grid``.
    backend : {"numba", "petsc"}
        See :func:`solver_settings`.  ``"petsc"`` runs on every rank of ``PETSc.COMM_WORLD``
        (under ``mpiexec``, every rank calls this function with the same arguments and gets
        the same summary; the tasks then run one after another, whatever ``jobs``).
    progress : bool
        Progress bars with an estimate of the time left: one over the tasks and, when the
        tasks run in this process (``jobs = 1``), one over each learner run's steps.
    baseline_every : int, optional
        Time the baselines on a sample of steps instead of on whole runs of their own: on
        every ``baseline_every``-th step (0, K, 2K, ...) of each learner run, plain CG — and
        the direct solve, with ``direct`` — solves that step's system from the learner's
        state, timed beside the tuned solve (whole calls, alternating which goes first).
        Each learner's ``vs_cg`` is then its seconds on those steps over CG's on the same
        steps, and the ``cg``/``direct`` rows sum the sampled steps only (``sampled`` says
        how many).  For large grids, where plain CG over every step takes hours.  The cost
        matrix (``grid``) then runs without CG.
    checkpoint : callable, optional
        ``checkpoint(summary, arrays)`` after every finished task but the last (a cost matrix,
        a direct or CG run, one learner trial), with every size scored on the tasks finished
        so far (``summary["partial"]`` says how many), so a long run keeps its work as it goes.

    Returns
    -------
    (dict, dict)
        ``summary`` (``methods`` of the largest nx, ``sizes`` with every nx) and per-size
        arrays ``{nx: {"C", "S", "contexts", "iter/<m>", "sec/<m>", "arms/<m>", ...}}``.

    Examples
    --------
    >>> s, a = run_heat_study(nx=[6], steps=4, t_end=0.004, trials=1, methods=["chebcb"],
    ...                       progress=False)
    >>> a[6]["C"].shape  # steps × ω grid
    (4, 20)
    """
    learners = list(PAPER_LEARNERS if methods is None else methods)
    # what the command line checks, checked here too before any task runs
    sizes = [_integer(v, "nx", 2) for v in np.atleast_1d(nx).tolist()]
    if not sizes:
        raise ValueError("nx must list at least one size")
    steps, trials = _integer(steps, "steps", 1), _integer(trials, "trials", 1)
    jobs, t_end = _integer(jobs, "jobs", 1), _positive(t_end, "t_end")
    rank, ranks = mpi_ranks(backend)
    if ranks > 1:  # every rank runs every task collectively, in the same order
        jobs = 1
    progress = bool(progress) and rank == 0
    solver = solver_settings(backend)
    golden = bool(golden and grid)
    if baseline_every is not None:
        baseline_every = int(baseline_every)
        if baseline_every < 1:
            raise ValueError(f"baseline_every must be a positive integer, got {baseline_every}")
    direct_every = _integer(direct_every, "direct_every", 1)
    sample = baseline_every is not None
    base = dict(steps=int(steps), t_end=float(t_end), omegas=tuple(OMEGA_GRID.tolist()),
                seed=int(seed), degree=int(degree), backend=backend, cg=not sample, golden=golden)
    tasks = []
    for n in sizes:  # cost matrices first: they are the longest tasks
        if grid or not sample:
            tasks.append(HeatTask(kind="costs" if grid else "cg", nx=n, **base))
        if direct and not sample:
            tasks.append(HeatTask(kind="direct", nx=n, direct_every=direct_every, **base))
    step_bars = progress and (jobs <= 1 or trials * len(learners) * len(sizes) == 1)
    for n in sizes:
        for j, name in enumerate(learners):
            for i in range(trials):
                tasks.append(HeatTask(kind="learner", nx=n, name=name, j=j, trial=i,
                                      baseline_every=baseline_every, direct=bool(direct),
                                      progress=f"{name} nx={n} trial {i + 1}" if step_bars
                                      else None, **base))
    params = dict(study=study, nx=sizes, steps=int(steps), t_end=float(t_end), trials=int(trials),
                  learners=learners, seed=int(seed), omegas=OMEGA_GRID.tolist(),
                  fixed=list(FIXED_OMEGAS), bins=HEAT_BINS, degree=int(degree), grid=bool(grid),
                  golden=golden, golden_evaluations=GOLDEN_EVALUATIONS if golden else None,
                  baseline_every=baseline_every,
                  direct_every=None if sample or not direct else direct_every, ranks=ranks,
                  clock="wall" if solver["backend"] == "petsc" else "cpu", **solver)
    t0 = time.perf_counter()
    done = {}

    def finished(i, result):
        done[i] = result
        if checkpoint is not None and len(done) < len(tasks):
            part = _summarise(params, [(tasks[j], done[j]) for j in sorted(done)],
                              time.perf_counter() - t0)
            if part is not None:
                part[0]["partial"] = {"finished": len(done), "of": len(tasks), "unit": "tasks"}
                checkpoint(*part)

    out = run_parallel(heat_task, tasks, jobs=jobs, desc=f"{study} tasks", progress=progress,
                       on_result=finished)
    return _summarise(params, list(zip(tasks, out)), time.perf_counter() - t0)


def _summarise(params, pairs, elapsed):
    """Score every size on the finished ``(task, result)`` pairs; None if nothing to score."""
    steps = params["steps"]
    by_size, arrays = {}, {}
    for n in params["nx"]:
        costs = {}
        for t, o in pairs:
            if t.kind in ("costs", "cg", "direct") and t.nx == n:
                costs.update(o)
        runs = {name: [o for t, o in pairs if t.kind == "learner"
                       and t.nx == n and t.name == name] for name in params["learners"]}
        if not costs and not any(runs.values()):
            continue  # nothing of this size finished yet
        by_size[n], arrays[n] = _score_size(n, costs, runs, steps,
                                            params.get("baseline_every"))
    if not by_size:
        return None
    last = list(by_size)[-1]
    summary = {"study": params["study"], "params": params, "methods": by_size[last]["methods"],
               "sizes": {str(n): by_size[n] for n in by_size}, "elapsed_seconds": elapsed}
    return summary, arrays


def _score_size(nx, costs, runs, steps, every=None):
    """Methods of one grid size: grid methods from ``C``, learners from their real runs, and
    with ``every`` the baselines from the steps the learner runs sampled."""
    omegas = OMEGA_GRID
    iters, secs, extra = {}, {}, {}
    if "C" in costs:
        _score_grid(costs, iters, secs, extra)
    C = costs.get("C")
    rows = np.arange(steps)
    if "cg_iterations" in costs:  # absent from a partial run whose CG task has not finished
        iters["cg"], secs["cg"] = costs["cg_iterations"][None], costs["cg_seconds"][None]
    if "direct_seconds" in costs and costs["direct_seconds"].size == steps:  # every step
        iters["direct"] = np.zeros((1, steps))
        secs["direct"] = costs["direct_seconds"][None]
    arrays = {}
    for name, rs in runs.items():
        if not rs:
            continue
        arms = np.stack([r["arms"] for r in rs])
        iters[name] = np.stack([r["iterations"] for r in rs])
        secs[name] = np.stack([r["seconds"] for r in rs])
        extra[name] = {
            "solve_seconds": float(np.mean([r["solve_seconds"].sum() for r in rs])),
            "loop_seconds": float(np.mean([r["loop_seconds"] for r in rs])),
            "all_converged": bool(all(r["converged"].all() for r in rs)),
            "guard_stops": float(np.mean([r["stopped"].sum() for r in rs])),
        }
        arrays[f"arms/{name}"] = arms
        if C is not None:
            replay = C[rows[None, :], arms]
            extra[name]["iterations_replay"] = float(replay.sum(axis=1).mean())
            arrays[f"replay/{name}"] = replay
    # empty while only a sampled direct run has finished (a checkpoint)
    methods = score(iters, secs, C, omegas, extra) if iters else {}
    # a learner's regret is scored on its replayed arms (the real run's trajectory agrees
    # with the reference to tolerance, but its iteration counts may differ by one or two)
    for name in runs:
        if f"replay/{name}" in arrays:
            r = score({name: arrays[f"replay/{name}"]}, {}, C, omegas)[name]
            methods[name]["regret_best_fixed"] = r["regret_best_fixed"]
            methods[name]["regret_instance_optimal"] = r["regret_instance_optimal"]
    if "instance_optimal" in methods:
        # regret against the searched per-step optimum: the grid-min regret shifted by the
        # (non-negative) gap between the grid minimum and the search
        gap = methods["grid_min"]["iterations"] - methods["instance_optimal"]["iterations"]
        for m in methods.values():
            ri = m.get("regret_instance_optimal")
            m["regret_golden"] = None if ri is None else ri + gap
    if "direct" in methods:
        methods["direct"].update(iterations=0.0, regret_best_fixed=None,
                                 regret_instance_optimal=None, regret_golden=None)
    if every:
        _score_sampled(methods, arrays, runs, steps, every)
    elif "direct_seconds" in costs and "direct" not in iters:
        _score_direct_sample(methods, arrays, costs, steps)
    for name, v in iters.items():
        arrays[f"iter/{name}"] = v
        arrays[f"sec/{name}"] = secs[name]
    if C is not None:
        arrays.update(C=C, S=costs["S"], contexts=costs["contexts"])
    if "golden_omega" in costs:
        arrays["golden_omega"] = costs["golden_omega"]
    arrays["omegas"] = omegas
    ref = {k: v for k, v in REFERENCE.get(nx, {}).items() if v is not None} if steps == 5000 else {}
    return {"nx": nx, "n": (nx - 1) ** 2, "methods": methods, "reference": ref}, arrays


def _score_grid(costs, iters, secs, extra):
    """Fixed ω's, best fixed in hindsight and the per-step grid minimum, read off ``C``/``S``;
    the golden-section per-step optimum when it was searched."""
    C, S, omegas = costs["C"], costs["S"], OMEGA_GRID
    for w in FIXED_OMEGAS:
        k = int(np.argmin(abs(omegas - w)))
        iters[fixed_method(w)], secs[fixed_method(w)] = C[None, :, k], S[None, :, k]
    kb = int(np.argmin(C.sum(axis=0)))
    iters["best_fixed"], secs["best_fixed"] = C[None, :, kb], S[None, :, kb]
    extra["best_fixed"] = {"omega": float(omegas[kb])}
    kmin = C.argmin(axis=1)
    rows = np.arange(C.shape[0])
    iters["grid_min"], secs["grid_min"] = C[None, rows, kmin], S[None, rows, kmin]
    if "golden_iterations" in costs:
        iters["instance_optimal"] = costs["golden_iterations"][None]
        secs["instance_optimal"] = costs["golden_seconds"][None]
        w = costs["golden_omega"]
        extra["instance_optimal"] = {
            "search_seconds": float(costs["golden_search_seconds"].sum()),
            "evaluations_per_step": GOLDEN_EVALUATIONS,
            "steps_below_grid": int(np.sum(costs["golden_iterations"] < C.min(axis=1))),
            "omega_range": [float(w.min()), float(w.max())],
        }


def _score_direct_sample(methods, arrays, costs, steps):
    """The ``direct`` row from its timed steps (``direct_every`` > 1): their mean per-step
    seconds times ``steps``, labelled as extrapolated; ``extrapolated`` keeps what was timed,
    the arrays ``direct_seconds`` and ``direct_steps`` each timed step's seconds and index."""
    sec, at = costs["direct_seconds"], costs["direct_steps"]
    every = int(at[1] - at[0]) if at.size > 1 else steps
    methods["direct"] = {
        "label": f"direct (splu), est. from {at.size} of {steps} steps",
        "iterations": 0.0, "iterations_std": 0.0,
        "seconds": float(sec.mean() * steps), "seconds_std": 0.0,
        "regret_best_fixed": None, "regret_instance_optimal": None, "regret_golden": None,
        "extrapolated": {"every": every, "steps": int(at.size),
                         "seconds_timed": float(sec.sum()),
                         "seconds_per_step": float(sec.mean()),
                         "seconds_per_step_std": float(sec.std())}}
    # not ``sec/direct``: the per-method arrays hold one value per step
    arrays["direct_seconds"], arrays["direct_steps"] = sec, at


def _score_sampled(methods, arrays, runs, steps, every):
    """The ``cg`` (and ``direct``) rows from the steps the learner runs sampled, and each
    learner's ``vs_cg`` on those steps (see :func:`run_heat_study`, ``baseline_every``)."""
    at = np.arange(0, steps, every)
    tables = {"cg": ([], []), "direct": ([], [])}  # per run: sampled iterations, seconds
    for name, rs in runs.items():
        rs = [r for r in rs if "sampled" in r]
        if not rs:
            continue
        mine = sum(float(r["seconds"][at].sum()) for r in rs)
        cg = sum(float(r["sampled"]["cg_seconds"].sum()) for r in rs)
        entry = {"every": every, "steps": int(at.size), "seconds": mine / len(rs),
                 "cg_seconds": cg / len(rs),
                 "cg_iterations": float(np.mean([r["sampled"]["cg_iterations"].sum()
                                                 for r in rs])),
                 "cg_all_converged": bool(all(r["sampled"]["cg_converged"].all() for r in rs))}
        methods[name]["vs_cg"] = mine / cg if cg > 0 else None
        arrays[f"sampled_cg_iterations/{name}"] = np.stack(
            [r["sampled"]["cg_iterations"] for r in rs])
        arrays[f"sampled_cg_seconds/{name}"] = np.stack([r["sampled"]["cg_seconds"] for r in rs])
        for r in rs:
            tables["cg"][0].append(float(r["sampled"]["cg_iterations"].sum()))
            tables["cg"][1].append(float(r["sampled"]["cg_seconds"].sum()))
        if rs[0]["sampled"]["direct_seconds"].size:
            direct = sum(float(r["sampled"]["direct_seconds"].sum()) for r in rs)
            entry["direct_seconds"] = direct / len(rs)
            methods[name]["vs_direct"] = mine / direct if direct > 0 else None
            arrays[f"sampled_direct_seconds/{name}"] = np.stack(
                [r["sampled"]["direct_seconds"] for r in rs])
            tables["direct"][1].extend(float(r["sampled"]["direct_seconds"].sum()) for r in rs)
        methods[name]["sampled_baseline"] = entry
    for name, m in methods.items():  # whole-run rows (grid methods) have no sampled CG
        if name not in runs:
            m["vs_cg"] = None
    arrays["sampled_steps"] = at
    cg_mean = float(np.mean(tables["cg"][1])) if tables["cg"][1] else 0.0
    for key, name in (("cg", "plain CG"), ("direct", "direct (splu)")):
        its, secs = tables[key]
        if not secs:
            continue
        methods[key] = {
            "label": f"{name}, sampled: {at.size} of {steps} steps",
            "iterations": float(np.mean(its)) if its else 0.0,
            "iterations_std": float(np.std(its)) if its else 0.0,
            "seconds": float(np.mean(secs)), "seconds_std": float(np.std(secs)),
            "regret_best_fixed": None, "regret_instance_optimal": None, "regret_golden": None,
            "sampled": {"every": every, "steps": int(at.size), "runs": len(secs)},
            "vs_cg": float(np.mean(secs)) / cg_mean if cg_mean > 0 else None}
