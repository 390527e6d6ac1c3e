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

# each task's run and the scoring are kept in parts of their own; the tasks, their dispatch
# (_TASKS, whose entries tests replace here) and the study's driver stay in this module
from ._heat_runs import (HEAT_BINS, _direct_seconds, _gather_system, _learner,  # noqa: F401
                         _run_cg, _run_costs, _run_direct, _run_learner, _simulation,
                         solver_settings)
from ._heat_scoring import (FIXED_OMEGAS, REFERENCE, _score_direct_sample,  # noqa: F401
                            _score_grid, _score_sampled, _score_size, _summarise)
from .costs import GOLDEN_EVALUATIONS, OMEGA_GRID
from .offset_study import run_parallel
from .problems import _integer, _positive

__all__ = ["FIXED_OMEGAS", "PAPER_LEARNERS", "REFERENCE", "solver_settings", "mpi_ranks",
           "HeatTask", "heat_task", "run_heat_study"]

#: Learners of the paper's heat figure (registry names).
PAPER_LEARNERS = ("tsallis_inf", "tsallis_inf_cb", "chebcb")


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


def mpi_ranks(backend: str) -> tuple:
    """``(rank, size)`` of ``PETSc.COMM_WORLD`` with the PETSc backend, else ``(0, 1)``."""
    if backend != "petsc":
        return 0, 1
    from petsc4py import PETSc

    return PETSc.COMM_WORLD.getRank(), PETSc.COMM_WORLD.getSize()


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
