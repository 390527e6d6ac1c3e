"""A rival family's first try paid for by the run's spend (``JointCB.first_share``).

The sequence is switch2d's at a small size (backward-Euler heat, 32² cells, the conductivity
switching to a checkerboard for the middle third), solved by the default configuration Tuner
over ``config_grid()`` with the cost in work units (deterministic).  Without the rule the four
rival families' first tries all come in the run's first steps (steps 2–8), each allowed about
one of the leader's predicted solves; with it a first try comes only when the first tries so
far and this one, each charged the leader's predicted cost, are at most ``first_share`` of
the costs told so far — recomputed here from the model's coefficients with dense NumPy — so
they spread over the run, and every family is still tried."""
import math

import numpy as np
import pytest

import bandit
import bandit._joint_first as joint_first
import bandit.joint as joint
from experiments._problems_unseen3 import SwitchHeat2D
from test_joint_first_wait import _fallback, _first_tries  # (the same first tries, fall-back)

STEPS = 60
SHARE = 0.05  # the default's share, written out


def _sequence():
    sim = SwitchHeat2D(32, STEPS)
    return sim, [float(c) for c in sim.contexts()]


def _tuner(share="default"):
    sim, ctx = _sequence()
    policy = bandit.default_policy(None, bandit.config_grid(), seed=0,
                                   context_bounds=(min(ctx), max(ctx)))
    if share != "default":
        policy.first_share = share
    return bandit.Tuner(policy, cost="work")


def _run(tuner, start=0, u=None, steps=STEPS):
    """Steps ``start``… of the sequence; returns (the arm each step explored or played, the
    costs told before it, u)."""
    sim, ctx = _sequence()
    u = np.zeros(sim.n) if u is None else u
    plays, spent = [], []
    for t in range(start, steps):
        spent.append(float(np.sum(tuner.policy.cost_sums)))
        r = tuner.solve(sim.matrix(t), u + sim.dt, x0=u, context=ctx[t])
        u = r.x
        explored = r.info.get("explored")
        plays.append(explored["arm"] if explored else r.arm)
    return plays, spent, u


def _leader_cost(policy, context, lead):
    """The leader's predicted cost at ``context``, from the coefficients: ``μ = ψ(x)ᵀ Θ X_l``
    back in cost units — ``unit · max(μ, 0)`` while the model is of the cost itself (the
    ``target="auto"`` learner before its context varies: switch2d's is constant for its first
    third), ``unit (e^μ − 0.01)`` once it is of the log-cost."""
    psi = np.asarray(policy.features(context), dtype=float)
    theta = np.asarray(policy.theta).reshape(psi.size, -1)
    mu = float(psi @ theta @ np.asarray(policy._X)[lead])
    if policy.models_cost:
        return policy.unit * max(mu, 0.0)
    return policy.unit * (math.exp(mu) - 0.01)


def test_first_tries_are_paid_for_by_the_run_s_spend(monkeypatch):
    seen = []

    def spy(policy, k):
        got = joint_first.first_pick(policy, k)
        family = policy._gate_fams
        if family is None or policy._mu_of is None:
            return got  # no gate (the Tuner's copies it primes the kernels with)
        lead = policy._mu_of[2]
        played = {f for f, c in zip(family, policy.counts) if c > 0}
        if lead is not None and lead >= 0 and family[got] not in played:
            tried = len(played - {family[lead]})
            seen.append((tried, _leader_cost(policy, policy._mu_of[0], lead),
                         float(np.sum(policy.cost_sums))))
        return got

    monkeypatch.setattr(joint, "first_pick", spy)
    tuner = _tuner()
    assert tuner.policy.first_share == SHARE  # on by default
    plays, spent, _ = _run(tuner)
    family = tuner.policy._gate_fams
    firsts = _first_tries(family, plays)
    assert len(firsts) == len(set(family)) - 1  # every rival family is still tried
    assert len(seen) == len(firsts)
    for tried, cost, spend in seen:
        assert (tried + 1) * cost <= SHARE * spend * (1 + 1e-9), (tried, cost, spend)
    assert min(firsts) >= 10  # none in the run's first steps


def test_without_the_rule_the_first_tries_come_at_once():
    plays, spent, _ = _run(_tuner(None))
    family = _tuner(None).policy._gate_fams
    firsts = _first_tries(family, plays)
    assert len(firsts) == 4 and max(firsts) <= 8, firsts
    # the fourth first try took more than the share of the run so far by far
    assert 4 * SHARE * spent[firsts[-1]] < spent[firsts[-1]] / 2


def test_each_held_round_plays_the_gate_s_fall_back(monkeypatch):
    held = []

    def spy(policy, k):
        family = policy._gate_fams
        lead = None if family is None or policy._mu_of is None else policy._mu_of[2]
        paid = lead is None or lead < 0 or joint_first.first_paid(
            policy, family, policy.counts.tolist(), lead)
        got = joint_first.first_pick(policy, k)
        if got != k and not paid and family[got] == family[lead]:
            held.append((k, got, _fallback(policy, family[lead])))
        return got

    monkeypatch.setattr(joint, "first_pick", spy)
    _run(_tuner())
    assert held  # the rule acted
    for k, got, want in held:
        assert got == want, (k, got, want)


def test_a_saved_tuner_holds_as_the_one_saved(tmp_path):
    whole, _, _ = _run(_tuner())
    part = _tuner()
    head, _, u = _run(part, steps=12)  # saved with the first tries held
    part.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    tail, _, _ = _run(loaded, start=12, u=u)
    assert head + tail == whole


def test_the_option_s_config_and_a_state_saved_before_it():
    p = bandit.default_policy(None, bandit.config_grid(), seed=0)
    assert p.first_share == SHARE and p._config()["first_share"] == SHARE
    assert bandit.JointCB.from_state_dict(p.state_dict()).first_share == SHARE
    p.first_share = None
    assert bandit.JointCB.from_state_dict(p.state_dict()).first_share is None
    p.first_share = 0.2
    assert bandit.JointCB.from_state_dict(p.state_dict()).first_share == 0.2
    config = {k: v for k, v in p._config().items() if k != "first_share"}
    assert bandit.JointCB._saved_config(config)["first_share"] is None  # saved before: off
    for bad in (0, -0.1, 1.5, True, "0.1", math.nan):
        with pytest.raises(ValueError, match="first_share must be None or a number"):
            p.first_share = bad
    old = bandit.default_policy(None, bandit.config_grid(), seed=0)
    del old.__dict__["_first_share"]  # as a learner pickled before the option
    assert old.first_share is None


def test_a_saved_tuner_keeps_the_share_it_was_given(tmp_path):
    tuner = _tuner(None)
    _run(tuner, steps=3)
    tuner.save(tmp_path / "t.json")
    assert bandit.Tuner.load(tmp_path / "t.json").policy.first_share is None
