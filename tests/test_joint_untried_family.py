"""``JointCB(lone_prior="range")``: a family never played (plain CG, IC(0)-CG) predicted from
SSOR-PCG at ω = 1 by the centre of its iteration relation's range, and tried once when the
range's cheap end would pay over the run's solves (``bandit/_joint_untried.py``).

Checked against the ratios computed by hand from the solvers' work model, on constructed
sequences in counted work (a family much cheaper than the learner's line places it is tried
within a bounded number of rounds and then played; one much dearer is tried at most twice,
early),
against the rule's terms recomputed by hand at the round it fires, and through a saved
state."""
import math

import numpy as np
import pytest

import bandit
from bandit._joint_untried import GAMMA_RANGE, range_log_ratios
from solvers import gallery, work_model

ARMS = ([{"method": "ssor_pcg", "omega": w} for w in (1.0, 1.2, 1.4, 1.6, 1.8)]
        + [{"method": "cg"}, {"method": "cg", "pc": "ic0"}, {"method": "amg"}])
FAMILY = np.array([0, 0, 0, 0, 0, 1, 2, 3])
CG, IC0, AMG = 5, 6, 7
W = {"cg": 2.0, "ic0": 3.4, "sgs": 4.0, "amg": 6.0}  # 5-point work per iteration


def _cost(k, x, case, rng):
    """A counted cost ``(1.3 + iterations) · w`` with 5 % noise.  SSOR-PCG: ``k1`` iterations
    at ω = 1, fewer towards its best ω.  ``"cheap"``: few iterations (ω = 1 best, 3–4) and
    plain CG as many as ω = 1 (half its cost), IC(0)-CG 1.5 × ω = 1's; ``"dear"``: many
    (40–60 at ω = 1, 12–27 at the best ω 1.6–1.8), plain CG 2.83 × ω = 1's iterations,
    IC(0)-CG as many as ω = 1's.  AMG: 4 iterations and a set-up of 40 units."""
    if case == "dear":
        k1, best, kb = 40 + 20 * x, 1.6 + 0.2 * x, 12 + 15 * x
        ks = lambda w: kb + (k1 - kb) * ((w - best) / (1.0 - best)) ** 2  # noqa: E731
        its = {CG: math.sqrt(8.0) * k1, IC0: k1}
    else:
        k1 = 3 + x
        ks = lambda w: k1 * (1 + 1.5 * (w - 1.0))  # noqa: E731
        its = {CG: k1, IC0: 1.5 * k1}
    noise = math.exp(0.05 * rng.standard_normal())
    if k == AMG:
        return (40.0 + 5.3 * W["amg"]) * noise
    kind = "cg" if k == CG else "ic0" if k == IC0 else "sgs"
    return (1.3 + its.get(k, ks(ARMS[k].get("omega", 1.0)))) * W[kind] * noise


def _run(lone_prior, case, seed, steps=120):
    p = bandit.default_policy(None, ARMS, seed=seed, lone_prior=lone_prior)
    p.first_pick = False  # the option measured alone
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    rng = np.random.default_rng(seed)
    plays = []
    for t in range(steps):
        x = (t * 0.618) % 1.0  # the contexts sweep and rarely recur
        k = p.select(x)
        p.update(k, _cost(k, x, case, rng), x)
        plays.append(k)
    return p, plays


def test_the_ratios_are_the_work_models_and_the_ranges():
    """By hand for the 5-point Laplacian on a 20 × 20 grid (n = 400, nnz = 5n − 4·20)."""
    A = gallery.laplacian_2d(20)
    r = A.nnz / A.shape[0]
    w = {"cg": work_model("cg", A).per_iteration,
         "ic0": work_model("pcg", A, "ic0").per_iteration,
         "sgs": work_model("ssor_pcg", A).per_iteration}
    centre, low = range_log_ratios(ARMS, r)
    assert math.exp(low[CG]) == pytest.approx(1.0 * w["cg"] / w["sgs"], rel=1e-12)
    assert math.exp(centre[CG]) == pytest.approx(8 ** 0.25 * w["cg"] / w["sgs"], rel=1e-12)
    assert math.exp(low[IC0]) == pytest.approx(w["ic0"] / w["sgs"] / math.sqrt(8), rel=1e-12)
    assert math.exp(centre[IC0]) == pytest.approx(w["ic0"] / w["sgs"], rel=1e-12)
    assert np.isnan(low[AMG]) and np.isnan(centre[:5]).all()
    assert GAMMA_RANGE["cg"] == (1.0, math.sqrt(8.0))
    # the prior's mean is the centre once the learner has read the first system
    p = bandit.default_policy(None, ARMS, seed=0, lone_prior="range")
    p.first_pick = False  # the option measured alone
    p.prime(A, "ssor_pcg")
    assert np.array_equal(p.work_ratio, centre, equal_nan=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_much_cheaper_family_never_played_is_tried_and_then_played(seed):
    _, plays = _run("range", "cheap", seed, steps=80)
    assert CG in plays[:10]  # tried within ten rounds
    assert plays[40:].count(CG) >= 35  # and kept: its own readings decide
    _, default = _run("none", "cheap", seed, steps=80)
    assert default.count(CG) == 0  # on the line (after ω = 1.8): never tried


@pytest.mark.parametrize("seed", [0, 1])
def test_a_much_dearer_family_is_tried_a_bounded_number_of_times(seed):
    _, plays = _run("range", "dear", seed, steps=80)
    assert plays.count(CG) <= 2  # the rule's one try (early, against a leader at ω = 1)
    assert CG not in plays[40:]  # and the gate's at most, none once the leader is known


def test_the_rule_fires_by_its_terms():
    """At the round the rule first plays plain CG, and at every round before it, the terms
    recomputed by hand: the cheap end's saving ``s`` against the leader times the converged
    solves reaches the first try's allowance exactly when the rule plays it."""
    p = bandit.default_policy(None, ARMS, seed=0, lone_prior="range")
    p.first_pick = False  # the option measured alone
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))
    rng = np.random.default_rng(0)
    low = range_log_ratios(ARMS, 5.0)[1]  # (no system read: 5 entries a row)
    fired = False
    for t in range(40):
        x = (t * 0.618) % 1.0
        k = p.select(x)
        lead = p._mu_of[2]
        if lead is not None and lead >= 0 and p.counts[CG] == 0 and k not in (IC0, AMG):
            mu = p._mu
            s = 1.0 - math.exp(mu[0] + low[CG] - mu[lead])
            pays = s * p.converged_counts.sum() >= 1.0 and FAMILY[lead] == 0
            assert (k == CG) == pays or (k == CG and FAMILY[lead] != 0)
            fired |= k == CG
        p.update(k, _cost(k, x, "cheap", rng), x)
    assert fired


def test_saved_state_and_refusals():
    p, _ = _run("range", "cheap", 0, steps=30)
    p.prime(gallery.laplacian_2d(12), "ssor_pcg")  # (after rounds: changes nothing)
    q = bandit.JointCB.from_state_dict(p.state_dict())
    assert q.lone_prior == "range"
    assert np.array_equal(q.predict(0.3), p.predict(0.3))
    # a state of a matrix of other rows: its own means, and its cheap ends with them
    r = bandit.default_policy(None, ARMS, seed=0, lone_prior="range")
    r.first_pick = False  # the option measured alone
    r.prime(gallery.random_spd(60, density=0.15, seed=0), "ssor_pcg")
    back = bandit.JointCB.from_state_dict(r.state_dict())
    A = gallery.random_spd(60, density=0.15, seed=0)
    assert np.array_equal(back.work_ratio, range_log_ratios(ARMS, A.nnz / A.shape[0])[0],
                          equal_nan=True)
    assert np.allclose((back.work_ratio + back._untried_drop)[[CG, IC0]],
                       range_log_ratios(ARMS, A.nnz / A.shape[0])[1][[CG, IC0]], rtol=1e-12)
    with pytest.raises(ValueError, match="lone_prior"):
        bandit.JointCB([1.0, 1.5], lone_prior="range")  # plain ω arms
    with pytest.raises(ValueError, match="omega = 1.0"):
        bandit.default_policy(None, ARMS[1:], lone_prior="range")  # no ω = 1
    with pytest.raises(ValueError, match="arm_basis"):
        bandit.default_policy(None, ARMS, lone_prior="range", arm_basis="line")
