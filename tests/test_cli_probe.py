"""The ``relaxtune`` command line run as a new user would: output paths that are not plain
files (a device, ``~``, folders left by a refusal), two runs sharing a results folder, a results
folder of another subcommand given to ``plot``, options out of range, benchmark caches cut
short, SIGTERM in a benchmark, a closed standard error, and ``make`` with a broken venv."""
import json
import os
import stat

import numpy as np
import pytest

from experiments.results import write_json


def test_json_into_a_named_pipe_writes_into_it_and_keeps_it(tmp_path):
    """``--json`` naming a device or a named pipe (``/dev/stdout``, ``/dev/null``, a FIFO a
    reader waits on) is written into; the atomic rename had replaced the device itself with a
    regular file (as root, ``--json /dev/null`` had destroyed /dev/null)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the writer can open it
    try:
        write_json(fifo, {"study": "learning", "T": 3})
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        assert json.loads(os.read(reader, 1 << 16)) == {"study": "learning", "T": 3}
    finally:
        os.close(reader)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]  # no temporary left


@pytest.mark.parametrize("command", ["learning", "tune"])
def test_a_results_folder_another_run_is_writing_into_is_refused(command, tmp_path, capsys):
    """Two runs given the same ``--out`` at once had both passed the "already holds results"
    check (neither had saved yet), both exited 0 and the folder held the last one's files
    mixed with the other's; the second is now refused while the first runs, before it
    computes anything."""
    import fcntl

    from experiments.cli import main

    out = tmp_path / "shared"
    out.mkdir()
    (tmp_path / "a.mtx").write_text("%%MatrixMarket matrix coordinate real general\n"
                                    "2 2 2\n1 1 4\n2 2 4\n")
    held = os.open(out, os.O_RDONLY)  # the first run, holding the folder
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        argv = (["learning", "--T", "5", "--trials", "1", "--learners", "chebcb"]
                if command == "learning" else ["tune", str(tmp_path / "a.mtx")])
        rc = main([*argv, "--quiet", "--no-plots", "--out", str(out)])
    finally:
        os.close(held)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and "another relaxtune run is writing into it" in err
    assert list(out.iterdir()) == []  # nothing computed, nothing written
    # once the first run is over, the folder is the second's
    assert main([*argv, "--quiet", "--no-plots", "--out", str(out)]) == 0
    assert (out / "summary.json").is_file()


def test_plot_draws_a_tune_results_folder(tmp_path, capsys):
    """``relaxtune plot FOLDER`` on a ``relaxtune tune`` folder had said "not a relaxtune
    results summary (no 'study' entry)", while ``plot FOLDER/summary.json`` sent the user to
    ``plot FOLDER``: a loop.  The folder's tuner file is drawn, as ``plot FOLDER/tuner.json``."""
    from experiments.cli import main

    (tmp_path / "a.mtx").write_text("%%MatrixMarket matrix coordinate real general\n"
                                    "2 2 4\n1 1 4\n2 2 4\n1 2 1\n2 1 1\n")
    out = tmp_path / "run"
    assert main(["tune", str(tmp_path / "a.mtx"), "--quiet", "--no-plots", "--no-exact",
                 "--out", str(out)]) == 0
    assert main(["plot", str(out / "summary.json")]) == 2
    assert f"relaxtune plot {out}" in capsys.readouterr().err
    assert main(["plot", str(out), "--out", str(tmp_path / "fig")]) == 0
    assert "1 solve, " in capsys.readouterr().out
    assert {"tuner_cost.png", "tuner_regret.png", "tuner_arms.png"} <= {
        p.name for p in (tmp_path / "fig").iterdir()}
    assert main(["plot", str(out), "--markdown"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "drop --markdown" in err


def test_bench_tuner_refuses_a_size_beyond_the_index_range_up_front(capsys):
    """``relaxtune bench tuner --sizes 1e300`` had printed the machine header and failed with
    "ValueError: nx must be an integer >= 2, got 99999...", status 1; it is a usage error."""
    from experiments.cli import main

    assert main(["bench", "tuner", "--sizes", "1e300", "--rounds", "3"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "argument --sizes" in captured.err


def test_make_install_makes_a_broken_venv_again(tmp_path):
    """``make demo`` / ``make test`` with a ``.venv`` whose Python no longer runs (Python
    upgraded or removed since, or the repository moved: bin/pip's first line names the old
    folder) had failed with "make: .venv/bin/pip: No such file or directory"; the venv is made
    again.  ``PYTHON`` is a stand-in that makes a venv whose python logs its arguments."""
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "Makefile", tmp_path / "Makefile")
    log = tmp_path / "calls.log"
    stub = f'#!/bin/sh\necho "$@" >> {log}\n'
    fake = tmp_path / "fakepython"
    fake.write_text('#!/bin/sh\n[ "$1 $2" = "-m venv" ] || exit 1\nmkdir -p "$3/bin"\n'
                    f"cat > \"$3/bin/python\" <<'STUB'\n{stub}STUB\n"
                    'chmod +x "$3/bin/python"\n')
    fake.chmod(0o755)
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text("")
    (venv / "python").symlink_to(tmp_path / "gone" / "python3")  # the Python it was made with
    (venv / "pip").write_text(f"#!{tmp_path}/gone/python3\n")
    (venv / "pip").chmod(0o755)
    run = subprocess.run(["make", "install", f"PYTHON={fake}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    calls = log.read_text().splitlines()
    assert "-m pip install --quiet -e ." in calls
    assert not (venv / "pip").exists()  # the broken venv was removed, not patched


def _truncate(path, keep=300):
    data = path.read_bytes()
    path.write_bytes(data[:keep])


def test_bench_regret_recomputes_a_truncated_cost_cache(tmp_path, capsys):
    """A cost matrix cached by ``relaxtune bench regret`` and cut short (a run stopped while
    writing it: the file was written in place) had failed every later run with "BadZipFile:
    File is not a zip file", status 1, without naming the file; it is computed again and
    replaced, written atomically."""
    from experiments.bench_regret import cost_matrix

    first = cost_matrix("offset_high", 0, tmp_path, 6)
    (path,) = tmp_path.iterdir()
    _truncate(path)
    again = cost_matrix("offset_high", 0, tmp_path, 6)
    assert str(path) in capsys.readouterr().err
    np.testing.assert_array_equal(again["C"], first["C"])
    with np.load(path) as z:  # replaced by a whole file
        np.testing.assert_array_equal(z["C"], first["C"])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_bench_learners_recomputes_truncated_caches(tmp_path, capsys):
    """The same for ``relaxtune bench learners``: a truncated cost matrix (read by
    ``cached_rows`` and ``cost_matrix``) and a truncated spectral-context file."""
    from experiments import bench_learners as bl

    case = bl.CASES["offset_high"]
    seed = case.seeds[0]
    C, ok, ctx = bl.cost_matrix(case, seed, cache=tmp_path, T=4, progress=False)
    w = bl.spectral_contexts(case, seed, 4, cache=tmp_path)
    for path in tmp_path.iterdir():
        _truncate(path, 200)
    assert bl.cached_rows(case, seed, cache=tmp_path) == 0
    C2, ok2, ctx2 = bl.cost_matrix(case, seed, cache=tmp_path, T=4, progress=False)
    np.testing.assert_array_equal(C2, C)
    np.testing.assert_array_equal(bl.spectral_contexts(case, seed, 4, cache=tmp_path), w)
    assert bl.cached_rows(case, seed, cache=tmp_path) == 4
    assert "cannot be read" in capsys.readouterr().err


def test_figures_with_nothing_to_label_draw_without_a_warning():
    """``relaxtune plot`` on a heat2d folder stopped after its first task (the direct solve,
    no iteration curves) had printed Matplotlib's "No artists with labels found to put in
    legend" warning with a source line on standard error; an empty figure has no legend."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from experiments.plots import plot_cumulative, plot_regret

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_cumulative({})
        assert ax.get_legend() is None
        assert plot_regret({}, "best_fixed").get_legend() is None
        ax = plot_cumulative({"a": (np.array([1.0, 3.0]), np.array([1, 0]))})
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a (3)"]
    plt.close("all")


def test_bench_without_a_name_lists_the_benchmarks(capsys):
    """``relaxtune bench`` alone had said "the following arguments are required: which,
    args" (two internal names); it names every benchmark, as ``relaxtune bench --help``
    (whose summary line had left out ``percall``) does."""
    from experiments.cli import BENCHES, build_parser, main

    assert main(["bench"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "which" not in err
    assert all(name in err for name in BENCHES)
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    (bench,) = [a for a in sub._choices_actions if a.dest == "bench"]
    assert all(name in bench.help for name in BENCHES)


@pytest.mark.parametrize("out", [None, "a/b/c"])
def test_a_refused_json_leaves_no_empty_folders(out, tmp_path, monkeypatch, capsys):
    """A ``--json`` refused once the results folder was made (its folder a file) had left
    the results folder's parents behind, empty: ``results/`` for the default folder, ``a/b``
    for ``--out a/b/c``."""
    from experiments.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("")
    argv = ["learning", "--T", "5", "--trials", "1", "--json", "f/x.json"]
    assert main(argv + ([] if out is None else ["--out", out])) == 2
    assert "--json f: exists and is not a folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def _close_stderr():
    os.close(2)


def _stderr_read_only():  # what bash leaves on it for ``script.sh 2>&-``: the script itself
    os.close(2)
    os.open(__file__, os.O_RDONLY)


@pytest.mark.parametrize("closing", [_close_stderr, _stderr_read_only])
def test_a_study_runs_with_standard_error_closed(closing, tmp_path):
    """With standard error closed (``relaxtune heat2d ... 2>&-``, as some daemons and cron
    set-ups start programs) every study had failed at once with status 1 and said nothing:
    its progress bar wrote to ``sys.stderr``, which Python sets to None (or, from a shell
    script, to the script open for reading).  The bars (the workers' too) go nowhere."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "r"
    run = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "heat2d", "--nx", "6", "--steps", "12",
         "--t-end", "0.012", "--trials", "1", "--jobs", "2", "--methods", "chebcb",
         "--no-plots", "--out", str(out)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE,
        text=True, timeout=300, preexec_fn=closing)
    assert run.returncode == 0
    assert "results written to" in run.stdout
    assert "partial" not in json.loads((out / "summary.json").read_text())


def test_a_tilde_in_a_path_is_the_home_folder(tmp_path, monkeypatch):
    """``--out=~/runs/a`` reaches the program unexpanded (the shell expands ``~`` only at the
    start of a word): it had made a folder named ``~`` in the current folder (which a later
    ``rm -rf ~`` would aim at the home folder)."""
    from experiments.cli import main

    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    assert main(["learning", "--T", "3", "--trials", "1", "--learners", "chebcb", "--quiet",
                 "--no-plots", "--out=~/runs/a", "--json=~/s.json"]) == 0
    assert (home / "runs" / "a" / "summary.json").is_file() and (home / "s.json").is_file()
    assert list(cwd.iterdir()) == []


def test_sigterm_in_a_benchmark_is_one_line_and_143(tmp_path):
    """SIGTERM (a batch job's time limit) in ``relaxtune bench`` or ``plot`` had killed the
    process outright, saying nothing (the studies and ``tune`` say "terminated: ..." and exit
    with 143); it is reported the same way."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = textwrap.dedent("""
        import signal, sys, types
        import experiments.cli as cli
        fake = types.ModuleType("fake_bench")
        def main(argv):
            signal.raise_signal(signal.SIGTERM)
            return 0
        fake.main = main
        sys.modules["fake_bench"] = fake
        cli.BENCHES["kernels"] = "fake_bench"
        sys.exit(cli.main(["bench", "kernels"]))
    """)
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert run.returncode == 143, run.stderr
    assert run.stderr == "relaxtune: terminated: stopped\n"


@pytest.mark.parametrize("argv, says", [(["--seed", "-1"], "--seed must be >= 0, got -1"),
                                        (["--m", "2"], "--m must be >= 3, got 2"),
                                        (["--samples", "5"], "--samples must be >= 12, got 5")])
def test_bench_percall_names_the_bad_option_up_front(argv, says, capsys):
    """``relaxtune bench percall --seed -1`` had printed the machine header, then failed with
    "ValueError: expected non-negative integer", status 1; the sizes' refusal named both
    options whichever was wrong."""
    from experiments.cli import main

    assert main(["bench", "percall", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"relaxtune: error: bench percall: {says}\n"


@pytest.mark.parametrize("argv, says", [
    (["--rounds", "2"], "--rounds must be >= 3, got 2"),
    (["--sizes", "100", "0"], "--sizes must be grid sides >= 2, got 0"),
    (["--solve-sizes", "1"], "--solve-sizes must be grid sides >= 2, got 1")])
def test_bench_kernels_names_the_bad_option(argv, says, capsys):
    """``relaxtune bench kernels --sizes 0`` had said "--rounds must be >= 3, --target > 0 and
    every size >= 2", whichever option was wrong."""
    from experiments.cli import main

    assert main(["bench", "kernels", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"relaxtune: error: bench kernels: {says}\n"


def test_relaxtune_alone_lists_the_subcommands(capsys):
    """``relaxtune`` with no subcommand had said "the following arguments are required:
    command" (an internal name); it lists the subcommands."""
    from experiments.cli import build_parser, main

    assert main([]) == 2
    err = capsys.readouterr().err
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert err.count("\n") == 1 and all(name in err for name in sub.choices)
    assert "required: command" not in err
