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
