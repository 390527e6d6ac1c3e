"""A rival family's try where it has no reading, weighed by the solves ahead there
(JointCB.region_tries, bandit._joint_regions): on a synthetic sweep where IC(0)-CG wins only at
the far end of the context range, the rule finds it there in the first sweep, where the try
gate alone (the leader's evidence at a context met for the first time) never tries it; where
IC(0)-CG is dear everywhere the rule costs a few stopped tries."""
import math
import pickle

import numpy as np
import pytest

import bandit
from bandit import _joint_regions
from bandit.smooth import family_positions

ARMS = bandit.config_grid((1.6, 1.7, 1.8, 1.9), ("none", "ic0", "amg"))
FAMILY = family_positions(ARMS)[0]
IC0 = next(i for i, a in enumerate(ARMS) if a.get("pc") == "ic0")
SSOR = [i for i, a in enumerate(ARMS) if a["method"] == "ssor_pcg"]
STEPS, PERIOD = 160, 80


def _contexts():
    k = np.arange(STEPS)
    return -1.5 * (1 - np.cos(2 * np.pi * k / PERIOD))  # 0 → −3 → 0, twice


def _cost(arm, c, ic0_slope):
    """Costs in ms of two families whose costs cross: SSOR-PCG 4.6 → 7.6 as c goes 0 → −3
    (best ω = 1.8); IC(0)-CG 10.9 at c = 0 times e^(slope c) (slope 0.33: 4.0 at −3, the
    winner below c ≈ −1.5; slope 0: 10.9 everywhere); plain CG 3.5 ×, AMG 5 × SSOR-PCG."""
    a = ARMS[arm]
    ssor = 4.6 * math.exp(-0.167 * c)
    if a["method"] == "ssor_pcg":
        return ssor * (1.0 + 4.0 * (a["omega"] - 1.8) ** 2)
    if a["pc"] == "ic0":
        return 10.9 * math.exp(ic0_slope * c)
    return (5.0 if a["pc"] == "amg" else 3.5) * ssor


def _run(on, ic0_slope, seed):
    """Play the sweep as a guarded Tuner would (a rival dearer than 1.5 × the leader's true
    cost stopped there and told censored at that bound).  Returns the plays ``(arm,
    context)``, the total over SSOR-PCG ω = 1.8's and the learner."""
    rng = np.random.default_rng(seed)
    pol = bandit.default_policy(None, ARMS, seed=seed)
    pol.gate_tries((FAMILY, np.array([1.5, 1.0])))
    pol.region_tries = on
    plays, total, ref_total = [], 0.0, 0.0
    for c in _contexts():
        c = float(c)
        k = pol.select(c)
        lead = pol.leader(c)[0]
        cost = _cost(k, c, ic0_slope) * math.exp(0.03 * rng.standard_normal())
        ref = _cost(lead if lead is not None else SSOR[2], c, ic0_slope)
        censored = lead is not None and FAMILY[k] != FAMILY[lead] and cost > 1.5 * ref
        if censored:
            cost = 1.5 * ref
        pol.update(k, cost * 1e-3, c, censored=censored, converged=not censored)
        plays.append((k, c))
        total += cost
        ref_total += _cost(SSOR[2], c, ic0_slope)
    return plays, total / ref_total, pol


def _wins(plays, part=slice(None)):
    """IC(0)-CG's plays where it wins (c < −1.6) among ``plays[part]``."""
    return sum(1 for k, c in plays[part] if k == IC0 and c < -1.6)


def test_synthetic_costs_cross():
    ssor = [min(_cost(j, c, 0.33) for j in SSOR) for c in (0.0, -3.0)]
    assert _cost(IC0, 0.0, 0.33) > 2 * ssor[0] and _cost(IC0, -3.0, 0.33) < 0.7 * ssor[1]
    assert all(_cost(IC0, c, 0.0) > 1.4 * min(_cost(j, c, 0.0) for j in SSOR)
               for c in np.linspace(-3, 0, 7))


def test_the_crossing_family_is_found_in_the_first_sweep():
    first = slice(0, PERIOD)
    off = [_run(False, 0.33, s) for s in range(3)]
    on = [_run(True, 0.33, s) for s in range(3)]
    # the gate alone: never in the first sweep (a context met for the first time has a
    # fraction of a solve's evidence)
    assert all(_wins(p, first) == 0 for p, _, _ in off)
    # with the rule: found and kept there in the first sweep (25 of its 39 steps below −1.6)
    # in at least two of three seeds, and cheaper in total on average
    assert sum(_wins(p, first) >= 15 for p, _, _ in on) >= 2
    assert np.mean([r for _, r, _ in on]) < np.mean([r for _, r, _ in off]) - 0.02


@pytest.mark.parametrize("seed", [0, 1])
def test_a_family_dear_everywhere_costs_a_few_tries(seed):
    plays, ratio, pol = _run(True, 0.0, seed)
    plays_off, ratio_off, _ = _run(False, 0.0, seed)
    rivals = sum(1 for k, _ in plays if FAMILY[k] != FAMILY[SSOR[0]])
    rivals_off = sum(1 for k, _ in plays_off if FAMILY[k] != FAMILY[SSOR[0]])
    # at most one try per rival family and neighbourhood before it has a reading there
    families = int(FAMILY.max())  # the rivals (every family but SSOR-PCG's)
    assert rivals <= rivals_off + families * (1 / _joint_regions.REACH + 1)
    # each stopped at 1.5 × the leader's cost: a few per cent of the run
    assert ratio < ratio_off + 0.03


def test_off_by_default_and_checked():
    pol = bandit.default_policy(None, ARMS)
    assert pol.region_tries is False
    with pytest.raises(ValueError, match="region_tries must be True or False"):
        pol.region_tries = "yes"


def test_pickled_learner_continues_identically():
    _, _, pol = _run(True, 0.33, 1)
    again = pickle.loads(pickle.dumps(pol))
    for c in (-2.5, -1.0, -0.1):
        assert again.select(c) == pol.select(c)


def test_a_vector_context_leaves_the_gate_as_it_was():
    """The rule reads scalar contexts only: with a context of two numbers it never raises
    the gate's evidence, and the plays are the gate's own."""
    def run(on):
        pol = bandit.default_policy(None, ARMS, seed=0)
        pol.gate_tries((FAMILY, np.array([1.5, 1.0])))
        pol.region_tries = on
        out = []
        for c in _contexts()[:60]:
            x = [float(c), 1.0]
            k = pol.select(x)
            pol.update(k, _cost(k, float(c), 0.33) * 1e-3, x)
            out.append(k)
        return out
    assert run(True) == run(False)
