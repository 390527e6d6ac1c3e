"""``relaxtune bench overhead --parts``: the parts of a Tuner call, this checkout against a
baseline, on the three kinds of input; the figures it adds up and the bound it flags."""
import re
import sys
from pathlib import Path

import numpy as np

import solvers
from experiments import bench_overhead as O


def test_parts_run_both_trees_on_the_three_inputs(capsys):
    root = Path(solvers.__file__).resolve().parent.parent
    try:
        assert O.main(["--parts", "--baseline", str(root), "--sizes", "100", "--rounds",
                       "3"]) == 0
    finally:
        base = sys.modules.pop("bandit_baseline", None)
    assert sys.modules["solvers"] is solvers and base is not None
    out = capsys.readouterr().out
    assert out.startswith("# machine: ")
    for case in O.CASES.values():
        assert out.count(case) == 2  # one row per learner
    for tree in ("before", "after"):  # the parts table: each tree on every row
        assert len(re.findall(rf"\([abc]\)\s+{tree}\s", out)) == 6


def test_parts_add_up_to_the_call_and_flag_a_check_faster_than_a_read(capsys):
    import bandit

    rows = O.measure_parts({"this checkout": bandit}, 100, 3)
    assert [(r["learner"], r["case"]) for r in rows] == [
        (learner, case) for learner in O.LEARNERS for case in O.CASES]
    for r in rows:
        rec = r["this checkout"]
        parts = sum(rec[p] for p in O.PARTS)
        assert np.all(parts <= rec["outside"])  # timed inside the call, outside the solver
        assert np.all(rec["refresh"] > 0) and np.all(rec["b, x0"] > 0)
    capsys.readouterr()
    rows[0]["read"] = rows[0]["read"] + 1.0  # a read of a second: every check "beats" it
    msgs = O._parts_report(rows[:1], {"this checkout": bandit})
    assert len(msgs) == 1 and msgs[0].startswith("IMPOSSIBLE: n = ")
    assert "!! IMPOSSIBLE" in capsys.readouterr().out
