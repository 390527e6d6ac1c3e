"""SOR on a symmetric indefinite matrix (a shifted Laplacian ``K − σI``, σ above the smallest
eigenvalue): a plain run's iterate grows until its own rounding level passes the best
residual, seen at the first sweeps, and the solver stops it as "stagnated".  The round had
been reported as "the tolerance looks unattainable ... loosen rtol or atol" (best relative
residual 0.96); it is now "every arm failed", explained as indefinite (Ostrowski–Reich),
checked against the dense eigenvalues."""
import numpy as np
import scipy.sparse as sp

import bandit
from solvers import gallery


def test_sor_on_a_symmetric_indefinite_matrix_is_not_called_unattainable():
    K = sp.csr_matrix(gallery.laplacian_2d(16))
    n = K.shape[0]
    ev = np.linalg.eigvalsh(K.toarray())
    A = sp.csr_matrix(K - 1.5 * ev[0] * sp.identity(n))
    shifted = ev - 1.5 * ev[0]
    assert shifted[0] < 0 < shifted[-1] and np.all(A.diagonal() > 0)  # indefinite
    res = bandit.Tuner(solver="sor", maxiter=2000).solve(A, np.ones(n))
    assert not res.converged and not res.info.get("unattainable")
    assert res.info["all_arms_failed"] and "A is indefinite" in res.info["failure"]
    assert "loosen rtol" not in res.info["failure"]


def test_a_tolerance_below_rounding_is_still_unattainable():
    # the genuine case: a good system, rtol below the rounding level
    A = sp.csr_matrix(gallery.laplacian_2d(12))
    res = bandit.Tuner(solver="sor").solve(A, np.ones(A.shape[0]), rtol=1e-18)
    assert not res.converged and res.info["unattainable"]
    assert len(res.info["attempts"]) <= 2
