"""The configuration Tuner's own bookkeeping per solve (work per run, timed-work prices, the
copy of x0): every cost it tells equals one computed independently — from the public
solvers' iterations and :func:`solvers.work_model`, and from the run's own seconds by the
documented timed-work rule — on every sparsity pattern it meets."""
import numpy as np

import solvers
from bandit import FixedArm, Tuner, UniformRandom, config_grid
from solvers import gallery, prepare

GRID = config_grid(omegas=[1.2, 1.6], pcs=["none", "jacobi", "ic0"])


def _reference(config, A, b, x0):
    """The public solver's run of ``config`` and its work (the model's for the methods that
    do not count their own, ``pcg``'s own count otherwise)."""
    op = prepare(A)
    if config["method"] == "ssor_pcg":
        ref = solvers.ssor_pcg(op, b, config["omega"], x0=x0)
        model = solvers.work_model("ssor_pcg", op, {"pc": "ssor", "omega": config["omega"]})
        return ref, model.total(ref.iterations)
    if config["pc"] == "none":
        ref = solvers.cg(op, b, x0=x0)
        return ref, solvers.work_model("cg", op).total(ref.iterations)
    ref = solvers.pcg(op, b, config["pc"], x0=x0)
    return ref, ref.info["work"]


def _systems():
    """Crank–Nicolson steps on a 12 × 12 grid, then a 9 × 9 one, then 12 × 12 again (a new
    operator of the first pattern)."""
    rng = np.random.default_rng(3)
    for t, nx in enumerate([12] * 10 + [9] * 10 + [12] * 10):
        A = gallery.crank_nicolson_2d(nx, 0.02 * (1.0 + 0.1 * t))
        n = A.shape[0]
        yield A, rng.standard_normal(n), rng.standard_normal(n)


def test_work_costs_equal_the_work_model_of_the_public_solves_on_every_pattern():
    tuner = Tuner(UniformRandom(GRID, seed=1), cost="work", guard=None)
    want_costs, want_its, keep = [], [], []
    for A, b, x0 in _systems():
        keep.append(x0.copy())
        r = tuner.solve(A, b, x0=x0)
        ref, work = _reference(GRID[r.arm], A, b, x0)
        want_costs.append(work)
        want_its.append(ref.iterations)
        np.testing.assert_array_equal(r.x, ref.x)
        np.testing.assert_array_equal(x0, keep[-1])  # the caller's x0 is left alone
    h = tuner.history
    assert h["converged"].all()
    # the run met SSOR-PCG, CG and a set-up arm on both patterns (the work kept per arm
    # must follow the pattern)
    arms = h["arm"]
    for part in (arms[:10], arms[10:20], arms[20:]):
        assert {0, 1, 2} <= set(part.tolist()) and {3, 4} & set(part.tolist())
    assert h["iterations"].tolist() == want_its
    assert h["cost"].tolist() == want_costs


def test_timed_work_costs_follow_the_family_rate_from_the_runs_own_seconds():
    # ssor_pcg ω=1.6 alone: the first solve is told its seconds; the second the least of its
    # seconds and its work at the first (cold) reading; from then on its work at the median
    # seconds per unit of work of the warm solves before it (ArmSet.timed_work)
    tuner = Tuner(FixedArm(GRID, arm=1), guard=None)
    assert tuner.cost == "timed_work"
    works = []
    for A, b, x0 in _systems():
        r = tuner.solve(A, b, x0=x0)
        works.append(_reference(GRID[1], A, b, x0)[1])
        assert r.info["work"] == works[-1]
    h = tuner.history
    sec = h["seconds"].tolist()
    reading = [s / w for s, w in zip(sec, works)]
    want = [sec[0]]
    for t in range(1, len(sec)):
        if t == 1:
            cold = reading[0] * works[1]
            want.append(sec[1] if 0 < sec[1] <= cold else cold)
        else:
            warm = sorted(reading[1:t])
            m = len(warm)
            med = warm[m // 2] if m % 2 else 0.5 * (warm[m // 2 - 1] + warm[m // 2])
            want.append(med * works[t])
    assert h["cost"].tolist() == want


def test_the_timed_work_rate_is_the_least_median_of_each_window_as_the_rule_says():
    # the rule, from the readings themselves (statistics.median of each window of the last
    # 31 warm readings; once a window is full the rate may only fall), against the rate the
    # arm set keeps with its window sorted as readings come and go — over a long run with
    # repeated readings, and after a load replaces the window (Tuner.load)
    import pickle
    import statistics

    t = Tuner(FixedArm([{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}]),
              cost="timed_work")
    arms = t._arms
    rng = np.random.default_rng(0)
    readings = {f: [] for f in range(2)}
    rates = {f: None for f in range(2)}

    def expected(f):
        window = readings[f][-31:]
        q = statistics.median(window)
        if len(readings[f]) > 31 and rates[f] is not None and rates[f] <= q:
            return rates[f]
        return q

    for step in range(400):
        k = int(rng.integers(2))
        f = arms.family[k]
        arms._warm[k] = True
        r = float(rng.choice([1e-3, 2e-3, 3e-3])) if step % 3 else float(rng.uniform(1e-3, 5e-3))
        if step == 200:  # a tuner loaded from a file: its window is the fit's mean, repeated
            arms = pickle.loads(pickle.dumps(arms))
            arms._fit[f] = [40, 1.0, 1.0, 2e-3, 2e-3]
            arms.load_measured(dict(arms.measured_state(), fit=arms._fit))
            for g in range(2):
                n, sw, _, ss, _ = arms._fit[g]
                readings[g] = [ss / sw] * min(n, 31) if sw > 0 and ss > 0 else []
                rates[g] = ss / sw if readings[g] else None
        arms._price(k, f, r)
        readings[f].append(r)
        rates[f] = expected(f)
        assert arms._per_unit[f] == rates[f]
    assert all(len(readings[f]) > 60 for f in range(2))  # many full windows


def _state(arms):
    """Everything an arm set measured, as exact floats (repr), for a bit-for-bit comparison."""
    keep = {k: getattr(arms, k) for k in ("_all", "_rate", "_per_work", "_fit", "_recent",
                                           "_cold", "_per_unit", "_warm", "_warm_most")}
    return repr(keep) + repr(arms.measured_state())


def test_the_one_pass_accounting_of_a_plain_arm_is_bit_for_bit_the_two_passes():
    # ArmSet.record_plain (the Tuner's path for arms without a set-up of their own under
    # timed work) against attach_work then observe, fed the same runs: public SSOR-PCG, CG
    # and SOR results on two patterns, with seconds chosen to meet every branch of the price
    # (a family's cold first solve told its seconds or priced at its cold rate, warm solves
    # before and after a full window, a window that falls, a zero reading, a 0-iteration
    # start and a failed run)
    from bandit.armset import ArmSet

    grid = [{"method": "ssor_pcg", "omega": 1.2}, {"method": "ssor_pcg", "omega": 1.6},
            {"method": "cg", "pc": "none"}, {"method": "sor", "omega": 1.3}]
    one, two = (ArmSet(grid, "ssor_pcg", cost="timed_work") for _ in range(2))
    assert [one.plain_timed(k) for k in range(4)] == [True] * 4
    rng = np.random.default_rng(5)
    runs = {"ssor_pcg": lambda op, b, c: solvers.ssor_pcg(op, b, c["omega"]),
            "cg": lambda op, b, c: solvers.cg(op, b),
            "sor": lambda op, b, c: solvers.sor(op, b, c["omega"], maxiter=7)}
    tells = 0
    for t, (A, b, _) in enumerate(_systems()):
        op = prepare(A)
        for _ in range(5):
            k = int(rng.integers(4))
            res = runs[grid[k]["method"]](op, b, grid[k])
            if t == 12:
                res = res.replace(seconds=0.0)
            else:
                res = res.replace(seconds=float(rng.choice([1e-4, 2e-4, 5e-4]) * (
                    1.0 if t < 20 else 0.5)))
            if t == 25:
                res = res.replace(b_norm=0.0)  # (the work of a zero right-hand side: 0)
            r1, r2 = res.replace(info=dict(res.info)), res.replace(info=dict(res.info))
            one.record_plain(k, r1, op)
            two.attach_work(k, r2, op)
            two.observe(k, r2)
            assert repr(r1.info) == repr(r2.info)
            assert _state(one) == _state(two)
            tells += 1
    assert not all(r.converged for r in [runs["sor"](op, b, grid[3])])  # a failed run met
    # every family priced warm; SSOR-PCG's window full, and fallen once full
    assert one.family == [0, 0, 1, 2] and all(one._recent[f] for f in range(3))
    assert len(one._recent[0]) == 31 and tells == 150


def test_a_timed_work_tuner_accounts_its_plain_arms_as_the_two_passes_would():
    # the Tuner's own path: the costs it told, its history and everything its arms measured
    # equal the two passes replayed over its runs (as the solver returned them)
    from bandit.armset import ArmSet

    grid = [{"method": "ssor_pcg", "omega": 1.2}, {"method": "ssor_pcg", "omega": 1.6},
            {"method": "cg", "pc": "none"}]
    tuner = Tuner(UniformRandom(grid, seed=2), guard=None)
    assert tuner.cost == "timed_work"
    replay = ArmSet(grid, "ssor_pcg", cost="timed_work")
    replay.calls(None, {"rtol": 1e-8, "atol": 0.0, "backend": "numba"}, None)
    seen = []
    real = tuner._arms.record_plain

    def spy(k, res, op):
        seen.append((k, res.replace(info=dict(res.info)), op))
        return real(k, res, op)

    tuner._arms.record_plain = spy
    for A, b, x0 in _systems():
        tuner.solve(A, b, x0=x0)
    assert len(seen) == 30 and {k for k, _, _ in seen} == {0, 1, 2}
    for k, res, op in seen:
        replay.attach_work(k, res, op)
        replay.observe(k, res)
    assert tuner.history["cost"].tolist() == [r.info["timed_work"] for _, r, _ in seen]
    assert _state(tuner._arms) == _state(replay)
