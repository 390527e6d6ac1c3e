"""Tsallis-INF (Zimmert & Seldin) and its binned-context version Tsallis-INF-CB."""
from __future__ import annotations

import math

import numpy as np

from ._base import Policy, check_bounds, scalar_context
from ._kernels import tsallis_normaliser

__all__ = ["tsallis_probabilities", "TsallisINF", "TsallisINFCB"]


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
    L / s_t, eta_t)`` and after cost ``c`` of arm ``k`` sets ``L_k += c / p_k``.

    Cost scaling: ``L`` is kept in raw units (iterations or seconds) and divided by the running
    mean ``s_t`` of all costs seen so far when the distribution is formed, so scaled losses are
    O(1) whatever the unit.  Unlike the reference (which first subtracts 1 iteration and then
    divides by the running mean of the shifted costs) nothing is subtracted: when every early
    cost is equal, or even 0, ``s_t`` stays positive (``s_t = 1`` while all costs are 0) and
    learning does not silently stop.

    Censored costs (a capped solve) are added as if observed: they are lower bounds, and since a
    guarded solve is capped at a multiple of the best arm's cost the arm is penalised anyway.

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

    _state_keys = ("L",)

    def __init__(self, arms, *, seed=None):
        super().__init__(arms, seed=seed)
        self.L = np.zeros(self.n_arms)

    def probabilities(self):
        """Distribution for the next round."""
        return tsallis_probabilities(self.L / self._mean_cost(), 2.0 / math.sqrt(self.t + 1))

    def _select(self, context):
        return self._sample(self.probabilities())

    def _update(self, arm, cost, context, censored):
        p = self.p if self.p is not None else self.probabilities()
        self.L[arm] += cost / p[arm]
        self.p = None  # the next select forms a fresh distribution

    def predict(self, context=None):
        """Importance-weighted mean cost per arm, ``L_k / t`` (NaN for arms never played)."""
        return np.where(self.counts > 0, self.L / max(self.t, 1), np.nan)


class TsallisINFCB(Policy):
    """Tsallis-INF-CB: an independent :class:`TsallisINF` per bin of a scalar context.

    The context ``c`` is clipped to ``context_bounds = (a, b)`` and mapped to bin
    ``floor(bins (c - a)/(b - a))`` (the last bin includes ``b``).  Each bin keeps its own loss
    estimates, round counter and running-mean cost scale; the generator is shared.

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
    _state_keys = ("L", "bin_t", "bin_sums", "bin_counts")

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

    def _probabilities(self, i):
        t = self.bin_t[i]
        s = self.bin_sums[i] / t if self.bin_sums[i] > 0 else 1.0
        return tsallis_probabilities(self.L[i] / s, 2.0 / math.sqrt(t + 1))

    def _select(self, i):
        return self._sample(self._probabilities(i))

    def _update(self, arm, cost, i, censored):
        p = self.p if self.p is not None else self._probabilities(i)
        self.L[i, arm] += cost / p[arm]
        self.bin_t[i] += 1
        self.bin_sums[i] += cost
        self.bin_counts[i, arm] += 1
        self.p = None

    def predict(self, context=None):
        """Importance-weighted mean cost per arm in the context's bin (NaN if never played)."""
        i = self._context(context)
        return np.where(self.bin_counts[i] > 0, self.L[i] / max(self.bin_t[i], 1), np.nan)
