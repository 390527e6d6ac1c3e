"""Tiny versions of every ``relaxtune`` subcommand through ``main([...])``."""
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import bandit
from experiments.cli import main

HEAT = ["--nx", "6", "--steps", "12", "--t-end", "0.012", "--trials", "1"]


def _check_summary(path, study):
    s = json.loads(path.read_text())
    assert s["study"] == study and "params" in s
    for name, m in s["methods"].items():
        assert isinstance(m["iterations"], float) and isinstance(m["seconds"], float), name
        assert "label" in m
    return s


@pytest.mark.parametrize("study", ["learning", "contextual"])
def test_offset_subcommands(study, tmp_path, capsys):
    out = tmp_path / "r"
    rc = main([study, "--T", "25", "--trials", "2", "--variance", "low", "--seed", "1",
               "--out", str(out), "--json", str(tmp_path / "s.json")])
    assert rc == 0
    s = _check_summary(out / "summary.json", study)
    assert s == json.loads((tmp_path / "s.json").read_text())
    assert s["params"]["variance"] == "low" and s["params"]["trials"] == 2
    assert {"young", "grid_min", "best_fixed", "fixed_1.6", "tsallis_inf"} <= set(s["methods"])
    if study == "contextual":
        assert {"chebcb", "tsallis_inf_cb"} <= set(s["methods"])
    else:
        assert not any(bandit.POLICIES[m].contextual for m in s["params"]["learners"])
    with np.load(out / "rounds.npz") as z:
        assert z["iter__fixed_1"].shape == (2, 25)
    assert (out / "rounds.csv").read_text().startswith("round,")
    for f in ("cumulative", "regret", "omega_map"):
        assert (out / "figures" / f"{f}.png").stat().st_size > 1000
        assert (out / "figures" / f"{f}.pdf").is_file()
    assert "instance-optimal (Young ω*)" in capsys.readouterr().out


def test_contextual_learner_in_learning_gets_the_real_offsets(tmp_path):
    """A contextual learner named in ``learning`` sees the same per-round offsets c_t as in
    ``contextual`` (not a constant or no context): same seed, same arms played."""
    arms = {}
    for study in ("learning", "contextual"):
        out = tmp_path / study
        assert main([study, "--T", "30", "--trials", "1", "--seed", "3", "--learners", "chebcb",
                     "--quiet", "--no-plots", "--out", str(out)]) == 0
        with np.load(out / "rounds.npz") as z:
            arms[study] = z["arms__chebcb"].copy()
            offsets = z["contexts"][0]
    assert np.ptp(offsets) > 0  # the context really varies along the sequence
    np.testing.assert_array_equal(arms["learning"], arms["contextual"])
    assert len(set(arms["learning"].ravel().tolist())) > 1


def test_out_holding_another_runs_results_is_refused(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "notes.txt").write_text("mine")  # a folder without results is fine
    argv = ["learning", "--T", "10", "--trials", "1", "--learners", "tsallis_inf", "--quiet",
            "--no-plots", "--out", str(out)]
    assert main(argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"summary.json", "rounds.npz", "notes.txt"} <= set(before)
    capsys.readouterr()
    assert main(["contextual"] + argv[1:]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relaxtune: error: --out ") and err.count("\n") == 1
    assert "already holds results" in err and "choose another --out or remove it" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing touched


def test_plot_redraws_without_recomputing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    assert main(["learning", "--T", "15", "--trials", "1", "--learners", "tsallis_inf",
                 "--quiet", "--no-plots", "--out", str(out)]) == 0
    assert not (out / "figures").exists()
    import experiments.offset_study as study

    monkeypatch.setattr(study, "offset_trial", None)  # any recomputation would fail
    assert main(["plot", str(out), "--markdown"]) == 0
    assert (out / "figures" / "cumulative.png").is_file()
    text = capsys.readouterr().out
    assert "| method | iterations |" in text and "| Tsallis-INF |" in text


def test_plot_rejects_non_results_folder(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relaxtune: error: ") and "no summary.json" in err
    assert err.count("\n") == 1


def test_plot_tuner_file_refuses_markdown_before_drawing(tmp_path, capsys):
    from solvers import gallery
    t = bandit.Tuner(bandit.SmoothIGW([1.0, 1.5], seed=0), solver="sor")
    A = gallery.laplacian_2d(4)
    t.solve(A, np.ones(16))
    t.save(tmp_path / "tuner.json")
    assert main(["plot", str(tmp_path / "tuner.json"), "--markdown"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relaxtune: error: ") and err.count("\n") == 1
    assert "--markdown" in err and "tuner file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuner.json"]  # nothing drawn
    assert main(["plot", str(tmp_path / "tuner.json")]) == 0


def test_heat2d_subcommand(tmp_path, capsys):
    out = tmp_path / "h"
    rc = main(["heat2d", *HEAT, "--nx", "5", "6", "--methods", "tsallis_inf", "chebcb",
               "--out", str(out), "--json", str(tmp_path / "h.json")])
    assert rc == 0
    s = _check_summary(out / "summary.json", "heat2d")
    assert set(s["sizes"]) == {"5", "6"} and s["sizes"]["6"]["n"] == 25
    m = s["methods"]
    assert {"cg", "direct", "grid_min", "instance_optimal", "best_fixed", "fixed_1.75", "chebcb",
            "tsallis_inf"} <= set(m)
    assert m["chebcb"]["all_converged"]
    assert (m["instance_optimal"]["iterations"] <= m["grid_min"]["iterations"]
            <= m["best_fixed"]["iterations"] <= m["fixed_1"]["iterations"])
    assert m["instance_optimal"]["regret_golden"] == 0 and m["chebcb"]["regret_golden"] >= 0
    assert s["params"]["golden"] is True
    for nx in (5, 6):
        with np.load(out / f"rounds_nx{nx}.npz") as z:
            assert z["C"].shape == (12, 20) and z["arms__chebcb"].shape == (1, 12)
            assert z["iter__instance_optimal"].shape == (1, 12) and z["golden_omega"].shape == (12,)
    assert (out / "figures" / "scaling.png").is_file()
    assert (out / "figures" / "omega_map_nx6.png").is_file()
    text = capsys.readouterr().out
    assert "plain CG" in text and "vs CG" in text
    assert "instance-optimal (golden section)" in text and "regret/golden" in text


def test_demo_subcommand(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["demo", *HEAT, "--jobs", "1", "--no-direct", "--no-golden",
                 "--out", str(out)]) == 0
    s = _check_summary(out / "summary.json", "demo")
    assert set(s["params"]["learners"]) == {"tsallis_inf", "tsallis_inf_cb", "chebcb"}
    assert "direct" not in s["methods"] and "instance_optimal" not in s["methods"]
    assert "grid_min" in s["methods"] and s["params"]["golden"] is False
    assert "ChebCB" in capsys.readouterr().out


def test_heat2d_without_grid(tmp_path):
    out = tmp_path / "g"
    assert main(["heat2d", *HEAT, "--methods", "chebcb", "--no-grid", "--quiet",
                 "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert set(s["methods"]) == {"cg", "direct", "chebcb"}
    assert s["methods"]["chebcb"]["regret_best_fixed"] is None
    assert s["params"]["grid"] is False and s["params"]["golden"] is False
    assert (out / "figures" / "cumulative_nx6.png").is_file()
    assert main(["plot", str(out)]) == 0


def test_heat_rejects_unknown_backend(capsys):
    assert main(["heat2d", "--backend", "cuda"]) == 2
    assert "invalid choice: 'cuda'" in capsys.readouterr().err


def test_bench_dispatch(monkeypatch):
    seen = {}
    fake = types.ModuleType("experiments.bench_bandit")
    fake.main = lambda argv: seen.setdefault("argv", argv) and 0
    monkeypatch.setitem(sys.modules, "experiments.bench_bandit", fake)
    assert main(["bench", "bandit", "--rounds", "10"]) == 0
    assert seen["argv"] == ["--rounds", "10"]


@pytest.mark.parametrize("returned, status", [(None, 0), (0, 0), (1, 1), ({"rows": []}, 0)])
def test_bench_status_is_the_benchmarks_exit_status(monkeypatch, returned, status):
    """A benchmark's ``main`` returns its exit status, or its records (``bench percall``'s
    ``main`` returns them for tests): records are a finished run (0), never a crash at the
    end of the measurement."""
    fake = types.ModuleType("experiments.bench_percall")
    fake.main = lambda argv: returned
    monkeypatch.setitem(sys.modules, "experiments.bench_percall", fake)
    assert main(["bench", "percall"]) == status


def test_bench_missing_module(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "experiments.bench_petsc", None)  # import fails
    assert main(["bench", "petsc"]) == 2
    assert "cannot import" in capsys.readouterr().err


@pytest.mark.petsc
def test_heat2d_petsc_one_rank_sampled_baselines(tmp_path):
    """--backend petsc with baselines sampled beside the learner: plain CG and the direct
    solve on the PETSc simulation's systems (gathered for splu); CG's counts agree with the
    Numba run of the same options (trajectories equal to tolerance: ± 1 per sampled step)."""
    runs = {}
    for backend in ("numba", "petsc"):
        out = tmp_path / backend
        # dt = 0.5 from s = 0.25: κ alternates between 0.1 and 10, so CG has work to do
        assert main(["heat2d", "--nx", "8", "--steps", "12", "--t-end", "6", "--trials", "1",
                     "--backend", backend, "--methods", "chebcb", "--no-grid",
                     "--baseline-every", "4", "--quiet", "--no-plots", "--out", str(out)]) == 0
        runs[backend] = json.loads((out / "summary.json").read_text())
    m = runs["petsc"]["methods"]
    assert runs["petsc"]["params"]["ranks"] == 1 and runs["petsc"]["params"]["backend"] == "petsc"
    assert m["cg"]["sampled"]["steps"] == m["direct"]["sampled"]["steps"] == 3  # steps 0, 4, 8
    assert m["direct"]["seconds"] > 0 and m["chebcb"]["all_converged"]
    assert abs(m["cg"]["iterations"] - runs["numba"]["methods"]["cg"]["iterations"]) <= 3
    assert m["cg"]["iterations"] >= 3 * 5  # CG did real work on each sampled step (n = 49)


def test_no_plots_does_not_announce_figures(tmp_path, capsys):
    """With --no-plots no figures folder is written, and the closing line does not point
    to one; without it, the folder it names exists."""
    out = tmp_path / "n"
    assert main(["heat2d", *HEAT, "--methods", "chebcb", "--no-grid", "--no-direct",
                 "--no-plots", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert not (out / "figures").exists()
    assert "figures in" not in text and f"results written to {out}" in text
    out2 = tmp_path / "p"
    assert main(["heat2d", *HEAT, "--methods", "chebcb", "--no-grid", "--no-direct",
                 "--out", str(out2)]) == 0
    assert f"figures in {out2 / 'figures'}" in capsys.readouterr().out
    assert (out2 / "figures").is_dir()


@pytest.mark.parametrize("which", ["kernels", "pcg", "petsc", "tuner", "overhead", "bandit",
                                   "learners", "regret"])
def test_bench_bad_option_is_one_line(which, capsys):
    """Every benchmark refuses an unknown option like the other subcommands: one line
    naming the benchmark, no usage dump, status 2, nothing measured."""
    assert main(["bench", which, "--no-such-option"]) == 2
    cap = capsys.readouterr()
    assert cap.err.startswith(f"relaxtune: error: bench {which}: ")
    assert "--no-such-option" in cap.err and cap.err.count("\n") == 1
    assert cap.out == ""


def test_bench_bandit_checks_its_arguments(capsys):
    for argv, what in ((["--rounds", "0"], "--rounds"), (["--rounds", "-1"], "--rounds"),
                       (["--policies", "nope"], "nope")):
        assert main(["bench", "bandit", *argv]) == 2
        cap = capsys.readouterr()
        assert cap.err.startswith("relaxtune: error: bench bandit: ") and what in cap.err
        assert cap.err.count("\n") == 1 and cap.out == ""


@pytest.mark.parametrize("which,argv,what", [
    ("regret", ["--seeds", "0"], "--seeds"),
    ("regret", ["--T", "0"], "--T"),
    ("regret", ["--budget", "-1"], "--budget"),
    ("regret", ["--jobs", "0"], "--jobs"),
    ("regret", ["--policies", "nope"], "nope"),
    ("learners", ["--max-T", "0"], "--max-T"),
    ("learners", ["--learners", "nope"], "nope"),
    ("learners", ["--seeds", "1", "1"], "--seeds"),  # a repeated seed counted its runs twice
    ("overhead", ["--nx", "1"], "--nx"),
    ("overhead", ["--steps", "0"], "--steps"),
    ("overhead", ["--batches", "0"], "--batches"),
    ("pcg", ["--sizes", "0"], "--sizes"),
    ("pcg", ["--target", "-1"], "--target"),
    ("tuner", ["--seed", "-1"], "--seed"),
    ("petsc", ["--heat2d", "1", "0"], "--heat2d"),
])
def test_bench_bad_values_are_usage_errors(which, argv, what, capsys, tmp_path):
    """A value a benchmark cannot use is refused before anything is computed or printed:
    one line naming the option, status 2 (not a failure after the first tables)."""
    assert main(["bench", which, *argv]) == 2
    cap = capsys.readouterr()
    assert cap.err.startswith(f"relaxtune: error: bench {which}: ") and what in cap.err
    assert cap.err.count("\n") == 1 and cap.out == ""


def test_bench_bandit_prints_the_machine(capsys):
    """Timings come with the machine they were measured on (CPU model, libraries)."""
    assert main(["bench", "bandit", "--rounds", "10", "--policies", "tsallis_inf"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# machine: ") and "# libraries: python " in out
    assert "tsallis_inf" in out


@pytest.mark.parametrize("every,steps", [("5", "steps 0, 5, 10: 3 of 12"),
                                         ("3", "steps 0, 3, 6, ...: 4 of 12"),
                                         ("25", "steps 0: 1 of 12")])
def test_sampled_baselines_note_names_only_steps_that_exist(every, steps, tmp_path, capsys):
    assert main(["heat2d", *HEAT, "--methods", "chebcb", "--no-grid", "--no-direct",
                 "--no-plots", "--baseline-every", every, "--out", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert f"baselines sampled every {every} steps ({steps}): plain CG solved" in out


def test_bench_regret_prints_the_machine(tmp_path, capsys):
    """Its cost columns are shares of measured seconds: the machine comes with them."""
    assert main(["bench", "regret", "--studies", "offset_low", "--policies", "tsallis_inf",
                 "--seeds", "1", "--T", "10", "--cache", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# machine: ") and "Tuner.regret() against exact regrets" in out


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch, capsys):
    """The default results folder is named after the second the run starts: a second run
    started in the same second (a batch job array) must not write into the first one's
    folder, which exists but holds no summary.json yet."""
    import experiments.results as results

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(results, "default_out", lambda study: Path("results") / f"{study}-T")
    first = tmp_path / "results" / "learning-T"
    first.mkdir(parents=True)
    (first / "rounds.npz").write_bytes(b"the first run's, being written")
    assert main(["learning", "--T", "10", "--trials", "1", "--learners", "tsallis_inf",
                 "--no-plots", "--quiet"]) == 0
    assert sorted(p.name for p in first.iterdir()) == ["rounds.npz"]
    second = tmp_path / "results" / "learning-T-2"
    assert json.loads((second / "summary.json").read_text())["study"] == "learning"
