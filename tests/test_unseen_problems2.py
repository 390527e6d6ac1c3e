"""The unseen study's second set of generators (experiments._problems_unseen2) against
independent references: matrices assembled by brute force from their definitions on tiny
grids, analytic spectra, dense eigenvalues and exact integrals; and the refusal of a
nonsymmetric system by the CG-based configuration learner."""
import math

import numpy as np
import pytest

from experiments import _problems_unseen2 as pu2
from experiments.precond_study import default_grid, make_sequence


# -- convdiff2d --------------------------------------------------------------------------------
def _convdiff_brute(nx, pe, theta):
    """Row by row from the difference formulas: ``h²(−Δu)`` by the 5-point stencil and
    ``h²·Pe·w·∇u`` by one-sided differences taken from the upwind side."""
    m, h = nx - 1, 1.0 / nx
    wx, wy = math.cos(theta), math.sin(theta)
    A = np.zeros((m * m, m * m))
    for j in range(m):
        for i in range(m):
            r = j * m + i
            terms = {(i, j): 4.0, (i - 1, j): -1.0, (i + 1, j): -1.0, (i, j - 1): -1.0,
                     (i, j + 1): -1.0}
            # Pe·wx·∂x u ≈ Pe·wx (u_i − u_{i−1})/h if wx > 0, (u_{i+1} − u_i)/h if wx < 0
            up_x = (i - 1, j) if wx > 0 else (i + 1, j)
            up_y = (i, j - 1) if wy > 0 else (i, j + 1)
            for (w, up) in ((wx, up_x), (wy, up_y)):
                terms[(i, j)] += h * pe * abs(w)
                terms[up] = terms.get(up, 0.0) - h * pe * abs(w)
            for (a, b), v in terms.items():
                if 0 <= a < m and 0 <= b < m:
                    A[r, b * m + a] += v
    return A


@pytest.mark.parametrize("pe, theta", [(0.0, 0.0), (37.0, 2 * math.pi / 3), (500.0, 4.0),
                                       (3.0, -0.4)])
def test_convdiff_matches_brute_force_assembly(pe, theta):
    A = pu2.convdiff_matrix(6, pe, theta)
    assert A.has_sorted_indices
    assert np.allclose(A.toarray(), _convdiff_brute(6, pe, theta), rtol=1e-14, atol=1e-14)


def test_convdiff_spectrum_is_analytic_and_matrix_nonsymmetric():
    """``A = I⊗Tx + Ty⊗I + c I`` with ``Tx = tridiag(west, 0, east)``: eigenvalues
    ``c + 2√(west·east) cos(iπ/m+1) + 2√(south·north) cos(jπ/m+1)`` (real, although A is
    not symmetric: each tridiagonal factor is similar to a symmetric one)."""
    nx, pe, theta = 7, 40.0, 2 * math.pi / 3
    A = pu2.convdiff_matrix(nx, pe, theta)
    D = A.toarray()
    m, a = nx - 1, pe / nx
    wx, wy = math.cos(theta), math.sin(theta)
    west, east = -1 - max(wx, 0) * a, -1 + min(wx, 0) * a
    south, north = -1 - max(wy, 0) * a, -1 + min(wy, 0) * a
    c = np.cos(np.arange(1, m + 1) * np.pi / (m + 1))
    ref = (4 + (abs(wx) + abs(wy)) * a + 2 * math.sqrt(west * east) * c[:, None]
           + 2 * math.sqrt(south * north) * c[None, :]).ravel()
    ev = np.linalg.eigvals(D)
    assert np.abs(ev.imag).max() < 1e-6
    assert np.allclose(np.sort(ev.real), np.sort(ref), rtol=1e-8)
    assert np.abs(D - D.T).max() > 1.0  # clearly nonsymmetric
    # an M-matrix, weakly diagonally dominant by rows: SOR converges for ω <= 1
    off = D - np.diag(np.diag(D))
    assert (off <= 0).all() and np.all(np.diag(D) + off.sum(axis=1) >= -1e-12)


def test_convdiff_upwind_is_exact_on_linear_functions():
    """Away from the boundary ``A g = h² Pe w·∇g`` for ``g = αx + βy``: the 5-point Laplacian
    of a linear function is 0 and one-sided differences are exact."""
    nx, pe, theta = 9, 123.0, 2 * math.pi / 3
    A = pu2.convdiff_matrix(nx, pe, theta)
    m, h = nx - 1, 1.0 / nx
    g1 = np.arange(1, m + 1) * h
    X, Y = np.meshgrid(g1, g1, indexing="xy")
    al, be = 0.7, -1.3
    out = (A @ (al * X + be * Y).ravel()).reshape(m, m)
    exact = h * h * pe * (math.cos(theta) * al + math.sin(theta) * be)
    assert np.allclose(out[1:-1, 1:-1], exact, rtol=1e-12)


def test_convdiff_sequence_schedule_and_start():
    seq = make_sequence("convdiff2d", 5)
    assert seq.solver == "sor" and seq.T == 160
    ctx = seq.sim.contexts()
    k = np.arange(160)
    assert np.allclose(ctx, 2 * (1 - np.cos(2 * np.pi * k / 80)))
    u = np.random.default_rng(0).random(seq.n)
    A, b, x0, c = seq.system(seq.shared(40), u)
    assert x0 is u and c == pytest.approx(4.0) and np.allclose(b, 1 / 25)
    assert np.allclose(A.toarray(), pu2.convdiff_matrix(5, 1e4, 2 * math.pi / 3).toarray())


def test_cg_configuration_learner_refuses_the_nonsymmetric_matrix_by_name():
    """The configuration learner (CG-based arms) given a convdiff2d matrix: a clear error
    naming non-symmetry, no answer and no record; the same Tuner then solves an SPD system."""
    import bandit

    seq = make_sequence("convdiff2d", 8)
    A, b, x0, ctx = seq.system(seq.shared(30), seq.initial_state())
    tuner = bandit.Tuner(bandit.default_policy(None, default_grid(), seed=0))
    with pytest.raises(ValueError, match="not symmetric"):
        tuner.solve(A, b, x0=x0, context=ctx)
    assert len(tuner.history["arm"]) == 0
    # the sequence's mildest system (Pe = 1) too, and the default (SSOR-PCG) Tuner alike
    A1, b1, x1, c1 = seq.system(seq.shared(0), seq.initial_state())
    for t in (tuner, bandit.Tuner()):
        with pytest.raises(ValueError, match="not symmetric"):
            t.solve(A1, b1, x0=x1, context=c1)
    assert len(tuner.history["arm"]) == 0
    spd = make_sequence("inclusion3d", 4)
    A2, b2, x2, c2 = spd.system(spd.shared(1), spd.initial_state())
    r = tuner.solve(A2, b2, x0=x2, context=c2)
    assert r.converged and np.linalg.norm(b2 - A2 @ r.x) <= 1e-8 * np.linalg.norm(b2) * 1.001
    # SOR's default learner takes it, and converges
    r = bandit.Tuner(solver="sor").solve(A, b, x0=x0, context=ctx)
    assert r.converged


# -- inclusion3d -------------------------------------------------------------------------------
def _fv3_brute(k, m):
    """Face by face: an interior face between cells p and q adds the harmonic mean
    ``2 k_p k_q / (k_p + k_q)`` to both diagonals and subtracts it off them; a wall face adds
    ``2 k_p`` (the wall half a cell away)."""
    n = m ** 3
    A = np.zeros((n, n))
    idx = lambda x, y, z: (z * m + y) * m + x  # noqa: E731
    for z in range(m):
        for y in range(m):
            for x in range(m):
                p = idx(x, y, z)
                for d in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)):
                    xx, yy, zz = x + d[0], y + d[1], z + d[2]
                    if 0 <= xx < m and 0 <= yy < m and 0 <= zz < m:
                        q = idx(xx, yy, zz)
                        t = 2 * k[p] * k[q] / (k[p] + k[q])
                        A[p, p] += t
                        A[p, q] -= t
                    else:
                        A[p, p] += 2 * k[p]
    return A


def test_fv3_matches_brute_force_assembly_and_is_spd():
    m = 4
    k = np.exp(np.random.default_rng(4).standard_normal(m ** 3) * 3)
    A = pu2.fv_matrix_3d(k, m)
    D = A.toarray()
    assert A.has_sorted_indices and np.array_equal(D, D.T)
    assert np.allclose(D, _fv3_brute(k, m), rtol=1e-13)
    assert np.linalg.eigvalsh(D)[0] > 0


def test_fv3_constant_coefficient_spectrum_is_analytic():
    """k ≡ κ: eigenvalues ``κ(μ_i + μ_j + μ_l)``, ``μ`` those of tridiag(−1, 2, −1) with 3 at
    both ends."""
    m, kap = 4, 0.3
    T = 2 * np.eye(m) - np.eye(m, k=1) - np.eye(m, k=-1)
    T[0, 0] = T[-1, -1] = 3.0
    mu = np.linalg.eigvalsh(T)
    ref = np.sort((mu[:, None, None] + mu[None, :, None] + mu[None, None, :]).ravel()) * kap
    D = pu2.fv_matrix_3d(np.full(m ** 3, kap), m).toarray()
    assert np.allclose(np.linalg.eigvalsh(D), ref, rtol=1e-12)


def test_inclusion_sequence_contrast_and_cells():
    sim = pu2.Inclusion3D(10, steps=5)
    assert np.allclose(sim.contexts(), [0, 1, 2, 3, 4])
    c = (np.arange(10) + 0.5) / 10  # cell centres 0.35 … 0.55 of [0.3, 0.65]: 3 a side
    assert int(sim.inside.sum()) == int(((c > 0.3) & (c < 0.65)).sum()) ** 3 == 27
    k = sim.coefficient(4)
    assert set(np.unique(k)) == {1.0, 1e4}
    assert np.allclose(sim.matrix(4).toarray(), pu2.fv_matrix_3d(k, 10).toarray() / 10)
    for t in (0, 4):
        assert np.linalg.eigvalsh(sim.matrix(t).toarray())[0] > 0
    seq = make_sequence("inclusion3d", 4)
    u = np.ones(seq.n)
    A, b, x0, ctx = seq.system(seq.shared(3), u)
    assert x0 is u and np.allclose(b, 1 / 64) and ctx == pytest.approx(3 * 4 / 119)


# -- fem2d -------------------------------------------------------------------------------------
def _cross(u, v):
    return u[0] * v[1] - u[1] * v[0]


def _p1_brute(pts, tris):
    """Triangle by triangle with the cotangent formula (``K_ij = −(cot α_ij)/2`` summed over
    the angles opposite edge ij, ``K_ii = −Σ_j K_ij``) and the mass ``area/12·(1 + δ_ij)``."""
    N = len(pts)
    K, M = np.zeros((N, N)), np.zeros((N, N))
    for t in tris:
        P = pts[t]
        area = 0.5 * abs(_cross(P[1] - P[0], P[2] - P[0]))
        for a in range(3):
            i, j, o = t[a], t[(a + 1) % 3], t[(a + 2) % 3]
            u, v = pts[i] - pts[o], pts[j] - pts[o]
            cot = np.dot(u, v) / abs(_cross(u, v))
            K[i, j] -= cot / 2
            K[j, i] -= cot / 2
            K[i, i] += cot / 2
            K[j, j] += cot / 2
        for a in range(3):
            for b in range(3):
                M[t[a], t[b]] += area / 12 * (2 if a == b else 1)
    return M, K


def test_p1_matches_cotangent_assembly_and_integrates_exactly():
    pts, tris, boundary = pu2.jittered_mesh(5, seed=3)
    M, K = pu2.p1_mass_stiffness(pts, tris)
    Mb, Kb = _p1_brute(pts, tris)
    assert np.allclose(M.toarray(), Mb, rtol=1e-13, atol=1e-15)
    assert np.allclose(K.toarray(), Kb, rtol=1e-12, atol=1e-12)
    one = np.ones(len(pts))
    x, y = pts[:, 0], pts[:, 1]
    assert one @ M @ one == pytest.approx(1.0, rel=1e-13)  # area
    assert x @ M @ one == pytest.approx(0.5, rel=1e-13)  # ∫x
    assert x @ M @ y == pytest.approx(0.25, rel=1e-13)  # ∫xy (P1 × P1, exact)
    assert np.abs(K @ one).max() < 1e-12
    g = 0.4 * x - 1.1 * y
    assert g @ K @ g == pytest.approx(0.4 ** 2 + 1.1 ** 2, rel=1e-12)  # ∫|∇g|²
    assert boundary.sum() == 4 * 5
    assert np.allclose(pts[boundary] * 5, np.round(pts[boundary] * 5))  # boundary not moved


def test_fem_sequence_is_spd_with_positive_off_diagonals_and_restarts():
    sim = pu2.PseudoTransientFEM(6, ramps=2, tau_min=1e-4, tau_max=1e-1, growth=4.0)
    assert sim.per_ramp == 6 and sim.steps == 12
    A0 = sim.matrix(0).toarray()
    assert np.array_equal(A0, A0.T) and np.linalg.eigvalsh(A0)[0] > 0
    assert (A0 - np.diag(np.diag(A0))).max() > 0  # the mass matrix's positive couplings
    assert np.allclose(sim.matrix(5).toarray(), (sim.M + 0.1 * sim.K).toarray())
    assert np.allclose(sim.contexts(), np.log10(sim.tau * 36))
    seq = pu2.FEMSequence(6, 2, tau_min=1e-4, tau_max=1e-1, growth=4.0)
    u = np.random.default_rng(1).random(seq.n)
    A, b, x0, ctx = seq.system(seq.shared(3), u)
    assert x0 is u and np.allclose(b, sim.M @ u + sim.tau[3] * sim._loads[0])
    A, b, x0, ctx = seq.system(seq.shared(6), u)  # a new ramp: from zero, the second load
    assert not x0.any() and np.allclose(b, sim.tau[6] * sim._loads[1])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="pe must be"):
        pu2.convdiff_matrix(4, -1.0, 0.0)
    with pytest.raises(ValueError, match="box must be"):
        pu2.Inclusion3D(4, box=(0.7, 0.2))
    with pytest.raises(ValueError, match="no cell centre"):
        pu2.Inclusion3D(2, box=(0.3, 0.6))
    with pytest.raises(ValueError, match="jitter"):
        pu2.jittered_mesh(4, jitter=0.5)
    with pytest.raises(ValueError, match="growth"):
        pu2.PseudoTransientFEM(4, growth=1.0)
