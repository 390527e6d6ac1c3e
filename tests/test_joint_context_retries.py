"""A rival family re-tried where its evidence does not reach (JointCB.context_retries,
bandit._joint_retry): on a synthetic sweep where IC(0)-CG wins only at one end of the context
range and is first tried (and stopped) at the other, the rule re-tries it where it wins and
keeps it there; a stopped re-try moves no prediction of the leader's family; a family dear
everywhere stays within the budget."""
import math

import numpy as np
import pytest

import bandit
from bandit import _joint_retry
from bandit.smooth import family_positions

ARMS = bandit.config_grid((1.6, 1.7, 1.8, 1.9), ("none", "ic0", "amg"))
FAMILY = family_positions(ARMS)[0]
IC0 = next(i for i, a in enumerate(ARMS) if a.get("pc") == "ic0")
AMG = next(i for i, a in enumerate(ARMS) if a.get("pc") == "amg")
CG = next(i for i, a in enumerate(ARMS) if a.get("pc") == "none")
SSOR = [i for i, a in enumerate(ARMS) if a["method"] == "ssor_pcg"]


def _contexts(steps=160, per=80, depth=3.0):
    k = np.arange(steps)
    return -0.5 * depth * (1 - np.cos(2 * np.pi * k / per))


def _cost(arm, c, ic0_slope):
    """Costs in ms of two families whose costs cross: SSOR-PCG 4.6 → 7.6 as c goes 0 → −3
    (best ω = 1.8); IC(0)-CG 10.9 at c = 0 times e^(slope c) (slope 0.33: 4.0 at −3, the
    winner below c ≈ −1.5; slope 0: 10.9 everywhere); plain CG 3.5 ×, AMG 5 × SSOR-PCG."""
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


def _run(on, ic0_slope, seed=0, first=6):
    """Play the sweep as a guarded Tuner would: a rival dearer than 1.5 × the leader's true
    cost is stopped there and told censored at that bound; at step ``first`` (context −0.16,
    the dear end) IC(0)-CG is played whatever the draw: its first try, where the study's
    learner made it.  Returns the plays ``(arm, context)`` and the learner."""
    rng = np.random.default_rng(seed)
    pol = bandit.default_policy(None, ARMS, seed=seed)
    pol.gate_tries((FAMILY, np.array([1.5, 1.0])))
    pol.context_retries = on
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
    # the references the tests rest on: IC(0)-CG over twice SSOR-PCG's best at c = 0 and
    # under 0.7 of it at c = −3 (slope 0.33); over 1.4 times it everywhere (slope 0)
    ssor = [min(_cost(j, c, 0.33) for j in SSOR) for c in (0.0, -3.0)]
    assert _cost(IC0, 0.0, 0.33) > 2 * ssor[0] and _cost(IC0, -3.0, 0.33) < 0.7 * ssor[1]
    assert all(_cost(IC0, c, 0.0) > 1.4 * min(_cost(j, c, 0.0) for j in SSOR)
               for c in np.linspace(-3, 0, 7))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_without_the_rule_the_family_stopped_at_its_dear_end_is_never_played_where_it_wins(
        seed):
    plays, _ = _run(False, 0.33, seed)
    assert plays[6][0] == IC0 and plays[6][1] > -0.2  # its first try, at the dear end
    assert _ic0_plays(plays) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_family_is_retried_where_it_wins_and_kept_there(seed):
    plays, pol = _run(True, 0.33, seed)
    # where IC(0)-CG wins (c < −1.6: 62 of the 160 steps, 31 in the second sweep) it is
    # re-tried and then played most of the second sweep's steps there
    second = [(k, c) for k, c in plays[80:]]
    assert _ic0_plays(second) >= 16
    assert max(pol._retry_state["used"]) <= _joint_retry.BUDGET
    # the first sweep is gone by the time the family is tried at the dear end
    assert _ic0_plays(plays[:80]) == 0
    # and it is not kept at the end where it is dear
    assert sum(1 for k, c in plays if k == IC0 and c > -0.5) <= 3


@pytest.mark.parametrize("seed", [0, 1])
def test_a_family_dear_everywhere_costs_at_most_the_budget(seed):
    plays, pol = _run(True, 0.0, seed)  # IC(0)-CG 10.9 ms everywhere, 1.4–2.4 × SSOR-PCG
    plays_off, _ = _run(False, 0.0, seed)
    assert max(pol._retry_state["used"]) <= _joint_retry.BUDGET
    assert _ic0_plays(plays) <= _joint_retry.BUDGET
    for f in set(FAMILY.tolist()) - {FAMILY[SSOR[0]]}:
        mine = sum(1 for k, _ in plays if FAMILY[k] == f)
        theirs = sum(1 for k, _ in plays_off if FAMILY[k] == f)
        assert mine <= theirs + _joint_retry.BUDGET + 1


def test_a_stopped_retry_moves_no_prediction_of_the_leaders_family():
    pol = bandit.default_policy(None, ARMS, seed=0)
    pol.gate_tries((FAMILY, np.array([1.5, 1.0])))
    pol.context_retries = True
    rng = np.random.default_rng(0)
    cs = _contexts()
    for c in cs[:100]:  # SSOR-PCG through the first sweep, IC(0)-CG stopped at the dear end
        c = float(c)
        k = pol.select(c)
        k = IC0 if abs(c) < 0.2 and not pol.counts[IC0] else k
        lead = pol.leader(c)[0]
        cost = _cost(k, c, 0.33) * math.exp(0.03 * rng.standard_normal())
        ref = _cost(lead if lead is not None else SSOR[2], c, 0.33)
        cens = lead is not None and FAMILY[k] != FAMILY[lead] and cost > 1.5 * ref
        pol.update(k, (1.5 * ref if cens else cost) * 1e-3, c, censored=cens,
                   converged=not cens)
    grid = np.linspace(-3.0, 0.0, 13)
    c = -2.5
    k = pol.select(c)
    lead = pol.leader(c)[0]
    assert FAMILY[lead] == FAMILY[SSOR[0]]
    before = np.array([pol.predict(float(x)) for x in grid])
    p_before, t_before, sq_before = pol.P.copy(), pol.t, pol.sq_err
    n_before = int(pol.counts[IC0])
    pol.select(c)
    pol._retry_state["pending"] = IC0  # a re-try of IC(0)-CG here, stopped by the guard
    bound = 3.0 * pol.predict(c)[lead]
    pol.update(IC0, float(bound), c, censored=True, converged=False)
    after = np.array([pol.predict(float(x)) for x in grid])
    # the leader's family predicted as before at every context (to rounding)
    np.testing.assert_allclose(after[:, SSOR], before[:, SSOR], rtol=1e-9)
    # the re-tried arm's prediction here moved up towards its bound, as by one observation
    was = before[int(np.argmin(abs(grid - c))), IC0]
    now = pol.predict(c)[IC0]
    assert was < now < bound
    # the covariance, the round count and the noise scale as they were; the count of plays
    # of the arm one more
    assert np.array_equal(pol.P, p_before) and pol.t == t_before and pol.sq_err == sq_before
    assert pol.counts[IC0] == n_before + 1


def test_off_by_default_and_inert_for_vector_contexts():
    assert bandit.JointCB.context_retries is False
    assert bandit.default_policy(None, ARMS).context_retries is False
    pol = bandit.default_policy(None, ARMS, seed=0)
    pol.context_retries = True
    for c in np.linspace(0, 1, 5):
        k = pol.select(np.array([c, 0.5]))
        pol.update(k, 1e-3 * (1 + k), np.array([c, 0.5]))
    assert "_retry_state" not in pol.__dict__
