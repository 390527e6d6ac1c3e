"""The unseen study's fifth set of generators (experiments._problems_unseen5) against
independent references: the Bratu Jacobian against finite differences of the residual and
against a dense node-by-node assembly, the Newton iterates against scipy's own root finder,
the fold against the known value of the continuous problem and against the Jacobian's least
eigenvalue (→ 0); the mixed-units matrix against ``D A D`` built densely and its solution
against the physical system's; the clamped 13-point biharmonic against a node-by-node stencil
with mirrored ghosts, the simply supported one (``L²``) against its analytic spectrum, and
both against the fourth derivative of polynomials that meet the boundary conditions; and
each sequence through a Tuner, every solve checked on its true residual, and end to end
through the study at a tiny size."""
import json
import math

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp

import bandit
from experiments import _problems_unseen5 as pu5
from experiments.precond_study import OMEGAS, default_grid, make_sequence


def _lap_dense(nx):
    m = nx - 1
    D = np.zeros((m * m, m * m))
    for j in range(m):
        for i in range(m):
            p = j * m + i
            D[p, p] = 4
            for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                if 0 <= a < m and 0 <= b < m:
                    D[p, b * m + a] = -1
    return D


# -- bratu2d -----------------------------------------------------------------------------------
@pytest.mark.parametrize("nx", [3, 6, 9])
def test_laplacian_node_by_node_and_analytic_spectrum(nx):
    L = pu5.laplacian_2d(nx)
    assert np.array_equal(L.toarray(), _lap_dense(nx)) and L.has_sorted_indices
    lam1 = 2 - 2 * np.cos(np.arange(1, nx) * np.pi / nx)
    assert np.allclose(np.linalg.eigvalsh(L.toarray()),
                       np.sort((lam1[:, None] + lam1[None, :]).ravel()))


def test_bratu_jacobian_is_the_residuals_derivative():
    nx, lam = 7, 5.0
    L, h = pu5.laplacian_2d(nx), 1.0 / nx
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 1, L.shape[0])
    J = pu5.bratu_jacobian(L, u, lam, h).toarray()
    ref = _lap_dense(nx) - np.diag(h * h * lam * np.exp(u))
    assert np.allclose(J, ref, rtol=0, atol=1e-15)
    eps = 1e-6  # central differences of the residual, column by column
    fd = np.stack([(pu5.bratu_residual(L, u + eps * e, lam, h) -
                    pu5.bratu_residual(L, u - eps * e, lam, h)) / (2 * eps)
                   for e in np.eye(L.shape[0])], axis=1)
    assert np.allclose(J, fd, atol=1e-8)


def test_bratu_newton_solutions_are_scipys_roots_and_every_system_is_recorded():
    sim = pu5.Bratu2D(8, up=4, down=2, s_max=3.0)
    L, h = sim.L, sim.h
    assert sim.steps == len(sim.systems) == sim.steps_per_load.sum() == sim.load_of.size
    for j in (0, 3, len(sim.loads) - 1):
        lam = float(sim.loads[j])
        root = so.root(lambda v: pu5.bratu_residual(L, v, lam, h),
                       sim.solutions[j] * 0.9, method="hybr", tol=1e-13)
        assert root.success and np.allclose(root.x, sim.solutions[j], atol=1e-8)
    # every system is J(u_k) δ = −h²F(u_k) along the recorded iterates of its load
    u = np.zeros(sim.n)
    for k, (J, b) in enumerate(sim.systems):
        lam = float(sim.contexts()[k])
        assert np.allclose(J.toarray(), pu5.bratu_jacobian(L, u, lam, h).toarray())
        assert np.allclose(b, -pu5.bratu_residual(L, u, lam, h))
        u = u + np.linalg.solve(J.toarray(), b)
        if k + 1 == sim.steps or sim.load_of[k + 1] != sim.load_of[k]:
            assert np.allclose(u, sim.solutions[sim.load_of[k]], atol=1e-10)
    # on the lower branch every Jacobian is SPD
    assert min(np.linalg.eigvalsh(J.toarray()).min() for J, _ in sim.systems) > 0


def test_bratu_fold_approaches_the_continuous_value_and_the_jacobian_turns_singular():
    folds = [pu5.bratu_fold(nx) for nx in (8, 16, 32)]
    # the continuous problem's fold is 6.80812; the 5-point scheme's converges to it as h²
    errs = [abs(f - 6.80812) for f in folds]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 2e-3
    assert errs[1] / errs[2] == pytest.approx(4, rel=0.25)
    # the least eigenvalue of the converged Jacobian → 0 like sqrt(λ_f − λ)
    sim = pu5.Bratu2D(16, up=6, down=1, s_max=6.0)
    least = []
    for j, u in enumerate(sim.solutions[:6]):
        J = pu5.bratu_jacobian(sim.L, u, float(sim.loads[j]), sim.h).toarray()
        least.append(np.linalg.eigvalsh(J)[0])
    gap = sim.fold - sim.loads[:6]
    slope = np.polyfit(np.log10(gap[2:]), np.log10(least[2:]), 1)[0]
    assert np.all(np.diff(least) < 0) and slope == pytest.approx(0.5, abs=0.05)
    assert least[-1] < 1e-2 * least[0]


def test_bratu_loads_and_newton_steps_vary():
    loads = pu5.bratu_loads(2.0, 20, 6, 6.0)
    assert loads.size == 26 and loads[19] == pytest.approx(2.0 * (1 - 1e-6))
    assert np.all(np.diff(loads[:20]) > 0) and np.all(np.diff(loads[19:]) < 0)
    assert loads[0] == loads[-1] == pytest.approx(2.0 * (1 - 10 ** -0.3))
    sim = pu5.Bratu2D(16)
    assert sim.steps_per_load.min() < sim.steps_per_load.max()


# -- scaled2d ----------------------------------------------------------------------------------
def test_unit_strips_and_the_scaled_matrix_is_d_a_d():
    nx = 8
    d = pu5.unit_strips(nx)
    x = np.tile(np.arange(1, nx) / nx, nx - 1)
    ref = np.where(x < 0.25, 1e-6, np.where(x < 0.5, 1e-2, np.where(x < 0.75, 1e2, 1e6)))
    assert np.array_equal(d, ref)
    sim = pu5.ScaledHeat2D(nx)
    for k in (0, sim.steps // 4):
        P = np.eye(sim.n) + sim.r[k] * _lap_dense(nx)
        assert np.allclose(sim.physical_matrix(k).toarray(), P, rtol=1e-15, atol=0)
        A = sim.matrix(k)
        assert A.has_sorted_indices
        assert np.allclose(A.toarray(), np.diag(d) @ P @ np.diag(d), rtol=1e-14, atol=0)
        assert A.diagonal().min() == pytest.approx(1e-12 * P[0, 0])
        assert A.diagonal().max() == pytest.approx(1e12 * P[0, 0])


def test_scaled_step_is_the_physical_backward_euler_step_in_units():
    """``D P D y = D r`` with ``u = D y`` is ``P u = r``: checked entry by entry (a dense LU of
    the scaled matrix itself loses 4 digits here, partial pivoting being scale-dependent)."""
    sim = pu5.ScaledHeat2D(8, cycles=1)
    y = np.random.default_rng(1).uniform(0, 1, sim.n) / sim.d  # a state u = D y
    k = 5
    A, b = sim.matrix(k).toarray(), sim.rhs(k, y)
    P = sim.physical_matrix(k).toarray()
    r = sim.d * y + sim.dt[k] * pu5._heater(8, sim.t[k])
    assert np.allclose(A / np.outer(sim.d, sim.d), P, rtol=1e-15, atol=0)
    assert np.allclose(b / sim.d, r, rtol=1e-15, atol=0)
    u = np.linalg.solve(P, r)
    assert np.allclose(A @ (u / sim.d), b, rtol=1e-12, atol=1e-12 * np.abs(b).max())
    # the schedule: r from 1e-2 to 1e2 and back, twice
    assert sim.r[0] == pytest.approx(1e-2) and sim.r.max() == pytest.approx(1e2)
    assert np.allclose(sim.dt * 64, sim.r)


# -- biharm2d ----------------------------------------------------------------------------------
def _biharm_dense(nx):
    """The 13-point stencil node by node; ghost values across the wall mirrored (clamped)."""
    m = nx - 1
    D = np.zeros((m * m, m * m))
    stencil = {(0, 0): 20.0}
    for a, b in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        stencil[(a, b)] = -8.0
        stencil[(2 * a, 2 * b)] = 1.0
    for a in (1, -1):
        for b in (1, -1):
            stencil[(a, b)] = 2.0

    def fold(c):  # walls at 0 and m + 1; the ghost −1 mirrors node 1, m + 2 mirrors m
        if c == -1:
            return 1
        if c == m + 2:
            return m
        return c

    for j in range(1, m + 1):
        for i in range(1, m + 1):
            p = (j - 1) * m + (i - 1)
            for (a, b), w in stencil.items():
                ii, jj = fold(i + a), fold(j + b)
                if 1 <= ii <= m and 1 <= jj <= m:
                    D[p, (jj - 1) * m + (ii - 1)] += w
    return D


@pytest.mark.parametrize("nx", [4, 5, 9])
def test_biharmonic_is_the_13_point_clamped_stencil(nx):
    B = pu5.biharmonic_2d(nx)
    assert B.has_sorted_indices and np.array_equal(B.toarray(), _biharm_dense(nx))
    assert (B.data != 0).all()
    assert np.allclose(B.toarray(), B.toarray().T) and np.linalg.eigvalsh(B.toarray())[0] > 0
    assert (B.data > 0).sum() > B.shape[0]  # positive off-diagonal entries: no M-matrix


def test_biharmonic_without_the_clamp_is_l_squared_with_its_analytic_spectrum():
    nx = 9
    B = pu5.biharmonic_2d(nx).toarray()
    m = nx - 1
    E = np.zeros(m)
    E[[0, -1]] = 2.0
    Id = np.eye(m)
    clamp = np.kron(Id, np.diag(E)) + np.kron(np.diag(E), Id)
    lam1 = 2 - 2 * np.cos(np.arange(1, nx) * np.pi / nx)
    ref = np.sort(((lam1[:, None] + lam1[None, :]) ** 2).ravel())
    assert np.allclose(np.linalg.eigvalsh(B - clamp), ref)
    # clamping stiffens: every eigenvalue at least the simply supported one (Weyl)
    assert np.all(np.linalg.eigvalsh(B) >= ref - 1e-9)


def test_biharmonic_reproduces_the_fourth_derivative_of_a_clamped_polynomial():
    """u = x²(1 − x)² y²(1 − y)² meets u = ∂u/∂n = 0; the 13-point stencil is exact for
    polynomials of degree ≤ 5 in each direction at nodes two away from the wall, and h⁴Δ²u
    converges as h² overall in the interior."""
    def u(x, y):
        return (x * (1 - x)) ** 2 * (y * (1 - y)) ** 2

    def d4(x, y):  # Δ²u = u_xxxx + 2 u_xxyy + u_yyyy
        p, q = (x * (1 - x)) ** 2, (y * (1 - y)) ** 2
        p2, q2 = 2 - 12 * x + 12 * x ** 2, 2 - 12 * y + 12 * y ** 2
        return 24 * q + 2 * p2 * q2 + 24 * p

    errs = []
    for nx in (16, 32):
        h = 1.0 / nx
        x = np.arange(1, nx) * h
        X, Y = np.meshgrid(x, x, indexing="xy")
        got = (pu5.biharmonic_2d(nx) @ u(X, Y).ravel()).reshape(X.shape) / h ** 4
        ref = d4(X, Y)
        inner = (slice(2, -2), slice(2, -2))
        assert np.allclose(got[inner], ref[inner], atol=1e-6 * np.abs(ref).max() + 0.05 * h ** 2 * 1e3)
        errs.append(np.abs(got[inner] - ref[inner]).max())
    assert errs[1] < errs[0] / 3


def test_biharm_sequence_steps_and_condition_growing_like_h_to_the_minus_4():
    sim = pu5.Biharm2D(8)
    assert sim.r[0] == pytest.approx(1e-2) and sim.r.max() == pytest.approx(1e4)
    k = 3
    A = sim.matrix(k).toarray()
    assert np.allclose(A, np.eye(sim.n) + sim.r[k] * _biharm_dense(8))
    u = np.random.default_rng(2).uniform(size=sim.n)
    seq = pu5.BiharmSequence(8)
    A2, b, x0, _ = seq.system(seq.shared(k), u)
    assert np.allclose(A2.toarray(), A) and x0 is u
    assert np.allclose(b, u + sim.dt[k] * sim.forcing(k))
    # κ(B) ~ h⁻⁴: doubling nx multiplies it by about 16
    k8, k16 = (np.linalg.cond(pu5.biharmonic_2d(n).toarray()) for n in (8, 16))
    assert 12 < k16 / k8 < 17


# -- each sequence through a Tuner, every solve checked on its true residual ---------------------
def _run(seq, tuner, steps=None):
    state = seq.initial_state()
    out = []
    for t in range(seq.T if steps is None else steps):
        A, b, x0, ctx = seq.system(seq.shared(t), state)
        res = tuner.solve(A, b, x0=x0, context=ctx)
        r = np.linalg.norm(b - A @ res.x) / np.linalg.norm(b)
        out.append((res.converged, r))
        state = seq.advance(state, res.x)
    return out


@pytest.mark.parametrize("kind, size", [("bratu2d", 10), ("scaled2d", 10), ("biharm2d", 10)])
@pytest.mark.parametrize("arm", ["learner", "omega", 8, 10])
def test_each_sequence_through_a_tuner(kind, size, arm):
    seq = make_sequence(kind, size)
    grid = default_grid(OMEGAS)
    if arm == "learner":
        policy = bandit.default_policy(None, grid, context_bounds=seq.bounds, seed=0)
    elif arm == "omega":
        policy = bandit.default_policy("ssor_pcg", OMEGAS, context_bounds=seq.bounds, seed=0)
    else:
        policy = bandit.FixedArm(grid, arm=arm)
    tuner = bandit.Tuner(policy, rtol=1e-8, **({"solver": "ssor_pcg"} if arm == "omega"
                                                else {}))
    out = _run(seq, tuner, steps=40)
    assert all(c and r <= 1e-8 * (1 + 1e-6) for c, r in out), out


# -- each through the study end to end at a tiny size ------------------------------------------
@pytest.mark.parametrize("kind, size", [("bratu2d", 6), ("scaled2d", 6), ("biharm2d", 6)])
def test_new_sequences_run_through_the_study_at_a_tiny_size(kind, size, tmp_path, capsys):
    from experiments._unseen_study import SIZES, main

    assert SIZES[kind] in (64, 100)
    assert main(["--sequences", kind, "--size", str(size), "--seeds", "1", "--out",
                 str(tmp_path)]) == 0
    first = capsys.readouterr().out
    summary = json.loads((tmp_path / kind / "summary.json").read_text())
    (name, seq), = summary["sequences"].items()
    assert all(m["all_converged"] for m in seq["methods"].values()
               if not m.get("lower_bound")), seq["methods"]
    assert "omega_learner" in seq["methods"] and "cg" in seq["methods"]
    assert main(["--read", str(tmp_path / kind)]) == 0
    key = [line for line in first.splitlines() if line.startswith("best fixed:")]
    assert key and key[0] in capsys.readouterr().out
