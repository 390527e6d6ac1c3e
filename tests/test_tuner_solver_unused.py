"""A Tuner over configuration arms refuses a ``solver=`` that none of them uses: every
configuration arm names its own method, and ``Tuner(config_grid(), solver="sor")`` had run
SSOR-PCG and CG without a word."""
import numpy as np
import pytest

import bandit
from solvers import gallery


@pytest.mark.parametrize("solver", ["sor", "cg"])
def test_a_solver_the_configuration_arms_do_not_use_is_refused(solver):
    with pytest.raises(ValueError, match=rf"solver='{solver}' is not used: every arm is a "
                                         r"configuration naming its own method \(cg, ssor_pcg\)"):
        bandit.Tuner(bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi"]), solver=solver)


def test_configuration_arms_with_the_default_or_their_own_method_still_work():
    A, b = gallery.laplacian_2d(8), np.ones(64)
    r = bandit.Tuner(bandit.config_grid(omegas=[1.2], pcs=["jacobi"])).solve(A, b)
    assert r.converged
    t = bandit.Tuner([{"method": "sor", "omega": 1.2}, {"method": "sor", "omega": 1.6}],
                     solver="sor")
    assert t.solve(A, b).converged and set(t.history["method"]) == {"sor"}
    # a float arm uses solver=: allowed beside configurations
    t = bandit.Tuner([1.3, {"method": "cg", "pc": "jacobi"}], solver="sor")
    assert t.solve(A, b).converged
