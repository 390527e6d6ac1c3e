"""JointCB's change test (``detect_changes``): Page's CUSUM of the standardised one-step errors
and the discount of everything learnt before an alarm, checked against a dense weighted
least-squares reference; the drift test without a context; sequences whose best arm moves,
abruptly or slowly, without a context; persistence."""
import json
import math

import numpy as np
import pytest

import bandit
from bandit import JointCB

ARMS = list(bandit.DEFAULT_ARMS)


def _log_cost(t, c, w, rng, switch):
    """A log-cost smooth in the context and ω whose best ω moves from 1.8 to 1.2, and whose
    level rises, at round ``switch`` (the context does not say so)."""
    best, level = (1.8, 3.0) if t < switch else (1.2, 8.0)
    return level + 4.0 * (w - best) ** 2 + 0.5 * c + 0.02 * rng.standard_normal()


def test_alarm_and_discount_match_a_dense_weighted_least_squares_reference(monkeypatch):
    """Every round, the reference refits ``θ = (λΛ + Φᵀ W Φ)⁻¹ Φᵀ W y`` densely (``W`` the
    rows' weights), standardises the played arm's error by ``σ̂ sqrt(1 + φᵀPφ)`` with
    ``σ̂² = (Σ w e² + 0.1) / (Σ w + 1)``, runs Page's two-sided CUSUM (drift 1, errors
    capped at ±3, alarm above 8) and, on an alarm, multiplies every weight so far by
    ``3 / Σ w``.  The learner must raise its alarms at the same rounds and end with the same
    fit and noise scale."""
    monkeypatch.setattr(bandit.joint, "_CLIP", math.inf)  # the targets are fed unchanged
    rng = np.random.default_rng(5)
    p = JointCB(ARMS[::4], context_bounds=(0.0, 1.0), m=3, m_omega=4, seed=0)
    assert p.detect_changes
    pen = np.diag(p._penalty_diag())
    rows, ys, wts = [], [], []
    up = down = 0.0
    sq = 0.0  # the reference's Σ w e²
    alarms, ref_alarms = [], []
    unit = None
    for t in range(120):
        c = float(rng.uniform())
        k = int(rng.integers(p.n_arms))
        cost = math.exp(_log_cost(t, c, p.arms[k], rng, switch=60))
        unit = cost if unit is None else unit
        y = math.log(cost / unit + 0.01)
        phi = p.phi(c, k)
        # the reference model before this round
        if rows:
            Phi, W = np.array(rows), np.array(wts)
            M = pen + (Phi.T * W) @ Phi
            theta = np.linalg.solve(M, (Phi.T * W) @ np.array(ys))
            P = np.linalg.inv(M)
        else:
            theta, P = np.zeros(phi.size), np.linalg.inv(pen)
        e = y - phi @ theta
        s = math.sqrt((sq + 0.1) / (sum(wts) + 1))
        rows.append(phi)
        ys.append(y)
        wts.append(1.0)
        sq += e * e
        if t > 0:
            z = min(max(e / (s * math.sqrt(1 + phi @ P @ phi)), -3.0), 3.0)
            up, down = max(0.0, up + z - 1.0), max(0.0, down - z - 1.0)
            if max(up, down) > 8.0:
                up = down = 0.0
                rho = 3.0 / sum(wts)
                wts = [rho * w for w in wts]
                sq *= rho
                ref_alarms.append(t)
        before = p.changes
        p.update(k, cost, context=c)
        if p.changes > before:
            alarms.append(t)
    assert ref_alarms and ref_alarms[0] >= 60  # no alarm before the switch, one after
    assert alarms == ref_alarms
    Phi, W = np.array(rows), np.array(wts)
    M = pen + (Phi.T * W) @ Phi
    np.testing.assert_allclose(p.P, np.linalg.inv(M), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(p.theta, np.linalg.solve(M, (Phi.T * W) @ np.array(ys)),
                               rtol=1e-8, atol=1e-10)
    assert p._scale() == pytest.approx(math.sqrt((sq + 0.1) / (W.sum() + 1)), rel=1e-10)


def _switching_costs(t, w, rng, switch):
    """Like the two-phase loop: the played arm's cost changes level, the best ω moves from
    1.85 to 1.25; 5 % lognormal noise."""
    c = 100 + 2000 * (w - 1.85) ** 2 if t < switch else 10 + 800 * (w - 1.25) ** 2
    return float(c * math.exp(0.05 * rng.standard_normal()))


def _run_default(detect, seed, T=300, switch=150, drift=False):
    rng = np.random.default_rng(seed)
    p = bandit.default_policy(None, seed=seed)
    p.detect_changes = detect
    p.detect_drift = drift
    omegas = []
    for t in range(T):
        k = p.select(None)
        omegas.append(p.arms[k])
        p.update(k, _switching_costs(t, p.arms[k], rng, switch))
    return np.array(omegas), p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_learner_follows_a_best_arm_that_moves_without_a_context(seed):
    """Best ω 1.85 for 150 rounds, then 1.25, no context.  With the test the default learner
    plays within 0.1 of 1.25 for 10 rounds in a row at the latest 40 rounds after the switch
    (20–26 measured); without it, it stays at the first phase's ω (none of the rounds)."""
    omegas, p = _run_default(True, seed)
    near = np.abs(omegas[150:] - 1.25) <= 0.1 + 1e-9
    first = next(i for i in range(near.size - 9) if near[i:i + 10].all())
    assert first <= 40 and near[first:].mean() > 0.8
    assert p.changes >= 1
    before, q = _run_default(False, seed)
    assert q.changes == 0 and not (np.abs(before[150:] - 1.25) <= 0.1 + 1e-9).any()


def test_a_stationary_sequence_is_learnt_bit_for_bit_as_without_the_test():
    """No change, 5 % noise, 1000 rounds: no alarm of either test (the drift test switched
    on too), the same arms and the same model."""
    for seed in (0, 1):
        b, q = _run_default(False, seed, T=1000, switch=10 ** 9)
        for drift in (False, True):
            a, p = _run_default(True, seed, T=1000, switch=10 ** 9, drift=drift)
            assert p.changes == 0 and p.drifts == 0
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(p.theta, q.theta)


def _drifting_cost(t, w, T):
    """Best ω drifting from 1.3 to 1.85 over ``T`` rounds, the level doubling."""
    return (30 + 400 * (w - (1.3 + 0.55 * t / T)) ** 2) * (1 + t / T)


def _run_drift(seed, T=600, noise=0.2, rounds=None, drift=True):
    rng = np.random.default_rng(seed)
    p = bandit.default_policy(None, seed=seed)
    p.detect_drift = drift
    omegas = []
    for t in range(T if rounds is None else rounds):
        k = p.select(None)
        omegas.append(p.arms[k])
        p.update(k, _drifting_cost(t, p.arms[k], T) * math.exp(noise * rng.standard_normal()))
    return np.array(omegas), p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_learner_tracks_a_best_arm_that_drifts_slowly_without_a_context(seed):
    """Best ω drifting by 0.55 over 600 rounds (a grid step every 55 rounds), 20 % noise, no
    context, the drift test on.  Over the last quarter the played ω is within 0.08 of the best
    on average
    (0.043–0.063 measured on seeds 0–4; with the jump test alone, which raises one or two alarms
    in the whole run, 0.093–0.128)."""
    omegas, p = _run_drift(seed)
    best = 1.3 + 0.55 * np.arange(600) / 600
    assert np.abs(omegas - best)[450:].mean() <= 0.08
    assert p.drifts >= 1
    assert not bandit.default_policy(None).detect_drift  # an option, off by default


def test_the_drift_test_matches_its_scalar_recursion_and_discounts_as_the_reference():
    """Without a context, each round's capped standardised error ``z`` (recomputed here from
    the model before the round) feeds ``S ← max(0, S + z m − m²/2)`` and then
    ``m ← 0.9 m + 0.1 z``; above 8 the fit is the ridge fit of every round so far at weight
    ``3 / n`` (the penalty kept) and the test starts afresh."""
    T, noise = 600, 0.2
    rng = np.random.default_rng(3)
    p = bandit.default_policy(None, seed=3)  # no prime: no prior, the fit is the rounds'
    p.detect_drift = True
    m = S = 0.0
    n_drifts = 0
    for t in range(T):
        k = p.select(None)
        cost = _drifting_cost(t, p.arms[k], T) * math.exp(noise * rng.standard_normal())
        if t == 0:
            p.update(k, cost)
            continue
        phi = p.phi(None, k)
        pred = float(p.theta @ phi)
        r = math.log(cost / p.unit + 0.01) - math.log(max(pred, 0.0) + 0.01)
        z = r / (p._log_scale() * math.sqrt(1 + phi @ p.P @ phi))
        z = min(max(z, -3.0), 3.0)
        S, m = max(0.0, S + z * m - 0.5 * m * m), 0.9 * m + 0.1 * z
        A_old = np.linalg.inv(p.P)
        n = p.t + 1 - p.forgotten
        p.update(k, cost)
        assert p.changes == 0  # the jump test stays quiet on this drift
        assert p.drift_score[0] == pytest.approx(0.0 if S > 8 else S, abs=1e-12)
        if S > 8:
            n_drifts += 1
            assert p.drifts == n_drifts
            pen = np.diag(p._penalty_diag())
            G = A_old - pen + np.outer(phi, phi)  # the data statistics with this round's row
            np.testing.assert_allclose(np.linalg.inv(p.P), pen + (3.0 / n) * G, rtol=1e-8)
            m = S = 0.0
    assert n_drifts >= 2


def _two_phase_tuner(policy=None):
    """SOR on a 12 × 12 Laplacian (best ω near 1.6), then on a 24 × 24 one (best ω near 1.78,
    every ω up to there dearer), no context."""
    from solvers import gallery

    tuner = bandit.Tuner(policy, solver="sor", rtol=1e-8)
    rng = np.random.default_rng(0)
    systems = [gallery.laplacian_2d(12)] * 40 + [gallery.laplacian_2d(24)] * 40
    return tuner, systems, rng


def test_a_tuner_file_keeps_the_change_test_and_continues_identically(tmp_path):
    tuner, systems, rng = _two_phase_tuner()
    for A in systems:
        tuner.solve(A, rng.standard_normal(A.shape[0]))
    p = tuner.policy
    assert p.changes >= 1 and p.forgotten > 0 and p.prior_scale < 1
    tuner.save(tmp_path / "t.json")
    again = bandit.Tuner.load(tmp_path / "t.json")
    q = again.policy
    for key in ("cusum_up", "cusum_down", "forgotten", "prior_scale", "changes", "sq_err",
                "drifts"):
        assert getattr(q, key) == getattr(p, key)
    for key in ("P", "drift_level", "drift_score"):
        np.testing.assert_array_equal(getattr(q, key), getattr(p, key))
    A = systems[-1]
    for _ in range(15):
        b = rng.standard_normal(A.shape[0])
        assert tuner.solve(A, b).omega == again.solve(A, b).omega
    np.testing.assert_array_equal(tuner.policy.theta, again.policy.theta)
    assert tuner.policy.cusum_up == again.policy.cusum_up


def test_a_tuner_file_written_before_the_change_test_loads_and_continues(tmp_path):
    """A file of the default learner from before ``detect_changes`` has neither the option nor
    its state: it loads as a learner without the test and continues exactly as that learner
    saved by this version; a file of this version that lacks the state, or holds impossible
    values, is refused with the entry's name."""
    cfg = bandit.default_policy("sor").state_dict()["config"]
    tuner, systems, rng = _two_phase_tuner(JointCB(ARMS, seed=0,
                                                   **{**cfg, "detect_changes": False}))
    for A in systems[:45]:
        tuner.solve(A, rng.standard_normal(A.shape[0]))
    tuner.save(tmp_path / "now.json")
    raw = json.loads((tmp_path / "now.json").read_text())
    del raw["policy"]["config"]["detect_changes"]
    for key in ("cusum_up", "cusum_down", "forgotten", "prior_scale", "changes", *DRIFT_KEYS):
        del raw["policy"]["state"][key]
    (tmp_path / "before.json").write_text(json.dumps(raw))
    old, now = (bandit.Tuner.load(tmp_path / n) for n in ("before.json", "now.json"))
    assert old.policy.detect_changes is False
    A = systems[-1]
    for _ in range(10):
        b = rng.standard_normal(A.shape[0])
        assert old.solve(A, b).omega == now.solve(A, b).omega
    np.testing.assert_array_equal(old.policy.theta, now.policy.theta)

    def edited(change, match):
        raw = json.loads((tmp_path / "now.json").read_text())
        change(raw["policy"])
        (tmp_path / "edited.json").write_text(json.dumps(raw))
        with pytest.raises(bandit.TunerFileError, match=match):
            bandit.Tuner.load(tmp_path / "edited.json")

    edited(lambda pol: (pol["config"].update(detect_changes=True),
                        pol["state"].pop("forgotten")), "forgotten")
    edited(lambda pol: pol["state"].update(forgotten=1e6), "forgotten")
    edited(lambda pol: pol["state"].update(prior_scale=0.0), "prior_scale")
    edited(lambda pol: pol["state"].update(cusum_up=-1.0), "cusum_up")
    edited(lambda pol: pol["config"].update(detect_changes="yes"), "detect_changes")


DRIFT_KEYS = ("drift_level", "drift_score", "drifts")


def test_a_policy_in_the_middle_of_a_drift_continues_identically():
    """Saved after a drift alarm with the drift test's sum non-zero, through JSON: the same
    arms, alarms and model afterwards."""
    _, p = _run_drift(0, rounds=320)
    assert p.drifts >= 1 and p.drift_score[0] > 0
    q = bandit.Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))
    rng = np.random.default_rng(9)
    for t in range(320, 600):
        k = p.select(None)
        assert q.select(None) == k
        cost = _drifting_cost(t, p.arms[k], 600) * math.exp(0.2 * rng.standard_normal())
        p.update(k, cost)
        q.update(k, cost)
    assert q.drifts == p.drifts > 1
    np.testing.assert_array_equal(q.theta, p.theta)


def test_a_tuner_file_from_before_the_drift_test_loads(tmp_path):
    """A file of the learner with the jump test alone (no drift test state) loads with the
    drift test fresh and continues as the same learner saved with a fresh drift test; a file
    whose drift sums are impossible is refused by the entry's name."""
    tuner, systems, rng = _two_phase_tuner()
    for A in systems[:45]:
        tuner.solve(A, rng.standard_normal(A.shape[0]))
    tuner.policy.drift_level[:] = tuner.policy.drift_score[:] = 0.0
    tuner.save(tmp_path / "now.json")
    raw = json.loads((tmp_path / "now.json").read_text())
    for key in DRIFT_KEYS:
        del raw["policy"]["state"][key]
    (tmp_path / "before.json").write_text(json.dumps(raw))
    old, now = (bandit.Tuner.load(tmp_path / n) for n in ("before.json", "now.json"))
    q = old.policy
    assert q.detect_changes and q.drifts == 0 and not q.drift_score.any()
    A = systems[-1]
    for _ in range(10):
        b = rng.standard_normal(A.shape[0])
        assert old.solve(A, b).omega == now.solve(A, b).omega
    np.testing.assert_array_equal(old.policy.theta, now.policy.theta)

    raw = json.loads((tmp_path / "now.json").read_text())
    raw["policy"]["state"]["drift_score"] = bandit._base.to_jsonable(np.array([-1.0]))
    (tmp_path / "edited.json").write_text(json.dumps(raw))
    with pytest.raises(bandit.TunerFileError, match="drift_score"):
        bandit.Tuner.load(tmp_path / "edited.json")


def test_a_policy_state_saved_before_the_option_loads_without_it():
    p = JointCB(ARMS, seed=0)
    for t in range(5):
        p.update(p.select(None), 10.0 + t)
    old = p.state_dict()
    del old["config"]["detect_changes"]
    for key in ("cusum_up", "cusum_down", "forgotten", "prior_scale", "changes", *DRIFT_KEYS):
        del old["state"][key]
    q = bandit.Policy.from_state_dict(old)
    assert q.detect_changes is False and q.forgotten == 0.0 and q._scale() == p._scale()


def test_bad_detect_changes_is_refused():
    for bad in (1, None, "yes", 0.5):
        with pytest.raises(ValueError, match="detect_changes"):
            JointCB(ARMS, detect_changes=bad)
        with pytest.raises(ValueError, match="detect_drift"):
            JointCB(ARMS, detect_drift=bad)
