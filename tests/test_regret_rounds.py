"""``Tuner.regret(rounds=T0)``: the regret over the first ``T0`` rounds of a run."""
import numpy as np
import pytest
import scipy.sparse as sp

from bandit import Tuner, TsallisINF
from solvers import gallery

L = sp.csr_matrix(gallery.laplacian_2d(12))
N = L.shape[0]


def _systems(shifts, seed=0):
    rng = np.random.default_rng(seed)
    return [((L + c * sp.eye(N)).tocsr(), rng.standard_normal(N)) for c in shifts]


def test_regret_over_the_first_rounds_is_that_of_the_shorter_run():
    # Tuner.regret(rounds=T0): the estimate of the run that stopped after T0 rounds (same
    # seed: same arms and costs), its curves at those rounds
    arms = np.linspace(1.0, 1.9, 10)
    systems = _systems(np.linspace(0.0, 0.3, 30), seed=9)
    full, short = (Tuner(TsallisINF(arms, seed=2), solver="sor") for _ in range(2))
    for i, (A, b) in enumerate(systems):
        full.solve(A, b)
        if i < 20:
            short.solve(A, b)
    r, r0 = full.regret(rounds=20), short.regret()
    assert (r.rounds, r.paid) == (r0.rounds, r0.paid) == (20, short.history["iterations"].sum())
    for name in ("best_fixed", "instance_optimal"):
        e, e0 = getattr(r, name), getattr(r0, name)
        assert (e.estimate, e.low, e.high, e.method) == pytest.approx(
            (e0.estimate, e0.low, e0.high, e0.method), nan_ok=True)
        np.testing.assert_array_equal(e.rounds, e0.rounds)
        np.testing.assert_allclose(e.curve, e0.curve)
    assert full.regret(rounds=30).best_fixed.estimate == full.regret().best_fixed.estimate
    assert full.regret(rounds=0).rounds == 0
    for bad in (-1, 31, 2.0, True, "3"):
        with pytest.raises(ValueError, match="rounds must be None or an integer from 0 to "
                                             "the 30 rounds"):
            full.regret(rounds=bad)


def test_regret_over_the_first_rounds_reads_their_audits_only():
    arms = np.linspace(1.0, 1.9, 10)
    t = Tuner(TsallisINF(arms, seed=2), solver="sor", audit_budget=1.0, audit_seed=0)
    for A, b in _systems(np.linspace(0.0, 0.3, 30), seed=10):
        t.solve(A, b)
    from bandit.report import estimator_data

    at = np.asarray(t.audits["round"])
    assert (at >= 15).any() and (at < 15).any()
    data = estimator_data(t, rounds=15)
    assert data.T == 15 and len(data.audits["round"]) == int(np.sum(at < 15))
    np.testing.assert_array_equal(data.audits["round"], at[at < 15])
    rep = t.regret(rounds=15)
    assert rep.rounds == 15 and rep.best_fixed.rounds[-1] == 15
    assert rep.paid == t.history["iterations"][:15].sum()
