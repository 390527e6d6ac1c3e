"""Problem classes the library had not been run on: each test failed before its fix.

Numbers are checked against dense references (numpy eigenvalues, scipy solves).
"""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit.prior import theory_costs
from solvers import gallery
from solvers.spectral import estimate_spectrum, jacobi_spectral_radius, optimal_omega


# --- a Laplacian assembled with the other sign (every diagonal entry negative) ---------------
def jacobi_spectrum(A):
    """Exact eigenvalues of D⁻¹A (dense; real for a symmetric A whose diagonal has one sign)."""
    A = sp.csr_array(A).toarray()
    return np.sort(np.linalg.eigvals(A / np.diag(A)[:, None]).real)


NEGATIVE = {
    "-laplacian_2d(10)": -gallery.laplacian_2d(10),
    "-shifted_laplacian": -gallery.shifted_laplacian_2d(9, 0.3),
    "-random_spd": -gallery.random_spd(80, 0.08, seed=3),
}


@pytest.mark.parametrize("name", list(NEGATIVE))
def test_estimate_spectrum_of_a_negative_definite_matrix_is_that_of_its_jacobi_matrix(name):
    # D⁻¹A = (−D)⁻¹(−A): the spectrum the estimate stands for is the same for A and −A, and
    # SOR's sweep (x_i ← (1 − ω) x_i + ω (b_i − Σ a_ij x_j)/a_ii) does not see the sign either.
    # Before, the estimate refused every negative diagonal
    N = NEGATIVE[name]
    ev = jacobi_spectrum(N)
    exact = estimate_spectrum(N, 500)  # more steps than unknowns: the exact extremes
    assert exact.mu_min == pytest.approx(ev[0], rel=1e-8)
    assert exact.mu_max == pytest.approx(ev[-1], rel=1e-8)
    for steps in (10, 40):
        got, ref = estimate_spectrum(N, steps), estimate_spectrum(-N, steps)
        assert got.steps == ref.steps and got.exact == ref.exact
        assert got.mu_min == pytest.approx(ref.mu_min, rel=1e-12)
        assert got.mu_max == pytest.approx(ref.mu_max, rel=1e-12)
        assert ev[0] - 1e-10 <= got.mu_min and got.mu_max <= ev[-1] + 1e-10  # Ritz values inside
    rho = jacobi_spectral_radius(N)
    assert rho == pytest.approx(max(1 - ev[0], ev[-1] - 1), rel=1e-10)
    assert estimate_spectrum(N, 500).rho_jacobi == pytest.approx(rho, rel=1e-8)


def test_estimate_spectrum_still_refuses_a_diagonal_of_both_signs_and_zeros():
    A = sp.csr_matrix(np.array([[2.0, 1.0], [1.0, -3.0]]))
    with pytest.raises(ValueError, match="negative diagonal entry a_ii = -3 in row 1"):
        estimate_spectrum(A)
    Z = sp.csr_matrix(np.array([[-2.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="zero or missing diagonal entry in row 1"):
        estimate_spectrum(Z)
    U = -gallery.laplacian_2d(4).tolil()
    U[0, 1] = -3.0  # not symmetric
    with pytest.raises(ValueError, match="not symmetric"):
        estimate_spectrum(U.tocsr())


def test_sor_theory_prior_and_tuner_start_do_not_depend_on_the_sign_convention():
    L = gallery.laplacian_2d(10)
    arms = list(np.linspace(1.0, 1.95, 20))
    ref = theory_costs(L, arms, "sor")
    got = theory_costs(-L, arms, "sor")  # before: None (no prior)
    assert got is not None
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    # the default SOR learner's first ω comes from the prior: next to Young's ω* (dense)
    w_star = optimal_omega(-L)
    assert w_star == pytest.approx(2 / (1 + np.sin(np.pi / 11)), rel=1e-10)
    rng = np.random.default_rng(0)
    bs = [rng.standard_normal(100) for _ in range(30)]
    totals = {}
    for sign in (1, -1):
        tuner = bandit.Tuner(solver="sor")
        for b in bs:
            res = tuner.solve(sign * L, b)
            assert res.converged
            assert np.linalg.norm(b - sign * L @ res.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9)
        omega = tuner.history["omega"]
        assert abs(omega[0] - w_star) <= 0.05  # before: ω = 1.0 for −L
        totals[sign] = int(tuner.history["iterations"].sum())
    # SOR's iterates on (−L, b) are minus those on (L, b): the same counts, the same learner
    # (before: 2716 iterations for −L against 1629 for L over 40 solves)
    assert totals[-1] == totals[1]


def test_auto_context_of_a_negative_definite_sequence_for_sor():
    L = gallery.laplacian_2d(8)
    b = np.ones(64)
    ctx = {}
    for sign in (1, -1):
        tuner = bandit.Tuner(solver="sor", auto_context="spectral")
        for c in (0.0, 0.5, 1.0):
            res = tuner.solve(sign * (L + c * sp.identity(64)), b)
            assert res.converged
        ctx[sign] = tuner.history["context"]
    np.testing.assert_allclose(ctx[-1], ctx[1], rtol=1e-12)
    # SSOR-PCG still refuses the negative definite matrix by name, before any draw
    tuner = bandit.Tuner(solver="ssor_pcg", auto_context="spectral")
    with pytest.raises(ValueError, match="solve \\(−A\\) x = −b"):
        tuner.solve(-L, b)
    assert tuner.summary()["rounds"] == 0


def test_estimate_of_a_negative_definite_petsc_mat_is_the_serial_estimate():
    pytest.importorskip("petsc4py")
    from solvers.petsc import to_petsc_mat

    N = -(gallery.laplacian_2d(12) + sp.diags(np.linspace(0.0, 0.5, 144)))
    M = to_petsc_mat(sp.csr_matrix(N))
    for steps in (5, 40, 500):
        ref, got = estimate_spectrum(N, steps), estimate_spectrum(M, steps)
        assert got.steps == ref.steps and got.exact == ref.exact
        assert got.mu_min == pytest.approx(ref.mu_min, rel=1e-10)
        assert got.mu_max == pytest.approx(ref.mu_max, rel=1e-10)
    ev = jacobi_spectrum(N)
    exact = estimate_spectrum(M, 500)
    assert exact.mu_min == pytest.approx(ev[0], rel=1e-8)
    assert exact.mu_max == pytest.approx(ev[-1], rel=1e-8)
    mixed = sp.csr_matrix(N, copy=True)
    mixed[3, 3] = 1.0
    with pytest.raises(ValueError, match="positive diagonal"):
        estimate_spectrum(to_petsc_mat(mixed))


# --- a sequence in which some systems defeat every arm ---------------------------------------
def _one_arm_run(solver, arm, bad, T=12):
    """A one-arm tuner on 5-point Laplacians with one system (round 5) no arm can solve; the
    cost matrix recomputed independently: each round's solve alone, ``maxiter`` where it
    fails (the convention of the regret report)."""
    L = gallery.laplacian_2d(6)
    rng = np.random.default_rng(1)
    tuner = bandit.Tuner(bandit.FixedArm([arm]), solver=solver)
    C = []
    for t in range(T):
        A = bad if t == 5 else L + 0.1 * t * sp.identity(36)
        b = rng.standard_normal(36)
        res = tuner.solve(A, b)
        fn = {"cg": cg_ref, "sor": sor_ref}[solver]
        alone = fn(A, b, arm)
        assert res.converged == alone.converged
        C.append(alone.iterations if alone.converged else tuner.maxiter)
    return tuner, np.array(C, dtype=float)


def cg_ref(A, b, arm):
    from solvers import cg
    return cg(A, b)


def sor_ref(A, b, arm):
    from solvers import sor
    return sor(A, b, arm)


@pytest.mark.parametrize("solver, arm, bad", [
    ("cg", 1.0, -gallery.laplacian_2d(6)),                      # breaks down at once
    ("sor", 1.5, (gallery.laplacian_2d(6) - 5 * sp.identity(36)).tocsr()),  # diverges
])
def test_one_arm_run_with_a_failed_system_has_its_exact_regret(solver, arm, bad):
    # a one-arm run observes every entry of its cost matrix, the failed round too (its
    # failure cost, maxiter): the regret is exact — before, the failed play counted as
    # unobserved, the cost model filled it in as if it had converged, and the report said
    # -19 iterations "biased: some arms could not be observed (a deterministic policy
    # without audits)"
    tuner, C = _one_arm_run(solver, arm, bad)
    h = tuner.history
    assert not h["converged"][5] and h["converged"].sum() == 11
    paid = float(h["iterations"].sum())
    np.testing.assert_array_equal(np.delete(h["iterations"], 5), np.delete(C, 5))
    rep = tuner.regret()
    assert rep.paid == paid
    expected = paid - C.sum()  # = −(maxiter − what the failure took)
    assert expected == -(tuner.maxiter - h["iterations"][5])
    for e in (rep.best_fixed, rep.instance_optimal):
        assert e.method.startswith("exact")
        assert e.unbiased
        assert e.estimate == expected and e.low == expected and e.high == expected
        np.testing.assert_allclose(e.curve[-1], expected)
    assert rep.best_fixed.comparator_arm == 0


def test_failed_plays_and_failed_audits_are_observations_of_the_failure_cost():
    from bandit.estimate import RunData, inclusion_probabilities

    def data(failed):
        # round 0: arm 0 played (p 0.5), converged at 5; an audit ran arm 1 there, which
        # diverged after 3 iterations (within the play's cap of 100: a play would have seen
        # it). Round 1: arm 1 played (p 0.5) and failed. Audits: q = 0.2 for each arm
        a = {"round": np.array([0]), "arm": np.array([1]), "row": np.array([False]),
             "value": np.array([100.0]), "iterations": np.array([3]),
             "converged": np.array([False]), "budget": np.array([100]),
             "cap": np.array([100]), "p": np.array([0.5])}
        return RunData(paid=np.array([8.0, 7.0]), x=np.zeros(2), arm=np.array([0, 1]),
                       p=np.array([0.5, 0.5]), played=np.array([5.0, np.nan]),
                       epoch_start=np.array([0]), q=np.array([[0.2, 0.2]]), r=np.zeros(1),
                       audits=a, fail_cost=100.0, n_arms=2, maxiter=100, failed=failed)

    t, k, v, pi = inclusion_probabilities(data(np.array([False, True])))
    got = sorted(zip(t.tolist(), k.tolist(), v.tolist(), pi.tolist()))
    # π = 1 − (1 − p)(1 − q) = 0.6 for every entry: the failed play is observed as the
    # failure cost, and the audit's failure counts the play's chance of seeing it too
    assert [g[:3] for g in got] == [(0, 0, 5.0), (0, 1, 100.0), (1, 1, 100.0)]
    np.testing.assert_allclose([g[3] for g in got], [0.6, 0.6, 0.6])
    # without the record of failed plays (failed=None) nothing changes: the failure of a play
    # is not an observation, and the audit's failure counts the audit's coin (and a
    # completion's) only
    t, k, v, pi = inclusion_probabilities(data(None))
    assert sorted(zip(t.tolist(), k.tolist())) == [(0, 0), (0, 1)]


def test_tune_files_check_takes_a_negative_definite_sequence_for_sor_with_auto_context():
    # relaxtune tune refuses up front what the Tuner would refuse: with --auto-context it had
    # refused every negative diagonal, which the Tuner (and the estimate) now take for SOR
    from experiments.user_files import check_systems

    L = gallery.laplacian_2d(5)
    b = np.ones(25)
    check_systems([(-L, b)], "sor", names=["neg.mtx"], auto_context="spectral")
    check_systems([(-L, b)], "sor", names=["neg.mtx"])
    mixed = sp.csr_matrix(L, copy=True)
    mixed[2, 2] = -4.0
    with pytest.raises(ValueError, match="mixed.mtx: A has a negative diagonal entry a_ii = -4 in row 2"):
        check_systems([(mixed, b)], "sor", names=["mixed.mtx"], auto_context="spectral")
    with pytest.raises(ValueError, match="neg.mtx: A has a negative diagonal entry.*solve \\(−A\\)"):
        check_systems([(-L, b)], "ssor_pcg", names=["neg.mtx"], auto_context="spectral")


# --- singular consistent systems: pure Neumann and graph Laplacians, b ⟂ 1 -------------------
def neumann_laplacian_2d(m):
    """5-point Laplacian with natural (zero-flux) boundaries on an m × m grid: singular,
    null space the constant vector."""
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1]).tolil()
    T[0, 0] = T[-1, -1] = 1
    I = sp.identity(m)
    return (sp.kron(T, I) + sp.kron(I, T)).tocsr()


def graph_laplacian(n=150, radius2=0.04, seed=5):
    """Laplacian of a connected random geometric graph (not bipartite: μ_max(D⁻¹A) < 2)."""
    rng = np.random.default_rng(seed)
    P = rng.random((n, 2))
    D2 = ((P[:, None] - P[None]) ** 2).sum(-1)
    W = ((D2 < radius2) & (D2 > 0)).astype(float)
    return sp.csr_matrix(np.diag(W.sum(1)) - W)


SINGULAR = {"neumann(8)": neumann_laplacian_2d(8), "neumann(12)": neumann_laplacian_2d(12),
            "graph(150)": graph_laplacian()}


@pytest.mark.parametrize("name", list(SINGULAR))
def test_the_prior_of_a_singular_matrix_is_that_of_the_rest_of_its_spectrum(name):
    # μ_min(D⁻¹A) = 0 (dense check): ρ_J = 1 would put Young's and Axelsson's best ω at 2; a
    # consistent system converges at the rate the rest of the spectrum sets, and the estimate
    # now deflates the known null vector (A·1 = 0), so the prior is Young's curve of the
    # second eigenvalue (before: no prior at all, and before that ω = 1.95 far ahead)
    A = SINGULAR[name]
    ev = jacobi_spectrum(A)
    assert abs(ev[0]) < 1e-12 and ev[1] > 1e-3
    arms = list(np.linspace(1.0, 1.95, 20))
    est = estimate_spectrum(A, 500)
    assert est.mu_min == 0.0 and est.mu_gap == pytest.approx(ev[1], rel=1e-8)
    for solver in ("sor", "ssor_pcg"):
        assert theory_costs(A, arms, solver) is not None
    assert theory_costs(gallery.laplacian_2d(100), arms, "sor") is not None


@pytest.mark.parametrize("name", ["neumann(8)", "graph(150)"])
def test_default_sor_learner_on_a_singular_consistent_sequence(name):
    A = SINGULAR[name]
    n = A.shape[0]
    rng = np.random.default_rng(0)
    bs = [rng.standard_normal(n) for _ in range(40)]
    bs = [b - b.mean() for b in bs]  # b ⟂ 1: consistent
    arms = np.linspace(1.0, 1.95, 20)
    from solvers import sor

    totals = {}
    for w in arms:
        runs = [sor(A, b, w) for b in bs]
        for b, r in zip(bs, runs):  # every count a converged solve (checked with numpy)
            assert r.converged
            assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9)
        totals[w] = sum(r.iterations for r in runs)
    best = min(totals.values())
    tuner = bandit.Tuner(solver="sor")
    for b in bs:
        res = tuner.solve(A, b)
        assert res.converged
        assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9)
    paid = int(tuner.history["iterations"].sum())
    # before: ω = 1.95 on every solve, 10.3 × (neumann(8): 14,545 against 1,410) and 8.3 ×
    # (graph: 15,214 against 1,843) the best fixed ω, worse than ω = 1 throughout
    assert paid <= 2.5 * best
    assert not np.all(tuner.history["omega"] == arms[-1])


def _neumann(m):
    L = gallery.laplacian_2d(m).tolil()
    L = L + sp.diags(-np.asarray(L.sum(axis=1)).ravel())  # zero row sums: A·1 = 0
    return sp.csr_matrix(L)


@pytest.mark.parametrize("m", [8, 32])
def test_a_matrix_whose_rows_sum_to_zero_gets_no_prior_at_any_size(m):
    # 40 Lanczos steps resolve μ_min = 0 only on small systems (1e-7 on 32 × 32, far above the
    # singular threshold), so the null vector of a Neumann or graph Laplacian is tested itself
    import solvers

    N = _neumann(m)
    assert np.abs(N @ np.ones(m * m)).max() == 0.0
    for A in (N, -N, solvers.prepare(N), N.toarray()):
        # the null vector is deflated: the prior is the rest of the spectrum's, whose best ω
        # is not the grid's top (Young's ω of the second eigenvalue: 1.54 on 8 × 8, 1.82 on
        # 32 × 32, below 1.95)
        for solver in ("sor", "ssor_pcg"):
            c = theory_costs(A, bandit.DEFAULT_ARMS, solver)
            assert c is not None and c[-1] > c.min()
    assert theory_costs(gallery.laplacian_2d(m), [1.0, 1.5, 1.9], "sor") is not None
    t = bandit.Tuner(solver="sor", maxiter=20_000)
    b = np.cos(np.arange(m * m))
    b -= b.mean()  # consistent: b ⟂ 1
    r = t.solve(N, b)
    assert r.converged and t.history["omega"][0] != 1.95


def test_the_estimate_knows_the_null_vector_of_zero_row_sums_on_both_backends():
    # μ_min = 0 exactly when A·1 = 0, on the Numba and the PETSc path alike (the latter is
    # what the Tuner uses under MPI, collectively)
    import solvers
    from solvers.petsc import to_petsc_mat

    N = _neumann(32)
    assert estimate_spectrum(N).mu_min == 0.0
    est = estimate_spectrum(to_petsc_mat(N))
    assert est.mu_min == 0.0 and est.mu_gap == pytest.approx(estimate_spectrum(N).mu_gap)
    assert np.allclose(theory_costs(solvers.prepare(N, backend="petsc"), [1.0, 1.5], "sor"),
                       theory_costs(N, [1.0, 1.5], "sor"))
    # a regular matrix keeps its Ritz value (the Laplacian's smallest, 1 − cos(π/33))
    reg = estimate_spectrum(to_petsc_mat(gallery.laplacian_2d(32)), steps=200)
    assert reg.mu_min == pytest.approx(1 - np.cos(np.pi / 33), rel=1e-6)
