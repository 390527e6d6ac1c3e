"""Figures of the studies: compute the data first (plain dicts of arrays), draw second.

Every ``*_data`` function takes the arrays a study saved and returns what is drawn (tests
assert on it); every ``plot_*`` function takes that data and an optional Axes and returns
the Axes.  :func:`draw_all` writes PNG and PDF files of every figure of a results folder.
For one's own run, :func:`run_data` / :func:`plot_run` / :func:`draw_run` take a
:class:`bandit.Tuner` (or a saved tuner file, via ``relaxtune plot tuner.json``).
Matplotlib runs on the Agg backend (nothing here opens a window) unless the caller has
imported ``matplotlib.pyplot`` already: a notebook or script then keeps its own backend.
"""
from __future__ import annotations

import math
import os
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np

from bandit import regret_of_costs

from .results import label, methods_with

__all__ = ["cumulative_data", "plot_cumulative", "regret_data", "plot_regret",
           "omega_map_data", "rolling_median", "rolling_mode", "plot_omega_map", "scaling_data",
           "plot_scaling",
           "draw_all", "run_data", "plot_run", "plot_run_cost", "plot_run_regret",
           "plot_run_arms", "draw_run", "choices_data", "plot_choices", "totals_data",
           "plot_totals", "cumulative_seconds_data", "plot_cumulative_seconds", "draw_precond",
           "FigureError"]


def _plt():
    if "matplotlib" not in sys.modules:
        # the figures are drawn with Agg whatever MPLBACKEND says; a value matplotlib does not
        # know (a backend of another environment) had failed its import, and with it every
        # figure, reported as a problem of the results folder
        saved = os.environ.pop("MPLBACKEND", None)
        try:
            import matplotlib  # noqa: F401
        finally:
            if saved is not None:
                os.environ["MPLBACKEND"] = saved
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # files only; never an interactive window
    # else the caller's program (a notebook's inline backend, a script's choice) keeps its
    # backend: it had been switched to Agg, and a notebook stopped showing figures
    import matplotlib.pyplot as plt

    return plt


def _methods(arrays: dict, names=None) -> list[str]:
    have = methods_with(arrays, "iter")
    return [m for m in (names or have) if m in have and m != "direct"]


def _legend(ax, **kwargs) -> None:
    """``ax.legend(**kwargs)`` when something on ``ax`` has a label: on an empty figure (a
    partial results folder) Matplotlib warns on standard error instead."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


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


#: Largest (distinct values × length) for which :func:`rolling_median` counts values per
#: window instead of sorting every window (a run's chosen arms: few values, long runs).
_COUNTING_MEDIAN_CELLS = 4_000_000


def _counting_rolling_median(values, code, window):
    """Medians of every full window of ``values[code]`` (``values`` sorted, finite) from
    per-value counts: O(T × distinct values) rather than O(T × window), the same numbers as
    :func:`numpy.median` (the mean of the two middle values for an even window)."""
    k, n = values.size, code.size
    seen = np.zeros((k, n + 1), dtype=np.int64)  # seen[j, i]: value j among the first i
    seen[code, np.arange(1, n + 1)] = 1
    np.cumsum(seen, axis=1, out=seen)
    below = np.cumsum(seen[:, window:] - seen[:, :-window], axis=0)  # count <= values[j]
    lo = np.argmax(below > (window - 1) // 2, axis=0)  # the two middle order statistics
    hi = np.argmax(below > window // 2, axis=0)
    return np.where(lo == hi, values[lo], (values[lo] + values[hi]) / 2)


def rolling_mode(codes: np.ndarray, window: int) -> np.ndarray:
    """Centred running mode of integer codes — the most frequent in each window, the smallest
    on a tie — with the edges of :func:`rolling_median`: for categories (configuration arms),
    whose median (of their order in a list) can be one never chosen.

    Examples
    --------
    >>> rolling_mode(np.array([0, 3, 0, 3, 3, 3]), 3).tolist()
    [0, 0, 3, 3, 3, 3]
    """
    codes = np.asarray(codes, dtype=np.int64)
    if window <= 1 or codes.size < window:
        return codes.copy()
    best = np.full(codes.size - window + 1, -1)
    mode = np.zeros_like(best)
    for k in np.unique(codes):  # ascending: a tie keeps the smaller code
        seen = np.concatenate([[0], np.cumsum(codes == k)])
        count = seen[window:] - seen[:-window]
        more = count > best
        best[more], mode[more] = count[more], k
    lead = (window - 1) // 2
    return np.concatenate([np.full(lead, mode[0]), mode,
                           np.full(codes.size - mode.size - lead, mode[-1])])


def rolling_median(v: np.ndarray, window: int) -> np.ndarray:
    """Centred running median (edges use the nearest full window); exploration outliers vanish.

    Examples
    --------
    >>> rolling_median(np.array([1.0, 1.0, 9.0, 1.0, 1.0]), 3).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    v = np.asarray(v, dtype=float)
    if window <= 1 or v.size < window:
        return v.copy()
    values, code = np.unique(v, return_inverse=True)
    if np.isfinite(values).all() and values.size * v.size <= _COUNTING_MEDIAN_CELLS:
        med = _counting_rolling_median(values, code.ravel(), window)
    else:  # many distinct values (or NaN): sort each window, O(T * window)
        med = np.median(np.lib.stride_tricks.sliding_window_view(v, window), axis=1)
    lead = (window - 1) // 2
    return np.concatenate([np.full(lead, med[0]), med, np.full(v.size - med.size - lead, med[-1])])


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


class FigureError(RuntimeError):
    """A figure could not be drawn or its file written.

    The message names the figure's file and the error (``__cause__``); ``path`` is that file.
    The data were read before anything was drawn, so this is never a problem of the results'
    layout.
    """

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path


def _failed(path: Path, exc: Exception) -> FigureError:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError):  # a full disk, a read-only file, a folder of that name
        return FigureError(f"cannot write {path} ({exc.strerror or text})", path)
    return FigureError(f"drawing {path} failed ({type(exc).__name__}: {text})", path)


def _save(fig, out: Path, stem: str) -> list[Path]:
    paths = []
    try:
        for ext in ("png", "pdf"):
            p = out / f"{stem}.{ext}"
            try:  # Matplotlib draws (and may fail) only here, as it writes
                fig.savefig(p, dpi=110, bbox_inches="tight")
            except Exception as exc:  # noqa: BLE001 - named with its file, cause chained
                raise _failed(p, exc) from exc
            paths.append(p)
    finally:
        _plt().close(fig)
    return paths


def _draw(plan: list, out) -> list[Path]:
    """Draw and write the figures of ``plan``: (file stem, ``subplots`` options, panels), a
    panel being a function of one Axes (or of the whole row of Axes if it is the only one)."""
    plt = _plt()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, layout, panels in plan:
        fig, axes = plt.subplots(squeeze=False, **layout)
        try:
            if len(panels) == 1 and axes.size > 1:
                panels[0](axes[0])
            else:
                for ax, panel in zip(axes.flat, panels):
                    panel(ax)
        except Exception as exc:  # noqa: BLE001 - named with its file, cause chained
            plt.close(fig)
            raise _failed(out / f"{stem}.png", exc) from exc
        paths += _save(fig, out, stem)
    return paths


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


def draw_precond(summary: dict, arrays: dict, out) -> list[Path]:
    """The preconditioner study's figures, per sequence: ``choices_<seq>`` (the learner's
    configuration against the context), ``totals_<seq>`` and ``cumulative_<seq>``.

    Every figure's data are computed before the first is drawn: a summary or arrays of
    another layout raise (``KeyError``, ``TypeError``, ...) with nothing written; a figure
    that cannot be drawn or written raises :class:`FigureError` naming its file.
    """
    return _draw(_precond_plan(summary, arrays), out)


def _precond_plan(summary: dict, arrays: dict) -> list:
    plan = []
    for name, seq in summary["sequences"].items():
        arr = arrays.get(name)
        if not arr:
            continue
        learners = [m for m in ("learner", "learner_compare", "learner_timed", "learner_work")
                    if f"arms/{m}" in arr]
        if learners:
            plan.append((f"choices_{name}",
                         dict(nrows=len(learners), figsize=(9, 4.5 * len(learners))),
                         [partial(plot_choices, choices_data(arr, seq, m)) for m in learners]))
        plan.append((f"totals_{name}", dict(figsize=(8, 0.25 * len(seq["methods"]) + 1.5)),
                     [partial(plot_totals, totals_data(seq))]))
        shown = [m for m in ("learner", "learner_compare", "learner_timed", "learner_work",
                             "omega_learner",
                             seq.get("best_fixed")) if m] + [
            m for m, v in seq["methods"].items() if v["kind"] == "anchor"]
        plan.append((f"cumulative_{name}", dict(figsize=(7, 4)),
                     [partial(plot_cumulative_seconds, cumulative_seconds_data(arr, shown),
                              labels={m: seq["methods"][m]["label"] for m in shown
                                      if m in seq["methods"]}, title=name)]))
    return plan


def draw_all(summary: dict, arrays: dict, out) -> list[Path]:
    """Write every figure of a study into ``out`` (PNG and PDF); returns the file paths.

    ``arrays`` is a study's array dict, or for heat2d ``{nx: arrays}`` (for the
    preconditioner study ``{sequence name: arrays}``).  Every figure's data are computed
    before the first is drawn: a summary or arrays of another layout raise (``KeyError``,
    ``TypeError``, ...) with nothing written; a figure that cannot be drawn or written raises
    :class:`FigureError` naming its file.
    """
    if summary.get("study") == "precond":
        return draw_precond(summary, arrays, out)
    return _draw(_study_plan(summary, arrays), out)


def _study_plan(summary: dict, arrays: dict) -> list:
    study = summary.get("study", "")
    per_size = arrays if arrays and all(isinstance(v, dict) for v in arrays.values()) else {"": arrays}
    learners = summary["params"].get("learners", [])
    plan = []
    for nx, arr in per_size.items():
        if not arr:
            continue
        sfx = f"_nx{nx}" if nx != "" else ""
        tag = f"{study} nx={nx}" if nx != "" else f"{study} ({summary['params'].get('variance', '')})"
        plan.append((f"cumulative{sfx}", dict(figsize=(7, 4.5)),
                     [partial(plot_cumulative, cumulative_data(arr), title=tag)]))
        if "C" not in arr:  # run without the grid cost matrix: no regret, no ω map
            continue
        rd = regret_data(arr, learners)
        if rd:
            plan.append((f"regret{sfx}", dict(ncols=2, figsize=(12, 4)),
                         [partial(plot_regret, rd, "best_fixed"),
                          partial(plot_regret, rd, "instance_optimal")]))
        by = "round" if study != "learning" and study != "contextual" else "context"
        plan.append((f"omega_map{sfx}", dict(figsize=(9, 4.5)),
                     [partial(plot_omega_map, omega_map_data(arr, learners, by=by), title=tag)]))
    if len(summary.get("sizes", {})) > 1:
        plan.append(("scaling", dict(ncols=2, figsize=(12, 4)),
                     [partial(plot_scaling, scaling_data(summary))]))
    return plan


# --- one tuner's run (bandit.Tuner, or a saved tuner file) -----------------------------------
def run_data(tuner, *, level=0.9, seed=0) -> dict:
    """What :func:`plot_run` draws for one :class:`bandit.Tuner`, as plain arrays.

    Returns
    -------
    dict
        ``rounds`` (T,) 1..T; ``cost`` (T,) what each solve cost (every run, in the tuner's
        cost unit: iterations; seconds with ``cost="time"`` or ``"timed_work"``; work with
        ``cost="work"``) and ``cumulative`` its running sum; ``unit``;
        ``arm``, ``omega`` (NaN for an arm without ω), ``context`` (NaN: none; the first
        coordinate of a vector) and ``context_label`` (what ``context`` is: ``"context"``,
        ``"context (first of d numbers)"``, or the relaxation parameter estimated by
        ``auto_context``), ``fallback`` (bool: another arm finished the solve),
        ``converged`` (bool); ``labels`` (the arm labels) and ``y_is_omega`` (whether every
        arm has an ω; else the arm index is drawn); ``regret``: for ``best_fixed`` and
        ``instance_optimal`` a dict of ``rounds`` (checkpoints), ``estimate``, ``low``,
        ``high`` (NaN without an interval), ``comparator`` (the comparator's cumulative
        cost, ``cumulative − estimate``), ``method``, ``unbiased`` and ``at_bound`` (no
        point estimate: the estimate is the cost paid, an upper end; see
        :class:`bandit.estimate.RegretEstimate`).

    Examples
    --------
    >>> import bandit
    >>> from solvers import gallery
    >>> t = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    >>> for c in (0.1, 0.2, 0.3):
    ...     _ = t.solve(gallery.shifted_laplacian_2d(4, c), np.ones(16), context=c)
    >>> d = run_data(t)
    >>> d["rounds"].tolist(), bool(np.all(np.diff(d["cumulative"]) > 0))
    ([1, 2, 3], True)
    """
    h = tuner.history
    T = len(h["arm"])
    from bandit.report import paid_per_solve

    cost = paid_per_solve(tuner)
    ctx = h["context"]
    auto = getattr(tuner, "auto_context", None) is not None
    if ctx.ndim == 2:  # a vector: its first number colours the figure, and the label says so
        label = f"context (first of {ctx.shape[1]} numbers"
        label += "; the last is the estimated ω)" if auto else ")"
        ctx = ctx[:, 0]
    else:
        label = "estimated ω (auto_context)" if auto else "context"
    rep = tuner.regret(level=level, seed=seed)
    cumulative = np.cumsum(cost)
    regret = {}
    for e in (rep.best_fixed, rep.instance_optimal):
        paid = cumulative[e.rounds - 1] if T else np.zeros(0)
        regret[e.comparator] = {"rounds": np.asarray(e.rounds), "estimate": e.curve,
                                "low": e.curve_low, "high": e.curve_high,
                                "comparator": paid - e.curve, "method": e.method,
                                "unbiased": e.unbiased, "at_bound": e.at_bound}
    omegas = np.asarray(tuner._omegas, dtype=float)
    return {"rounds": np.arange(1, T + 1), "cost": cost, "cumulative": cumulative,
            "unit": rep.unit, "arm": h["arm"], "omega": h["omega"], "context": ctx,
            "context_label": label,
            "fallback": h["fallback_arm"] >= 0, "converged": h["converged"],
            "labels": list(tuner.arm_labels), "y_is_omega": bool(np.all(np.isfinite(omegas))),
            "level": level, "regret": regret}


def plot_run_cost(data: dict, ax=None):
    """Cumulative cost of the run, and the estimated cumulative cost of the best fixed arm
    and of the instance-optimal choice (dashed; a comparator whose estimate is at its bound,
    ``at_bound``, only named in the legend: its cost would be the bound 0, not an estimate)."""
    ax = ax or _plt().subplots(figsize=(6, 4))[1]
    ax.plot(data["rounds"], data["cumulative"], color="C0", lw=1.6, label="this run")
    for key, name, color in (("best_fixed", "best fixed arm (estimated)", "C1"),
                             ("instance_optimal", "instance-optimal (estimated)", "C2")):
        r = data["regret"][key]
        if r.get("at_bound"):  # no point estimate: its 'cost' is the bound 0, not a cost
            ax.plot([], [], "--", color=color, lw=1.2,
                    label=name.replace("(estimated)", "— no point estimate (too few audits)"))
        elif np.isfinite(r["comparator"]).any():  # an undefined regret has no comparator cost
            ax.plot(r["rounds"], r["comparator"], "--", color=color, lw=1.2, label=name)
        if r.get("exact_comparator") is not None:
            ax.plot(r["rounds"], r["exact_comparator"], ":", color=color, lw=1.4,
                    label=name.replace("estimated", "exact"))
    ax.set_xlabel("solve")
    ax.set_ylabel(f"cumulative {data['unit']}")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    _legend(ax, fontsize=8, loc="upper left")
    ax.set_title("cumulative cost")
    return ax


def plot_run_regret(data: dict, kind: str = "best_fixed", ax=None):
    """Estimated cumulative regret against ``kind`` with its interval band (none when the
    estimate is biased: the title says so; an estimate at its bound, ``at_bound``, is drawn
    dotted as "at most", the title saying there is no point estimate), and the exact regret
    where ``data`` has it
    (``data["regret"][kind]["exact"]``, e.g. from ``relaxtune tune``, which solves every
    system with every arm). The axis follows the curves — the estimate and the exact regret,
    or without it the estimate and the cost paid (``data["cumulative"]``) — and a band far
    wider is cut at the axes (its legend says so)."""
    ax = ax or _plt().subplots(figsize=(6, 4))[1]
    r = data["regret"][kind]
    color = "C1" if kind == "best_fixed" else "C2"
    ax.axhline(0.0, color="k", lw=0.6)
    exact = r.get("exact")
    # undefined (every run failed, or the best fixed arm never converged): the reason instead
    undefined = bool(r["rounds"].size) and not np.isfinite(r["estimate"]).any()
    at_bound = bool(r.get("at_bound"))
    if r["rounds"].size and not undefined:
        # at its bound the end of the curve is the cost paid, an upper end: drawn dotted and
        # named so, not as an estimate
        ax.plot(r["rounds"], r["estimate"], color=color, lw=1.6,
                **({"ls": ":", "label": "at most (the cost paid: no point estimate)"}
                   if at_bound else {"label": "estimate"}))
        band = np.isfinite(r["low"]).any()
        clip = None
        if exact is not None:
            ax.plot(r["rounds"], exact, color="k", lw=1.2, label="exact (every arm solved)")
            # an honest interval of a short run can be far wider than the regret itself:
            # the axis follows the curves, the band is cut at its edges (and says so)
            lo = float(np.nanmin(np.minimum(exact, r["estimate"])))
            hi = float(np.nanmax(np.maximum(exact, r["estimate"])))
            pad = 0.5 * max(hi - lo, abs(hi), abs(lo), 1.0)
            clip = (lo - pad, hi + pad)
            if band and (np.nanmin(r["low"]) < clip[0] or np.nanmax(r["high"]) > clip[1]):
                ax.set_ylim(*clip)
            else:
                clip = None
        elif band:
            # without the exact curve the axis follows the estimate and the cost paid (the
            # regret is at most what was paid): an interval of a short run with few audits can
            # reach minus maxiter per round (arms audited fewer than twice take that certain
            # bound), and an axis that followed it drew the estimate as a flat line at 0
            paid = np.asarray(data.get("cumulative", ()), dtype=float)
            scale = max(float(paid[-1]) if paid.size else 0.0,
                        float(np.nanmax(np.abs(r["estimate"]))), 1.0)
            clip = (min(float(np.nanmin(r["estimate"])), 0.0) - scale,
                    max(float(np.nanmax(r["estimate"])), 0.0) + scale)
            if np.nanmin(r["low"]) < clip[0] or np.nanmax(r["high"]) > clip[1]:
                ax.set_ylim(*clip)
            else:
                clip = None
        if band:
            ax.fill_between(r["rounds"], r["low"], r["high"], color=color, alpha=0.25, lw=0,
                            label=f"{data['level']:.0%} interval"
                                  + (" (cut at the axes)" if clip else ""))
    what = "best fixed arm" if kind == "best_fixed" else "instance-optimal"
    note = (" — undefined" if undefined
            else " — no point estimate (too few audits)" if at_bound
            else " — model only, biased" if not r["unbiased"] else "")
    ax.set_title(f"regret vs {what}{note}", fontsize=10)
    if undefined:
        import textwrap

        why = r["method"].removeprefix("undefined: ").split(", so ")[0]
        ax.text(0.5, 0.5, textwrap.fill(why, 48), transform=ax.transAxes, ha="center",
                va="center", fontsize=8)
        ax.set_xlim(0, r["rounds"][-1])
    ax.set_xlabel("solve")
    ax.set_ylabel(f"cumulative regret ({data['unit']})")
    ax.set_xlim(left=0)
    if r["rounds"].size and not undefined:  # nothing drawn: no legend (and no warning)
        _legend(ax, fontsize=8, loc="upper left")
    return ax


#: The shortest running median :func:`plot_run_arms` draws (solves); runs of fewer than two
#: such windows get none.
MIN_MEDIAN_WINDOW = 5


def plot_run_arms(data: dict, ax=None, *, max_points: int = 20_000):
    """The arm (ω) chosen at every solve, coloured by the context; rounds finished by a
    fallback arm are circled, rounds that did not converge crossed (the legend counts them),
    and a running median of ω (of arms that are not all ω: the most
    chosen arm, :func:`rolling_mode`) over ``max(MIN_MEDIAN_WINDOW, T // 50)`` solves shows the
    learned schedule (none for a run shorter than two such windows)."""
    plt = _plt()
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    T = data["rounds"].size
    y = data["omega"] if data["y_is_omega"] else data["arm"].astype(float)
    step = max(1, T // max_points)
    x, yy, c = data["rounds"][::step], y[::step], data["context"][::step]
    if np.isfinite(c).any():
        sc = ax.scatter(x, yy, c=c, s=6, cmap="viridis", lw=0)
        ax.figure.colorbar(sc, ax=ax, label=data.get("context_label", "context"))
    else:
        ax.scatter(x, yy, s=6, color="C0", lw=0)
    # a solve that did not converge was finished by no arm (the fallback chain only ran):
    # marked as failed, never circled as "finished by a fallback arm"
    ok = np.asarray(data["converged"], dtype=bool)[::step]
    fb = data["fallback"][::step] & ok
    if fb.any():
        ax.scatter(x[fb], yy[fb], s=28, facecolors="none", edgecolors="C3", lw=0.8,
                   label="finished by a fallback arm")
    failed = int(np.count_nonzero(~np.asarray(data["converged"], dtype=bool)))
    if failed:
        ax.scatter(x[~ok], yy[~ok], s=36, marker="x", color="C3", lw=1.0,
                   label=f"did not converge ({failed} solve{'s' if failed != 1 else ''})")
    window = max(MIN_MEDIAN_WINDOW, T // 50)
    if T >= 2 * window:  # a shorter run is all edge: its choices are drawn as they are
        if data["y_is_omega"]:
            ax.plot(data["rounds"], rolling_median(y, window), color="k", lw=1.0,
                    label=f"running median ({window} solves)")
        else:  # arms are categories: the median of their list positions means nothing
            ax.plot(data["rounds"], rolling_mode(data["arm"], window), color="k", lw=1.0,
                    drawstyle="steps-mid", label=f"most chosen arm ({window} solves)")
    if data["y_is_omega"]:
        ax.set_ylabel("ω chosen")
    else:
        ax.set_ylabel("arm chosen")
        ax.set_yticks(range(len(data["labels"])))
        ax.set_yticklabels(data["labels"], fontsize=7)
    ax.set_xlabel("solve")
    ax.set_xlim(0, max(T, 1))
    if ax.get_legend_handles_labels()[0]:
        _legend(ax, fontsize=8, loc="lower right")
    ax.set_title("arm chosen at every solve")
    return ax


def plot_run(tuner, axes=None, *, level=0.9):
    """One call for a run: cumulative cost, regret (best fixed, instance-optimal) with bands,
    and the arm chosen over time coloured by context.

    Parameters
    ----------
    tuner : bandit.Tuner or dict
        The tuner (or :func:`run_data` of it).
    axes : sequence of 4 Axes, optional
        Where to draw (default: a new 2 × 2 figure).

    Returns
    -------
    ndarray of Axes
        ``[cost, arms, regret vs best fixed, regret vs instance-optimal]``.
    """
    data = tuner if isinstance(tuner, dict) else run_data(tuner, level=level)
    if axes is None:
        fig, axes = _plt().subplots(2, 2, figsize=(13, 8))
        fig.subplots_adjust(hspace=0.35, wspace=0.25)
    axes = np.asarray(axes).ravel()
    plot_run_cost(data, axes[0])
    plot_run_arms(data, axes[1])
    plot_run_regret(data, "best_fixed", axes[2])
    plot_run_regret(data, "instance_optimal", axes[3])
    return axes


def draw_run(tuner, out, stem: str = "") -> list[Path]:
    """Write a run's figures into ``out``: ``<stem>cost``, ``<stem>regret`` (both comparators)
    and ``<stem>arms``, PNG and PDF each; returns the paths."""
    plt = _plt()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = tuner if isinstance(tuner, dict) else run_data(tuner)
    paths = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plot_run_cost(data, ax)
    paths += _save(fig, out, f"{stem}cost")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    plot_run_regret(data, "best_fixed", axes[0])
    plot_run_regret(data, "instance_optimal", axes[1])
    paths += _save(fig, out, f"{stem}regret")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    plot_run_arms(data, ax)
    paths += _save(fig, out, f"{stem}arms")
    return paths
