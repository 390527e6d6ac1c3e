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


def _fixed_arm_run(seed, T=400, K=8, q=0.004):
    """A deterministic learner that plays arm 0 on every round of a SOR-like cost matrix (a
    best arm drifting over the run, dear far from it), and column audits of probability
    ``q`` — the data of a short run of a learner stuck at ω = 1 with audit_budget=0.05."""
    from bandit.estimate import RunData

    rng = np.random.default_rng(seed)
    t = np.arange(T)
    best = 3 + 2 * np.sin(2 * np.pi * t / T)
    k = np.arange(K)
    C = np.round(10 + 6 * np.abs(k[None] - best[:, None]) ** 1.5
                 * rng.lognormal(0, 0.6, (T, K))).astype(float)
    coins = rng.random((T, K)) < q
    coins[:, 0] = False
    rr, aa = np.nonzero(coins)
    n = rr.size
    audits = {"round": rr, "arm": aa, "row": np.zeros(n, bool), "value": C[rr, aa],
              "iterations": C[rr, aa], "converged": np.ones(n, bool),
              "budget": np.full(n, 1e4), "p": np.zeros(n)}
    data = RunData(paid=C[:, 0].copy(), x=t.astype(float), arm=np.zeros(T, np.int64),
                   p=np.ones(T), played=C[:, 0].copy(), epoch_start=np.array([0]),
                   q=np.full((1, K), q), r=np.zeros(1), audits=audits, fail_cost=1e4,
                   n_arms=K, arm_order=np.arange(K), randomised=False)
    return data, C


# runs whose weighted comparator clips to 0 (seed 15 did while the pooled residual spread was
# a robust one: with the tail counted its estimate is 17,839 of an exact 12,526, not the bound)
@pytest.mark.parametrize("seed", [1, 6, 20])
def test_a_point_estimate_at_its_bound_is_reported_as_a_bound(seed):
    """Every arm costs at least 10 on every round and was seen to, so the best fixed arm
    costs at least 10 T: a 'regret' equal to everything paid (the comparator put at 0) is no
    estimate. It is what the clipped weighted total gives when a few audits of probability
    0.004 outweigh the cost model; the report must say it is only a bound."""
    from bandit.estimate import estimate_regret

    data, C = _fixed_arm_run(seed)
    rep = estimate_regret(data)
    bf = rep.best_fixed
    paid = C[:, 0].sum()
    assert bf.unbiased and np.isfinite(bf.low)
    assert bf.estimate == pytest.approx(paid)        # the comparator clipped to 0
    assert C.sum(0).min() >= 10 * len(C)             # ... which no arm costs
    assert bf.at_bound and bf.as_dict()["at_bound"] is True
    assert "no point estimate" in bf.method
    text = str(rep)
    assert f"vs best fixed arm: at most {paid:,.0f} (no point estimate" in text
    assert bf.high == pytest.approx(paid)            # the interval is unchanged
    # the figure's title says it too
    from experiments.plots import plot_run_regret

    r = {"rounds": bf.rounds, "estimate": bf.curve, "low": bf.curve_low,
         "high": bf.curve_high, "comparator": np.zeros(bf.rounds.size), "method": bf.method,
         "unbiased": bf.unbiased, "at_bound": bf.at_bound}
    ax = plot_run_regret({"regret": {"best_fixed": r}, "unit": "iterations", "level": 0.9})
    assert "no point estimate" in ax.get_title()


def test_an_ordinary_point_estimate_is_not_flagged():
    from bandit.estimate import estimate_regret

    data, C = _fixed_arm_run(0)
    bf = estimate_regret(data).best_fixed
    assert not bf.at_bound and bf.as_dict()["at_bound"] is False
    assert bf.estimate < C[:, 0].sum()
    assert "at most" not in str(estimate_regret(data)) and "no point estimate" not in bf.method


def test_cost_figure_draws_no_best_fixed_cost_when_there_is_no_point_estimate():
    """With the point estimate at its bound the comparator's 'cost' is 0 at the end: a
    cumulative cost curve falling to 0 (what the figure drew) is no estimate of anything."""
    from bandit.estimate import estimate_regret
    from experiments.plots import plot_run_cost

    data, C = _fixed_arm_run(1)
    rep = estimate_regret(data)
    assert rep.best_fixed.at_bound
    cum = np.cumsum(C[:, 0])

    def entry(e):
        paid = cum[e.rounds - 1]
        return {"rounds": e.rounds, "estimate": e.curve, "low": e.curve_low,
                "high": e.curve_high, "comparator": paid - e.curve, "method": e.method,
                "unbiased": e.unbiased, "at_bound": e.at_bound}

    d = {"rounds": np.arange(1, len(C) + 1), "cumulative": cum, "unit": "iterations",
         "regret": {"best_fixed": entry(rep.best_fixed),
                    "instance_optimal": entry(rep.instance_optimal)}}
    ax = plot_run_cost(d)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "best fixed arm (estimated)" not in labels
    assert "instance-optimal (estimated)" in labels
    assert any("no point estimate" in t.get_text() for t in ax.get_legend().get_texts())
    # an ordinary estimate is drawn as before
    data0, C0 = _fixed_arm_run(0)
    rep0 = estimate_regret(data0)
    cum = np.cumsum(C0[:, 0])
    d["cumulative"] = cum
    d["regret"] = {"best_fixed": entry(rep0.best_fixed),
                   "instance_optimal": entry(rep0.instance_optimal)}
    labels = [line.get_label() for line in plot_run_cost(d).get_lines()]
    assert "best fixed arm (estimated)" in labels


def test_tune_report_says_when_the_estimate_is_only_a_bound():
    """`relaxtune tune`'s table puts the Tuner's estimate beside the exact regret; at its
    bound the 'estimate' is the cost paid and must read as an upper end."""
    from experiments.user_files import format_report

    s = {"systems": 843, "solver": "sor",
         "tuned": {"iterations": 23143, "all_converged": True},
         "best_fixed": {"omega": 1.35, "iterations": 13402, "all_converged": True},
         "omega_one": {"omega": 1.0, "iterations": 23143, "all_converged": True},
         "instance_optimal": {"iterations": 11334, "all_converged": True},
         "estimate": {"best_fixed": 23143.0, "low": 0.0, "high": 23143.0,
                      "method": "cost model (...): no point estimate ...", "at_bound": True},
         "exact_regret": {"best_fixed": 9741, "instance_optimal": 11809}, "covered": True}
    text = format_report(s)
    assert "the Tuner's estimate at most 23,143 (no point estimate: too few audits)" in text
    assert "exact 9,741 (inside the interval)" in text
    s["estimate"]["at_bound"] = False
    assert "at most" not in format_report(s)


def _regret_entry(est, low, high):
    n = len(est)
    return {"rounds": np.arange(1, n + 1) * 4, "estimate": np.asarray(est, float),
            "low": np.asarray(low, float), "high": np.asarray(high, float),
            "comparator": np.zeros(n), "method": "m", "unbiased": True, "at_bound": False}


def test_regret_figure_of_a_vacuous_interval_still_shows_the_estimate():
    """A 400-solve run (5,136 iterations paid) whose interval reached −3,126,489 (arms
    audited fewer than twice take the certain bound, maxiter on every round): the axis
    followed the band and the estimate (−1,345) was a flat line at 0. The axis follows the
    estimate and the cost paid, and the band is cut at the axes, saying so."""
    from experiments.plots import plot_run_regret

    n = 100
    paid = np.linspace(51, 5136, n)
    est = np.linspace(-10, -1345, n)
    r = _regret_entry(est, np.linspace(-100, -3_126_489, n), paid)
    data = {"regret": {"best_fixed": r}, "unit": "iterations", "level": 0.9,
            "rounds": np.arange(1, 4 * n + 1), "cumulative": np.linspace(1, 5136, 4 * n)}
    ax = plot_run_regret(data)
    lo, hi = ax.get_ylim()
    assert -3 * 5136 < lo < -1345 and 5136 <= hi < 3 * 5136
    assert any("cut at the axes" in t.get_text() for t in ax.get_legend().get_texts())
    # an interval about as wide as the run's cost is drawn whole, as before
    r = _regret_entry(est, est - 3000, np.minimum(est + 3000, paid))
    ax = plot_run_regret(dict(data, regret={"best_fixed": r}))
    assert ax.get_ylim()[0] < np.min(est - 3000)
    assert not any("cut" in t.get_text() for t in ax.get_legend().get_texts())


@pytest.mark.parametrize("seed", [6, 10, 16])
def test_progress_bar_regret_is_never_above_what_was_paid(seed, monkeypatch):
    """The quick estimate (audit plans; the progress bar's figure before it showed the
    report's) is `paid − min_k S_k`; a column total below 0 (a few audits of tiny
    probability) made it exceed everything paid — a Newton loop that paid 2,647 iterations
    showed 'regret≈370,617'. No arm costs less than 0, so the regret is at most what was
    paid: '≤' that, as the report says 'at most'."""
    import bandit.report as report
    from bandit.estimate import estimate_regret, quick_totals

    data, C = _fixed_arm_run(seed)
    paid = C[:, 0].sum()
    q = quick_totals(data)
    assert q["S"].min() < 0                            # the case
    assert q["regret"] == pytest.approx(paid) and q["at_bound"]
    # the bar's text for that run (its data in place of a tuner's)
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(gallery.laplacian_2d(3), np.ones(9))
    # the bar shows the report's estimate (bandit.estimate.estimate_regret), bounded alike:
    # at most what was paid, '≤' when it is only that bound
    monkeypatch.setattr(report, "estimator_data", lambda t: data)
    text = report.Hook(tuner, False, None).postfix()
    rep = estimate_regret(data).best_fixed
    assert rep.estimate <= paid
    sign = "≤" if rep.at_bound else "≈"
    assert f"regret{sign}{rep.estimate:,.0f} (vs best fixed)" in text
    # an ordinary run keeps '≈'
    data0, C0 = _fixed_arm_run(0)
    q0 = quick_totals(data0)
    assert not q0["at_bound"] and q0["regret"] < C0[:, 0].sum()
    monkeypatch.setattr(report, "estimator_data", lambda t: data0)
    assert "regret≈" in report.Hook(tuner, False, None).postfix()
