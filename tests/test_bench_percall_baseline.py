"""``bench_percall --parts --baseline``: another checkout's learners in the same lockstep, and
the configuration − ω-only learner line per code version."""
from pathlib import Path

import pytest

from experiments import bench_percall

ROOT = Path(__file__).resolve().parents[1]


def test_baseline_learners_join_the_lockstep(capsys):
    """This checkout loaded again as the baseline: its two learners run in the same steps,
    every part timed as this checkout's, and the
    report has one configuration − ω-only line per version."""
    records = bench_percall.main(["--parts", "--sequence", "heat2d", "--nx", "6",
                                  "--samples", "12", "--warmup", "4",
                                  "--baseline", str(ROOT)])
    out = capsys.readouterr().out
    assert list(records) == ["fixed ω=1.8", "ω-only learner", "configuration learner",
                             "ω-only learner (baseline)", "configuration learner (baseline)"]
    assert all(len(recs) == 8 for recs in records.values())  # 12 steps − 4 warm-up
    assert all(r["solver"] > 0.0 for r in records["configuration learner (baseline)"])
    assert "configuration − ω-only learner, this checkout" in out
    assert "configuration − ω-only learner, baseline" in out


def test_pair_report_medians_over_steps_of_equal_iterations():
    """The line's figures: medians of the per-step differences where both learners took
    the same iterations (the other steps left out)."""
    def rec(whole, solver, cpu, its):
        return {"whole": whole, "solver": solver, "cpu": cpu, "iterations": its}

    records = {"configuration learner": [rec(10e-6, 4e-6, 9e-6, 5), rec(20e-6, 4e-6, 9e-6, 6),
                                         rec(12e-6, 4e-6, 11e-6, 5)],
               "ω-only learner": [rec(8e-6, 4e-6, 7e-6, 5), rec(5e-6, 4e-6, 5e-6, 5),
                                  rec(8e-6, 4e-6, 7e-6, 5)]}
    (line,) = bench_percall._pair_report(records)
    assert "this checkout (2 steps" in line
    # outside: 6−4 = 2 and 8−4 = 4 → median 3; cpu: 2 and 4 → 3
    assert "outside the solver    3.0 [   2.5,    3.5]" in line
    assert "cpu    3.0 [   2.5,    3.5]" in line


def test_baseline_is_an_option_of_parts(capsys):
    with pytest.raises(SystemExit):
        bench_percall.main(["--baseline", str(ROOT)])
    assert "--baseline is an option of --parts" in capsys.readouterr().err


def test_baseline_report_is_the_per_step_difference_over_steps_of_the_same_run():
    """Each part's line: medians of this checkout's and the baseline's part and of their
    per-step difference, over the steps where both played the same arm for the same
    iterations; parts zero in both are left out."""
    def rec(select, whole, solver, arm, its):
        return {"select": select, "whole": whole, "solver": solver, "cpu": whole,
                "arm": arm, "iterations": its}

    records = {"fixed ω=1.8": [rec(0, 9e-6, 5e-6, 0, 5)] * 4,
               "ω-only learner": [rec(3e-6, 10e-6, 4e-6, 1, 5), rec(5e-6, 10e-6, 4e-6, 1, 5),
                                  rec(9e-6, 10e-6, 4e-6, 2, 5), rec(4e-6, 10e-6, 4e-6, 1, 6)],
               "ω-only learner (baseline)": [rec(2e-6, 9e-6, 4e-6, 1, 5),
                                             rec(2e-6, 11e-6, 4e-6, 1, 5),
                                             rec(1e-6, 10e-6, 4e-6, 1, 5),
                                             rec(1e-6, 10e-6, 4e-6, 1, 5)]}
    lines = bench_percall._baseline_report(records)
    assert lines[0].startswith("  ω-only learner, this checkout − baseline")
    assert "(2 of 4 steps with the same arm and iterations)" in lines[0]
    # select: 3 − 2 = 1 and 5 − 2 = 3 → median 2 [1.5, 2.5]; medians 4.0 and 2.0
    (sel,) = [ln for ln in lines if ln.strip().startswith("select")]
    assert sel.split(":")[1].split() == ["2.0", "[", "1.5,", "2.5]"]
    assert "4.0 −       2.0" in sel
    # outside the solver: 6 − 5 = 1 and 6 − 7 = −1 → median 0
    (out,) = [ln for ln in lines if "outside the solver" in ln]
    assert out.split(":")[1].split()[0] == "0.0"
    assert not [ln for ln in lines if ln.strip().startswith("update")]  # zero in both
