"""One contract, every policy in bandit.POLICIES: arguments, reproducibility, save/resume."""
import json

import numpy as np
import pytest

import bandit
from bandit import POLICIES, Policy

OMEGAS = list(np.linspace(1.0, 1.95, 8))
BOUNDS = (-0.15, 0.65)


def make(name, seed=0, arms=OMEGAS):
    cls = POLICIES[name]
    if name == "fixed":
        return cls(arms, arm=3, seed=seed)
    if name == "squarecb":
        return cls(arms, context_dim=1, context_bounds=[BOUNDS], seed=seed)
    if cls.contextual:
        return cls(arms, context_bounds=BOUNDS, seed=seed)
    return cls(arms, seed=seed)


def context(t):
    return -0.15 + 0.8 * ((t * 0.618034) % 1.0)


def cost(k, c):
    """Deterministic smooth environment: best arm moves with the context."""
    best = 2 + 4 * (c + 0.15) / 0.8
    return 20.0 + 15.0 * (k - best) ** 2


def run(p, T, start=0):
    arms = []
    for t in range(start, start + T):
        c = context(t)
        k = p.select(c)
        p.update(k, cost(k, c), context=c)
        arms.append(k)
    return arms


NAMES = sorted(POLICIES)


@pytest.mark.parametrize("name", NAMES)
def test_valid_indices_and_predict_shape(name):
    p = make(name)
    assert isinstance(p, Policy) and p.n_arms == len(OMEGAS)
    for k in run(p, 60):
        assert 0 <= k < len(OMEGAS)
    pred = p.predict(context(0))
    assert pred.shape == (len(OMEGAS),)
    assert p.t == 60 and p.counts.sum() == 60


@pytest.mark.parametrize("name", NAMES)
def test_leader_is_the_played_arm_with_the_lowest_prediction(name):
    p = make(name)
    assert p.leader(context(0)) == (None, pytest.approx(np.nan, nan_ok=True))
    for T in (1, 3, 40):
        run(p, T, start=p.t)
        for t in range(6):
            c = context(100 + t)
            if t % 2:
                p.select(c)  # a draw first, as in the Tuner (may cache what leader needs)
            pred = np.where(p.counts > 0, p.predict(c), np.nan)  # the definition
            k, cost_k = p.leader(c)
            if np.isnan(pred).all():  # e.g. a context bin with no data yet
                assert k is None and np.isnan(cost_k)
                continue
            assert k == int(np.nanargmin(pred))
            assert cost_k == pytest.approx(pred[k], rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_zero_large_and_censored_costs_accepted(name):
    p = make(name)
    c = context(1)
    for value, censored in [(0.0, False), (0, False), (1e12, False), (7.0, True), (1e9, True)]:
        k = p.select(c)
        p.update(k, value, context=c, censored=censored)
    k = p.select(c)
    assert 0 <= k < p.n_arms
    assert np.all(np.isfinite(p.p)) if p.p is not None else True


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments_raise(name):
    p = make(name)
    c = context(2)
    with pytest.raises(ValueError, match="NaN"):
        p.update(0, float("nan"), context=c)
    with pytest.raises(ValueError, match=">= 0"):
        p.update(0, -1.0, context=c)
    with pytest.raises(ValueError, match="infinite"):
        p.update(0, float("inf"), context=c)
    with pytest.raises(ValueError, match="outside"):
        p.update(len(OMEGAS), 1.0, context=c)
    with pytest.raises(ValueError, match="integer"):
        p.update(1.0, 1.0, context=c)
    if p.contextual:
        with pytest.raises(ValueError, match="contextual"):
            p.select()
        with pytest.raises(ValueError, match="finite"):
            p.select(float("nan"))
    assert p.t == 0  # nothing was recorded by the failed calls


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_sequence_other_seed_other(name):
    a = run(make(name, seed=1), 150)
    assert a == run(make(name, seed=1), 150)
    b = run(make(name, seed=2), 150)
    if make(name).randomised:
        assert a != b
    else:
        assert a == b


@pytest.mark.parametrize("name", NAMES)
def test_state_round_trip_mid_run_continues_identically(name):
    p = make(name, seed=5)
    run(p, 40)
    k_pending = p.select(context(40))  # a pending selection is part of the state too
    state = json.loads(json.dumps(p.state_dict()))  # must survive JSON
    q = Policy.from_state_dict(state)
    assert type(q) is type(p)
    for pol in (p, q):
        pol.update(k_pending, cost(k_pending, context(40)), context=context(40))
    assert run(p, 80, start=41) == run(q, 80, start=41)
    np.testing.assert_array_equal(p.predict(context(3)), q.predict(context(3)))


def test_state_of_wrong_version_or_kind_is_rejected():
    s = make("tsallis_inf").state_dict()
    with pytest.raises(ValueError, match="version"):
        Policy.from_state_dict({**s, "version": 99})
    with pytest.raises(ValueError, match="format"):
        Policy.from_state_dict({"class": "TsallisINF"})
    with pytest.raises(ValueError, match="not a ChebCB"):
        bandit.ChebCB.from_state_dict(s)


def test_context_outside_the_starting_range_widens_it_and_queries_take_the_edge():
    p = make("chebcb")
    np.testing.assert_array_equal(p.features(5.0), p.features(BOUNDS[1]))  # a query: the edge
    assert p.features.context_bounds == BOUNDS  # unchanged by queries
    p.update(p.select(5.0), 30.0, context=5.0)  # a round: the range widens to include it
    lo, hi = p.features.context_bounds
    assert lo == BOUNDS[0] and hi > 5.0
    assert not np.array_equal(p.features(5.0), p.features(BOUNDS[1]))
    q = make("tsallis_inf_cb")
    assert q._check_context(0.6) == (q.bins - 1,) and q._check_context(-0.15) == (0,)
    assert q._check_context(9.0) != q._check_context(0.6)  # its own bin, not the last one


def test_dict_arms_and_bad_arms():
    p = make("smooth_igw", arms=[{"omega": 1.0}, {"omega": 1.4}, {"pc_sor_omega": 1.8}])
    run(p, 10)
    with pytest.raises(ValueError, match="non-empty"):
        bandit.TsallisINF([])
    with pytest.raises(ValueError, match="neither"):
        bandit.TsallisINF([1.0, "fast"])
    with pytest.raises(ValueError, match="seed"):
        bandit.TsallisINF([1.0], seed=1.5)
