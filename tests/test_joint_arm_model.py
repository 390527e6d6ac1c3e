"""Each arm's blocks of the joint model (``M_k = (I⊗χ_k)ᵀ P (I⊗χ_k)``, ``t_k = (I⊗χ_k)ᵀ θ``),
which :class:`bandit.JointCB`'s one-call draw reads instead of ``P``: kept by the update through
every kind of round (censored, clipped, detected changes, the prior's refreshes), they stay the
dense projection of ``P`` and ``θ`` to float tolerance, and the draw's means and widths are the
dense ``φ_kᵀθ`` and ``φ_kᵀPφ_k``.  (``JointCB.arm_blocks``, off by default: switched on here.)"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import bandit
from bandit._kernels import joint_arm_model, joint_observe, joint_scores
from experiments.precond_study import default_grid


@pytest.fixture(autouse=True)
def _blocks_on(monkeypatch):
    monkeypatch.setattr(bandit.JointCB, "arm_blocks", True)


def _dense(P, theta, X, mc):
    K, mw = X.shape
    M = np.empty((K, mc, mc))
    t = np.empty((K, mc))
    for k in range(K):
        E = np.kron(np.eye(mc), X[k][:, None])  # (I ⊗ χ_k): d × mc
        M[k] = E.T @ P @ E
        t[k] = E.T @ theta
    return M, t


def test_kernel_update_matches_dense():
    rng = np.random.default_rng(0)
    mc, mw, K = 4, 7, 9
    d = mc * mw
    X = rng.normal(size=(K, mw))
    A = rng.normal(size=(d, d))
    P = np.linalg.inv(A @ A.T + d * np.eye(d))
    theta = rng.normal(size=d)
    Mk, tk = np.empty((K, mc, mc)), np.empty((K, mc))
    joint_arm_model(P, theta, X, mc, Mk, tk)
    M0, t0 = _dense(P, theta, X, mc)
    np.testing.assert_allclose(Mk, M0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tk, t0, rtol=1e-12, atol=1e-14)
    info = np.zeros(2)
    for r in range(300):
        psi = rng.normal(size=mc)
        arm = int(rng.integers(K))
        y = float(rng.normal() * (30.0 if r % 17 == 0 else 1.0))  # some clipped
        joint_observe(P, theta, psi, X, arm, y, bool(r % 5 == 0), 2.0, info, Mk, tk)
    M0, t0 = _dense(P, theta, X, mc)
    np.testing.assert_allclose(Mk, M0, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tk, t0, rtol=1e-9, atol=1e-12)
    psi = rng.normal(size=mc)
    mu, sc, mu2, sc2 = (np.empty(K) for _ in range(4))
    joint_scores(theta, P, psi, X, 0.7, mu, sc)
    joint_scores(theta, P, psi, X, 0.7, mu2, sc2, Mk, tk)
    np.testing.assert_allclose(mu2, mu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sc2, sc, rtol=1e-10, atol=1e-12)
    phi = [np.kron(psi, X[k]) for k in range(K)]  # independent: φ_kᵀθ, φ_kᵀPφ_k
    np.testing.assert_allclose(mu2, [f @ theta for f in phi], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mu2 - sc2, [0.7 * math.sqrt(f @ P @ f) for f in phi],
                               rtol=1e-8, atol=1e-12)


def _run(pol, grid, rounds, seed, shift_at=None, start=0):
    rng = np.random.default_rng(seed)
    for t in range(start, start + rounds):
        c = float(1.0 + 0.5 * t + rng.uniform(0.0, 3.0)) if t > 2 else float(5.0 + t)
        k = pol.select(c)
        w = grid[k].get("omega", 1.0)
        jump = 8.0 if shift_at is not None and t >= shift_at else 1.0  # a change to detect
        cost = float(jump * (1.0 + (w - 1.6) ** 2 * 10.0) * (1.0 + 0.02 * c)
                     * math.exp(rng.normal(0.0, 0.05)))
        if t % 29 == 13:
            cost *= 50.0  # a wild reading: clipped
        pol.update(k, cost, c, censored=bool(t % 37 == 36))
    return pol


def _check(pol):
    am = pol._arm_model
    assert am is not None
    M0, t0 = _dense(pol.P, pol.theta, pol._X, am[4].shape[1])
    if am[0] is pol.P and am[1] is pol.theta and am[3] == pol.t:  # kept: must be the model's
        np.testing.assert_allclose(am[4], M0, rtol=1e-8, atol=1e-12 * np.abs(M0).max())
        np.testing.assert_allclose(am[5], t0, rtol=1e-8, atol=1e-10)
        return True
    return False


def test_policy_keeps_blocks_through_every_kind_of_round():
    grid = default_grid()
    pol = bandit.default_policy(None, grid, seed=3)
    kept = 0
    rng = np.random.default_rng(5)
    for t in range(200):
        _run(pol, grid, 1, int(rng.integers(1 << 30)), start=t)
        if t == 120:  # a detected change: the model is discounted (replaced)
            pol._forget(pol.CHANGE_KEEP)
        kept += _check(pol) if t > 5 else 0
    assert kept > 150


def test_detected_change_rebuilds():
    grid = default_grid()
    pol = _run(bandit.default_policy(None, grid, seed=3), grid, 100, 11)
    old = pol._arm_model
    pol._forget(pol.CHANGE_KEEP)  # what a detected change does: P and θ discounted, replaced
    pol.select(30.0)
    assert pol._arm_model is not old
    pol.select(30.0)  # the draw after the run: the blocks are the model's, kept or rebuilt
    assert pol._arm_model[3] == pol.t
    M0, t0 = _dense(pol.P, pol.theta, pol._X, pol._arm_model[4].shape[1])
    np.testing.assert_allclose(pol._arm_model[4], M0, rtol=1e-8, atol=1e-12 * np.abs(M0).max())


def test_same_decisions_as_dense_draw():
    """The run with the blocks against the run that reads ``P`` at every draw (the blocks
    rebuilt from scratch each round): the same arms, the same model."""
    grid = default_grid()
    a = bandit.default_policy(None, grid, seed=3)
    b = bandit.default_policy(None, grid, seed=3)
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    for t in range(160):
        c = float(1.0 + 0.5 * t + rng_a.uniform(0.0, 3.0)) if t > 2 else float(5.0 + t)
        rng_b.uniform(0.0, 3.0) if t > 2 else None
        ka = a.select(c)
        b._arm_model = None  # rebuilt from P, θ
        kb = b.select(c)
        assert ka == kb, t
        w = grid[ka].get("omega", 1.0)
        cost = float((1.0 + (w - 1.6) ** 2 * 10.0) * (1.0 + 0.02 * c)
                     * math.exp(rng_a.normal(0.0, 0.05)))
        rng_b.normal(0.0, 0.05)
        a.update(ka, cost, c, censored=bool(t % 37 == 36))
        b.update(kb, cost, c, censored=bool(t % 37 == 36))
    assert (a.P == b.P).all() and (a.theta == b.theta).all()


def test_saved_copy_continues_as_the_run():
    grid = default_grid()
    a = _run(bandit.default_policy(None, grid, seed=3), grid, 60, 11)
    b = copy.deepcopy(a)
    c = bandit.Policy.from_state_dict(a.state_dict())  # blocks rebuilt from P, θ on load
    assert c._arm_model is None
    for pol in (a, b, c):
        _run(pol, grid, 60, 12, start=60)
    assert (a.P == b.P).all() and (a.P == c.P).all() and (a.theta == c.theta).all()
    assert a.counts.tolist() == c.counts.tolist()


def test_blocks_kept_through_the_priors_refreshes(monkeypatch):
    """The theory prior's shared error: its weights follow ``σ̂`` by rank-one corrections of
    ``P`` and ``θ`` outside the update (:meth:`PriorRules._refresh_prior`), which keep the
    blocks too (rather than a rebuild)."""
    import bandit._joint_rules as rules
    from bandit import JointCB
    from experiments.problems import elasticity_2d

    calls = []
    real = rules._arm_model_update
    monkeypatch.setattr(rules, "_arm_model_update", lambda *a: calls.append(1) or real(*a))
    arms = list(bandit.DEFAULT_ARMS)
    pol = JointCB(arms, explore_radius=1, prior="theory", target="log", prior_shift=0.2,
                  seed=0)
    pol.prime(elasticity_2d(6), "sor")
    rng = np.random.default_rng(2)
    kept = 0
    for t in range(120):
        c = (5.0, 8.0)[t] if t < 2 else float(rng.uniform(5.0, 8.0))
        k = pol.select(c)
        cost = float((1.0 + (arms[k] - 1.5) ** 2 * 20.0) * math.exp(rng.normal(0.0, 0.3)))
        pol.update(k, cost, c)
        kept += _check(pol) if pol._arm_model is not None else 0
    assert calls and kept > 100


def test_off_by_default_reads_p():
    monkey = pytest.MonkeyPatch()
    monkey.setattr(bandit.JointCB, "arm_blocks", False)
    try:
        grid = default_grid()
        pol = _run(bandit.default_policy(None, grid, seed=3), grid, 30, 11)
        assert pol._arm_model is None
    finally:
        monkey.undo()


def test_pinned_run_same_choices_with_blocks():
    """The pinned seeded run (tests/test_joint_pinned_run.py) with the blocks on: the same arms
    every round, the same ``P`` and ``θ`` bit for bit (the blocks change only the draw's
    rounding)."""
    import test_joint_pinned_run as pinned

    arms, pol = pinned._run()
    assert pol._arm_model is not None
    assert arms == pinned.ARMS
    assert pinned._digest(pol) == pinned.DIGEST
