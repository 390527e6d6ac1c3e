"""The unseen study's generators (experiments._problems_unseen) against independent references:
symmetry and positive definiteness by dense eigenvalues on small sizes, analytic energies and
spectra, brute-force graphs, and the Picard fixed point."""
import math

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from experiments import _problems_unseen as pu
from experiments.precond_study import make_sequence


def _spd(A):
    D = A.toarray()
    assert np.array_equal(D, D.T)
    return np.linalg.eigvalsh(D)


# -- aniso2d -----------------------------------------------------------------------------------
@pytest.mark.parametrize("eps, theta", [(1.0, 0.0), (1e-3, math.pi / 6), (0.1, 1.1)])
def test_q1_energy_of_bilinear_functions_is_exact(eps, theta):
    """On all nodes (no boundary condition) ``gᵀ A g = ∫ ∇gᵀ K ∇g`` for ``g = a x + b y +
    c x y``, which Q1 represents exactly: the closed form integral is the reference."""
    nx = 5
    P, dxx, dyy, dxy = pu.q1_parts(nx, dirichlet=False)
    k11, k22, k12 = pu.anisotropy_tensor(eps, theta)
    A = P.copy()
    A.data = k11 * dxx + k22 * dyy + k12 * dxy
    g1 = np.linspace(0, 1, nx + 1)
    X, Y = np.meshgrid(g1, g1, indexing="xy")  # x fastest
    rng = np.random.default_rng(3)
    for a, b, c in rng.standard_normal((4, 3)):
        g = (a * X + b * Y + c * X * Y).ravel()
        # ∫(a + c y)² = a² + ac + c²/3, ∫(b + c x)² likewise, ∫(a + cy)(b + cx) = (a + c/2)(b + c/2)
        exact = (k11 * (a * a + a * c + c * c / 3) + k22 * (b * b + b * c + c * c / 3)
                 + 2 * k12 * (a + c / 2) * (b + c / 2))
        assert g @ (A @ g) == pytest.approx(exact, rel=1e-12)
    assert np.abs(A @ np.ones(A.shape[0])).max() < 1e-13  # constants: no energy


def test_q1_isotropic_dirichlet_spectrum_is_analytic():
    """K = I: ``A = K1 ⊗ M1 + M1 ⊗ K1`` with the 1-D Q1 matrices, eigenvalues
    ``(2/3)[(1 − c_i)(2 + c_j) + (2 + c_i)(1 − c_j)]``, ``c_i = cos(iπ/nx)``."""
    nx = 7
    sim = pu.AnisoSweep2D(nx, sweeps=1, per_sweep=4)
    A = sim.matrix(0)  # ε = 1
    c = np.cos(np.arange(1, nx) * np.pi / nx)
    ci, cj = np.meshgrid(c, c)
    ref = np.sort((2 / 3 * ((1 - ci) * (2 + cj) + (2 + ci) * (1 - cj))).ravel())
    assert np.allclose(_spd(A), ref, rtol=1e-12, atol=1e-13)


def test_aniso_sequence_is_spd_and_its_contexts_the_schedule():
    seq = pu.AnisoSequence(9, sweeps=1, per_sweep=6)
    ctx = seq.sim.contexts()
    assert np.allclose(ctx, -1.5 * (1 - np.cos(2 * np.pi * np.arange(6) / 6)))
    for t in range(seq.T):
        A, _ = seq.shared(t)
        assert _spd(A)[0] > 0
        assert A.has_sorted_indices
    k11, k22, k12 = pu.anisotropy_tensor(1e-3, math.pi / 6)
    K = np.array([[k11, k12], [k12, k22]])
    assert np.allclose(np.linalg.eigvalsh(K), [1e-3, 1.0])
    assert np.allclose(np.linalg.eigh(K)[1][:, 1] ** 2, [0.75, 0.25])  # strong along 30°


# -- heat3d ------------------------------------------------------------------------------------
def test_heat3d_spectrum_is_analytic_and_schedule_grows_then_shrinks():
    m = 4
    sim = pu.Heat3DGrowShrink(m, cycles=1)
    lam = 2 - 2 * np.cos(np.arange(1, m + 1) * np.pi / (m + 1))
    L3 = (lam[:, None, None] + lam[None, :, None] + lam[None, None, :]).ravel()
    for k in (0, sim.steps // 2):
        assert np.allclose(_spd(sim.matrix(k)), np.sort(1 + sim.ratios[k] * L3), rtol=1e-12)
    dt = sim.dt
    half = dt.size // 2
    assert np.all(np.diff(dt[:half]) > 0) and np.all(np.diff(dt[half:]) < 0)
    assert dt[0] == 1e-5 and dt.max() == 3e-2 and np.array_equal(dt, dt[::-1])
    assert np.allclose(dt[1:half - 1] / dt[:half - 2], 1.2)


def test_heat3d_sequence_step_is_backward_euler():
    seq = make_sequence("heat3d", 3)
    u = np.random.default_rng(0).random(seq.n)
    A, b, x0, ctx = seq.system(seq.shared(5), u)
    sim = seq.sim
    assert np.allclose(b, u + sim.dt[5] * sim.forcing(5)) and x0 is u
    assert ctx == pytest.approx(math.log10(sim.dt[5] * 16))  # h = 1/4


# -- rgg ---------------------------------------------------------------------------------------
def test_graph_laplacian_matches_brute_force_graph():
    n, degree = 120, 10.0
    L, pts = pu.geometric_graph_laplacian(n, degree, seed=5)
    rho = math.sqrt(degree / (math.pi * n))
    d2 = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)
    W = np.where((d2 < rho ** 2) & ~np.eye(n, dtype=bool), np.exp(-4 * d2 / rho ** 2), 0.0)
    ref = np.diag(W.sum(axis=1)) - W
    assert np.allclose(L.toarray(), ref, rtol=1e-13, atol=1e-15)


def test_graph_shift_smallest_eigenvalue_is_the_shift_per_component():
    """``L + sI``: the constant vector of each connected component has eigenvalue ``s``."""
    from scipy.sparse.csgraph import connected_components

    sim = pu.GraphShifts(150, samples=5, seed=2)
    comps = connected_components(sim.L, directed=False)[0]
    for k in range(sim.steps):
        s = 10.0 ** sim.contexts()[k]
        ev = _spd(sim.matrix(k))
        assert np.allclose(ev[:comps], s, rtol=1e-9, atol=1e-12)
        assert ev[comps] > s * (1 + 1e-9)
    seq = make_sequence("rgg", 150)
    A, b, x0, ctx = seq.system(seq.shared(0), None)
    assert x0 is None and np.allclose(b, 10.0 ** ctx * seq.sim.y)


# -- picard2d ----------------------------------------------------------------------------------
def test_picard_matrix_constant_coefficient_spectrum_is_analytic():
    """k ≡ κ: the cell-centred Dirichlet Laplacian, eigenvalues ``κ(μ_i + μ_j)`` with the 1-D
    operator tridiag(−1, 2, −1) plus 1 at both ends (the wall half a cell away)."""
    nx, kap = 6, 2.5
    T = 2 * np.eye(nx) - np.eye(nx, k=1) - np.eye(nx, k=-1)
    T[0, 0] = T[-1, -1] = 3.0
    mu = np.linalg.eigvalsh(T)
    ref = np.sort((mu[:, None] + mu[None, :]).ravel()) * kap
    assert np.allclose(_spd(pu.picard_matrix(np.full(nx * nx, kap), nx)), ref, rtol=1e-12)


def test_picard_matrix_variable_coefficient_is_spd_with_harmonic_faces():
    nx = 5
    k = np.exp(np.random.default_rng(1).standard_normal(nx * nx) * 2)
    A = pu.picard_matrix(k, nx)
    assert _spd(A)[0] > 0
    i, j = 7, 8  # x-neighbours (same row of cells)
    assert A[i, j] == pytest.approx(-2 * k[i] * k[j] / (k[i] + k[j]))
    assert A[i, i + nx] == pytest.approx(-2 * k[i] * k[i + nx] / (k[i] + k[i + nx]))


def test_picard_iterates_reach_the_nonlinear_solution():
    """The last iterate solves the discrete nonlinear problem ``A(e^u) u = λ h²`` (a
    residual check independent of the iteration), and each system's start is the damped
    update of the previous one."""
    sim = pu.Picard2D(10, loads=4, lam_max=1e3)
    u = sim.solution
    b = np.full(sim.n, sim.loads[-1] / 100)
    res = np.linalg.norm(pu.picard_matrix(np.exp(u), 10) @ u - b) / np.linalg.norm(b)
    assert res < 1e-4
    t = 3
    assert sim.load_index[t] == sim.load_index[t - 1]
    x = spla.spsolve(sim.matrix(t - 1).tocsc(), np.full(sim.n, sim.rhs[t - 1]))
    assert np.allclose(sim.starts[t], sim.starts[t - 1] + 0.5 * (x - sim.starts[t - 1]))
    assert np.allclose(sim.contexts(), [(s.max() - s.min()) / math.log(10) for s in sim.starts])
    for t in (0, sim.steps - 1):
        assert _spd(sim.matrix(t))[0] > 0


def test_unknown_kind_and_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="sequence must be"):
        pu.make_unseen("nope", 4)
    with pytest.raises(ValueError, match="nx must be an integer"):
        pu.AnisoSweep2D(1)
    with pytest.raises(ValueError, match="growth"):
        pu.grow_shrink_schedule(1.0, 2.0, 1.0, 1)
