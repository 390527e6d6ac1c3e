"""Figures and the one-line report of a run in which some solves did not converge."""
import numpy as np
import pytest

import bandit
import solvers
from experiments.cli import main
from experiments.plots import plot_run_arms, run_data
from solvers import gallery


def _partial_run():
    """Six SOR solves with an iteration cap of 30: the 4 × 4 Laplacians converge, the
    16 × 16 ones (hundreds of sweeps for any ω of the list) cannot."""
    tuner = bandit.Tuner([1.2, 1.5, 1.8], solver="sor", maxiter=30)
    hard = set()
    for k in range(6):
        A = gallery.laplacian_2d(16 if k % 3 == 1 else 4)
        r = tuner.solve(A, np.ones(A.shape[0]))
        # the reference: no arm reaches the tolerance in 30 sweeps on the large system
        if k % 3 == 1:
            hard.add(k + 1)
            assert all(not solvers.sor(A, np.ones(A.shape[0]), w, maxiter=30).converged
                       for w in (1.2, 1.5, 1.8))
        assert r.converged == (k % 3 != 1)
    return tuner, hard


def _scatter(ax, label):
    for c in ax.collections:
        if c.get_label() == label:
            return {int(round(x)) for x in c.get_offsets()[:, 0]}
    return set()


def test_arms_figure_marks_the_solves_that_did_not_converge():
    import matplotlib
    import matplotlib.pyplot  # noqa: F401  (closes the figure)

    matplotlib.use("Agg")
    tuner, hard = _partial_run()
    data = run_data(tuner)
    ax = plot_run_arms(data)
    # every solve that did not converge is marked as such, and none of them is drawn as
    # "finished by a fallback arm" (no arm finished it; the chain only ran)
    failed = [lbl for lbl in (c.get_label() for c in ax.collections)
              if lbl.startswith("did not converge")]
    assert failed == ["did not converge (2 solves)"]
    assert _scatter(ax, failed[0]) == hard
    finished = _scatter(ax, "finished by a fallback arm")
    assert not finished & hard
    fell_back = set(data["rounds"][data["fallback"] & data["converged"]])
    assert finished == fell_back
    matplotlib.pyplot.close(ax.figure)


def test_plot_of_a_saved_run_says_how_many_solves_did_not_converge(tmp_path, capsys):
    tuner, hard = _partial_run()
    path = tmp_path / "run.json"
    tuner.save(path)
    assert main(["plot", str(path), "--out", str(tmp_path / "fig")]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("6 solves (2 did not converge), ")
    # a run in which every solve converged says nothing of the kind
    ok = bandit.Tuner([1.2, 1.5], solver="sor")
    ok.solve(gallery.laplacian_2d(4), np.ones(16))
    ok.save(tmp_path / "ok.json")
    assert main(["plot", str(tmp_path / "ok.json"), "--out", str(tmp_path / "fig2")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("1 solve, ")


@pytest.mark.parametrize("n_failed, word", [(1, "solve"), (2, "solves")])
def test_the_marker_label_counts_in_the_singular_too(n_failed, word):
    import matplotlib
    import matplotlib.pyplot  # noqa: F401  (closes the figure)

    matplotlib.use("Agg")
    tuner = bandit.Tuner([1.2, 1.5], solver="sor", maxiter=30)
    for k in range(3):
        A = gallery.laplacian_2d(16 if k < n_failed else 4)
        tuner.solve(A, np.ones(A.shape[0]))
    ax = plot_run_arms(run_data(tuner))
    labels = [c.get_label() for c in ax.collections]
    matplotlib.pyplot.close(ax.figure)
    assert f"did not converge ({n_failed} {word})" in labels
