"""heat2d with baselines sampled on every K-th step (``--baseline-every``), and
``relaxtune bench tuner``."""
import json

import numpy as np
import pytest

import solvers
from experiments import bench_tuner
from experiments.cli import main
from experiments.heat_study import run_heat_study
from experiments.problems import Heat2D
from experiments.results import format_table

TINY = dict(nx=[6], steps=12, t_end=0.012, trials=1, methods=["chebcb"], progress=False)


def test_sampled_baselines_solve_the_learners_system_beside_it():
    s, arrays = run_heat_study(**TINY, grid=False, direct=True, baseline_every=5)
    a = arrays[6]
    assert s["params"]["baseline_every"] == 5
    np.testing.assert_array_equal(a["sampled_steps"], [0, 5, 10])
    assert "iter/cg" not in a and "sec/direct" not in a  # no whole-run baseline task ran
    m = s["methods"]
    assert m["cg"]["sampled"] == {"every": 5, "steps": 3, "runs": 1}
    assert m["cg"]["label"] == "plain CG, sampled: 3 of 12 steps"
    its, secs = a["sampled_cg_iterations/chebcb"], a["sampled_cg_seconds/chebcb"]
    assert its.shape == secs.shape == (1, 3) and np.all(secs > 0)
    assert m["cg"]["iterations"] == its.sum() and m["cg"]["seconds"] == pytest.approx(secs.sum())
    # step 0 starts from the initial state for everyone: CG from there, independently
    sim = Heat2D(6, 12, 0.012)
    A0, b0, _ = sim.system(0, sim.initial())
    assert its[0, 0] == solvers.cg(A0, b0, x0=sim.initial()).iterations
    mine = a["sec/chebcb"][0, [0, 5, 10]].sum()
    assert m["chebcb"]["vs_cg"] == pytest.approx(mine / secs.sum())
    entry = m["chebcb"]["sampled_baseline"]
    assert entry["steps"] == 3 and entry["cg_all_converged"]
    assert entry["seconds"] == pytest.approx(mine)
    direct = a["sampled_direct_seconds/chebcb"]
    assert direct.shape == (1, 3) and m["direct"]["sampled"]["steps"] == 3
    assert m["direct"]["vs_cg"] == pytest.approx(direct.sum() / secs.sum())
    assert m["chebcb"]["vs_direct"] == pytest.approx(mine / direct.sum())
    # the learner's own run is the one without sampling: same arms, same iterations
    plain, pa = run_heat_study(**TINY, grid=False, direct=False)
    np.testing.assert_array_equal(pa[6]["iter/chebcb"], a["iter/chebcb"])
    np.testing.assert_array_equal(pa[6]["arms/chebcb"], a["arms/chebcb"])


def test_sampled_baselines_with_the_grid_leave_grid_rows_without_a_cg_ratio():
    s, arrays = run_heat_study(**TINY, grid=True, golden=False, direct=False, baseline_every=4)
    m = s["methods"]
    assert "iter/cg" not in arrays[6] and m["cg"]["sampled"]["steps"] == 3
    assert m["fixed_1.5"]["vs_cg"] is None and m["grid_min"]["vs_cg"] is None
    assert m["chebcb"]["vs_cg"] > 0 and "direct" not in m
    text = format_table(m, baseline="cg")
    lines = text.splitlines()
    assert lines[-1].startswith("plain CG, sampled: 3 of 12 steps")  # sampled rows last
    row = next(ln for ln in lines if ln.startswith("fixed ω=1.5"))
    assert row.split()[4] == "-"  # no CG over the whole run to compare with


def test_run_heat_study_refuses_a_bad_sampling_period():
    with pytest.raises(ValueError, match="baseline_every must be a positive integer"):
        run_heat_study(**TINY, grid=False, baseline_every=0)


@pytest.mark.parametrize("value, message", [("0", "must be an integer >= 1"),
                                            ("x", "must be an integer, got 'x'")])
def test_cli_checks_baseline_every_before_computing(value, message, capsys, tmp_path):
    out = tmp_path / "never"
    assert main(["heat2d", "--nx", "6", "--baseline-every", value, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relaxtune: error: argument --baseline-every") and message in err
    assert err.count("\n") == 1 and not out.exists()


def test_cli_reports_sampled_baselines(tmp_path, capsys):
    out = tmp_path / "h"
    assert main(["heat2d", "--nx", "5", "6", "--steps", "12", "--t-end", "0.012", "--trials", "1",
                 "--methods", "chebcb", "--no-grid", "--no-direct", "--baseline-every", "4",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "plain CG, sampled: 3 of 12 steps" in text
    assert "baselines sampled every 4 steps (steps 0, 4, 8: 3 of 12): plain CG solved" in text
    s = json.loads((out / "summary.json").read_text())
    assert set(s["sizes"]["6"]["methods"]) == {"chebcb", "cg"}
    assert (out / "figures" / "scaling.png").is_file()  # drawn from the sampled ratios
    assert main(["plot", str(out), "--markdown"]) == 0
    assert "| plain CG, sampled: 3 of 12 steps |" in capsys.readouterr().out


def test_bench_tuner_times_the_same_solves_side_by_side():
    systems, meta = bench_tuner.make_systems("heat2d", 100, 4)
    assert meta["n"] == 100 and len(systems) == 4
    row = bench_tuner.measure_row(systems, "ssor_pcg", 1.7, rounds=3)
    assert row["same_iterations"] and row["converged"]
    assert row["tuned"].samples.shape == row["fixed"].samples.shape == (3,)
    np.testing.assert_allclose(row["ratio"].samples,
                               row["tuned"].samples / row["fixed"].samples)
    np.testing.assert_allclose(row["operator_ratio"].samples,
                               row["operator"].samples / row["fixed"].samples)
    np.testing.assert_allclose(row["floor"].samples, 1.0 + row["read"].samples
                               / row["fixed"].samples)  # one read of (A, b, x0): the floor
    np.testing.assert_allclose(row["refresh_ratio"].samples,
                               row["refresh"].samples / row["fixed"].samples)
    assert np.all(row["refresh"].samples > 0.0)
    np.testing.assert_allclose(row["loop_ratio"].samples, row["tuned"].samples
                               / (row["fixed"].samples + row["refresh"].samples))
    systems, meta = bench_tuner.make_systems("mc3d", 100, 4)
    assert meta["n"] == 125 and systems[0][2] is None  # from zero, as a Monte Carlo loop
    assert bench_tuner.measure_row(systems, "sor", meta["sor_omega"], rounds=3)["same_iterations"]


def test_bench_tuner_fixed_side_solves_on_a_working_copy_like_a_loop():
    """The fixed side keeps one operator refreshed in place, so its solves find the work
    vectors of the previous one (a new ``prepare(A)`` per call had the timed solve touch new
    work vectors page by page: 40 µs of an 820 µs solve at n = 10⁴, counted as the fixed
    solve's); every solve is the one on a fresh preparation, bit for bit."""
    systems, _ = bench_tuner.make_systems("heat2d", 100, 4)
    fixed = bench_tuner.FixedLoop(solvers.ssor_pcg, 1.7)
    ops, work = [], []
    for A, b, x0 in systems:
        wall, cpu, res = fixed(A, b, x0)
        assert wall >= 0.0 and cpu >= 0.0 and fixed.refresh[1] >= 0.0
        ops.append(fixed.op)
        work.append(fixed.op.workspace(1))
        ref = solvers.ssor_pcg(solvers.prepare(A), b, 1.7, x0=x0)
        assert res.iterations == ref.iterations and res.converged
        np.testing.assert_array_equal(res.x, ref.x)
        assert fixed.op.data is not A.data  # a fresh copy, as the tuned side gets
    assert all(op is ops[0] for op in ops) and all(w is work[0] for w in work)


def test_bench_tuner_command(capsys, tmp_path):
    raw = tmp_path / "t.json"
    rc = main(["bench", "tuner", "--sizes", "64", "--rounds", "3", "--problems", "heat2d-hi",
               "--json", str(raw)])
    text = capsys.readouterr().out
    assert rc in (0, 1)  # 1 only if the machine made a ratio look impossible
    assert text.startswith("# machine: ") and "tuned / fixed" in text
    assert "heat2d nx=9, steps 742–" in text and text.count("ssor_pcg") >= 1
    data = json.loads(raw.read_text())
    assert [r["solver"] for r in data["rows"]] == ["ssor_pcg", "sor"]
    assert len(data["rows"][0]["tuned_s"]) == 3
    assert main(["bench", "tuner", "--rounds", "2"]) == 2
    assert capsys.readouterr().err == ("relaxtune: error: bench tuner: --rounds must be >= 3 "
                                       "(a median and a spread)\n")


def test_every_method_pays_the_operator_update_a_loop_of_its_own_pays(monkeypatch):
    # the Tuner refreshes the previous step's operator with the new values; a fixed ω (the cost
    # matrix) and plain CG (sampled beside a learner) must be charged the same refresh, not a
    # fresh preparation per step (several times dearer: the fixed rows' seconds had been
    # inflated by it against the learners')
    import experiments.costs as costs

    calls = []
    real = solvers.prepare

    def spy(A, **kw):
        if A.shape[0] == 25:  # the study's systems, not the warm-up's
            calls.append(kw.get("like") is not None and kw.get("overwrite", False))
        return real(A, **kw)

    monkeypatch.setattr(solvers, "prepare", spy)
    out = costs.heat_costs(Heat2D(nx=6, steps=5, t_end=0.05), [1.0, 1.5], cg=True)
    assert calls == [False, True, True, True, True]  # prepared once, then refreshed
    # a refreshed operator solves as a fresh one: the same iterations
    monkeypatch.setattr(solvers, "prepare", real)
    fresh = costs.heat_costs(Heat2D(nx=6, steps=5, t_end=0.05), [1.0, 1.5], cg=True)
    np.testing.assert_array_equal(out["C"], fresh["C"])
    np.testing.assert_array_equal(out["cg_iterations"], fresh["cg_iterations"])
    # the sampled plain-CG baseline: one operator of its own, refreshed at steps 5 and 10
    ops = []
    real_cg = solvers.cg

    def cg_spy(A, *args, **kw):
        ops.append(A)
        return real_cg(A, *args, **kw)

    monkeypatch.setattr(solvers, "cg", cg_spy)
    run_heat_study(**TINY, grid=False, direct=False, baseline_every=5)
    ops = [op for op in ops if op.shape[0] == 25]  # the study's systems, not the warm-ups
    assert len(ops) == 3 and all(isinstance(op, solvers.CSROperator) for op in ops)
    # refreshed on the unchanged pattern: the first operator's index arrays are kept
    assert all(op.indptr is ops[0].indptr and op.indices is ops[0].indices for op in ops)


def test_the_study_reads_cpu_seconds_so_time_away_from_the_core_is_not_charged(monkeypatch):
    # on a shared machine another job takes the core away for a while (as a sleep does): the
    # wall-clock of such a call grows, its CPU seconds do not; the PETSc backend keeps the wall
    # clock (ranks wait for one another)
    import time

    import experiments.costs as costs

    assert costs.study_clock("numba") is time.process_time
    assert costs.study_clock("petsc") is time.perf_counter
    real = solvers.ssor_pcg

    def descheduled(*args, **kwargs):
        time.sleep(0.02)
        return real(*args, **kwargs)

    monkeypatch.setattr(solvers, "ssor_pcg", descheduled)
    out = costs.heat_costs(Heat2D(nx=6, steps=2, t_end=0.02), [1.0, 1.5], cg=False)
    assert np.all(out["S"] < 0.015)  # 4 solves, each 20 ms away from the core
    s, _ = run_heat_study(**TINY, grid=False, direct=False)
    assert s["params"]["clock"] == "cpu"


def test_the_warm_up_loads_the_refresh_the_timed_steps_use(monkeypatch):
    # heat_costs refreshes each step's values into the previous step's operator: the warm-up
    # must take that path once, or the second step's timed update pays for loading its kernels
    import experiments.costs as costs

    refreshed = []
    real = solvers.prepare

    def spy(A, **kw):
        refreshed.append(kw.get("like") is not None and kw.get("overwrite", False))
        return real(A, **kw)

    monkeypatch.setattr(solvers, "prepare", spy)
    costs.warm_up("numba")
    assert any(refreshed)
