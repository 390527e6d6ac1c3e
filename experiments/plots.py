"""Figures of the studies: compute the data first (plain dicts of arrays), draw second.

Every ``*_data`` function takes the arrays a study saved and returns what is drawn (tests
assert on it); every ``plot_*`` function takes that data and an optional Axes and returns
the Axes.  :func:`draw_all` writes PNG and PDF files of every figure of a results folder.
For one's own run, :func:`run_data` / :func:`plot_run` / :func:`draw_run` take a
:class:`bandit.Tuner` (or a saved tuner file, via ``relaxtune plot tuner.json``).
Matplotlib runs on the Agg backend (nothing here opens a window) unless the caller has
imported ``matplotlib.pyplot`` already: a notebook or script then keeps its own backend.
"""
# The studies' figures are drawn in experiments/_plots_study.py and what the figures share is in
# experiments/_plots_common.py; a run's figures and the writing of the figure files are here.
# Every figure is imported from here (the figure files look them up here).
from __future__ import annotations

import contextlib
import os
from functools import partial
from pathlib import Path

import numpy as np

# (the private helpers too, importable from here as before they moved)
from ._plots_common import (_COUNTING_MEDIAN_CELLS, _counting_rolling_median, _legend, _plt,
                            rolling_median, rolling_mode)
from ._plots_study import (_methods, _vs_cg, choices_data, cumulative_data,
                           cumulative_seconds_data, omega_map_data, plot_choices,
                           plot_cumulative, plot_cumulative_seconds, plot_omega_map, plot_regret,
                           plot_scaling, plot_totals, regret_data, scaling_data, totals_data)

__all__ = ["cumulative_data", "plot_cumulative", "regret_data", "plot_regret",
           "omega_map_data", "rolling_median", "rolling_mode", "plot_omega_map", "scaling_data",
           "plot_scaling",
           "draw_all", "run_data", "plot_run", "plot_run_cost", "plot_run_regret",
           "plot_run_arms", "draw_run", "choices_data", "plot_choices", "totals_data",
           "plot_totals", "cumulative_seconds_data", "plot_cumulative_seconds", "draw_precond",
           "FigureError"]


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
    """Write ``fig`` as ``stem.png`` and ``stem.pdf`` in ``out``, each drawn into a temporary
    file beside it and renamed over it: Ctrl-C, SIGTERM or a full disk in the middle of a
    write leaves the figure that was there (``relaxtune plot`` redrawing a folder had left
    it truncated) or none, never part of one."""
    paths = []
    try:
        for ext in ("png", "pdf"):
            p = out / f"{stem}.{ext}"
            tmp = out / f".{p.name}.{os.getpid()}.tmp"
            try:  # Matplotlib draws (and may fail) only here, as it writes
                try:
                    fig.savefig(tmp, format=ext, dpi=110, bbox_inches="tight")
                    os.replace(tmp, p)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                    raise
            except Exception as exc:  # noqa: BLE001 - named with its file, cause chained
                raise _failed(p, exc) from exc
            paths.append(p)
    finally:
        _plt().close(fig)
    return paths


def _folder(out) -> Path:
    """``out`` as a folder, created if missing; a file in its place (or in place of one of
    its parents) is named as such, not as "[Errno 17] File exists"."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), out)
        raise NotADirectoryError(f"cannot write figures into {out}: {blocking} is a file, "
                                 f"not a folder") from None
    return out


def _draw(plan: list, out) -> list[Path]:
    """Draw and write the figures of ``plan``: (file stem, ``subplots`` options, panels), a
    panel being a function of one Axes (or of the whole row of Axes if it is the only one)."""
    plt = _plt()
    out = _folder(out)
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
    _need_tuner(tuner, "run_data")
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
    first = _first_observed(tuner) if T else 0
    for e in (rep.best_fixed, rep.instance_optimal):
        paid = cumulative[e.rounds - 1] if T else np.zeros(0)
        early = np.asarray(e.rounds) < first
        curves = [np.where(early, np.nan, np.asarray(c, dtype=float))
                  for c in (e.curve, e.curve_low, e.curve_high)]
        regret[e.comparator] = {"rounds": np.asarray(e.rounds), "estimate": curves[0],
                                "low": curves[1], "high": curves[2],
                                "comparator": paid - curves[0], "method": e.method,
                                "unbiased": e.unbiased, "at_bound": e.at_bound}
    omegas = np.asarray(tuner._omegas, dtype=float)
    return {"rounds": np.arange(1, T + 1), "cost": cost, "cumulative": cumulative,
            "unit": rep.unit, "arm": h["arm"], "omega": h["omega"], "context": ctx,
            "context_label": label,
            "fallback": h["fallback_arm"] >= 0, "converged": h["converged"],
            "labels": list(tuner.arm_labels), "y_is_omega": bool(np.all(np.isfinite(omegas))),
            "level": level, "regret": regret}


def _solve_axis(ax) -> None:
    """Whole solves on the x axis: a short run's axis had ticks at 0.25, 0.5, ... solves."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _dots(n: int) -> dict:
    """Markers on the points of a run's curves when they are few: a curve of one point is a
    line of no length (a one-solve run's figures had drawn nothing but the legend)."""
    return {"marker": "o", "ms": 3.5} if n <= 30 else {}


def _first_observed(tuner) -> int:
    """The first round (1-based) by which some arm's run converged — a play whose attempt
    converged, or an audit — as the estimator counts them; ``T + 1`` when none did.  Over
    the rounds before it ``tuner.regret(rounds=T0)`` is undefined (every run failed), and the
    full run's curves had drawn a figure there."""
    from bandit.report import estimator_data

    data = estimator_data(tuner)
    played = np.flatnonzero(np.isfinite(data.played))
    firsts = [int(played[0])] if played.size else []
    # a round whose start already met the stopping rule (0 iterations, b = 0 or an unchanged
    # system's warm start) costs every arm what it paid: its regret is exact, 0 (a run of
    # only such rounds had been drawn as "undefined", the report's 0 masked out)
    h = tuner.history
    ready = np.flatnonzero(np.asarray(h["converged"], dtype=bool)
                           & (np.asarray(h["iterations"]) == 0))
    if ready.size:
        firsts.append(int(ready[0]))
    a = data.audits
    if len(a["round"]):
        ok = np.asarray(a["converged"], dtype=bool)
        if ok.any():
            firsts.append(int(np.min(np.asarray(a["round"], dtype=np.int64)[ok])))
    return min(firsts) + 1 if firsts else len(tuner.history["arm"]) + 1


def plot_run_cost(data: dict, ax=None):
    """Cumulative cost of the run, and the estimated cumulative cost of the best fixed arm
    and of the instance-optimal choice (dashed; a comparator whose estimate is at its bound,
    ``at_bound``, only named in the legend: its cost would be the bound 0, not an estimate)."""
    ax = ax or _plt().subplots(figsize=(6, 4))[1]
    dots = _dots(data["rounds"].size)
    ax.plot(data["rounds"], data["cumulative"], color="C0", lw=1.6, label="this run", **dots)
    for key, name, color in (("best_fixed", "best fixed arm (estimated)", "C1"),
                             ("instance_optimal", "instance-optimal (estimated)", "C2")):
        r = data["regret"][key]
        if r.get("at_bound"):  # no point estimate: its 'cost' is the bound 0, not a cost
            ax.plot([], [], "--", color=color, lw=1.2,
                    label=name.replace("(estimated)", "— no point estimate (too few audits)"))
        elif np.isfinite(r["comparator"]).any():  # an undefined regret has no comparator cost
            ax.plot(r["rounds"], r["comparator"], "--", color=color, lw=1.2, label=name,
                    **dots)
        if r.get("exact_comparator") is not None:
            ax.plot(r["rounds"], r["exact_comparator"], ":", color=color, lw=1.4, **dots,
                    label=name.replace("estimated", "exact"))
    ax.set_xlabel("solve")
    _solve_axis(ax)
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
        # (by the solves: a long run's curves have a few hundred checkpoints at most)
        dots = _dots(np.size(data.get("rounds", r["rounds"])))
        ax.plot(r["rounds"], r["estimate"], color=color, lw=1.6, **dots,
                **({"ls": ":", "label": "at most (the cost paid: no point estimate)"}
                   if at_bound else {"label": "estimate"}))
        band = np.isfinite(r["low"]).any()
        clip = None
        if exact is not None:
            ax.plot(r["rounds"], exact, color="k", lw=1.2, label="exact (every arm solved)",
                    **dots)
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
            label = f"{data['level']:.0%} interval" + (" (cut at the axes)" if clip else "")
            if r["rounds"].size > 1:
                ax.fill_between(r["rounds"], r["low"], r["high"], color=color, alpha=0.25,
                                lw=0, label=label)
            else:  # a band over one solve has no width: drawn as a bar
                ax.vlines(r["rounds"], r["low"], r["high"], color=color, alpha=0.4, lw=8,
                          label=label)
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
    _solve_axis(ax)
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
    # dots of a long run are small not to hide each other; a run of a few dozen solves had
    # dots of 2 px, a light colour of the map on white all but invisible
    dot = float(np.clip(1000.0 / max(x.size, 1), 6.0, 30.0))
    if np.isfinite(c).any():
        c, clabel = _colour_scale(c, data.get("context_label", "context"))
        sc = ax.scatter(x, yy, c=c, s=dot, cmap="viridis", lw=0)
        ax.figure.colorbar(sc, ax=ax, label=clabel)
    else:
        ax.scatter(x, yy, s=dot, color="C0", lw=0)
    # a solve that did not converge was finished by no arm (the fallback chain only ran):
    # marked as failed, never circled as "finished by a fallback arm"
    ok = np.asarray(data["converged"], dtype=bool)[::step]
    fb = data["fallback"][::step] & ok
    if fb.any():
        ax.scatter(x[fb], yy[fb], s=max(28.0, 3 * dot), facecolors="none", edgecolors="C3", lw=0.8,
                   label="finished by a fallback arm")
    failed = int(np.count_nonzero(~np.asarray(data["converged"], dtype=bool)))
    if failed:
        ax.scatter(x[~ok], yy[~ok], s=max(36.0, 3 * dot), marker="x", color="C3", lw=1.0,
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
    _solve_axis(ax)
    # a margin past the last solve: its marker (a cross if it failed) sat on the edge, half
    # cut off, and a run of one solve showed half a dot
    ax.set_xlim(0, T + max(0.5, 0.02 * T))
    if ax.get_legend_handles_labels()[0]:
        # a fixed corner hid the choices there (a short run's last solves at the lowest ω sat
        # under it); Matplotlib's search for a free place is slow on many points, where a
        # corner hides few of them
        _legend(ax, fontsize=8, loc="best" if x.size <= 2000 else "lower right")
    ax.set_title("arm chosen at every solve")
    return ax


def _need_tuner(tuner, name: str) -> None:
    """A :class:`bandit.Tuner` (anything with its ``history`` and ``regret``), else a
    ``TypeError`` saying what to pass: a path or ``None`` had failed with "'str' object has
    no attribute 'history'"."""
    if not (hasattr(tuner, "history") and hasattr(tuner, "regret")):
        hint = (": for a saved tuner file, pass bandit.Tuner.load(path) (or run relaxtune plot "
                "PATH)" if isinstance(tuner, (str, Path)) else "")
        raise TypeError(f"{name} takes a bandit.Tuner (or run_data of one), got "
                        f"{type(tuner).__name__}{hint}")


def _data_of(tuner, name: str, **kw) -> dict:
    """:func:`run_data` of a tuner, or the dict given (checked to be one: ``tuner.history``,
    also a dict, had failed with ``KeyError: 'rounds'``)."""
    if isinstance(tuner, dict):
        missing = [k for k in ("rounds", "cumulative", "regret") if k not in tuner]
        if missing:
            raise ValueError(f"{name} takes a bandit.Tuner or run_data(tuner); the dict given "
                             f"has no {', '.join(map(repr, missing))}"
                             + (" (it looks like tuner.history: pass the tuner itself)"
                                if "arm" in tuner and "iterations" in tuner else ""))
        return tuner
    _need_tuner(tuner, name)
    return run_data(tuner, **kw)


def _colour_scale(c, label: str):
    """The colours' values and the colour bar's label: the contexts as they are, or divided by
    a power of ten when they come near the largest float (the Tuner takes any finite context:
    a span of ±1e308 overflowed in Matplotlib's colour scale, and ``plot_run`` failed with
    "Axis limits cannot be NaN or Inf")."""
    big = float(np.nanmax(np.abs(c)))
    if big <= np.finfo(np.float64).max / 64:
        return c, label
    e = int(np.floor(np.log10(big)))
    return c / 10.0 ** e, f"{label} ÷ 1e{e}"


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
    data = _data_of(tuner, "plot_run", level=level)
    if axes is None:
        fig, axes = _plt().subplots(2, 2, figsize=(13, 8))
        fig.subplots_adjust(hspace=0.35, wspace=0.25)
    axes = np.asarray(axes).ravel()
    if axes.size < 4:  # (had been numpy's IndexError after the first figures were drawn)
        raise ValueError(f"plot_run draws four figures (cost, arms, regret vs the best fixed "
                         f"arm, vs instance-optimal): axes must hold 4 Axes, got {axes.size}")
    plot_run_cost(data, axes[0])
    plot_run_arms(data, axes[1])
    plot_run_regret(data, "best_fixed", axes[2])
    plot_run_regret(data, "instance_optimal", axes[3])
    return axes


def draw_run(tuner, out, stem: str = "") -> list[Path]:
    """Write a run's figures into ``out``: ``<stem>cost``, ``<stem>regret`` (both comparators)
    and ``<stem>arms``, PNG and PDF each; returns the paths."""
    plt = _plt()
    out = _folder(out)
    data = _data_of(tuner, "draw_run")
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
