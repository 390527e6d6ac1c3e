"""How the configuration learner explores other families than the predicted best's: a failed
play suspends a rival family's exploration (JointCB)."""
import numpy as np
import pytest

import bandit
import bandit.joint
from bandit import Tuner, config_grid

ARMS = config_grid([1.2, 1.5, 1.8], ["jacobi", "none"])  # SSOR-PCG 0-2, Jacobi-CG 3, CG 4


def _learner(seed=0):
    return bandit.default_policy(None, ARMS, seed=seed)


def test_a_failed_play_suspends_its_family_for_as_many_rounds_as_the_run_had_lasted():
    p = _learner()
    assert p.rival_wait.tolist() == [0] * 5
    for k in (0, 1, 2, 0):
        p.update(k, 10.0 + k, 0.5)
    assert p.rival_wait.tolist() == [0] * 5  # converged plays suspend nothing
    p.update(4, 15.0, 0.5, censored=True, converged=False)  # round t = 4 failed
    assert p.rival_wait.tolist() == [0, 0, 0, 0, 10]  # until round 2 (4 + 1)
    p.update(3, 12.0, 0.5)  # Jacobi-CG converged: not suspended
    p.update(2, 30.0, 0.5, censored=True, converged=False)  # t = 6: SSOR-PCG's family
    assert p.rival_wait.tolist() == [14, 14, 14, 0, 10]
    # a failed play that is reported uncensored (a round's whole cost) suspends too
    p.update(3, 40.0, 0.5, censored=False, converged=False)
    assert p.rival_wait.tolist() == [14, 14, 14, 16, 10]
    with pytest.raises(ValueError):  # a refused update changes nothing
        p.update(9, 1.0, 0.5)
    assert p.rival_wait.tolist() == [14, 14, 14, 16, 10] and p.t == 8


def _draw_with(monkeypatch, p, mu, k_lcb, context=0.5):
    """``p.select`` with the compiled draw replaced: means ``mu``, scores ``mu − 1`` except
    the LCB's pick ``k_lcb``, whose score is the lowest."""
    mu = np.asarray(mu, dtype=float)

    def draw(theta, P, psi, X, bonus, cap, near_mask, mu_out, score_out, converged, raw):
        mu_out[:] = mu
        score_out[:] = mu - 1.0
        score_out[k_lcb] = mu.min() - 5.0
        return k_lcb, int(np.argmin(mu))

    monkeypatch.setattr(bandit.joint, "joint_select_lcb", draw)
    return p.select(context)


def test_a_suspended_rival_is_not_explored_but_the_next_lowest_score_is(monkeypatch):
    p = _learner()
    for k in (0, 1, 2, 1):
        p.update(k, 10.0, 0.5)
    p.update(4, 15.0, 0.5, censored=True, converged=False)  # t = 4: CG until round 10
    mu = [2.0, 1.0, 1.5, 2.2, 1.9]
    # the LCB wants plain CG; it is suspended, so the lowest score of the others: ω = 1.5
    # (the predicted best), its neighbours 1.2 and 1.8 and Jacobi-CG have score μ − 1
    assert _draw_with(monkeypatch, p, mu, 4) == 1
    assert _draw_with(monkeypatch, p, mu, 3) == 3  # Jacobi-CG is not suspended
    # plain CG predicted best: played, suspended or not (the suspension holds rivals only)
    assert _draw_with(monkeypatch, p, [2.0, 1.0, 1.5, 2.2, 0.5], 4) == 4
    for _ in range(5):
        p.update(1, 10.0, 0.5)
    assert p.t == 10 and _draw_with(monkeypatch, p, mu, 4) == 4  # the wait is over
    # a learner without the rule takes the LCB's pick whatever failed
    q = _learner()
    q.rival_wait = None
    q.update(4, 15.0, 0.5, censored=True, converged=False)
    assert _draw_with(monkeypatch, q, mu, 4) == 4


def test_the_suspension_is_saved_with_the_learner(tmp_path):
    p = _learner()
    p.update(0, 10.0, 0.5)
    p.update(3, 15.0, 0.5, censored=True, converged=False)
    t = Tuner(p)
    t.save(tmp_path / "t.json")
    q = Tuner.load(tmp_path / "t.json").policy
    assert q.rival_wait.tolist() == [0, 0, 0, 4, 0]
    state = p.state_dict()
    del state["state"]["rival_wait"]  # a state saved before the rule: nothing suspended
    assert bandit.Policy.from_state_dict(state).rival_wait.tolist() == [0] * 5
    # plain ω arms have no rival family: nothing to keep
    assert bandit.default_policy("ssor_pcg").rival_wait is None
