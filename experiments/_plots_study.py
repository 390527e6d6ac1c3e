"""The studies' figures of :mod:`experiments.plots`: data first (plain dicts of arrays), drawn
second — the learning, contextual and heat2d studies (cumulative iterations, regret, the ω
map, scaling over sizes) and the preconditioner study (configurations chosen against the
context, totals, cumulative seconds)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from bandit import regret_of_costs

from ._plots_common import _legend, _plt, rolling_median
from .results import label, methods_with


def _methods(arrays: dict, names=None) -> list[str]:
    have = methods_with(arrays, "iter")
    return [m for m in (names or have) if m in have and m != "direct"]



def cumulative_data(arrays: dict, names=None) -> dict:
    """The paper's figure: ``x`` = cumulative iterations (mean over trials), ``y`` = instances left.

    Returns
    -------
    dict of name -> (x, y)
        ``x[t] = mean_trials Σ_{s≤t} iters[s]``, ``y[t] = T − t − 1``.

    Examples
    --------
    >>> d = cumulative_data({"iter/a": np.array([[1, 2, 3], [3, 2, 1]])})
    >>> d["a"][0].tolist(), d["a"][1].tolist()
    ([2.0, 4.0, 6.0], [2, 1, 0])
    """
    out = {}
    for m in _methods(arrays, names):
        it = np.asarray(arrays[f"iter/{m}"], dtype=float)
        T = it.shape[1]
        out[m] = (np.cumsum(it.mean(axis=0)), np.arange(T - 1, -1, -1))
    return out


def plot_cumulative(data: dict, ax=None, *, title=None):
    """Instances remaining against cumulative iterations (lower-left is better)."""
    ax = ax or _plt().subplots(figsize=(6, 4))[1]
    styles = ["-", "--", ":", "-."]
    for i, (m, (x, y)) in enumerate(sorted(data.items(), key=lambda kv: kv[1][0][-1])):
        ax.plot(x, y, styles[(i // 10) % 4], label=f"{label(m)} ({x[-1]:,.0f})")
    ax.set_xlabel("cumulative iterations (mean over trials)")
    ax.set_ylabel("instances remaining")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    _legend(ax, fontsize=7)
    if title:
        ax.set_title(title)
    return ax


def regret_data(arrays: dict, names) -> dict:
    """Cumulative regret curves with bands over trials, for each learner.

    Uses ``replay/<m>`` (heat2d: real arms scored on ``C``) when present, else ``iter/<m>``.

    Returns
    -------
    dict of name -> {"best_fixed": (mean, lo, hi), "instance_optimal": (mean, lo, hi)}
        ``lo``/``hi`` are the min/max over trials.
    """
    C = np.asarray(arrays["C"], dtype=float)
    out = {}
    for m in names:
        key = f"replay/{m}" if f"replay/{m}" in arrays else f"iter/{m}"
        if key not in arrays:
            continue
        it = np.asarray(arrays[key], dtype=float)
        curves = regret_of_costs(it, C if C.ndim == 3 else C[None])._asdict()
        out[m] = {k: (v.mean(axis=0), v.min(axis=0), v.max(axis=0)) for k, v in curves.items()}
    return out


def plot_regret(data: dict, kind: str = "instance_optimal", ax=None, *, title=None):
    """Regret against ``kind`` ("best_fixed" or "instance_optimal"), mean with a min–max band."""
    ax = ax or _plt().subplots(figsize=(6, 4))[1]
    for m, d in data.items():
        mean, lo, hi = d[kind]
        t = np.arange(1, mean.size + 1)
        line, = ax.plot(t, mean, label=label(m))
        ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.axhline(0, color="k", linewidth=0.5)
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative regret (iterations)")
    what = "best fixed ω" if kind == "best_fixed" else "instance-optimal (grid min)"
    ax.set_title(title or f"regret vs {what}")
    _legend(ax, fontsize=7)
    return ax


def omega_map_data(arrays: dict, names, *, trial: int = 0, by: str = "round") -> dict:
    """Iterations over (x, ω) and the ω each learner chose, for a contour plot.

    Parameters
    ----------
    by : {"round", "context"}
        x axis: the round (heat2d steps) or the context, sorted (offset studies).

    Returns
    -------
    dict
        ``x`` (T,), ``omegas`` (K,), ``Z`` (T, K) iterations, ``chosen`` {name: ω per x};
        ``golden_smooth`` (running median of the golden-section ω per x) when the arrays
        have ``golden_omega`` (heat2d), else None.
    """
    C = np.asarray(arrays["C"], dtype=float)
    C = C[trial] if C.ndim == 3 else C
    omegas = np.asarray(arrays["omegas"], dtype=float)
    if by == "context":
        ctx = np.asarray(arrays["contexts"])
        ctx = ctx[trial] if ctx.ndim == 2 else ctx
        order = np.argsort(ctx, kind="stable")
        x = ctx[order]
    else:
        order = np.arange(C.shape[0])
        x = order.astype(float)
    chosen = {}
    for m in names:
        if f"arms/{m}" in arrays:
            arms = np.asarray(arrays[f"arms/{m}"])
            arms = arms[min(trial, arms.shape[0] - 1)] if arms.ndim == 2 else arms
            chosen[m] = omegas[arms[order]]
    Z = C[order]
    window = max(1, x.size // 100)
    golden = arrays.get("golden_omega")
    return {"x": x, "omegas": omegas, "Z": Z, "chosen": chosen, "by": by, "window": window,
            "grid_min_smooth": rolling_median(omegas[np.argmin(Z, axis=1)], window),
            "golden_smooth": None if golden is None else rolling_median(
                np.asarray(golden, dtype=float)[order], window),
            "chosen_smooth": {m: rolling_median(w, window) for m, w in chosen.items()}}


def plot_omega_map(data: dict, ax=None, *, title=None, max_points: int = 2000):
    """Filled contour of log10 iterations(x, ω) with each learner's chosen ω on top.

    The chosen ω are drawn as running medians over ``data["window"]`` rounds (exploratory
    picks would otherwise hide the learned schedule); the raw picks are in ``data["chosen"]``.
    """
    plt = _plt()
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    x, Z = data["x"], data["Z"]
    step = max(1, x.size // max_points)  # contour on a thinned grid keeps files small
    xs, Zs = x[::step], Z[::step]
    if xs[0] == xs[-1]:  # one round (or one context value): a contour needs two x, so the
        xs = np.array([xs[0] - 0.5, xs[0] + 0.5])  # column is drawn as a band around it
        Zs = np.repeat(Z.mean(axis=0, keepdims=True), 2, axis=0)
    cs = ax.contourf(xs, data["omegas"], np.log10(np.maximum(Zs.T, 1)), levels=20,
                     cmap="viridis")
    ax.figure.colorbar(cs, ax=ax, label="log10 iterations")
    ax.plot(x, data["grid_min_smooth"], "w--", lw=1.2, label="grid minimum")
    if data.get("golden_smooth") is not None:
        ax.plot(x, data["golden_smooth"], "w:", lw=1.2, label="golden-section minimum")
    for m, w in data["chosen_smooth"].items():
        ax.plot(x, w, lw=1.2, label=label(m))
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel("time step" if data["by"] == "round" else "context (offset c)")
    ax.set_ylabel("ω")
    _legend(ax, fontsize=7, loc="lower right")
    ax.set_title(ax.get_title() + f" (running median over {data['window']} rounds)", fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def scaling_data(summary: dict) -> dict:
    """Totals and seconds/plain-CG per method against matrix dimension (heat2d sizes).

    Returns
    -------
    dict
        ``n`` (sizes,), ``iterations`` {name: (sizes,)}, ``seconds_vs_cg`` {name: (sizes,)}.
    """
    sizes = summary.get("sizes") or {"0": {"n": summary["params"].get("n", 0),
                                           "methods": summary["methods"]}}
    keys = sorted(sizes, key=lambda s: sizes[s]["n"])
    n = np.array([sizes[s]["n"] for s in keys], dtype=float)
    names = [m for m in sizes[keys[0]]["methods"]]
    its, ratio = {}, {}
    for m in names:
        vals = [sizes[s]["methods"].get(m) for s in keys]
        its[m] = np.array([v["iterations"] if v else np.nan for v in vals])
        ratio[m] = np.array([_vs_cg(v, sizes[s]["methods"]) for v, s in zip(vals, keys)])
    return {"n": n, "iterations": its, "seconds_vs_cg": ratio}


def _vs_cg(entry, methods) -> float:
    """Seconds relative to plain CG: measured on the sampled steps when the baseline was
    sampled (``vs_cg``), else the ratio of whole-run seconds."""
    if not entry:
        return np.nan
    if "vs_cg" in entry:
        return np.nan if entry["vs_cg"] is None else entry["vs_cg"]
    return entry["seconds"] / methods["cg"]["seconds"] if "cg" in methods else np.nan


def plot_scaling(data: dict, axes=None):
    """Two panels: total iterations and wall-clock/plain-CG against n (log x)."""
    plt = _plt()
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(11, 4))[1]
    styles = ["o-", "s--", "^:", "d-."]  # 10 colours per style: no two methods look alike
    methods = list(dict.fromkeys([*data["iterations"], *data["seconds_vs_cg"]]))
    # one look per method in both panels (direct has no iteration count)
    look = {m: (styles[(i // 10) % 4], f"C{i % 10}") for i, m in enumerate(methods)}
    for m in data["iterations"]:
        if m != "direct":
            axes[0].plot(data["n"], data["iterations"][m], look[m][0], color=look[m][1],
                         label=label(m))
    for m in data["seconds_vs_cg"]:
        axes[1].plot(data["n"], data["seconds_vs_cg"][m], look[m][0], color=look[m][1],
                      label=label(m))
    axes[0].set_ylabel("total iterations")
    axes[1].set_ylabel("solve seconds / plain CG")
    axes[1].set_yscale("log")  # the direct solve is 10x CG, the learners 0.2-1x
    axes[1].axhline(1.0, color="k", linewidth=0.5)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("matrix dimension n")
        _legend(ax, fontsize=6)
    return axes


# -- the preconditioner study ---------------------------------------------------------------------
def choices_data(arrays: dict, seq: dict, method: str = "learner") -> dict:
    """Which configuration a learner picked at each step, against the context.

    Returns
    -------
    dict
        ``x`` (rounds·T,) contexts, ``y`` arm indices, ``round`` of each point, ``labels``
        (K,), ``bins`` [(lo, hi, best arm index)] — the fixed configuration with the least
        total seconds in each context bin (``seq["best_by_context"]``), ``name``, ``context``.

    Examples
    --------
    >>> a = {"arms/learner": np.array([[0, 1, 1]]), "contexts": np.array([0.1, 0.5, 0.9]),
    ...      "labels": np.array(["x", "y"])}
    >>> d = choices_data(a, {"best_by_context": [{"context": [0.1, 0.9], "best": "y"}],
    ...                      "context": "σ", "name": "s"})
    >>> d["x"].tolist(), d["y"].tolist(), d["bins"]
    ([0.1, 0.5, 0.9], [0, 1, 1], [(0.1, 0.9, 1)])
    """
    labels = [str(v) for v in np.asarray(arrays["labels"])]
    arms = np.atleast_2d(np.asarray(arrays[f"arms/{method}"], dtype=float))
    ctx = np.asarray(arrays["contexts"], dtype=float)
    rounds = np.repeat(np.arange(arms.shape[0]), arms.shape[1])
    x = np.tile(ctx, arms.shape[0])
    y = arms.ravel()
    keep = np.isfinite(y) & (y >= 0)
    bins = [(c["context"][0], c["context"][1], labels.index(c["best"]))
            for c in seq.get("best_by_context", []) if c["best"] in labels]
    return {"x": x[keep], "y": y[keep].astype(int), "round": rounds[keep], "labels": labels,
            "bins": bins, "name": seq.get("name", ""), "context": seq.get("context", "context"),
            "method": method}


def plot_choices(data: dict, ax=None, *, title=None):
    """The learner's configuration at each step against the context (one colour per round),
    over grey bars marking the best fixed configuration of each context bin."""
    plt = _plt()
    ax = ax or plt.subplots(figsize=(8, 4.5))[1]
    for lo, hi, k in data["bins"]:
        ax.fill_between([lo, hi], k - 0.4, k + 0.4, color="0.8", linewidth=0, zorder=0)
    rng = np.random.default_rng(0)  # jitter only separates rounds visually
    for r in np.unique(data["round"]):
        m = data["round"] == r
        ax.scatter(data["x"][m], data["y"][m] + rng.uniform(-0.25, 0.25, m.sum()), s=4,
                   alpha=0.5, label=f"round {r}")
    ax.set_yticks(range(len(data["labels"])))
    ax.set_yticklabels(data["labels"], fontsize=7)
    ax.set_ylim(-0.6, len(data["labels"]) - 0.4)
    if data["x"].size and data["x"].min() >= 0 and data["x"].max() > 50 * max(
            np.median(data["x"]), 1e-12):
        ax.set_xscale("symlog", linthresh=0.01)  # heat2d: half the steps have κ <= 0.1
        ax.set_xlim(left=0.0)
    ax.set_xlabel(f"context {data['context']}")
    ax.set_title(title or f"{data['name']}: configuration chosen by the {data['method']} "
                          f"(grey: best fixed configuration per context bin)", fontsize=9)
    _legend(ax, fontsize=7, markerscale=3, loc="best")
    return ax


def totals_data(seq: dict) -> dict:
    """Total CPU seconds of every method of one sequence, sorted, with the spread over rounds
    (a method stopped at the cap: its ratio to the best fixed total then, times that total).

    Returns
    -------
    dict
        ``names``, ``labels``, ``kinds``, ``seconds``, ``lo``, ``hi``, ``lower_bound``.
    """
    methods = seq["methods"]
    best = methods[seq["best_fixed"]]["seconds"] if seq.get("best_fixed") else math.nan

    def total(m):  # a run stopped at the cap: its ratio then, times the best fixed total
        return m["ratio_when_stopped"] * best if m["lower_bound"] else m["seconds"]

    names = sorted(methods, key=lambda n: total(methods[n]))
    tot = np.array([total(methods[n]) for n in names])
    lo = np.array([tot[i] if methods[n]["lower_bound"] else methods[n]["seconds_min"]
                   for i, n in enumerate(names)])
    hi = np.array([tot[i] if methods[n]["lower_bound"] else methods[n]["seconds_max"]
                   for i, n in enumerate(names)])
    return {"names": names, "labels": [methods[n]["label"] for n in names],
            "kinds": [methods[n]["kind"] for n in names], "seconds": tot, "lo": lo, "hi": hi,
            "lower_bound": [bool(methods[n]["lower_bound"]) for n in names],
            "name": seq.get("name", "")}


def plot_totals(data: dict, ax=None, *, title=None):
    """Horizontal bars of total CPU seconds (log scale) with min–max over rounds; colour by
    kind; an open bar is a method stopped at the study's cap, drawn at its ratio to the best
    fixed configuration then (a lower bound of where it would end)."""
    plt = _plt()
    n = len(data["names"])
    ax = ax or plt.subplots(figsize=(8, 0.25 * n + 1.5))[1]
    colours = {"fixed": "C0", "learner": "C3", "anchor": "C2"}
    y = np.arange(n)
    for i in range(n):
        c = colours.get(data["kinds"][i], "C7")
        ax.barh(y[i], data["seconds"][i], color="none" if data["lower_bound"][i] else c,
                edgecolor=c, height=0.7)
    err = np.vstack([data["seconds"] - data["lo"], data["hi"] - data["seconds"]])
    ax.errorbar(data["seconds"], y, xerr=np.maximum(err, 0), fmt="none", ecolor="k",
                elinewidth=0.8, capsize=2)
    ax.set_yticks(y)
    ax.set_yticklabels(data["labels"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("total CPU seconds of the solve calls (mean over rounds, min–max bars)")
    ax.set_title(title or f"{data['name']}: blue fixed configurations, red learners, "
                          f"green hand-picked anchors", fontsize=9)
    return ax


def cumulative_seconds_data(arrays: dict, names) -> dict:
    """Cumulative CPU seconds against the step, mean over the rounds each method ran.

    Examples
    --------
    >>> d = cumulative_seconds_data({"cpu/a": np.array([[1.0, 2.0], [3.0, 2.0]])}, ["a"])
    >>> d["a"].tolist()
    [2.0, 4.0]
    """
    out = {}
    for m in names:
        if f"cpu/{m}" not in arrays:
            continue
        sec = np.asarray(arrays[f"cpu/{m}"], dtype=float)
        done = ~np.all(np.isnan(sec), axis=1)
        with warnings.catch_warnings():  # steps after a cap: NaN, the line ends there
            warnings.simplefilter("ignore", RuntimeWarning)
            out[m] = np.cumsum(np.nanmean(sec[done], axis=0))
    return out


def plot_cumulative_seconds(data: dict, ax=None, *, labels=None, title=None):
    """Cumulative seconds per method against the step (a capped method's line ends early)."""
    ax = ax or _plt().subplots(figsize=(7, 4))[1]
    for m, y in data.items():
        ax.plot(np.arange(1, y.size + 1), y, label=(labels or {}).get(m, m))
    ax.set_xlabel("step")
    ax.set_ylabel("cumulative CPU seconds")
    ax.set_yscale("log")
    _legend(ax, fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return ax
