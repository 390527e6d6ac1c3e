"""Regret reports of very short runs (1 to 5 solves): the interval against the best fixed arm
checked against the exact regret, every arm solved on every system; the audit figures of a
hand-made run."""
import numpy as np
import pytest

import solvers
from bandit import Tuner
from solvers import gallery


def systems(T, seed):
    rng = np.random.default_rng(seed)
    return [(gallery.shifted_laplacian_2d(12, float(rng.uniform(0.0, 0.5))),
             rng.standard_normal(144)) for _ in range(T)]


def exact_costs(tuner, sy):
    """Iterations of every arm on every system, each solved alone from x0 = 0."""
    fn = getattr(solvers, tuner.solver_name)
    C = np.empty((len(sy), tuner.policy.n_arms))
    for t, (A, b) in enumerate(sy):
        for k in range(tuner.policy.n_arms):
            r = fn(A, b, omega=tuner.policy.arms[k], rtol=tuner.rtol, maxiter=tuner.maxiter)
            assert r.converged
            C[t, k] = r.iterations
    return C


@pytest.mark.parametrize("solver", ["ssor_pcg", "sor"])
def test_short_runs_intervals_cover_the_exact_regret_or_are_absent(solver):
    """With 1–5 rounds the cost model is fitted on the rounds it predicts (no fold to hold
    out), so its residuals show none of its error: an arm never sampled took the played
    arm's cost as its total, and 22 of 24 SSOR-PCG runs got an interval that missed the
    exact regret ([0, 3] for an exact 5 on one system).  Its lower bound is now the certain
    one (observed costs, 0 elsewhere): every interval covers the exact regret."""
    for T in (1, 2, 3, 5):
        for seed in range(3):
            sy = systems(T, seed)
            tuner = Tuner(solver=solver, audit_budget=0.05, audit_seed=seed)
            for A, b in sy:
                tuner.solve(A, b)
            C = exact_costs(tuner, sy)
            paid = float(tuner.history["iterations"].sum())
            exact = paid - float(C.sum(axis=0).min())
            bf = tuner.regret().best_fixed
            if np.isfinite(bf.low):
                assert bf.low <= exact <= bf.high, (solver, T, seed, exact, bf)
                assert bf.high <= paid  # the comparator costs at least 0
                if not np.all(np.isin(np.arange(C.shape[1]), tuner.history["arm"])):
                    assert "certain" in bf.method and "cross-fitting" in bf.method
            else:
                assert "no interval" in str(tuner.regret()) or "interval" not in bf.method
