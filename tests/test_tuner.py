"""bandit.Tuner: the loop wrapper (real solvers and a stand-in solver with known counts)."""
import json
import math
import os

import numpy as np
import pytest

import bandit
from bandit import Tuner, TunerFileError
from solvers import SolveResult, gallery

OMEGAS = [1.0, 1.3, 1.5, 1.7, 1.99]  # 1.99 is deliberately terrible on these systems


def systems(n, seed=0, m=8):
    rng = np.random.default_rng(seed)
    for c in rng.uniform(0.0, 0.4, n):
        yield gallery.shifted_laplacian_2d(m, c), rng.standard_normal(m * m), c


def rel_res(A, b, x):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


def test_loop_with_terrible_arm_always_converges_when_guarded():
    tuner = Tuner(bandit.UniformRandom(OMEGAS, seed=1), solver="sor", guard=3.0)
    for A, b, c in systems(25):
        r = tuner.solve(A, b, context=c)
        assert r.converged and r.reason == "converged"
        assert rel_res(A, b, r.x) <= 1e-8
        assert r.settings == {"omega": OMEGAS[r.arm]}
        if "explored" in r.info:
            ex = r.info["explored"]
            assert ex["censored"] and ex["iterations"] == ex["budget"] < r.iterations
            assert r.arm != ex["arm"] and r.omega == OMEGAS[r.arm]
    h = tuner.history
    stopped = h["censored"] & (h["fallback_arm"] >= 0)
    assert np.any(stopped & (h["arm"] == 4))  # the terrible arm was stopped and finished
    assert np.all(h["converged"])
    s = tuner.summary()
    assert s["rounds"] == 25 and s["fallbacks"] == int(stopped.sum())
    assert s["total_iterations"] == h["iterations"].sum()
    # guarding pays: the same arm choices unguarded spend far more on 1.99
    free = Tuner(bandit.UniformRandom(OMEGAS, seed=1), solver="sor", guard=None)
    total = sum(free.solve(A, b, context=c).iterations for A, b, c in systems(25))
    assert s["total_iterations"] < 0.7 * total


class StandIn:
    """Fake solver: needs ``need(ω)`` iterations from x0 = None, half as many from a warm x0."""

    def __init__(self, need):
        self.need, self.calls = need, []

    def __call__(self, A, b, omega=None, *, x0=None, rtol, atol, maxiter, backend):
        n = self.need[omega] if x0 is None else self.need[omega] // 2
        its = min(n, maxiter)
        self.calls.append((omega, maxiter, x0 is not None))
        return SolveResult(x=np.full(3, float(its)), iterations=its, converged=its == n,
                           residual_norm=0.0 if its == n else 1.0, omega=omega,
                           solver="stand-in", reason="converged" if its == n else "maxiter",
                           seconds=1e-3 * its, maxiter=maxiter)


def test_guard_budget_censoring_and_fallback_by_hand():
    need = {1.0: 100, 1.5: 20, 1.9: 1000}
    fake = StandIn(need)
    tuner = Tuner(bandit.FixedArm([1.0, 1.5, 1.9], arm=1), solver=fake, guard=2.5)
    tuner.solve(None, None)                      # learns arm 1 costs 20
    tuner.policy.arm = 2                          # force an exploratory arm
    r = tuner.solve(None, None)
    assert fake.calls[-2:] == [(1.9, 50, False), (1.5, 10_000, True)]  # budget 2.5·20
    assert r.converged and r.iterations == 50 + 10 and r.arm == 1
    assert r.info["explored"] == {"arm": 2, "omega": 1.9, "iterations": 50, "seconds": 0.05,
                                  "reason": "maxiter", "censored": True, "budget": 50,
                                  "restarted": False}
    p = tuner.policy
    assert p.counts.tolist() == [0, 1, 1] and p.cost_sums[2] == 50  # censored cost fed back
    h = tuner.history
    assert h["arm"].tolist() == [1, 2] and h["censored"].tolist() == [False, True]
    assert h["fallback_arm"].tolist() == [-1, 1] and h["iterations"].tolist() == [20, 60]
    # the predicted best arm itself is never capped below maxiter
    tuner.policy.arm = 1
    tuner.solve(None, None)
    assert fake.calls[-1] == (1.5, 10_000, False)


class Recorder(bandit.FixedArm):
    """FixedArm that records what the Tuner feeds it (optionally asking for round costs)."""

    def __init__(self, arms, arm, round_cost):
        super().__init__(arms, arm=arm)
        self.report_round_cost = round_cost
        self.fed = []

    def update(self, arm, cost, context=None, censored=False, converged=None):
        self.fed.append((arm, cost, censored))
        super().update(arm, cost, context, censored, converged)


@pytest.mark.parametrize("round_cost", [False, True])
def test_stopped_exploration_feeds_attempt_or_round_cost(round_cost):
    fake = StandIn({1.0: 100, 1.5: 20, 1.9: 1000})
    p = Recorder([1.0, 1.5, 1.9], 1, round_cost)
    tuner = Tuner(p, solver=fake, guard=2.5)
    tuner.solve(None, None)
    p.arm = 2
    r = tuner.solve(None, None)  # stopped at 50, finished by arm 1 in 10 more
    assert r.iterations == 60 and r.arm == 1
    # a regression learner gets the attempt's lower bound; an adversarial one what the round cost
    assert p.fed[-1] == ((2, 60.0, False) if round_cost else (2, 50.0, True))
    assert tuner.history["cost"].tolist() == [20.0, 60.0 if round_cost else 50.0]
    assert tuner.history["censored"].tolist() == [False, True]  # the attempt was stopped


def test_adversarial_learners_take_round_costs():
    assert bandit.TsallisINF.report_round_cost and bandit.TsallisINFCB.report_round_cost
    assert bandit.SmoothIGW.report_round_cost
    assert not bandit.ChebCB.report_round_cost and not bandit.JointCB.report_round_cost


def test_leader_failing_falls_back_to_another_arm():
    # round 0, no leader: arm 1 needs more than maxiter, the chain tries arm 0 (the smallest ω
    # would be first for "sor"; a custom solver's conservative arm is the first of the list)
    fake = StandIn({1.0: 50, 1.5: 20_000})
    tuner = Tuner(bandit.FixedArm([1.0, 1.5], arm=1), solver=fake, maxiter=100)
    r = tuner.solve(None, None)
    assert r.converged and r.arm == 0 and r.iterations == 100 + 50
    assert fake.calls == [(1.5, 100, False), (1.0, 100, False)]
    assert [a["arm"] for a in r.info["attempts"]] == [1, 0]
    assert tuner.history["censored"].tolist() == [True]
    assert tuner.history["fallback_arm"].tolist() == [0]
    # a failure is charged maxiter, and the arm that failed is never the leader
    assert tuner.policy.cost_sums.tolist() == [0.0, 100.0]
    assert tuner.policy.leader() == (None, pytest.approx(math.nan, nan_ok=True))


def test_not_converged_result_only_when_every_arm_fails():
    fake = StandIn({1.0: 5_000, 1.5: 20_000})
    tuner = Tuner(bandit.FixedArm([1.0, 1.5], arm=1), solver=fake, maxiter=100)
    r = tuner.solve(None, None)
    assert not r.converged and r.reason == "maxiter" and r.info["all_arms_failed"]
    assert "every arm failed" in r.info["failure"]
    assert r.iterations == 200  # both arms ran to maxiter from x0: final, no last resort
    assert fake.calls == [(1.5, 100, False), (1.0, 100, False)]
    assert tuner.history["censored"].tolist() == [True]
    assert not tuner.history["converged"][0]


def test_cost_time_feeds_seconds():
    fake = StandIn({1.0: 100, 1.5: 20})
    tuner = Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver=fake, cost="time")
    for _ in range(12):
        tuner.solve(None, None)
    h = tuner.history
    ok = ~h["censored"]
    assert ok.sum() >= 6 and h["censored"].sum() >= 1  # arm 0 (100 its) gets stopped at 3·20
    np.testing.assert_allclose(h["cost"][ok], h["seconds"][ok])
    np.testing.assert_allclose(h["cost"][~ok], 0.060)  # the stopped attempt's own seconds
    np.testing.assert_allclose(tuner.policy.cost_sums.sum(), h["cost"].sum())
    assert tuner.summary()["cost"] == "time"
    # time budget converts to iterations through seconds per iteration (1 ms here)
    assert tuner._budget(0, 1, 0.020) == math.ceil(3.0 * 20)


def test_cost_time_with_real_solver():
    tuner = Tuner(bandit.SmoothIGW(OMEGAS[:4], seed=0), solver="ssor_pcg", cost="time")
    results = [tuner.solve(A, b) for A, b, c in systems(6)]
    assert all(r.converged for r in results)
    h = tuner.history
    assert np.all(h["cost"] > 0) and np.all(np.isfinite(h["cost"]))
    # the learner is fed wall-clock seconds (not iterations): each uncensored round's cost is
    # exactly the seconds of the solve the user got back — but an arm's first run in the
    # process, once its family has warm runs, is told at most the family's warm seconds per
    # iteration (the cold run is paid once per family, ArmSet.cold_time)
    seen = set()
    for r, arm, cost, censored in zip(results, h["arm"], h["cost"], h["censored"]):
        if not censored:
            assert cost != r.iterations
            if arm in seen:
                assert cost == r.seconds
            else:
                assert 0 < cost <= r.seconds
        seen.add(arm)


def test_save_load_round_trip_continues_identically(tmp_path):
    make = lambda: Tuner(bandit.ChebCB(OMEGAS, context_bounds=(0.0, 0.4), seed=3), solver="sor",
                         audit_budget=0.5, audit_seed=7)
    data = list(systems(16, seed=2))
    a = make()
    for A, b, c in data[:8]:
        a.solve(A, b, context=c)
    path = tmp_path / "tuner.json"
    a.save(path)
    assert os.listdir(tmp_path) == ["tuner.json"]  # no temp file left behind
    assert json.loads(path.read_text())["version"] == 3
    b_ = Tuner.load(path)
    assert len(b_.history["arm"]) == 8 and b_.audits["round"].size == a.audits["round"].size
    for A, b, c in data[8:]:
        ra, rb = a.solve(A, b, context=c), b_.solve(A, b, context=c)
        assert (ra.arm, ra.iterations) == (rb.arm, rb.iterations)
    for k in ("arm", "iterations", "converged", "censored", "context", "p", "leader", "budget"):
        np.testing.assert_array_equal(a.history[k], b_.history[k])
    for k in ("round", "arm", "row", "iterations", "cap"):
        np.testing.assert_array_equal(a.audits[k], b_.audits[k])


def test_corrupt_missing_and_wrong_version_files(tmp_path):
    t = Tuner(bandit.TsallisINF(OMEGAS, seed=0), solver="sor")
    for A, b, c in systems(3):
        t.solve(A, b)
    good = tmp_path / "good.json"
    t.save(good)
    text = good.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text(text[: len(text) // 2])
    with pytest.raises(TunerFileError, match="corrupt"):
        Tuner.load(bad)
    bad.write_text(text.replace('"version": 3', '"version": 4', 1))
    with pytest.raises(TunerFileError, match="version 4"):
        Tuner.load(bad)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(TunerFileError, match="not a relaxtune.tuner"):
        Tuner.load(bad)
    with pytest.raises(TunerFileError, match="no such file"):
        Tuner.load(tmp_path / "missing.json")
    # an empty path is neither the working folder nor "no such file" with no name
    with pytest.raises(TunerFileError, match="an empty path is no relaxtune.tuner file"):
        Tuner.load("")
    for save in (t.save, t.to_csv):
        with pytest.raises(FileNotFoundError, match="cannot save to an empty path"):
            save("")
    payload = json.loads(text)
    del payload["rows"]
    bad.write_text(json.dumps(payload))
    with pytest.raises(TunerFileError, match="incomplete"):
        Tuner.load(bad)
    assert Tuner.load(good).summary()["rounds"] == 3


def test_audits_are_off_the_clock_and_off_the_learner():
    """Audits change neither the results, nor the user's seconds, nor what the policy
    learns: the same seeds give the same arms, iterations and seconds-free history with and
    without audits."""
    data = list(systems(40, seed=3))
    runs = {}
    for budget in (0.0, 1.0):
        tuner = Tuner(bandit.TsallisINF(OMEGAS, seed=4), solver="sor", audit_budget=budget,
                      audit_seed=1)
        results = [tuner.solve(A, b) for A, b, c in data]
        runs[budget] = (tuner, results)
    (plain, r0), (audited, r1) = runs[0.0], runs[1.0]
    assert [r.arm for r in r0] == [r.arm for r in r1]
    assert [r.iterations for r in r0] == [r.iterations for r in r1]
    np.testing.assert_array_equal(plain.policy.cost_sums, audited.policy.cost_sums)
    assert audited.audits["round"].size > 0 and audited.audit_seconds > 0
    # the recorded seconds are the played solve's own, audits apart
    np.testing.assert_array_equal(audited.history["seconds"], [r.seconds for r in r1])
    s = audited.summary()
    assert s["audits"]["audit_runs"] == audited.audits["round"].size
    assert s["total_seconds"] == pytest.approx(sum(r.seconds for r in r1))
    assert np.array_equal(audited.history["audit_runs"],
                          np.bincount(audited.audits["round"], minlength=40))


def test_summary_without_audits_says_how_it_estimated():
    t = Tuner(bandit.SmoothIGW(OMEGAS, seed=0), solver="sor")
    assert t.summary()["regret"]["method"] == "no rounds yet"
    for A, b, c in systems(5):
        t.solve(A, b)
    reg = t.summary()["regret"]["best_fixed"]
    assert "importance weights" in reg["method"] and reg["unbiased"]
    assert reg["low"] <= reg["estimate"] <= reg["high"]
    t = Tuner(bandit.ChebLCB(OMEGAS, context_bounds=(0, 0.4)), solver="sor")
    for A, b, c in systems(5):
        t.solve(A, b, context=c)
    reg = t.summary()["regret"]["best_fixed"]
    assert "biased, no interval" in reg["method"] and not reg["unbiased"]
    assert np.isnan(reg["low"]) and np.isnan(reg["high"])


def test_dict_arms_and_argument_errors():
    arms = [{"omega": 1.2, "order": "paper"}, {"omega": 1.5, "order": "textbook"}]
    t = Tuner(bandit.UniformRandom(arms, seed=0), solver="ssor_pcg")
    for A, b, c in systems(3):
        r = t.solve(A, b)
        assert r.converged and r.settings == arms[r.arm]
    with pytest.raises(ValueError, match="unknown solver"):
        Tuner(bandit.FixedArm([1.0]), solver="gmres")
    with pytest.raises(ValueError, match="cost"):
        Tuner(bandit.FixedArm([1.0]), cost="flops")
    with pytest.raises(ValueError, match="guard"):
        Tuner(bandit.FixedArm([1.0]), guard=0.5)
    with pytest.raises(ValueError, match="policy"):
        Tuner("tsallis")
    with pytest.raises(ValueError, match="custom solver"):
        Tuner(bandit.FixedArm([1.0]), solver=StandIn({1.0: 1})).save("x.json")


@pytest.mark.parametrize("name", ["smooth_igw", "tsallis_inf", "tsallis_inf_cb"])
def test_best_arm_for_guard_and_fallback_has_data_of_its_own(name):
    cls = bandit.POLICIES[name]
    p = cls(OMEGAS, context_bounds=(0, 1), seed=0) if cls.contextual else cls(OMEGAS, seed=0)
    p.update(2, 40.0, context=0.5)
    assert np.isnan(np.delete(p.predict(0.5), 2)).all() or name == "smooth_igw"
    t = Tuner(p, solver="sor")
    arm, best, pred, dist = t.decide(0.5)
    assert (dist is None) == (not p.randomised)
    # Tsallis: the self-normalised importance-weighted mean, the arm's one cost (L / t, the
    # cost over its probability 1/5 per round, had predicted 200)
    assert best == 2 and pred == pytest.approx(40.0)
