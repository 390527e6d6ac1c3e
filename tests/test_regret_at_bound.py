"""The instance-optimal regret at its bound: a comparator total clipped at 0 is reported as an
upper end ("at most"), flagged ``at_bound`` as the best fixed arm's is, and not drawn as an
estimate."""
import numpy as np
import pytest

from bandit.estimate import RunData, estimate_regret


def _spiked_run(width, T=200):
    """A deterministic learner plays arm 0 (10 iterations a round) of three arms (10, 20,
    30); on the ``2 × width`` rounds around the middle every arm costs 1,000, except arm 2 on
    the middle round, which costs 1 — and that round is the run's only row audit
    (probability 0.01). The instance-optimal total is ``Σ_t min_k C[t, k]`` = paid − 999.

    The cost model's per-round minimum is about 1,000 on the audited round and the row
    audit finds 1 there: its correction, about −1,000 a round times all ``T`` rounds,
    outweighs the model's total once the dear stretch is short of half the run, and the
    corrected total falls below 0."""
    t = np.arange(T)
    C = np.tile([10.0, 20.0, 30.0], (T, 1))
    C[T // 2 - width:T // 2 + width] = 1000.0
    C[T // 2, 2] = 1.0
    rr, aa = np.full(2, T // 2), np.array([1, 2])
    audits = {"round": rr, "arm": aa, "row": np.ones(2, bool), "value": C[rr, aa],
              "iterations": C[rr, aa], "converged": np.ones(2, bool),
              "budget": np.full(2, 1e4), "p": np.zeros(2)}
    data = RunData(paid=C[:, 0].copy(), x=t.astype(float), arm=np.zeros(T, np.int64),
                   p=np.ones(T), played=C[:, 0].copy(), epoch_start=np.array([0]),
                   q=np.zeros((1, 3)), r=np.full(1, 0.01), audits=audits, fail_cost=1e4,
                   n_arms=3, arm_order=np.arange(3), randomised=False)
    return data, C


def _entry(e, paid_cum):
    """A regret entry of :func:`experiments.plots.run_data`."""
    return {"rounds": e.rounds, "estimate": e.curve, "low": e.curve_low,
            "high": e.curve_high, "comparator": paid_cum[e.rounds - 1] - e.curve,
            "method": e.method, "unbiased": e.unbiased, "at_bound": e.at_bound}


@pytest.mark.parametrize("width", [50, 60, 80])
def test_instance_optimal_clipped_at_zero_is_reported_as_a_bound(width):
    data, C = _spiked_run(width)
    paid = C[:, 0].sum()
    rep = estimate_regret(data)
    io = rep.instance_optimal
    assert paid - C.min(axis=1).sum() == pytest.approx(999.0)  # the exact regret
    assert io.estimate == pytest.approx(paid)  # the comparator put at 0: everything paid
    assert io.at_bound
    d = rep.as_dict()
    # the same field for both comparators (an older reader's .get("at_bound") still works)
    assert d["instance_optimal"]["at_bound"] is True
    assert d["best_fixed"]["at_bound"] is False
    assert "comparator_arm" not in d["instance_optimal"]
    assert "no point estimate" in io.method
    text = str(rep)
    assert f"vs instance-optimal: at most {paid:,.0f} (no point estimate" in text
    assert f"vs instance-optimal: {paid:,.0f}" not in text


@pytest.mark.parametrize("width", [0, 10, 40])
def test_an_ordinary_instance_optimal_estimate_is_not_flagged(width):
    data, C = _spiked_run(width)
    rep = estimate_regret(data)
    io = rep.instance_optimal
    assert 0 < io.estimate < C[:, 0].sum()
    assert not io.at_bound and rep.as_dict()["instance_optimal"]["at_bound"] is False
    assert "at most" not in str(rep) and "no point estimate" not in io.method


def test_figures_do_not_draw_the_instance_optimal_bound_as_an_estimate():
    from experiments.plots import plot_run_cost, plot_run_regret

    data, C = _spiked_run(60)
    rep = estimate_regret(data)
    cum = np.cumsum(C[:, 0])
    d = {"rounds": np.arange(1, len(C) + 1), "cumulative": cum, "unit": "iterations",
         "level": 0.9, "regret": {"best_fixed": _entry(rep.best_fixed, cum),
                                  "instance_optimal": _entry(rep.instance_optimal, cum)}}
    ax = plot_run_regret(d, "instance_optimal")
    assert "no point estimate" in ax.get_title()
    labels = [line.get_label() for line in ax.get_lines()]
    assert "estimate" not in labels and any(lab.startswith("at most") for lab in labels)
    # the cost figure names the comparator without drawing its 'cost', the bound 0
    labels = [line.get_label() for line in plot_run_cost(d).get_lines()]
    assert "instance-optimal (estimated)" not in labels
    legend = [t.get_text() for t in plot_run_cost(d).get_legend().get_texts()]
    assert any("instance-optimal" in t and "no point estimate" in t for t in legend)
    # an ordinary estimate (and an entry saved before the flag existed) is drawn as before
    data0, C0 = _spiked_run(10)
    rep0 = estimate_regret(data0)
    cum0 = np.cumsum(C0[:, 0])
    old = _entry(rep0.instance_optimal, cum0)
    del old["at_bound"]
    d0 = dict(d, cumulative=cum0, rounds=np.arange(1, len(C0) + 1),
              regret={"best_fixed": _entry(rep0.best_fixed, cum0), "instance_optimal": old})
    ax = plot_run_regret(d0, "instance_optimal")
    assert "estimate" in [line.get_label() for line in ax.get_lines()]
    assert "no point estimate" not in ax.get_title()
    assert "instance-optimal (estimated)" in [
        line.get_label() for line in plot_run_cost(d0).get_lines()]
