"""Known answers: formulas checked by hand, incremental fits against batch fits, exact regret."""
import math

import numpy as np
import pytest
from scipy.optimize import brentq

import bandit
from bandit import regret, simulate, tsallis_probabilities
from bandit._kernels import igw_probabilities, igw_select, sample_index, tsallis_normaliser


def test_tsallis_normaliser_hand_values():
    # four equal losses, eta = 1: p = 1/4 = 4/(0 - x)^2  =>  x = -4
    assert tsallis_normaliser(np.zeros(4), 1.0) == pytest.approx(-4.0, abs=1e-12)
    # two equal losses 7, eta = 2: 1/(7 - x)^2 = 1/2  =>  x = 7 - sqrt(2)
    assert tsallis_normaliser(np.full(2, 7.0), 2.0) == pytest.approx(7 - math.sqrt(2), abs=1e-12)
    # one arm: all mass on it, x = L - 2/eta
    assert tsallis_normaliser(np.array([3.0]), 0.5) == pytest.approx(-1.0, abs=1e-12)


def test_tsallis_probabilities_match_hand_computation():
    # L = (0, 2), eta = 2: p_k = 1/(L_k - x)^2; with y = -x solve 1/y^2 + 1/(y+2)^2 = 1
    y = brentq(lambda y: 1 / y**2 + 1 / (y + 2) ** 2 - 1, 0.5, 2.0)
    assert 1.05 < y < 1.06  # by hand: y = 1.05 gives 1.015, y = 1.06 gives 0.996
    p = tsallis_probabilities([0.0, 2.0], eta=2.0)
    np.testing.assert_allclose(p, [1 / y**2, 1 / (y + 2) ** 2], rtol=1e-10)
    assert p.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("L", [
    [0.0, 1e12, 1e15, 3.0],            # huge raw iteration-count estimates
    [1e15, 1e15 + 1.0, 1e15 + 2.0],     # huge common offset: only differences matter
    [0.0, 1e-12, 2e-12],               # nearly equal: nearly uniform, no collapse
    [5e8] * 20,
])
@pytest.mark.parametrize("eta", [2.0, 2 / math.sqrt(1e5), 50.0])
def test_tsallis_normaliser_is_robust(L, eta):
    p = tsallis_probabilities(L, eta)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    L = np.asarray(L)
    assert p[np.argmin(L)] == p.max()
    if np.ptp(L) * eta < 1e-9:  # differences far below the learning rate: uniform
        np.testing.assert_allclose(p, 1 / len(L), rtol=1e-6)


def test_tsallis_update_is_importance_weighted():
    p = bandit.TsallisINF([1.0, 1.5, 1.8], seed=0)
    k = p.select()
    probs = p.p.copy()
    p.update(k, 30.0)
    assert p.L[k] == pytest.approx(30.0 / probs[k])
    assert np.count_nonzero(p.L) == 1


def test_tsallis_survives_all_equal_and_zero_first_costs():
    p = bandit.TsallisINF(list(range(5)), seed=3)
    for _ in range(20):  # every first cost equal to 0: scale must stay defined
        p.update(p.select(), 0.0)
    np.testing.assert_allclose(p.probabilities(), 0.2)
    for _ in range(40):  # then all equal to 1 (a heat step costing one iteration)
        p.update(p.select(), 1.0)
    for _ in range(600):
        k = p.select()
        p.update(k, 1.0 if k == 2 else 4.0)
    assert np.argmax(p.probabilities()) == 2 and p.probabilities()[2] > 0.5


def test_igw_probabilities_hand():
    p = igw_probabilities(np.array([0.0, 1.0, 2.0]), 10.0)
    np.testing.assert_allclose(p, [1 - 1 / 13 - 1 / 23, 1 / 13, 1 / 23])
    np.testing.assert_allclose(igw_probabilities(np.full(4, 3.0), 1e9), 0.25)


def test_igw_select_is_probabilities_then_sampling():
    rng = np.random.default_rng(3)
    for _ in range(50):
        theta, phi = rng.standard_normal((7, 4)), rng.standard_normal(4)
        scale, gamma, u = rng.uniform(0.5, 2), rng.uniform(1, 100), rng.random()
        counts = rng.integers(0, 2, 7)
        p_ref = igw_probabilities(scale * (theta @ phi), gamma)
        k, p, lead, y = igw_select(theta, phi, scale, gamma, u, counts)
        np.testing.assert_allclose(p, p_ref, rtol=1e-12, atol=1e-15)
        assert k == sample_index(p_ref, u) or abs(np.cumsum(p_ref)[k] - u) < 1e-12
        played = np.where(counts > 0, theta @ phi, np.nan)
        if counts.any():
            assert lead == np.nanargmin(played) and y == pytest.approx(np.nanmin(played))
        else:
            assert lead == -1 and np.isnan(y)


def test_squarecb_draws_from_its_stated_distribution():
    p = bandit.ChebCB([1.0, 1.4, 1.8], context_bounds=(0.0, 1.0), seed=5)
    for t in range(30):
        p.update(p.select(0.3), 10.0 + t % 3, context=0.3)
    probs = p.probabilities(0.7)
    draws = np.bincount([p.select(0.7) for _ in range(4000)], minlength=3) / 4000
    np.testing.assert_allclose(p.p, probs, rtol=1e-12)
    np.testing.assert_allclose(draws, probs, atol=0.03)


@pytest.mark.parametrize("cls,kw", [(bandit.ChebCB, {"m": 6}), (bandit.SplineCB, {"m": 9}),
                                    (bandit.ChebLCB, {})])
def test_incremental_fit_equals_batch_fit(cls, kw):
    """Rank-one updates, and the re-expression of the model when contexts outside the
    starting range widen it, give the batch ridge fit of every row with the final range's
    features (exact for polynomial features; hats keep the contexts inside the range)."""
    rng = np.random.default_rng(0)
    p = cls([1.0, 1.5, 1.8], context_bounds=(-1.0, 2.0), ridge=0.3, seed=1, **kw)
    widen = cls is not bandit.SplineCB
    rows = {k: ([], []) for k in range(3)}
    for t in range(400):
        c = rng.uniform(-1.5, 2.5) * (1 + t / 100 if widen else 0.7) + 0.2
        k = p.select(c)
        y = 10 + 40 * (1 + math.sin(3 * c + k)) + rng.normal()
        p.update(k, y, context=c)
        rows[k][0].append(c)
        rows[k][1].append(math.log(y / p.unit + 0.01))
    lo, hi = p.features.context_bounds
    assert (lo < -5 and hi > 10) if widen else (lo, hi) == (-1.0, 2.0)
    Lam = p.ridge * p.features.penalty
    for k, (cs, y) in rows.items():
        X, y = np.array([p.features(c) for c in cs]), np.array(y)
        batch = np.linalg.solve(Lam + X.T @ X, X.T @ y)
        np.testing.assert_allclose(p.theta[k], batch, rtol=1e-6, atol=1e-8)


def test_incremental_fit_equals_lstsq_with_tiny_ridge():
    rng = np.random.default_rng(1)
    p = bandit.ChebCB([1.0], context_bounds=(0.0, 1.0), m=4, ridge=1e-10)
    X, y = [], []
    for _ in range(200):
        c = rng.uniform()
        cost = 5 + 20 * c**2 + rng.uniform()
        p.update(0, cost, context=c)
        X.append(p.features(c))
        y.append(math.log(cost / p.unit + 0.01))
    np.testing.assert_allclose(p.theta[0], np.linalg.lstsq(np.array(X), y, rcond=None)[0],
                               rtol=1e-6, atol=1e-8)


def test_squarecb_censored_cost_never_lowers_the_prediction():
    p = bandit.SquareCB([1.0, 1.5], context_dim=1, degree=0)
    for _ in range(10):
        p.update(0, 100.0, context=[0.0])
    before = p.predict([0.0])[0]
    p.update(0, 5.0, context=[0.0], censored=True)  # "at least 5": no news
    assert p.predict([0.0])[0] == pytest.approx(before)
    p.update(0, 1000.0, context=[0.0], censored=True)  # "at least 1000": raises it
    assert p.predict([0.0])[0] > before


def test_regret_exact_on_hand_built_matrix():
    C = np.array([[10, 20, 30], [30, 10, 20], [20, 30, 10], [10, 10, 50]], dtype=float)
    # column sums 70, 70, 110: best fixed is arm 0 (first of the tie)
    assert bandit.best_fixed_arm(C) == 0
    r = regret(C, [2, 1, 2, 0])
    np.testing.assert_array_equal(r.best_fixed, np.cumsum([30 - 10, 10 - 30, 10 - 20, 10 - 10]))
    np.testing.assert_array_equal(r.instance_optimal, np.cumsum([20, 0, 0, 0]))
    assert r.best_fixed[-1] == (30 + 10 + 10 + 10) - 70
    with pytest.raises(ValueError, match="integer"):
        regret(C, [0.0, 1.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="outside"):
        regret(C, [0, 1, 3, 0])


def test_simulate_censors_at_the_cap():
    C = np.array([[5.0, 50.0], [7.0, 70.0], [9.0, 90.0]])
    p = bandit.FixedArm([1.0, 1.9], arm=1)
    assert simulate(p, C, cap=60.0).tolist() == [1, 1, 1]
    assert p.cost_sums[1] == 50 + 60 + 60
    with pytest.raises(ValueError, match="contexts"):
        simulate(bandit.ChebCB([1.0, 1.9], context_bounds=(0, 1)), C)
    with pytest.raises(ValueError, match="shape"):
        simulate(bandit.FixedArm([1.0, 1.5, 1.9]), C)


def _share_of_best(p, T, cost, contexts, best):
    hits = []
    for t in range(T):
        c = contexts[t]
        k = p.select(c)
        p.update(k, cost(k, c), context=c)
        hits.append(k == best(c))
    return np.mean(hits[-T // 4:])


@pytest.mark.parametrize("name", ["tsallis_inf", "smooth_igw"])
def test_non_contextual_learners_concentrate_on_best_arm(name):
    p = bandit.POLICIES[name](list(np.linspace(1.0, 1.9, 10)), seed=0)
    share = _share_of_best(p, 1500, lambda k, c: 20.0 + 6.0 * (k - 6) ** 2, [None] * 1500,
                           lambda c: 6)
    assert share > 0.8


def test_tsallis_inf_cb_concentrates_on_best_arm_per_bin():
    p = bandit.TsallisINFCB(list(np.linspace(1.0, 1.9, 6)), context_bounds=(0.0, 1.0), seed=0)
    ctx = np.random.default_rng(0).choice([0.05, 0.5, 0.95], size=2000)  # one per bin
    best = {0.05: 0, 0.5: 2, 0.95: 5}
    share = _share_of_best(p, 2000, lambda k, c: 20.0 + 10.0 * (k - best[c]) ** 2, ctx,
                           best.__getitem__)
    assert share > 0.8


@pytest.mark.parametrize("name", ["chebcb", "cheblcb", "splinecb", "squarecb"])
def test_contextual_learners_concentrate_on_best_arm_per_context(name):
    cls = bandit.POLICIES[name]
    arms = np.linspace(1.0, 1.9, 6)
    if name == "squarecb":
        p = cls(list(arms), context_dim=1, degree=2, context_bounds=[(0, 1)], seed=0)
    else:
        p = cls(list(arms), context_bounds=(0.0, 1.0), seed=0)
    ctx = np.random.default_rng(0).uniform(0.0, 1.0, size=3000)

    def cost(k, c):  # smooth in the context; the best ω moves linearly from 1.0 to 1.9
        return 20.0 + 400.0 * (arms[k] - (1.0 + 0.9 * c)) ** 2

    def near_best(c):  # arms within 20 % of the cheapest: the learner must find one of them
        costs = np.array([cost(k, c) for k in range(6)])
        return set(np.flatnonzero(costs <= 1.2 * costs.min()))

    hits = []
    for c in ctx:
        k = p.select(c)
        p.update(k, cost(k, c), context=c)
        hits.append(k in near_best(c))
    assert np.mean(hits[-750:]) > 0.8


@pytest.mark.parametrize("fmap", [bandit.features.Chebyshev((0.0, 2.0), 5),
                                  bandit.features.Hat((0.0, 2.0), 5)])
def test_scalar_features_of_a_repeated_float_are_mapped_once(fmap):
    a = fmap(0.7)
    assert fmap(0.7) is a and not a.flags.writeable  # one round's select/leader/update share it
    b = fmap(1.3)
    assert b is not a and not np.array_equal(a, b)
    np.testing.assert_array_equal(fmap([0.7]), a)  # non-float input: mapped afresh, same values
    assert fmap([0.7]) is not a


@pytest.mark.parametrize("target", ["log", "linear"])
def test_squarecb_leader_cost_is_the_cost_transform_of_its_model_value(target):
    # the leader's cost of one float is _cost's number for it, to the last bit
    from bandit._kernels import played_model_argmin

    rng = np.random.default_rng(4)
    p = bandit.ChebCB([1.0, 1.3, 1.6, 1.9], context_bounds=(0.0, 1.0), target=target, seed=0)
    assert p.leader(0.5)[0] is None  # nothing seen yet
    for t in range(200):
        c = float(rng.uniform(0.0, 1.0))
        k = p.select(c)
        p.update(k, float(rng.uniform(1e-4, 1e-1)) * (k + 1), c, censored=bool(rng.random() < 0.1))
        c2 = float(rng.uniform(0.0, 1.0))
        for ctx in (c, c2):  # the draw's memo, and a context with no draw
            lead, cost = p.leader(ctx)
            if lead is None:
                continue
            k_ref, y = played_model_argmin(p.theta, p.features(ctx), p.converged_counts)
            assert lead == k_ref and cost == float(p._cost(y))


def test_fixed_arm_leader_equals_the_generic_rule_exactly():
    # FixedArm skips the generic route when only its own arm was told a cost; the answer is
    # the generic one, bit for bit, whatever was told (other arms, failures)
    from bandit._base import Policy

    rng = np.random.default_rng(0)
    for _ in range(500):
        K = int(rng.integers(1, 5))
        arm = int(rng.integers(K))
        p = bandit.FixedArm(list(np.linspace(1.0, 1.9, K)), arm=arm)
        k, c = p.leader()
        assert k is None and math.isnan(c)
        for _ in range(int(rng.integers(1, 6))):
            a = arm if rng.random() < 0.7 else int(rng.integers(K))
            p.update(a, float(rng.uniform(0, 100)), converged=bool(rng.random() < 0.8))
            fast, slow = p.leader(), Policy.leader(p)
            assert fast[0] == slow[0]
            assert fast[1] == slow[1] or (np.isnan(fast[1]) and np.isnan(slow[1]))
