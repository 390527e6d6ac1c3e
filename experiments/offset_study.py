"""The paper's SOR studies on offset-Laplacian sequences: ``learning`` and ``contextual``.

Per trial the full cost matrix ``C[t, k]`` (SOR iterations of instance t with grid ω_k) and
the Young-ω* iterations are computed once; each learner is then replayed over ``C`` with
:func:`bandit.simulate`, which gives exact regret.  Trials run in parallel processes.
"""
from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from solvers._jitcache import signals_held

from .costs import OMEGA_GRID, offset_costs
from .learners import (derive_seed, fixed_method, learner_names, make_learner,
                       uses_vector_context)
from .problems import OFFSET_CONTEXT_BOUNDS, OffsetLaplacianSequence
from .results import score

__all__ = ["FIXED_OMEGAS", "REFERENCE", "OffsetTrial", "offset_trial", "run_offset_study", "default_learners"]

#: Fixed ω baselines of the paper's SOR figures.
FIXED_OMEGAS = (1.0, 1.2, 1.4, 1.6, 1.8)
#: Reference totals from an independent re-implementation of the paper's code (T = 5000,
#: 10 trials), by variance then method; the studies print ours next to them.
REFERENCE = {
    "high": {"young": 281e3, "chebcb": 333e3, "tsallis_inf_cb": 492e3, "fixed_1.8": 518e3,
             "tsallis_inf": 595e3},
    "low": {"young": 209e3, "chebcb": 235e3, "tsallis_inf_cb": 316e3, "fixed_1.6": 317e3,
            "tsallis_inf": 332e3},
}


def default_learners(study: str) -> list[str]:
    """``learning``: every non-contextual learner; ``contextual``: every learner."""
    if study == "learning":
        return learner_names(contextual=False)
    return learner_names(contextual=False) + learner_names(contextual=True)


#: Box of the vector context ``(c_t, ‖b_t‖/√n)`` (the norm ratio lies in (0, 1]).
VECTOR_BOUNDS = (OFFSET_CONTEXT_BOUNDS, (0.0, 1.0))


def _contexts(name: str, seq: OffsetLaplacianSequence):
    """Context per round: ``c_t`` for scalar learners, ``(c_t, ‖b_t‖/√n)`` for vector ones."""
    if uses_vector_context(name):
        return np.column_stack([seq.offsets, np.linalg.norm(seq.B, axis=1) / np.sqrt(seq.n)])
    return seq.offsets


class OffsetTrial(NamedTuple):
    """One trial of an offset study (what a worker process receives)."""

    T: int  #: rounds
    variance: str  #: ``"high"`` or ``"low"`` (:data:`experiments.problems.VARIANCES`)
    seed: int  #: the study's master seed
    trial: int  #: trial index (with ``seed``, the trial's own seeds)
    learners: tuple  #: registry names to replay
    m: int = 10  #: grid points per side (``n = m²``)
    omegas: tuple = tuple(OMEGA_GRID)  #: the ω grid
    bins: int = 5  #: Tsallis-INF-CB bins
    degree: int = 6  #: ChebCB features
    backend: str = "numba"


def offset_trial(task: OffsetTrial) -> dict:
    """One trial: build the sequence, its cost matrix, and replay every learner.

    Returns plain arrays (picklable): ``C``, ``S``, ``offsets``, ``young_iterations``,
    ``young_seconds``, ``young_omega`` and ``arms/<learner>``, ``overhead/<learner>`` (seconds
    spent in select+update).
    """
    from bandit import simulate

    seq = OffsetLaplacianSequence(task.T, task.variance, m=task.m,
                                  seed=derive_seed(task.seed, task.trial))
    omegas = np.asarray(task.omegas, dtype=float)
    costs = offset_costs(seq, omegas, backend=task.backend)
    out = {k: costs[k] for k in ("C", "S", "young_iterations", "young_seconds", "young_omega")}
    out["offsets"] = seq.offsets
    for j, name in enumerate(task.learners):
        pol = make_learner(name, omegas, seed=derive_seed(task.seed, task.trial, 1000 + j),
                           context_bounds=OFFSET_CONTEXT_BOUNDS, bins=task.bins,
                           cheb_m=task.degree, vector_bounds=VECTOR_BOUNDS)
        ctx = _contexts(name, seq) if pol.contextual else None
        t0 = time.perf_counter()
        out[f"arms/{name}"] = simulate(pol, costs["C"], ctx)
        out[f"overhead/{name}"] = time.perf_counter() - t0
    return out


def run_offset_study(study: str, *, T=5000, trials=10, variance="high", seed=0, learners=None,
                     jobs=1, m=10, bins=5, degree=6, backend="numba", progress=True,
                     checkpoint=None):
    """Run ``learning`` or ``contextual`` and score every method.

    Parameters
    ----------
    study : {"learning", "contextual"}
    T, trials, variance, seed, m
        Protocol (the paper: T = 5000, 40 trials; the reference totals use 10).
    learners : list of str, optional
        Registry names (default :func:`default_learners`).
    jobs : int
        Worker processes for trials.
    bins, degree
        Tsallis-INF-CB bins (paper 5) and ChebCB features (paper 6).
    checkpoint : callable, optional
        ``checkpoint(summary, arrays)`` after every finished trial but the last, with the
        study scored on the trials finished so far (``summary["partial"]`` says how many), so a
        long run can keep its work as it goes.

    Returns
    -------
    (dict, dict)
        ``summary`` (``study``, ``params``, ``methods``, ``reference``) and the per-round
        ``arrays`` (``iter/<m>``, ``sec/<m>``, ``arms/<learner>``, ``C``, ``contexts``, ...).

    Examples
    --------
    >>> s, a = run_offset_study("learning", T=30, trials=1, learners=["tsallis_inf"],
    ...                         progress=False)
    >>> a["iter/tsallis_inf"].shape, s["methods"]["young"]["iterations"] > 0
    ((1, 30), True)
    """
    if study not in ("learning", "contextual"):
        raise ValueError(f"study must be 'learning' or 'contextual', got {study!r}")
    if int(trials) < 1 or int(T) < 1:
        raise ValueError(f"T and trials must be >= 1, got T={T!r}, trials={trials!r}")
    learners = list(default_learners(study) if learners is None else learners)
    params = dict(study=study, T=int(T), trials=int(trials), variance=variance, seed=int(seed),
                  learners=learners, m=int(m), bins=int(bins), degree=int(degree),
                  omegas=OMEGA_GRID.tolist(), fixed=list(FIXED_OMEGAS), backend=backend)
    t0 = time.perf_counter()
    done = {}

    def finished(i, result):
        done[i] = result
        if checkpoint is not None and len(done) < trials:
            order = sorted(done)
            summary, arrays = _summarise(params, [done[j] for j in order],
                                         time.perf_counter() - t0)
            summary["partial"] = {"finished": len(done), "of": int(trials), "unit": "trials"}
            checkpoint(summary, arrays)

    tasks = [OffsetTrial(T=int(T), variance=variance, seed=int(seed), trial=i,
                         learners=tuple(learners), m=int(m), bins=int(bins), degree=int(degree),
                         backend=backend) for i in range(trials)]
    results = run_parallel(offset_trial, tasks,
                           jobs=jobs, desc=f"{study} trials", progress=progress,
                           on_result=finished)
    return _summarise(params, results, time.perf_counter() - t0)


def _summarise(params, results, elapsed):
    """Score the methods over the trials in ``results``: ``(summary, arrays)``."""
    study, T, variance, learners = params["study"], params["T"], params["variance"], params["learners"]
    trials = len(results)
    C = np.stack([r["C"] for r in results])
    S = np.stack([r["S"] for r in results])
    omegas = OMEGA_GRID
    iters, secs = {}, {}
    for w in FIXED_OMEGAS:
        k = int(np.argmin(abs(omegas - w)))
        iters[fixed_method(w)], secs[fixed_method(w)] = C[:, :, k], S[:, :, k]
    best = np.argmin(C.sum(axis=1), axis=1)  # per trial, in hindsight
    iters["best_fixed"] = np.stack([C[i, :, best[i]] for i in range(trials)])
    secs["best_fixed"] = np.stack([S[i, :, best[i]] for i in range(trials)])
    k_min = C.argmin(axis=2)
    iters["grid_min"] = np.take_along_axis(C, k_min[:, :, None], 2)[:, :, 0]
    secs["grid_min"] = np.take_along_axis(S, k_min[:, :, None], 2)[:, :, 0]
    iters["young"] = np.stack([r["young_iterations"] for r in results])
    secs["young"] = np.stack([r["young_seconds"] for r in results])
    arrays = {}
    extra = {"best_fixed": {"omega_per_trial": omegas[best].tolist()}}
    for name in learners:
        arms = np.stack([r[f"arms/{name}"] for r in results])
        arrays[f"arms/{name}"] = arms
        iters[name] = np.take_along_axis(C, arms[:, :, None], 2)[:, :, 0]
        secs[name] = np.take_along_axis(S, arms[:, :, None], 2)[:, :, 0]
        over = np.array([r[f"overhead/{name}"] for r in results])
        extra[name] = {"learner_seconds": float(over.mean()),
                       "learner_us_per_round": float(over.mean() / max(T, 1) * 1e6)}
    methods = score(iters, secs, C, omegas, extra)
    for name in iters:
        arrays[f"iter/{name}"] = iters[name]
        arrays[f"sec/{name}"] = secs[name]
    arrays.update(C=C, contexts=np.stack([r["offsets"] for r in results]),
                  young_omega=np.stack([r["young_omega"] for r in results]), omegas=omegas)
    ref = REFERENCE.get(variance, {}) if T == 5000 else {}
    summary = {"study": study, "params": params, "methods": methods, "reference": ref,
               "elapsed_seconds": elapsed}
    return summary, arrays


def _init_worker(tqdm_lock=None):
    """Worker initialiser: Ctrl-C is the parent's to handle (it stops the workers with
    SIGTERM, which must end a worker whatever handler the parent had installed).

    ``tqdm_lock``, the parent's, serialises the workers' progress output; a worker making its
    own would leave a named semaphore when stopped, which Python's resource tracker reports
    at exit as leaked (a warning after the one line of an interrupted study).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if tqdm_lock is not None:
        from tqdm import tqdm

        tqdm.set_lock(tqdm_lock)


# Ctrl-C and SIGTERM wait until the block ends: a worker started but not yet listed by its
# pool when the study stopped was not stopped with the others, and printed a traceback after
# the study's last line
_signals_held = signals_held


def _stop_workers(ex):
    """Stop a process pool now, running tasks included (the work is lost anyway)."""
    terminate = getattr(ex, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # before Python 3.14: the worker processes, taken before shutdown() forgets them
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(timeout=10)


#: Where Linux mounts the cgroup v2 hierarchy, and the file naming this process's cgroup in it.
CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"


def cgroup_cpu_quota(root=None, membership=None) -> float | None:
    """The CPU time a cgroup v2 quota grants this process, in CPUs, or None if unlimited.

    ``cpu.max`` holds ``"QUOTA PERIOD"`` (microseconds of CPU time per period, summed over
    all CPUs) or ``"max PERIOD"``; a container (``docker --cpus``) or a batch system sets it
    for this process's cgroup or an ancestor's, and the smallest applies.  ``root`` and
    ``membership`` default to :data:`CGROUP_ROOT` and :data:`PROC_CGROUP`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "cpu.max").write_text("150000 100000")  # docker run --cpus 1.5
    >>> cgroup_cpu_quota(root, membership=root / "none")
    1.5
    """
    root = Path(CGROUP_ROOT if root is None else root)
    folders = [root]  # inside a container's cgroup namespace its own cgroup is the root
    try:
        lines = Path(PROC_CGROUP if membership is None else membership).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        if line.startswith("0::"):  # the v2 hierarchy: "0::/user.slice/..."
            parts = [p for p in line[3:].strip().split("/") if p]
            folders += [root.joinpath(*parts[:i]) for i in range(1, len(parts) + 1)]
    quota = None
    for folder in folders:
        try:
            limit, period = (folder / "cpu.max").read_text().split()[:2]
            cpus = int(limit) / int(period)
        except (OSError, UnicodeDecodeError, ValueError, ZeroDivisionError):
            continue  # absent, "max" (no limit) or unreadable: no quota from this level
        if cpus > 0:
            quota = cpus if quota is None else min(quota, cpus)
    return quota


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity (``taskset``, a batch job's allocation),
    else all of the machine's; fewer if a cgroup v2 CPU quota grants less time
    (:func:`cgroup_cpu_quota`, rounded down: a worker on a fraction of a CPU would be throttled,
    and its timings would count the pauses)."""
    try:
        cpus = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        cpus = max(1, os.cpu_count() or 1)
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, max(1, math.floor(quota)))
    return cpus


def _worker_context():
    """How worker processes start: from a fork server where the platform has one, else
    spawned; never forked from this process, which may run threads (tqdm's monitor, a
    notebook's): a child forked while another thread holds a lock can hang (Python >= 3.12
    warns of it, and 3.14 made the fork server the default on Linux).  macOS spawns, as
    Python does there by default (system libraries that are not safe to fork)."""
    import multiprocessing

    method = "forkserver" if ("forkserver" in multiprocessing.get_all_start_methods()
                              and sys.platform != "darwin") else "spawn"
    return multiprocessing.get_context(method)


def run_parallel(fn, tasks, *, jobs=1, desc="trials", progress=True, on_result=None):
    """``[fn(t) for t in tasks]`` in order, over ``jobs`` processes, with a tqdm bar.

    At most :func:`usable_cpus` processes run: more would share cores, which the tasks'
    timings (wall-clock seconds of each solve) would count: ``relaxtune demo``'s two workers
    on one CPU had each timed the other's time slices.  The workers are fresh interpreters
    (a fork server's children, or spawned): ``fn`` must be a module-level function of an
    importable module, ``tasks`` picklable, and a script that calls this with ``jobs > 1``
    needs the ``if __name__ == "__main__":`` guard, as for any multiprocessing pool.

    ``on_result(i, result)`` is called in this process as each task finishes (in completion
    order).  An error in a task, or Ctrl-C, stops the remaining tasks at once (workers ignore
    Ctrl-C themselves and are terminated) and is re-raised here.
    """
    from tqdm.auto import tqdm

    out = [None] * len(tasks)
    with tqdm(total=len(tasks), desc=desc, disable=not progress) as bar:
        def finished(i, result):
            out[i] = result
            bar.update()
            if on_result is not None:
                on_result(i, result)

        jobs = min(jobs, usable_cpus())
        if jobs <= 1 or len(tasks) <= 1:
            for i, t in enumerate(tasks):
                finished(i, fn(t))
            return out
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = _worker_context()
        if ctx.get_start_method() == "forkserver":
            # the fork server imports fn's module (numpy, scipy, numba, ...) once, before it
            # forks the workers: each had taken seconds to import it ("__main__" passes it
            # this process's sys.path); fn's module is imported here already
            ctx.set_forkserver_preload(["__main__", fn.__module__])
        ex = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx,
                                 initializer=_init_worker, initargs=(ctx.RLock(),))
        try:
            with _signals_held():  # the submits start the workers: every one is listed
                futs = {ex.submit(fn, t): i for i, t in enumerate(tasks)}
            for f in as_completed(futs):
                finished(futs[f], f.result())
        except BaseException:
            _stop_workers(ex)
            raise
        ex.shutdown()
    return out
