"""What the figures of :mod:`experiments.plots` share: Matplotlib on the Agg backend unless
the caller chose one, a legend only where something is labelled, and the running median and
mode of a sequence of choices."""
from __future__ import annotations

import os
import sys

import numpy as np


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



def _legend(ax, **kwargs) -> None:
    """``ax.legend(**kwargs)`` when something on ``ax`` has a label: on an empty figure (a
    partial results folder) Matplotlib warns on standard error instead."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


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
