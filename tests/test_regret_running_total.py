"""The regret curve's comparator is the arm of the whole run, so its running total (what the
run paid so far minus the curve) is a sum of costs >= 0: it cannot decrease between
checkpoints, and its last point is the report's estimate; the progress bar shows the figure
``tuner.regret()`` reports, not another estimator's."""
import numpy as np
import pytest

import bandit
from bandit import report
from bandit.estimate import estimate_regret
from test_regret import OMEGAS, replay, smooth_costs


def _run(seed, T=500):
    # fewer than 512 rounds: the audits are a function of the seeds (nothing is settled
    # against a measured CPU time before then)
    C, x = smooth_costs(T, seed=seed, noise=6.0)
    pol = bandit.ChebCB(OMEGAS, context_bounds=(0, 1), seed=seed)
    return replay(pol, C, x, audit_budget=0.05, audit_seed=seed), C


@pytest.mark.parametrize("seed", [0, 3])
def test_best_fixed_running_total_never_decreases_and_ends_at_the_estimate(seed):
    tuner, C = _run(seed)
    e = tuner.regret().best_fixed
    paid = np.cumsum(tuner.history["iterations"])[e.rounds - 1].astype(float)
    theta, low, high = paid - e.curve, paid - e.curve_high, paid - e.curve_low
    assert np.all(np.diff(theta) >= -1e-9 * np.abs(theta[1:]).max())
    assert np.all(low <= theta + 1e-9) and np.all(theta <= high + 1e-9)
    assert e.curve[-1] == e.estimate and e.curve_low[-1] == e.low
    assert e.curve_high[-1] == e.high
    # the exact comparator of the whole run is non-decreasing too (the reference)
    exact = np.cumsum(C[:, C.sum(axis=0).argmin()])[e.rounds - 1]
    assert np.all(np.diff(exact) >= 0)


def test_running_total_is_the_smallest_later_value():
    from bandit.estimate import running_total

    th = np.array([2.0, 7.0, 5.0, 5.5, 4.0, 9.0])
    ref = np.array([min(th[i:]) for i in range(th.size)])
    assert np.array_equal(running_total(th), ref)
    assert running_total(np.zeros(0)).size == 0


@pytest.mark.parametrize("seed", [0, 5])
def test_progress_bar_shows_the_reports_estimate(seed):
    tuner, _ = _run(seed, T=300)
    rep = tuner.regret()
    text = report.Hook(tuner, False, None).postfix()
    assert f"regret≈{rep.best_fixed.estimate:,.0f} (vs best fixed)" in text


def test_progress_bar_reads_the_estimators_input_through_report(monkeypatch):
    tuner, _ = _run(1, T=200)
    data = report.estimator_data(tuner)
    want = estimate_regret(data).best_fixed.estimate
    monkeypatch.setattr(report, "estimator_data", lambda t: data)
    assert f"regret≈{want:,.0f}" in report.Hook(tuner, False, None).postfix()
