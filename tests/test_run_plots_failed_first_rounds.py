"""A run whose first solves fail on every arm: over those rounds the regret is undefined
(``tuner.regret(rounds=T0)`` says so), and the figures' curves (``run_data``, ``plot_run``,
``relaxtune plot``) leave them out instead of drawing a figure there."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import bandit  # noqa: E402
from experiments.plots import plot_run, run_data  # noqa: E402
from solvers import gallery  # noqa: E402


def _divergent():
    """SOR diverges for every ω of the arms: the off-diagonal part tripled."""
    L = gallery.shifted_laplacian_2d(5, 0.1)
    D = sp.diags(L.diagonal())
    return sp.csr_matrix(D + 3 * (L - D))


@pytest.mark.parametrize("guard", [3.0, None])
def test_curves_are_undefined_where_regret_of_the_first_rounds_is(guard):
    t = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=1), solver="sor", maxiter=200,
                     guard=guard)
    for i in range(8):
        A = _divergent() if i < 3 else gallery.shifted_laplacian_2d(5, 0.1 + 0.1 * i)
        t.solve(A, np.ones(25), context=i)
    assert list(t.history["converged"]) == [False] * 3 + [True] * 5
    d = run_data(t)
    for kind in ("best_fixed", "instance_optimal"):
        r = d["regret"][kind]
        for T0, value in zip(r["rounds"], r["estimate"]):
            alone = getattr(t.regret(rounds=int(T0)), kind).estimate
            # the curve had drawn 7.3, -328 and -492 iterations over rounds no arm converged in
            assert math.isnan(value) == math.isnan(alone), (kind, T0, value, alone)
        assert np.isnan(r["estimate"][:3]).all() and np.isfinite(r["estimate"][3:]).all()
        assert np.isnan(r["comparator"][:3]).all()
        if kind == "best_fixed":
            assert np.isnan(r["low"][:3]).all() and np.isnan(r["high"][:3]).all()
    # the run's own cost is drawn from its first solve on, and the curve's end is the report's
    np.testing.assert_array_equal(d["cumulative"], np.cumsum(t.history["iterations"]))
    assert d["regret"]["best_fixed"]["estimate"][-1] == t.regret().best_fixed.estimate
    axes = plot_run(d)
    (curve,) = [ln for ln in axes[2].get_lines() if ln.get_label() == "estimate"]
    assert np.isnan(curve.get_ydata()[:3]).all()
    plt.close("all")
