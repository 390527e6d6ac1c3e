"""The reference family re-read during a rival's long stretch (``JointCB.reread_reference``,
:mod:`bandit._joint_reread`).

While the learner plays one rival family alone, the clock reads that family only and its
``timed_work`` price rests on the ratio sample taken at the stretch's first solve: a change of
the rival's seconds per unit of work (or of the machine's load) during the stretch never
reaches its price.  With the rule the learner plays the reference family once every
``max(8, ceil(excess / SHARE))`` solves of the stretch, so the rival's next reading has a
partner read at the present speed.  On a virtual clock (``tests/test_clock_robust.py``)."""
import math

import numpy as np
import pytest

import bandit
import bandit._joint_reread as rr
from bandit._prices import _PAIR_AGE
from tests.test_clock_robust import VirtualClock, heat_like

_OMEGAS = [1.2, 1.4, 1.6, 1.8]


def _run(monkeypatch, on, dear_from=None, T=300, cheap=0.2e-6, dear=3e-6):
    """The default configuration learner over SSOR-PCG at four ω and plain CG (1 µs per
    iteration of SSOR-PCG, ``cheap`` per iteration of CG, about 0.6 × SSOR-PCG's seconds a
    solve, until round ``dear_from``, ``dear`` from it on: 10 × SSOR-PCG's), ``T`` rounds of
    the heat-like sequence: (each round's family, the virtual seconds of each solve, the
    learner)."""
    per = {"ssor_pcg": 1e-6, "cg": cheap}
    clock = VirtualClock(per).install(monkeypatch)
    clock.round = 0
    pol = bandit.default_policy(None, bandit.config_grid(_OMEGAS, ["none"]), seed=0,
                                context_bounds=(0.1, 5.1))
    pol.reread_reference = on
    tuner = bandit.Tuner(pol)
    for i, (A, b, kappa) in enumerate(heat_like(T)):
        clock.round = i
        if i == dear_from:
            per["cg"] = dear
        assert tuner.solve(A, b, context=kappa).converged
    h = tuner.history
    fam = (np.asarray(h["arm"]) >= len(_OMEGAS)).astype(int)
    return fam, np.asarray(h["seconds"]), pol


def test_the_interval_is_the_pairing_age_or_the_cost_share():
    """``max(_PAIR_AGE, ceil(excess / SHARE))``: a reference no dearer than the rival is
    re-read after the book's pairing age (8 solves); a dearer one so that its re-reads add
    at most ``SHARE`` of the stretch's cost."""
    assert rr.interval(-0.3) == rr.interval(0.0) == rr.interval(math.nan) == _PAIR_AGE
    assert rr.interval(0.1) == _PAIR_AGE  # 0.1 / 0.02 = 5 < 8
    assert rr.interval(0.5) == 25
    assert rr.interval(9.0) == 450
    for excess in (0.17, 0.5, 2.0, 9.0):
        assert excess / rr.interval(excess) <= rr.SHARE + 1e-12


def test_off_by_default_and_inert_over_one_family():
    """Off on the library's learner; on, a learner of one family never re-reads."""
    assert bandit.default_policy(None, bandit.config_grid(_OMEGAS, ["none"])).reread_reference \
        is False
    pol = bandit.default_policy("ssor_pcg", seed=0)
    pol.reread_reference = True
    ref = bandit.default_policy("ssor_pcg", seed=0)
    rng = np.random.default_rng(0)
    for t in range(60):
        c = float(rng.uniform(0.1, 5.0))
        k = pol.select(c)
        assert k == ref.select(c)
        cost = 1.0 + (bandit.DEFAULT_ARMS[k] - 1.5) ** 2
        pol.update(k, cost, context=c)
        ref.update(k, cost, context=c)
    assert pol._reread_state["rereads"] == 0


def test_a_rival_that_became_dear_inside_its_stretch_is_left(monkeypatch):
    """Plain CG leads from about round 100 and is played alone; at round 150 its solves
    become 10 × SSOR-PCG's.  Without the rule its price keeps the ratio of the stretch's
    first solve, and the learner keeps playing it to the end (every round from 150); with it,
    the re-reads of SSOR-PCG give CG's readings partners of the moment, its price rises with
    the clock and the learner leaves it: at least a quarter fewer virtual seconds."""
    off, sec_off, _ = _run(monkeypatch, False, dear_from=150)
    on, sec_on, pol = _run(monkeypatch, True, dear_from=150)
    assert off[100:150].mean() > 0.8 and off[150:].all()  # the defect: CG to the end
    assert on[-50:].sum() <= 5  # back on SSOR-PCG
    assert sec_on.sum() < 0.75 * sec_off.sum()
    assert pol._reread_state["rereads"] >= 2


def test_a_stretch_that_stays_cheap_pays_at_most_its_share(monkeypatch):
    """No change: CG stays cheaper to the end.  Every re-read comes after at least the
    interval of CG solves alone, and the run's virtual seconds exceed the run without the
    rule by less than ``SHARE`` (the re-reads' bound) plus one reference solve."""
    off, sec_off, _ = _run(monkeypatch, False)
    on, sec_on, pol = _run(monkeypatch, True)
    assert off[150:].all()  # CG leads, alone, without the rule
    assert on[150:].mean() > 0.9  # and with it, but for the re-reads
    runs = np.split(on, np.flatnonzero(np.diff(on)) + 1)
    alone = [len(r) for r in runs[1:-1] if r[0] == 1]
    assert pol._reread_state["rereads"] >= 3
    assert min(alone[1:]) >= _PAIR_AGE
    assert sec_on.sum() - sec_off.sum() < rr.SHARE * sec_off.sum() + sec_on.max()


def test_without_a_long_stretch_the_run_is_unchanged(monkeypatch):
    """The pinned configuration run (``tests/test_joint_pinned_run.py``: rivals played a
    round at a time) with the rule on and off: no stretch reaches the interval, so the same
    arms and model bit for bit, on the one-call path and the general one."""
    from tests import test_joint_pinned_run as pinned

    for one_call in (True, False):
        monkeypatch.setattr(bandit.JointCB, "one_call", one_call)
        runs = []
        for on in (False, True):
            monkeypatch.setattr(bandit.JointCB, "reread_reference", on)
            arms, pol = pinned._run()
            runs.append((arms, pinned._digest(pol)))
        assert runs[0] == runs[1]
        assert len(set(runs[1][0])) > 4 and pol._reread_state["rereads"] == 0
        assert pol._reread_state["ref"] == 0
