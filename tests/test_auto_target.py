"""``JointCB(target="auto")``: the log-cost is modelled only once the context varies."""
import numpy as np
import pytest

import bandit
from bandit import JointCB

ARMS = list(np.linspace(1.0, 1.95, 20))


def _cost(rng, w, c):
    return float(40 + 400 * (w - 1.2 - 0.4 * c) ** 2 + rng.exponential(5))


def test_a_context_that_does_not_vary_is_no_context_for_the_target():
    # a constant context (or one within 2 % of its size) cannot say why one system costs
    # more than another: the learner models the cost itself, bit for bit as target="cost"
    rng = np.random.default_rng(0)
    a, b = JointCB(ARMS, target="auto", explore_radius=1.0), JointCB(ARMS, target="cost",
                                                                   explore_radius=1.0)
    for t in range(60):
        c = 1.7 * (1 + 0.009 * np.sin(t))  # 1.8 % wide: below the 2 % band
        k = a.select(c)
        assert k == b.select(c)
        cost = _cost(rng, a.arms[k], 0.0) * (3.0 if t % 2 == 0 else 1.0)
        a.update(k, cost, c)
        b.update(k, cost, c)
    assert a.models_cost and a.theta.tobytes() == b.theta.tobytes()
    assert len(a.auto_rounds) == 60


def test_a_context_that_comes_to_vary_relearns_every_round_with_the_log_cost():
    # constant for 30 rounds, then varying: the 30 rounds are learnt again by a model of the
    # log-cost, which from then on is target="log" fed the same rounds, bit for bit
    rng = np.random.default_rng(1)
    a = JointCB(ARMS, target="auto", explore_radius=1.0)
    rounds = []
    for t in range(80):
        c = 0.5 if t < 30 else float(rng.uniform(0.2, 1.0))
        k = a.select(c)
        cost = _cost(rng, a.arms[k], c)
        a.update(k, cost, c)
        rounds.append((k, cost, c))
        assert a.models_cost == (t < 30)  # the switch comes with the first other context
    b = JointCB(ARMS, target="log", explore_radius=1.0)
    for i, (k, cost, c) in enumerate(rounds):
        if i == 0:
            b.select(c)
        b.update(k, cost, c)
    assert a.auto_span is None and a.auto_rounds is None
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.P, b.P)
    assert a.sq_err == b.sq_err and a.forgotten == b.forgotten == 0
    assert a.select(0.7) == b.select(0.7)


def test_the_undecided_state_saves_and_loads():
    rng = np.random.default_rng(2)
    a = JointCB(ARMS, target="auto", explore_radius=1.0)
    for _ in range(10):
        k = a.select(2.0)
        a.update(k, _cost(rng, a.arms[k], 0.0), 2.0)
    b = bandit.Policy.from_state_dict(a.state_dict())
    assert b.models_cost and b.auto_rounds.shape == (10, 4)
    for _ in range(20):  # the context now varies: both switch, identically
        c = float(rng.uniform(1.0, 3.0))
        k = a.select(c)
        assert k == b.select(c)
        cost = _cost(rng, a.arms[k], c / 3)
        a.update(k, cost, c)
        b.update(k, cost, c)
    assert not a.models_cost and a.theta.tobytes() == b.theta.tobytes()


def test_a_learner_saved_before_the_rule_keeps_the_log_cost():
    # no auto_span in its state: with a context and rounds learnt, it modelled the log-cost
    rng = np.random.default_rng(3)
    a = JointCB(ARMS, target="auto", explore_radius=1.0)
    for t in range(10):
        c = float(rng.uniform())
        k = a.select(c)
        a.update(k, _cost(rng, a.arms[k], c), c)
    s = a.state_dict()
    del s["state"]["auto_span"], s["state"]["auto_rounds"]
    b = bandit.Policy.from_state_dict(s)
    assert not b.models_cost
    np.testing.assert_array_equal(b.predict(0.3), a.predict(0.3))


@pytest.mark.slow
def test_newton_loop_with_the_automatic_context_pays_near_the_best_fixed_omega():
    # reaction–diffusion Newton steps (64 x 64, 20 time steps, 42 solves) through the default
    # SSOR-PCG Tuner with auto_context="spectral".  The automatic context varies by < 1 % and
    # does not tell a first Newton step from a second; the learner had modelled the log-cost
    # (1.44 x the best fixed ω of the loop's full cost matrix, every ω run on every system);
    # modelling the cost, 1.18 x
    from experiments.user_loops import run_loop

    r = run_loop("newton", "spectral", size=64, steps=20)
    ctx = np.asarray(r["tuner"].history["context"], float)
    assert np.ptp(ctx) < 0.02 * np.abs(ctx).max()
    assert r["tuner"].policy.models_cost
    best = r["C"].sum(axis=0).min()  # the reference: every ω on every recorded system
    assert r["best"] == best
    assert r["paid"] <= 1.25 * best, r["paid"] / best
