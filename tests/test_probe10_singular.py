"""Singular systems: pure Neumann and graph Laplacians (``A·1 = 0``), consistent and not.

Each test failed before its fix; numbers are checked against dense eigenvalues and against
every ω of the grid run on the same systems.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from bandit.prior import theory_costs
from solvers.spectral import estimate_spectrum, young_omega


def neumann_2d(m):
    """5-point Laplacian with zero-flux boundaries on an m × m grid (null space: constants)."""
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1]).tolil()
    T[0, 0] = T[-1, -1] = 1
    identity = sp.identity(m)
    return sp.csr_matrix(sp.kron(T, identity) + sp.kron(identity, T))


def graph_laplacian(n=120, radius2=0.05, seed=5):
    """Laplacian of a random geometric graph (not bipartite)."""
    P = np.random.default_rng(seed).random((n, 2))
    D2 = ((P[:, None] - P[None]) ** 2).sum(-1)
    W = ((D2 < radius2) & (D2 > 0)).astype(float)
    assert W.sum(1).min() > 0
    return sp.csr_matrix(np.diag(W.sum(1)) - W)


def scaled_spectrum(A):
    """Eigenvalues of D^{-1/2} A D^{-1/2} (dense), ascending."""
    d = 1.0 / np.sqrt(A.diagonal())
    return np.linalg.eigvalsh((sp.diags(d) @ A @ sp.diags(d)).toarray())


def consistent(n, k, seed=0):
    rng = np.random.default_rng(seed)
    bs = [rng.standard_normal(n) for _ in range(k)]
    return [b - b.mean() for b in bs]  # b ⟂ 1


TWO = sp.csr_matrix(sp.block_diag([neumann_2d(12), graph_laplacian()]))


@pytest.mark.parametrize("name, A", [("neumann(20)", neumann_2d(20)),
                                     ("graph(120)", graph_laplacian()),
                                     ("two components", TWO)])
def test_the_estimate_deflates_the_null_vectors_of_zero_row_sums(name, A):
    # the gap above the null space, which sets a consistent system's rate: Lanczos run on the
    # complement of D^{1/2}·1 on each connected component (a disconnected graph has one null
    # vector per component); before, the estimate knew only μ_min = 0
    from solvers.petsc import to_petsc_mat

    ev = scaled_spectrum(A)
    nullity = 2 if name == "two components" else 1
    assert np.all(np.abs(ev[:nullity]) < 1e-10) and ev[nullity] > 1e-3
    exact = estimate_spectrum(A, 1000)  # more steps than unknowns: the exact extremes
    assert exact.mu_min == 0.0 and exact.singular
    assert exact.mu_gap == pytest.approx(ev[nullity], rel=1e-8)
    assert exact.mu_max == pytest.approx(ev[-1], rel=1e-8)
    est = estimate_spectrum(A)  # 40 steps: the gap to a few per cent
    assert est.mu_gap == pytest.approx(ev[nullity], rel=0.05)
    assert estimate_spectrum(-A).mu_gap == pytest.approx(est.mu_gap, rel=1e-12)
    petsc = estimate_spectrum(to_petsc_mat(A))  # one rank: the same deflation
    assert petsc.mu_gap == pytest.approx(est.mu_gap, rel=1e-9)
    assert not estimate_spectrum(solvers.gallery.laplacian_2d(10)).singular


def test_a_regular_matrix_is_estimated_as_before():
    ev = scaled_spectrum(solvers.gallery.laplacian_2d(10))
    est = estimate_spectrum(solvers.gallery.laplacian_2d(10), 200)
    assert np.isnan(est.mu_gap) and est.mu_low == est.mu_min
    assert est.mu_min == pytest.approx(ev[0], rel=1e-8)
    assert est.rho_jacobi == pytest.approx(max(1 - ev[0], ev[-1] - 1), rel=1e-8)


@pytest.mark.parametrize("name, A", [("neumann(20)", neumann_2d(20)),
                                     ("graph(120)", graph_laplacian())])
def test_the_sor_prior_on_a_consistent_singular_system_points_at_the_measured_best(name, A):
    # before: no prior (μ_min = 0), so the default SOR learner's first solve ran ω = 1 —
    # 1,174 sweeps on neumann(20) against 92 at the grid's best (ω = 1.8)
    arms = bandit.DEFAULT_ARMS
    b = consistent(A.shape[0], 1)[0]
    its = []
    for w in arms:
        r = solvers.sor(A, b, w, maxiter=50_000)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * 1.0001
        its.append(r.iterations)
    its = np.array(its)
    curve = theory_costs(A, arms, "sor")
    assert curve is not None
    # the prior's best is a grid point whose measured cost is within 25 % of the grid's best
    assert its[int(np.argmin(curve))] <= 1.25 * its.min()
    # Young's ω of the exact gap (consistently ordered grid: the theory's own ω*)
    if name.startswith("neumann"):
        gap = scaled_spectrum(A)[1]
        w_star = young_omega(1 - gap)
        assert abs(arms[int(np.argmin(curve))] - w_star) <= 0.1
    tuner = bandit.Tuner(solver="sor", maxiter=50_000)
    r = tuner.solve(A, b)
    assert r.converged and r.iterations <= 1.25 * its.min() and its[0] > 4 * its.min()


def test_default_sor_learner_over_a_consistent_neumann_sequence():
    # 20 solves on the 20 × 20 Neumann Laplacian: 3,622 sweeps before (no prior: it started
    # at ω = 1), 2,208 now; the best fixed ω of the grid (1.8) costs 1,830, ω = 1 23,386
    A = neumann_2d(20)
    bs = consistent(A.shape[0], 20)
    totals = {w: sum(solvers.sor(A, b, w, maxiter=50_000).iterations for b in bs)
              for w in bandit.DEFAULT_ARMS}
    best = min(totals.values())
    tuner = bandit.Tuner(solver="sor", maxiter=50_000)
    for b in bs:
        assert tuner.solve(A, b).converged
    paid = int(tuner.history["iterations"].sum())
    assert paid <= 1.4 * best < totals[1.0]


# --- inconsistent singular systems: no x meets the rule, and the Tuner says so --------------
def least_residual(A, b):
    """min_x ‖b − A x‖, by dense least squares (the independent reference)."""
    x = np.linalg.lstsq(A.toarray(), b, rcond=None)[0]
    return np.linalg.norm(b - A @ x)


@pytest.mark.parametrize("name, A", [("neumann(12)", neumann_2d(12)), ("two components", TWO)])
def test_residual_floor_is_the_least_squares_residual(name, A):
    rng = np.random.default_rng(1)
    b = rng.standard_normal(A.shape[0])
    floor, comps = solvers.spectral.residual_floor(A, b)
    assert comps == (2 if name == "two components" else 1)
    assert floor == pytest.approx(least_residual(A, b), rel=1e-9)
    # consistent (b ⟂ 1 on every component): no floor beyond rounding
    _, labels = solvers.spectral._components(A.indptr, A.indices, A.data, A.shape[0])
    c = b - (np.bincount(labels, b) / np.bincount(labels))[labels]
    assert solvers.spectral.residual_floor(A, c)[0] < 1e-13 * np.linalg.norm(c)
    # a regular matrix (columns not summing to zero) knows no floor
    assert solvers.spectral.residual_floor(A + sp.identity(A.shape[0]), b) == (0.0, 0)


@pytest.mark.parametrize("solver, guard", [("sor", 3.0), ("ssor_pcg", 3.0), ("sor", None)])
def test_an_inconsistent_singular_system_is_refused_after_one_attempt(solver, guard):
    # before: every arm ran to maxiter (20 arms × 2,000 = 40,000 sweeps on neumann(12)) and
    # the result said only "every arm failed on this system"
    A = neumann_2d(12)
    n = A.shape[0]
    rng = np.random.default_rng(0)
    b = rng.standard_normal(n)  # not ⟂ 1
    floor = least_residual(A, b)
    assert floor > 1e-8 * np.linalg.norm(b)  # no x meets the rule (reference: lstsq)
    tuner = bandit.Tuner(bandit.default_policy(solver, seed=3), solver=solver, maxiter=2000,
                         guard=guard)
    before = tuner.policy.state_dict()
    with pytest.raises(ValueError, match=r"inconsistent.*columns of A sum to zero") as err:
        tuner.solve(A, b)
    assert f"{floor:.3e}" in str(err.value)  # the floor, as numpy's least squares has it
    # nothing recorded or told: the next (consistent) solves are a fresh tuner's
    assert len(tuner.history["arm"]) == 0
    assert tuner.policy.state_dict()["state"]["t"] == before["state"]["t"] == 0
    fresh = bandit.Tuner(bandit.default_policy(solver, seed=3), solver=solver, maxiter=2000,
                         guard=guard)
    for k in range(3):
        c = rng.standard_normal(n)
        c -= c.mean()
        r1, r2 = tuner.solve(A, c), fresh.solve(A, c)
        assert r1.converged and r1.omega == r2.omega and r1.iterations == r2.iterations
        assert np.linalg.norm(c - A @ r1.x) <= 1e-8 * np.linalg.norm(c) * 1.0001


def test_an_inconsistent_system_on_the_petsc_backend_is_refused_too():
    A = neumann_2d(8)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    tuner = bandit.Tuner(solver="sor", backend="petsc", maxiter=500)
    with pytest.raises(ValueError, match="inconsistent") as err:
        tuner.solve(A, b)
    assert f"{least_residual(A, b):.3e}" in str(err.value)
    assert len(tuner.history["arm"]) == 0
