"""Configuration learning on short sequences: the default learner over configuration arms
explores ω within the predicted best's family and drops a clearly worse family within a
bounded number of rounds (synthetic cost matrices with known best arms, seeded)."""
import math

import numpy as np
import pytest

import bandit
from bandit.armset import ArmSet
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


# --- repricing a family's past costs when its timed_work rate moves ---------------------------
def _feed(p, rows):
    for k, c, ctx in rows:
        p.select(ctx)
        p.update(k, c, context=ctx)


@pytest.mark.parametrize("context", [True, False])
def test_reprice_equals_a_fit_of_the_repriced_costs(context):
    """JointCB.reprice(arms, f) against a learner fed the same rounds with those arms' costs
    multiplied by f from the start: the same fit (exactly for the model of the cost, which
    a learner without a context fits; up to the 0.01 floor of the log-cost target)."""
    import bandit

    rng = np.random.default_rng(3)
    arms = [1.0, 1.2, 1.4, 1.6, 1.8]
    rows = []
    for _ in range(60):
        k = int(rng.integers(5))
        c = float(rng.uniform(0.2, 1.0)) if context else None
        rows.append((k, float((1 + (arms[k] - 1.5) ** 2) * (1 + (c or 0)) * 50
                              * math.exp(0.02 * rng.standard_normal())), c))
    rows.insert(0, (0, 60.0, 0.5 if context else None))  # the unit: an arm not repriced
    kw = dict(context_bounds=(0, 1)) if context else {}
    p = bandit.JointCB(arms, target="auto", **kw)
    _feed(p, rows)
    p.reprice([2, 3], 0.7)
    q = bandit.JointCB(arms, target="auto", **kw)
    _feed(q, [(k, c * 0.7 if k in (2, 3) else c, x) for k, c, x in rows])
    ctx = 0.6 if context else None
    if context:  # log target: exact up to log(c/unit + 0.01) vs log(c/unit) + log f
        np.testing.assert_allclose(p.predict(ctx), q.predict(ctx), rtol=5e-3)
    else:
        np.testing.assert_allclose(p.theta, q.theta, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="factor"):
        p.reprice([0], 0.0)


def test_take_reprice_reports_the_rate_moves_of_set_up_free_families():
    """ArmSet.take_reprice: the product of a family's rate moves since the last call, for
    families whose arms keep no set-up; cleared once taken."""
    arms = [{"method": "ssor_pcg", "omega": 1.4}, {"method": "ssor_pcg", "omega": 1.6},
            {"method": "cg", "pc": "ic0"}]
    s = ArmSet(arms, "cg", cost="timed_work")
    s.calls(None, {}, None)
    assert s.take_reprice() == []
    s._price(0, 0, 2.0)  # a cold first reading: the rate is set, nothing moved
    assert s.take_reprice() == []
    s._warm[0] = True
    s._price(0, 0, 3.0)  # the first warm reading: 2 -> 3
    s._price(0, 0, 1.0)  # median of (3, 1) = 2: 3 -> 2
    assert s.take_reprice() == [([0, 1], pytest.approx(1.0))]
    s._price(0, 0, 1.0)  # median of (3, 1, 1) = 1: 2 -> 1
    assert s.take_reprice() == [([0, 1], pytest.approx(0.5))]
    assert s.take_reprice() == []
    s._price(2, 1, 5.0)  # IC(0) keeps a set-up: its cost is not all work, not repriced
    s._warm[2] = True
    s._price(2, 1, 7.0)
    assert s.take_reprice() == []


def test_repriced_learner_ranks_omega_by_work_despite_a_settling_rate():
    """A family's rate settles from 1.6 × to 1 × over its first 80 solves (a cold, busy
    start) while the costs are work × rate: told at the rate of the moment, the ω tried
    early look dearer and the learner keeps a worse ω; repriced at each move, it plays the
    ω of least work."""
    import bandit

    om = np.array([1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9])
    work = 1.0 + 1.5 * (om - 1.5) ** 2  # least at 1.5: 1.4 and 1.6 cost 1.5 % more

    def play(reprice, seed):
        rng = np.random.default_rng(seed)
        p = bandit.default_policy(None, config_grid(list(om), ["none"]), seed=seed)
        rate, picks = 1.6, []
        for t in range(300):
            c = float(rng.uniform(0.25, 2.5))
            k = p.select(c)
            cost = (work[k] if k < 8 else 3.0) * rate * (1 + 0.2 * c)
            p.update(k, float(cost), context=c)
            new = max(1.0, 1.6 - 0.6 * (t + 1) / 80)
            if reprice and new != rate:
                p.reprice(list(range(8)), new / rate)
            rate = new
            picks.append(k)
        return np.array(picks)

    for seed in range(3):
        late = play(True, seed)[150:]
        assert (late == 3).mean() > 0.8, np.bincount(late, minlength=9)


def test_study_previous_default_is_the_old_configuration_learner():
    """``default@previous`` in the preconditioner study: over configuration arms, JointCB
    on the line with no exploration radius and no repricing (its draws equal a JointCB
    without a radius fed the same costs); over ω arms, the default learner."""
    from experiments.precond_study import _policy

    grid = _grid()
    p = _policy("default@previous", grid, 0, (0.25, 2.5))
    q = bandit.JointCB(grid, context_bounds=(0.25, 2.5), seed=0)
    assert p.reprice is None and p._near_mask.size == 0
    rng = np.random.default_rng(0)
    for _ in range(40):
        c = float(rng.uniform(0.25, 2.5))
        k = p.select(c)
        assert q.select(c) == k
        cost = float(1 + 0.1 * k + 0.2 * c)
        p.update(k, cost, context=c)
        q.update(k, cost, context=c)
    w = _policy("default@previous", OMEGAS, 0, (0.25, 2.5))
    assert w.explore_radius == 1.0 and w._near_mask.size > 0
