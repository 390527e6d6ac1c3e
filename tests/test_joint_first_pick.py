"""A rival's first try goes by the regime (``JointCB.first_pick``): where the leader's cost is
at the top of its range over the contexts seen, to a never-played family of a stronger
preconditioner, at the bottom to a weaker one, the least predicted cost among them.

The constructed sequence has aniso2d's shape: a sweep of the context 1 → 0 → 1, twice, the
leader (SSOR-PCG) dearer as the context falls, IC(0)-CG at 0.55 × the leader's cost at 0 and
2.2 × at 1, plain CG 3 × and AMG with a kept set-up 2.5 × everywhere.  The gate lets a first
try through at the trough, where the leader's evidence builds up; without the rule it goes
to AMG (the widest prior, at the line's end) and IC(0)-CG is not played where it wins, with
it IC(0)-CG is tried there and kept.  Every first try the rule decides is checked against
the rule recomputed with NumPy's Chebyshev basis and dense products."""
import math

import numpy as np
import pytest

import bandit
import bandit.joint
from bandit import _joint_first

ARMS = ([{"method": "ssor_pcg", "omega": w} for w in (1.0, 1.2, 1.4, 1.6, 1.8)]
        + [{"method": "cg", "pc": "none"}, {"method": "cg", "pc": "ic0"},
           {"method": "cg", "pc": "amg", "reuse": 20}])
CG, IC, AMG = 5, 6, 7
FAMILY = np.array([0, 0, 0, 0, 0, 1, 2, 3])
STRENGTH = [2, 2, 2, 2, 2, 0, 3, 4]  # SSOR 2, plain CG 0, IC(0) 3, AMG 4


def _contexts():
    down, up = np.linspace(1.0, 0.0, 40), np.linspace(0.0, 1.0, 40)
    return [float(x) for x in np.concatenate((down, np.zeros(5), up))] * 2


def _cost(k, x, rng):
    base = 1e-3 * (1.5 - 0.5 * x) * math.exp(0.05 * rng.standard_normal())
    if k == CG:
        return 3.0 * base
    if k == AMG:
        return 2.5 * base
    if k == IC:
        return base * 0.55 * 4.0 ** x
    return base * math.exp(3 * (ARMS[k]["omega"] - 1.6) ** 2)


def _run(on, seed):
    p = bandit.default_policy(None, ARMS, seed=seed)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    p.first_pick = on
    rng = np.random.default_rng(seed + 1)
    xs = _contexts()
    plays = []
    for x in xs:
        k = p.select(x)
        p.update(k, _cost(k, x, rng), x)
        plays.append(k)
    return xs, plays


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_ic0_is_tried_and_kept_where_it_wins_only_with_the_rule(seed):
    xs, plays = _run(False, seed)
    assert sum(k == IC and x < 0.4 for x, k in zip(xs, plays)) == 0
    first = next(t for t, k in enumerate(plays) if FAMILY[k] > 0)
    assert plays[first] == AMG and xs[first] < 0.1  # the trough's first try goes to AMG
    xs, plays = _run(True, seed)
    first = next(t for t, k in enumerate(plays) if FAMILY[k] > 0)
    assert plays[first] == IC and xs[first] < 0.1
    # of the 2 × 35 steps below 0.4 (where it saves 30-45 %), IC(0)-CG plays most
    assert sum(k == IC and x < 0.4 for x, k in zip(xs, plays)) >= 45
    assert sum(k == IC and x > 0.6 for x, k in zip(xs, plays)) <= 2


def _reference_pick(p, k, x, seen):
    """The rule recomputed: Chebyshev features by NumPy, every prediction a dense product."""
    lo, hi = float(p.features.range.lo[0]), float(p.features.range.hi[0])
    mw = p._X.shape[1]
    theta = p.theta.reshape(-1, mw)

    def mu(c):
        u = min(max(2 * (c - lo) / (hi - lo) - 1, -1.0), 1.0) if hi > lo else 0.0
        psi = np.polynomial.chebyshev.chebvander(np.array([u]), theta.shape[0] - 1)[0]
        return p._X @ (psi @ theta)

    if not p.converged_counts.any():
        return k, None  # no leader yet: nothing to weigh a rival against
    here = mu(x)
    played = {FAMILY[j] for j in range(len(ARMS)) if p.counts[j] > 0}
    lead = min((j for j in range(len(ARMS)) if p.converged_counts[j] > 0), key=lambda j: here[j])
    if FAMILY[k] == FAMILY[lead] or FAMILY[k] in played:
        return k, None
    own = np.flatnonzero(FAMILY == FAMILY[lead])
    curve = [mu(c)[own].min() for c in np.linspace(seen[0], seen[1], 9)] + [here[own].min()]
    q = (curve[-1] - min(curve)) / (max(curve) - min(curve))
    cands = [j for j in range(len(ARMS)) if FAMILY[j] not in played]
    side = [j for j in cands if (STRENGTH[j] > STRENGTH[lead] if q > 0.5
                                 else STRENGTH[j] < STRENGTH[lead])]
    cands = side or cands
    best = k if k in cands else cands[0]
    for j in cands:
        if here[j] < here[best]:
            best = j
    return best, q


def test_each_first_try_is_the_rule_recomputed(monkeypatch):
    calls = []
    rule = _joint_first.first_pick

    def spy(p, k):
        x = p._mu_of[0]
        seen = list(p.__dict__.get("_first_seen") or (x, x))
        seen = [min(seen[0], x), max(seen[1], x)]
        want, q = _reference_pick(p, k, x, seen)
        got = rule(p, k)
        calls.append((k, got, want, q))
        return got

    monkeypatch.setattr(bandit.joint, "first_pick", spy)
    for seed in (0, 4):
        _run(True, seed)
    tries = [c for c in calls if c[3] is not None]
    assert tries, "no first try was decided"
    for k, got, want, q in tries:
        assert got == want, (k, got, want, q)
    assert any(got != k for k, got, _, _ in tries)  # the rule changed the draw's arm
    assert all(got == k for k, got, _, q in calls if q is None)


def test_strength_ranks_the_default_and_a_state_saved_before_the_option():
    assert [_joint_first.arm_strength(a) for a in ARMS] == STRENGTH
    assert _joint_first.arm_strength({"method": "cg", "pc": "jacobi"}) == 1
    assert _joint_first.arm_strength({"method": "cg", "pc": "mine"}) is None
    assert _joint_first.arm_strength(1.3) == 2
    p = bandit.default_policy(None, ARMS, seed=0)
    assert p.first_pick is True and p._config()["first_pick"] is True
    config = {k: v for k, v in p._config().items() if k != "first_pick"}
    assert bandit.JointCB._saved_config(config)["first_pick"] is False
    with pytest.raises(ValueError, match="first_pick must be True or False"):
        p.first_pick = "yes"


def test_the_families_as_a_list_follow_the_gate_and_pick_as_the_array():
    # first_pick reads the gate's families as Python ints (JointCB._gate_fams, kept by
    # gate_tries): the same values as the array, gone with the gate, and a learner without
    # the list (pickled before it) reads the array and plays the same arms
    p = bandit.default_policy(None, ARMS, seed=0)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))
    assert p._gate_fams == FAMILY.tolist() and all(type(f) is int for f in p._gate_fams)
    p.gate_tries(None)
    assert "_gate_fams" not in vars(p) and p._gate_family.size == 0
    xs, plays = _run(True, 1)
    old = []
    p = bandit.default_policy(None, ARMS, seed=1)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))
    p.first_pick = True
    del p.__dict__["_gate_fams"]  # as a learner pickled before the list was kept
    rng = np.random.default_rng(2)
    for x in xs:
        k = p.select(x)
        p.update(k, _cost(k, x, rng), x)
        old.append(k)
    assert old == plays and len(set(plays) & {CG, IC, AMG}) >= 1
