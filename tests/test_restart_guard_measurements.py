"""A loaded Tuner guards as the uninterrupted one: the tuner file keeps what the guard, the
prices and the set-up reuse of configuration arms (:class:`bandit.armset.ArmSet`) read of the
runs before the save — the families' costs per iteration and fits, the set-ups measured and
their clock readings, the cheapest solve with each, the rounds kept set-ups served and could
serve, the families' warm readings and ``timed_work``'s paired prices.  What it leaves out
is this process's: the preconditioner set-ups held, which arms have run in it (their next
reading is warm), its cold readings and the machine's speed at its latest readings
(docs/guarantees.md, *What a tuner file holds*).

* switch2d on 32² cells, the default configuration grid, ``cost="work"`` (deterministic):
  saved where the systems change (no set-up held then serves a later step), the loaded tuner
  plays, caps and pays every step after the load as the uninterrupted run does.
* Saved in the middle of a phase, the uninterrupted run holds IC(0)'s factorisation of the
  very matrix its step 14 solves, and the loaded one must build it again: a strict expected
  failure, the guard's reading of that set-up (below).
* Every cost: the measurements of a loaded tuner are the saved tuner's, and with
  ``cost="time"`` every arm's guard budget, a set-up measured before the save weighed at its
  measured cost, not its lower bound.
* Files written before these measurements were kept (tests/data/measured_before) load as they
  did, and the new entries are checked on load.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import bandit
from experiments._problems_unseen3 import SwitchHeat2D
from solvers import gallery
from solvers._operator import prepare

STEPS = 60
BEFORE = Path(__file__).resolve().parent / "data" / "measured_before"


def _tuner(ctx, cost="work"):
    policy = bandit.default_policy(None, bandit.config_grid(), seed=0,
                                   context_bounds=(min(ctx), max(ctx)))
    return bandit.Tuner(policy, cost=cost)


def _run(tuner, sim, ctx, start, stop, u):
    for k in range(start, stop):
        u = tuner.solve(sim.matrix(k), u + sim.dt, x0=u, context=ctx[k]).x
    return u


def _switch(saved, seen, tmp_path):
    sim = SwitchHeat2D(32, STEPS)
    ctx = [float(c) for c in sim.contexts()]
    whole = _tuner(ctx)
    _run(whole, sim, ctx, 0, seen, np.zeros(sim.n))
    part = _tuner(ctx)
    u = _run(part, sim, ctx, 0, saved, np.zeros(sim.n))
    part.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    _run(loaded, sim, ctx, saved, seen, u)
    return sim, whole, loaded


def test_a_loaded_tuner_guards_as_the_uninterrupted_one(tmp_path):
    """Saved after step 19, where the systems switch to the checkerboard (no set-up held then
    serves a later step: each arm builds afresh in both runs), the 24 steps after the load
    play the same arms with the same guard budgets, iterations and costs; the loaded arm set
    measures as the uninterrupted one's."""
    saved, seen = 20, 44
    sim, whole, loaded = _switch(saved, seen, tmp_path)
    assert sim.phase[saved - 1] != sim.phase[saved]
    w, l = whole.history, loaded.history
    assert list(l["budget"][saved:]) == list(w["budget"][saved:])
    for column in ("arm", "iterations", "cost", "fallback_arm", "converged", "censored"):
        assert list(l[column]) == list(w[column]), column
    # a rival's try capped after the load, and one refused, as uninterrupted
    caps = [int(v) for v in w["budget"][saved:]]
    assert any(0 < c < whole.maxiter for c in caps) and 0 in caps
    assert loaded._arms.measured_state() == whole._arms.measured_state()


@pytest.mark.xfail(strict=True, reason=(
    "a loaded tuner holds no preconditioner set-up (the factorisation is this process's, not a "
    "measurement): IC(0)-CG's try at step 14, which the uninterrupted run makes on the "
    "factorisation of that very matrix it built at step 8 (no set-up to pay, so the guard "
    "does not weigh its cheapest solve), must build it again after the load, and its measured "
    "set-up plus its cheapest solve seen exceed the leader's predicted cost "
    "(docs/guarantees.md, What a tuner file holds)"))
def test_a_set_up_held_across_the_save(tmp_path):
    """Saved after step 12, in the middle of a phase: the same draws up to IC(0)-CG's try at
    step 14; the uninterrupted run lets it run 26 iterations on the set-up it holds, the
    loaded one weighs the set-up it must build at its measured cost (not its lower bound, 0
    for IC(0)) plus the cheapest IC(0) solve seen, and refuses it."""
    saved, seen = 12, 16
    _, whole, loaded = _switch(saved, seen, tmp_path)
    assert list(loaded.history["arm"][:15]) == list(whole.history["arm"][:15])
    ic0 = int(whole.history["arm"][14])
    assert whole.arm_labels[ic0] == "cg+ic0"
    assert whole.history["budget"][14] == 26
    key = whole._arms.configs[ic0].setup_key
    at_save = bandit.Tuner.load(tmp_path / "t.json")._arms
    measured = at_save._setup[key] + at_save._solve_floor[key]
    assert at_save._setup[key] > at_save.setup_prior(ic0, None) == 0.0
    if loaded.history["budget"][14] == 0:  # refused on the measured bound, and told it
        assert loaded.history["cost"][14] == measured
    assert list(loaded.history["budget"]) == list(whole.history["budget"])


# -- every cost: the measurements a loaded tuner goes on from ---------------------------------

GRID = bandit.config_grid([1.0, 1.5], ["none", "ic0", "amg"], reuse=[0, 2])


def _small_run(cost, steps=14, nx=12):
    """A configuration tuner over SSOR-PCG, plain CG, IC(0)-CG and AMG-CG (each preconditioner
    also kept for 2 rounds) on an ``nx × nx`` Laplacian whose values change every third step."""
    A = gallery.laplacian_2d(nx).tocsr()
    b = np.ones(A.shape[0])
    tuner = bandit.Tuner(bandit.JointCB(GRID, m=3, seed=1), cost=cost)
    for k in range(steps):
        tuner.solve(A * (1.0 + 0.25 * (k // 3)), b * (1 + 0.1 * k), context=0.1 * (k % 3))
    return tuner, A


def _measurements(arms):
    """What an arm set has measured, as plain numbers (the set-ups' lifetimes through what a
    set-up is told to serve)."""
    book = arms._prices
    return {"state": arms.measured_state(), "warm_most": list(arms._warm_most),
            "time_recent": [list(r) for r in arms._time_recent or []],
            "readings": {k: list(v) for k, v in arms._setup_readings.items()},
            "serves": [arms.serves(k) for k in range(len(arms.labels))],
            "prices": None if book is None else repr(
                (book.ref, book.base, book.fixed, book.base_readings, book.ratio,
                 book.samples, book.tick))}


@pytest.mark.parametrize("cost", ["work", "time", "timed_work"])
def test_a_loaded_tuner_has_the_saved_measurements(cost, tmp_path):
    """Every measurement the guard, the prices and the set-up reuse read is the saved tuner's
    after the load (bit for bit: the file's floats are exact), whatever the cost."""
    tuner, _ = _small_run(cost)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    want, got = _measurements(tuner._arms), _measurements(loaded._arms)
    assert got == want
    if cost != "work":  # clock readings the file now keeps
        assert any(want["warm_most"]) and want["readings"]
    if cost == "time":
        assert any(want["time_recent"])
    if cost == "timed_work":
        assert tuner._arms._prices.ref >= 0 and want["prices"] == got["prices"]


def test_a_loaded_tuner_tells_a_kept_set_up_over_the_rounds_its_set_ups_served(tmp_path):
    """An IC(0) set-up kept for 3 rounds on systems whose pattern changes every other step
    serves one further round before it is replaced: the loaded tuner tells its next set-up over
    the 2 solves its set-ups served, as the uninterrupted one does, not over its whole window
    (4); the told costs after the load are the uninterrupted run's."""
    import scipy.sparse as sp

    A = gallery.laplacian_2d(12).tocsr()
    n = A.shape[0]
    B = (A + 0.01 * sp.diags([np.ones(n - 2), np.ones(n - 2)], [-2, 2])).tocsr()
    grid = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "ic0", "reuse": 3}]
    b = np.ones(n)

    def run(tuner, start, stop):
        for k in range(start, stop):
            tuner.solve((A if k // 2 % 2 else B) * (1 + 0.1 * k), b, context=0.0)

    whole = bandit.Tuner(bandit.FixedArm(grid, arm=1), cost="work", guard=None)
    run(whole, 0, 12)
    part = bandit.Tuner(bandit.FixedArm(grid, arm=1), cost="work", guard=None)
    run(part, 0, 8)
    assert part._arms.serves(1) == 2.0
    part.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    assert loaded._arms.serves(1) == 2.0
    run(loaded, 8, 12)
    assert list(loaded.history["cost"]) == list(whole.history["cost"])


def _op(A):
    """A matrix no set-up of either tuner was built for (so every arm would build its own)."""
    return prepare((A * 7.5).tocsr())


def _budgets(tuner, op, pred):
    arms = tuner._arms
    out = []
    for leader in range(len(arms.labels)):
        for k in range(len(arms.labels)):
            if k != leader and not arms.configs[k].reuse:
                for proven in (True, False):
                    cap = arms.budget(k, tuner.guard, pred, op, tuner.maxiter,
                                      leader=leader, proven=proven)
                    out.append((leader, k, proven, cap, arms.skip_floor(k, op) if cap == 0
                                else None))
    return out


def test_with_cost_time_the_guard_weighs_the_saved_measurements(tmp_path):
    """``cost="time"``: every arm's guard budget after the load, against every leader, is the
    saved tuner's — its measured set-ups weighed at their measured cost (IC(0)'s lower bound
    before a measurement is 0), a rival's first AMG set-up against the leader family's dearest
    warm solve.  For that rule to decide whatever this machine's clock read, the families'
    warm solves and latest solves are set to a slow machine's (1 s) before the save, and the
    clock floors of AMG set-ups, this process's calibrations (not saved), to 1 ns in both."""
    tuner, A = _small_run("time")
    arms = tuner._arms
    arms._warm_most = [1.0] * len(arms._warm_most)
    arms._latest_solve = [1.0 if v > 0 else 0.0 for v in arms._latest_solve]
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    op = _op(A)
    ic0 = [k for k, c in enumerate(arms.configs) if c.pc == "ic0" and not c.reuse][0]
    key = arms.configs[ic0].setup_key
    assert arms.setup_prior(ic0, op) == 0.0 and arms._setup[key] > 0
    assert loaded._arms.setup_estimate(ic0, op) == arms._setup[key]
    for each in (arms, loaded._arms):
        for c in each.configs:
            if c.pc == "amg":
                each._clock_floor[(c.setup_key, op.n, op.nnz)] = 1e-9
                each._clock_price[(c.setup_key, op.n, op.nnz)] = 1e-9
    amg = [k for k, c in enumerate(arms.configs) if c.pc == "amg"]
    assert all(arms.configs[k].setup_key not in arms._setup for k in amg)
    want, got = _budgets(tuner, op, 1.0), _budgets(loaded, op, 1.0)
    assert got == want
    # the rule of the leader family's warm solves let a rival's first AMG try start
    assert any(cap > 0 for leader, k, _, cap, _ in want if k in amg
               and arms.family[leader] != arms.family[k])


# -- files written before ----------------------------------------------------------------------

@pytest.mark.parametrize("cost", ["work", "time", "timed_work"])
def test_a_file_written_before_loads_as_it_did(cost, tmp_path):
    """A file whose ``measured`` holds neither warm readings, set-up readings, lifetimes nor
    prices loads as before: no warm reading, each set-up's cost its one reading, each
    family's cost per iteration its warm one (``time``), lifetimes none, the prices from the
    fits (the family with the most solves the reference, fixed); it solves on and saves them."""
    path = BEFORE / f"{cost}.json"
    saved = json.loads(path.read_text())["measured"]
    assert not {"warm_most", "time_recent", "setup_readings", "lifetimes",
                "prices"} & set(saved)
    loaded = bandit.Tuner.load(path)
    arms = loaded._arms
    F = len(saved["rate"])
    assert arms._warm_most == [0.0] * F
    assert arms._setup_readings == ({} if cost == "work" else {
        arms.configs[k].setup_key: [v] for k, v in saved["setup"]})
    if cost == "time":
        assert arms._time_recent == [[c / n] if n and c > 0 else [] for c, n in saved["rate"]]
    assert [arms.serves(k) for k in range(len(arms.labels))] == [
        1.0 + c.reuse for c in arms.configs]
    book = arms._prices
    fits = saved["fit"]
    if any(f[1] > 0 for f in fits):
        ref = max((f for f in range(F) if fits[f][1] > 0), key=lambda f: fits[f][0])
        assert book.fixed and book.ref == ref and book.base == fits[ref][3] / fits[ref][1]
    A = gallery.laplacian_2d(6).tocsr()
    for k in range(3):
        assert loaded.solve(A * 3.0, np.ones(36), context=0.1 * k).converged
    loaded.save(tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())["measured"]
    assert {"warm_most", "time_recent", "setup_readings", "lifetimes", "prices"} <= set(again)
    assert _measurements(bandit.Tuner.load(tmp_path / "again.json")._arms) == _measurements(
        loaded._arms)


# -- checked on load ---------------------------------------------------------------------------

NAN = {"__float__": "nan"}


def _edit(measured, field, value):
    if "." in field:
        head, tail = field.split(".")
        measured[head] = dict(measured[head], **{tail: value})
    else:
        measured[field] = value


@pytest.mark.parametrize("field, value, message", [
    ("warm_most", [1e-5], "measured.warm_most must hold one entry per family"),
    ("warm_most", [-1.0, 0.0, 0.0, 0.0], "measured.warm_most must hold one cost >= 0"),
    ("warm_most", [NAN, 0.0, 0.0, 0.0], "measured.warm_most must hold one cost >= 0"),
    ("warm_most", "0", "measured.warm_most must hold one cost >= 0"),
    ("time_recent", [[], [], []], "measured.time_recent must hold one entry per family"),
    ("time_recent", [[1e-6] * 32, [], [], []], "measured.time_recent must hold per family"),
    ("time_recent", [[-1e-6], [], [], []], "measured.time_recent must hold per family"),
    ("time_recent", [[True], [], [], []], "measured.time_recent must hold per family"),
    ("setup_readings", [[0, [1e-5]]], "measured.setup_readings names arm 0, which has no"),
    ("setup_readings", [[3, []]], r"measured.setup_readings must be \[arm index"),
    ("setup_readings", [[3, [1e-5] * 4]], r"measured.setup_readings must be \[arm index"),
    ("setup_readings", [[3, [NAN]]], r"measured.setup_readings must be \[arm index"),
    ("setup_readings", [[99, [1e-5]]], "measured.setup_readings names arm 99"),
    ("lifetimes", [[4, [3.0]]], "measured.lifetimes of arm 4 must lie between 0 and its reuse"),
    ("lifetimes", [[0, [0.0]]], "measured.lifetimes names arm 0, which has no set-up"),
    ("lifetimes", [[4, [-1.0]]], r"measured.lifetimes must be \[arm index"),
    ("lifetimes", [[4, "2"]], r"measured.lifetimes must be \[arm index"),
    ("prices", [], "measured.prices must be null or hold exactly"),
    ("prices.ref", 4, "measured.prices.ref must be a family index"),
    ("prices.ref", -2, "measured.prices.ref must be a family index"),
    ("prices.ref", 0.5, "measured.prices.ref must be a family index"),
    ("prices.base", -1.0, "measured.prices.base must be a price > 0"),
    ("prices.base", "1", "measured.prices.base must be a price > 0"),
    ("prices.fixed", 1, "measured.prices.fixed must be true or false"),
    ("prices.base_readings", [0.0], "measured.prices.base_readings must be at most"),
    ("prices.ratio", [1.0], "measured.prices.ratio must hold one entry per family"),
    ("prices.ratio", [0.0, 1.0, 1.0, 1.0], "measured.prices.ratio must hold per family"),
    ("prices.samples", [[], []], "measured.prices.samples must hold one entry per family"),
    ("prices.samples", [[NAN], [], [], []], "measured.prices.samples must hold per family"),
    ("prices.tick", -1, "measured.prices.tick must be an integer >= 0"),
    ("fit", [[1, -1.0, 0.0, 0.0, 0.0]] * 4, r"measured.fit must hold one \[n"),
    ("fit", [[1, NAN, 0.0, 0.0, 0.0]] * 4, r"measured.fit must hold one \[n"),
])
def test_a_file_with_wrong_measurements_is_refused_naming_the_entry(field, value, message,
                                                                     tmp_path):
    """A measurement of the wrong type, a NaN or negative one, a list longer than the library
    keeps or of another length than the arms' families, an arm without a set-up, a lifetime
    beyond the arm's reuse: ``TunerFileError`` naming the entry and the file."""
    data = json.loads((BEFORE / "timed_work.json").read_text())
    data["measured"].update(warm_most=[0.0] * 4, time_recent=[[]] * 4, setup_readings=[],
                            lifetimes=[], prices={"ref": 0, "base": 1e-6, "fixed": True,
                                                  "base_readings": [1e-6],
                                                  "ratio": [1.0, 1.0, NAN, 1.0],
                                                  "samples": [[], [1.0], [], []], "tick": 9})
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(data))
    bandit.Tuner.load(path)  # the edits below are the only problem
    _edit(data["measured"], field, value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(bandit.TunerFileError, match=message) as err:
        bandit.Tuner.load(path)
    assert str(path) in str(err.value)
