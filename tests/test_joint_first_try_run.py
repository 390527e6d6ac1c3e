"""A family never played gets a real first try (``JointCB.first_try_run``, with the try
gate): while no arm of a rival family has been played, its try counts the run's converged
solves as its evidence instead of the leader's evidence at the context alone.  On a
constructed sequence whose context sweeps and never recurs, with the unplayed family
(plain CG) the cheapest, the default gate never tries it and the rule does; the decision
against the gate's terms recomputed with dense NumPy and quadrature."""
import math

import numpy as np
import pytest

import bandit

ARMS = [{"method": "ssor_pcg", "omega": w} for w in (1.2, 1.4, 1.6, 1.8)] + [{"method": "cg"}]
CG = 4
FAMILY = np.array([0, 0, 0, 0, 1])
STEPS = 150


def _learner(first, seed):
    p = bandit.default_policy(None, ARMS, seed=seed)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    p.first_try_run = first
    return p


def _cost(k, x, rng):
    """SSOR-PCG dearer away from ω = 1.4 (its line rises towards CG's place after ω = 1.8),
    plain CG 0.6 × the best ω; 10 % noise."""
    base = 1e-3 * (1 + x) * math.exp(0.1 * rng.standard_normal())
    return base * (0.6 if k == CG else math.exp(4 * (ARMS[k]["omega"] - 1.4) ** 2))


def _run(first, seed, steps=STEPS, watch=None):
    p = _learner(first, seed)
    rng = np.random.default_rng(seed + 1)
    plays = []
    for t in range(steps):
        x = (t + 0.5) / steps  # a sweep: no context recurs
        if watch is not None:
            watch(p, x)
        k = p.select(x)
        p.update(k, _cost(k, x, rng), x)
        plays.append(k)
    return plays


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_gate_never_tries_the_cheapest_unplayed_family_and_the_rule_does(seed):
    assert CG not in _run(False, seed)
    plays = _run(True, seed)
    assert CG in plays
    assert plays.count(CG) > STEPS // 2  # found cheaper, it is then played


def _reference_saving(gap, spread, n=200_001):
    d = np.linspace(gap - 10 * spread, gap + 10 * spread, n)
    f = np.maximum(0.0, 1.0 - np.exp(d)) * np.exp(-0.5 * ((d - gap) / spread) ** 2)
    return float(np.trapezoid(f, d) / (spread * math.sqrt(2 * math.pi)))


def test_the_first_try_pays_by_the_run_s_solves_and_not_by_the_context_s_evidence():
    seen = []

    def watch(p, x):
        lead = p.leader(x)[0]
        if lead is None or p.counts[CG] > 0:
            return
        psi = np.asarray(p.features(x))
        phi_k, phi_l = np.kron(psi, p._X[CG]), np.kron(psi, p._X[lead])
        sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
        qk, ql = phi_k @ p.P @ phi_k, phi_l @ p.P @ phi_l
        saving = _reference_saving((phi_k - phi_l) @ p.theta, sigma * math.sqrt(qk + ql))
        seen.append((saving / ql, saving * p.converged_counts.sum()))

    plays = _run(True, 0, steps=20, watch=watch)
    assert CG in plays
    local, run = seen[-1]  # the terms of the draw that tried it (CG unplayed until then)
    assert local < 1.0 <= run  # the default's evidence would have declined it


def test_one_first_try_per_family_and_bad_input():
    p = _learner(True, 0)
    p.update(0, 1e-3, 0.5)
    p.update(1, 1e-3, 0.5)
    p._first_try_evidence()
    assert list(p._gate_allow) == [1.5, 1.0, 0, 0, 0, 0, 2.0]  # CG: the run's 2 solves
    p.update(CG, 2e-3, 0.5, censored=True)  # a first try stopped by the guard
    p._first_try_evidence()
    assert list(p._gate_allow[2:]) == [0.0] * 5  # weighed as before from now on
    p.first_try_run = False
    assert list(p._gate_allow) == [1.5, 1.0]
    with pytest.raises(ValueError, match="first_try_run must be True or False"):
        p.first_try_run = "yes"
