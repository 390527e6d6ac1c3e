"""Extremely scaled systems through ``bandit.Tuner``."""

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery

LAP = sp.csr_matrix(gallery.laplacian_2d(8))
N = LAP.shape[0]
ARMS = [("sor", [1.5]), ("ssor_pcg", [1.5]), ("ssor_pcg", [{"method": "cg", "pc": "ic0"}])]


def _norm(v):
    m = float(np.abs(v).max())
    return m * float(np.linalg.norm(v / m))


@pytest.mark.parametrize("solver,arms", ARMS)
def test_tuner_reports_dkd_as_failed_solve(solver, arms):
    """D K D (D alternating 1e±100, b = 1): the Tuner used to raise IterateOverflowError; it
    now returns the failed solve (diverged, best iterate the start) with its true residual."""
    d = np.where(np.arange(N) % 2 == 0, 1e100, 1e-100)
    A = (sp.diags(d) @ LAP @ sp.diags(d)).tocsr()
    b = np.ones(N)
    r = bandit.Tuner(bandit.FixedArm(arms), solver=solver).solve(A, b)
    assert not r.converged and r.reason == "diverged"
    assert r.residual_norm == pytest.approx(_norm(b - A @ r.x), rel=1e-12)


@pytest.mark.parametrize("solver,arms", ARMS)
@pytest.mark.parametrize("scale", [2.0 ** 300, 2.0 ** -300])
def test_tuner_on_power_of_two_scaled_sequence(solver, arms, scale):
    """A sequence of shifted Laplacians scaled by 2^±300 runs exactly as the unscaled one:
    the same iteration counts, solutions the unscaled ones divided by the scale."""
    plain = bandit.Tuner(bandit.FixedArm(arms), solver=solver)
    scaled = bandit.Tuner(bandit.FixedArm(arms), solver=solver)
    b = np.linspace(1.0, 2.0, N)
    for shift in (0.0, 0.1, 0.3):
        A = (LAP + shift * sp.identity(N)).tocsr()
        r0 = plain.solve(A, b)
        r1 = scaled.solve((A * scale).tocsr(), b)
        assert r0.converged and r1.converged
        assert r1.iterations == r0.iterations
        np.testing.assert_array_equal(r1.x, r0.x / scale)
