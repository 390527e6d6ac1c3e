"""``Tuner(progress="")``: a description, even an empty one, shows the bar (only ``False``
shows none); it had been read as falsy and the run showed nothing, without a word."""
import numpy as np

import bandit
from solvers import gallery


def _run(tuner, steps=3):
    A, b = gallery.laplacian_2d(6), np.ones(36)
    for k in range(steps):
        tuner.solve(A * (1 + 0.1 * k), b)


def test_an_empty_description_shows_the_bar(capsys):
    t = bandit.Tuner([1.2, 1.5], solver="sor", progress="", seed=0)
    _run(t)
    err = capsys.readouterr().err
    assert "solve [" in err, err  # tqdm's bar, counted in solves


def test_an_empty_description_set_later_shows_the_bar(capsys):
    t = bandit.Tuner([1.2, 1.5], solver="sor", seed=0)
    _run(t, 1)
    assert capsys.readouterr().err == ""
    t.progress = ""
    _run(t, 2)
    assert "solve [" in capsys.readouterr().err


def test_false_shows_nothing(capsys):
    _run(bandit.Tuner([1.2, 1.5], solver="sor", progress=False, seed=0))
    assert capsys.readouterr().err == ""
