"""The unseen study's fourth set of generators (experiments._problems_unseen4) against
independent references: the 5-point matrices against their analytic spectrum, the grid
transfer against NumPy's and scipy's linear interpolation, two steps of the refined heat
sequence against dense backward Euler, the upwind matrix against a node-by-node assembly
and its exactness on linear functions, the elasticity matrices against an element-by-element
assembly from the plane-strain stress–strain matrix by 3 × 3 Gauss, the rigid motions and the
exact energy of linear displacements; and each sequence through a Tuner, every solve checked
on its true residual."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.interpolate import RegularGridInterpolator

import bandit
from experiments import _problems_unseen4 as pu4
from experiments.precond_study import make_sequence


# -- refine2d ----------------------------------------------------------------------------------
@pytest.mark.parametrize("nx", [3, 7, 12])
def test_laplacian_2d_analytic_spectrum(nx):
    L = pu4.laplacian_2d(nx)
    m = nx - 1
    assert L.shape == (m * m, m * m) and L.has_sorted_indices
    k = np.arange(1, nx)
    lam1 = 2 - 2 * np.cos(k * np.pi / nx)
    ref = np.sort((lam1[:, None] + lam1[None, :]).ravel())
    assert np.allclose(np.linalg.eigvalsh(L.toarray()), ref)
    # node by node: (i, j) couples to its four neighbours inside the grid
    D = L.toarray()
    for i, j in [(0, 0), (m - 1, 0), (1, 2 % m), (m - 1, m - 1)]:
        row = np.zeros(m * m)
        row[j * m + i] = 4
        for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
            if 0 <= a < m and 0 <= b < m:
                row[b * m + a] = -1
        assert np.array_equal(D[j * m + i], row)


@pytest.mark.parametrize("old, new", [(2, 4), (5, 7), (51, 71), (141, 201), (7, 5)])
def test_prolongation_1d_is_numpy_linear_interpolation(old, new):
    rng = np.random.default_rng(old * new)
    v = rng.standard_normal(old - 1)
    xo = np.arange(old + 1) / old
    xn = np.arange(1, new) / new
    ref = np.interp(xn, xo, np.concatenate([[0.0], v, [0.0]]))
    assert np.allclose(pu4.prolongation_1d(old, new) @ v, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("old, new", [(5, 7), (51, 71), (101, 141)])
def test_prolongation_2d_is_scipy_bilinear_interpolation(old, new):
    rng = np.random.default_rng(old)
    U = rng.standard_normal((old - 1, old - 1))  # [y, x]
    pad = np.zeros((old + 1, old + 1))
    pad[1:-1, 1:-1] = U
    xo = np.arange(old + 1) / old
    f = RegularGridInterpolator((xo, xo), pad, method="linear")
    xn = np.arange(1, new) / new
    Y, X = np.meshgrid(xn, xn, indexing="ij")
    ref = f(np.stack([Y.ravel(), X.ravel()], axis=1))
    assert np.allclose(pu4.prolongation_2d(old, new) @ U.ravel(), ref, rtol=0, atol=1e-12)


def test_refine_heat_levels_contexts_and_two_steps_of_dense_backward_euler():
    sim = pu4.RefineHeat2D((5, 9), per_level=2, dt=1e-2)
    assert sim.steps == 4 and sim.sizes.tolist() == [16, 16, 64, 64] and sim.n == 64
    assert np.allclose(sim.contexts(), np.log10([16, 16, 64, 64]))
    u = sim.initial()
    for k in range(sim.steps):
        nx = sim.levels[sim.level[k]]
        m = nx - 1
        T = 2 * np.eye(m) - np.eye(m, k=1) - np.eye(m, k=-1)
        Ld = np.kron(np.eye(m), T) + np.kron(T, np.eye(m))
        Ad = np.eye(m * m) + sim.dt * nx ** 2 * Ld
        A = sim.matrix(k)
        assert np.allclose(A.toarray(), Ad, rtol=1e-14, atol=0)
        if k == 2:  # the first step of the finer grid: the state interpolated
            assert u.size == 16
            carried = sim.carried(k, u)
            assert np.allclose(carried, pu4.prolongation_2d(5, 9) @ u)
            u = carried
        # the heater (a Gaussian, amplitude 100) peaks near its centre at t_{k+1}
        f = sim.forcing(k)
        a = 2 * math.pi * sim.laps * (k + 1) / sim.steps
        c = np.array([0.5 + 0.25 * math.cos(a), 0.5 + 0.25 * math.sin(a)])
        x = np.arange(1, nx) / nx
        X, Y = np.meshgrid(x, x, indexing="xy")
        g = 100 * np.exp(-((X - c[0]) ** 2 + (Y - c[1]) ** 2) / (2 * 0.05 ** 2))
        assert np.allclose(f, g.ravel())
        u = np.linalg.solve(Ad, u + sim.dt * f)
    with pytest.raises(ValueError, match="does not fit step 2"):
        sim.carried(2, np.zeros(9))


def test_refine_sequence_carries_each_state_off_the_clock():
    seq = make_sequence("refine2d", 24)
    assert seq.T == 120 and seq.n == 40_000
    assert seq.bounds == pytest.approx((math.log10(2500), math.log10(40_000)))
    sh = seq.shared(24)  # the second grid's first step
    u = np.linspace(0, 1, 2500)
    A, b, x0, ctx = seq.system(sh, u)
    assert A.shape == (4900, 4900) and x0.shape == (4900,) and ctx == pytest.approx(
        math.log10(4900))
    assert np.allclose(x0, pu4.prolongation_2d(51, 71) @ u)
    assert np.allclose(b, x0 + seq.sim.dt * seq.sim.forcing(24))


# -- rotconv2d ---------------------------------------------------------------------------------
def _rotconv_brute(nx, pe):
    """Node by node: ``4 u_P − Σ u_nb`` plus ``Pe h (w_x (u_P − u_W))`` where ``w_x > 0`` and
    ``Pe h (w_x (u_E − u_P))`` where ``w_x < 0`` (the same in y), times 1 (the matrix is
    ``h²`` times the operator)."""
    m, h = nx - 1, 1.0 / nx
    A = np.zeros((m * m, m * m))
    for j in range(m):
        for i in range(m):
            p = j * m + i
            x, y = (i + 1) * h, (j + 1) * h
            xh, yh = 2 * x - 1, 2 * y - 1
            wx, wy = 2 * yh * (1 - xh * xh), -2 * xh * (1 - yh * yh)
            A[p, p] += 4
            nb = {(-1, 0): -1.0, (1, 0): -1.0, (0, -1): -1.0, (0, 1): -1.0}
            a, b = pe * h * wx, pe * h * wy
            if a > 0:
                A[p, p] += a
                nb[(-1, 0)] -= a
            else:
                A[p, p] -= a
                nb[(1, 0)] += a
            if b > 0:
                A[p, p] += b
                nb[(0, -1)] -= b
            else:
                A[p, p] -= b
                nb[(0, 1)] += b
            for (di, dj), v in nb.items():
                if 0 <= i + di < m and 0 <= j + dj < m:
                    A[p, (j + dj) * m + i + di] += v
    return A


@pytest.mark.parametrize("pe", [0.0, 1.0, 37.0, 1000.0])
def test_rotconv_matrix_node_by_node(pe):
    A = pu4.rotconv_matrix(7, pe)
    assert A.has_sorted_indices
    assert np.allclose(A.toarray(), _rotconv_brute(7, pe), rtol=1e-14, atol=1e-14)


def test_rotconv_exact_on_linear_functions_away_from_the_wall():
    """Upwind differences of a linear function are exact: ``A g = h² Pe w·∇g`` where no
    neighbour is on the wall."""
    nx, pe, (al, be) = 12, 50.0, (0.7, -1.3)
    m, h = nx - 1, 1.0 / nx
    x = np.arange(1, nx) * h
    X, Y = np.meshgrid(x, x, indexing="xy")
    g = (al * X + be * Y).ravel()
    wx, wy = pu4.double_glazing_wind(X, Y)
    ref = (h * h * pe * (wx * al + wy * be)).ravel()
    inner = np.zeros((m, m), dtype=bool)
    inner[1:-1, 1:-1] = True
    out = pu4.rotconv_matrix(nx, pe) @ g
    assert np.allclose(out[inner.ravel()], ref[inner.ravel()], rtol=1e-12, atol=1e-13)


def test_rotconv_is_an_m_matrix_gauss_seidel_converges_and_no_diagonal_symmetrizes_it():
    A = pu4.rotconv_matrix(12, 1000.0)
    D = A.toarray()
    off = D - np.diag(np.diag(D))
    assert (off <= 0).all() and (np.diag(D) >= -off.sum(axis=1) - 1e-12).all()
    # Gauss–Seidel's iteration matrix (dense): spectral radius below 1
    L = np.tril(D)
    rho = max(abs(np.linalg.eigvals(np.linalg.solve(L, L - D))))
    assert rho < 1
    # round a cell the ratios a_ji / a_ij do not multiply to 1 (they do for a constant wind)
    m = 11
    i, j = 2, 7
    cyc = [j * m + i, j * m + i + 1, (j + 1) * m + i + 1, (j + 1) * m + i]
    prod = 1.0
    for a, b in zip(cyc, cyc[1:] + cyc[:1]):
        prod *= D[b, a] / D[a, b]
    assert abs(math.log(prod)) > 1e-3
    # so SOR's theory prior, which covers the diagonally symmetrizable, has none for it
    arms = bandit.DEFAULT_ARMS
    assert bandit.theory_costs(A, arms, "sor") is None
    from experiments._problems_unseen2 import convdiff_matrix

    assert bandit.theory_costs(convdiff_matrix(12, 1000.0, 2 * math.pi / 3), arms,
                               "sor") is not None


def test_rotconv_contexts_and_sequence():
    sim = pu4.RotConvSweep2D(6, sweeps=2, per_sweep=6)
    assert np.allclose(sim.contexts(), [0, 0.75, 2.25, 3, 2.25, 0.75] * 2)
    seq = make_sequence("rotconv2d", 6)
    assert seq.solver == "sor" and seq.T == 120 and seq.bounds == (0.0, 3.0)


# -- elast2d -----------------------------------------------------------------------------------
def _plane_strain_D(E, nu):
    c = E / ((1 + nu) * (1 - 2 * nu))
    return c * np.array([[1 - nu, nu, 0], [nu, 1 - nu, 0], [0, 0, (1 - 2 * nu) / 2]])


def _elasticity_brute(nx, E, nu, clamp=True):
    """Element by element, bilinear shape functions on the reference square [−1, 1]²,
    ``∫ Bᵀ D B`` by 3 × 3 Gauss, the element's Jacobian ``h/2``; dofs ``2·node + (0, 1)``,
    nodes x fastest; the clamped edge's rows and columns removed."""
    N, h = nx + 1, 1.0 / nx
    D = _plane_strain_D(E, nu)
    K = np.zeros((2 * N * N, 2 * N * N))
    xi = np.array([-math.sqrt(0.6), 0.0, math.sqrt(0.6)])
    wt = np.array([5.0, 8.0, 5.0]) / 9.0
    loc = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    for ey in range(nx):
        for ex in range(nx):
            nodes = [ey * N + ex, ey * N + ex + 1, (ey + 1) * N + ex + 1, (ey + 1) * N + ex]
            Ke = np.zeros((8, 8))
            for a, wa in zip(xi, wt):
                for b, wb in zip(xi, wt):
                    B = np.zeros((3, 8))
                    for q, (sx, sy) in enumerate(loc):
                        dx = sx * (1 + sy * b) / 4 * (2 / h)
                        dy = sy * (1 + sx * a) / 4 * (2 / h)
                        B[:, 2 * q] = [dx, 0, dy]
                        B[:, 2 * q + 1] = [0, dy, dx]
                    Ke += wa * wb * B.T @ D @ B * (h / 2) ** 2
            dofs = [d for nd in nodes for d in (2 * nd, 2 * nd + 1)]
            K[np.ix_(dofs, dofs)] += Ke
    if clamp:
        keep = np.ones(2 * N * N, dtype=bool)
        left = np.arange(N) * N
        keep[2 * left] = keep[2 * left + 1] = False
        K = K[np.ix_(keep, keep)]
    return K


@pytest.mark.parametrize("nu", [0.0, 0.3, 0.49])
@pytest.mark.parametrize("clamp", [True, False])
def test_elasticity_matches_element_by_element_assembly(nu, clamp):
    nx = 3
    P, dl, dm = pu4.q1_elasticity_parts(nx, clamp_left=clamp)
    lam, mu = pu4.lame(nu, 1.0)
    A = P.copy()
    A.data = lam * dl + mu * dm
    assert A.has_sorted_indices
    assert np.allclose(A.toarray(), _elasticity_brute(nx, 1.0, nu, clamp), rtol=1e-12,
                       atol=1e-12)


def test_lame_parameters():
    lam, mu = pu4.lame(0.3, 2.0)
    assert mu == pytest.approx(2.0 / 2.6) and lam == pytest.approx(0.6 / (1.3 * 0.4))
    # plane strain: D's entries from λ, μ
    assert np.allclose(_plane_strain_D(2.0, 0.3)[:2, :2],
                       [[lam + 2 * mu, lam], [lam, lam + 2 * mu]])
    for bad in (0.5, -1.0, float("nan")):
        with pytest.raises(ValueError, match="nu must be in"):
            pu4.lame(bad)


def test_elasticity_rigid_motions_and_the_energy_of_linear_displacements():
    nx, nu = 4, 0.35
    lam, mu = pu4.lame(nu)
    P, dl, dm = pu4.q1_elasticity_parts(nx, clamp_left=False)
    A = P.copy()
    A.data = lam * dl + mu * dm
    N = nx + 1
    x = np.tile(np.arange(N) / nx, N)
    y = np.repeat(np.arange(N) / nx, N)

    def field(u, v):
        z = np.empty(2 * N * N)
        z[0::2], z[1::2] = u, v
        return z

    for z in (field(1, 0), field(0, 1), field(-y, x)):  # translations, rotation
        assert np.abs(A @ z).max() < 1e-12
    ev = np.linalg.eigvalsh(A.toarray())
    assert np.sum(ev < 1e-10) == 3 and ev.min() > -1e-12
    # u = (a x + b y, c x + d y): ε = [[a, (b + c)/2], [(b + c)/2, d]], energy over the
    # unit square λ (tr ε)² + 2 μ ε:ε
    a, b, c, d = 0.3, -0.7, 0.2, 1.1
    z = field(a * x + b * y, c * x + d * y)
    e = (b + c) / 2
    exact = lam * (a + d) ** 2 + 2 * mu * (a * a + d * d + 2 * e * e)
    assert z @ (A @ z) == pytest.approx(exact, rel=1e-12)


def test_elasticity_clamped_is_spd_and_worse_conditioned_towards_incompressibility():
    sim = pu4.Elasticity2D(5, sweeps=1, per_sweep=8)
    assert sim.n == 2 * 5 * 6
    nus = sim.contexts()
    assert nus[0] == pytest.approx(0.3) and nus[4] == pytest.approx(0.49)
    assert np.allclose(1 - 2 * nus, 0.4 * 0.05 ** (0.5 * (1 - np.cos(2 * np.pi * np.arange(8)
                                                                        / 8))))
    conds = []
    for k in (0, 4):
        A = sim.matrix(k).toarray()
        assert np.array_equal(A, A.T)
        ev = np.linalg.eigvalsh(A)
        assert ev.min() > 0
        conds.append(ev.max() / ev.min())
    assert conds[1] > 5 * conds[0]
    # the load: ∫(0, −1)·φ over the nodes left, 1 − h/2 (the clamped edge's share removed)
    assert np.all(sim.b[0::2] == 0) and sim.b.sum() == pytest.approx(-(1 - 0.5 / 5))


# -- each sequence through a Tuner (a new size and pattern mid-run; the SOR learner) -------------
def _run(seq, tuner, steps=None):
    state = seq.initial_state()
    out = []
    for t in range(seq.T if steps is None else steps):
        A, b, x0, ctx = seq.system(seq.shared(t), state)
        res = tuner.solve(A, b, x0=x0, context=ctx)
        r = np.linalg.norm(b - A @ res.x) / np.linalg.norm(b)
        out.append((res.converged, r, A.shape[0]))
        state = seq.advance(state, res.x)
    return out


@pytest.mark.parametrize("arm", ["learner", 12, 10])
def test_refine_through_a_tuner_every_size_solved(arm):
    """The default configuration learner, and AMG with a set-up kept for 20 solves (a
    hierarchy of the old size must not be reused) and IC(0)-CG, through the grid changes."""
    seq = pu4.RefineSequence(3, (9, 13, 17))
    from experiments.precond_study import OMEGAS, default_grid

    grid = default_grid(OMEGAS)
    policy = (bandit.default_policy(None, grid, context_bounds=seq.bounds, seed=0) if arm ==
              "learner" else bandit.FixedArm(grid, arm=arm))
    out = _run(seq, bandit.Tuner(policy, rtol=1e-8))
    assert [n for _, _, n in out] == [64] * 3 + [144] * 3 + [256] * 3
    assert all(c and r <= 1e-8 * (1 + 1e-6) for c, r, _ in out), out


def test_rotconv_through_the_default_sor_tuner():
    seq = pu4.RotConvSequence(10, 1, 8)
    tuner = bandit.Tuner(bandit.default_policy("sor", bandit.DEFAULT_ARMS,
                                               context_bounds=seq.bounds, seed=0),
                         solver="sor", rtol=1e-8, maxiter=50_000)
    out = _run(seq, tuner)
    assert all(c and r <= 1e-8 * (1 + 1e-6) for c, r, _ in out), out


def test_elasticity_through_the_default_configuration_tuner():
    seq = pu4.ElasticitySequence(6, 1, 6)
    from experiments.precond_study import OMEGAS, default_grid

    tuner = bandit.Tuner(bandit.default_policy(None, default_grid(OMEGAS),
                                               context_bounds=seq.bounds,
                                               seed=0), rtol=1e-8)
    out = _run(seq, tuner)
    assert all(c and r <= 1e-8 * (1 + 1e-6) for c, r, _ in out), out


# -- each through the study end to end at a tiny size ------------------------------------------
@pytest.mark.parametrize("kind, size", [("refine2d", 2), ("rotconv2d", 6), ("elast2d", 3)])
def test_new_sequences_run_through_the_study_at_a_tiny_size(kind, size, tmp_path, capsys,
                                                            monkeypatch):
    """Every fixed configuration (every fixed ω for the SOR one) and the default learners, one
    round, written and read back; refine2d on three small grids (its sizes change mid-run)."""
    import json

    from experiments._unseen_study import main

    if kind == "refine2d":
        monkeypatch.setitem(pu4.KINDS, "refine2d", (
            "per_level", lambda per_level: pu4.RefineSequence(per_level, (9, 13, 17))))
    assert main(["--sequences", kind, "--size", str(size), "--seeds", "1", "--out",
                 str(tmp_path)]) == 0
    first = capsys.readouterr().out
    summary = json.loads((tmp_path / kind / "summary.json").read_text())
    (name, seq), = summary["sequences"].items()
    assert all(m["all_converged"] for m in seq["methods"].values()), seq["methods"]
    if kind == "rotconv2d":
        assert len(seq["methods"]) == len(bandit.DEFAULT_ARMS) + 1
        assert seq["best_fixed"].startswith("sor ω=") and "Gauss–Seidel" in first
    else:
        assert "omega_learner" in seq["methods"] and "cg" in seq["methods"]
    if kind == "refine2d":
        assert seq["n"] == 256 and seq["T"] == 6  # the largest size
    assert main(["--read", str(tmp_path / kind)]) == 0
    key = [line for line in first.splitlines() if line.startswith("best fixed:")]
    assert key and key[0] in capsys.readouterr().out
