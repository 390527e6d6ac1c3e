"""experiments.bench_study_parts: a learner's rounds paired with the fixed Tuner of the arm
it played in the same round, and each part's excess against the medians computed by hand."""
from __future__ import annotations

import numpy as np

from experiments.bench_study_parts import excess_rows


def _rec(arm, its, **parts):
    return {"arm": arm, "iterations": its, **parts}


def test_excess_rows_pairs_rounds_by_the_arm_played():
    records = {
        "fixed/0": [_rec(0, 5, select=1e-6, whole=100e-6, solver=60e-6),
                    _rec(0, 5, select=2e-6, whole=100e-6, solver=60e-6),
                    _rec(0, 0, select=2e-6, whole=50e-6, solver=0.0),
                    _rec(0, 4, select=2e-6, whole=90e-6, solver=50e-6)],
        "fixed/1": [_rec(1, 7, select=1e-6, whole=120e-6, solver=80e-6),
                    _rec(1, 6, select=1e-6, whole=120e-6, solver=80e-6),
                    _rec(1, 0, select=1e-6, whole=50e-6, solver=0.0),
                    _rec(1, 3, select=1e-6, whole=70e-6, solver=40e-6)],
        # rounds: arm 0 same its (paired), arm 1 same its (paired), 0 its (left out),
        # arm 1 other its (left out)
        "learner": [_rec(0, 5, select=11e-6, whole=150e-6, solver=60e-6),
                    _rec(1, 6, select=31e-6, whole=200e-6, solver=80e-6),
                    _rec(0, 0, select=50e-6, whole=90e-6, solver=0.0),
                    _rec(1, 9, select=99e-6, whole=300e-6, solver=90e-6)],
    }
    rows = excess_rows(records)
    assert "2 of 4 rounds" in rows[0]
    line = next(r for r in rows if r.strip().startswith("select"))
    # learner 11, 31 against fixed 1 (round 0) and 1 (round 1, fixed/1): excess 10, 30
    expect = np.median([10.0, 30.0])
    assert f"{np.median([11.0, 31.0]):9.1f} − {1.0:9.1f}: {expect:7.1f}" in line
    outside = next(r for r in rows if "outside the solver" in r)
    # outside: learner 90, 120; fixed 40, 40 -> excess 50, 80
    assert f"{np.median([50.0, 80.0]):7.1f} [{np.percentile([50.0, 80.0], 25):6.1f}" in outside


def test_excess_rows_without_a_paired_round():
    rows = excess_rows({"learner": [_rec(2, 3, whole=1e-4)], "fixed/0": [_rec(0, 3)]})
    assert rows == ["  learner − the fixed Tuner of its arm, 0 of 1 rounds (same iterations, "
                    "not 0), µs a call:"]


def test_excess_rows_sum_p90_and_an_arms_first_play_left_out():
    """Over the study's rounds (a list of each round's records), an arm's first play in a
    round left out with ``skip_first``: the excess's p90 and its sum over the paired calls
    (in ms) as computed by hand, pairs taken within each round."""
    def rnd(learner_select, fixed_select):
        return {"fixed/0": [_rec(0, 5, select=s * 1e-6, whole=100e-6, solver=60e-6)
                            for s in fixed_select],
                "learner": [_rec(0, 5, select=s * 1e-6, whole=100e-6, solver=60e-6)
                            for s in learner_select]}

    rounds = [rnd([500, 20, 30, 40], [1, 1, 1, 1]), rnd([900, 60], [2, 2])]
    rows = excess_rows(rounds, skip_first=True)
    assert "4 of 6 rounds" in rows[0] and "first play" in rows[0]
    line = next(r for r in rows if r.strip().startswith("select"))
    d = np.array([19.0, 29.0, 39.0, 58.0])  # the first plays (499, 898) left out
    p90, total = np.percentile(d, 90), 1e-3 * d.sum()
    assert line.rstrip().endswith(f"{p90:7.1f} {total:7.2f}")
    assert "6 of 6 rounds" in excess_rows(rounds)[0]  # without skip_first: every call


def test_the_study_warm_up_is_not_recorded(monkeypatch):
    """Methods built during the study's warm-up (tiny sequences) are not instrumented; the
    rounds' are, each round's records apart."""
    from experiments.bench_study_parts import _instrumented_method

    class _Tuner:
        _calls = []

    built = []

    def method(key, *args):
        def factory():
            built.append(key)
            return (lambda A, b, x0, ctx: (None, 3, True, 0, 1.0)), _Tuner()
        return factory, "tuner"

    monkeypatch.setattr("experiments.bench_percall._instrument_parts",
                        lambda tuner, acc, clock: None)
    records, warming = {}, [True]
    wrapped = _instrumented_method(method, [None], records, lambda: 0.0, warming)
    fac, _ = wrapped("learner", None, None, None, None, 0)
    solve, _ = fac()
    solve(None, None, None, None)
    assert records == {}
    warming[0] = False
    for r in (0, 1):
        fac, _ = wrapped("learner", None, None, None, None, r)
        solve, _ = fac()
        solve(None, None, None, None)
    assert sorted(records) == [0, 1]
    assert [rec["iterations"] for rec in records[1]["learner"]] == [3]
