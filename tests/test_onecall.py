"""JointCB's round in one compiled call (``joint_decide``, ``joint_tell``) against its general
path (``one_call = False``: the features, the draw, the leader and the update as separate
calls): the same arms, leaders, predictions, models and saved states, bit for bit."""
import json
import math
import pickle

import numpy as np
import pytest

import bandit
import bandit.joint as joint
from bandit.prior import theory_costs  # noqa: F401  (the SOR prior's import, made once here)
from solvers import gallery

OMEGAS = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]


def _grid():
    from experiments.precond_study import default_grid

    return default_grid()


@pytest.fixture
def calls(monkeypatch):
    """How many rounds took the compiled round (draws, updates)."""
    n = {"decide": 0, "tell": 0}
    decide, tell = joint.joint_decide, joint.joint_tell

    def counted_decide(*args):
        n["decide"] += 1
        return decide(*args)

    def counted_tell(*args):
        n["tell"] += 1
        return tell(*args)

    monkeypatch.setattr(joint, "joint_decide", counted_decide)
    monkeypatch.setattr(joint, "joint_tell", counted_tell)
    return n


def _handed_read_only(features):
    """Whether the feature map's cached features are read-only when handed out (seals them,
    as handing them out does)."""
    return features._last is None or not features._cached().flags.writeable


def _same_caches(a, b):
    """The caches a round leaves (the feature map's last context and features, the draw's
    memo): an MPI rank's copy must equal rank 0's in every attribute."""
    fa, fb = a.features, b.features
    assert repr(fa._key) == repr(fb._key) and repr(a._key) == repr(b._key)
    assert (fa._last is None) == (fb._last is None)
    if fa._last is not None:
        assert fa._last.tobytes() == fb._last.tobytes()
        # read-only as handed out: the compiled draw leaves its features writable until the
        # feature map first hands them out (FeatureMap._cached seals them then)
        assert _handed_read_only(fa) == _handed_read_only(fb)
    assert repr(a._mu_of) == repr(b._mu_of)


def _same_state(a, b):
    """Every saved number of two learners, to the bit (NaN equal to NaN), and the caches."""
    sa, sb = json.dumps(a.state_dict(), sort_keys=True), json.dumps(b.state_dict(), sort_keys=True)
    assert sa == sb
    for key in ("P", "theta", "counts", "converged_counts", "cost_sums", "_mu"):
        assert getattr(a, key).tobytes() == getattr(b, key).tobytes(), key
    _same_caches(a, b)


def _cost(arm, omega, c, rng, t, jump):
    """A cost with a best ω that moves with the context, heavy-tailed noise (clipped readings)
    and, from round ``jump`` on, a change no context announces (the change test's alarms)."""
    w = 1.5 if omega is None else omega
    base = (20 + 150 * (w - 1.3 - 0.2 * c) ** 2 + 3 * (arm % 4)) * (1 + 0.5 * c)
    if jump is not None and t >= jump:
        base *= 4.0 + arm % 3
    return float(base * math.exp(rng.standard_t(2) / 5))


def _lockstep(make, contexts, steps=300, jump=None, censor_every=0, seed=1):
    """Two copies of a learner, one on each path, told the same costs; every round's arm,
    leader, distribution and predictions compared; returns the pair."""
    new, old = make(), make()
    old.one_call = False
    rng = np.random.default_rng(seed)
    for t in range(steps):
        c = contexts(rng, t)
        k = new.select(c)
        assert old.select(c) == k
        _same_caches(new, old)
        assert repr(new.leader(c)) == repr(old.leader(c))
        assert repr(new.p) == repr(old.p)
        arm = new.arms[k]
        cost = _cost(k, bandit.arm_omega(arm) if isinstance(arm, dict) else arm,
                     0.0 if c is None else float(np.sum(c)), rng, t, jump)
        censored = bool(censor_every and t % censor_every == 3)
        for p in (new, old):
            p.update(k, cost, c, censored)
        _same_caches(new, old)
        if t % 40 == 11:  # a query at another context between the draw and the update
            c2 = contexts(rng, t)
            for p in (new, old):
                p.predict(c2)
            k2 = new.select(c)
            assert old.select(c) == k2
            for p in (new, old):
                p.predict(c2)
            assert repr(new.leader(c)) == repr(old.leader(c))
            _same_caches(new, old)
        if t % 50 == 7:
            assert new.predict(c).tobytes() == old.predict(c).tobytes()
    _same_state(new, old)
    return new, old


def _uniform(lo, hi):
    return lambda rng, t: float(rng.uniform(lo, hi))


CASES = {
    "configurations (default learner)": (lambda: bandit.default_policy(None, _grid(), seed=0),
                                         {}),
    "ω only (default learner)": (lambda: bandit.default_policy("ssor_pcg", OMEGAS, seed=0), {}),
    "ω only, a change at round 150": (
        lambda: bandit.default_policy("ssor_pcg", OMEGAS, seed=0), {"jump": 150}),
    "configurations, censored costs": (
        lambda: bandit.default_policy(None, _grid(), seed=0), {"censor_every": 6}),
    "log target, optimism capped": (
        lambda: bandit.JointCB(OMEGAS, target="log", explore_within=3.0, seed=2), {}),
    "family layout, no change test": (
        lambda: bandit.JointCB(_grid(), arm_basis="family", explore_radius=1,
                               detect_changes=False, seed=2), {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_round_is_the_general_path_bit_for_bit(case, calls):
    make, kw = CASES[case]
    new, _ = _lockstep(make, _uniform(0.2, 3.0), **kw)
    # the compiled round ran (all but the rounds before the context varied, and the first
    # rounds of a widening range), so the comparison above compared it
    assert calls["decide"] > 250 and calls["tell"] > 250
    if "a change" in case:
        assert new.changes > 0  # the alarm (the discount after the compiled CUSUMs) ran
    if "censored" in case:
        assert new.counts.sum() > new.converged_counts.sum()


def test_widening_contexts_and_a_late_varying_one_take_the_general_path_where_needed(calls):
    """A context that widens the range every round (each a rescale on the general path) and
    one that stays put for 100 rounds (target="auto" models the cost until it varies)."""
    mk = lambda: bandit.default_policy(None, _grid(), seed=0)  # noqa: E731
    _lockstep(mk, lambda rng, t: float(1.0 + 0.01 * t), steps=200)
    widening = dict(calls)
    assert widening["decide"] < 190  # its widening rounds (each a rescale) on the general path
    _lockstep(mk, lambda rng, t: (float(1.0 + 0.001 * (t % 3)) if t < 100
                                  else float(rng.uniform(0.5, 2.0))), steps=200)
    assert calls["decide"] - widening["decide"] > 90  # after it varied


def test_the_prior_of_sor_with_its_shared_error_refreshed_after_the_compiled_update(calls):
    """The SOR default learner's prior (``prior_dir``: the shared error's downdates refreshed
    after every update) on the compiled round too."""
    A = gallery.laplacian_2d(12)

    def make():
        p = bandit.default_policy("sor", seed=0)
        p.prime(A, "sor")
        return p

    new, _ = _lockstep(make, _uniform(0.5, 2.0), steps=200)
    assert new.prior_dir is not None and calls["tell"] > 150


def test_learners_without_the_compiled_round_are_unchanged(calls):
    """IGW's draws, a model of the cost, a vector and no context: the general path,
    the same numbers whatever ``one_call`` says."""
    _lockstep(lambda: bandit.JointCB(OMEGAS, exploration="igw", seed=3), _uniform(0.2, 3.0),
              steps=150)
    # IGW draws on the general path; its updates (the same model) are compiled rounds
    assert calls == {"decide": 0, "tell": 149}
    calls["tell"] = 0
    _lockstep(lambda: bandit.JointCB(OMEGAS, target="cost", seed=3), _uniform(0.2, 3.0),
              steps=150)
    _lockstep(lambda: bandit.JointCB(OMEGAS, seed=3),
              lambda rng, t: [float(rng.uniform(0, 1)), float(rng.uniform(1, 2))], steps=100)
    _lockstep(lambda: bandit.default_policy(None, _grid(), seed=0), lambda rng, t: None,
              steps=150, jump=80)
    assert calls == {"decide": 0, "tell": 0}


def test_bad_input_is_refused_as_before():
    p = bandit.default_policy("ssor_pcg", OMEGAS, seed=0)
    for t in range(5):
        c = 0.5 + 0.1 * t
        p.update(p.select(c), 10.0 + t, c)
    state = json.dumps(p.state_dict())
    for args, words in (((99, 1.0, 0.7), "outside"), ((1, -1.0, 0.7), ">= 0"),
                        ((1, math.nan, 0.7), "NaN"), ((1, 1.0, math.nan), "finite")):
        with pytest.raises(ValueError, match=words):
            p.update(*args)
    with pytest.raises(ValueError, match="contradicts"):
        p.update(1, 1.0, 0.7, True, True)
    with pytest.raises(ValueError, match="pass context"):
        p.select(None)
    assert json.dumps(p.state_dict()) == state  # nothing recorded


def test_a_learner_saved_or_pickled_by_the_general_path_continues_identically(calls):
    """A state or a pickle taken from a run on the general path (the rounds of the library
    before the compiled round, number for number) continues on the compiled round as it
    would on the general path; a feature map pickled when its fast path held the range alone
    (four numbers) takes the compiled round again once loaded."""
    rng = np.random.default_rng(5)
    p = bandit.default_policy(None, _grid(), seed=0)
    p.one_call = False
    for t in range(80):
        c = float(rng.uniform(0.2, 3.0))
        k = p.select(c)
        p.update(k, _cost(k, None, c, rng, t, None), c)
    p.features._fast = p.features._fast[:4]  # as pickled before the basis's kind and size
    blob, state = pickle.dumps(p), p.state_dict()
    copies = [pickle.loads(blob), pickle.loads(blob),
              bandit.Policy.from_state_dict(state), bandit.Policy.from_state_dict(state)]
    for q in copies[1::2]:
        q.one_call = False
    for q in copies[::2]:
        q.one_call = True  # (the pickle kept the instance's False)
    assert len(copies[0].features._fast) == 6
    for t in range(120):
        c = float(rng.uniform(0.2, 3.0))
        ks = {q.select(c) for q in copies}
        assert len(ks) == 1
        k = ks.pop()
        cost = _cost(k, None, c, rng, t, None)
        for q in copies:
            q.update(k, cost, c)
    _same_state(copies[0], copies[1])
    _same_state(copies[2], copies[3])
    _same_state(copies[0], copies[2])
    assert calls["decide"] >= 2 * 110


def _tuner_run(kind, size, steps, make, one_call, **kw):
    from experiments.precond_study import make_sequence

    seq = make_sequence(kind, size, steps=steps, samples=steps)
    tuner = bandit.Tuner(make(seq), **kw)
    tuner.policy.one_call = one_call
    state, xs = seq.initial_state(), []
    for t in range(steps):
        A, b, x0, ctx = seq.system(seq.shared(t), state)
        r = tuner.solve(A, b, x0=x0, context=ctx)
        xs.append(r.x.tobytes())
        state = seq.advance(state, r.x)
    return tuner, xs


@pytest.mark.parametrize("kind, size, steps", [("mc3d", 5, 40), ("heat2d", 10, 60)])
def test_tuners_on_both_paths_make_the_same_run(kind, size, steps, tmp_path, calls):
    """The configuration Tuner with ``cost="work"`` (no clock in its choices) and the ω-only
    Tuner: the same history (every column but the clock's), solutions and saved policy."""
    grid = _grid()
    omegas = [c["omega"] for c in grid if c.get("method") == "ssor_pcg"]
    for make, kw in ((lambda s: bandit.default_policy(None, grid, context_bounds=s.bounds,
                                                      seed=0), {"cost": "work"}),
                     (lambda s: bandit.default_policy("ssor_pcg", omegas,
                                                      context_bounds=s.bounds, seed=0),
                      {"solver": "ssor_pcg"})):
        (new, xn), (old, xo) = (_tuner_run(kind, size, steps, make, flag, **kw)
                                for flag in (True, False))
        assert xn == xo
        hn, ho = new.history, old.history
        for col in hn:
            a, b = np.asarray(hn[col]), np.asarray(ho[col])
            if col in ("seconds", "tuner_seconds"):  # the clock's
                continue
            if a.dtype.kind == "O":
                assert a.tolist() == b.tolist(), col
            else:
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), col
        for t, name in ((new, "new"), (old, "old")):
            t.save(tmp_path / f"{name}.json")
        fn, fo = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("new", "old"))
        assert json.dumps(fn["policy"], sort_keys=True) == json.dumps(fo["policy"],
                                                                      sort_keys=True)
        _same_state(new.policy, old.policy)
        assert len(set(hn["arm"])) > 1
    assert calls["decide"] > steps  # both Tuners' rounds on the compiled path, most of them


def test_bench_percall_general_adds_the_general_path_side_by_side():
    """``--general``: the same learners on the general path in the same lockstep; the ω-only
    learner (cost = iterations) makes the same choices on both paths."""
    from experiments import bench_percall

    records = bench_percall.run_parts("mc3d", 4, steps=12, warmup=0, general=True)
    assert list(records) == ["fixed ω=1.6", "ω-only learner", "configuration learner",
                             "ω-only learner (general)", "configuration learner (general)"]
    a, b = records["ω-only learner"], records["ω-only learner (general)"]
    assert [r["arm"] for r in a] == [r["arm"] for r in b]
    assert [r["iterations"] for r in a] == [r["iterations"] for r in b]
