"""Student's small-sample factor of a residual spread estimated from few entries
(:mod:`bandit.estimate`): the factor per arm from its effective number of sampled entries,
and Student's 95 % quantile it rests on."""
from __future__ import annotations

import numpy as np


def _small_sample(spread, k, K, extra=None):
    """Per arm, the factor ``t(0.95; n − 1)/z(0.95)`` (≥ 1) for ``n`` the effective number of
    sampled entries ``(Σ w)²/Σ w²``, ``w = √(1 − π)/π``: with few audits of an arm its
    residuals' spread is itself uncertain (Student's correction; 1.78 for n = 3, 1.03 for
    n = 30).  ``extra`` (K,): further degrees of freedom of the spread, from plays that
    show it (:func:`_play_spread`)."""
    sw = np.bincount(k, spread, K)
    sw2 = np.bincount(k, spread * spread, K)
    n = np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), np.inf)
    if extra is not None:
        n = n + extra
    f = np.ones(K)
    small = np.isfinite(n) & (n < 200)
    f[small] = student_factor(np.maximum(n[small] - 1.0, 1.0))
    return f


#: The normal law's 95 % quantile: Student's quantile's limit
Z95 = 1.6448536269514722


def student_factor(df):
    """``t(0.95; df)/z(0.95)``: how much wider than the normal law's an interval is whose
    spread was estimated with ``df`` degrees of freedom (``df`` ≥ 1, an array)."""
    return _t95(df) / Z95


_T95 = np.array([6.3138, 2.9200, 2.3534, 2.1318, 2.0150, 1.9432, 1.8946, 1.8595, 1.8331,
                 1.8125])


def _t95(df):
    """Student's 95 % quantile for ``df`` degrees of freedom (≥ 1, real): exact to 4 digits
    for 1–10 (interpolated), the Cornish–Fisher series beyond (error < 1e-4).

    Examples
    --------
    >>> [round(float(v), 3) for v in _t95(np.array([1.0, 4.0, 30.0, 1000.0]))]
    [6.314, 2.132, 1.697, 1.646]
    """
    df = np.asarray(df, dtype=float)
    z = Z95
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    series = z + g1 / df + g2 / df ** 2 + g3 / df ** 3
    table = np.interp(df, np.arange(1.0, 11.0), _T95)
    return np.where(df < 10, table, series)
