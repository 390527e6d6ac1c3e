"""The rounds told before ``timed_work``'s reference price is fixed, told again at that price
(:attr:`bandit.armset.ArmSet.retell_early`, :meth:`bandit.JointCB.retell`): the learner ends
as a learner made afresh and told the corrected costs from the start, bit for bit — on
hand-made rounds, through a configuration Tuner, and through a Tuner pickled mid-window; a
Tuner file saved mid-window loads and goes on; a policy that cannot be told again is left
alone."""
import copy
import math
import pickle
import time

import numpy as np
import pytest

import bandit
from bandit._prices import _BASE_READINGS

from test_cfg13_plain_fast import GRID, _FakeClock, _systems

_MODEL = ("P", "theta", "sq_err", "log_sq_err", "unit", "t", "forgotten", "cusum_up",
          "cusum_down", "changes", "counts", "converged_counts", "cost_sums")


def _model(policy):
    """The learner's model and counts, floats by their bits."""
    out = {}
    for key in _MODEL:
        v = getattr(policy, key)
        out[key] = v.tobytes() if isinstance(v, np.ndarray) else (
            float(v).hex() if isinstance(v, float) else v)
    return out


def _policy(grid=GRID, **kw):
    return bandit.JointCB(grid, context_bounds=(0.0, 4.1), arm_basis="omega",
                          explore_radius=1, **kw)


def _rounds(n=40, seed=0):
    """Hand-made rounds ``(context, arm, cost, censored, converged)``: a cost smooth in the
    context and the arm, with noise, a censored round among them."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        c = float(rng.uniform(0.0, 4.0))
        k = int(rng.integers(len(GRID)))
        cost = float((1.0 + 0.3 * k) * (1.0 + c) * math.exp(0.05 * rng.standard_normal()))
        out.append((c, k, cost, i == 7, i != 7))
    return out


@pytest.mark.parametrize("kw", [{}, {"exploration": "igw", "seed": 3}])
def test_retell_ends_as_a_fresh_learner_told_the_corrected_costs(kw):
    """A learner told its first 12 rounds at 0.2–4 × their cost, then told them again:
    the same model, noise scale, change test and counts as a learner made afresh and told
    the corrected costs from the start, though the told costs moved its fit and ``σ̂``."""
    rounds = _rounds()
    rng = np.random.default_rng(1)
    wrong = [(c, k, cost * float(rng.uniform(0.2, 4.0)) if i < 12 else cost, cens, conv)
             for i, (c, k, cost, cens, conv) in enumerate(rounds)]
    learner = _policy(**kw)
    start = copy.deepcopy(learner)
    for c, k, cost, cens, conv in wrong:
        learner.select(c)
        learner.update(k, cost, c, cens, conv)
    fresh = _policy(**kw)  # the independent reference: made anew, told right from the start
    for c, k, cost, cens, conv in rounds:
        fresh.select(c)
        fresh.update(k, cost, c, cens, conv)
    assert _model(learner) != _model(fresh)
    assert learner._scale() > 1.5 * fresh._scale()  # the wrong first costs widened σ̂
    learner.retell(start, rounds)
    assert _model(learner) == _model(fresh)
    assert learner.select(2.0) == fresh.select(2.0)
    np.testing.assert_array_equal(learner.predict(2.0), fresh.predict(2.0))
    assert _model(start) == _model(_policy(**kw))  # the start is left as it was


def test_retell_refuses_another_learner():
    with pytest.raises(ValueError, match="same 8 arms"):
        _policy().retell(bandit.JointCB([1.0, 1.5]), [])


def _run(tuner, systems, on_round=None):
    """Solve ``systems`` with ``tuner``; per round ``(context, arm, told cost, censored,
    converged, work without set-up, set-up charge, whether the price was fixed after it)``."""
    out = []
    for i, (A, b, kappa) in enumerate(systems):
        res = tuner.solve(A, b, context=kappa)
        info = res.info
        arms = tuner._arms
        k = res.arm if "explored" not in info else info["explored"]["arm"]
        out.append((kappa, k, info["cost"], bool(info["censored"]), bool(res.converged),
                    info["work"] - info.get("setup_work", 0.0),
                    info.get("setup_charged", 0.0) * info.get("clock_units", 1.0)
                    if arms._pcs[k] is not None else 0.0, arms._prices.fixed))
        if on_round is not None:
            tuner = on_round(i, tuner) or tuner
    return tuner, out


def _expected(tuner, rounds):
    """The rounds as a learner should have been told them: the reference family's before
    its price was fixed (that round included) at the fixed price times their work."""
    book = tuner._arms._prices
    fam = tuner._arms.family
    out, fixed_seen = [], False
    for c, k, cost, cens, conv, work, setup, fixed in rounds:
        if not fixed_seen and fam[k] == book.ref:
            cost = book.base * work + setup
        fixed_seen = fixed_seen or fixed
        out.append((c, k, cost, cens, conv))
    return out


def _told_fresh(rounds, grid=GRID):
    fresh = _policy(grid)
    for c, k, cost, cens, conv in rounds:
        fresh.select(c)
        fresh.update(k, cost, c, cens, conv)
    return fresh


def _tuner(on=True, grid=GRID):
    tuner = bandit.Tuner(_policy(grid), guard=None)
    tuner._arms.retell_early = on
    return tuner


@pytest.fixture
def clock(monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    return clock


def _check_retold(tuner, rounds, grid=GRID):
    book = tuner._arms._prices
    assert book.fixed and len(book.base_readings) >= _BASE_READINGS
    expected = _expected(tuner, rounds)
    changed = sum(e[2] != r[2] for e, r in zip(expected, rounds))
    assert changed >= 3  # early prices that differ from the fixed one were told
    assert _model(tuner.policy) == _model(_told_fresh(expected, grid))
    assert _model(tuner.policy) != _model(_told_fresh([r[:5] for r in rounds], grid))
    assert tuner._arms._early is None  # the record is dropped once the price is fixed


def test_tuner_retells_the_reference_family_at_its_fixed_price(clock):
    """A configuration Tuner (``timed_work``) whose reference family (SSOR-PCG) was told
    cold and unsettled prices: once the price is fixed its learner is the one a fresh
    learner becomes told those rounds at the fixed price, every later round as told."""
    tuner, rounds = _run(_tuner(), _systems(30))
    _check_retold(tuner, rounds)
    off, rounds_off = _run(_tuner(False), _systems(30))
    assert _model(off.policy) == _model(_told_fresh([r[:5] for r in rounds_off]))


def test_a_tuner_pickled_mid_window_retells_after_loading(clock):
    """Pickled before its price is fixed and loaded, a Tuner keeps the record and tells the
    rounds of both sides of the pickle again at the fixed price (arms without AMG: a pyamg
    hierarchy does not pickle)."""
    systems, grid = _systems(30), GRID[:7]

    def reload(i, tuner):
        if i == 4:
            assert not tuner._arms._prices.fixed and tuner._arms._early is not None
            return pickle.loads(pickle.dumps(tuner))
        return None

    tuner, rounds = _run(_tuner(grid=grid), systems, on_round=reload)
    _check_retold(tuner, rounds, grid)


def test_a_tuner_file_saved_mid_window_loads_and_goes_on(clock, tmp_path):
    """A Tuner file keeps the prices but not the record (a copy of the learner): saved
    mid-window it loads with the learner and the prices as saved, not yet fixed, keeps the
    rounds from the load on, and tells them again once the price is fixed."""
    systems = _systems(40)
    tuner, _ = _run(_tuner(), systems[:5])
    assert tuner._arms._early is not None
    path = tmp_path / "t.npz"
    tuner.save(path)
    loaded = bandit.Tuner.load(path)
    assert _model(loaded.policy) == _model(tuner.policy)
    book, saved = loaded._arms._prices, tuner._arms._prices
    assert not book.fixed and (book.ref, book.base, book.base_readings, book.tick) == (
        saved.ref, saved.base, saved.base_readings, saved.tick)
    start, rounds = loaded._arms._early
    assert rounds == [] and _model(start) == _model(tuner.policy)
    for A, b, kappa in systems[5:]:
        assert loaded.solve(A, b, context=kappa).converged
    assert loaded._arms._prices.fixed and loaded._arms._early is None


def test_a_policy_without_retell_is_left_alone(clock):
    """A policy that cannot be told again (SquareCB) keeps no record and learns as told."""
    tuner = bandit.Tuner(bandit.SquareCB(GRID, context_bounds=(0.0, 4.1)), guard=None)
    tuner._arms.retell_early = True
    for A, b, kappa in _systems(14):
        tuner.solve(A, b, context=kappa)
        assert getattr(tuner._arms, "_early", None) is None


def test_retell_keeps_a_wrapper_over_a_method_and_replays_on_the_copy():
    """A profiler's instance-attribute wrapper over ``select`` (as ``relaxtune bench percall``
    sets) is copied with the learner; the replay must still draw on the copy, and the
    learner keep its wrapper: the result equals a plain learner's retell."""
    import copy

    from bandit import JointCB

    def made():
        return JointCB([1.2, 1.5, 1.8], context_bounds=(0, 1))

    right = [(0.5, 1, 10.0, False, True), (0.2, 0, 14.0, False, True), (0.7, 2, 9.0, False, True)]
    wrong = [(0.5, 1, 40.0, False, True), *right[1:]]
    plain, wrapped = made(), made()
    calls = []
    inner = wrapped.select

    def counting(*args, **kwargs):
        calls.append(args)
        return inner(*args, **kwargs)

    wrapped.select = counting
    for p in (plain, wrapped):
        start = copy.deepcopy(p)
        for c, k, cost, cens, conv in wrong:
            p.select(c)
            p.update(k, cost, c, cens, conv)
        p.retell(start, right)
    assert len(calls) == len(wrong)  # the replay did not draw through the wrapper
    assert wrapped.__dict__["select"] is counting
    assert (wrapped.theta == plain.theta).all() and wrapped.sq_err == plain.sq_err
    assert wrapped.t == plain.t == len(right)
