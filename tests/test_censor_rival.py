"""JointCB's optional rule for a censored cost of a rival family (``impute_rivals``): the target
against the truncated normal's mean, fewer re-tries of a rival stopped at the leader's cost, and
nothing changed where no rival is censored."""
import math

import numpy as np
import pytest

import bandit

ARMS = bandit.config_grid([1.0, 1.3, 1.6], ["jacobi", "ic0"])  # 3 SSOR-PCG ω, then 2 rivals


def _rival_retries(rule, seed, rounds=300):
    """A configuration learner whose CG arms (twice the SSOR-PCG cost) are told, as the guard
    tells a stopped rival, a censored cost at the leader's predicted cost whenever they are
    drawn while an SSOR-PCG arm leads: how many times that happens."""
    p = bandit.default_policy(None, ARMS, context_bounds=(0.0, 2.0), seed=seed)
    p.impute_rivals = rule
    rng = np.random.default_rng(seed)
    tries = 0
    for _ in range(rounds):
        c = float(rng.uniform(0.0, 2.0))
        k = p.select(c)
        best, pred = p.leader(c)
        if k >= 3 and best is not None and best < 3:
            tries += 1
            p.update(k, float(pred), c, censored=True)
        else:
            cost = (1 + c) * (1 + 0.3 * abs(k - 1 - 0.5 * c)) * (2.0 if k >= 3 else 1.0)
            p.update(k, float(cost), c)
    return tries


def test_a_rival_stopped_at_the_leaders_cost_is_retried_less():
    """Fed as max(bound, prediction), a rival stopped at par looks exactly as dear as the
    leader and is drawn again at new contexts (23, 18, 47, 43 times in 300 rounds); moved on
    to its expectation given the bound, 2-3 times."""
    on = [_rival_retries(True, s) for s in range(4)]
    off = [_rival_retries(False, s) for s in range(4)]
    assert max(on) <= 5 and sum(off) >= 4 * sum(on), (on, off)
    assert all(a < b for a, b in zip(on, off)), (on, off)


def _trained(seed=0, rounds=40):
    p = bandit.default_policy(None, ARMS, context_bounds=(0.0, 2.0), seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        c = float(rng.uniform(0.0, 2.0))
        k = p.select(c)
        p.update(k, (1 + c) * (1 + 0.3 * abs(k - 1.0)) * (1.5 if k >= 3 else 1.0), c)
    return p


@pytest.mark.parametrize("a", [-30.0, -2.0, -0.4, 0.0, 0.9, 2.5, 8.0])
def test_rival_target_is_the_mean_of_the_prediction_truncated_at_the_bound(a):
    """_rival_target against scipy's mean of N(μ, s²) truncated below at the bound
    (s = σ̂ sqrt(1 + φᵀPφ)), both it and max(bound, μ) within the clip μ + 3 s."""
    from scipy.stats import truncnorm

    p = _trained()
    psi = p.features(0.35)
    phi = np.outer(psi, p._X[4]).ravel()
    mu = float(p.theta @ phi)
    s = p._scale() * math.sqrt(1.0 + float(phi @ p.P @ phi))
    target, fed = p._rival_target(4, mu + a * s, psi, p._scale())  # (fed: the rule-off target)
    want = float(truncnorm.mean(a, np.inf, loc=mu, scale=s))
    assert target == pytest.approx(min(want, mu + 3 * s), rel=1e-9, abs=1e-9 * s)
    assert fed == pytest.approx(min(max(mu + a * s, mu), mu + 3 * s), rel=1e-12, abs=1e-12 * s)
    assert target >= fed


def test_the_shift_moves_the_rival_and_no_arm_of_the_leaders_family_anywhere():
    """One censored rival round from the same state, rule on and off: the same P and σ̂, the
    rival's prediction higher but not above the imputed target, every SSOR-PCG arm's
    prediction the same at every context."""
    on, off = _trained(), _trained()
    on.impute_rivals = True
    c = 1.3
    k = on.select(c)
    assert off.select(c) == k
    best, pred = on.leader(c)
    assert best is not None and best < 3
    rival = 4
    target = on._rival_target(rival, math.log(pred / on.unit + 1e-2), on.features(c),
                              on._scale())[0]
    on.update(rival, float(pred), c, censored=True)
    off.update(rival, float(pred), c, censored=True)
    assert on.P.tobytes() == off.P.tobytes() and on.sq_err == off.sq_err
    moved = on.theta - off.theta
    assert np.abs(moved).max() > 1e-6
    for x in np.linspace(0.0, 2.0, 9):
        for j in range(3):
            assert abs(on.phi(x, j) @ moved) < 1e-12 * (1 + np.abs(on.theta).max())
    assert on.phi(c, rival) @ moved > 1e-6
    assert on.phi(c, rival) @ on.theta < target


def _run(arms, rule, censor, seed=1, rounds=150):
    p = bandit.default_policy(None if isinstance(arms[0], dict) else "ssor_pcg", arms,
                              context_bounds=(0.0, 2.0), seed=seed)
    p.impute_rivals = rule
    rng = np.random.default_rng(seed)
    for t in range(rounds):
        c = float(rng.uniform(0.0, 2.0))
        k = p.select(c)
        cost = (1 + c) * (1 + 0.3 * abs(k - 1.0)) * (1.5 if k >= 3 else 1.0)
        p.update(k, float(cost), c, censored=bool(censor(t, k)))
    return p


@pytest.mark.parametrize("arms, censor", [
    (ARMS, lambda t, k: False),  # configuration arms, nothing censored
    (ARMS, lambda t, k: t % 5 == 0 and k < 3),  # censored: SSOR-PCG ω only, the leader's family
    (list(np.linspace(1.0, 1.9, 7)), lambda t, k: t % 4 == 0),  # ω arms: one family
])
def test_the_rule_changes_nothing_where_no_rival_is_censored(arms, censor):
    on, off = _run(arms, True, censor), _run(arms, False, censor)
    assert on.theta.tobytes() == off.theta.tobytes() and on.P.tobytes() == off.P.tobytes()
    assert on.sq_err == off.sq_err and on.counts.tolist() == off.counts.tolist()


def test_the_rule_changes_the_fit_once_a_rival_is_censored():
    # the same sequence, the rivals' costs censored: the fits part (the test above can fail)
    on = _run(ARMS, True, lambda t, k: k >= 3)
    off = _run(ARMS, False, lambda t, k: k >= 3)
    assert on.theta.tobytes() != off.theta.tobytes()
