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


def run(p, T, start=0, context=context, cost=cost):
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
def test_leader_after_a_draw_answers_for_the_context_asked(name):
    # a draw may memoise what leader() needs for its own context and round; a leader query
    # for another context value (or the same value as a new float object) must not reuse it
    p = make(name)
    run(p, 40)
    c = context(100)
    for query in (context(101), float(str(c)), c):
        p.select(c)
        k, cost_k = p.leader(query)
        pred = np.where(p.converged_counts > 0, p.predict(query), np.nan)
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


# --- contexts: none given bounds, vectors, extreme values ---------------------------------------

CONTEXTUAL = [n for n in NAMES if POLICIES[n].contextual]


def make_free(name, seed=0, dim=None):
    """A contextual policy without context_bounds (the range is learnt)."""
    cls = POLICIES[name]
    kw = {"context_dim": dim} if dim is not None else {}
    return cls(OMEGAS, seed=seed, **kw)


def vector_context(t):
    return [1e3 * context(t), 5.0 + 40.0 * ((t * 0.414) % 1.0)]


def vector_cost(k, x):
    best = 1 + 5 * (x[1] - 5.0) / 40.0 + 0.002 * x[0]  # the second coordinate moves the best arm
    return 20.0 + 15.0 * (k - best) ** 2


def run_vector(p, T, start=0):
    return run(p, T, start, vector_context, vector_cost)


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_vector_contexts_without_bounds(name):
    p = make_free(name, seed=3)
    arms = run_vector(p, 300)
    assert all(0 <= k < len(OMEGAS) for k in arms)
    assert p.predict(vector_context(7)).shape == (len(OMEGAS),)
    # per-coordinate ranges learnt from the contexts (no clipping into (-1, 1))
    if hasattr(p, "features"):
        (lo0, hi0), (lo1, hi1) = p.features.context_bounds
        assert lo0 <= -150 and hi0 >= 500 and lo1 <= 5.5 and hi1 >= 44.5
    # it learnt something: later rounds cost less than the first ones on average
    early = np.mean([vector_cost(k, vector_context(t)) for t, k in enumerate(arms[:60])])
    late = np.mean([vector_cost(k, vector_context(t)) for t, k in enumerate(arms[-60:], 240)])
    assert late < early
    with pytest.raises(ValueError, match="2 entries"):
        p.select([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 entries"):
        p.select(1.0)
    with pytest.raises(ValueError, match="finite"):
        p.select([1.0, np.inf])
    assert p.t == 300


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_vector_contexts_reproducible_and_resumable(name):
    a = run_vector(make_free(name, seed=4, dim=2), 120)
    assert a == run_vector(make_free(name, seed=4), 120)  # dimension given or taken from data
    p = make_free(name, seed=4)
    run_vector(p, 50)
    q = Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))
    assert run_vector(p, 70, start=50) == run_vector(q, 70, start=50)


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_per_dimension_bounds_are_a_hint(name):
    p = POLICIES[name](OMEGAS, context_bounds=[(-150.0, 650.0), (5.0, 45.0)], seed=1)
    run_vector(p, 100)
    q = POLICIES[name](OMEGAS, context_bounds=[(-150.0, 650.0), (5.0, 45.0)], seed=1)
    q.update(q.select([900.0, 20.0]), 30.0, context=[900.0, 20.0])  # outside: widens
    if hasattr(q, "features"):
        assert q.features.context_bounds[0][1] > 900 and q.features.context_bounds[1] == (5.0, 45.0)


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_scalar_contexts_without_bounds_match_the_study_setting(name):
    """Without bounds the policy learns as well on the contract's environment as with them."""
    free, given = make_free(name, seed=2), make(name, seed=2)
    cost_free = sum(cost(k, context(t)) for t, k in enumerate(run(free, 400)))
    cost_given = sum(cost(k, context(t)) for t, k in enumerate(run(given, 400)))
    assert cost_free < 1.15 * cost_given


@pytest.mark.parametrize("name", CONTEXTUAL)
@pytest.mark.parametrize("extreme", [1e300, -1e300, 1.7e308, 5e-324, -1e-300])
def test_extreme_contexts_never_turn_the_model_into_nan(name, extreme):
    p = make_free(name, seed=0)
    for t in range(30):
        c = extreme if t % 3 == 1 else context(t)
        k = p.select(c)
        p.update(k, cost(k, context(t)), context=c)
    for key in ("P", "theta", "L", "W"):
        v = getattr(p, key, None)
        if v is not None:
            assert np.all(np.isfinite(v)), key
    for c in (extreme, 0.1, -extreme):
        pred = p.predict(c)
        assert pred.shape == (len(OMEGAS),) and not np.any(np.isinf(pred))
        assert not np.all(np.isnan(pred)) or name == "tsallis_inf_cb"
    assert 0 <= p.select(0.2) < len(OMEGAS)


def test_squarecb_polynomial_features_of_huge_contexts_stay_finite():
    p = bandit.SquareCB(OMEGAS, context_dim=2, degree=3, seed=0)
    for t in range(50):
        x = [1e200 * (t % 5), -1e150 * t]  # raw powers would overflow (1e600)
        k = p.select(x)
        p.update(k, 10.0 + k, context=x)
    assert np.all(np.isfinite(p.theta)) and np.all(np.isfinite(p.P))
    pred = p.predict([3e200, -2e151])  # NaN only for arms never played
    assert np.all(np.isfinite(pred[p.counts > 0])) and np.all(np.isnan(pred[p.counts == 0]))


def test_forgotten_bounds_no_longer_collapse_tsallis_inf_cb_into_tsallis_inf():
    """Contexts in [0, 10] and no bounds: the bins are learnt, so each half of the range gets
    its own best arm (with today's clipping into (0, 1) every context > 1 shared one bin)."""
    p = bandit.TsallisINFCB([1.0, 1.8], bins=5, seed=0)
    for i in range(1500):
        c = 10.0 * ((i * 0.618034) % 1.0)
        k = p.select(c)
        p.update(k, 10.0 + 50.0 * (k != (c > 5.0)), context=c)
    occupied = int(np.count_nonzero(p.bin_t))
    assert occupied >= 4  # the context is really binned
    low, high = p.probabilities(1.5), p.probabilities(8.5)
    assert low[0] > 0.8 and high[1] > 0.8
    # the plain learner cannot do both: its single distribution favours one arm everywhere
    q = bandit.TsallisINF([1.0, 1.8], seed=0)
    for i in range(1500):
        c = 10.0 * ((i * 0.618034) % 1.0)
        k = q.select()
        q.update(k, 10.0 + 50.0 * (k != (c > 5.0)))
    assert max(q.probabilities()) < 0.9


@pytest.mark.parametrize("name", [n for n in NAMES if POLICIES[n].contextual and n != "squarecb"])
def test_saved_before_any_context_continues_identically_on_vector_contexts(name):
    # a learner whose feature size defaults by the context length (a vector's smaller than a
    # number's) must keep that default through a save made before it saw any context
    p = POLICIES[name](OMEGAS, seed=4)
    q = Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))

    def vec(t):
        return [context(t), context(t + 7)]

    def vcost(k, c):
        return cost(k, c[0]) + 3.0 * c[1]

    assert run(p, 40, context=vec, cost=vcost) == run(q, 40, context=vec, cost=vcost)
    np.testing.assert_array_equal(p.predict(vec(3)), q.predict(vec(3)))
