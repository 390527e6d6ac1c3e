"""The Lanczos spectrum estimate against exact (dense) spectra, and the theory it feeds."""
import numpy as np
import pytest
import scipy.sparse as sp

from experiments.problems import DiffusionMC3D, FEMHeat2D, OffsetLaplacianSequence
from solvers import gallery
from solvers.spectral import (estimate_spectrum, jacobi_spectral_radius, sor_rate,
                              ssor_condition_bound, ssor_omega, young_omega)


def scaled_spectrum(A):
    """Exact eigenvalues of D^{-1/2} A D^{-1/2} (dense)."""
    A = sp.csr_array(A).toarray()
    s = 1.0 / np.sqrt(np.diag(A))
    return np.linalg.eigvalsh(s[:, None] * A * s[None, :])


MATRICES = {
    "laplacian_2d(12)": gallery.laplacian_2d(12),
    "shifted_laplacian": gallery.shifted_laplacian_2d(10, 0.3),
    "anisotropic": gallery.anisotropic_2d(10, 0.05),
    "crank_nicolson": gallery.crank_nicolson_2d(12, 0.01),
    "random_spd": gallery.random_spd(120, 0.05, seed=2),
    "offset_laplacian": OffsetLaplacianSequence(1, "high", seed=4)[0][0],
    "diffusion_3d": DiffusionMC3D(m=7, samples=1, seed=1)[0][0],
}
_fem = FEMHeat2D(h=0.12, steps=1, seed=0)
MATRICES["fem_disk"] = _fem.system(0, _fem.initial())[0]


@pytest.mark.parametrize("name", list(MATRICES))
def test_ritz_values_bracket_inside_the_exact_spectrum_and_converge(name):
    A = MATRICES[name]
    ev = scaled_spectrum(A)
    rho = jacobi_spectral_radius(A)
    assert rho == pytest.approx(max(1 - ev[0], ev[-1] - 1), rel=1e-10)
    errors = []
    for steps in (10, 30, 80):
        est = estimate_spectrum(A, steps)
        # Ritz values lie inside the spectrum: the estimate of ρ_J is from below
        assert ev[0] - 1e-10 <= est.mu_min and est.mu_max <= ev[-1] + 1e-10
        assert est.rho_jacobi <= rho + 1e-10
        errors.append(rho - est.rho_jacobi)
    assert errors[-1] <= errors[0] + 1e-12
    # 80 steps: ρ_J to 1e-6 and Young's ω to 1e-3 on every matrix here (n ≤ 400)
    est = estimate_spectrum(A, 80)
    assert est.rho_jacobi == pytest.approx(rho, abs=1e-6)
    if rho < 1:
        assert est.omega_sor == pytest.approx(young_omega(rho), abs=1e-3)


def test_forty_steps_give_youngs_omega_to_a_hundredth_on_a_3d_diffusion_problem():
    A = DiffusionMC3D(m=9, samples=1, seed=3)[0][0]  # n = 729: exact by dense eigvalsh
    ev = scaled_spectrum(A)
    exact = young_omega(1 - ev[0])
    est = estimate_spectrum(A, 40)
    assert abs(est.omega_sor - exact) < 0.01 and est.omega_sor <= exact + 1e-12
    assert est.steps == 40 and not est.exact


def test_laplacian_closed_form_and_small_matrices_are_exact():
    m = 15
    est = estimate_spectrum(gallery.laplacian_2d(m), 100)
    assert est.rho_jacobi == pytest.approx(np.cos(np.pi / (m + 1)), abs=1e-10)
    # fewer unknowns than steps: the Krylov space is the whole space, the values exact
    A = gallery.random_spd(12, 0.3, seed=5)
    ev = scaled_spectrum(A)
    est = estimate_spectrum(A, 40)
    assert est.exact and est.steps <= 12
    assert (est.mu_min, est.mu_max) == (pytest.approx(ev[0], abs=1e-10),
                                        pytest.approx(ev[-1], abs=1e-10))


def test_same_seed_same_estimate_and_bad_input_is_refused():
    A = gallery.laplacian_2d(9)
    a, b = estimate_spectrum(A, 7, seed=3), estimate_spectrum(A, 7, seed=3)
    assert (a.mu_min, a.mu_max) == (b.mu_min, b.mu_max)
    with pytest.raises(ValueError, match="steps"):
        estimate_spectrum(A, 0)
    with pytest.raises(ValueError, match="symmetric"):
        estimate_spectrum(gallery.random_diagonally_dominant(20, 0.3, seed=1), 5)
    B = sp.csr_array(A).copy()
    B.setdiag(np.r_[-1.0, np.full(80, 4.0)])  # of both signs (all negative: the estimate of −B)
    with pytest.raises(ValueError, match="diagonal"):
        estimate_spectrum(B, 5)
    B.setdiag(np.r_[4.0, 0.0, np.full(79, 4.0)])
    with pytest.raises(ValueError, match="diagonal"):
        estimate_spectrum(B, 5)


def test_young_rate_against_the_sor_iteration_matrix():
    """Young's ρ(L_ω) for a consistently ordered matrix = the spectral radius of the SOR
    iteration matrix, computed densely."""
    A = gallery.laplacian_2d(6).toarray()
    D = np.diag(np.diag(A))
    Lo = np.tril(A, -1)
    rho_j = jacobi_spectral_radius(A)
    for w in (0.8, 1.0, 1.3, young_omega(rho_j), 1.7, 1.9):
        M = D / w + Lo
        G = np.eye(len(A)) - np.linalg.solve(M, A)
        assert float(sor_rate(w, rho_j)) == pytest.approx(np.max(np.abs(np.linalg.eigvals(G))),
                                                          rel=2e-3 if w == young_omega(rho_j) else 1e-6)


def test_ssor_bound_holds_and_its_minimiser():
    """Axelsson's bound ≥ the exact κ(M⁻¹A) of SSOR(ω) (δ = 0 is valid for the Laplacian),
    and ssor_omega minimises it."""
    A = gallery.laplacian_2d(8).toarray()
    d = np.diag(A)
    Lo = np.tril(A, -1)
    mu = scaled_spectrum(A)[0]
    for w in (0.6, 1.0, 1.5, ssor_omega(mu), 1.9):
        M = (np.diag(d) + w * Lo) @ np.diag(1 / d) @ (np.diag(d) + w * Lo.T) / (w * (2 - w))
        lam = np.linalg.eigvals(np.linalg.solve(M, A)).real
        assert lam.max() <= 1 + 1e-10
        assert lam.max() / lam.min() <= float(ssor_condition_bound(w, mu)) * (1 + 1e-10)
    ws = np.linspace(0.5, 1.99, 500)
    assert ws[np.argmin(ssor_condition_bound(ws, mu))] == pytest.approx(ssor_omega(mu), abs=0.01)
