"""Learning from a clock with a few bad readings (``cost="time"``, ``"timed_work"``).

A busy or misbehaving machine sometimes reads a solve or a set-up many times slower than it
is (preemption, a cold cache, a coarse clock).  No single such reading may derail the
learning for the rest of the run:

* JointCB's noise scale σ̂ and its model take a one-step prediction error beyond a few
  predictive standard deviations at that bound (a Huber clip); on data without such errors
  the learner is the same, bit for bit;
* ``timed_work`` prices a family's work at one price fixed early in the run, and every other
  family at its ratio to it read on solves moments apart, so a cost told while the machine
  was busy compares with one told later as their work does;
* a set-up's single slow reading does not refuse its arm: it is measured once more first.

The solvers read ``time.perf_counter`` of their module; these tests replace it by a virtual
clock that advances only by what a test scripts (per iteration of a solve, per set-up).
"""
import math
import pickle
import types

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import bandit._prices
import bandit.joint
import solvers
import solvers._api
import solvers.precond
from bandit._kernels import joint_observe, rls_update
from solvers import gallery


class VirtualClock:
    """A clock that stands still except when a solve ends or a set-up is built.

    A solve of ``its`` iterations by ``name`` (the solver function's name) advances it by
    ``its * per_iteration[name] * load(i)`` (1 µs for a name not given), ``i`` the index of
    the solve — or, once a test sets :attr:`round`, that round; a set-up by ``setup(j)``,
    ``j`` the index of the set-up.  Installed in :mod:`solvers._api` (start and
    end of every solve) and :mod:`solvers.precond` (start and end of every set-up).
    """

    def __init__(self, per_iteration, load=lambda i: 1.0, setup=lambda j: 0.0):
        self.per_iteration, self.load, self.setup = per_iteration, load, setup
        self.now, self.solves, self.setups, self._in_setup = 0.0, 0, 0, False
        self.round = None

    def perf_counter(self):
        return self.now

    def setup_counter(self):
        if self._in_setup:  # the end of a set-up
            self.now += self.setup(self.setups)
            self.setups += 1
        self._in_setup = not self._in_setup
        return self.now

    def install(self, monkeypatch):
        original = solvers._api._finish

        def finish(name, op, b, x, omega, out, t0, *args):
            i = self.solves if self.round is None else self.round
            self.now += int(out[0]) * self.per_iteration.get(name, 1e-6) * self.load(i)
            self.solves += 1
            return original(name, op, b, x, omega, out, t0, *args)

        monkeypatch.setattr(solvers._api, "_finish", finish)
        monkeypatch.setattr(solvers._api, "time", types.SimpleNamespace(
            perf_counter=self.perf_counter))
        monkeypatch.setattr(solvers.precond, "time", types.SimpleNamespace(
            perf_counter=self.setup_counter))
        return self


def heat_like(T, m=12):
    """A heat-like sequence: ``I + κ_t L`` with κ_t sweeping ``[0.1, 5.1]`` (the context)."""
    A0 = gallery.laplacian_2d(m)
    rng = np.random.default_rng(0)
    for t in range(T):
        kappa = 0.1 + 5.0 * abs(math.sin(t / 20))
        yield (sp.identity(m * m) + kappa * A0).tocsr(), rng.standard_normal(m * m), kappa


# --- JointCB: a Huber clip of the log-cost's prediction error ------------------------------

def test_joint_observe_without_a_clip_is_the_rank_one_update_bit_for_bit():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    P0 = np.linalg.inv(np.diag(rng.uniform(0.5, 2, 12)) + 0.1)
    P0 = 0.5 * (P0 + P0.T)
    theta0 = rng.standard_normal(12)
    for censored in (False, True):
        for y in (-3.0, 0.2, 4.0):
            psi = rng.standard_normal(4)
            P1, t1, P2, t2 = P0.copy(), theta0.copy(), P0.copy(), theta0.copy()
            err = joint_observe(P1, t1, psi, X, 2, y, censored, math.inf)
            phi = np.outer(psi, X[2]).ravel()
            pred = float(np.dot(theta0, phi))
            target = max(y, pred) if censored else y
            rls_update(P2, t2, phi, target)
            assert np.array_equal(P1, P2) and np.array_equal(t1, t2)
            assert err == (target - pred) ** 2


def test_joint_observe_clips_an_error_beyond_the_predictive_spread():
    """An error beyond ``clip · sqrt(1 + φᵀPφ)`` is fed as that bound, with its sign; one
    within it is fed unchanged (the update of :func:`rls_update` on the same target)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 3))
    P0 = 0.05 * np.eye(6)
    theta0 = rng.standard_normal(6)
    psi = np.array([1.0, 0.5])
    phi = np.outer(psi, X[1]).ravel()
    pred = float(np.dot(theta0, phi))
    spread = math.sqrt(1.0 + phi @ P0 @ phi)
    clip = 0.2
    for y, fed in ((pred + 5.0, pred + clip * spread), (pred - 5.0, pred - clip * spread),
                   (pred + 0.1 * spread, pred + 0.1 * spread)):
        P1, t1, P2, t2 = P0.copy(), theta0.copy(), P0.copy(), theta0.copy()
        err = joint_observe(P1, t1, psi, X, 1, y, False, clip)
        rls_update(P2, t2, phi, fed)
        assert err == pytest.approx((fed - pred) ** 2, rel=1e-12)
        np.testing.assert_allclose(t1, t2, rtol=0, atol=1e-12)
        np.testing.assert_allclose(P1, P2, rtol=0, atol=1e-15)


def _replay(table, contexts, clip, noise=None):
    """The default learner over a table of costs; returns (arms played, σ̂, θ)."""
    old = bandit.joint._CLIP
    bandit.joint._CLIP = clip
    try:
        p = bandit.default_policy("ssor_pcg")
        played = []
        for t, c in enumerate(contexts):
            k = p.select(c)
            cost = table[t, k] * (1.0 if noise is None else noise[t])
            p.update(k, cost, context=c)
            played.append(k)
        return played, p._scale(), p.theta.copy()
    finally:
        bandit.joint._CLIP = old


@pytest.fixture(scope="module")
def iteration_table():
    """SSOR-PCG iterations of every default arm on 120 heat-like systems."""
    rows, ctx = [], []
    for A, b, kappa in heat_like(120):
        rows.append([solvers.ssor_pcg(A, b, w).iterations for w in bandit.DEFAULT_ARMS])
        ctx.append(kappa)
    return np.array(rows, dtype=float), np.array(ctx)


def test_clean_iteration_costs_learn_the_same_with_and_without_the_clip(iteration_table):
    """Deterministic costs (iterations) never err by more than the clip: the same arms, the
    same model, bit for bit."""
    C, ctx = iteration_table
    a, b = _replay(C, ctx, math.inf), _replay(C, ctx, bandit.joint._CLIP)
    assert a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])
    assert len(set(a[0])) > 2  # it explored and moved with the context


def test_one_slow_reading_barely_moves_the_noise_scale(iteration_table):
    """A solve read 50 times slower than it was, at round 60 (an exploratory draw, whose
    prediction is uncertain): without the clip σ̂ triples and stays near its peak; with it,
    σ̂ rises by less than a third as much and the learner pays no more after the bad
    reading than without the clip."""
    C, ctx = iteration_table
    noise = np.ones(len(ctx))
    clean = _replay(C, ctx, bandit.joint._CLIP, noise)
    noise[60] = 50.0
    raw = _replay(C, ctx, math.inf, noise)
    robust = _replay(C, ctx, bandit.joint._CLIP, noise)
    assert raw[1] > 2.5 * clean[1]  # the derailment the clip prevents
    assert robust[1] - clean[1] < (raw[1] - clean[1]) / 3
    after = np.arange(61, len(ctx))
    paid = {name: C[after, np.array(run[0])[after]].sum()
            for name, run in (("clean", clean), ("raw", raw), ("robust", robust))}
    assert paid["robust"] <= paid["raw"]


def test_a_slow_reading_on_the_tuners_clock(monkeypatch):
    """The same through the Tuner with ``cost="time"``, on a virtual clock (1 µs per
    iteration): solve 40 reads 50 times its seconds.  With the clip σ̂ at the end rises
    less than a third as much as without it."""
    runs = {}
    for clip in (math.inf, bandit.joint._CLIP):
        for bad in (None, 40):
            monkeypatch.setattr(bandit.joint, "_CLIP", clip)
            clock = VirtualClock({"ssor_pcg": 1e-6}, load=lambda i, bad=bad: 50.0 if i == bad
                                 else 1.0).install(monkeypatch)
            tuner = bandit.Tuner(solver="ssor_pcg", cost="time")
            for A, b, kappa in heat_like(100):
                assert tuner.solve(A, b, context=kappa).converged
            assert clock.solves >= 100
            runs[clip, bad] = (tuner.policy._scale(), tuner.history["iterations"].sum())
    raw, robust = math.inf, bandit.joint._CLIP
    assert runs[raw, 40][0] > 2 * runs[raw, None][0]
    assert runs[robust, 40][0] - runs[robust, None][0] < (
        runs[raw, 40][0] - runs[raw, None][0]) / 3


# --- timed_work: prices that a busy machine does not move ---------------------------------

def _timed_work_run(monkeypatch, load, T, rival=None, per_iteration=None):
    """SSOR-PCG at two ω (one family) and plain CG on a virtual clock of 1 µs per iteration
    (``per_iteration``: per solver name) times ``load(i)``; plain CG is played in the rounds
    ``rival(i)`` says, the two ω in turn otherwise.  Returns the tuner's history and the work
    of each solve (set-up excluded)."""
    clock = VirtualClock(per_iteration or {}, load=load).install(monkeypatch)
    arms = [{"method": "ssor_pcg", "omega": w} for w in (1.5, 1.7)] + [{"method": "cg"}]
    policy = bandit.FixedArm(arms, arm=0)
    tuner = bandit.Tuner(policy, cost="timed_work", guard=None)
    works = []
    for i, (A, b, kappa) in enumerate(heat_like(T)):
        policy.arm = 2 if rival is not None and rival(i) else i % 2
        clock.round = i
        works.append(tuner.solve(A, b, context=kappa).info["work"])
    return tuner.history, np.array(works)


@pytest.mark.parametrize("load", [lambda i: 4.0 if i < 40 else 1.0,  # a busy start
                                  lambda i: 4.0 if 40 <= i < 60 else 1.0,  # a busy phase
                                  lambda i: 4.0 if (i // 7) % 2 else 1.0,  # on and off
                                  lambda i: 3.0 if i % 3 == 1 else 1.0])  # a slow third
def test_a_familys_costs_are_its_work_at_one_price_whatever_the_load(monkeypatch, load):
    """Within a family every cost told is the solve's work times one price, fixed from the
    family's ninth warm solve, whatever the machine's load when it was told: so the ω compare
    by their work, as an ω-only learner's iterations do.  (Priced at the least median of each
    window of recent readings, costs told while the machine was busy stayed 4 × dearer than
    those told after it had been idle for half a window.)"""
    h, works = _timed_work_run(monkeypatch, load, 80)
    price = h["cost"][10:] / works[10:]
    np.testing.assert_allclose(price, price[0], rtol=1e-12)
    clean, _ = _timed_work_run(monkeypatch, lambda i: 1.0, 12)
    # the price is a clock reading of the family's speed: at most the load's own factor off
    assert 0.9 < price[0] / (clean["cost"][10] / works[10]) < 4.1


@pytest.mark.parametrize("busy_rival", [True, False])
def test_a_rivals_price_is_its_ratio_to_the_leaders_whatever_the_load(monkeypatch, busy_rival):
    """Plain CG (half SSOR-PCG's seconds per iteration, about its seconds per unit of work)
    is played in the eighth round of a block of ten; the
    machine is 4 × slower in alternate blocks, and CG is played only in the busy blocks (or
    only in the idle ones).  Its price per unit of work over SSOR-PCG's is the idle
    machine's ratio of the two (read on a clean clock), within 5 %: each of its readings is
    divided by the machine's speed at that moment, read on the SSOR-PCG solves just before.
    (Priced by its own readings, CG's price was 4 × too dear when it was played on the busy
    machine alone.)"""
    per = {"ssor_pcg": 1e-6, "cg": 0.5e-6}
    busy = lambda i: (i // 10) % 2 == 1  # noqa: E731
    rival = lambda i: i % 10 == 7 and busy(i) == busy_rival  # noqa: E731
    load = lambda i: 4.0 if busy(i) else 1.0  # noqa: E731

    def ratio(h, works):
        told = h["cost"] / works
        cg = np.asarray(h["arm"]) == 2
        return told[cg][-1] / told[~cg][-1]

    clean = ratio(*_timed_work_run(monkeypatch, lambda i: 1.0, 80, rival, per))
    loaded = ratio(*_timed_work_run(monkeypatch, load, 80, rival, per))
    assert loaded == pytest.approx(clean, rel=0.05)


def test_a_rival_read_between_preemptions_is_not_priced_below_its_cost(monkeypatch):
    """A busy core preempts some solves and not others: three SSOR-PCG solves in five are
    read 4 × slow, and plain CG, played every tenth round, is read between preemptions.  Its
    price over SSOR-PCG's is the clean clock's ratio within 10 %: the machine's speed it is
    divided by is the least of the latest readings (the clock only adds).  (Against their
    median, a preempted reading, CG was priced at a quarter of its cost, and a learner then
    played it for hundreds of steps with nothing to correct the price.)"""
    per = {"ssor_pcg": 1e-6, "cg": 0.5e-6}
    rival = lambda i: i % 10 == 4  # noqa: E731

    def ratio(h, works):
        told = h["cost"] / works
        cg = np.asarray(h["arm"]) == 2
        return told[cg][-1] / told[~cg][-1]

    clean = ratio(*_timed_work_run(monkeypatch, lambda i: 1.0, 80, rival, per))
    preempted = ratio(*_timed_work_run(
        monkeypatch, lambda i: 4.0 if i % 5 < 3 and not rival(i) else 1.0, 80, rival, per))
    assert preempted == pytest.approx(clean, rel=0.1)


def test_a_rival_is_not_priced_against_a_cold_reference(monkeypatch):
    """The run's first solve (SSOR-PCG) reads 15 × slow (cold); plain CG is played next,
    twice, before SSOR-PCG has a warm solve: with nothing warm to pair with, CG is told its
    own seconds; played again once SSOR-PCG's price is its warm one, its price over
    SSOR-PCG's is the clean clock's ratio.  (Paired with the reference's cold price, its
    second reading had entered its ratio at a fifteenth, and the next price was about half
    of CG's cost.)"""
    per = {"ssor_pcg": 1e-6, "cg": 0.5e-6}
    rival = lambda i: i in (1, 2, 13)  # noqa: E731
    h, works = _timed_work_run(monkeypatch, lambda i: 15.0 if i == 0 else 1.0, 16, rival, per)
    assert list(h["arm"][:3]) == [0, 2, 2]
    assert h["cost"][2] == pytest.approx(h["seconds"][2], rel=1e-12)
    clean, cw = _timed_work_run(monkeypatch, lambda i: 1.0, 16, rival, per)
    cg = np.asarray(h["arm"]) == 2
    assert (h["cost"] / works)[cg][-1] / (h["cost"] / works)[~cg][-1] == pytest.approx(
        (clean["cost"] / cw)[cg][-1] / (clean["cost"] / cw)[~cg][-1], rel=0.05)


def _told_over_reference(monkeypatch, load, rival, T=70):
    """Plain CG's told price per unit of work over SSOR-PCG's (the reference's, fixed), at
    each round CG was played; and the told costs of SSOR-PCG."""
    h, works = _timed_work_run(monkeypatch, load, T, rival, {"ssor_pcg": 1e-6, "cg": 0.5e-6})
    price = h["cost"] / works
    cg = np.asarray(h["arm"]) == 2
    return price[cg] / price[~cg][-1], h["cost"][~cg]


# CG played at rounds 12-13, then alone from round 30 to 59; the machine 4 x slow before
# round 30 and idle after it, or idle, then slow
_ALONE = lambda i: i in (12, 13) or 30 <= i < 60  # noqa: E731
_CHANGES = {"busy to idle": lambda i: 4.0 if i < 30 else 1.0,
            "idle to busy": lambda i: 4.0 if i >= 30 else 1.0}


@pytest.mark.xfail(strict=True, reason=(
    "known weakness of the paired prices: a rival whose stretch played alone starts at a "
    "change of load is paired across the change, and nothing read before the other "
    "families are read again can tell (a rule that waited for partners read after it was "
    "measured on the preconditioner study and removed; _Prices.fresh_pairs keeps the "
    "stretch's later readings out, not its first; a learner's rule that re-read the "
    "reference family during such a stretch, JointCB.reread_reference, was measured and "
    "removed too, and a FixedArm has no learner to re-read: "
    "docs/studies/precond_rules.md)"))
@pytest.mark.parametrize("change", list(_CHANGES))
def test_a_rival_played_alone_from_a_change_of_load_on_keeps_its_ratio(monkeypatch, change):
    """The default rule: CG's told price over SSOR-PCG's, while CG is played alone from a
    change of load on, stays the clean clock's (about 1.07) within 3 %.  It does not: the
    stretch's first eight readings are paired with the partners read before the change, and
    the ratio falls to a quarter (0.27) or rises 4 x, frozen while CG is played alone; with
    ``_Prices.fresh_pairs`` only its first reading is a sample, and the ratio moves to the
    mean of that one and CG's one sample before (0.67 or 2.6)."""
    for fresh in (False, True):
        monkeypatch.setattr(bandit._prices._Prices, "fresh_pairs", fresh)
        clean, _ = _told_over_reference(monkeypatch, lambda i: 1.0, _ALONE)
        told, _ = _told_over_reference(monkeypatch, _CHANGES[change], _ALONE)
        np.testing.assert_allclose(told, clean, rtol=0.03)


def test_prices_pickled_with_the_removed_rules_load():
    """A price book pickled with the state of two removed rules (bracketed samples: pending
    readings, confirmed families; affine prices: per-call parts) loads without it and prices
    as one that never had it."""
    def book():
        b = bandit._prices._Prices(2)
        for f in (0, 0, 1, 0, 0, 0, 0, 0, 1):
            b.observe(f, 2.0 if f else 1.0, True)
        return b
    old = book()
    old.pending = [[old.tick, 1, 2.0, 0]]
    old.confirmed, old.offset = [False, True], [3.0, 4.0]
    old.pairs, old.taken = [[(1.0, 1.0)], []], [1, 0]
    loaded = pickle.loads(pickle.dumps(old))
    for gone in ("pending", "offset", "confirmed", "pairs", "taken"):
        assert not hasattr(loaded, gone)
    fresh = book()
    for b in (loaded, fresh):
        b.observe(0, 1.0, True)
        b.observe(1, 3.0, True)
    assert repr(vars(loaded)) == repr(vars(fresh)) and loaded.price(1) == pytest.approx(2.0)


def test_a_loaded_tuner_prices_at_its_saved_prices(monkeypatch, tmp_path):
    """A tuner saved and loaded keeps its prices (not the latest readings they were paired
    with, nor its cold ones, which are the process's): the same reference family at the same
    fixed price, each other family at its saved ratio, so each family's first cost told after
    the load is the solve's work at the price it had at the save."""
    per = {"ssor_pcg": 1e-6, "cg": 0.5e-6}
    clock = VirtualClock(per).install(monkeypatch)
    arms = [{"method": "ssor_pcg", "omega": w} for w in (1.5, 1.7)] + [{"method": "cg"}]
    policy = bandit.FixedArm(arms, arm=0)
    tuner = bandit.Tuner(policy, cost="timed_work", guard=None)
    systems = list(heat_like(30))
    for i, (A, b, kappa) in enumerate(systems[:20]):
        policy.arm = 2 if i % 4 == 3 else i % 2
        clock.round = i
        tuner.solve(A, b, context=kappa)
    tuner.save(tmp_path / "t.json")
    saved = tuner._arms._prices
    price = [saved.price(f) for f in range(2)]
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    book = loaded._arms._prices
    assert (book.ref, book.base, book.fixed, book.ratio, book.samples) == (
        saved.ref, saved.base, saved.fixed, saved.ratio, saved.samples) and book.ref == 0
    first = set()
    for i, (A, b, kappa) in enumerate(systems[20:]):
        loaded.policy.arm = 2 if i % 2 else 1
        clock.round = 20 + i
        r = loaded.solve(A, b, context=kappa)
        f = loaded._arms.family[r.arm]
        if f not in first:
            first.add(f)
            assert r.info["timed_work"] == pytest.approx(r.info["work"] * price[f], rel=1e-12)
    assert first == {0, 1}


def _learner_run(monkeypatch, load, T=150):
    """The default configuration learner (SSOR-PCG at five ω, plain and Jacobi-CG, the
    default cost ``timed_work``) on a virtual clock of 1, 0.7 and 0.5 µs per iteration of
    SSOR-PCG, Jacobi-CG and plain CG times ``load(i)``: the arms it played."""
    clock = VirtualClock({"ssor_pcg": 1e-6, "pcg": 0.7e-6, "cg": 0.5e-6}, load=load).install(
        monkeypatch)
    clock.round = 0  # (the arms' trial solves at construction: the first round's load)
    arms = bandit.config_grid([1.0, 1.2, 1.4, 1.6, 1.8], ["none", "jacobi"])
    # (without the try gate, which defers plain CG's first try past the busy start: a family
    # not yet run has its first budget priced from every run's seconds per unit of work,
    # busy and idle readings mixed, so that try's budget is not the idle one times 4)
    tuner = bandit.Tuner(bandit.default_policy(None, arms, seed=0, context_bounds=(0.1, 5.1),
                                               try_gate=False))
    assert tuner.cost == "timed_work"
    for i, (A, b, kappa) in enumerate(heat_like(T)):
        clock.round = i
        assert tuner.solve(A, b, context=kappa).converged
    return np.asarray(tuner.history["arm"])


def test_the_configuration_learner_chooses_on_a_busy_start_as_on_an_idle_machine(monkeypatch):
    """The first quarter of the run on a core 4 × slower: the learner makes the same choices,
    round by round, as on the idle machine — every price is the idle one times 4 (the
    reference family's price was read on the busy start, the others by their ratio to it),
    and the log-cost model does not see a constant factor.  (With each family priced at the
    least median of its recent readings, the price fell when the machine became idle: 92 of
    150 choices differed in count, the ω played during the busy start looking dearer.)"""
    idle = _learner_run(monkeypatch, lambda i: 1.0)
    busy = _learner_run(monkeypatch, lambda i: 4.0 if i < 150 // 4 else 1.0)
    assert len(set(idle.tolist())) >= 4  # it explored ω and families
    np.testing.assert_array_equal(busy, idle)


def test_cold_first_solves_do_not_price_the_family(monkeypatch):
    """Each ω's first solve reads cold (the first 15 ×, the next two 2 ×: dispatch, caches,
    first touch), every later one at the machine's speed.  Before a warm solve the family is
    priced at the least cold reading, this solve's own included (so the second solve is told
    its own seconds, not 7.5 × them at the first one's rate); from the first warm solve on,
    at the warm solves' rate alone — every warm solve is told its seconds (the cold readings
    in the median had priced the next warm solves at 2 × their seconds)."""
    clock = VirtualClock({}, load=lambda i: {0: 15.0, 1: 2.0, 2: 2.0}.get(i, 1.0)).install(
        monkeypatch)
    arms = [{"method": "ssor_pcg", "omega": w} for w in (1.3, 1.5, 1.7)] + [{"method": "cg"}]
    policy = bandit.FixedArm(arms, arm=0)
    tuner = bandit.Tuner(policy, cost="timed_work", guard=None)  # one run per solve
    for i, (A, b, kappa) in enumerate(heat_like(12)):
        policy.arm = i % 3
        clock.round = i
        tuner.solve(A, b, context=kappa)
    h = tuner.history
    ratio = h["cost"] / h["seconds"]
    assert ratio[0] == 1.0  # the family's first solve: its seconds
    assert ratio[1] == pytest.approx(1.0, rel=1e-12)  # its own reading is the least
    assert 0.1 < ratio[2] <= 1.0 + 1e-12  # the least cold reading (its own or the second's)
    assert np.all(np.abs(ratio[3:] - 1) < 0.15)  # warm: the warm solves' rate


# --- set-ups on the clock: one slow reading does not lock the arm out ----------------------

def _setup_run(monkeypatch, setup, T=120):
    """SSOR-PCG at three ω and IC(0)-CG under FamilyCB with ``cost="time"``, on a virtual
    clock: SSOR-PCG 1 µs per iteration, IC(0)-CG 0.5 µs (the cheaper family on an idle
    machine), set-up ``j`` lasting ``setup(j)``."""
    clock = VirtualClock({"ssor_pcg": 1e-6, "pcg": 0.5e-6}, setup=setup).install(monkeypatch)
    arms = bandit.config_grid([1.3, 1.5, 1.7], ["ic0"])
    tuner = bandit.Tuner(bandit.FamilyCB(arms, seed=0), cost="time")
    clock.setups = 0  # (the arms' trial solves at construction build on a 2 × 2 matrix)
    for i, (A, b, kappa) in enumerate(heat_like(T)):
        clock.round = i
        assert tuner.solve(A, b, context=kappa).converged
    return tuner, clock


def test_a_slow_first_set_up_reading_does_not_lock_the_rival_out(monkeypatch):
    """IC(0)'s first set-up is read at 100 × (200 µs for 2 µs): charged in full it made IC(0)
    look ten times dearer than SSOR-PCG and the learner never tried it again; charged at the
    bound (10 × its counted work at the run's own speed) IC(0)-CG is played as on a clean
    clock, and the history keeps the seconds the clock read."""
    clean, _ = _setup_run(monkeypatch, lambda j: 2e-6)
    tuner, clock = _setup_run(monkeypatch, lambda j: 2e-4 if j == 0 else 2e-6)
    ic0 = 3
    played = np.asarray(tuner.history["arm"]) == ic0
    assert played.sum() >= 0.9 * (np.asarray(clean.history["arm"]) == ic0).sum() > 60
    first = int(np.argmax(played))
    res_seconds, told = tuner.history["seconds"][first], tuner.history["cost"][first]
    assert res_seconds > 2e-4 and told < res_seconds - 1.9e-4  # read in full, charged less
    assert tuner._arms._setup[("ic0", ())] == pytest.approx(2e-6, rel=1e-6)


def test_a_genuinely_slow_set_up_is_still_avoided(monkeypatch):
    """Every IC(0) set-up lasts 200 µs: its second reading confirms the first, so it is
    charged in full and the rival is avoided after at most two builds."""
    tuner, clock = _setup_run(monkeypatch, lambda j: 2e-4)
    assert clock.setups <= 2
    assert tuner._arms._setup[("ic0", ())] == pytest.approx(2e-4, rel=1e-6)
    h = tuner.history
    chosen = np.flatnonzero(np.asarray(h["arm"]) == 3)
    assert len(chosen) <= 5 and np.all(h["censored"][chosen[2:]])  # refused to start
    assert np.all(h["seconds"][chosen[2:]] < 1e-4)


def test_the_set_up_charge():
    """The charge of a reading: at most the larger of 10 × the counted set-up work at the
    run's own seconds per unit of work and the least earlier reading."""
    arms = bandit.armset.ArmSet([{"method": "cg", "pc": "ic0"}], "cg", cost="time")
    arms.calls(None, {"rtol": 1e-8, "atol": 0.0, "backend": "numba"}, None)
    key = arms.configs[0].setup_key

    def run(reading, solve=1e-4, work=50.0, setup_work=2.5):
        return solvers.SolveResult(
            x=np.zeros(1), iterations=10, converged=True, residual_norm=0.0, omega=None,
            solver="pcg", reason="converged", seconds=solve + reading, backend="numba",
            info={"setup": True, "setup_seconds": reading, "setup_work": setup_work,
                  "work": work + setup_work})

    bound = 10 * 2.5 * 1e-4 / 50.0  # 50 µs
    r = run(1e-3)  # 20 × the bound: charged at the bound
    arms.observe(0, r)
    assert r.info["setup_charged"] == pytest.approx(bound)
    assert arms.cost_of(r) == pytest.approx(1e-4 + bound)
    assert arms._setup[key] == pytest.approx(bound)  # one reading: as charged
    r = run(2e-3)  # the earlier reading confirms 1 ms
    arms.observe(0, r)
    assert r.info["setup_charged"] == pytest.approx(1e-3)
    assert arms._setup[key] == pytest.approx(1e-3)  # two readings: the lesser
    r = run(2e-5)  # a quick one is charged as read
    arms.observe(0, r)
    assert r.info["setup_charged"] == 2e-5 and arms.cost_of(r) == pytest.approx(1.2e-4)
