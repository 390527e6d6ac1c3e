"""A rival family's first try waits for the leader's family to be read at two arms
(``JointCB.first_wait``).

The sequence is switch2d's at a small size (backward-Euler heat, 32² cells, the conductivity
switching to a checkerboard at step 12), solved by the default configuration Tuner over
``config_grid()`` with the cost in work units (deterministic).  Its first solve is from zero,
at the learner's first pick SSOR-PCG ω = 1.0: the leader's predicted cost is that cold solve's,
and without the rule the gate lets AMG's first try through at step 1, with SSOR-PCG read at
that one ω.  With it no family's first try comes before SSOR-PCG is read at two ω, and each
round the rule keeps to the leader's family plays the gate's own fall-back, recomputed here
with dense NumPy (the least score among the family next to its predicted best)."""
import numpy as np
import pytest

import bandit
import bandit._joint_first as joint_first
import bandit.joint as joint
from experiments._problems_unseen3 import SwitchHeat2D

STEPS = 24


def _sequence():
    sim = SwitchHeat2D(32, STEPS)
    return sim, [float(c) for c in sim.contexts()]


def _tuner(wait=None):
    sim, ctx = _sequence()
    policy = bandit.default_policy(None, bandit.config_grid(), seed=0,
                                   context_bounds=(min(ctx), max(ctx)))
    if wait is not None:
        policy.first_wait = wait
    return bandit.Tuner(policy, cost="work")


def _run(tuner, start=0, u=None, steps=STEPS):
    """Steps ``start``… of the sequence; returns (the arm each step explored or played, the
    SSOR-PCG ω arms read before it, u)."""
    sim, ctx = _sequence()
    u = np.zeros(sim.n) if u is None else u
    family = tuner.policy._gate_fams
    plays, read = [], []
    for t in range(start, steps):
        read.append(sum(1 for f, c in zip(family, tuner.policy.converged_counts) if f == 0 and c))
        r = tuner.solve(sim.matrix(t), u + sim.dt, x0=u, context=ctx[t])
        u = r.x
        explored = r.info.get("explored")
        plays.append(explored["arm"] if explored else r.arm)
    return plays, read, u


def _first_tries(family, plays):
    seen, firsts = set(), []
    for t, k in enumerate(plays):
        if family[k] not in seen:
            seen.add(family[k])
            firsts.append(t)
    return firsts[1:]  # the leader's family's first step is the run's first


def test_no_first_try_before_the_leader_family_is_read_at_two_arms():
    tuner = _tuner()  # the default learner
    plays, read, _ = _run(tuner)
    family = tuner.policy._gate_fams
    assert family[0] == 0 and family.count(0) >= 2
    firsts = _first_tries(family, plays)
    assert len(firsts) >= 3  # rivals are still tried
    assert all(read[t] >= 2 for t in firsts), (firsts, read)
    assert tuner.policy.first_wait is True  # on by default
    tuner = _tuner(False)
    plays, read, _ = _run(tuner)
    # without the rule a first try comes with SSOR-PCG read at one ω (AMG's, at step 1)
    assert [t for t in _first_tries(family, plays) if read[t] < 2] == [1]


def _fallback(policy, own):
    """The gate's fall-back recomputed densely: the family's predicted best ``b``, then the
    least score among the family's arms that the exploration radius allows next to ``b``."""
    family = np.array(policy._gate_fams)
    arms = np.flatnonzero(family == own)
    mu, score, near = policy._mu, policy._score, policy._near_mask
    if near.size:
        b = arms[np.argmin(mu[arms])]
        arms = arms[near[b, arms]]
    return int(arms[np.argmin(score[arms])])


def test_each_waiting_round_plays_the_gate_s_fall_back(monkeypatch):
    waited = []

    def spy(policy, k):
        got = joint_first.first_pick(policy, k)
        family = policy._gate_fams
        lead = policy._mu_of[2]
        if got != k and lead is not None and lead >= 0 and family[got] == family[lead]:
            waited.append((k, got, _fallback(policy, family[lead])))
        return got

    monkeypatch.setattr(joint, "first_pick", spy)
    _run(_tuner())
    assert waited  # the rule acted
    for k, got, want in waited:
        assert got == want, (k, got, want)


def test_a_saved_tuner_waits_as_the_one_saved(tmp_path):
    whole, _, _ = _run(_tuner())
    part = _tuner()
    head, _, u = _run(part, steps=1)  # saved with SSOR-PCG read at one ω: the rule pending
    part.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    assert loaded.policy.first_wait is True
    tail, _, _ = _run(loaded, start=1, u=u)
    assert head + tail == whole


def test_the_option_s_config_and_a_state_saved_before_it():
    p = bandit.default_policy(None, bandit.config_grid(), seed=0)
    assert p.first_wait is True and p._config()["first_wait"] is True
    q = bandit.JointCB.from_state_dict(p.state_dict())
    assert q.first_wait is True
    p.first_wait = False
    assert bandit.JointCB.from_state_dict(p.state_dict()).first_wait is False
    config = {k: v for k, v in p._config().items() if k != "first_wait"}
    assert bandit.JointCB._saved_config(config)["first_wait"] is False
    with pytest.raises(ValueError, match="first_wait must be True or False"):
        p.first_wait = 1
    old = bandit.default_policy(None, bandit.config_grid(), seed=0)
    del old.__dict__["_first_wait"]  # as a learner pickled before the option
    assert old.first_wait is False
