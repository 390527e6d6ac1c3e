"""The preconditioner study's scoring (:mod:`experiments.precond_study`): the method keys and
labels, each sequence's per-method entries and targets from the runs, the context bins, the
work-against-time check and the comparison table.  It reads the runs and never runs a
method: the running (and every name a wrapper replaces, ``_policy``, ``_method``,
``_warm_up``, ...) stays in :mod:`experiments.precond_study`, which re-exports every name
here."""
from __future__ import annotations

import math
import warnings

import numpy as np

#: Method keys of the configuration learners: ``learner_compare`` is the configuration learner
#: of another policy (``compare``), with the default cost, side by side with ``learner``.
CONFIG_LEARNERS = ("learner", "learner_compare", "learner_timed", "learner_work")
_ANCHOR_LABELS = {"pyamg": "pyamg SA-CG, set up every step",
                  "pyamg_lagged": "pyamg SA-CG, set up every {lag} steps",
                  "petsc_gamg": "PETSc CG + GAMG (Mat per step)",
                  "petsc_icc": "PETSc CG + ICC(0) (Mat per step)",
                  "splu": "scipy splu every step"}


def family(label: str) -> str:
    """Family of a configuration label: ``"ssor_pcg ω=1.40"`` → ``"ssor_pcg"``,
    ``"cg+amg reuse=20"`` → ``"cg+amg"``."""
    return label.split(" ")[0].split("(")[0]


def _owner_summary(owner):
    """What to keep of a method's Tuner: its choices per label (None for anchors)."""
    if owner is None:
        return None
    h = owner.history
    return {"arm_counts": owner.summary()["arm_counts"], "censored": int(h["censored"].sum()),
            "fallbacks": int((h["fallback_arm"] >= 0).sum())}


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
