"""An arm without an ω predicted from its own rounds, not from its neighbour on the line
(``JointCB(lone_arms="offset")``).

On the default layout plain CG, listed after SSOR-PCG ω = 1.8, is predicted at about ω =
1.8's cost before it is ever played; with the option it is predicted at the ω arms' mean
log-cost, with its own offset's prior spread (checked against a batch ridge fit assembled
here from the documented features with dense NumPy), and once played it is learnt from its own
rounds: a cheap CG is played on more steps, a dear one on fewer.
"""
import math

import numpy as np
import pytest

import bandit

OMEGAS = (1.2, 1.4, 1.6, 1.8)
ARMS = [{"method": "ssor_pcg", "omega": w} for w in OMEGAS] + [{"method": "cg"}]
CG = 4


def _ssor(w, x):
    """SSOR-PCG's cost: least at ω = 1.4, rising steeply towards ω = 1.8 (CG's neighbour)."""
    return 1e-3 * (1 + x) * math.exp(4 * (w - 1.4) ** 2)


def _cheb(u, n):
    return np.cos(np.arange(n) * np.arccos(np.clip(u, -1.0, 1.0)))


def _reference(rounds, lone):
    """The batch ridge fit ``(λΛ + Σ φφᵀ)⁻¹ Σ φy`` over the documented features: ψ the first
    10 Chebyshev polynomials of the context on [0, 1]; χ the first 5 of the line position
    (ω 1.2 … 1.8 at 0 … 3, CG at 4, mapped by 2x/4 − 1), ``Λ = diag((i + 1)²(j + 1)²)``;
    with ``lone``, the first 4 of the ω arms' position alone (2x/3 − 1), CG's row the ω arms'
    mean row, and an indicator column of CG's, penalised as degree 0 and 4 × in its context
    terms."""
    rows = np.array([_cheb(x / 2.0 - 1.0, 5) for x in range(5)])
    pen_w = (np.arange(5) + 1.0) ** 2
    if lone:
        rows = np.array([_cheb(2.0 * x / 3.0 - 1.0, 4) for x in range(5)])
        rows[CG] = rows[:CG].mean(axis=0)
        rows = np.hstack((rows, np.eye(5)[:, [CG]]))
        pen_w = np.append((np.arange(4) + 1.0) ** 2, 1.0)
    i = np.arange(10) + 1.0
    pen = np.outer(i ** 2, pen_w)
    if lone:
        pen[1:, -1] *= 4.0
    A = np.diag(0.01 * pen.ravel())
    b = np.zeros(A.shape[0])
    unit = rounds[0][2]
    for x, k, cost in rounds:
        phi = np.kron(_cheb(2 * x - 1, 10), rows[k])
        A += np.outer(phi, phi)
        b += phi * math.log(cost / unit + 0.01)
    return rows, np.linalg.solve(A, b), np.linalg.inv(A), unit


def _fitted(lone_arms):
    p = bandit.default_policy(None, ARMS, context_bounds=(0, 1), seed=0, lone_arms=lone_arms)
    rounds = []
    for t in range(60):  # the SSOR-PCG arms only, round robin over a sweep of the context
        x, k = (t + 0.5) / 60, t % 4
        cost = _ssor(OMEGAS[k], x)
        p.update(k, cost, x)
        rounds.append((x, k, cost))
    return p, rounds


@pytest.mark.parametrize("lone", [False, True])
def test_an_unplayed_lone_arm_is_predicted_as_the_batch_ridge_fit_says(lone, monkeypatch):
    monkeypatch.setattr(bandit.joint, "_CLIP", math.inf)  # the fit alone, no Huber clip
    p, rounds = _fitted("offset" if lone else "line")
    assert p.changes == 0
    rows, theta, P, unit = _reference(rounds, lone)
    for x in (0.1, 0.5, 0.9):
        phi = np.kron(_cheb(2 * x - 1, 10), rows[CG])
        want = unit * (math.exp(phi @ theta) - 0.01)
        assert p.predict(x)[CG] == pytest.approx(want, rel=1e-6)
        assert p.phi(x, CG) @ p.P @ p.phi(x, CG) == pytest.approx(phi @ P @ phi, rel=1e-6)
    mu = np.log(p.predict(0.5) / unit + 0.01)
    if lone:  # the ω arms' mean log-cost, as wide as the offset's prior (1/λ = 100)
        assert mu[CG] == pytest.approx(mu[:CG].mean(), abs=1e-9)
        assert p.phi(0.5, CG) @ p.P @ p.phi(0.5, CG) > 100.0
    else:  # the line's curve past ω = 1.8: dearer than all but that ω, 1.4 × the best
        assert mu[CG] > mu[:3].max() and mu[CG] > mu[1] + math.log(1.4)


def test_the_omega_arms_are_learnt_as_by_a_learner_over_them_alone_until_cg_is_played():
    a = bandit.default_policy(None, ARMS[:CG], context_bounds=(0, 1), seed=0)
    for t in range(60):
        x, k = (t + 0.5) / 60, t % 4
        a.update(k, _ssor(OMEGAS[k], x), x)
    b, _ = _fitted("offset")
    for x in (0.1, 0.5, 0.9):  # (the same products; sums of more zeros may round apart)
        assert b.predict(x)[:CG] == pytest.approx(a.predict(x)[:CG], rel=1e-12)
    assert b.sq_err == pytest.approx(a.sq_err, rel=1e-12)


def _plays(lone_arms, cg_factor, seed, steps=150):
    """A sweep of the context (no context recurs), no try gate: the draw's lower confidence
    bound alone; plain CG ``cg_factor`` × the best ω, 10 % noise."""
    p = bandit.default_policy(None, ARMS, seed=seed, lone_arms=lone_arms, try_gate=False)
    rng = np.random.default_rng(seed + 1)
    n = 0
    for t in range(steps):
        x = (t + 0.5) / steps
        k = p.select(x)
        noise = math.exp(0.1 * rng.standard_normal())
        cost = (cg_factor * _ssor(1.4, x) if k == CG else _ssor(OMEGAS[k], x)) * noise
        p.update(k, cost, x)
        n += k == CG
    return n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_lone_arm_is_learnt_from_its_own_rounds(seed):
    # dear: dropped sooner than when tied to the line; cheap: played on most steps still
    assert _plays("offset", 2.0, seed) < _plays("line", 2.0, seed) / 2
    assert _plays("offset", 0.6, seed) > 100


def test_the_first_draw_keeps_to_the_omega_arms_and_bad_input():
    p = bandit.default_policy(None, ARMS, context_bounds=(0, 1), seed=0, lone_arms="offset")
    assert p.select(0.5) != CG  # every prediction 0: the widest would be CG's offset
    assert p.lone_arms == "offset" and p._config()["lone_arms"] == "offset"
    q = bandit.default_policy(None, ARMS, seed=0)
    assert q.lone_arms == "line" and "lone_arms" not in q._config()
    with pytest.raises(ValueError, match="lone_arms"):
        bandit.JointCB(ARMS, lone_arms="own")
    # plain ω arms and the family layouts: nothing to move
    assert bandit.JointCB([1.2, 1.5], lone_arms="offset")._X.shape == (2, 2)
    fam = bandit.JointCB(ARMS, arm_basis="family")._X
    assert np.array_equal(bandit.JointCB(ARMS, arm_basis="family", lone_arms="offset")._X, fam)


def test_a_saved_learner_loads_with_its_layout():
    p, _ = _fitted("offset")
    q = bandit.Policy.from_state_dict(p.state_dict())
    assert q.lone_arms == "offset" and q._X.shape == p._X.shape
    assert np.array_equal(q.predict(0.3), p.predict(0.3))
    line, _ = _fitted("line")
    assert "lone_arms" not in line.state_dict()["config"]  # saved as before the option
    assert bandit.Policy.from_state_dict(line.state_dict()).lone_arms == "line"
