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
    # seconds and its work at the first (cold) reading; from then on its work at the lower
    # median seconds per unit of work of the warm solves before it, fixed from the ninth
    # (ArmSet.timed_work: the reference family's price)
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
            warm = sorted(reading[1:min(t, 10)])
            want.append(warm[(len(warm) - 1) // 2] * works[t])
    assert len(sec) > 12  # the price was fixed within the run
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
    arms.paired_prices = False  # (the rule before paired prices, kept as an option)
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
