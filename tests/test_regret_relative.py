"""The self-normalised correction of a column total is of residuals relative to the cost
model's prediction (:data:`bandit.estimate.RELATIVE_CORRECTION`), and the error its draws do
not show is added to them as normal deviations (:data:`bandit.estimate.FLOOR_DRAWS`):
checked against exact totals and regrets of constructed runs."""
import numpy as np
import pytest

import bandit.estimate as est
from bandit.estimate import RunData


def dear_context_run(T=2000, seed=0):
    """An arm audited once, at probability 0.0008, on a dear system.

    Arm 0 costs 40 on nine rounds in ten and 200 on the tenth (the dearest systems, the
    lowest contexts); arm 1 costs 1.2 times as much and is played on every round but one
    (probability 0.999).  The cost model is off by ±10 % of each cost at random (its
    relative error; both arms).  Arm 0 is played once (p = 0.5, a cheap round, where the
    model is exact) and audited once, on a dear round where the model says 200 and it cost
    180: a residual of −20, −10 % of the prediction.  Returns the run, the cost matrix and
    the model."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, T)
    C0 = np.where(x < 0.1, 200.0, 40.0)
    C = np.c_[C0, 1.2 * C0]
    m = C / (1.0 + rng.choice([-0.1, 0.1], size=(T, 2)))
    dear = int(np.flatnonzero(x < 0.1)[0])
    cheap = int(np.flatnonzero(x >= 0.1)[0])
    C[dear, 0], m[dear, 0] = 180.0, 200.0
    m[cheap, 0] = C[cheap, 0]
    arm = np.ones(T, np.int64)
    arm[cheap] = 0
    p = np.full(T, 0.999)
    p[cheap] = 0.5
    paid = C[np.arange(T), arm]
    aud = {"round": np.array([dear]), "arm": np.array([0]), "row": np.zeros(1, bool),
           "value": np.array([180.0]), "iterations": np.array([180]),
           "converged": np.ones(1, bool), "budget": np.full(1, 10_000), "p": np.zeros(1),
           "cap": np.full(1, 10_000)}
    d = RunData(paid=paid, x=x, arm=arm, p=p, played=paid.copy(),
                epoch_start=np.array([0]), q=np.array([[0.0008, 0.0008]]), r=np.zeros(1),
                audits=aud, fail_cost=1e4, n_arms=2, arm_order=np.arange(2),
                randomised=True)
    return d, C, m


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_audit_on_a_dear_round_moves_a_total_by_its_relative_residual(monkeypatch, seed):
    """One audit of probability 0.0008 on a dear round (residual −20 where the model says
    200) gave its absolute residual to every round of the arm, cheap or dear: 2,000 × −20,
    about half of the arm's total (its rounds cost 40 on nine in ten).  Relative to the
    prediction it is −10 % of the model's total, within what the pooled relative spread
    of the residuals (10 %) allows; with that error drawn as normal deviations (the
    draws of one dominant entry barely vary, and scaled up to the floor their quantile was
    0.4 of it), the interval of the regret against the best fixed arm (arm 0) covers the
    exact one, as it did not before."""
    d, C, m = dear_context_run(seed=seed)
    monkeypatch.setattr(est, "_model", lambda data, t, k, v, folds: m.copy())
    exact = C.sum(axis=0)
    total = est.column_totals(d)
    model = m.sum(axis=0)
    # the ratio estimator's correction: the model's total times the relative residual
    # (the play on a cheap round has none), by hand
    # the play's π = 1 − (1 − 0.5)(1 − 0.0008): its audit could have run too
    w = np.array([1.0 / (1.0 - 0.5 * 0.9992), 1.0 / 0.0008])
    res = np.array([0.0, -20.0])
    scale = np.array([40.0, 200.0])
    want = model[0] + (model[0] - 0.0) * np.sum(w * res) / np.sum(w * scale)
    assert total[0] == pytest.approx(want, rel=1e-9)
    assert abs(total[0] - exact[0]) < 0.15 * exact[0]
    e = est.estimate_regret(d, seed=seed).best_fixed
    regret = d.paid.sum() - exact.min()
    assert e.low <= regret <= e.high


@pytest.mark.parametrize("off", [("RELATIVE_CORRECTION",), ("FLOOR_DRAWS",),
                                 ("RELATIVE_CORRECTION", "FLOOR_DRAWS")])
def test_either_switch_off_misses_the_exact_regret(monkeypatch, off):
    """Without either rule (both off: the estimator before them) the interval of the same
    run misses the exact regret: the absolute correction puts arm 0's total half too low
    (−20 on each of the 2,000 rounds, by hand), and the floor's size on draws that barely
    vary gave an upper end of the total 0.4 floors above it."""
    d, C, m = dear_context_run(seed=0)
    monkeypatch.setattr(est, "_model", lambda data, t, k, v, folds: m.copy())
    for name in off:
        monkeypatch.setattr(est, name, False)
    if "RELATIVE_CORRECTION" in off:
        w = np.array([1.0 / (1.0 - 0.5 * 0.9992), 1.0 / 0.0008])
        want = m[:, 0].sum() + d.T * np.sum(w * np.array([0.0, -20.0])) / np.sum(w)
        assert est.column_totals(d)[0] == pytest.approx(want, rel=1e-9)
    e = est.estimate_regret(d, seed=0).best_fixed
    regret = d.paid.sum() - C.sum(axis=0).min()
    assert not (e.low <= regret <= e.high)


def test_scale_is_positive_and_one_when_off(monkeypatch):
    m = np.array([[10.0, 0.0], [-5.0, 2.0], [20.0, 4.0]])
    a = est._scale(m)
    assert (a > 0).all()
    np.testing.assert_array_equal(a[[0, 2], 0], [10.0, 20.0])
    assert a[1, 0] == pytest.approx(1e-3 * np.mean([10.0, 5.0, 20.0]))
    monkeypatch.setattr(est, "RELATIVE_CORRECTION", False)
    np.testing.assert_array_equal(est._scale(m), np.ones_like(m))
