"""Numba kernels of :class:`~bandit.JointCB`'s try gate: the value of a rival family's try
(:func:`expected_saving`, :func:`try_pays`) and the arm a gated draw plays
(:func:`_gated_arm`), which :func:`bandit._kernels.joint_select_lcb` calls inside the draw.

Every name is re-exported by :mod:`bandit._kernels`, where they were defined before.  The
gate runs inside the draw's compiled call on the draws that fall on a rival family, and
allocates nothing: whether a family has converged and the arms of the leader's family are
read from ``family`` and ``converged`` where they are needed, not gathered into arrays first.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["expected_saving", "try_pays"]


@njit(cache=True)
def expected_saving(gap, spread):
    """The expected fraction of the leader's cost a rival saves a solve, ``E[max(0, 1 − e^D)]``
    for a log-cost difference ``D ~ N(gap, spread²)`` (rival less leader): ``Φ(−gap/s) −
    e^(gap + s²/2) Φ(−gap/s − s)``, the lognormal's partial expectation (0 where the rival
    cannot be cheaper; ``max(0, 1 − e^gap)`` for ``spread = 0``)."""
    if not spread > 0.0:
        if np.isfinite(gap):
            v = -np.expm1(gap)
            return v if v > 0.0 else 0.0
        return 1.0 if gap < 0.0 else 0.0
    z = -gap / spread
    phi = 0.5 * math.erfc(-z / math.sqrt(2.0))
    tail = 0.5 * math.erfc((spread - z) / math.sqrt(2.0))
    if tail == 0.0:
        return phi
    v = phi - math.exp(gap + 0.5 * spread * spread) * tail
    return v if v > 0.0 else 0.0


@njit(cache=True)
def try_pays(gap, spread, evidence, allowance):
    """Whether a rival's try pays (:meth:`bandit.armset.ArmSet.try_pays`): its
    :func:`expected_saving` per solve times ``evidence`` (the solves the leader's prediction
    at this context is worth) reaches ``allowance`` (what a try that loses may cost, in
    leader's solves); True when there is nothing to weigh it with (a spread that is not
    finite, a NaN evidence)."""
    if not (np.isfinite(spread) and evidence == evidence):
        return True
    return expected_saving(gap, spread) * evidence >= allowance


@njit(cache=True)
def _family_proven(f, family, converged):
    """Whether some arm of family ``f`` has a converged observation (``converged > 0``)."""
    for j in range(family.size):
        if family[j] == f and converged[j] > 0:
            return True
    return False


@njit(cache=True)
def _argmin_family(values, family, f, near_mask, row):
    """``bandit._kernels._argmin_first`` over the arms of family ``f`` that row ``row`` of
    ``near_mask`` allows (every arm of the family for ``row < 0``): the first smallest, or the
    first NaN if there is one (NumPy's rule); −1 if none.  The mask is read in place, not
    built."""
    best = -1
    for k in range(values.size):
        if family[k] != f or (row >= 0 and not near_mask[row, k]):
            continue
        v = values[k]
        if np.isnan(v):
            return k
        if best < 0 or v < values[best]:
            best = k
    return best


@njit(cache=True)
def _gate_value(j, lead, mu, wide, sigma, proven, allow):
    """Arm ``j``'s try by the gate's terms against the leader ``lead`` (:func:`_gated_arm`):
    ``(gain, allowance)``, its :func:`expected_saving` times the evidence and what a try
    that loses may cost; the try pays when ``gain >= allowance`` (:func:`try_pays`: ``gain``
    is ``inf`` when there is nothing to weigh it with)."""
    wk = wide[j] * wide[j]
    wl = wide[lead] * wide[lead]
    evidence = 1.0 / wl if wl > 0.0 else np.inf
    spread = sigma * np.sqrt(wk + wl)
    allowance = allow[0] if proven else allow[1]
    if not (np.isfinite(spread) and evidence == evidence):
        return np.inf, allowance
    return expected_saving(mu[j] - mu[lead], spread) * evidence, allowance


@njit(cache=True)
def _gated_arm(k, lead, mu, score, wide, sigma, family, allow, converged, near_mask,
               pick=False):
    """The arm a gated draw plays (:func:`bandit._kernels.joint_select_lcb`): ``k`` when it
    is of the leader's family or its try pays (:func:`try_pays` of the predicted gap
    ``μ_k − μ_lead``, its spread ``σ̂ sqrt(w_k + w_lead)`` and the evidence ``1 / w_lead``,
    ``w = φᵀPφ`` read from ``wide = sqrt(w)``; the allowance ``allow[0]`` when some arm of
    ``k``'s family has converged, else ``allow[1]``), otherwise the least score among the
    leader's family next to that family's predicted best (``near_mask``).

    ``pick`` (:attr:`bandit.JointCB.gate_pick`): a drawn rival stands for every arm of the
    other families, and the arm weighed is the one of greatest gate value (:func:`_gate_value`:
    saving × evidence over allowance; ``k`` itself on a tie), played when its try pays.

    No array is allocated: a family's converged state (:func:`_family_proven`) and the
    leader's family's arms (:func:`_argmin_family`) are read where they are needed."""
    fk = family[k]
    fl = family[lead]
    if fk == fl:
        return k
    K = mu.size
    best = k
    gain, allowance = _gate_value(k, lead, mu, wide, sigma,
                                  _family_proven(fk, family, converged), allow)
    if pick:  # the rival of greatest gain per allowance (its try's value in its own terms)
        value = gain / allowance
        for j in range(K):
            fj = family[j]
            if fj == fl or j == k:
                continue
            g, a = _gate_value(j, lead, mu, wide, sigma,
                               _family_proven(fj, family, converged), allow)
            if g / a > value or value != value:
                best, value, gain, allowance = j, g / a, g, a
    if gain >= allowance:
        return best
    near = -1
    if near_mask.size:  # next to the predicted best of the leader's family (itself in it)
        near = _argmin_family(mu, family, fl, near_mask, -1)
    return _argmin_family(score, family, fl, near_mask, near)
