"""Configuration learning on short sequences: the default learner over configuration arms
explores ω within the predicted best's family and drops a clearly worse family within a
bounded number of rounds (synthetic cost matrices with known best arms, seeded)."""
import math

import numpy as np
import pytest

import bandit
from bandit import config_grid

OMEGAS = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]


def _grid():
    return config_grid(OMEGAS, ["none", "jacobi"])  # 8 SSOR-PCG ω, CG, Jacobi-CG


def _reference_mask(omegas, n_single, radius=1):
    """By hand: SSOR-PCG arms sorted by ω, neighbours within ``radius`` places; every
    single-arm family open from every best, and every arm open next to a single-arm best."""
    K = len(omegas) + n_single
    order = np.argsort(omegas, kind="stable")
    place = np.empty(len(omegas), dtype=int)
    place[order] = np.arange(len(omegas))
    mask = np.ones((K, K), dtype=bool)
    for i in range(len(omegas)):
        for j in range(len(omegas)):
            mask[i, j] = abs(place[i] - place[j]) <= radius
    return mask


def test_family_mask_matches_hand_reference():
    from bandit.joint import _family_near_mask

    arms = _grid()
    p = bandit.default_policy(None, arms)
    ref = _reference_mask(OMEGAS, 2)
    np.testing.assert_array_equal(p._near_mask, ref)
    # ω = 1.0 has its neighbour 1.2 (two median steps away) and not 1.4
    assert p._near_mask[0, 1] and not p._near_mask[0, 2]
    # an unsorted, uneven grid: placed by ω, not by index
    om = [1.7, 1.0, 1.5, 1.2]
    fam = np.array([0, 0, 0, 0, 1])
    got = _family_near_mask(fam, np.array(om + [0.0]), 1)
    np.testing.assert_array_equal(got, _reference_mask(om, 1))
    # every family a single arm: nothing to restrict
    assert _family_near_mask(np.arange(3), np.zeros(3), 1).size == 0


def _run(seed, T=300, context=True):
    """Default learner over the grid on a synthetic cost matrix: SSOR-PCG unimodal in ω with
    its best at 1.6, CG 3 × and Jacobi-CG 2.5 × that best, a context scaling every arm alike,
    5 % multiplicative noise."""
    arms = _grid()
    om = np.array(OMEGAS)
    base = np.r_[1.0 + 3.0 * (om - 1.6) ** 2, 3.0, 2.5]
    rng = np.random.default_rng(seed)
    p = bandit.default_policy(None, arms, seed=seed)
    picks = []
    for _ in range(T):
        c = float(rng.uniform(0.25, 2.5)) if context else None
        k = p.select(c)
        scale = 1.0 + 0.3 * (c - 1.0) if context else 1.0
        p.update(k, float(base[k] * scale * math.exp(0.05 * rng.standard_normal())),
                 context=c)
        picks.append(k)
    return np.array(picks), int(np.argmin(base))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("context", [True, False])
def test_far_omegas_and_worse_families_dropped(seed, context):
    picks, best = _run(seed, context=context)
    # SSOR-PCG ω more than one place from the best (1.0, 1.2, 1.4, 1.8, 1.9): at most 10
    # draws in 300 (the line layout without the family radius drew 13-24)
    far = np.isin(picks, [0, 1, 2, 6, 7])
    assert far.sum() <= 10, np.bincount(picks, minlength=10)
    # CG and Jacobi-CG (2.5-3 × the best): dropped within the first 30 rounds
    other = np.flatnonzero(picks >= 8)
    assert other.size and other.max() < 30, other
    # and the best configuration is what the learner plays most
    assert np.bincount(picks).argmax() == best
