"""A solver function the Tuner cannot call as it calls solver functions — ``solvers.pcg``
(no ``omega``), scipy's ``cg`` (no ``backend``) — is refused by the constructor with the call
it would make and the way out, not by Python's ``TypeError`` at the first solve; a function
that takes the call (``**kwargs`` included) still solves to the dense solution, and the
solver's name given as the policy is named as such."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
import solvers
from solvers import gallery


def _system():
    A = gallery.laplacian_2d(4)
    return A, np.arange(1.0, 17.0)


def test_pcg_as_solver_function_points_at_configuration_arms():
    with pytest.raises(ValueError, match=r"^solver function pcg cannot be called as the Tuner "
                                         r"calls it for arm 0 .*unexpected keyword argument "
                                         r"'omega'.*give configuration arms instead"):
        bandit.Tuner([1.2, 1.6], solver=solvers.pcg)


def test_scipy_solver_as_solver_function_says_to_wrap_it():
    with pytest.raises(ValueError, match=r"^solver function cg cannot be called .*unexpected "
                                         r"keyword argument 'backend'.*scipy's solvers return "
                                         r"\(x, info\): wrap one"):
        bandit.Tuner(solver=spla.cg)


def test_a_dict_arm_setting_the_function_does_not_take_is_named():
    def my_sor(A, b, omega=1.0, *, x0=None, rtol=1e-8, atol=0.0, maxiter=100, backend="numba"):
        return solvers.sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)

    with pytest.raises(ValueError, match=r"for arm 1 \(\{'omega': 1.5, 'sweeps': 2\}\).*"
                                         r"unexpected keyword argument 'sweeps'"):
        bandit.Tuner([{"omega": 1.2}, {"omega": 1.5, "sweeps": 2}], solver=my_sor)


def test_functions_that_take_the_call_still_solve():
    A, b = _system()
    x = np.linalg.solve(A.toarray(), b)

    def by_kwargs(A, b, **kw):  # takes anything: bound without complaint
        return solvers.sor(A, b, **kw)

    for fn in (by_kwargs, solvers.sor):
        tuner = bandit.Tuner([1.2, 1.6], solver=fn)
        for _ in range(3):
            res = tuner.solve(A, b)
            assert res.converged
            np.testing.assert_allclose(res.x, x, rtol=1e-6)


def test_solver_name_given_as_the_policy_is_named():
    with pytest.raises(ValueError, match=r"got the solver name 'sor': the first argument is the "
                                         r"policy .*Tuner\(solver='sor'\)"):
        bandit.Tuner("sor")
