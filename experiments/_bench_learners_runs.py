"""The learners and runs of ``relaxtune bench learners`` (part of
:mod:`experiments.bench_learners`, importable from there): the learners of the table and their
modes, each built for a case, and every learner replayed on every sequence of a case, in one
order or several."""
from __future__ import annotations

import time
import zlib

import numpy as np

from ._bench_learners_cases import CASES, Case  # noqa: F401 (CASES: sample_order's examples)
from ._bench_learners_costs import (OMEGAS, SPECTRAL_STEPS, cached_rows, cost_matrix,
                                    first_matrix, spectral_contexts)
from ._bench_learners_replay import GUARD, replay


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
#: (``prior_shift=None``: the default learner before it had one); ``default@log+nocontext`` is
#: the default learner with a model of the log-cost without a context (``target="log"``).
#: The modes ``NAME@MODE`` takes: ``default``'s, and every other learner's.
DEFAULT_MODES = ("bounds", "spectral", "noprior", "noradius", "cap", "previous", "nocontext",
                 "auto", "noshift", "noshift+nocontext", "noshift+auto", "log+nocontext")
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
                  "noshift+auto": {"prior_shift": None},
                  "log+nocontext": {"target": "log"},
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
