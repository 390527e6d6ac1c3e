"""Loops a scientist writes that the other tests do not: Newton's method for the Bratu problem
on three grids in one Tuner (Jacobians changing every step, sizes changing between calls, a
warm start ``x0``), checked against Newton with scipy's direct solve; a solve no arm finishes
returns the best iterate of all the runs, checked against each arm run alone; and the regret
interval of a one-round run, which follows from the costs alone."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

import bandit
import solvers


def laplacian(m):
    """−Δ on the unit square's m × m interior grid (Dirichlet), scaled by 1/h²."""
    h = 1.0 / (m + 1)
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    return ((sp.kron(sp.eye(m), T) + sp.kron(T, sp.eye(m))) / h**2).tocsr()


def bratu_newton(m, solve, lam=5.0, steps=6):
    """Newton for −Δu = λ eᵘ, u = 0 on the boundary; ``solve(J, rhs, x0)`` gives the step."""
    L = laplacian(m)
    u = np.zeros(m * m)
    norms = []
    for _ in range(steps):
        F = L @ u - lam * np.exp(u)
        norms.append(np.linalg.norm(F))
        J = (L - sp.diags(lam * np.exp(u))).tocsr()
        u = u + solve(J, -F, np.zeros_like(u))
    return u, norms


def test_newton_on_three_grids_in_one_tuner_matches_newton_with_a_direct_solve():
    tuner = bandit.Tuner(solver="ssor_pcg", rtol=1e-10, audit_budget=0.05, audit_seed=0)
    results = []

    def tuned(J, rhs, x0):
        r = tuner.solve(J, rhs, x0=x0)
        # every step meets the stopping rule against the Jacobian it was given
        assert r.converged
        assert np.linalg.norm(rhs - J @ r.x) <= 1e-10 * np.linalg.norm(rhs) * (1 + 1e-9)
        results.append(r)
        return r.x

    def direct(J, rhs, x0):
        return sla.spsolve(J.tocsc(), rhs)

    for m in (12, 20, 12):  # the size changes between calls, and back
        u, norms = bratu_newton(m, tuned)
        ref, ref_norms = bratu_newton(m, direct)
        # the same Newton iterates to what the inner tolerance allows, converging quadratically
        np.testing.assert_allclose(u, ref, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(norms[:4], ref_norms[:4], rtol=1e-6)
        assert norms[3] < 1e-3 * norms[2] < 1e-4 * norms[1]
    s = tuner.summary()
    assert s["rounds"] == len(results) == 18 and s["all_converged"]
    assert s["total_iterations"] == sum(r.iterations for r in results)
    assert sum(s["arm_counts"].values()) == 18


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
@pytest.mark.parametrize("maxiter", [3, 10])
def test_a_solve_no_arm_finishes_returns_the_best_run_of_all_arms(solver, maxiter):
    A = solvers.gallery.laplacian_2d(12)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    omegas = [1.0, 1.5, 1.9]
    r = bandit.Tuner(omegas, solver=solver, maxiter=maxiter).solve(A, b)
    assert not r.converged and r.reason == "maxiter"
    assert r.iterations == len(omegas) * maxiter  # every arm ran, from x0, to its cap
    alone = [np.linalg.norm(b - A @ getattr(solvers, solver)(A, b, w, maxiter=maxiter).x)
             for w in omegas]
    got = np.linalg.norm(b - A @ r.x)
    assert got == pytest.approx(min(alone), rel=1e-12)
    assert r.residual_norm == pytest.approx(got, rel=1e-10)
    assert r.omega == omegas[int(np.argmin(alone))]


def test_one_round_interval_is_zero_to_what_the_round_paid():
    # one round, one arm observed: the best fixed arm costs at most what the played arm cost
    # (regret >= 0) and at least nothing (regret <= paid); nothing narrower is known (with
    # audits: without any, a deterministic learner's estimate has no unbiased interval)
    A = solvers.gallery.laplacian_2d(6)
    t = bandit.Tuner(solver="sor", audit_budget=0.2, audit_seed=0)
    r = t.solve(A, np.ones(36))
    est = t.regret().best_fixed
    assert (est.low, est.high) == (0.0, float(r.iterations))
    assert est.low <= est.estimate <= est.high
