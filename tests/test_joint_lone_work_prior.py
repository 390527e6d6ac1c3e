"""``JointCB(lone_prior="work")``: plain CG, Jacobi-CG and IC(0)-CG predicted, until played,
at SSOR-PCG ω = 1's prediction times ``γ · w_k / w_sgs`` (iterations from the condition
numbers' roots, work per iteration from the solvers' work model), as the ridge's prior mean.

Checked against a hand computation of the ratio and the solvers' own work model, against a
dense ridge fit with that prior mean once the arm is played, on a constructed sequence
(the gate passes plain CG where the solves take few iterations and not where they take
many), and through a saved state."""
import math

import numpy as np
import pytest

import bandit
from bandit._joint_work import GAMMA_CG, per_iteration
from solvers import gallery, work_model

GRID = bandit.config_grid()  # SSOR-PCG ω 1.0 … 1.9, cg, Jacobi-CG, IC(0)-CG, AMG
SGS = 0
LONE = {"cg": 8, "jacobi": 9, "ic0": 10, "amg": 11}


def _learner(**kw):
    return bandit.default_policy(None, GRID, context_bounds=(0, 1), seed=0, **kw)


def _ssor_cost(k, x):
    """SSOR-PCG dearer away from ω = 1.4 + 0.3 x (a cost in arbitrary units)."""
    return (1.0 + x) * math.exp(3.0 * (GRID[k]["omega"] - 1.4 - 0.3 * x) ** 2)


def _told(p, rounds=40):
    for t in range(rounds):
        x = (t * 0.618) % 1.0
        k = t % 8  # the SSOR-PCG arms in turn
        p.select(x)
        p.update(k, _ssor_cost(k, x), x)
    return p


def test_the_ratio_is_the_work_models_and_the_condition_numbers():
    """By hand for the 5-point Laplacian on a 20 × 20 grid: n = 400, nnz = 5n − 4·20."""
    A = gallery.laplacian_2d(20)
    r = (5 * 400 - 80) / 400
    assert A.nnz == 5 * 400 - 80
    w = {"cg": 1 + 5 / r, "jacobi": 1 + 7 / r, "ic0": 2 + 7 / r, "sgs": 1.5 + 12.5 / r}
    # the per-iteration figures are the solvers' own work model's
    assert w["cg"] == pytest.approx(work_model("cg", A).per_iteration, rel=1e-12)
    assert w["jacobi"] == pytest.approx(work_model("pcg", A, "jacobi").per_iteration,
                                        rel=1e-12)
    assert w["ic0"] == pytest.approx(work_model("pcg", A, "ic0").per_iteration, rel=1e-12)
    assert w["sgs"] == pytest.approx(work_model("ssor_pcg", A).per_iteration, rel=1e-12)
    for kind in w:
        assert per_iteration(kind, r) == pytest.approx(w[kind], rel=1e-14)
    # γ: √(κ(D⁻¹A) / Axelsson's bound at ω = 1) as μ → 0
    from solvers.spectral import ssor_condition_bound

    mu = 1e-9
    assert GAMMA_CG == pytest.approx(math.sqrt((2 / mu) / ssor_condition_bound(1.0, mu)),
                                     rel=1e-6)
    want = {"cg": GAMMA_CG * w["cg"] / w["sgs"], "jacobi": GAMMA_CG * w["jacobi"] / w["sgs"],
            "ic0": w["ic0"] / w["sgs"]}
    p = _learner(lone_prior="work")
    p.prime(A, "ssor_pcg")
    _told(p)
    for x in (0.05, 0.5, 0.93):
        pred = p.predict(x) + 0.01 * p.unit  # (the model's floor: log(cost/unit + 0.01))
        for kind, ratio in want.items():
            assert pred[LONE[kind]] / pred[SGS] == pytest.approx(ratio, rel=1e-9)
    # no relation for AMG: the offset layout's prediction, as without the prior
    q = _told(_learner(lone_arms="offset"))
    assert p.predict(0.5)[LONE["amg"]] == pytest.approx(q.predict(0.5)[LONE["amg"]], rel=1e-9)
    # without the option plain CG is the line's neighbour of ω = 1.9, not CG
    d = _told(_learner())
    assert (d.predict(0.5)[LONE["cg"]] + 0.01 * d.unit) / (d.predict(0.5)[SGS]
                                                          + 0.01 * d.unit) != pytest.approx(
        want["cg"], rel=0.05)


def test_played_arm_is_the_dense_ridge_fit_with_the_prior_mean():
    """Once CG is played its offset is learnt from its rounds: the model equals the ridge
    fit ``(λΛ + ΦᵀΦ)⁻¹(Φᵀy + λΛ m)`` assembled densely, ``m`` the prior mean (the work
    offsets' constant terms) and ``λΛ`` the offset layout's penalty with those terms at 1."""
    p = _learner(lone_prior="work")
    p.prime(gallery.laplacian_2d(20), "ssor_pcg")
    rows, ys = [], []
    rng = np.random.default_rng(3)
    for t in range(60):
        x = (t * 0.618) % 1.0
        k = t % 8 if t % 5 else LONE["cg"]
        c = _ssor_cost(k, x) if k < 8 else 1.6 * _ssor_cost(SGS, x)
        c *= math.exp(0.02 * rng.standard_normal())
        p.select(x)
        p.update(k, c, x)
        rows.append(p.phi(x, k))
        ys.append(math.log(c / p.unit + 0.01))
    Phi, y = np.array(rows), np.array(ys)
    pen = _learner(lone_arms="offset")._penalty_diag()
    cols = np.flatnonzero(p._work_cols >= 0)
    pen[p._work_cols[cols]] = 1.0
    m = np.zeros(pen.size)
    m[p._work_cols[cols]] = p.work_ratio[cols]
    theta = np.linalg.solve(np.diag(pen) + Phi.T @ Phi, Phi.T @ y + pen * m)
    assert np.allclose(p.theta, theta, rtol=1e-7, atol=1e-9)
    assert p.changes == 0  # (no discount: the dense fit has none)


ARMS = ([{"method": "ssor_pcg", "omega": w} for w in (1.0, 1.2, 1.4, 1.6, 1.8)]
        + [{"method": "cg"}, {"method": "cg", "pc": "ic0"}])
FAMILY = np.array([0, 0, 0, 0, 0, 1, 2])
CG, IC0 = 5, 6


def _work(k, x, many, rng):
    """A counted cost ``(1.3 + iterations) · w``, ``w`` the 5-point work figures: few
    iterations (symmetric Gauss–Seidel best, 3–4) or many (40–60 at ω = 1, 12–27 at the best
    ω 1.6–1.8); plain CG takes 2.5 × ω = 1's iterations, IC(0)-CG as many; 5 % noise."""
    if many:
        k1, best, kb = 40 + 20 * x, 1.6 + 0.2 * x, 12 + 15 * x
        ks = lambda w: kb + (k1 - kb) * ((w - best) / (1.0 - best)) ** 2  # noqa: E731
    else:
        k1 = 3 + x
        ks = lambda w: k1 * (1 + 1.5 * (w - 1.0))  # noqa: E731
    its = 2.5 * k1 if k == CG else k1 if k == IC0 else ks(ARMS[k]["omega"])
    kind = "cg" if k == CG else "ic0" if k == IC0 else "sgs"
    return (1.3 + its) * per_iteration(kind, 5.0) * math.exp(0.05 * rng.standard_normal())


def _plays(lone_prior, many, seed, steps=120):
    p = bandit.default_policy(None, ARMS, seed=seed, lone_prior=lone_prior)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    p.first_pick = False  # the gate's own pick, as measured (first tries by the regime: off)
    rng = np.random.default_rng(seed)
    plays = []
    for t in range(steps):
        x = (t % 10) / 10 + 0.05
        k = p.select(x)
        p.update(k, _work(k, x, many, rng), x)
        plays.append(k)
    return plays


@pytest.mark.parametrize("seed", [0, 1])
def test_the_gate_passes_plain_cg_where_iterations_are_few_and_not_where_many(seed):
    few = _plays("work", False, seed)
    assert few.count(CG) >= 5  # predicted near the leader (ω = 1 leads): tried, played
    assert _plays("work", True, seed).count(CG) <= 1  # predicted far dearer: at most a try
    assert _plays("none", False, seed).count(CG) == 0  # on the line: never tried


def test_saved_state_and_refusals():
    p = _told(_learner(lone_prior="work"))
    p.prime(gallery.laplacian_2d(20), "ssor_pcg")  # (after rounds: changes nothing)
    q = bandit.JointCB.from_state_dict(p.state_dict())
    assert q.lone_prior == "work"
    assert np.array_equal(q.predict(0.3), p.predict(0.3))
    assert np.array_equal(q.work_ratio, p.work_ratio, equal_nan=True)
    state = _told(_learner()).state_dict()
    assert "lone_prior" not in state["config"]  # a default learner's file reads as before
    assert bandit.JointCB.from_state_dict(state).lone_prior == "none"
    with pytest.raises(ValueError, match="lone_prior"):
        bandit.JointCB([1.0, 1.5], lone_prior="work")  # plain ω arms
    with pytest.raises(ValueError, match="omega = 1.0"):
        bandit.default_policy(None, ARMS[1:], lone_prior="work")  # no ω = 1
    with pytest.raises(ValueError, match="lone_prior"):
        _learner(lone_prior="theory")


def test_tuner_file_round_trip(tmp_path):
    """A Tuner with the option saves and loads through the checked tuner file (its state
    keeps one entry more than the default learner's, which the file's check once refused)."""
    policy = _learner(lone_prior="work")
    tuner = bandit.Tuner(policy, cost="work")
    for k in range(12):
        A = gallery.crank_nicolson_2d(12, 0.02 + 0.1 * k)
        tuner.solve(A, np.ones(A.shape[0]), context=k / 12)
    tuner.save(tmp_path / "t.json")
    back = bandit.Tuner.load(tmp_path / "t.json")
    assert back.policy.lone_prior == "work"
    assert np.array_equal(back.policy.work_ratio, tuner.policy.work_ratio, equal_nan=True)
    assert np.array_equal(back.policy.predict(0.4), tuner.policy.predict(0.4))
