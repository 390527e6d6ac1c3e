"""A rival family's first reading told against the leader's latest readings
(``JointCB.paired_first``, an option, off): its log target lowered by the mean one-step error
of the model on the leader's family's last three readings.

The constructed case: the leader (SSOR-PCG ω = 1.4) read along a sweep of the context at a
cost the context sets, then five steps at 1.7 × that cost (a hard stretch the context does not
show: a time-stepping sequence's warm start), then plain CG's first reading at 0.6 × the
leader's latest.  The told cost is checked against the one-step errors recomputed from the
learner's own predictions before each reading (``predict``), and the learner against a twin
without the option told that cost."""
import copy
import math

import numpy as np

import bandit

ARMS = ([{"method": "ssor_pcg", "omega": w} for w in (1.0, 1.4, 1.8)]
        + [{"method": "cg", "pc": "none"}, {"method": "cg", "pc": "ic0"}])
LEAD, CG, IC = 1, 3, 4
FAMILY = np.array([0, 0, 0, 1, 2])
FLOOR = 1e-2  # the learner's log target: log(cost / unit + 0.01)


def _policy(on):
    p = bandit.default_policy(None, ARMS, seed=0)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    p.paired_first = on
    return p


def _leader_readings():
    xs = np.concatenate((np.linspace(0.0, 1.0, 30), np.linspace(1.0, 0.0, 30),
                         np.linspace(0.0, 0.2, 5)))
    costs = [1e-3 * (1.0 + x) * (1.7 if t >= 60 else 1.0) for t, x in enumerate(xs)]
    return [float(x) for x in xs], costs


def _told_by_hand(p, xs, costs, x_cg, c_cg):
    """Feed ``p`` (option off) the leader's readings, each one-step error from ``predict``
    before it; return the cost the rule tells for CG's first reading."""
    errs = []
    for x, c in zip(xs, costs):
        p.select(x)
        if not math.isnan(p.unit):
            mu = math.log(p.predict(x)[LEAD] / p.unit + FLOOR)
            errs.append(math.log(c / p.unit + FLOOR) - mu)
        p.update(LEAD, c, x)
    e = float(np.mean(errs[-3:]))
    return p.unit * (math.exp(math.log(c_cg / p.unit + FLOOR) - e) - FLOOR), e


def test_first_reading_is_told_against_the_leaders_latest_errors():
    xs, costs = _leader_readings()
    x_cg, c_cg = 0.25, 0.6 * costs[-1]
    on, off = _policy(True), _policy(False)
    for x, c in zip(xs, costs):
        on.select(x)
        on.update(LEAD, c, x)
    want, e = _told_by_hand(off, xs, costs, x_cg, c_cg)
    assert e > 0.3  # the hard stretch: the leader read well above its prediction
    assert np.array_equal(on.theta, off.theta)  # the leader's readings are told as read
    seen = []
    told = bandit.joint._joint_paired.told

    def spy(policy, arm, cost, context, censored):
        out = told(policy, arm, cost, context, censored)
        seen.append(out)
        return out

    bandit.joint._joint_paired.told = spy
    try:
        on.select(x_cg)
        on.update(CG, c_cg, x_cg)
    finally:
        bandit.joint._joint_paired.told = told
    assert math.isclose(seen[0], want, rel_tol=1e-9)
    assert math.isclose(seen[0], c_cg * math.exp(-e), rel_tol=0.05)  # (the floor aside)
    twin = copy.deepcopy(off)
    twin.select(x_cg)
    twin.update(CG, want, x_cg)
    np.testing.assert_allclose(on.theta, twin.theta, rtol=1e-9, atol=1e-12)
    # the pair's gap (0.6 × the leader's latest): with the rule CG is placed well below the
    # leader at the reading's context; told as read, near the leader's smooth prediction
    mu_on = on.predict(x_cg)
    off.select(x_cg)
    off.update(CG, c_cg, x_cg)
    mu_off = off.predict(x_cg)
    assert mu_on[CG] < 0.8 * mu_on[LEAD]
    assert mu_off[CG] > 0.9 * mu_off[LEAD]


def test_later_readings_and_censored_ones_are_told_as_read():
    xs, costs = _leader_readings()
    p = _policy(True)
    for x, c in zip(xs, costs):
        p.select(x)
        p.update(LEAD, c, x)
    tell = bandit.joint._joint_paired.told
    p.select(0.25)
    assert tell(p, IC, 5e-4, 0.25, True) == 5e-4  # censored: a bound, not a reading
    p.select(0.25)
    p.update(CG, 1e-3, 0.25)
    p.select(0.3)
    assert tell(p, CG, 1e-3, 0.3, False) == 1e-3  # the family has a reading: as read
    assert tell(p, LEAD, 2e-3, 0.3, False) == 2e-3  # the leader's own
