"""heat2d assembled as a distributed PETSc Mat (experiments.heat2d_petsc), one rank."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from experiments.heat2d_petsc import Heat2DPetsc, local_laplacian_csr
from experiments.problems import Heat2D, grid_laplacian

pytestmark = pytest.mark.petsc


def test_local_rows_match_the_global_laplacian():
    L = grid_laplacian(7).tocsr()
    for lo, hi in [(0, 49), (0, 10), (10, 30), (45, 49)]:
        ip, ix, data, dpos = local_laplacian_csr(7, lo, hi)
        block = sp.csr_matrix((data, ix, ip), shape=(hi - lo, 49))
        assert (block != L[lo:hi]).nnz == 0
        assert np.all(data[dpos] == 4.0) and dpos.size == hi - lo


def test_same_systems_as_heat2d():
    ref = Heat2D(nx=12, steps=40, t_end=0.04)
    sim = Heat2DPetsc(nx=12, steps=40, t_end=0.04)
    u = ref.initial()
    uv = sim.initial()
    np.testing.assert_array_equal(uv.array, u)
    for k in (0, 17, 39):
        A, b, kap = ref.system(k, u)
        M, bv, kap2 = sim.system(k, uv)
        assert kap == kap2
        ip, ix, vals = M.getValuesCSR()
        got = sp.csr_matrix((vals, ix, ip), shape=A.shape)
        assert abs(got - A).max() <= 1e-14 * abs(A).max()
        np.testing.assert_allclose(bv.array, b, rtol=1e-14, atol=1e-14)


def test_simulation_matches_the_numba_run():
    """Same trajectory and the same SSOR-PCG counts (textbook order) on both backends."""
    ref = Heat2D(nx=16, steps=12, t_end=0.012)
    sim = Heat2DPetsc(nx=16, steps=12, t_end=0.012)
    its_numba, its_petsc = [], []

    def numba_solve(A, b, x0, context):
        r = solvers.ssor_pcg(A, b, 1.4, x0=x0, order="textbook")
        its_numba.append(r.iterations)
        return r

    def petsc_solve(A, b, x0, context):
        r = solvers.ssor_pcg(A, b, 1.4, x0=x0, backend="petsc")
        assert r.converged and r.relative_residual <= 1e-8
        its_petsc.append(r.iterations)
        return r

    u = ref.run(numba_solve)
    uv = sim.run(petsc_solve)
    np.testing.assert_allclose(uv.array, u, atol=1e-8 * np.abs(u).max())
    assert all(abs(a - b) <= 1 for a, b in zip(its_numba, its_petsc))
    # one Mat for the whole run, so one KSP
    op = solvers.petsc.prepare(sim.A)
    assert len(op.solvers) == 1


def test_run_leaves_the_users_initial_state_alone_and_checks_what_solve_returns():
    """``run(solve, u0)`` frees the states it made, never the caller's ``u0``; a ``solve``
    that returns no Vec of the simulation's size is named, with the step."""
    sim = Heat2DPetsc(nx=6, steps=3, t_end=0.003)
    u0 = sim.initial()
    start = u0.getArray().copy()
    final = sim.run(lambda A, b, x0=None, context=None: solvers.cg(A, b, x0=x0,
                                                                  backend="petsc"), u0=u0)
    np.testing.assert_array_equal(u0.getArray(), start)  # still a live Vec, unchanged
    ref = Heat2D(nx=6, steps=3, t_end=0.003)
    want = ref.run(lambda A, b, x0=None, context=None: solvers.cg(A, b, x0=x0))
    np.testing.assert_allclose(final.getArray(), want, rtol=1e-6, atol=1e-12)
    for returned in (None, np.ones(25)):
        with pytest.raises(ValueError, match=r"step 0: solve returned .* PETSc.Vec"):
            sim.run(lambda A, b, x0=None, context=None: returned)
