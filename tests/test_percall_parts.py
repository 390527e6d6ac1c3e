"""``bench_percall --parts``: every part of ``Tuner.solve`` timed on its own, the parts of a
call summing to the call."""
import math
import time

import numpy as np
import pytest

from experiments import bench_percall


@pytest.mark.parametrize("argv", [["--m", "4", "--samples", "12", "--warmup", "6"],
                                  ["--sequence", "heat2d", "--nx", "6", "--samples", "12",
                                   "--warmup", "6", "--clock", "thread_time"]])
def test_parts_sum_to_the_whole_call(argv, capsys):
    records = bench_percall.main(["--parts"] + argv)
    out = capsys.readouterr().out
    assert "machine:" in out and "outside the solver" in out
    assert list(records) == ["fixed ω=1.6" if "--m" in argv else "fixed ω=1.8",
                             "ω-only learner", "configuration learner"]
    clock = "thread_time" if "thread_time" in argv else "perf_counter"
    res = time.get_clock_info(clock).resolution
    labels = [p[0] for p in bench_percall.PARTS]
    for name, recs in records.items():
        assert len(recs) == 6  # 12 steps − 6 warm-up
        for rec in recs:
            parts = [rec.get(label, 0.0) for label in labels]
            # exclusive times: a part counted in its caller too would break the sum
            assert sum(parts) == pytest.approx(rec["whole"], abs=len(parts) * res + 1e-12)
            assert min(parts) >= -2 * res
            assert rec["solver"] > 0.0 and set(rec) - {"wall", "cpu", "arm", "iterations",
                                                       "collections", "whole",
                                                       "floor", "entries"} <= set(labels)
            if clock == "perf_counter":  # inside the reading around the call
                assert rec["whole"] <= rec["wall"] + res


def test_parts_leave_the_choices_as_they_were():
    """The timing wrappers change nothing: the ω-only learner's cost is its iterations, so
    an uninstrumented Tuner over the same systems makes the same choices."""
    import bandit
    from experiments.precond_study import default_grid, make_sequence

    records = bench_percall.run_parts("mc3d", 4, steps=10, warmup=0)
    seq = make_sequence("mc3d", 4, steps=10, samples=10)
    omegas = [c["omega"] for c in default_grid() if c.get("method") == "ssor_pcg"]
    tuner = bandit.Tuner(bandit.default_policy("ssor_pcg", omegas, context_bounds=seq.bounds,
                                               seed=0), solver="ssor_pcg")
    arms, its = [], []
    for t in range(10):
        A, b, x0, ctx = seq.system(seq.shared(t), None)
        r = tuner.solve(A, b, x0=x0, context=ctx)
        arms.append(r.arm)
        its.append(r.iterations)
    got = records["ω-only learner"]
    assert [r["arm"] for r in got] == arms and [r["iterations"] for r in got] == its
    assert np.unique(arms).size > 1  # it explored: the comparison has choices to check


def test_parts_refuse_an_omega_off_the_grid(capsys):
    with pytest.raises(SystemExit) as exc:
        bench_percall.main(["--parts", "--m", "4", "--samples", "12", "--warmup", "2", "--omega", "1.23"])
    assert exc.value.code == 2
    assert "--omega must be one of" in capsys.readouterr().err


def test_change_test_of_python_floats_is_numpy_scalars_bit_for_bit():
    """JointCB's update reads the error and spread of its compiled update as Python floats;
    its CUSUMs are those of the same formulas in NumPy scalars (the former reading), to the
    bit, over a run of a learner of the log-cost (a varying context)."""
    import bandit

    omegas = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    p = bandit.default_policy("ssor_pcg", omegas, context_bounds=(0.5, 2.0), seed=0)
    rng = np.random.default_rng(3)
    up = down = np.float64(0.0)
    checked, moved = 0, 0.0
    for t in range(150):
        c = float(rng.uniform(0.5, 2.0))
        k = p.select(c)
        cost = float((20 + 4 * (k - 4) ** 2 + 5 * c) * math.exp(rng.standard_t(3) / 4))
        logged = not p.models_cost and p.t > 0
        scale = p._scale()  # σ̂ before the update, which the standardised error divides by
        p.update(k, cost, c)
        if not logged:
            up, down = np.float64(p.cusum_up), np.float64(p.cusum_down)
            continue
        z = p._info[0] / (scale * np.sqrt(p._info[1]))  # NumPy scalars throughout
        assert isinstance(z, np.float64)
        z = min(max(z, -p.CHANGE_CAP), p.CHANGE_CAP)
        up = max(np.float64(0.0), up + z - p.CHANGE_DRIFT)
        down = max(np.float64(0.0), down - z - p.CHANGE_DRIFT)
        assert (p.cusum_up, p.cusum_down) == (up, down)
        checked += 1
        moved = max(moved, up + down)
    assert p.changes == 0 and checked > 100 and moved > 0  # the sums moved, no alarm
