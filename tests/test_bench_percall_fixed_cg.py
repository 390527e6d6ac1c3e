"""``bench_percall --parts --fixed cg``: the fixed Tuner plays plain CG (heat3d's best fixed
configuration), and the configuration learner's excess is printed over the steps where it
played that arm for the same iterations."""
import pytest

from experiments import bench_percall
from experiments.precond_study import default_grid


def test_the_fixed_tuner_plays_plain_cg_on_every_step(capsys):
    records = bench_percall.main(["--parts", "--sequence", "heat3d", "--m", "4",
                                  "--samples", "12", "--warmup", "4", "--fixed", "cg"])
    out = capsys.readouterr().out
    assert list(records) == ["fixed cg", "ω-only learner", "configuration learner"]
    cg = next(i for i, c in enumerate(default_grid())
              if c["method"] == "cg" and c.get("pc", "none") == "none")
    assert [r["arm"] for r in records["fixed cg"]] == [cg] * 8
    assert "configuration learner − fixed cg on the steps where it played the same arm" in out


def test_same_arm_report_reads_only_the_steps_of_the_same_arm_and_iterations():
    def rec(arm, its, select):
        return {"arm": arm, "iterations": its, "select": select, "whole": 1e-3,
                "solver": 5e-4, "cpu": 1e-3}

    records = {"fixed cg": [rec(8, 5, 1e-6), rec(8, 6, 1e-6), rec(8, 7, 1e-6)],
               "configuration learner": [rec(8, 5, 11e-6), rec(3, 6, 99e-6),
                                         rec(8, 8, 99e-6)]}
    lines = bench_percall._same_arm_report(records)
    assert "(1 of 3)" in lines[0]
    (select,) = [ln for ln in lines if ln.strip().startswith("select")]
    assert select.split(":")[1].split()[0] == "10.0"  # 11 − 1 µs on the one matched step


def test_omega_with_fixed_cg_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench_percall.main(["--parts", "--sequence", "heat3d", "--m", "4", "--samples", "12",
                            "--warmup", "4", "--fixed", "cg", "--omega", "1.2"])
    assert "--omega is the SSOR-PCG fixed Tuner's" in capsys.readouterr().err
