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
