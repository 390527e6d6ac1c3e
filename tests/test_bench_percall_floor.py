"""``bench_percall --parts``: heat3d, and the floor (one pass reading ``A``'s values in the
same rotation) below which a ``validate`` is impossible."""
import numpy as np
import pytest

from experiments import bench_percall


def test_heat3d_parts_and_the_floor_row(capsys):
    records = bench_percall.main(["--parts", "--sequence", "heat3d", "--m", "4",
                                  "--samples", "12", "--warmup", "4"])
    out = capsys.readouterr().out
    assert list(records) == ["fixed ω=1.2", "ω-only learner", "configuration learner"]
    assert all(len(recs) == 8 for recs in records.values())  # 12 steps − 4 warm-up
    # every record of a step carries that step's floor and A's size (m = 4: 4³ rows of a
    # 7-point stencil, 352 stored entries)
    for recs in records.values():
        assert all(r["entries"] == 352 and r["floor"] > 0.0 for r in recs)
        assert [r["floor"] for r in recs] == [r["floor"] for r in records["fixed ω=1.2"]]
    assert "floor" in out and "(352 entries)" in out
    assert "IMPOSSIBLE" not in out


def test_heat3d_steps_beyond_its_schedule_are_refused(capsys):
    with pytest.raises(SystemExit):
        bench_percall.main(["--parts", "--sequence", "heat3d", "--m", "4", "--samples", "200"])
    assert "--samples must be <= 180 with --sequence heat3d" in capsys.readouterr().err
    with pytest.raises(ValueError, match="heat3d has 180 steps"):
        bench_percall.run_parts("heat3d", 4, 181)


def test_validate_below_the_floor_is_flagged():
    def rec(validate, floor):
        return {"validate": validate, "floor": floor, "whole": 1e-3, "solver": 5e-4}

    fine = {"fixed": [rec(3e-6, 2e-6), rec(4e-6, 2e-6), rec(5e-6, 3e-6)]}
    assert bench_percall._impossible_parts(fine) == []
    bad = {"fixed": [rec(1e-6, 2e-6), rec(1e-6, 2e-6), rec(5e-6, 3e-6)]}
    (msg,) = bench_percall._impossible_parts(bad)
    assert msg.startswith("IMPOSSIBLE: fixed: median validate 1.0 µs is below the floor 2.0")


def test_read_once_is_the_sum():
    v = np.random.default_rng(0).standard_normal(1003)
    assert bench_percall._read_once(v) == pytest.approx(v.sum(), rel=1e-12)
