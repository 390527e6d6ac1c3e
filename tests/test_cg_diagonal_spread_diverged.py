"""Plain CG on ``diag(a, 1, …, 1)`` with a tiny or subnormal ``a`` had stopped as "diverged"
with nothing to say why.  It is not diverging: on a symmetric positive definite matrix CG's
residual may grow by up to ``√κ(A)`` on its way to the solution, and ``κ(A) >= max a_jj /
min a_ii``; with a diagonal spanning more than ``dtol²`` (1e24 by default) a convergent CG
crosses ``dtol``.  The result now says so (``info["cause"]``, also in
``raise_if_not_converged``'s message), naming the row; the ways out it names solve the
system (checked against ``scipy.sparse.linalg.spsolve``), and where the solution itself is
beyond double range (``a = 1e-320``: spsolve gives inf) the message says that and ``dtol=inf``
is refused as an overflowing iterate.  The PETSc backend's plain KSPCG says the same where it
stops (PETSc 3.26 solves the transient case instead; its answer is then checked).
Ordinary failures carry no such cause."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import solvers
from solvers import gallery


def diag_system(a, n=10):
    return sp.csr_array(sp.diags_array([a] + [1.0] * (n - 1))), np.ones(n)


@pytest.mark.parametrize("solve", [lambda A, b, **kw: solvers.cg(A, b, **kw),
                                   lambda A, b, **kw: solvers.pcg(A, b, "none", **kw)])
@pytest.mark.parametrize("a", [1e-30, 1e-100])
def test_the_transient_is_named_and_the_named_ways_out_solve(solve, a):
    A, b = diag_system(a)
    res = solve(A, b)
    assert res.reason == "diverged" and not res.converged
    cause = res.info["cause"]
    assert "row 0" in cause and "κ(A) >=" in cause and "transient" in cause
    with pytest.raises(solvers.ConvergenceError, match="transient"):
        res.raise_if_not_converged()
    exact = spla.spsolve(A.tocsc(), b)
    for fixed in (solve(A, b, dtol=np.inf), solvers.pcg(A, b, "jacobi")):
        assert fixed.converged
        assert np.linalg.norm(b - A @ fixed.x) <= 1e-8 * np.linalg.norm(b)
        np.testing.assert_allclose(fixed.x, exact, rtol=1e-6)


def test_a_subnormal_diagonal_entry_is_named_and_its_overflowing_solution_refused():
    A, b = diag_system(1e-320)
    with np.errstate(all="ignore"):
        assert np.isinf(spla.spsolve(A.tocsc(), b)[0])  # the solution is out of range
    res = solvers.cg(A, b)
    assert res.reason == "diverged"
    assert "row 0" in res.info["cause"] and "1/a_ii overflows" in res.info["cause"]
    assert np.all(np.isfinite(res.x))
    with pytest.raises(solvers.IterateOverflowError, match="iterate overflows"):
        solvers.cg(A, b, dtol=np.inf)
    # b orthogonal to that row: the solution is representable and CG finds it
    b0 = b.copy()
    b0[0] = 0.0
    ok = solvers.cg(A, b0)
    assert ok.converged
    np.testing.assert_allclose(ok.x, spla.spsolve(A.tocsc(), b0), rtol=1e-12)


def test_the_petsc_backend_names_the_same_cause():
    pytest.importorskip("petsc4py")
    for a, fragment in ((1e-30, "transient"), (1e-320, "1/a_ii overflows")):
        A, b = diag_system(a)
        res = solvers.cg(A, b, backend="petsc")
        if a == 1e-30 and res.converged:
            # PETSc 3.26's KSPCG does not cross dtol on this transient (earlier releases
            # did): then its answer must be the solution, not a stop passed off as one
            np.testing.assert_allclose(res.x, spla.spsolve(A.tocsc(), b), rtol=1e-8)
            continue
        assert res.reason == "diverged" and fragment in res.info["cause"]
        assert res.info["cause"] == solvers.cg(A, b).info["cause"].replace(
            "pcg(A, b, 'jacobi')", "options={'pc_type': 'jacobi'}")
    A, b = diag_system(1e-30)
    fixed = solvers.cg(A, b, backend="petsc", options={"pc_type": "jacobi"})
    assert fixed.converged
    np.testing.assert_allclose(fixed.x, spla.spsolve(A.tocsc(), b), rtol=1e-6)


def test_an_ordinary_failure_carries_no_cause():
    A = gallery.laplacian_2d(10)
    res = solvers.cg(A, np.ones(100), maxiter=3)
    assert res.reason == "maxiter" and "cause" not in res.info
    res = solvers.cg(A, np.ones(100), dtol=1.0001)  # a residual growing at once
    assert "cause" not in res.info
