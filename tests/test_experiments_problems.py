"""Instance generators and the Heat2D assembly (the paper's protocols)."""
import re

import numpy as np
import pytest
import scipy.sparse as sp

from experiments.problems import (
    OFFSET_BOUNDS, VARIANCES, FEMHeat2D, Heat2D, OffsetLaplacianSequence, bump, grid_laplacian,
    kappa,
)


def kron_laplacian(m):
    """Independent construction: L = T ⊗ I + I ⊗ T with T = tridiag(-1, 2, -1)."""
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    I = sp.identity(m)
    return (sp.kron(I, T) + sp.kron(T, I)).tocsr()


@pytest.mark.parametrize("m", [1, 2, 3, 7])
def test_grid_laplacian_matches_kron(m):
    L = grid_laplacian(m)
    assert L.has_sorted_indices
    np.testing.assert_array_equal(L.toarray(), kron_laplacian(m).toarray())


def test_grid_laplacian_matches_solvers_gallery():
    gallery = pytest.importorskip("solvers.gallery")
    np.testing.assert_array_equal(grid_laplacian(5).toarray(), gallery.laplacian_2d(5).toarray())


@pytest.mark.parametrize("variance", ["high", "low"])
def test_offset_statistics(variance):
    seq = OffsetLaplacianSequence(4000, variance, seed=3)
    lo, hi = OFFSET_BOUNDS
    assert np.all((seq.offsets >= lo) & (seq.offsets <= hi))
    a, b = VARIANCES[variance]
    # mean of -0.15 + 0.6 Beta(a, b); standard error ~0.006 at T = 4000
    assert abs(seq.offsets.mean() - (-0.15 + 0.6 * a / (a + b))) < 0.02
    norms = np.linalg.norm(seq.B, axis=1)
    assert np.all(norms <= np.sqrt(seq.n))
    # accepted rows are standard normal conditioned on the norm: mean ~0, and norms
    # concentrate just below √n (a chi distribution truncated at its median region)
    assert abs(seq.B.mean()) < 0.01
    assert norms.mean() > 0.9 * np.sqrt(seq.n)


def test_offset_reproducible_and_seed_sensitive():
    s1 = OffsetLaplacianSequence(20, "high", seed=7)
    s2 = OffsetLaplacianSequence(20, "high", seed=7)
    s3 = OffsetLaplacianSequence(20, "high", seed=8)
    np.testing.assert_array_equal(s1.offsets, s2.offsets)
    np.testing.assert_array_equal(s1.B, s2.B)
    assert not np.array_equal(s1.offsets, s3.offsets)


def test_offset_instance_matrix():
    seq = OffsetLaplacianSequence(3, "low", seed=0)
    A, b, c = seq[1]
    diff = (A - seq.A).toarray()
    np.testing.assert_allclose(diff, c * np.eye(seq.n))
    assert seq.A.diagonal()[0] == 4.0  # base matrix untouched
    assert len(list(seq)) == 3
    with pytest.raises(ValueError):
        OffsetLaplacianSequence(3, "medium")


def test_kappa_formula():
    t = np.linspace(0, 2, 101)
    s = np.sin(2 * np.pi * t)
    np.testing.assert_allclose(kappa(t), np.where(s > 0, 0.1 * s, -10 * s), atol=1e-15)
    assert kappa(t).min() >= 0 and kappa(0.75) == pytest.approx(10.0)


def test_bump_formula():
    x = np.array([0.5, 0.6, 0.74, 0.76])
    y = np.full(4, 0.5)
    r2 = (x - 0.5) ** 2 / 0.25**2
    inside = np.minimum(r2, 0.5)  # keeps the unused branch of np.where finite
    expect = np.where(r2 < 1, np.exp(1 - 1 / (1 - np.where(r2 < 1, r2, inside))), 0.0)
    np.testing.assert_allclose(bump(x, y, (0.5, 0.5), 0.25), expect)


@pytest.mark.parametrize("nx", [4, 9])
def test_heat_assembly_against_kron(nx):
    sim = Heat2D(nx=nx, steps=10, t_end=1.0)
    m, dx, dt = nx - 1, 1.0 / nx, 0.1
    K = -kron_laplacian(m).toarray() / dx**2
    I = np.eye(m * m)
    rng = np.random.default_rng(0)
    u = rng.standard_normal(m * m)
    xs = np.arange(1, nx) / nx
    for k in (0, 3, 7):
        s = (k + 0.5) * dt
        kap = max(0.1 * np.sin(2 * np.pi * s), -10 * np.sin(2 * np.pi * s))
        A, b, ctx = sim.system(k, u)
        assert ctx == pytest.approx(kap)
        np.testing.assert_allclose(A.toarray(), I - kap * dt / 2 * K, atol=1e-12)
        # forcing evaluated pointwise at (x_j, y_i) with x fastest
        c = (0.5 + np.cos(16 * np.pi * s) / 4, 0.5 + np.sin(16 * np.pi * s) / 4)
        f = np.array([32 * bump(np.array(xj), np.array(yi), c, 0.125)
                      for yi in xs for xj in xs])
        np.testing.assert_allclose(b, (I + kap * dt / 2 * K) @ u + dt * f, atol=1e-12)


def test_heat_initial_and_contexts():
    sim = Heat2D(nx=10, steps=5000)
    assert sim.dt == pytest.approx(0.001) and sim.n == 81
    u0 = sim.initial()
    assert u0.max() == pytest.approx(1.0)  # (0.5, 0.5) is a grid point for even nx
    ctx = sim.contexts()
    lo, hi = sim.kappa_bounds
    assert ctx.shape == (5000,) and ctx.min() >= lo and ctx.max() <= hi
    assert ctx.max() > 9.9


def test_heat_run_with_direct_solver():
    import scipy.sparse.linalg as spla

    sim = Heat2D(nx=6, steps=4, t_end=0.004)
    seen = []
    u = sim.run(lambda A, b, x0, context: spla.spsolve(A.tocsc(), b),
                callback=lambda k, x: seen.append(k))
    assert seen == [0, 1, 2, 3] and u.shape == (25,)
    # same loop written by hand
    v = sim.initial()
    for k in range(sim.steps):
        A, b, _ = sim.system(k, v)
        v = spla.spsolve(A.tocsc(), b)
    np.testing.assert_allclose(u, v)


@pytest.mark.parametrize("make, message", [
    (lambda: Heat2D(nx=2.5, steps=3), "nx must be an integer >= 2, got 2.5"),
    (lambda: Heat2D(nx=True, steps=3), "nx must be an integer >= 2"),
    (lambda: Heat2D(nx=8, steps=3.5), "steps must be an integer >= 1, got 3.5"),
    (lambda: Heat2D(nx=8, steps=3, t_end=-1.0), "t_end must be a finite number > 0, got -1.0"),
    (lambda: Heat2D(nx=8, steps=3, t_end=0.0), "t_end must be a finite number > 0"),
    (lambda: Heat2D(nx=8, steps=3, t_end=float("nan")), "t_end must be a finite number > 0"),
    (lambda: Heat2D(nx=8, steps=3, t_end="5"), "t_end must be a finite number > 0, got '5'"),
    (lambda: OffsetLaplacianSequence(2.5), "T must be an integer >= 0, got 2.5"),
    (lambda: OffsetLaplacianSequence(5, m=1), "m must be an integer >= 2, got 1"),
    (lambda: FEMHeat2D(h=0.3, steps=3, t_end=float("inf")), "t_end must be a finite number > 0"),
])
def test_problem_sizes_and_times_are_checked(make, message):
    """A negative, zero or NaN end time would make dt (and with it every matrix) negative or
    NaN, and a fractional size would be truncated without a word: refused, naming the
    argument."""
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


@pytest.mark.parametrize("returned", [None, np.ones(3), "x"])
def test_run_says_when_the_solver_returns_no_solution(returned):
    """``run(solve)`` takes whatever ``solve`` returns as the new state: something that is
    not a solution of the system's size is named, with the step, not a matmul error from
    the next step's assembly."""
    sim = Heat2D(nx=6, steps=3)
    with pytest.raises(ValueError, match=r"step 0: solve returned .* expected a solution of "
                                         r"25 entries"):
        sim.run(lambda A, b, x0=None, context=None: returned)
    with pytest.raises(ValueError, match=r"u0 .* expected a solution of 25 entries"):
        sim.run(lambda A, b, x0=None, context=None: b, u0=np.ones(4))
