"""The sixth set of unseen sequences (experiments/_problems_unseen6.py) against independent
references, and each through a Tuner on its true residual."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from experiments._problems_unseen import UNSEEN, make_unseen
from experiments._problems_unseen6 import (Const3D, Jump2D, Remesh2D, face_laplacian,
                                           jittered_points, p1_parts)
from experiments._unseen_study import SIZES
from experiments.precond_study import default_grid


def _spd(A):
    D = A.toarray()
    assert np.array_equal(D, D.T)
    return np.linalg.eigvalsh(D)


# -- the operators ------------------------------------------------------------------------------
def test_face_laplacian_node_by_node():
    rng = np.random.default_rng(1)
    shape = (3, 4, 2)
    faces = [rng.uniform(0.5, 2.0, size=tuple(s - (a == d) for a, s in enumerate(shape)))
             for d in range(3)]
    for dirichlet in (True, False):
        A = face_laplacian(shape, faces, dirichlet).toarray()
        n = int(np.prod(shape))
        ref = np.zeros((n, n))
        idx = np.arange(n).reshape(shape)
        for p in np.ndindex(*shape):
            i = idx[p]
            for d in range(3):
                for step in (-1, 1):
                    q = list(p)
                    q[d] += step
                    if 0 <= q[d] < shape[d]:
                        f = list(p)
                        f[d] = min(p[d], q[d])
                        w = faces[d][tuple(f)]
                        ref[i, idx[tuple(q)]] -= w
                        ref[i, i] += w
                    elif dirichlet:  # the nearest face's conductivity to a zero ghost
                        f = list(p)
                        f[d] = 0 if step < 0 else shape[d] - 2
                        ref[i, i] += faces[d][tuple(f)]
        np.testing.assert_allclose(A, ref, rtol=1e-14)


def test_const3d_is_one_spd_matrix_copied():
    sim = Const3D(5, steps=4)
    A0, A3 = sim.matrix(0), sim.matrix(3)
    assert A0 is not A3 and A0.data is not A3.data  # a fresh copy every step
    assert (A0 != A3).nnz == 0
    ev = _spd(A0)
    assert ev.min() > 1.0 - 1e-12  # I + r L with L positive definite
    # constant κ: the analytic spectrum of I + r L (7-point, Dirichlet)
    sim.kappa[:] = 1.0
    from experiments._problems_unseen6 import _harmonic_faces
    L = face_laplacian(sim.kappa.shape, _harmonic_faces(sim.kappa), True)
    m = sim.m
    lam1 = 2 - 2 * np.cos(np.arange(1, m + 1) * np.pi / (m + 1))
    ref = np.sort((lam1[:, None, None] + lam1[None, :, None] + lam1[None, None, :]).ravel())
    np.testing.assert_allclose(np.linalg.eigvalsh(L.toarray()), ref, atol=1e-12)


def test_p1_parts_exact_on_linear_functions():
    rng = np.random.default_rng(0)
    from scipy.spatial import Delaunay
    P = jittered_points(7, 0.35, rng)
    K, M = p1_parts(P, Delaunay(P).simplices)
    one = np.ones(P.shape[0])
    np.testing.assert_allclose(K @ one, 0.0, atol=1e-12)
    assert one @ M @ one == pytest.approx(1.0)  # the unit square's area
    for g in ([1.0, 0.0], [0.3, -2.0]):
        u = P @ np.array(g)  # ∫|∇u|² = |g|², ∫u² exactly (P1 holds it)
        assert u @ K @ u == pytest.approx(np.dot(g, g))
    x = P[:, 0]
    assert x @ M @ x == pytest.approx(1.0 / 3.0)  # ∫ x² over the unit square
    assert _spd(M).min() > 0


def test_remesh2d_changes_pattern_not_size():
    sim = Remesh2D(9, meshes=3, every=4)
    pats = []
    for k in range(sim.steps):
        A = sim.matrix(k)
        assert A.shape == (81, 81)
        pats.append((A.indptr.tobytes(), A.indices.tobytes()))
        if k % 4 == 0:
            assert _spd(A).min() > 0
    assert pats[0] == pats[3] and pats[4] == pats[7]
    assert pats[0] != pats[4] != pats[8]
    # the boundary points stay on the grid; the interior ones move
    assert np.array_equal(sim.points[0][:9], sim.points[1][:9])
    assert not np.array_equal(sim.points[0][10], sim.points[1][10])
    c = sim.contexts()
    assert c.min() == pytest.approx(-1.0) and c.max() == pytest.approx(1.0)


def test_jump2d_no_flow_and_scales():
    sim = Jump2D(6, cycles=2)
    T = sim.T.toarray()
    # no flow: the constants in the kernel
    np.testing.assert_allclose(T.sum(axis=1), 0.0, atol=1e-14 * np.abs(T).max())
    ev = np.linalg.eigvalsh(T)
    assert abs(ev[0]) < 1e-12 * ev[-1] and ev[1] > 1e-6 * ev[-1]  # one null direction
    assert sim.dt[0] == 1e-2 and sim.dt.max() == 1e8
    assert sim.steps == 2 * 35 and sim.dt[35] == 1e-2  # the rate change restarts the step
    # from about 10⁻⁴ I to T plus 10⁻¹⁷: every matrix SPD, the condition number spans decades
    conds = [np.linalg.cond(sim.matrix(k).toarray()) for k in (0, 34)]
    assert conds[0] < 10 and conds[1] > 1e6 * conds[0]
    q = sim.rhs(0, np.zeros(sim.n))
    assert q.sum() == 0.0 and q.max() == sim.rates[0]


def test_registered():
    for kind in ("const3d", "remesh2d", "jump2d"):
        assert kind in UNSEEN and kind in SIZES
        tiny = make_unseen(kind, 5 if kind == "const3d" else 8).tiny()
        assert tiny.T <= 8


# -- through a Tuner ----------------------------------------------------------------------------
def _run(seq, tuner, rtol=1e-8):
    st = seq.initial_state()
    infos = []
    for t in range(seq.T):
        A, b, x0, c = seq.system(seq.shared(t), st)
        r = tuner.solve(A, b, x0=x0, context=c)
        assert r.converged
        ref = spla.spsolve(sp.csc_matrix(A), b)
        assert np.linalg.norm(b - A @ r.x) <= 1.01 * rtol * np.linalg.norm(b)
        assert np.linalg.norm(r.x - ref) <= 1e-4 * np.linalg.norm(ref) + 1e-300
        infos.append(r.info)
        st = seq.advance(st, r.x)
    return infos


@pytest.mark.parametrize("kind,size", [("const3d", 5), ("remesh2d", 8), ("jump2d", 8)])
def test_through_the_learner(kind, size):
    seq = make_unseen(kind, size).tiny()
    grid = default_grid()
    _run(seq, bandit.Tuner(bandit.default_policy(None, grid, context_bounds=seq.bounds,
                                                 seed=0), cost="work"))


def test_remesh2d_kept_setup_rebuilt_on_each_new_pattern():
    from experiments._problems_unseen6 import RemeshSequence
    seq = RemeshSequence(8, 3, 3)  # three meshes of three steps
    for pc in ("ic0", "amg"):
        infos = _run(seq, bandit.Tuner(bandit.FixedArm(
            [{"method": "cg", "pc": pc, "reuse": 20}], arm=0), cost="work"))
        assert [bool(i.get("setup")) for i in infos[::3]] == [True] * 3
