"""The unseen study's third set of generators (experiments._problems_unseen3) against
independent references: a Laplacian built edge by edge and scipy's csgraph Laplacian, the
zero eigenvalues of a graph Laplacian counted by its connected components, finite volumes
assembled cell by cell, trilinear elements assembled element by element by Gauss quadrature,
and the analytic spectrum of the Q1 matrix at a constant coefficient."""
import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse import csgraph

from experiments import _problems_unseen3 as pu3
from experiments.precond_study import make_sequence


# -- plgraph -----------------------------------------------------------------------------------
def test_chung_lu_laplacian_matches_edge_by_edge_and_csgraph():
    L, edges = pu3.chung_lu_laplacian(300, seed=3)
    n = 300
    assert L.has_sorted_indices and L.shape == (n, n)
    assert np.all(edges[:, 0] < edges[:, 1])  # no self-loop, each edge once
    assert len({tuple(e) for e in edges.tolist()}) == len(edges)
    W = np.zeros((n, n))
    for i, j in edges:
        W[i, j] = W[j, i] = 1.0
    ref = np.diag(W.sum(axis=1)) - W
    assert np.array_equal(L.toarray(), ref)
    assert np.array_equal(L.toarray(), csgraph.laplacian(W))
    assert np.all(L.diagonal() >= 0) and L.nnz == n + 2 * len(edges)  # every diagonal stored


def test_chung_lu_degrees_follow_the_weights():
    """Each of the ``D = n·d/2`` draws picks the pair {i, j} with probability ``2 p_i p_j``,
    so node i's expected degree (repeats dropped) is ``Σ_j 1 − (1 − 2 p_i p_j)^D``: the hubs'
    realised degrees are within 4 standard deviations of it, and the tail is heavy."""
    n, d, gamma = 20_000, 6.0, 2.5
    L, edges = pu3.chung_lu_laplacian(n, d, gamma, seed=0)
    deg = L.diagonal()
    w = (np.arange(n) + 1.0) ** (-1 / (gamma - 1))
    p = w / w.sum()
    draws = n * d / 2
    for i in range(5):
        q = 2 * p[i] * np.delete(p, i)
        expected = np.sum(1 - (1 - q) ** draws)
        assert abs(deg[i] - expected) < 4 * math.sqrt(expected), (i, deg[i], expected)
    assert 5.5 < deg.mean() < 6.0 and deg.max() > 150 * deg.mean()


def test_graph_path_spectrum_and_contexts():
    """Smallest eigenvalue of L + μI is μ, as many times as the graph has components."""
    sim = pu3.GraphPath(150, steps=5, mu_max=10.0, mu_min=1e-3)
    assert np.allclose(sim.contexts(), [1, 0, -1, -2, -3])
    comps, _ = csgraph.connected_components(sim.L, directed=False)
    for k in (0, 4):
        mu = 10.0 ** sim.contexts()[k]
        A = sim.matrix(k).toarray()
        assert np.allclose(A, sim.L.toarray() + mu * np.eye(150))
        ev = np.linalg.eigvalsh(A)
        assert np.sum(np.abs(ev - mu) < 1e-9 * max(1, mu)) == comps
        assert ev.min() > 0
    assert np.array_equal(sim.L.toarray(), pu3.GraphPath(150, steps=5).L.toarray())  # fixed


def test_graph_path_sequence_warm_starts_from_own_state():
    seq = make_sequence("plgraph", 200)
    assert seq.T == 120 and seq.bounds == (-4.0, 2.0)
    A, b, ctx = seq.shared(3)
    mu = 10.0 ** ctx
    assert np.allclose(b, mu * seq.sim.y)
    u = np.arange(200.0)
    A2, b2, x0, ctx2 = seq.system((A, b, ctx), u)
    assert x0 is u and ctx2 == ctx


# -- switch2d ----------------------------------------------------------------------------------
def _fv_brute(k, nx):
    """Cell by cell: a face between cells has transmissibility 2 k_a k_b/(k_a + k_b), a wall
    face 2 k (the wall half a cell away), x fastest."""
    n = nx * nx
    A = np.zeros((n, n))
    for jy in range(nx):
        for ix in range(nx):
            r = jy * nx + ix
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                a, b = ix + dx, jy + dy
                if 0 <= a < nx and 0 <= b < nx:
                    c = b * nx + a
                    t = 2 * k[r] * k[c] / (k[r] + k[c])
                    A[r, r] += t
                    A[r, c] -= t
                else:
                    A[r, r] += 2 * k[r]
    return A


def test_switch_fields_by_formula():
    nx, blocks = 16, 8
    smooth, checker = pu3.switch_fields(nx, blocks)
    for jy in range(nx):
        for ix in range(nx):
            x, y = (ix + 0.5) / nx, (jy + 0.5) / nx
            r = jy * nx + ix
            assert math.isclose(math.log10(smooth[r]),
                                0.5 * math.sin(2 * math.pi * x) * math.sin(2 * math.pi * y),
                                abs_tol=1e-12)
            sign = 1 if (int(x * blocks) + int(y * blocks)) % 2 == 0 else -1
            assert math.isclose(math.log10(checker[r]), 2 * sign)


def test_switch_heat_matrices_brute_force_and_phases():
    sim = pu3.SwitchHeat2D(8, steps=9)
    assert sim.phase.tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]
    fields = pu3.switch_fields(8)
    for k in (0, 4, 8):
        A = sim.matrix(k)
        assert A.has_sorted_indices
        ref = np.eye(64) + 20.0 * _fv_brute(fields[sim.phase[k]], 8)
        assert np.allclose(A.toarray(), ref, rtol=1e-13, atol=1e-12)
        assert np.linalg.eigvalsh(ref).min() >= 1 - 1e-9  # SPD, λ ≥ 1
    c = sim.contexts()
    s_max = np.sin(2 * np.pi * (np.arange(8) + 0.5) / 8).max()  # max of sin·sin: s_max², min −
    assert np.allclose(c[3:6], 4.0) and np.allclose(c[[0, 1, 2, 6, 7, 8]], s_max ** 2)
    assert math.isclose(sim.dt, 20.0 / 64)


def test_switch_sequence_is_backward_euler():
    """Two steps through the sequence equal two dense backward-Euler steps."""
    seq = make_sequence("switch2d", 6)  # (its own size: 36 cells, 120 steps)
    u = seq.initial_state()
    ref = np.zeros(seq.n)
    fields = pu3.switch_fields(6)
    for t in (0, 1):
        A, b, x0, ctx = seq.system(seq.shared(t), u)
        assert x0 is u
        x = np.linalg.solve(A.toarray(), b)
        ref = np.linalg.solve(np.eye(36) + 20 * _fv_brute(fields[0], 6), ref + 20 / 36)
        u = seq.advance(u, x)
        assert np.allclose(u, ref, rtol=1e-12)


# -- layers3d ----------------------------------------------------------------------------------
def _q1_element_stiffness(h):
    """The trilinear cube element's stiffness ``∫∇φ_a·∇φ_b`` by 2 × 2 × 2 Gauss quadrature
    (exact for these products), nodes ordered (x, y, z) ∈ {0, 1}³ with x fastest."""
    g = (1 - 1 / math.sqrt(3)) / 2, (1 + 1 / math.sqrt(3)) / 2
    corners = [(a, b, c) for c in (0, 1) for b in (0, 1) for a in (0, 1)]
    K = np.zeros((8, 8))
    for p in itertools.product(g, g, g):
        grads = []
        for cx, cy, cz in corners:
            fx = p[0] if cx else 1 - p[0]
            fy = p[1] if cy else 1 - p[1]
            fz = p[2] if cz else 1 - p[2]
            sx, sy, sz = (1 if cx else -1), (1 if cy else -1), (1 if cz else -1)
            grads.append(np.array([sx * fy * fz, fx * sy * fz, fx * fy * sz]) / h)
        G = np.array(grads)
        K += G @ G.T * (h ** 3) / 8  # weight of each of the 8 points: volume / 8
    return K


def _q1_brute(m, kz):
    h = 1.0 / m
    Ke = _q1_element_stiffness(h)
    N = m + 1
    full = np.zeros((N ** 3, N ** 3))
    for ez in range(m):
        for ey in range(m):
            for ex in range(m):
                nodes = [(ex + a) + N * (ey + b) + N * N * (ez + c)
                         for c in (0, 1) for b in (0, 1) for a in (0, 1)]
                full[np.ix_(nodes, nodes)] += kz[ez] * Ke
    idx = np.arange(N ** 3)
    ix, iy, iz = idx % N, (idx // N) % N, idx // (N * N)
    inner = (ix > 0) & (ix < m) & (iy > 0) & (iy < m) & (iz > 0) & (iz < m)
    return full[np.ix_(inner, inner)]


def test_q1_layered_matches_element_by_element_assembly():
    m = 4
    kz = np.array([1.0, 30.0, 0.05, 2.0])
    A = pu3.q1_layered_3d(m, kz)
    assert A.has_sorted_indices and A.shape == (27, 27)
    assert np.allclose(A.toarray(), _q1_brute(m, kz), rtol=1e-12, atol=1e-14)
    assert max(np.diff(A.indptr)) == 27  # the 27-point stencil at an interior node


def test_q1_spectrum_at_constant_coefficient():
    """``λ = Σ_d κ_i μ_j μ_k`` over the 1-D stiffness and mass eigenvalues
    ``κ_i = (2/h)(1 − cos iπ/m)``, ``μ_i = (h/3)(2 + cos iπ/m)``."""
    m = 5
    h = 1.0 / m
    c = np.cos(np.arange(1, m) * np.pi / m)
    kap, mu = 2 / h * (1 - c), h / 3 * (2 + c)
    I, J, K = np.meshgrid(np.arange(m - 1), np.arange(m - 1), np.arange(m - 1), indexing="ij")
    ref = (kap[I] * mu[J] * mu[K] + mu[I] * kap[J] * mu[K] + mu[I] * mu[J] * kap[K]).ravel()
    ev = np.linalg.eigvalsh(pu3.q1_layered_3d(m, np.ones(m)).toarray())
    assert np.allclose(np.sort(ev), np.sort(ref), rtol=1e-12)


def test_layers3d_iterates_and_contexts():
    sim = pu3.Layers3D(16, steps=40)
    t = np.arange(40)
    assert np.allclose(sim.contexts(), 3.0 * (1 - 0.85 ** t))
    kz = sim.element_coefficients(39)
    assert kz.shape == (16,) and np.allclose(np.log10(kz[:2]), 1.5 * (1 - 0.85 ** 39))
    assert np.allclose(np.log10(kz[2:4]), -1.5 * (1 - 0.85 ** 39))
    assert np.allclose(sim.matrix(0).toarray(), pu3.q1_layered_3d(16, np.ones(16)).toarray())
    with pytest.raises(ValueError, match="multiple of layers"):
        pu3.Layers3D(12)
    with pytest.raises(ValueError, match="rate"):
        pu3.Layers3D(8, rate=1.0)


def test_sequences_are_registered_and_spd():
    for kind, size in (("plgraph", 300), ("switch2d", 8), ("layers3d", 8)):
        seq = make_sequence(kind, size)
        state = seq.initial_state()
        for t in (0, seq.T - 1):
            A, b, x0, ctx = seq.system(seq.shared(t), state)
            D = A.toarray()
            assert np.allclose(D, D.T) and np.linalg.eigvalsh(D).min() > 0
            assert seq.bounds[0] <= ctx <= seq.bounds[1]
        assert seq.tiny().kind == kind


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="gamma"):
        pu3.chung_lu_laplacian(10, gamma=2.0)
    with pytest.raises(ValueError, match="mu_min"):
        pu3.GraphPath(10, mu_max=1e-3, mu_min=1.0)
    with pytest.raises(ValueError, match="kelem"):
        pu3.q1_1d(4, np.ones(3))
    with pytest.raises(ValueError, match="steps"):
        pu3.SwitchHeat2D(4, steps=2)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the Tuner's own work beside µs solves
@pytest.mark.parametrize("kind, size", [("plgraph", 300), ("switch2d", 8), ("layers3d", 8)])
def test_sequences_run_through_the_study_at_a_tiny_size(kind, size, tmp_path, capsys):
    """End to end through ``python -m experiments._unseen_study`` (every fixed configuration
    and both default learners, one round), written and read back."""
    import json

    from experiments._unseen_study import SIZES, main

    assert kind in SIZES
    assert main(["--sequences", kind, "--size", str(size), "--seeds", "1", "--out",
                 str(tmp_path)]) == 0
    first = capsys.readouterr().out
    summary = json.loads((tmp_path / kind / "summary.json").read_text())
    (name, seq), = summary["sequences"].items()
    assert seq["methods"]["learner"]["all_converged"]
    assert "omega_learner" in seq["methods"] and "cg" in seq["methods"]
    assert main(["--read", str(tmp_path / kind)]) == 0
    key = [line for line in first.splitlines() if line.startswith("best fixed:")]
    assert key and key[0] in capsys.readouterr().out


def test_relaxtune_precond_takes_the_sequences():
    import argparse

    from experiments.cli_options import _precond_options

    p = argparse.ArgumentParser()
    _precond_options(p)
    args = p.parse_args(["--sequences", "plgraph", "switch2d", "layers3d"])
    assert args.sequences == ["plgraph", "switch2d", "layers3d"]
