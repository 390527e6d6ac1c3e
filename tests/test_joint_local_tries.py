"""A rival family's evidence is local in context (JointCB.local_tries, bandit._joint_explore):
a family stopped at the end of the context range where it is dear is tried again where the
context has moved far, and adopted there when it wins; a family dear everywhere is re-tried
no more than the budget."""
import math

import numpy as np
import pytest

import bandit
from bandit import _joint_explore
from bandit.smooth import family_positions

ARMS = bandit.config_grid((1.6, 1.7, 1.8, 1.9), ("none", "ic0", "amg"))
FAMILY = family_positions(ARMS)[0]
IC0 = next(i for i, a in enumerate(ARMS) if a.get("pc") == "ic0")


def _contexts(steps=160, per=80, depth=3.0):
    k = np.arange(steps)
    return -0.5 * depth * (1 - np.cos(2 * np.pi * k / per))


def _cost(arm, c, ic0_slope):
    """Costs in ms whose families cross: SSOR-PCG 4.6 → 7.6 as c goes 0 → −3, best at
    ω = 1.8; IC(0)-CG 10.9 at c = 0 times e^(slope c) (slope 0.33: 4.0 at −3, the winner
    below c ≈ −1.5; slope 0: 10.9 everywhere); plain CG 3.5 ×, AMG 5 × SSOR-PCG."""
    a = ARMS[arm]
    ssor = 4.6 * math.exp(-0.167 * c)
    if a["method"] == "ssor_pcg":
        return ssor * (1.0 + 4.0 * (a["omega"] - 1.8) ** 2)
    pc = a["pc"]
    if pc == "ic0":
        return 10.9 * math.exp(ic0_slope * c)
    if pc == "amg":
        return 5.0 * ssor
    return 3.5 * ssor


def _run(local, ic0_slope, seed=0, first=6):
    """Play the sequence as a guarded Tuner would: a rival dearer than 1.5 × the leader's
    true cost is stopped there and told censored at that bound; at step ``first`` (context
    −0.16: the dear end) IC(0)-CG is played whatever the draw, its first try, as the real
    learner's came.  Returns the plays (arm, context) and the learner."""
    rng = np.random.default_rng(seed)
    pol = bandit.default_policy(None, ARMS, seed=seed)
    pol.gate_tries((FAMILY, np.array([1.5, 1.0])))
    pol.local_tries = local
    best = min(range(len(ARMS)), key=lambda j: _cost(j, 0.0, ic0_slope))
    plays = []
    for c in _contexts():
        c = float(c)
        k = pol.select(c)
        if len(plays) == first:
            k = IC0
        lead = pol.leader(c)[0]
        cost = _cost(k, c, ic0_slope) * math.exp(0.03 * rng.standard_normal())
        ref = _cost(lead if lead is not None else best, c, ic0_slope)
        censored = lead is not None and FAMILY[k] != FAMILY[lead] and cost > 1.5 * ref
        if censored:
            cost = 1.5 * ref
        pol.update(k, cost * 1e-3, c, censored=censored, converged=not censored)
        plays.append((k, c))
    return plays, pol


def _ic0_plays(plays, below=-1.6):
    return sum(1 for k, c in plays if k == IC0 and c < below)


def test_synthetic_costs_cross():
    # the reference the tests rest on: IC(0) dearer at c = 0, cheaper at c = -3
    ssor = min(_cost(j, 0.0, 0.33) for j in range(4))
    assert _cost(IC0, 0.0, 0.33) > 2 * ssor
    assert _cost(IC0, -3.0, 0.33) < 0.7 * min(_cost(j, -3.0, 0.33) for j in range(4))


@pytest.mark.parametrize("seed", [0, 1])
def test_family_stopped_at_dear_end_is_never_retried_without_rule(seed):
    plays, _ = _run(False, 0.33, seed)
    assert plays[6][0] == IC0 and plays[6][1] > -0.2  # its first try, at the dear end
    assert _ic0_plays(plays) == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_family_retried_far_and_adopted(seed):
    plays, pol = _run(True, 0.33, seed)
    # tried again where the context moved far, and then played there (adopted)
    assert _ic0_plays(plays) >= 10
    assert all(n <= _joint_explore.LOCAL_BUDGET for n in pol._local_used.values())
    # and not kept at the end where it is dear
    assert sum(1 for k, c in plays if k == IC0 and c > -0.5) <= 3


@pytest.mark.parametrize("seed", [0, 1])
def test_family_dear_everywhere_within_budget(seed):
    plays, pol = _run(True, 0.0, seed)  # IC(0) 10.9 ms everywhere, 1.4–2.4 × SSOR-PCG
    plays_off, _ = _run(False, 0.0, seed)
    used = pol._local_used
    assert all(n <= _joint_explore.LOCAL_BUDGET for n in used.values())
    # plain CG (3.5 ×) and AMG (5 × SSOR-PCG everywhere) are never re-tried
    assert used.get(FAMILY[ARMS.index({"method": "cg", "pc": "amg"})], 0) == 0
    assert used.get(FAMILY[ARMS.index({"method": "cg", "pc": "none"})], 0) == 0
    for f in set(FAMILY[1:]) - {FAMILY[0]}:
        mine = sum(1 for k, _ in plays if FAMILY[k] == f)
        theirs = sum(1 for k, _ in plays_off if FAMILY[k] == f)
        assert mine <= theirs + _joint_explore.LOCAL_BUDGET + 2


def test_off_by_default_and_inert_for_vector_contexts():
    assert bandit.JointCB.local_tries is False
    pol = bandit.default_policy(None, ARMS, seed=0)
    pol.local_tries = True
    for c in np.linspace(0, 1, 5):
        k = pol.select(np.array([c, 0.5]))
        pol.update(k, 1e-3 * (1 + k), np.array([c, 0.5]))
    assert not pol.__dict__.get("_local_used")
