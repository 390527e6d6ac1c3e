"""``relaxtune tune`` whose results cannot all be written once its systems are solved (a full
disk, ``--json /dev/full``, a figure that cannot be saved) says what the results folder holds
and what is missing, with exit status 1.

It had printed the error alone — ``OSError: [Errno 28] No space left on device``, naming
neither the file nor the results already saved, or ``FigureError: cannot write
OUT/figures/cost.png`` with nothing saying that ``tuner.json`` and ``summary.json`` were
whole — as after Ctrl-C in the same place the line now does.
"""
import json
import os

import pytest
import scipy.io
import scipy.sparse as sp

from experiments import plots
from experiments.cli import main
from solvers import gallery


def _systems(tmp_path, count=2):
    names = []
    for k in range(count):
        path = tmp_path / f"A{k}.mtx"
        scipy.io.mmwrite(path, sp.csr_matrix(gallery.laplacian_2d(5)) * (1 + k / 4))
        names.append(str(path))
    return names


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_json_on_a_full_device_names_what_was_saved(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["tune", *_systems(tmp_path), "--solver", "sor", "--no-exact",
                   "--no-plots", "--json", "/dev/full", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1, err
    line = err[0]
    assert line.startswith("relaxtune: error: ") and "No space left on device" in line
    assert f"{out} holds tuner.json, history.csv, summary.json" in line
    assert "not written: --json /dev/full" in line and "all 2 systems were solved" in line
    assert json.loads((out / "summary.json").read_text())["systems"] == 2


def test_a_figure_that_cannot_be_written_names_what_was_saved(tmp_path, capsys, monkeypatch):
    def full(data, folder, *args, **kwargs):
        raise plots.FigureError(f"cannot write {folder}/cost.png (No space left on device)",
                                folder / "cost.png")

    monkeypatch.setattr(plots, "draw_run", full)
    out = tmp_path / "out"
    status = main(["tune", *_systems(tmp_path, 1), "--solver", "sor", "--no-exact",
                   "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1, err
    line = err[0]
    assert "FigureError: cannot write" in line
    assert f"{out} holds tuner.json, history.csv, summary.json; not written: figures/" in line
    assert "(the system was solved)" in line and f"relaxtune plot {out}" in line
    assert (out / "tuner.json").is_file()
