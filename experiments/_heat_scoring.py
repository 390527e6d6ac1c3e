"""The heat2d study's scoring (:mod:`experiments.heat_study`): every method of each grid size
from the finished tasks — the grid methods off the cost matrix, the learners from their real
runs (and their arms replayed on the matrix), the direct solve and the sampled baselines.
:mod:`experiments.heat_study` re-exports every name here."""
from __future__ import annotations

import numpy as np

from .costs import GOLDEN_EVALUATIONS, OMEGA_GRID
from .learners import fixed_method
from .results import score

#: Fixed ω baselines of the paper's heat figure.
FIXED_OMEGAS = (1.0, 1.3, 1.5, 1.75, 1.95)
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
