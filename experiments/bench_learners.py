"""Short-horizon learner benchmark: ``relaxtune bench learners``.

Sequences that none of the paper's studies uses, each replayed from a cached full cost matrix
``C[t, k]`` (iterations of system ``t`` with arm ``k``), so a learner run costs only its own
``select``/``update`` calls:

* ``mc3d`` -- SOR on a Monte Carlo batch of 3-D random-coefficient diffusion problems
  (:class:`experiments.problems.DiffusionMC3D`, m = 24, n = 13 824; context σ, the contrast),
  100 samples; ``mc3d16`` the same on a 16³ grid (n = 4 096) with 1000 samples;
* ``offset_high`` / ``offset_low`` -- the paper's offset-Laplacian SOR sequences, but short;
* ``heat2d`` -- SSOR-PCG along ``relaxtune heat2d --nx 100 --steps 1000`` (dt = 0.005);
* ``elast`` -- SOR on one plane linear-elasticity matrix in block order
  (:class:`experiments.problems.PlaneElasticity`) with 200 right-hand sides, where Young's
  theory (the default learner's prior) puts the best ω at 1.65 and the best fixed ω is 1.45;
* ``fem`` -- SSOR-PCG along an unstructured P1 finite-element heat loop
  (:class:`experiments.problems.FEMHeat2D`, 600 steps), a flat landscape;
* the long runs the short-horizon work must not spoil: ``heat2d_5000`` (nx = 100, 5000 steps)
  and ``offset_high_5000`` / ``offset_low_5000`` (the ``relaxtune contextual`` trials).

Cost matrices are computed once per (case, sequence seed) and cached as NPZ files under
``--cache`` (default ``results/cache/learners``, git-ignored).  Independent systems (mc3d,
offsets) are solved from ``x0 = 0``; the time loops (heat2d, fem) along a reference trajectory
that advances with the cheapest arm's solution (every solve meets ``rtol``, so any method's
trajectory agrees with it to tolerance), as in the heat2d study.

Replay follows the :class:`bandit.Tuner`'s guard (``guard = 3``): an arm other than the
policy's leader gets a budget of ``⌈3 × the leader's predicted cost⌉`` iterations; a solve that
needs more is stopped there and finished by the leader.  The matrix cannot say what the
leader needs from the stopped iterate, so the fallback is charged ``C[t, leader] · (1 − budget /
C[t, k])``: linear convergence, the attempt having done that fraction of the work (nothing
when the arm did not converge within ``maxiter``).  The policy is told the attempt censored at
the budget, or the whole round's cost when it asks for that (``report_round_cost``), as the
Tuner does.  Before any leader exists an arm is run to ``maxiter``.

Reported per case and horizon ``T`` (prefix of the sequence): the learner's total iterations,
its ratio to the best fixed arm in hindsight over those ``T`` systems and to the per-system
grid minimum, averaged over runs (sequence seeds × learner seeds, ≥ 5 runs each).
"""
from __future__ import annotations

import json
import math
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bandit.tuner import AUTO_CONTEXT_STEPS

from . import _bench as B
from ._bench import BenchParser

from .results import _replace_atomically

__all__ = ["CASES", "Case", "cost_matrix", "log_cost_floor", "replay", "run_case", "main"]

OMEGAS = np.round(np.linspace(1.0, 1.95, 20), 10)
MAXITER = 10_000
RTOL = 1e-8
GUARD = 3.0
#: Bump when the way a cost matrix is computed changes (cached files of another version are
#: recomputed).
COST_VERSION = 1


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One benchmark sequence: how to build it and what to report.

    ``kind`` is ``"samples"`` (independent systems ``seq[t] = (A, b, context)``, solved from
    zero) or ``"loop"`` (a time loop ``sim.system(t, u) -> (A, b, context)`` along a reference
    trajectory).
    """

    name: str
    solver: str
    kind: str
    T: int
    horizons: tuple
    seeds: tuple
    hint: tuple  # context interval the sequence documents (the "user bounds" of a run)
    description: str
    learner_seeds: int = 1
    seed_T: dict = field(default_factory=dict)  # sequence seed -> its own length (else T)
    params: dict = field(default_factory=dict)  # generator sizes (tests shrink them)

    def length(self, seed) -> int:
        return int(self.seed_T.get(seed, self.T))

    def build(self, seed, T=None):
        """The sequence object of ``seed`` with (at least) ``T`` systems."""
        from . import problems

        T = self.length(seed) if T is None else int(T)
        n, q = self.name, self.params
        if n.startswith("mc3d"):
            return problems.DiffusionMC3D(m=q.get("m", 24), samples=T, seed=seed)
        if n.startswith("offset_"):
            variance = n.split("_")[1]
            return problems.OffsetLaplacianSequence(T, variance, seed=seed)
        if n.startswith("heat2d"):
            return problems.Heat2D(nx=q.get("nx", 100), steps=T, t_end=q.get("t_end", 5.0))
        if n == "elast":
            return problems.PlaneElasticity(T, m=q.get("m", 8), seed=seed)
        if n == "fem":
            return problems.FEMHeat2D(h=q.get("h", 0.02), steps=T, t_end=q.get("t_end", 6.0),
                                      seed=seed)
        raise ValueError(f"unknown case {n!r}")


def _study_seeds(trials):
    """Sequence seeds of ``relaxtune contextual --seed 0``'s trials (same cost matrices)."""
    from .learners import derive_seed

    return tuple(derive_seed(0, i) for i in range(trials))


#: The context interval of the ``elast`` case, whose context (λ = 10) is constant: the range
#: of λ/μ a user would document (Poisson's ratio 0.25 to 0.495), containing it.
ELAST_CONTEXT_BOUNDS = (1.0, 100.0)


def _cases():
    from .problems import OFFSET_CONTEXT_BOUNDS

    return {c.name: c for c in (
        Case("mc3d", "sor", "samples", 100, (100,), (0, 1, 2, 3, 4), (0.25, 2.5),
             "SOR, 3-D random-coefficient diffusion Monte Carlo (m = 24, n = 13 824), context σ",
             learner_seeds=2),
        Case("mc3d16", "sor", "samples", 1000, (100, 1000), (0, 1, 2, 3, 4), (0.25, 2.5),
             "SOR, the same Monte Carlo on a 16³ grid (n = 4 096), 1000 samples, context σ",
             learner_seeds=2, params={"m": 16}),
        Case("offset_high", "sor", "samples", 500, (100, 500), (11, 12, 13, 14, 15),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian (high variance), context c",
             learner_seeds=2),
        Case("offset_low", "sor", "samples", 500, (100, 500), (11, 12, 13, 14, 15),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian (low variance), context c",
             learner_seeds=2),
        # the context λ is constant (one matrix, 200 right-hand sides): the documented
        # interval is the range a user would give for λ/μ (Poisson's ratio 0.25 to 0.495),
        # not the degenerate (10, 10), which the learners that take bounds refused
        Case("elast", "sor", "samples", 200, (50, 200), (0, 1, 2, 3, 4), ELAST_CONTEXT_BOUNDS,
             "SOR, plane linear elasticity in block order (8 × 8 grid, n = 128, λ = 10, "
             "μ = 1), 200 right-hand sides, constant context λ: Young's theory puts the best "
             "ω at 1.65, the best fixed ω is 1.45", learner_seeds=1),
        Case("heat2d", "ssor_pcg", "loop", 1000, (1000,), (0,), (0.0, 10.0),
             "SSOR-PCG, heat2d nx = 100, 1000 steps on [0, 5], context κ", learner_seeds=5),
        Case("fem", "ssor_pcg", "loop", 600, (600,), (0, 1, 2, 3, 4), (0.1, 10.0),
             "SSOR-PCG, P1 FEM heat loop on an unstructured disk mesh (n ≈ 7 700), context κ",
             learner_seeds=2),
        Case("heat2d_5000", "ssor_pcg", "loop", 5000, (5000,), (0,), (0.0, 10.0),
             "SSOR-PCG, heat2d nx = 100, 5000 steps (the paper's protocol), context κ",
             learner_seeds=3),
        Case("offset_high_5000", "sor", "samples", 5000, (5000,), _study_seeds(5),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian high variance, T = 5000 (the "
             "contextual study's 5 trials)"),
        Case("offset_low_5000", "sor", "samples", 5000, (5000,), _study_seeds(5),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian low variance, T = 5000 (the "
             "contextual study's 5 trials)"),
    )}


CASES = _cases()
#: The short-horizon suite (default of ``relaxtune bench learners``).
SHORT = ("mc3d", "mc3d16", "offset_high", "offset_low", "elast", "heat2d", "fem")
#: The long runs (``--long``).
LONG = ("heat2d_5000", "offset_high_5000", "offset_low_5000")


# ---------------------------------------------------------------------------------------------
# Cost matrices (cached)
# ---------------------------------------------------------------------------------------------


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


#: Salt of the permutations of ``run_case(orders=...)``.
_ORDER_KEY = 0x0DE5


def sample_order(case: Case, seed, order, T):
    """Row order of replay ``order`` of an independent-sample sequence: as generated for
    ``order = 0``, else a random permutation seeded by ``(seed, order)``.

    The samples of a Monte Carlo or offset sequence are independent and identically
    distributed, so any order is an equally likely sequence: replaying the same cost matrix
    in several orders measures how much a learner's figure owes to the order it happened to
    see, at no extra solve.  Time loops have one order.

    Examples
    --------
    >>> sample_order(CASES["mc3d"], 0, 0, 4).tolist()
    [0, 1, 2, 3]
    >>> sorted(sample_order(CASES["mc3d"], 0, 1, 4).tolist())
    [0, 1, 2, 3]
    """
    if order == 0:
        return np.arange(T)
    if case.kind != "samples":
        raise ValueError(f"{case.name} is a time loop: it has one order")
    from .learners import derive_seed

    return np.random.default_rng(derive_seed(seed, order, _ORDER_KEY)).permutation(T)


# ---------------------------------------------------------------------------------------------
# Guarded replay
# ---------------------------------------------------------------------------------------------


def replay(policy, C, ok, contexts=None, *, guard=GUARD, maxiter=MAXITER):
    """Play ``policy`` over the cost matrix as a guarded :class:`bandit.Tuner` would.

    Parameters
    ----------
    policy : bandit.Policy
        Updated in place.
    C, ok : ndarray, shape (T, K)
        Iterations and convergence of every arm on every system (``C = maxiter`` where not
        converged).
    contexts : array_like, shape (T,) or (T, d), optional
        Passed to ``select``/``leader``/``update`` (``None``: no context).
    guard : float or None
        Budget factor of an exploratory arm (see the module notes).

    Returns
    -------
    (ndarray, ndarray)
        Iterations paid per round (attempt plus fallback) and the arm the policy chose.

    Examples
    --------
    >>> from bandit import FixedArm
    >>> C = np.array([[10, 40], [10, 40]]); ok = np.ones_like(C, bool)
    >>> paid, arms = replay(FixedArm([1.0, 1.5], arm=1), C, ok)
    >>> paid.tolist(), arms.tolist()
    ([40.0, 40.0], [1, 1])
    """
    C = np.asarray(C)
    T = C.shape[0]
    paid = np.zeros(T)
    arms = np.zeros(T, dtype=np.int64)
    select, update, leader = policy.select, policy.update, policy.leader
    round_cost = bool(policy.report_round_cost)
    for t in range(T):
        c = None if contexts is None else contexts[t]
        k = select(c)
        lead, pred = leader(c)
        arms[t] = k
        budget = maxiter
        if guard is not None and lead is not None and lead != k and math.isfinite(pred):
            budget = int(min(maxiter, max(1, math.ceil(guard * pred))))
        cost = int(C[t, k])
        if ok[t, k] and cost <= budget:
            paid[t] = cost
            update(k, float(cost), c)
            continue
        if lead is None or lead == k:  # nothing to fall back to
            paid[t] = budget
            update(k, float(budget), c, True)
            continue
        done = budget / cost if ok[t, k] else 0.0
        rest = math.ceil(C[t, lead] * max(0.0, 1.0 - done))
        paid[t] = budget + rest
        if round_cost:
            update(k, float(paid[t]), c)
        else:
            update(k, float(budget), c, True)
    return paid, arms


# ---------------------------------------------------------------------------------------------
# Learners and runs
# ---------------------------------------------------------------------------------------------

#: ``explore_within`` of the previous default learner (``default@previous``, ``default@cap``).
PREVIOUS_EXPLORE_WITHIN = 2.5

#: Learners of the table: registry names of ``bandit.POLICIES`` (given the case's documented
#: context interval as ``context_bounds``), ``<name>@online`` (the same without bounds: they
#: learn the range), ``default`` (:func:`bandit.default_policy` for the case's solver, no
#: bounds, primed with the first system's matrix as :class:`bandit.Tuner` does) and
#: ``default@bounds`` (the same given the interval as a hint) and ``default@spectral``
#: (independent samples: the context is ``(context, ω̂)`` with ω̂ Young's ω from
#: :data:`SPECTRAL_STEPS` Lanczos steps on each system, charged as that many iterations);
#: ``default@noprior`` and ``default@noradius`` are ablations (no theory prior; no
#: ``explore_radius``), ``default@cap`` adds ``explore_within = 2.5`` and ``default@previous`` is
#: the previous default (``explore_within = 2.5`` instead of ``explore_radius``);
#: ``default@nocontext`` is the default learner told no context at all, and ``default@auto``
#: the default learner told only ω̂ (independent samples: ``Tuner(auto_context="spectral")``
#: without a context of the user's, charged as above); ``default@noshift`` (and
#: ``@noshift+nocontext``, ``@noshift+auto``) the same without the prior's shared error
#: (``prior_shift=None``: the default learner before it had one); ``default@smear`` ranks the
#: log-cost model by its smeared mean cost (``smear=True``; without a context the default
#: learner models the cost itself, which it leaves alone), ``default@log+nocontext`` is the
#: default learner with a model of the log-cost without a context (``target="log"``) and
#: ``default@smear+nocontext`` the same ranked by the smeared mean.
#: The modes ``NAME@MODE`` takes: ``default``'s, and every other learner's.
DEFAULT_MODES = ("bounds", "spectral", "noprior", "noradius", "cap", "previous", "nocontext",
                 "auto", "noshift", "noshift+nocontext", "noshift+auto", "smear",
                 "log+nocontext", "smear+nocontext")
LEARNER_MODES = ("online",)
DEFAULT_LEARNERS = ("default", "jointcb", "chebcb", "smooth_igw", "tsallis_inf",
                    "tsallis_inf_cb")


def make_policy(spec: str, case: Case, seed: int):
    """Build the learner ``spec`` for ``case`` (see :data:`DEFAULT_LEARNERS`)."""
    import bandit

    from .learners import make_learner

    name, _, mode = spec.partition("@")
    if name == "default":
        hint = case.hint if mode == "bounds" else None
        dim = 2 if mode == "spectral" else None
        p = bandit.default_policy(case.solver, list(OMEGAS), context_bounds=hint,
                                  context_dim=dim, seed=seed)
        change = {"noprior": {"prior": None}, "noradius": {"explore_radius": None},
                  "noshift": {"prior_shift": None}, "noshift+nocontext": {"prior_shift": None},
                  "noshift+auto": {"prior_shift": None}, "smear": {"smear": True},
                  "log+nocontext": {"target": "log"},
                  "smear+nocontext": {"target": "log", "smear": True},
                  "cap": {"explore_within": PREVIOUS_EXPLORE_WITHIN},
                  "previous": {"explore_radius": None,
                               "explore_within": PREVIOUS_EXPLORE_WITHIN}}.get(mode)
        if change:  # ablations: the same learner with one part changed
            cfg = p._config()
            cfg.update(change)
            p = type(p)(p.arms, seed=seed, **cfg)
        return p
    bins = 6 if case.name.startswith("heat2d") else 5
    if mode == "online":
        return bandit.make_policy(name, list(OMEGAS), seed=seed)
    return make_learner(name, OMEGAS, seed=seed, context_bounds=case.hint, bins=bins,
                        cheb_m=6, vector_bounds=[case.hint])


def _prime(policy, case, seed, index=0):
    """What the Tuner does before the first solve: show the policy the first matrix."""
    prime = getattr(policy, "prime", None)
    if prime is not None:
        prime(first_matrix(case, seed, index), case.solver)


def run_case(case: Case, learners=DEFAULT_LEARNERS, *, cache="results/cache/learners",
             seeds=None, learner_seeds=None, guard=GUARD, max_T=None, progress=True,
             orders=1):
    """Replay every learner on every sequence seed of ``case``; totals per horizon.

    ``orders > 1`` replays each independent-sample sequence in that many orders
    (:func:`sample_order`; order 0 is the generated one, with the same learner seeds as
    ``orders = 1``); time loops keep their one order.  Runs = seeds × learner seeds × orders.

    Returns
    -------
    dict
        ``{"case", "horizons", "runs": {learner: [(seed, learner_seed, paid (T,)), ...]},
        "best_fixed": {T: [...]}, "grid_min": {T: [...]}}`` with one entry per run (the
        comparators repeated per run, so ratios are taken run by run).
    """
    from .learners import derive_seed, uses_vector_context

    spectral = [s for s in learners
                if s.partition("@")[2] in ("spectral", "auto", "noshift+auto")]
    if spectral and case.kind != "samples":
        # the Lanczos contexts are computed per independent sample; a time loop has none
        raise ValueError(f"{', '.join(spectral)}: the spectral context is measured on "
                         f"independent samples only; {case.name} is a time loop")
    seeds = case.seeds if seeds is None else seeds
    n_ls = case.learner_seeds if learner_seeds is None else learner_seeds
    out = {"case": case.name, "horizons": [], "runs": {}, "comparators": []}
    for seed in seeds:
        T = case.length(seed)
        if max_T is not None:  # a cap never computes rows beyond what the cache holds
            T = min(T, int(max_T), cached_rows(case, seed, cache) or T)
        C, ok, ctx = cost_matrix(case, seed, cache=cache, T=T, progress=progress)
        T = len(C)
        horizons = sorted({min(h, T) for h in case.horizons})  # a capped run: its length
        out["horizons"] = sorted(set(out["horizons"]) | set(horizons))
        n_orders = orders if case.kind == "samples" else 1
        spectral = None  # the sequence's Lanczos contexts, read once (spectral mode)
        for o in range(n_orders):
            order = sample_order(case, seed, o, T)
            Co, oko, ctxo = C[order], ok[order], ctx[order]
            for ls in range(n_ls):
                out["comparators"].append({h: (float(Co[:h].sum(axis=0).min()),
                                               float(Co[:h].min(axis=1).sum()),
                                               int(Co[:h].sum(axis=0).argmin()))
                                           for h in horizons})
                for spec in learners:
                    # the learner's seed depends on its name, not on its place in the list,
                    # so runs with other learner lists (or versions of them) are comparable
                    keys = (seed, ls, zlib.crc32(spec.encode())) + ((o,) if o else ())
                    pol = make_policy(spec, case, derive_seed(*keys))
                    name, _, mode = spec.partition("@")
                    vec = name in __import__("bandit").POLICIES and uses_vector_context(name)
                    contexts = ctxo[:, None] if vec else ctxo
                    extra = 0.0
                    if mode == "spectral":  # (context, ω from a few Lanczos steps), paid for
                        if spectral is None:
                            spectral = spectral_contexts(case, seed, T, cache=cache)
                        contexts = np.column_stack([ctxo, spectral[order]])
                        extra = SPECTRAL_STEPS
                    if mode.endswith("nocontext"):
                        contexts = None
                    if mode in ("auto", "noshift+auto"):
                        # Tuner(auto_context="spectral"), no context of the user's
                        if spectral is None:
                            spectral = spectral_contexts(case, seed, T, cache=cache)
                        contexts = spectral[order]
                        extra = SPECTRAL_STEPS
                    _prime(pol, case, seed, order[0])
                    t0 = time.perf_counter()
                    paid, arms = replay(pol, Co, oko, contexts if pol.contextual else None,
                                        guard=guard)
                    paid = paid + extra
                    us = (time.perf_counter() - t0) / T * 1e6
                    out["runs"].setdefault(spec, []).append(
                        {"seed": seed, "learner_seed": ls, "order": o, "paid": paid,
                         "arms": arms, "us": us})
    return out


def log_cost_floor(C):
    """``(arm, ratio)``: the fixed arm of least mean log-cost over the systems of ``C``
    (``T × K`` costs, all > 0) and its total over the least total of any fixed arm.

    A learner that fits the expected log-cost without a context converges to that arm (the
    least geometric mean); the ratio is what it pays at best against the best fixed arm in
    hindsight, however well it explores.  It exceeds 1 where the spread between systems
    differs between arms.

    Examples
    --------
    >>> k, r = log_cost_floor(np.array([[1.0, 4.0], [100.0, 30.0]]))  # geometric means 10, √120
    >>> k, round(r, 3)                                                 # totals 101, 34
    (0, 2.971)
    """
    C = np.asarray(C, dtype=float)
    if C.ndim != 2 or not np.all(C > 0):
        raise ValueError("log_cost_floor needs a T × K matrix of positive costs")
    k = int(np.log(C).mean(axis=0).argmin())
    totals = C.sum(axis=0)
    return k, float(totals[k] / totals.min())


def floors(result, case=None, cache="results/cache/learners") -> list[dict]:
    """Per horizon of ``result`` (:func:`run_case` of ``case``, default the registered case of
    that name): the mean over its sequences of :func:`log_cost_floor` of their first ``T``
    systems (each sequence once, in its generated order; the cached cost matrices)."""
    case = CASES[result["case"]] if case is None else case
    rows = []
    seeds = sorted({r["seed"] for runs in result["runs"].values() for r in runs})
    for h in result["horizons"]:
        ratios = []
        for seed in seeds:
            n = cached_rows(case, seed, cache)
            C, _, _ = cost_matrix(case, seed, cache=cache, T=min(n, case.length(seed)) or None,
                                  progress=False)
            if len(C) >= h:
                ratios.append(log_cost_floor(C[:h])[1])
        if ratios:
            rows.append({"case": case.name, "T": h, "sequences": len(ratios),
                         "log_cost_floor": float(np.mean(ratios)),
                         "range": (float(np.min(ratios)), float(np.max(ratios)))})
    return rows


def summarise(result) -> list[dict]:
    """One row per (learner, horizon): mean total and ratios to the comparators (run by run)."""
    rows = []
    comps = result["comparators"]
    for spec, runs in result["runs"].items():
        for h in result["horizons"]:
            idx = [i for i, c in enumerate(comps) if h in c]
            if not idx:
                continue
            tot = np.array([runs[i]["paid"][:h].sum() for i in idx])
            bf = np.array([comps[i][h][0] for i in idx])
            gm = np.array([comps[i][h][1] for i in idx])
            rows.append({"case": result["case"], "T": h, "learner": spec, "runs": len(idx),
                         "total": float(tot.mean()), "best_fixed": float(bf.mean()),
                         "grid_min": float(gm.mean()),
                         "vs_best_fixed": float(np.mean(tot / bf)),
                         "vs_best_fixed_range": (float(np.min(tot / bf)), float(np.max(tot / bf))),
                         "vs_grid_min": float(np.mean(tot / gm)),
                         "us_per_round": float(np.mean([r["us"] for r in runs]))})
    return rows


def format_rows(rows, markdown=False) -> str:
    """The summary rows as a table (plain text or Markdown)."""
    head = ("case", "T", "learner", "runs", "iterations", "best fixed", "grid min",
            "/ best fixed (min–max)", "/ grid min")
    body = [(r["case"], str(r["T"]), r["learner"], str(r["runs"]), f"{r['total']:.0f}",
             f"{r['best_fixed']:.0f}", f"{r['grid_min']:.0f}",
             f"{r['vs_best_fixed']:.3f} ({r['vs_best_fixed_range'][0]:.3f}–"
             f"{r['vs_best_fixed_range'][1]:.3f})", f"{r['vs_grid_min']:.3f}") for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 3 + "---:|" * (len(head) - 3)]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = lambda r: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(head)] + [fmt(b) for b in body])


def main(argv=None) -> int:
    ap = BenchParser("learners",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=list(SHORT), choices=sorted(CASES),
                    help="sequences to run (default: the short-horizon suite)")
    ap.add_argument("--long", action="store_true",
                    help="also the long runs (heat2d 5000 steps, offsets T = 5000)")
    ap.add_argument("--learners", nargs="+", default=list(DEFAULT_LEARNERS),
                    help="'default', default@MODE (MODE one of "
                         f"{', '.join(DEFAULT_MODES)}: e.g. default@nocontext, no context, "
                         "default@auto, the automatic context alone), bandit.POLICIES names, "
                         "or NAME@online (no bounds)")
    ap.add_argument("--cache", type=B.output_folder, default=Path("results/cache/learners"),
                    help="folder of the cached cost matrices (default %(default)s)")
    ap.add_argument("--orders", type=int, default=1,
                    help="replay each independent-sample sequence in this many orders (the "
                         "generated one and seeded permutations; default %(default)s)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="sequence seeds (default: each case's own)")
    ap.add_argument("--max-T", type=int, default=None,
                    help="use at most this many systems of each sequence (default: all)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--json", type=B.output_file, default=None, help="also write the rows as JSON")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--log-floor", action="store_true",
                    help="also print, per case and T, the total of the fixed arm of least mean "
                         "log-cost over the best fixed arm's (what a learner of the log-cost "
                         "converges to without a context)")
    args = ap.parse_args(argv)
    import bandit

    if args.max_T is not None and args.max_T < 2:
        ap.error(f"--max-T must be >= 2, got {args.max_T}")
    if args.orders < 1:
        ap.error(f"--orders must be >= 1, got {args.orders}")
    if args.seeds is not None and any(s < 0 for s in args.seeds):
        ap.error(f"--seeds must be non-negative integers, got {args.seeds}")
    if args.seeds is not None and len(set(args.seeds)) < len(args.seeds):
        ap.error(f"--seeds must be distinct (a repeated seed would count its runs twice), got "
                 f"{args.seeds}")
    def known(spec):
        name, at, mode = spec.partition("@")
        if name == "default":
            return not at or mode in DEFAULT_MODES
        return name in bandit.POLICIES and (not at or mode in LEARNER_MODES)

    unknown = [s for s in args.learners if not known(s)]
    if unknown:
        ap.error(f"--learners: unknown learner(s) {unknown}; known: 'default', "
                 f"{', '.join(sorted(bandit.POLICIES))}, NAME@online, "
                 f"{', '.join('default@' + m for m in DEFAULT_MODES)}")
    cases = list(args.cases) + ([c for c in LONG if c not in args.cases] if args.long else [])
    spectral = [s for s in args.learners
                if s.partition("@")[2] in ("spectral", "auto", "noshift+auto")]
    loops = [c for c in cases if CASES[c].kind != "samples"]
    if spectral and loops:  # refused before any case is run, not after the first ones
        ap.error(f"--learners {' '.join(spectral)}: the spectral context is measured on "
                 f"independent samples only, not on the time loops {', '.join(loops)}")
    rows = []
    t0 = time.perf_counter()
    for name in cases:
        res = run_case(CASES[name], args.learners, cache=args.cache, max_T=args.max_T,
                       progress=not args.quiet, orders=args.orders, seeds=args.seeds)
        new = summarise(res)
        rows += new
        print(format_rows(new, markdown=args.markdown), flush=True)
        if args.log_floor:
            for f in floors(res, CASES[name], cache=args.cache):
                print(f"{f['case']} T = {f['T']}: the fixed arm of least mean log-cost pays "
                      f"{f['log_cost_floor']:.3f} × the best fixed arm's total "
                      f"({f['range'][0]:.3f}–{f['range'][1]:.3f} over {f['sequences']} "
                      f"sequences)")
        print()
    print(f"{time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
