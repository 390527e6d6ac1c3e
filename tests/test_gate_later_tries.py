"""A later try of a rival family that has not converged, weighed by the try gate at what the
guard lets it spend (:func:`bandit._joint_first.later_tries`, the third allowance of
:meth:`bandit.armset.ArmSet.gate_spec`).

The guard allows a family's first try the leader's predicted cost and, after a stopped try,
twice that, at most a proven rival's 1.5 × (:meth:`bandit.armset.ArmSet.first_allowance`);
the compiled gate charged every try of such a family the first try's 1.  On a constructed
sequence — plain CG, whose every try is stopped and told its allowance, and a proven AMG
family — every round's choice is checked against the gate's terms recomputed with dense
NumPy and quadrature, each rival charged the allowance the guard would give its try."""
import math

import numpy as np
import pytest

import bandit
from bandit.armset import ArmSet

ARMS = ([{"method": "ssor_pcg", "omega": w} for w in (1.2, 1.4, 1.6, 1.8)]
        + [{"method": "cg"}, {"method": "cg", "pc": "amg"}])
CG, AMG = 4, 5
FAMILY = np.array([0, 0, 0, 0, 1, 2])
STEPS = 400


def _learner(seed, allow):
    p = bandit.default_policy(None, ARMS, seed=seed)
    p.try_gate = True
    p.gate_tries((FAMILY, allow))
    return p


def _leader_cost(x, rng):
    return 1e-3 * (1 + x) * math.exp(0.1 * rng.standard_normal())


def _reference_saving(gap, spread, n=200_001):
    d = np.linspace(gap - 10 * spread, gap + 10 * spread, n)
    f = np.maximum(0.0, 1.0 - np.exp(d)) * np.exp(-0.5 * ((d - gap) / spread) ** 2)
    return float(np.trapezoid(f, d) / (spread * math.sqrt(2 * math.pi)))


def _reference(p, x, later):
    """The gate's choice recomputed (None: keep to the leader's family; no rival drawn: the
    leader's family too), each rival charged 1.5 once its family converged, 1 before its
    first try and ``later`` after it: ``(arm or None, drawn a rival, a tried family's value
    between 1 and 1.5)``."""
    lead = p.leader(x)[0]
    psi = np.asarray(p.features(x))
    sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
    phi = [np.kron(psi, p._X[j]) for j in range(len(ARMS))]
    mu = np.array([f @ p.theta for f in phi])
    w = np.array([f @ p.P @ f for f in phi])
    score = mu - p.beta * sigma * np.sqrt(w)
    drawn = int(np.argmin(score))
    if lead is None or FAMILY[drawn] == FAMILY[lead]:
        return None, False, False
    value, between = {}, False
    for j in np.flatnonzero(FAMILY != FAMILY[lead]):
        members = FAMILY == FAMILY[j]
        proven = p.converged_counts[members].sum() > 0
        tried = p.counts[members].sum() > 0
        gain = _reference_saving(mu[j] - mu[lead], sigma * math.sqrt(w[j] + w[lead])) / w[lead]
        value[int(j)] = gain / (1.5 if proven else later if tried else 1.0)
        between |= bool(tried and not proven and 1.0 <= gain < 1.5)
    best = max(value, key=value.get)
    return (best if value[best] >= 1.0 else None), True, between


def _run(seed, allow, later, check=True):
    """Plain CG 1.6 × the leader, every try stopped at its allowance (told censored at it);
    AMG, proven, 1.3 ×.  Returns (plays, rounds checked, rounds where a tried family's value
    lay between the two charges)."""
    p = _learner(seed, allow)
    rng = np.random.default_rng(seed + 1)
    plays, n, between, cg_tries = [], 0, 0, 0
    for t in range(STEPS):
        x = (t % 10) / 10 + 0.05
        # once every family has had a round (before, a first try's placement and wait are
        # JointCB.first_pick's and first_wait's, tested on their own)
        ready = check and all(p.counts[FAMILY == f].sum() > 0 for f in range(3))
        want, rival, mid = _reference(p, x, later) if ready else (None, False, False)
        k = p.select(x)
        lead = p.leader(x)[0]
        if rival and lead is not None:
            if want is None:
                assert FAMILY[k] == FAMILY[lead], (t, k)
            else:
                assert k == want, (t, k, want)
            n += 1
            between += mid
        base = _leader_cost(x, rng)
        if k == CG:  # stopped at the guard's allowance: the first try's 1, then 2, at most 1.5
            cg_tries += 1
            told = base * min(2.0 ** (cg_tries - 1), 1.5)
            p.update(k, told, x, censored=True, converged=False)
        elif k == AMG:
            p.update(k, 1.3 * base, x)
        else:
            p.update(k, base * math.exp(4 * (ARMS[k]["omega"] - 1.5) ** 2), x)
        plays.append(k)
    return plays, n, between


def test_the_gate_s_third_allowance_is_the_guard_s_later_try():
    a = ArmSet(ARMS, "ssor_pcg")
    fam, allow = a.gate_spec(3.0)
    # the guard's allowance of a second try with the yardstick at the prediction, in units of
    # the leader's predicted cost
    assert allow[2] == a.first_allowance(1.0, 1, 1.5) / 1.0 == 1.5
    a.grow_first_tries = False
    assert a.gate_spec(3.0)[1] == (1.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="two or three allowances"):
        _learner(0, (1.5, 1.0, 1.5, 1.0))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_later_try_is_charged_the_guard_s_grown_allowance(seed):
    plays, n, between = _run(seed, (1.5, 1.0, 1.5), 1.5)
    assert n >= 3


def test_some_round_weighs_a_stopped_family_between_the_two_charges():
    total = 0
    for seed in (1, 2, 3):
        total += _run(seed, (1.5, 1.0, 1.5), 1.5)[2]
    assert total >= 1
