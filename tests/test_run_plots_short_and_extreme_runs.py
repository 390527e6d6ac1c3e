"""A run's figures (``plot_run``, ``relaxtune plot``) of short runs and of extreme contexts:
every choice visible (not hidden under the legend, not a dot of two pixels), contexts near the
largest float drawn rather than failing, and the printed regret never reading ``-0``."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bandit  # noqa: E402
from bandit._regretdata import no_minus_zero  # noqa: E402
from experiments.plots import plot_run, plot_run_arms, run_data  # noqa: E402
from solvers import gallery  # noqa: E402


def _short_run_data():
    """Six solves: the last two at the lowest ω, two in the middle that did not converge (so
    the arms figure has a legend)."""
    omega = np.array([1.0, 1.5, 1.5, 1.5, 1.0, 1.0])
    converged = np.array([True, True, False, False, True, True])
    return {"rounds": np.arange(1, 7), "omega": omega, "arm": (omega > 1).astype(np.int64),
            "y_is_omega": True, "context": np.arange(6.0), "context_label": "context",
            "converged": converged, "fallback": np.zeros(6, dtype=bool),
            "labels": ["1", "1.5"]}


def test_the_legend_hides_no_choice_of_a_short_run():
    ax = plot_run_arms(_short_run_data())
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    dots = ax.collections[0]
    xy = ax.transData.transform(dots.get_offsets())
    # (a fixed lower-right corner covered the last two solves, at ω = 1)
    hidden = [i + 1 for i, (x, y) in enumerate(xy) if box.contains(x, y)]
    assert hidden == []
    plt.close(fig)


def test_a_short_run_draws_dots_one_can_see():
    ax = plot_run_arms(_short_run_data())
    # 6 points² (a dot of ~2 px, a light colour of the map on white) had been all a solve got
    assert ax.collections[0].get_sizes().min() >= 20
    plt.close(ax.figure)


def _tuner_with_contexts(contexts):
    t = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    for i, c in enumerate(contexts):
        t.solve(gallery.shifted_laplacian_2d(4, 0.1 + 0.1 * i), np.ones(16), context=c)
    return t


def test_contexts_near_the_largest_float_are_drawn_scaled():
    contexts = [1e308, -1e308, 1e308, -1e308]
    t = _tuner_with_contexts(contexts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (overflows in the colour scale)
        axes = plot_run(t)  # had failed: "Axis limits cannot be NaN or Inf"
    dots = axes[1].collections[0]
    np.testing.assert_allclose(dots.get_array(), np.array(contexts) / 1e308)
    cbar = dots.colorbar
    assert cbar.ax.get_ylabel() == "context ÷ 1e308"
    # the history and run_data keep the contexts as passed
    np.testing.assert_array_equal(run_data(t)["context"], contexts)
    plt.close("all")


def test_ordinary_contexts_are_drawn_as_they_are():
    contexts = [0.25, 3.0, 1e-3]
    axes = plot_run(_tuner_with_contexts(contexts))
    dots = axes[1].collections[0]
    np.testing.assert_array_equal(dots.get_array(), contexts)
    assert dots.colorbar.ax.get_ylabel() == "context"
    plt.close("all")


def test_the_printed_regret_never_reads_minus_zero():
    iterations = no_minus_zero("{:,.0f}")
    seconds = no_minus_zero("{:.4g}")
    assert [iterations(v) for v in (-0.3, -0.0, -0.6, -1234.5, 0.2, -np.inf)] == [
        "0", "0", "-1", "-1,234", "0", "-inf"]
    assert [seconds(v) for v in (-0.0, -2e-5, 1.5e-4)] == ["0", "-2e-05", "0.00015"]


def test_print_of_a_regret_report_never_reads_minus_zero():
    """``print(tuner.regret())`` writes its figures as ``relaxtune plot`` does."""
    import dataclasses
    import re

    t = _tuner_with_contexts([0.1, 0.5, 0.9])
    report = t.regret()
    near = dataclasses.replace(report.best_fixed, estimate=-0.3, low=-0.45, high=-0.2,
                               unbiased=True)
    text = str(dataclasses.replace(report, best_fixed=near))
    assert not re.search(r"(?<![\w.])-0(?![\w.,])", text), text
    assert "vs best fixed arm: 0, 90% interval 0 to 0" in text


def test_a_one_solve_run_draws_its_point_and_interval():
    t = _tuner_with_contexts([0.5])
    axes = plot_run(t)
    its = float(t.history["iterations"][0])
    (run,) = [ln for ln in axes[0].get_lines() if ln.get_label() == "this run"]
    # a line of one point had no length: the figure showed the legend and nothing else
    assert run.get_marker() == "o"
    np.testing.assert_array_equal(run.get_ydata(), [its])
    est = t.regret().best_fixed
    assert est.unbiased  # (a randomised learner: the estimate has an interval)
    (bar,) = [c for c in axes[2].collections if c.get_label().startswith("90% interval")]
    (segment,) = bar.get_segments()
    np.testing.assert_allclose(segment[:, 1], [est.low, est.high])
    (curve,) = [ln for ln in axes[2].get_lines() if ln.get_label() == "estimate"]
    assert curve.get_marker() == "o"
    np.testing.assert_allclose(curve.get_ydata(), [est.estimate])
    plt.close("all")
