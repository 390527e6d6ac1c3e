"""Ctrl-C or SIGTERM after ``relaxtune tune`` solved its systems, while it writes the results:
one line saying what the folder holds and what it does not (it had been ``interrupted:
stopped``, naming neither), exit status 130 or 143, a ``--resume`` file kept as it was; and a
figure is written aside and renamed, so a stop in the middle of a write leaves the figure
that was there, not a truncated file."""
import json

import matplotlib.figure
import numpy as np
import pytest

import bandit
import experiments.plots as plots
from experiments.cli import main
from experiments.cli_common import Terminated
from tests.test_tune_exit_status import _laplacians


def test_ctrl_c_while_drawing_says_what_was_saved(tmp_path, monkeypatch, capsys):
    mats = _laplacians(tmp_path, count=4)
    out = tmp_path / "out"
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_run_regret", stop)  # the cost figure is drawn, then Ctrl-C
    status = main(["tune", *mats, "--solver", "sor", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 130
    assert err == [f"relaxtune: interrupted: stopped while writing the results: {out} holds "
                   f"tuner.json, history.csv, summary.json; not written: figures/ (those "
                   f"drawn are whole) (all 4 systems were solved)"]
    # what the line says is there is whole: the tuner of 4 rounds, the summary's totals
    tuner = bandit.Tuner.load(out / "tuner.json")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["systems"] == 4 and len(tuner.history["arm"]) == 4
    assert summary["tuned"]["iterations"] == int(tuner.history["iterations"].sum())
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["cost.pdf", "cost.png"]


@pytest.mark.parametrize("exc, status, kind", [(KeyboardInterrupt, 130, "interrupted"),
                                                (Terminated, 143, "terminated")])
def test_a_stop_before_any_file_and_a_kept_resume_file(tmp_path, monkeypatch, capsys, exc,
                                                       status, kind):
    mats = _laplacians(tmp_path, count=4)
    first = tmp_path / "first"
    assert main(["tune", *mats[:2], "--solver", "sor", "--quiet", "--no-plots", "--out",
                 str(first)]) == 0
    saved = (first / "tuner.json").read_bytes()
    capsys.readouterr()
    import experiments.user_files as uf

    def stop(*args, **kwargs):
        raise exc()

    monkeypatch.setattr(uf, "summarize", stop)  # before tuner.json is written
    monkeypatch.chdir(tmp_path)
    status_ = main(["tune", *mats[2:], "--resume", str(first / "tuner.json"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status_ == status
    assert err.startswith(f"relaxtune: {kind}: stopped while writing the results: nothing "
                          f"was saved in ")
    assert err.endswith(f"not written: tuner.json, history.csv, summary.json, figures/; "
                        f"{first / 'tuner.json'} is kept as it was")
    assert (first / "tuner.json").read_bytes() == saved


class _Torn(KeyboardInterrupt):
    """Ctrl-C in the middle of Matplotlib's write: half a file is on disk."""


def test_a_figure_stopped_in_the_middle_keeps_the_one_there(tmp_path, monkeypatch):
    t = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    from solvers import gallery

    for c in (0.1, 0.2, 0.3):
        t.solve(gallery.shifted_laplacian_2d(4, c), np.ones(16), context=c)
    out = tmp_path / "figures"
    plots.draw_run(t, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 6 and before["cost.png"].startswith(b"\x89PNG")
    real = matplotlib.figure.Figure.savefig

    def torn(fig, fname, *args, **kwargs):
        real(fig, fname, *args, **kwargs)
        with open(fname, "r+b") as fh:  # half of it written when the signal came
            fh.truncate(len(open(fname, "rb").read()) // 2)
        raise _Torn()

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", torn)
    with pytest.raises(_Torn):
        plots.draw_run(t, out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # the figure there is whole, and no temporary file is left
