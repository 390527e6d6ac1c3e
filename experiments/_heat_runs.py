"""The heat2d study's runs (:mod:`experiments.heat_study`): the solve settings, the
simulation of each backend, and each task's run — the cost matrix, plain CG, the sparse
direct solve and a learner's trial through a :class:`bandit.Tuner`.  The tasks and their
dispatch (:func:`experiments.heat_study.heat_task` and the table of runs it reads, whose
entries tests replace) stay in :mod:`experiments.heat_study`, which re-exports every name
here."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from .costs import GOLDEN_EVALUATIONS, heat_costs, refreshed, study_clock, warm_up
from .learners import derive_seed, make_learner, uses_vector_context
from .problems import Heat2D

if TYPE_CHECKING:  # (annotations only: the task type is the study's)
    from .heat_study import HeatTask

#: Tsallis-INF-CB bins for the heat study (the paper: 6 bins on [min κ, max κ]).
HEAT_BINS = 6


def solver_settings(backend: str = "numba", rtol: float = 1e-8, maxiter: int = 10_000) -> dict:
    """Keyword arguments of every solve in the study: the one place the backend is chosen.

    Passed unchanged to :func:`solvers.ssor_pcg` / :func:`solvers.cg` (cost matrix) and to
    :class:`bandit.Tuner` (learners), so ``--backend petsc`` switches both.
    """
    if backend not in ("numba", "petsc"):
        raise ValueError(f"backend must be 'numba' or 'petsc', got {backend!r}")
    return {"rtol": float(rtol), "maxiter": int(maxiter), "backend": backend}


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
