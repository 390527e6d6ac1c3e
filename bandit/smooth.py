"""A non-contextual learner that shares information between neighbouring arms (cost smooth in ω)."""
from __future__ import annotations

import math

import numpy as np

from ._base import Policy, arm_omega, check_positive
from ._kernels import igw_probabilities, smoothed_means

__all__ = ["SmoothIGW", "arm_positions", "family_positions"]


def arm_positions(arms):
    """Positions of the arms on a line, in units of the typical grid step.

    ω values when every arm has one (floats, or dicts with ``omega``/``pc_sor_omega``), else
    the arm index; divided by the median spacing so a bandwidth of 1 means "one grid step".

    Examples
    --------
    >>> arm_positions([1.0, 1.1, 1.2, 1.5]).round(6).tolist()
    [0.0, 1.0, 2.0, 5.0]
    """
    om = [arm_omega(a) for a in arms]
    x = np.arange(len(arms), dtype=float) if any(v is None for v in om) else np.array(om)
    step = np.median(np.diff(np.sort(x))) if len(x) > 1 else 1.0
    step = step if step > 0 else 1.0
    return (x - x.min()) / step


def family_positions(arms):
    """The families of the arms (arms that differ only by ω) and ω within each family.

    Families are :func:`bandit.arm_families`'s for arms of no named solver (a float is an ω
    of one family with ``{"omega": w}`` dicts; a dict belongs to the family of its other
    settings: method, preconditioner, set-up reuse, solver knobs), except that an arm without
    an ω is a family of its own (there is no ω to place it by).

    Returns
    -------
    family : ndarray of int
        Family of each arm, numbered in order of first appearance.
    position : ndarray of float
        ω of each arm in units of its family's median grid step, from 0 at the family's least
        ω (0 for an arm without an ω or alone in its family).
    plain : bool
        Whether the arms are *plain ω arms*: one family, every arm with an ω (then
        ``position`` is :func:`arm_positions`).

    Examples
    --------
    >>> from bandit import config_grid
    >>> fam, pos, plain = family_positions(config_grid([1.2, 1.5, 1.6], ["none", "ic0"]))
    >>> fam.tolist(), pos.round(6).tolist(), plain
    ([0, 0, 0, 1, 2], [0.0, 1.5, 2.0, 0.0, 0.0], False)
    >>> family_positions([1.0, 1.1, 1.3])[2]
    True
    """
    from .family import arm_families  # family → squarecb: imported when first needed

    omegas = [arm_omega(a) for a in arms]
    family = np.empty(len(arms), dtype=np.int64)
    position = np.zeros(len(arms))
    n = 0
    for members in arm_families(arms, solver=None):
        with_omega = [k for k in members if omegas[k] is not None]
        for k in members:
            if omegas[k] is None:
                family[k], n = n, n + 1
        if with_omega:
            family[with_omega], n = n, n + 1
            if len(with_omega) > 1:
                position[with_omega] = arm_positions([omegas[k] for k in with_omega])
    # number the families in order of their first arm
    first = {}
    for f in family:
        first.setdefault(int(f), len(first))
    family = np.array([first[int(f)] for f in family], dtype=np.int64)
    plain = len(first) == 1 and omegas[0] is not None
    return family, position, plain


class SmoothIGW(Policy):
    """Inverse-gap weighting over kernel-smoothed mean costs (non-contextual, costs minimised).

    The mean cost of arm ``k`` is its own sample mean shrunk towards its neighbours':

    ``μ_k = (S_k + a_k m_k) / (n_k + a_k)``, ``a_k = n0 / (1 + n_k)``,  ``m_k = Σ_{j≠k} w_kj μ̄_j / Σ_{j≠k} w_kj``,
    ``w_kj = exp(−(x_k − x_j)² / (2 h²))`` over played arms ``j``,

    with ``S_k, n_k, μ̄_k`` the cost sum, count and mean of arm ``k``, ``x`` the arm positions
    (ω in grid steps, :func:`arm_positions`) and ``h = bandwidth``.  A rarely played arm
    borrows ``n0`` pseudo-observations from its neighbours (an empirical-Bayes prior) whose
    weight fades like ``1/n_k``: smoothing is biased at a minimum (the neighbours of the best
    arm are worse), so it should only steer arms with almost no data of their own.  Arm
    ``k ≠ k*`` is then played with probability ``1/(K + γ_t g_k)``, ``g_k = (μ_k − μ*)/μ*`` the
    *relative* gap and ``γ_t = gamma · sqrt(t)``; relative gaps make the policy independent of
    the cost unit (iterations or seconds) and robust to equal or zero first costs (``μ* = 0``
    gives all gaps 0, i.e. uniform play).

    Censored costs enter the sums as observed; under a guarded :class:`bandit.Tuner` a stopped
    exploration is reported as the whole round's cost (``report_round_cost``), which is what
    choosing the arm cost.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid (ordered or not) or setting dicts.
    bandwidth : float, default 1.0
        Kernel width in grid steps.
    n0 : float, default 20.0
        Strength of the neighbours' prior, in observations.
    gamma : float, default 80.0
        Scale of the exploration schedule (larger = greedier).
    seed : int, optional
        Seed of the sampling generator.

    Examples
    --------
    >>> p = SmoothIGW(np.linspace(1.0, 1.9, 10), seed=0)
    >>> for _ in range(500):
    ...     k = p.select()
    ...     p.update(k, 50 + 10 * (k - 6) ** 2)
    >>> int(np.argmin(p.predict()))
    6
    """

    _state_keys = ()
    report_round_cost = True

    def __init__(self, arms, *, bandwidth=1.0, n0=20.0, gamma=80.0, seed=None):
        super().__init__(arms, seed=seed)
        check_positive(bandwidth=bandwidth, n0=n0, gamma=gamma)
        self.bandwidth, self.n0, self.gamma = float(bandwidth), float(n0), float(gamma)
        x = arm_positions(self.arms)
        self._W = np.exp(-0.5 * ((x[:, None] - x[None, :]) / self.bandwidth) ** 2)
        np.fill_diagonal(self._W, 0.0)

    def _config(self):
        return {"bandwidth": self.bandwidth, "n0": self.n0, "gamma": self.gamma}

    def predict(self, context=None):
        """Smoothed mean cost of every arm (NaN before any data)."""
        if self.t == 0:
            return np.full(self.n_arms, np.nan)
        return smoothed_means(self._W, self.cost_sums, self.counts.astype(np.float64), self.n0)

    def probabilities(self):
        """Distribution for the next round."""
        if self.t == 0:
            return np.full(self.n_arms, 1.0 / self.n_arms)
        mu = self.predict()
        best = mu.min()
        g = (mu - best) / best if best > 0 else np.zeros(self.n_arms)
        return igw_probabilities(g, self.gamma * math.sqrt(self.t))

    def _select(self, context):
        return self._sample(self.probabilities())
