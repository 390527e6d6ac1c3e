"""The command line and its files, run as a new user would: ``--json`` naming a file the run
writes or reads, ``relaxtune plot`` on a tuner saved before its first solve, a tuner file
whose config is an encoded scalar, and ``relaxtune tune`` stopped before its first system
finished."""
import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from solvers import gallery


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """A run without --out writes results/tune-<timestamp>/ in the current folder."""
    monkeypatch.chdir(tmp_path)


def _systems(folder, count=2, n=4):
    """``count`` Matrix Market files of shifted 2-D Laplacians (n² unknowns)."""
    paths = []
    for t in range(count):
        path = folder / f"A{t}.mtx"
        scipy.io.mmwrite(path, gallery.laplacian_2d(n) + 0.1 * t * sp.eye(n * n))
        paths.append(str(path))
    return paths


def _tune(argv, omegas=("1.0", "1.3", "1.6")):
    from experiments.cli import main

    return main(["tune", *argv, *(["--omegas", *omegas] if omegas else []), "--no-plots",
                 "--quiet"])


def _saved_tuner(path, solves):
    import bandit

    tuner = bandit.Tuner(solver="sor")
    A = gallery.laplacian_2d(4)
    for _ in range(solves):
        tuner.solve(A, np.ones(16))
    tuner.save(path)
    return tuner


# --- --json naming the results folder, a file in it, or an input ---------------------------
@pytest.mark.parametrize("where", ["tuner.json", "history.csv", "figures/x.json", "."])
def test_tune_json_into_the_results_folder_is_refused_before_the_run(tmp_path, capsys, where):
    # --json out/tuner.json had written the summary over the run's tuner file (exit 0; the
    # folder then refused by relaxtune plot); --json out had failed with exit status 1 after
    # the whole run, its results folder left behind for a rerun to trip over
    files = _systems(tmp_path)
    out = tmp_path / "out"
    target = out if where == "." else out / where
    assert _tune([*files, "--out", str(out), "--json", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"relaxtune: error: --json {target}: ")
    assert ("is the results folder" if where == "." else "the run writes its own") in err
    assert not out.exists()  # refused before anything was created


def test_tune_json_beside_the_results_in_its_folder_is_written(tmp_path):
    # --out . with --json run.json: a file the run does not write, in its folder, is fine
    files = _systems(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    assert _tune([*files, "--out", str(out), "--json", str(out / "mine.json")]) == 0
    assert (json.loads((out / "mine.json").read_text())
            == json.loads((out / "summary.json").read_text()))


def test_tune_json_as_its_summary_json_is_the_same_summary(tmp_path):
    files = _systems(tmp_path)
    out = tmp_path / "out"
    assert _tune([*files, "--out", str(out), "--json", str(out / "summary.json")]) == 0
    import bandit

    tuner = bandit.Tuner.load(out / "tuner.json")  # the tuner file is whole
    summary = json.loads((out / "summary.json").read_text())
    assert summary["systems"] == 2 == len(tuner.history["arm"])


def test_tune_json_over_the_resumed_tuner_file_is_refused_and_the_file_kept(tmp_path, capsys):
    # --resume t.json --json t.json --out other: the continued tuner's own file had been
    # replaced by the summary (the saved learner lost)
    files = _systems(tmp_path, count=1)
    saved = tmp_path / "t.json"
    _saved_tuner(saved, solves=2)
    before = saved.read_bytes()
    assert _tune([*files, "--resume", str(saved), "--json", str(saved), "--out",
                  str(tmp_path / "out")], omegas=None) == 2
    err = capsys.readouterr().err
    assert f"--json {saved}: is one of the run's input files" in err
    assert saved.read_bytes() == before
    assert not (tmp_path / "out").exists()


def test_tune_json_over_an_input_matrix_through_a_symlink_is_refused(tmp_path, capsys):
    files = _systems(tmp_path)
    link = tmp_path / "link.json"
    link.symlink_to(files[1])
    before = open(files[1], "rb").read()
    assert _tune([*files, "--out", str(tmp_path / "out"), "--json", str(link)]) == 2
    assert "is one of the run's input files" in capsys.readouterr().err
    assert open(files[1], "rb").read() == before


def test_study_json_into_its_results_folder_is_refused_before_it_runs(tmp_path, capsys,
                                                                      monkeypatch):
    from experiments import cli_studies
    from experiments.cli import main

    def ran(*args, **kwargs):
        raise AssertionError("the study ran")

    monkeypatch.setattr(cli_studies, "_run", ran)
    out = tmp_path / "out"
    for target in (out, out / "rounds.npz"):
        assert main(["learning", "--T", "5", "--trials", "1", "--out", str(out), "--json",
                     str(target), "--quiet"]) == 2
        assert capsys.readouterr().err.startswith(f"relaxtune: error: --json {target}: ")
        assert not out.exists()


# --- relaxtune plot on a tuner saved before its first solve ---------------------------------
def test_plot_of_a_tuner_without_solves_is_refused_and_draws_nothing(tmp_path, capsys):
    # six empty figures had been written, with exit status 0
    from experiments.cli import main

    saved = tmp_path / "t.json"
    _saved_tuner(saved, solves=0)
    assert main(["plot", str(saved), "--out", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"relaxtune: error: {saved}: the tuner holds no solve")
    assert not (tmp_path / "figs").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]


def test_plot_of_a_tuner_after_one_solve_still_draws_it(tmp_path, capsys):
    from experiments.cli import main

    saved = tmp_path / "t.json"
    tuner = _saved_tuner(saved, solves=1)
    assert main(["plot", str(saved)]) == 0
    out = capsys.readouterr().out
    its = int(tuner.history["iterations"][0])
    assert f"1 solve, {its} iterations" in out
    assert (tmp_path / "t_cost.png").stat().st_size > 0


# --- a tuner file whose config is an encoded scalar ----------------------------------------
@pytest.mark.parametrize("where", ["config", "policy.config"])
def test_tuner_file_with_an_encoded_scalar_as_config_is_a_tuner_file_error(tmp_path, where):
    # {"__float__": "nan"} is a JSON object, so it passed the "must be an object" check and
    # failed later as TypeError: 'float' object is not iterable (exit status 1 in the CLI)
    import bandit

    saved = tmp_path / "t.json"
    _saved_tuner(saved, solves=1)
    payload = json.loads(saved.read_text())
    if where == "config":
        payload["config"] = {"__float__": "nan"}
    else:
        payload["policy"]["config"] = {"__float__": "nan"}
    saved.write_text(json.dumps(payload))
    want = "config must be an object" if where == "config" else "policy config must be"
    with pytest.raises(bandit.TunerFileError, match=want):
        bandit.Tuner.load(saved)


# --- relaxtune tune stopped before its first system finished --------------------------------
def _stopping_tuner(monkeypatch, solves_before_stop):
    import bandit

    real = bandit.Tuner.solve
    calls = {"n": 0}

    def solve(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > solves_before_stop:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(bandit.Tuner, "solve", solve)


def test_tune_stopped_before_its_first_solve_saves_nothing(tmp_path, capsys, monkeypatch):
    # a table of 0 systems ("best fixed ω = 1 (hindsight)", all converged), empty figures and
    # a summary.json had been written; a rerun into the same --out was then refused
    files = _systems(tmp_path)
    out = tmp_path / "out"
    _stopping_tuner(monkeypatch, 0)
    assert _tune([*files, "--out", str(out)]) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "relaxtune: interrupted: no system had finished, nothing was saved\n"
    assert not out.exists()
    monkeypatch.undo()
    assert _tune([*files, "--out", str(out)]) == 0  # the rerun goes through
    assert json.loads((out / "summary.json").read_text())["systems"] == 2


def test_tune_stopped_in_its_first_comparison_keeps_the_tuner_to_resume(tmp_path, capsys,
                                                                       monkeypatch):
    import bandit
    import solvers

    files = _systems(tmp_path)
    out = tmp_path / "out"

    def stop(*args, **kwargs):  # the fixed ω of the first system's comparison
        raise KeyboardInterrupt

    monkeypatch.setitem(solvers.SOLVERS, "ssor_pcg", stop)
    assert _tune([*files, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "tuner.json"]
    assert f"continue with --resume {out / 'tuner.json'} from system 2 ({files[1]})" in err
    tuner = bandit.Tuner.load(out / "tuner.json")
    assert len(tuner.history["arm"]) == 1
    # the round it saved is the first system's tuned solve, as a fresh tuner solves it
    A = scipy.io.mmread(files[0]).tocsr()
    ref = solvers.ssor_pcg(A, np.ones(A.shape[0]), tuner.history["omega"][0], rtol=1e-8)
    assert tuner.history["iterations"][0] == ref.iterations


# --- the arms figure's last solve -----------------------------------------------------------
@pytest.mark.parametrize("solves", [1, 3, 400])
def test_arms_figure_shows_the_last_solve_whole(solves):
    # the x-axis ended at the last solve, so its marker (a cross if it failed) was cut in half
    import bandit
    from experiments.plots import plot_run_arms, run_data

    tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), solver="sor")
    A = gallery.laplacian_2d(3)
    for _ in range(solves):
        tuner.solve(A, np.ones(9))
    ax = plot_run_arms(run_data(tuner))
    marker = 3 / 72 * ax.figure.dpi  # half the dot's width (s=6: about 2.4 points), in pixels
    right = ax.transData.transform((ax.get_xlim()[1], 0))[0]
    last = ax.transData.transform((solves, 0))[0]
    assert right - last > marker


# --- --resume: a second run continuing the same file, a tune folder given ------------------
def test_tune_resume_of_a_file_another_run_continues_is_refused(tmp_path, capsys):
    # two runs continuing one tuner file at once both read it and both replaced it: the
    # first to finish lost its rounds, and both exited with status 0
    import fcntl
    import os

    import bandit

    files = _systems(tmp_path, count=1)
    saved = tmp_path / "t.json"
    _saved_tuner(saved, solves=2)
    fd = os.open(saved, os.O_RDONLY)  # what a running `tune --resume t.json` holds
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert _tune([*files, "--resume", str(saved)], omegas=None) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"relaxtune: error: --resume {saved}: another relaxtune run is "
                              f"continuing this tuner file")
        assert len(bandit.Tuner.load(saved).history["arm"]) == 2
        # continuing a copy into a folder of its own does not replace the file: it goes on
        assert _tune([*files, "--resume", str(saved), "--out", str(tmp_path / "out")],
                     omegas=None) == 0
    finally:
        os.close(fd)
    assert _tune([*files, "--resume", str(saved)], omegas=None) == 0  # once that run ended
    assert len(bandit.Tuner.load(saved).history["arm"]) == 3


def test_tune_resume_of_a_tune_folder_names_its_tuner_file(tmp_path, capsys):
    files = _systems(tmp_path, count=1)
    assert _tune([*files, "--out", str(tmp_path / "run")]) == 0
    assert _tune([*files, "--resume", str(tmp_path / "run")], omegas=None) == 2
    err = capsys.readouterr().err
    assert err.rstrip().endswith(f"--resume {tmp_path / 'run' / 'tuner.json'}")


# --- text files written with a byte-order mark -----------------------------------------------
def test_text_files_with_a_byte_order_mark_are_read_as_without(tmp_path):
    # a UTF-8 file saved by a Windows editor starts with U+FEFF: its first number had been
    # refused ("line 1 is '\ufeff0.1', not numbers", "could not convert string")
    from experiments.user_files import read_contexts, read_vector

    ctx, rhs = tmp_path / "ctx.txt", tmp_path / "b.txt"
    ctx.write_bytes(b"\xef\xbb\xbf0.25\r\n0.5 # dt\r\n\r\n0.75\r\n")
    rhs.write_bytes(b"\xef\xbb\xbf" + b" ".join(b"%d" % k for k in range(1, 7)) + b"\n")
    assert read_contexts(ctx, 3) == [0.25, 0.5, 0.75]
    assert read_vector(rhs, 6).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xef\xbb\xbf0.25\nx\n0.75\n")
    with pytest.raises(ValueError, match="line 2 is 'x'"):  # lines still counted from 1
        read_contexts(bad, 3)


# --- a tuner file saved as summary.json ------------------------------------------------------
def test_plot_draws_a_tuner_file_saved_as_summary_json(tmp_path, capsys):
    # it had been refused as "a file of the results folder: give the folder", and the folder
    # then as "not a relaxtune results summary": no way to draw the run
    from experiments.cli import main

    saved = tmp_path / "summary.json"
    tuner = _saved_tuner(saved, solves=2)
    assert main(["plot", str(saved)]) == 0
    total = int(np.sum(tuner.history["iterations"]))
    assert f"2 solves, {total} iterations" in capsys.readouterr().out
    assert (tmp_path / "summary_cost.png").is_file()
    # a study's or a tune run's summary.json is still sent to its folder
    files = _systems(tmp_path, count=1)
    assert _tune([*files, "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "run" / "summary.json")]) == 2
    assert "give the folder (relaxtune plot" in capsys.readouterr().err


def test_tune_resumed_and_stopped_in_its_first_comparison_keeps_the_file(tmp_path, capsys,
                                                                         monkeypatch):
    import bandit
    import solvers

    files = _systems(tmp_path)
    saved = tmp_path / "t.json"
    _saved_tuner(saved, solves=2)
    before = saved.read_bytes()

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(solvers.SOLVERS, "sor", stop)
    assert _tune([*files, "--resume", str(saved)], omegas=None) == 130
    err = capsys.readouterr().err
    assert f"({saved} is kept as it was)" in err
    assert saved.read_bytes() == before
    out = err.split("the tuner was saved in ")[1].split(" (")[0]
    assert len(bandit.Tuner.load(f"{out}/tuner.json").history["arm"]) == 3


# --- --out holding a file named figures --------------------------------------------------------
@pytest.mark.parametrize("command", ["tune", "learning"])
def test_out_with_a_file_named_figures_is_refused_before_the_run(tmp_path, capsys, command,
                                                                 monkeypatch):
    # the run computed everything, saved it, then failed drawing: FileExistsError, status 1
    # (tune's line did not even say the results were saved)
    from experiments import cli_studies, user_files
    from experiments.cli import main

    def ran(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(cli_studies, "_run", ran)
    monkeypatch.setattr(user_files, "run", ran)
    out = tmp_path / "out"
    out.mkdir()
    (out / "figures").write_text("mine")
    argv = ([*_systems(tmp_path), "--omegas", "1.2"] if command == "tune"
            else ["--T", "5", "--trials", "1"])
    assert main([command, *argv, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (f"relaxtune: error: --out {out}: {out / 'figures'} exists and is not a "
                   f"folder, where the run draws its figures; remove it, or give --no-plots "
                   f"or another --out\n")
    assert sorted(p.name for p in out.iterdir()) == ["figures"]
    assert (out / "figures").read_text() == "mine"
    monkeypatch.undo()
    # without figures the run goes on
    assert main([command, *argv, "--out", str(out), "--quiet", "--no-plots"]) == 0
    assert (out / "summary.json").is_file()
