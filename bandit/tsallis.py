"""Tsallis-INF (Zimmert & Seldin) and its binned-context version Tsallis-INF-CB."""
from __future__ import annotations

import math

import numpy as np

from ._base import Policy, check_bounds, scalar_context
from ._kernels import tsallis_normaliser

__all__ = ["tsallis_probabilities", "TsallisINF", "TsallisINFCB"]


def _scaled(L, W, low, cost_sum, n_pos, t):
    """Baseline-shifted, scaled loss estimates ``(L − low·W) / s`` of one Tsallis-INF.

    ``L_k = Σ c/p`` and ``W_k = Σ 1/p`` over the rounds with a positive cost ``c`` in which arm
    ``k`` was played (``p``: its probability then), ``low`` the smallest positive cost seen,
    ``cost_sum`` the sum of all ``t`` costs and ``n_pos`` the number of positive ones.
    ``L_k − low·W_k = Σ (c − low)/p`` estimates arm ``k``'s cumulative shifted loss (every
    ``c − low ≥ 0``); ``s = (cost_sum − low·n_pos)/t`` is the running mean of the shifted
    losses.  While every shifted loss is 0 (all costs so far equal, or 0; up to rounding, as
    for equal float timings) the estimates are 0: uniform play, never a 0/0.
    """
    total = cost_sum - low * n_pos
    if not total > 1e-9 * cost_sum:
        return np.zeros_like(L)
    return np.maximum(L - low * W, 0.0) * (t / total)


def tsallis_probabilities(L, eta):
    """1/2-Tsallis-INF distribution ``p_k = 4 / (eta (L_k - x))**2`` with ``sum p = 1``.

    Parameters
    ----------
    L : array_like
        Cumulative importance-weighted loss estimates (costs, minimised).
    eta : float
        Learning rate (``2/sqrt(t)`` at round ``t``).

    Returns
    -------
    ndarray
        Probabilities; the normaliser ``x < min L`` is found by the bracketed Newton iteration
        of :func:`bandit._kernels.tsallis_normaliser`, so this never collapses onto one arm.

    Examples
    --------
    Equal losses give the uniform distribution:

    >>> tsallis_probabilities([3.0, 3.0, 3.0, 3.0], eta=1.0).round(6).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    L = np.ascontiguousarray(L, dtype=np.float64)
    L = L - L.min()  # only differences matter; keeps L - x exact for huge raw losses
    x = tsallis_normaliser(L, float(eta))
    p = 4.0 / (eta * (L - x)) ** 2
    return p / p.sum()  # removes the last rounding error of the root


class TsallisINF(Policy):
    """Adversarial bandit with the 1/2-Tsallis regulariser, costs minimised (REFERENCE §2).

    At round ``t`` (1-based) with ``eta_t = 2/sqrt(t)`` it plays ``p = tsallis_probabilities(
    (L − b W) / s_t, eta_t)``; after a positive cost ``c`` of arm ``k`` it sets
    ``L_k += c / p_k`` and ``W_k += 1 / p_k`` (a zero cost, a solve that did nothing whatever
    the arm, changes neither).

    Cost scaling (losses must be about [0, 1]): ``b`` is the smallest positive cost seen so far,
    so ``L_k − b W_k = Σ (c − b)/p`` estimates arm ``k``'s cumulative loss with the baseline
    subtracted from every past round; each ``c − b ≥ 0``, so no clipping is needed.  The
    baseline is the same for every arm and ``E[W_k]`` is the number of rounds for every ``k``,
    so it changes no expected difference between arms; it removes the part of the cost that no
    ω avoids, which importance weighting (``c/p`` on the played arm only) would turn into pure
    variance.  The estimates are divided by ``s_t``, the running mean of the shifted losses,
    when the distribution is formed.  The reference subtracts a constant 1 iteration instead;
    the running minimum also serves ``cost="time"`` and removes far more where every ω costs
    at least ~10 iterations (heat2d at large κ, the offset-Laplacian SOR sequences).  Adding a
    constant to every cost (a fixed per-solve overhead) or multiplying every cost by a
    constant (a change of unit) leaves the distributions unchanged.  Degenerate start: while
    every shifted loss is 0 (all costs so far equal, or 0) every estimate is 0, so the learner
    plays uniformly, never divides by 0, and learns as soon as costs differ (the reference
    divides by 0 there and falls back to uniform sampling for good).

    Censored costs (a capped solve) are added as if observed.  Under a :class:`bandit.Tuner`
    with a guard, a stopped exploration is reported as the whole round's cost instead
    (``report_round_cost``): the attempt's capped cost alone would make an arm that had to be
    stopped look no worse than ``guard ×`` the leader, and the importance weights would keep
    paying for it.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    seed : int, optional
        Seed of the sampling generator.

    References
    ----------
    J. Zimmert, Y. Seldin, "Tsallis-INF: An optimal algorithm for stochastic and adversarial
    bandits", JMLR 22 (2021).

    Examples
    --------
    >>> p = TsallisINF([1.0, 1.5, 1.8], seed=0)
    >>> for _ in range(300):
    ...     k = p.select()
    ...     p.update(k, [90, 30, 60][k])
    >>> int(np.argmax(p.probabilities()))
    1
    """

    _state_keys = ("L", "W", "low", "n_pos")
    report_round_cost = True

    def __init__(self, arms, *, seed=None):
        super().__init__(arms, seed=seed)
        self.L = np.zeros(self.n_arms)  # Σ c/p per arm (raw cost units)
        self.W = np.zeros(self.n_arms)  # Σ 1/p per arm (same rounds)
        self.low = 0.0  # baseline: smallest positive cost seen (0: none yet)
        self.n_pos = 0  # rounds with a positive cost

    def scaled_losses(self):
        """The estimates the distribution is formed from: ``(L − low·W) / s_t``."""
        return _scaled(self.L, self.W, self.low, float(self.cost_sums.sum()), self.n_pos, self.t)

    def probabilities(self):
        """Distribution for the next round."""
        return tsallis_probabilities(self.scaled_losses(), 2.0 / math.sqrt(self.t + 1))

    def _select(self, context):
        return self._sample(self.probabilities())

    def _update(self, arm, cost, context, censored):
        p = self.p if self.p is not None else self.probabilities()
        if cost > 0.0:
            self.L[arm] += cost / p[arm]
            self.W[arm] += 1.0 / p[arm]
            self.low = cost if self.n_pos == 0 else min(self.low, cost)
            self.n_pos += 1
        self.p = None  # the next select forms a fresh distribution

    def predict(self, context=None):
        """Importance-weighted mean cost per arm, ``L_k / t`` (NaN for arms never played)."""
        return np.where(self.counts > 0, self.L / max(self.t, 1), np.nan)


class TsallisINFCB(Policy):
    """Tsallis-INF-CB: an independent :class:`TsallisINF` per bin of a scalar context.

    The context ``c`` is clipped to ``context_bounds = (a, b)`` and mapped to bin
    ``floor(bins (c - a)/(b - a))`` (the last bin includes ``b``).  Each bin keeps its own loss
    estimates, round counter, baseline (smallest positive cost seen in the bin) and loss scale,
    exactly as :class:`TsallisINF`; the generator is shared.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    context_bounds : (float, float)
        Interval ``[a, b]`` of the context; values outside are clipped to it.
    bins : int, default 5
        Number of equal bins (the paper uses 5 or 6).
    seed : int, optional
        Seed of the sampling generator.

    Examples
    --------
    >>> p = TsallisINFCB([1.0, 1.8], context_bounds=(0, 1), bins=2, seed=0)
    >>> for i in range(400):
    ...     c = i % 2                        # arm 0 is best at c = 0, arm 1 at c = 1
    ...     k = p.select(c)
    ...     p.update(k, 10 + 50 * (k != c), context=c)
    >>> [p.select(0.1), p.select(0.9)]
    [0, 1]
    """

    contextual = True
    _state_keys = ("L", "bin_t", "bin_sums", "bin_counts", "W", "bin_low", "bin_pos")
    report_round_cost = True

    def __init__(self, arms, context_bounds=(0.0, 1.0), bins=5, *, seed=None):
        super().__init__(arms, seed=seed)
        a, b = check_bounds(context_bounds)
        if int(bins) != bins or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        self.context_bounds = (a, b)
        self.bins = int(bins)
        self.L = np.zeros((self.bins, self.n_arms))
        self.bin_t = np.zeros(self.bins, dtype=np.int64)
        self.bin_sums = np.zeros(self.bins)
        self.bin_counts = np.zeros((self.bins, self.n_arms), dtype=np.int64)
        self.W = np.zeros((self.bins, self.n_arms))  # Σ 1/p per bin and arm
        self.bin_low = np.zeros(self.bins)  # per-bin baseline (smallest positive cost)
        self.bin_pos = np.zeros(self.bins, dtype=np.int64)  # per-bin rounds with cost > 0

    def _config(self):
        return {"context_bounds": list(self.context_bounds), "bins": self.bins}

    def _check_context(self, context):
        a, b = self.context_bounds
        c = scalar_context(context, self.context_bounds)
        return min(int((c - a) / (b - a) * self.bins), self.bins - 1)

    def probabilities(self, context):
        """Distribution for the next round in the bin of ``context``."""
        i = self._context(context)
        return self._probabilities(i)

    def scaled_losses(self, context):
        """The estimates the distribution of ``context``'s bin is formed from."""
        return self._scaled_losses(self._context(context))

    def _scaled_losses(self, i):
        return _scaled(self.L[i], self.W[i], float(self.bin_low[i]), float(self.bin_sums[i]),
                       int(self.bin_pos[i]), int(self.bin_t[i]))

    def _probabilities(self, i):
        return tsallis_probabilities(self._scaled_losses(i), 2.0 / math.sqrt(self.bin_t[i] + 1))

    def _select(self, i):
        return self._sample(self._probabilities(i))

    def _update(self, arm, cost, i, censored):
        p = self.p if self.p is not None else self._probabilities(i)
        if cost > 0.0:
            self.L[i, arm] += cost / p[arm]
            self.W[i, arm] += 1.0 / p[arm]
            self.bin_low[i] = cost if self.bin_pos[i] == 0 else min(self.bin_low[i], cost)
            self.bin_pos[i] += 1
        self.bin_t[i] += 1
        self.bin_sums[i] += cost
        self.bin_counts[i, arm] += 1
        self.p = None

    def predict(self, context=None):
        """Importance-weighted mean cost per arm in the context's bin (NaN if never played)."""
        i = self._context(context)
        return np.where(self.bin_counts[i] > 0, self.L[i] / max(self.bin_t[i], 1), np.nan)
