"""JointCB's smearing option (``smear=True``): a model of the log-cost ranked by its mean cost.

References are independent: the one-step errors recomputed from a dense ridge solve of the
rows seen so far, Duan's factor from them by direct sums, and the totals and geometric means
of a known cost table.
"""
import json
import math

import numpy as np
import pytest

import bandit
from bandit.joint import JointCB

ARMS = [1.2, 1.5, 1.8]


def _dense_replay(p, arms_costs):
    """Feed ``(arm, cost)`` pairs to ``p`` (no context); returns the rows, targets and arms
    and, independently of ``p``, the dense ridge fit of all of them and the noise scale of
    its one-step errors."""
    rows, ys, arms, sq = [], [], [], 0.0
    unit = arms_costs[0][1]
    for t, (k, c) in enumerate(arms_costs):
        p.select(None)
        lam = p._penalty_diag()  # λΛ, known once the first call fixed the context's length
        phi = p.phi(None, k)
        y = math.log(c / unit + 0.01)
        X = np.array(rows).reshape(-1, phi.size)
        theta = np.linalg.solve(np.diag(lam) + X.T @ X, X.T @ np.array(ys))
        sq += (y - phi @ theta) ** 2
        rows.append(phi)
        ys.append(y)
        arms.append(k)
        p.update(k, c)
    X, y = np.array(rows), np.array(ys)
    theta = np.linalg.solve(np.diag(lam) + X.T @ X, X.T @ y)
    return X, y, np.array(arms), theta, unit, math.sqrt((sq + 0.1) / (len(ys) + 1))


def test_the_smearing_factor_is_duans_from_the_fits_residuals():
    rng = np.random.default_rng(3)
    p = JointCB(ARMS, target="log", smear=True, detect_changes=False)
    seq = []
    for t in range(60):
        k = [0, 1, 1, 2, 2, 2][t % 6] if t < 59 else 0
        seq.append((k, [40.0, 25.0, 30.0][k] * math.exp([0.8, 0.4, 0.1][k]
                                                        * rng.standard_normal())))
    X, y, arms, theta, unit, scale = _dense_replay(p, seq)
    resid = y - X @ theta
    assert np.abs(resid).max() < 3 * scale  # no residual beyond the clip here
    e = np.exp(resid)
    want = np.array([(e[arms == k].sum() + 4.0) / ((arms == k).sum() + 4.0) for k in range(3)])
    np.testing.assert_allclose(p.smearing_factors(), want, rtol=1e-8)
    # the arm of wide spread gets the largest factor (exp(σ²/2): 1.38, 1.08, 1.005)
    assert want[0] > want[1] > want[2]
    # predict: the mean cost, unit · (exp(μ_k) S_k − 0.01), μ from the dense fit
    mu = np.array([p.phi(None, k) @ theta for k in range(3)])
    np.testing.assert_allclose(p.predict(None), unit * (np.exp(mu) * want - 0.01), rtol=1e-8)
    k, c = p.leader(None)
    assert k == int(np.argmin(mu + np.log(want))) and c == pytest.approx(p.predict(None)[k])
    # only the latest SMEAR_WINDOW rounds count
    p.SMEAR_WINDOW = 30
    p.smear_rows = p.smear_rows[-30:]
    e, a = e[-30:], arms[-30:]
    want = [(e[a == k].sum() + 4.0) / ((a == k).sum() + 4.0) for k in range(3)]
    np.testing.assert_allclose(p.smearing_factors(), want, rtol=1e-8)


def _two_types(seed, T=400):
    """Cheap systems (3 in 4) that prefer small ω and dear ones that prefer large ω, in a
    random order, no context: totals per system 507.5 / 265 / 130 (the largest ω best),
    geometric means 37.6 / 53.2 / 71.2 (the smallest ω least)."""
    cheap, dear = np.array([10.0, 20.0, 40.0]), np.array([2000.0, 1000.0, 400.0])
    kinds = np.random.default_rng(seed).random(T) < 0.25
    return np.where(kinds[:, None], dear, cheap)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_types_without_a_context_smearing_finds_the_best_total(seed):
    C = _two_types(seed)
    totals, geo = C.sum(0), np.exp(np.log(C).mean(0))
    assert np.argmin(totals) == 2 and np.argmin(geo) == 0  # the two targets disagree
    paid, leaders = {}, {}
    for smear in (False, True):
        p = JointCB(ARMS, target="log", smear=smear, seed=0)
        paid[smear] = 0.0
        for c in C:
            k = p.select(None)
            paid[smear] += c[k]
            p.update(k, c[k])
        leaders[smear] = p.leader(None)[0]
    assert leaders[False] == 0  # the log target settles on the least geometric mean
    assert leaders[True] == 2  # the smeared one on the least total
    assert paid[True] < 1.3 * totals.min() < paid[False]


def test_smearing_leaves_a_model_of_the_cost_alone_and_is_off_by_default():
    """Without a context ``target="auto"`` models the cost itself: ``smear`` changes nothing
    there (the same arms, bit for bit), and neither JointCB nor the default learner smears
    unless asked; ``target="cost"`` with ``smear`` is refused."""
    C = _two_types(5, T=150)
    arms = {}
    for smear in (False, True):
        p = JointCB(ARMS, target="auto", smear=smear)
        arms[smear] = []
        for c in C:
            k = p.select(None)
            arms[smear].append(k)
            p.update(k, c[k])
        assert not p.smears
    assert arms[True] == arms[False]
    assert not JointCB(ARMS).smear and not bandit.default_policy("sor").smear
    with pytest.raises(ValueError, match="smear"):
        JointCB(ARMS, target="cost", smear=True)
    for bad in (1, None, "yes"):
        with pytest.raises(ValueError, match="smear"):
            JointCB(ARMS, smear=bad)


def test_an_informative_context_keeps_the_ranking():
    """When the context explains the spread, the arms' factors are close to each other
    and the totals are those of the log target."""
    paid = {}
    for smear in (False, True):
        rng = np.random.default_rng(1)
        p = JointCB(np.linspace(1.0, 1.9, 10), target="log", smear=smear)
        paid[smear] = 0.0
        for t in range(300):
            c = (t * 0.618) % 1.0
            k = p.select(c)
            cost = (20 + 200 * (p.arms[k] - 1.2 - 0.5 * c) ** 2) * 10 ** (2 * c)
            cost *= math.exp(0.02 * rng.standard_normal())
            paid[smear] += cost
            p.update(k, cost, context=c)
    S = p.smearing_factors()
    assert S.max() / S.min() < 1.05  # the spread the context leaves is the same for all
    assert paid[True] == pytest.approx(paid[False], rel=0.02)


def test_a_smeared_policy_and_tuner_file_continue_identically(tmp_path):
    C = _two_types(4, T=200)
    p = JointCB(ARMS, target="log", smear=True)
    for c in C[:120]:
        k = p.select(None)
        p.update(k, c[k])
    assert len(p.smear_rows) == 120
    q = bandit.Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))
    assert q.smear and q.smears
    np.testing.assert_array_equal(q.smear_rows, p.smear_rows)
    for c in C[120:]:
        k = p.select(None)
        assert q.select(None) == k
        p.update(k, c[k])
        q.update(k, c[k])
    np.testing.assert_array_equal(q.smear_rows, p.smear_rows)

    from solvers import gallery

    tuner = bandit.Tuner(JointCB(bandit.DEFAULT_ARMS, target="log", smear=True,
                                 explore_radius=1), solver="sor")
    rng = np.random.default_rng(0)
    A = gallery.laplacian_2d(10)
    for _ in range(12):
        tuner.solve(A, rng.standard_normal(A.shape[0]))
    tuner.save(tmp_path / "t.json")
    again = bandit.Tuner.load(tmp_path / "t.json")
    np.testing.assert_array_equal(again.policy.smear_rows, tuner.policy.smear_rows)
    for _ in range(6):
        b = rng.standard_normal(A.shape[0])
        assert tuner.solve(A, b).omega == again.solve(A, b).omega
    np.testing.assert_array_equal(again.policy.smear_rows, tuner.policy.smear_rows)

    good = json.loads((tmp_path / "t.json").read_text())
    rows = tuner.policy.smear_rows
    for bad in (rows * np.nan, np.hstack((rows, rows)), rows + [[25.0] + [0.0] * (rows.shape[1] - 1)],
                rows + [[0.5] + [0.0] * (rows.shape[1] - 1)]):
        raw = json.loads(json.dumps(good))
        raw["policy"]["state"]["smear_rows"] = bandit._base.to_jsonable(bad)
        (tmp_path / "bad.json").write_text(json.dumps(raw))
        with pytest.raises(bandit.TunerFileError, match="smear_rows"):
            bandit.Tuner.load(tmp_path / "bad.json")


def test_a_tuner_file_from_before_the_option_loads_without_it(tmp_path):
    """A default learner's file without ``smear`` in its config nor its sums in its state
    loads as the same learner (no smearing) and continues as the file saved now."""
    from solvers import gallery

    tuner = bandit.Tuner(solver="sor")
    rng = np.random.default_rng(1)
    A = gallery.laplacian_2d(10)
    for _ in range(10):
        tuner.solve(A, rng.standard_normal(A.shape[0]), context=0.5)
    tuner.save(tmp_path / "now.json")
    raw = json.loads((tmp_path / "now.json").read_text())
    del raw["policy"]["config"]["smear"]
    del raw["policy"]["state"]["smear_rows"]
    (tmp_path / "before.json").write_text(json.dumps(raw))
    old, now = (bandit.Tuner.load(tmp_path / n) for n in ("before.json", "now.json"))
    assert old.policy.smear is False and old.policy.smear_rows is None
    for _ in range(5):
        b = rng.standard_normal(A.shape[0])
        assert old.solve(A, b, context=0.5).omega == now.solve(A, b, context=0.5).omega
    np.testing.assert_array_equal(old.policy.theta, now.policy.theta)
