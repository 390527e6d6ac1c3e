"""Known answers for JointCB: the incremental joint fit, the fast widths, learning and sharing."""
import math

import numpy as np
import pytest

import bandit
from bandit._kernels import joint_scores

ARMS = list(np.linspace(1.0, 1.9, 10))


def test_incremental_fit_equals_batch_ridge():
    rng = np.random.default_rng(0)
    p = bandit.JointCB(ARMS, context_bounds=(-1.0, 2.0), m=5, m_omega=6, ridge=0.3)
    X, y = [], []
    for t in range(400):
        c = rng.uniform(-1.5, 2.5) * (1 + t / 100)  # widens the starting range (-1, 2) often
        k = p.select(c)
        cost = 10 + 40 * (1 + math.sin(3 * c + k)) + rng.normal()
        p.update(k, cost, context=c)
        X.append((c, k))
        y.append(math.log(cost / p.unit + 0.01))
    # the model equals the batch fit with the final range's features
    X, y = np.array([p.phi(c, k) for c, k in X]), np.array(y)
    assert p.features.context_bounds[1] > 10
    i, j = np.meshgrid(np.arange(5) + 1.0, np.arange(6) + 1.0, indexing="ij")
    Lam = np.diag(0.3 * (i**2 * j**2).ravel())
    np.testing.assert_allclose(p.theta, np.linalg.solve(Lam + X.T @ X, X.T @ y),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(p.P, np.linalg.inv(Lam + X.T @ X), rtol=1e-6, atol=1e-10)


def test_incremental_fit_equals_lstsq_with_tiny_ridge():
    rng = np.random.default_rng(1)
    p = bandit.JointCB(ARMS[:4], context_bounds=(0.0, 1.0), m=3, m_omega=4, ridge=1e-10)
    X, y = [], []
    for t in range(300):
        c, k = rng.uniform(), t % 4
        cost = 5 + 20 * c**2 + 3 * k + rng.uniform()
        p.update(k, cost, context=c)
        X.append(p.phi(c, k))
        y.append(math.log(cost / p.unit + 0.01))
    np.testing.assert_allclose(p.theta, np.linalg.lstsq(np.array(X), y, rcond=None)[0],
                               rtol=1e-6, atol=1e-8)


def test_joint_scores_equal_per_arm_quadratic_forms():
    rng = np.random.default_rng(2)
    p = bandit.JointCB(ARMS, context_bounds=(0.0, 1.0), m=4, m_omega=5)
    for _ in range(50):
        c = rng.uniform()
        p.update(int(rng.integers(10)), rng.uniform(10, 50), context=c)
    c = 0.3
    F = np.array([p.phi(c, k) for k in range(10)])
    mu, score = np.empty(10), np.empty(10)
    joint_scores(p.theta, p.P, p.features(c), p._X, 0.7, mu, score)
    np.testing.assert_allclose(mu, F @ p.theta, atol=1e-12)
    width = np.sqrt(np.einsum("kd,de,ke->k", F, p.P, F))
    np.testing.assert_allclose(score, F @ p.theta - 0.7 * width, atol=1e-10)


def test_concentrates_on_best_arm_of_smooth_environment():
    p = bandit.JointCB(ARMS, context_bounds=(0.0, 1.0))
    ctx = np.random.default_rng(0).uniform(0.0, 1.0, size=2000)

    def cost(k, c):  # best ω moves linearly from 1.0 to 1.9 with the context
        return 20.0 + 400.0 * (ARMS[k] - (1.0 + 0.9 * c)) ** 2

    hits = []
    for c in ctx:
        k = p.select(c)
        p.update(k, cost(k, c), context=c)
        costs = np.array([cost(j, c) for j in range(len(ARMS))])
        hits.append(costs[k] <= 1.05 * costs.min())
    assert np.mean(hits[-500:]) > 0.9
    assert np.mean(hits[:200]) > 0.5  # shared model: good arms early, not after K separate fits


def test_unplayed_arm_is_predicted_from_its_neighbours():
    p = bandit.JointCB(ARMS, context_bounds=(0.0, 1.0), m=3, m_omega=4)
    rng = np.random.default_rng(3)
    for _ in range(400):
        c, k = rng.uniform(), int(rng.choice([0, 1, 2, 3, 5, 6, 7, 8, 9]))  # never arm 4
        p.update(k, 30.0 + 20.0 * c + 100.0 * (ARMS[k] - 1.4) ** 2, context=c)
    assert p.counts[4] == 0
    truth = 30.0 + 20.0 * 0.5 + 100.0 * (ARMS[4] - 1.4) ** 2
    assert p.predict(0.5)[4] == pytest.approx(truth, rel=0.05)


def test_censored_cost_never_lowers_the_prediction():
    p = bandit.JointCB(ARMS[:3], context_bounds=(0.0, 1.0), m=2, m_omega=2)
    for _ in range(10):
        p.update(0, 100.0, context=0.5)
    before = p.predict(0.5)[0]
    p.update(0, 5.0, context=0.5, censored=True)  # "at least 5": no news
    assert p.predict(0.5)[0] == pytest.approx(before)
    p.update(0, 1000.0, context=0.5, censored=True)  # "at least 1000": raises it
    assert p.predict(0.5)[0] > before


def test_bad_parameters_raise():
    for kw in ({"ridge": 0.0}, {"beta": -1.0}, {"m_omega": 0}, {"exploration": "ucb"},
               {"m": 0}, {"context_bounds": (1.0, 0.0)}):
        with pytest.raises(ValueError):
            bandit.JointCB(ARMS, **{"context_bounds": (0.0, 1.0), **kw})


def test_igw_variant_is_randomised_and_learns():
    p = bandit.JointCB(ARMS, context_bounds=(0.0, 1.0), exploration="igw", gamma=10.0, seed=0)
    assert p.randomised and not bandit.JointCB(ARMS).randomised
    for i in range(1000):
        c = (i * 0.618) % 1.0
        k = p.select(c)
        p.update(k, 20.0 + 400.0 * (ARMS[k] - 1.0 - 0.9 * c) ** 2, context=c)
    for c, best in ((0.1, 1), (0.5, 4.5), (0.9, 8)):  # best ω = 1 + 0.9c on a 0.1 grid
        assert abs(int(np.argmin(p.predict(c))) - best) <= 1
    p.select(0.5)  # the pending IGW distribution is a proper one
    assert p.p.sum() == pytest.approx(1.0) and p.p.min() > 0


def _reference_update(p, arm, cost, psi, censored):
    """JointCB's update written out with ``np.outer``, a matrix product and the Sherman–Morrison
    kernel: the round's arithmetic the policy must reproduce to the last bit."""
    from bandit._kernels import rls_update

    if math.isnan(p.unit):
        if cost <= 0:
            return
        p.unit = cost
    y = math.log(cost / p.unit + 1e-2)
    phi = np.outer(psi, p._X[arm]).ravel()
    pred = float(p.theta @ phi)
    if censored:
        y = max(y, pred)
    p.sq_err += (y - pred) ** 2
    rls_update(p.P, p.theta, phi, y)


@pytest.mark.parametrize("arms", [list(np.linspace(1.0, 1.9, 7)),
                                  bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"])])
def test_update_and_draw_are_bit_identical_to_the_written_out_round(arms):
    # the policy's own round (ufunc outer product, ndarray.argmin) against the reference
    rng = np.random.default_rng(3)
    p = bandit.JointCB(arms, context_bounds=(0.0, 1.0), seed=0)
    ref = bandit.JointCB(arms, context_bounds=(0.0, 1.0), seed=0)
    for t in range(120):
        c = float(rng.uniform(0.0, 1.0))
        k = p.select(c)
        ref._context(c)
        joint_scores(ref.theta, ref.P, ref.features(c), ref._X, ref._bonus(), ref._mu,
                     ref._score)
        assert p._score.tolist() == ref._score.tolist()
        if ref._near is None:
            assert k == int(np.argmin(ref._score))
        assert p.leader(c) == ref.leader(c)
        cost, censored = float(rng.uniform(5.0, 50.0)) * (1 + k), bool(rng.random() < 0.2)
        p.update(k, cost, c, censored=censored)
        _reference_update(ref, k, cost, ref.features(c), censored)
        ref.t += 1
        ref.counts[k] += 1
        ref.converged_counts[k] += not censored
        assert p.P.tobytes() == ref.P.tobytes() and p.theta.tobytes() == ref.theta.tobytes()
        assert p.sq_err == ref.sq_err


def _reference_select(theta, P, psi, X, bonus, cap, near_mask, converged, ratio=False):
    """The lower-confidence-bound draw written out in NumPy (np.maximum, np.argmin)."""
    from bandit._kernels import played_argmin

    K = X.shape[0]
    mu, score = np.empty(K), np.empty(K)
    joint_scores(theta, P, psi, X, bonus, mu, score)
    if cap < math.inf:
        score = np.maximum(score, mu * cap if ratio else mu - cap)
    k = int(np.argmin(score))
    if near_mask.size:
        best = int(np.argmin(mu))
        if not near_mask[best, k]:
            near = np.flatnonzero(near_mask[best])
            k = int(near[np.argmin(score[near])])
    return k, int(played_argmin(mu, converged)), score


@pytest.mark.parametrize("cap", [math.inf, 0.05, 1.0])
@pytest.mark.parametrize("radius", [None, 1, 3])
def test_fused_select_kernel_equals_numpy_argmin_rules(cap, radius):
    from bandit._kernels import joint_select_lcb

    rng = np.random.default_rng(7)
    K, mw, mc = 9, 5, 3
    X = rng.standard_normal((K, mw))
    pos = np.arange(K)
    mask = (np.abs(pos[:, None] - pos[None, :]) <= radius if radius is not None
            else np.zeros((0, 0), dtype=bool))
    for trial in range(300):
        theta = rng.standard_normal(mc * mw)
        L = rng.standard_normal((mc * mw, mc * mw))
        P = L @ L.T / (mc * mw)
        psi = rng.standard_normal(mc)
        if trial % 10 == 0:  # ties: two arms with the same features
            X[3] = X[5]
        if trial % 25 == 0:  # NaN: NumPy's argmin takes the first
            theta[rng.integers(theta.size)] = np.nan
        converged = rng.integers(0, 2, K)
        mu, score = np.empty(K), np.empty(K)
        k, lead = joint_select_lcb(theta, P, psi, X, 0.7, cap, mask, mu, score, converged)
        rk, rlead, rscore = _reference_select(theta, P, psi, X, 0.7, cap, mask, converged)
        assert (k, lead) == (rk, rlead)
        np.testing.assert_array_equal(score, rscore)
        # a model of the cost itself: the optimism capped at a factor (score >= cap * mu)
        k, lead = joint_select_lcb(theta, P, psi, X, 0.7, cap, mask, mu, score, converged, True)
        rk, rlead, rscore = _reference_select(theta, P, psi, X, 0.7, cap, mask, converged, True)
        assert (k, lead) == (rk, rlead)
        np.testing.assert_array_equal(score, rscore)


# --- no context: the model's target is the cost itself (target="auto") ------------------------

W20 = np.round(np.linspace(1.0, 1.95, 20), 10)


def _hardness_sequence(T, seed):
    """Costs of ``T`` independent systems, each with a large multiplicative hardness
    ``F = exp(Z)``, ``Z`` standard normal: like SOR's, an arm's cost scales with it below
    ω = 1.75 (with exponent ``e = (1.75 − ω)/0.3``, capped at 1) and not above.  The expected
    cost ``b·E[F^e] = b·exp(e²/2)`` is least at ω = 1.65 (arm 13); the median cost ``b`` at
    ω = 1.5 (arm 10), where a model of the log-cost settles without a context."""
    rng = np.random.default_rng(seed)
    F = np.exp(rng.standard_normal(T))
    e = np.clip((1.75 - W20) / 0.3, 0, 1)
    b = 100 * (1 + 3 * (W20 - 1.5) ** 2)
    return np.round(b * F[:, None] ** e)


def _play_without_context(C, target):
    p = bandit.default_policy(None)
    if target != "auto":
        cfg = p._config()
        cfg["target"] = target
        p = bandit.JointCB(p.arms, **cfg)
    arms = np.empty(len(C), dtype=int)
    for t in range(len(C)):
        arms[t] = p.select(None)
        p.update(int(arms[t]), float(C[t, arms[t]]))
    return arms, p


def test_without_a_context_the_default_finds_the_arm_of_least_total_cost():
    # the expected costs of the design (an independent check of the docstring's claim)
    e = np.clip((1.75 - W20) / 0.3, 0, 1)
    b = 100 * (1 + 3 * (W20 - 1.5) ** 2)
    assert int(np.argmin(b * np.exp(e**2 / 2))) == 13 and int(np.argmin(b)) == 10
    T, ratios, settled = 300, [], 0
    for seed in range(12):
        C = _hardness_sequence(T, seed)
        arms, p = _play_without_context(C, "auto")
        assert p.models_cost and p.features.context_dim == 0
        ratios.append(C[np.arange(T), arms].sum() / C.sum(axis=0).min())
        # from round 200 on, within two grid steps of the arm of least expected cost
        # (ω = 1.55–1.75) on at least 90 % of the rounds
        settled += np.mean(np.abs(arms[200:] - 13) <= 2) >= 0.9
    # the log-cost target (the learner before) pays 1.263 x the best fixed arm on average,
    # 2.28 x at worst (stuck at ω = 1.05), and settles there in 9 of the 12 sequences
    assert np.mean(ratios) <= 1.10 and max(ratios) <= 1.2, ratios
    assert settled >= 11


def test_target_auto_with_a_context_is_the_log_cost_learner_bit_for_bit():
    # once the context varies (from the second round here) the first round is learnt again
    # by a model of the log-cost, and from then on the learner is target="log" bit for bit
    rng = np.random.default_rng(3)
    kw = dict(context_bounds=(0, 1), explore_radius=1.0)
    a, b = bandit.JointCB(ARMS, target="auto", **kw), bandit.JointCB(ARMS, **kw)
    assert b.target == "log" and not b.models_cost and a.models_cost
    for t in range(200):
        c = rng.uniform()
        k = a.select(c)
        assert k == b.select(c) and a.models_cost == (t == 0)
        cost = 30 + 300 * (a.arms[k] - 1.2 - 0.5 * c) ** 2 + rng.exponential(5)
        a.update(k, cost, context=c)
        b.update(k, cost, context=c)
    assert a.theta.tobytes() == b.theta.tobytes() and a.sq_err == b.sq_err


def test_a_model_of_the_cost_predicts_in_cost_units_and_saves_its_target():
    costs = 200.0 + 40.0 * (np.arange(len(ARMS)) - 6.0) ** 2  # noiseless, least at arm 6
    p = bandit.JointCB(ARMS, target="cost", ridge=1e-6)
    for _ in range(30):
        for k in range(len(ARMS)):
            p.update(k, float(costs[k]))
    # with every arm played often and a negligible ridge, the fit reproduces the costs
    np.testing.assert_allclose(p.predict(None), costs, rtol=1e-3)
    k, cost = p.leader(None)
    assert k == 6 and cost == pytest.approx(200.0, rel=1e-3)
    q = bandit.Policy.from_state_dict(p.state_dict())
    assert q.target == "cost" and q.models_cost
    np.testing.assert_array_equal(q.predict(None), p.predict(None))
    with pytest.raises(ValueError, match="target"):
        bandit.JointCB(ARMS, target="mean")


def test_a_model_of_the_cost_caps_the_optimism_as_a_factor():
    # explore_within = f: the score of a model of the cost is at least μ / f (at most a
    # factor f of optimism), where a model of the log-cost takes μ − log f
    rng = np.random.default_rng(5)
    p = bandit.JointCB(ARMS, target="cost", explore_within=1.5, beta=3.0)
    for t in range(40):
        k = p.select(None)
        mu, score = np.empty(len(ARMS)), np.empty(len(ARMS))
        joint_scores(p.theta, p.P, np.ones(1), p._X, p._bonus(), mu, score)
        np.testing.assert_allclose(p._score, np.maximum(score, mu / 1.5), rtol=1e-14)
        assert k == int(np.argmin(p._score))
        p.update(k, float(100 + 50 * (p.arms[k] - 1.5) ** 2 * rng.lognormal()))


def test_a_model_of_the_cost_shrugs_off_one_wild_clock_reading():
    # seconds on a steady sequence (log-normal noise 0.1 around a curve least at ω = 1.6),
    # one reading 50 times too slow: the clip on the log scale bounds it (unclipped, the
    # mean of the best arm jumps and the learner leaves it for the rest of the run)
    curve = 1e-3 * (1 + 8 * (W20 - 1.6) ** 2)
    for seed in range(5):
        for wild in (20, 100, 300):
            rng = np.random.default_rng(seed)
            p = bandit.default_policy("ssor_pcg")
            arms = []
            for t in range(600):
                k = p.select(None)
                cost = curve[k] * rng.lognormal(0.0, 0.1) * (50.0 if t == wild else 1.0)
                p.update(k, float(cost))
                arms.append(k)
            assert np.mean(np.abs(np.array(arms[-200:]) - 12) <= 1) >= 0.9, (seed, wild)
    assert p.models_cost and p.log_sq_err > 0


def test_a_cost_models_state_round_trips_and_an_older_state_still_loads():
    from bandit._tunerfile import check_policy_state  # what a tuner file's reader runs

    rng = np.random.default_rng(2)
    p = bandit.default_policy("ssor_pcg")
    for _ in range(30):
        k = p.select(None)
        p.update(k, float(50 + 40 * (p.arms[k] - 1.5) ** 2 * rng.lognormal(0, 0.5)))
    state = p.state_dict()
    q = check_policy_state(state)
    assert q.models_cost and q.log_sq_err == p.log_sq_err > 0
    assert q.select(None) == p.select(None)
    # a learner saved before the target existed: no "target" in its settings, no log_sq_err
    old = bandit.JointCB(ARMS, context_bounds=(0, 1))
    for i in range(20):
        c = i / 20
        k = old.select(c)
        old.update(k, 30.0 + 100 * (old.arms[k] - 1.2 - 0.5 * c) ** 2, context=c)
    s = old.state_dict()
    del s["config"]["target"], s["state"]["log_sq_err"]
    r = check_policy_state(s)
    assert r.target == "log" and not r.models_cost
    np.testing.assert_array_equal(r.predict(0.3), old.predict(0.3))


def test_a_context_missing_after_the_first_round_is_named():
    # the learner took a context on its first round: a round without one is refused saying
    # so (the docs allow a learner without a context, but not one switching mid-run)
    import bandit

    p = bandit.default_policy("ssor_pcg")
    p.update(p.select(0.3), 12.0, context=0.3)
    with pytest.raises(ValueError, match="contextual since its first round, which gave a context of 1 number"):
        p.select(None)
    q = bandit.default_policy("ssor_pcg")
    q.update(q.select([0.1, 2.0]), 12.0, context=[0.1, 2.0])
    with pytest.raises(ValueError, match="context of 2 numbers"):
        q.update(0, 3.0)
