"""The cost matrices of ``relaxtune bench learners`` (part of :mod:`experiments.bench_learners`,
importable from there): the iterations of every arm on every system of a case's sequence,
computed once and cached as NPZ files, and what a replay reads besides them (the spectral
contexts, the first matrix)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bandit.tuner import AUTO_CONTEXT_STEPS

from . import _bench as B
from ._bench_learners_cases import Case
from .results import _replace_atomically


OMEGAS = np.round(np.linspace(1.0, 1.95, 20), 10)
MAXITER = 10_000
RTOL = 1e-8


#: Bump when the way a cost matrix is computed changes (cached files of another version are
#: recomputed).
COST_VERSION = 1


def _solver(name):
    import solvers

    return solvers.SOLVERS[name]


def _samples_costs(case, seq, rows, progress):
    import solvers
    from tqdm.auto import tqdm

    solve = _solver(case.solver)
    K = OMEGAS.size
    C = np.zeros((len(rows), K), dtype=np.int64)
    ok = np.zeros((len(rows), K), dtype=bool)
    ctx = np.zeros(len(rows))
    for i, t in enumerate(tqdm(rows, desc=f"{case.name} costs", disable=not progress,
                               leave=False)):
        A, b, ctx[i] = seq[t]
        op = solvers.prepare(A)
        for k, w in enumerate(OMEGAS):
            r = solve(op, b, float(w), rtol=RTOL, maxiter=MAXITER)
            C[i, k], ok[i, k] = r.iterations, r.converged
    return C, ok, ctx


def _loop_costs(case, sim, T, progress):
    import solvers
    from tqdm.auto import tqdm

    solve = _solver(case.solver)
    K = OMEGAS.size
    C = np.zeros((T, K), dtype=np.int64)
    ok = np.zeros((T, K), dtype=bool)
    ctx = np.zeros(T)
    u = sim.initial()
    for t in tqdm(range(T), desc=f"{case.name} costs", disable=not progress, leave=False):
        A, b, ctx[t] = sim.system(t, u)
        op = solvers.prepare(A)
        best = None
        for k, w in enumerate(OMEGAS):
            r = solve(op, b, float(w), x0=u, rtol=RTOL, maxiter=MAXITER)
            C[t, k], ok[t, k] = r.iterations, r.converged
            if r.converged and (best is None or r.iterations < best[0]):
                best = (r.iterations, r.x)
        if best is None:
            raise RuntimeError(f"{case.name}: no ω converged at step {t}")
        u = best[1]
    return C, ok, ctx


def _cache_file(cache, case, seed):
    return Path(cache) / f"{case.name}-seed{seed}.npz"


def cost_matrix(case: Case, seed, *, cache="results/cache/learners", T=None, progress=True):
    """``(C, converged, contexts)`` of the first ``T`` systems of ``case``'s sequence ``seed``.

    Read from the cache when it holds at least ``T`` rows of the current
    :data:`COST_VERSION`; independent-sample sequences are extended row by row (the sequence is
    always generated at the case's full length, so every matrix is a prefix of the longest),
    time loops recomputed.
    """
    T = case.length(seed) if T is None else int(T)
    path = _cache_file(cache, case, seed)
    have = B.read_cache(path, ("C", "ok", "ctx", "version"))
    if have is not None and int(have["version"]) != COST_VERSION:
        have = None
    if have is not None and len(have["C"]) >= T:
        return have["C"][:T], have["ok"][:T], have["ctx"][:T]
    t0 = time.perf_counter()
    if case.kind == "samples":
        # the sequence is always built at its full length (an offset sequence draws all its
        # offsets first), so a shorter matrix is a prefix of the longer one and can be extended
        seq = case.build(seed, max(T, case.length(seed)))
        start = 0 if have is None else len(have["C"])
        C, ok, ctx = _samples_costs(case, seq, range(start, T), progress)
        if have is not None:
            C, ok, ctx = (np.concatenate([have["C"], C]), np.concatenate([have["ok"], ok]),
                          np.concatenate([have["ctx"], ctx]))
    else:
        C, ok, ctx = _loop_costs(case, case.build(seed, T), T, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    seconds = time.perf_counter() - t0
    _replace_atomically(path, lambda fh: np.savez_compressed(
        fh, C=C, ok=ok, ctx=ctx, version=COST_VERSION, omegas=OMEGAS, seconds=seconds))
    return C, ok, ctx


def cached_rows(case: Case, seed, cache="results/cache/learners") -> int:
    """Rows of the cached cost matrix of ``case``'s sequence ``seed`` (0 if none)."""
    have = B.read_cache(_cache_file(cache, case, seed), ("C", "version"))
    if have is None or int(have["version"]) != COST_VERSION:
        return 0
    return int(len(have["C"]))


#: Lanczos steps of the spectral context (``default@spectral``); each costs about one SOR sweep.
SPECTRAL_STEPS = AUTO_CONTEXT_STEPS  # the Tuner's (auto_context="spectral")


def spectral_contexts(case: Case, seed, T, *, cache="results/cache/learners"):
    """Young's ω of every system from :data:`SPECTRAL_STEPS` Lanczos steps (cached): a cheap
    matrix feature a user can pass as (part of) the context.  Independent samples only."""
    from solvers.spectral import estimate_spectrum

    path = Path(cache) / f"{case.name}-seed{seed}-spectral{SPECTRAL_STEPS}.npz"
    have = (B.read_cache(path, ("w",)) or {"w": np.zeros(0)})["w"]
    if len(have) < T:
        seq = case.build(seed, max(T, case.length(seed)))
        new = [estimate_spectrum(seq[t][0], SPECTRAL_STEPS).omega_sor for t in range(len(have), T)]
        have = np.concatenate([have, new])
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace_atomically(path, lambda fh: np.savez_compressed(fh, w=have))
    return have[:T]


def first_matrix(case: Case, seed, index=0):
    """The first system's matrix of the sequence (what a Tuner sees before any cost); for
    independent samples replayed in another order, the matrix of sample ``index``."""
    seq = case.build(seed, 1 if case.kind == "loop" else case.length(seed))
    if case.kind == "loop":
        return seq.system(0, seq.initial())[0]
    return seq[int(index)][0]
