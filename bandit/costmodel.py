"""The cost model of the regret estimates: a smooth fit of every arm's cost over the rounds.

:class:`CostModel` predicts ``C[t, k]`` (cost of arm ``k`` on system ``t``) from the entries a
run observed; :func:`bandit.estimate.estimate_regret` uses it, fitted on other rounds, as the
outcome model of its doubly robust totals (only the variance depends on its quality).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["CostModel"]

_FLOOR = 1e-2  # log target log(cost/unit + 0.01), as the learners: a cost of 0 stays finite
#: Observations' weight of the global smearing factor in each knot's local one.
SMEAR_PRIOR = 0.5


# --- the cost model ------------------------------------------------------------------------
# Unknown ``index[i, k]`` (knot i, arm k): a hat pair touches ``index[i, k]`` and
# ``index[i + 1, k]``, a second difference along the knots three of those, one along the arms
# (in ω order) three neighbours of one knot, so the normal equations are banded and a banded
# Cholesky solves them in O(d u²), u the half-bandwidth, no BLAS (a multi-threaded BLAS on a
# busy machine takes 100× longer on such small systems).  Knot-major (``i·K + k``) gives
# u = 2K; arm-major with the arms in ω order (``rank(k)·n + i``) gives u = 2n (u = 2 when the
# arms are unrelated): the narrower layout is used (the same system, solved to rounding).
@njit(cache=True)
def _penalty_band(n, K, order, smooth_x, smooth_arms, ridge, index, u):
    ab = np.zeros((u + 1, n * K))
    c = np.array([1.0, -2.0, 1.0])
    for j in range(n * K):
        ab[0, j] += ridge
    for k in range(K):
        for i in range(n - 2):
            for a in range(3):
                for b in range(3):
                    r, col = index[i + a, k], index[i + b, k]
                    if r >= col:
                        ab[r - col, col] += smooth_x * c[a] * c[b]
    if order.size >= 3:
        for i in range(n):
            for j in range(K - 2):
                for a in range(3):
                    for b in range(3):
                        r, col = index[i, order[j + a]], index[i, order[j + b]]
                        if r >= col:
                            ab[r - col, col] += smooth_arms * c[a] * c[b]
    return ab


@njit(cache=True)
def _fit_banded(penalty, step, first, w, y):
    """Solve ``(XᵀX + P) θ = Xᵀy`` for hat rows ``(first, first + step)`` with weights
    ``(1 − w, w)``; ``penalty`` is ``P`` in lower band storage (``ab[r − c, c]``)."""
    ab = penalty.copy()
    u = ab.shape[0] - 1
    d = ab.shape[1]
    rhs = np.zeros(d)
    for t in range(first.size):
        a = first[t]
        w1 = w[t]
        w0 = 1.0 - w1
        ab[0, a] += w0 * w0
        ab[step, a] += w0 * w1
        ab[0, a + step] += w1 * w1
        rhs[a] += w0 * y[t]
        rhs[a + step] += w1 * y[t]
    # banded Cholesky, in place: ab[r - c, c] = L[r, c]
    for j in range(d):
        s = ab[0, j]
        for k in range(max(0, j - u), j):
            s -= ab[j - k, k] * ab[j - k, k]
        s = np.sqrt(s)
        ab[0, j] = s
        for i in range(j + 1, min(d, j + u + 1)):
            v = ab[i - j, j]
            for k in range(max(0, i - u), j):
                v -= ab[i - k, k] * ab[j - k, k]
            ab[i - j, j] = v / s
    for i in range(d):  # L z = rhs
        v = rhs[i]
        for k in range(max(0, i - u), i):
            v -= ab[i - k, k] * rhs[k]
        rhs[i] = v / ab[0, i]
    for i in range(d - 1, -1, -1):  # Lᵀ θ = z
        v = rhs[i]
        for r in range(i + 1, min(d, i + u + 1)):
            v -= ab[r - i, i] * rhs[r]
        rhs[i] = v / ab[0, i]
    return rhs


def _layout(n, K, order, arm_major=None):
    """``index`` (n, K) of every coefficient, the step between a knot's and the next knot's
    coefficient of one arm, and the half-bandwidth (see the notes above)."""
    has_order = order.size >= 3
    if arm_major is None:
        arm_major = not has_order or n < K
    if arm_major:
        rank = np.empty(K, np.int64)
        rank[order if order.size == K else np.arange(K)] = np.arange(K)
        index = rank[None, :] * n + np.arange(n)[:, None]
        step = 1
        u = max(2, 2 * n if has_order else 2)
    else:
        index = np.arange(n)[:, None] * K + np.arange(K)[None, :]
        step = K
        u = 2 * K
    return np.ascontiguousarray(index, dtype=np.int64), step, u


class CostModel:
    """Ridge fit of the log-cost on linear hats in ``x`` times one coefficient per arm.

    ``log(C/unit + 0.01) ≈ Σ_i θ[k, i] h_i(x)`` with hat functions ``h_i`` on knots at the
    quantiles of ``x`` (so a context crowded in a corner still gets knots), penalised by
    second differences along ``x`` (within an arm) and along the arms in ω order (arms
    close in ω cost alike), plus a small ridge towards the typical cost.  Each observation
    touches two coefficients, so the normal equations are banded and the fit costs
    ``O(observations + knots·K·u²)`` with the half-bandwidth ``u = 2·min(knots, K)``: the
    unknowns are ordered knot by knot or arm by arm in ω order, whichever is narrower
    (``arm_major`` forces one; the same system either way, solved to rounding).

    Examples
    --------
    >>> x = np.linspace(0, 1, 200)
    >>> C = np.column_stack([10 + 20 * x, 30 - 10 * x])       # two arms, crossing costs
    >>> m = CostModel(x, 2, order=np.array([0, 1]))
    >>> t = np.arange(200); k = t % 2
    >>> pred = m.predict(m.fit(t, k, C[t, k]))
    >>> bool(np.max(np.abs(pred - C) / C) < 0.05)
    True
    """

    def __init__(self, x, n_arms, *, order=None, knots=24, smooth_x=0.1, smooth_arms=0.3,
                 ridge=1e-3, arm_major=None):
        x = np.asarray(x, dtype=float)
        self.K = int(n_arms)
        grid = np.unique(np.quantile(x, np.linspace(0.0, 1.0, knots))) if x.size else np.zeros(1)
        if grid.size < 2:
            grid = np.array([grid[0], grid[0] + 1.0])
        self.grid = grid
        self.n = grid.size
        i = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, self.n - 2)
        w = np.clip((x - grid[i]) / (grid[i + 1] - grid[i]), 0.0, 1.0)
        self._i, self._w = i, w
        order = np.zeros(0, np.int64) if order is None else np.asarray(order, dtype=np.int64)
        self._index, self._step, u = _layout(self.n, self.K, order, arm_major)
        self._band = _penalty_band(self.n, self.K, order, float(smooth_x), float(smooth_arms),
                                   float(ridge), self._index, u)
        self.unit = 1.0

    def fit(self, t, k, value):
        """Coefficients ``θ`` (K, knots) from observations ``C[t, k] = value``."""
        t = np.asarray(t, dtype=np.int64)
        k = np.asarray(k, dtype=np.int64)
        v = np.asarray(value, dtype=float)
        pos = v[v > 0]
        self.unit = float(np.median(pos)) if pos.size else 1.0
        y = np.log(np.maximum(v, 0.0) / self.unit + _FLOOR)
        theta = _fit_banded(self._band, self._step, self._index[self._i[t], k], self._w[t], y)
        theta = theta[self._index.T]  # (K, n)
        # exp of the fitted log is a geometric mean, below the mean cost by about
        # exp(σ²/2): Duan's smearing factor, the mean of exp(residual), puts it back.  The
        # spread of the residuals differs along the context (costs that are 0 on some rounds
        # and dozens of iterations on others at the same context — Newton steps whose start
        # is already solved — against steady costs elsewhere), so the factor is local: per
        # knot, the hat-weighted mean of exp(residual), with the global one as the value of
        # SMEAR_PRIOR observations (half of one: a knot with data has its own factor, one
        # without the global).  One factor for all had multiplied the steady costs by the
        # zero-heavy region's factor (3.5 times too high on the test's costs).  Its log is
        # added to the knot's coefficients of every arm (the hats sum to one, so a constant
        # added to θ is added to every prediction).
        i, w = self._i[t], self._w[t]
        r = y - (theta[k, i] * (1.0 - w) + theta[k, i + 1] * w)
        if r.size:
            e = np.exp(np.clip(r, -5.0, 5.0))
            overall = float(np.mean(e))
            wsum = np.bincount(i, 1.0 - w, self.n) + np.bincount(i + 1, w, self.n)
            esum = np.bincount(i, (1.0 - w) * e, self.n) + np.bincount(i + 1, w * e, self.n)
            local = (esum + SMEAR_PRIOR * overall) / (wsum + SMEAR_PRIOR)
            theta = theta + np.log(local)[None, :]
        return theta

    def grouped(self, theta, levels=8):
        """Predictions at a few representative rounds and how many rounds each stands for:
        rounds are grouped by knot interval and position in it (``levels`` per interval), so
        column sums cost ``O(knots · levels · K)`` instead of ``O(T K)``.

        Returns ``(counts (G,), predictions (G, K))``.
        """
        g = self._i * levels + np.minimum((self._w * levels).astype(np.int64), levels - 1)
        counts = np.bincount(g, minlength=self.n * levels)
        used = np.flatnonzero(counts)
        w = np.bincount(g, self._w, self.n * levels)[used] / counts[used]
        i = used // levels
        y = theta[:, i].T * (1.0 - w)[:, None] + theta[:, i + 1].T * w[:, None]
        return counts[used], np.maximum(self.unit * (np.exp(y) - _FLOOR), 0.0)

    def predict_at(self, theta, t, k):
        """``m[t_j, k_j]`` for entries ``j`` only."""
        i, w = self._i[t], self._w[t]
        y = theta[k, i] * (1.0 - w) + theta[k, i + 1] * w
        return np.maximum(self.unit * (np.exp(y) - _FLOOR), 0.0)

    def predict(self, theta, rounds=None):
        """``m[t, k]`` (cost units, ≥ 0) for the given rounds (default: all)."""
        i = self._i if rounds is None else self._i[rounds]
        w = self._w if rounds is None else self._w[rounds]
        y = theta[:, i].T * (1.0 - w)[:, None] + theta[:, i + 1].T * w[:, None]
        return np.maximum(self.unit * (np.exp(y) - _FLOOR), 0.0)
