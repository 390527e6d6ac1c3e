"""A user's solver function that claims convergence with a non-finite solution."""
import numpy as np
import pytest

import bandit
import solvers
from solvers import gallery


def _solver(poison):
    """SOR through solvers.sor; on the calls in ``poison`` it returns the converged result
    with its x replaced by NaN (a wrapped library that swallowed an overflow)."""
    calls = []

    def f(A, b, omega=1.0, *, x0=None, rtol=1e-8, atol=0.0, maxiter=1000, backend="numba"):
        calls.append(omega)
        r = solvers.sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
        if len(calls) in poison:
            return r.replace(x=np.full_like(r.x, np.nan))
        return r

    return f


def test_a_converged_nan_solution_is_refused_and_the_run_goes_on():
    A = gallery.laplacian_2d(5)
    b = np.arange(25.0)
    tuner = bandit.Tuner([1.2, 1.5], solver=_solver({2}))
    tuner.solve(A, b)
    with pytest.raises(ValueError, match=r"returned a SolveResult whose x is 'an array with "
                                         r"25 NaN or Inf entries and converged True'; it must "
                                         r"be finite when the solve converged"):
        tuner.solve(A, b)
    assert tuner.summary()["rounds"] == 1  # nothing of the refused solve was recorded
    r = tuner.solve(A, b)
    # the next solve is a real solution (checked against a dense solve)
    assert r.converged and np.allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-6)
    assert tuner.summary()["rounds"] == 2


def test_a_failed_run_may_return_what_it_has():
    # not converged: the tuner falls back to the other arm, whose run is a solution
    A = gallery.laplacian_2d(5)
    b = np.arange(25.0)
    calls = []

    def f(A, b, omega=1.0, *, x0=None, rtol=1e-8, atol=0.0, maxiter=1000, backend="numba"):
        calls.append(omega)
        r = solvers.sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
        if omega == 1.2:
            return r.replace(x=np.full_like(r.x, np.nan), converged=False, reason="diverged")
        return r

    r = bandit.Tuner(bandit.FixedArm([1.2, 1.5], 0), solver=f).solve(A, b)
    assert r.converged and r.omega == 1.5
    assert np.allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-6)
