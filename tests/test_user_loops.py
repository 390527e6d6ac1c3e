"""Defects found by wrapping scientists' own loops (Newton steps, an adaptive time step, a
Monte Carlo sweep with a vector context, a moving graph) as the docs say."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

import bandit
from solvers import gallery


def _run(context_of, auto_context=None, T=6):
    tuner = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor",
                         auto_context=auto_context)
    for t in range(T):
        c = 0.1 + 0.1 * t
        kw = {} if context_of is None else {"context": context_of(c)}
        tuner.solve(gallery.shifted_laplacian_2d(5, c), np.ones(25), **kw)
    return tuner


def _colorbar_label(tuner):
    from experiments.plots import plot_run_arms, run_data

    ax = plot_run_arms(run_data(tuner))
    bars = [a for a in ax.figure.axes if a is not ax]
    assert len(bars) == 1
    return bars[0].get_ylabel()


@pytest.mark.parametrize("context_of, auto, expected", [
    (lambda c: c, None, "context"),
    # a vector context is coloured by its first number: the label must say so
    (lambda c: [c, 2 * c, 3.0], None, "context (first of 3 numbers)"),
    # the automatic context is the relaxation parameter estimated from each matrix
    (None, "spectral", "estimated ω (auto_context)"),
    (lambda c: c, "spectral", "context (first of 2 numbers; the last is the estimated ω)"),
])
def test_arms_figure_says_which_context_colours_the_points(context_of, auto, expected):
    from experiments.plots import run_data

    tuner = _run(context_of, auto)
    data = run_data(tuner)
    assert data["context_label"] == expected
    assert _colorbar_label(tuner) == expected
    # the colours are the first number of the context as recorded in the history
    ctx = tuner.history["context"]
    np.testing.assert_array_equal(data["context"], ctx[:, 0] if ctx.ndim == 2 else ctx)
