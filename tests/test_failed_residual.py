"""A failed solve reports a trustworthy residual for the ``x`` it returns.

On an inconsistent singular system a CG-type solve can step far along a null vector, where
the computed ``b − A x`` has lost ``b`` to cancellation and reads a rounding-noise figure.
A failed result's ``residual_norm`` is within a factor 2 of the exact residual of its ``x``
(in rational arithmetic), or the result carries ``info["residual_bound"]``, an upper bound of
that exact residual; and a solve returns its start rather than an iterate whose upper bound
is above the start's (``docs/solvers.md``, *A failed solve's residual*).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solvers
from tests.test_probe6_solvers import _exact_residual

RANK_ONE = np.array([[49.0, -14.0], [-14.0, 4.0]])  # null vector (2, 7)
B = np.array([-1.5397, 0.6188])  # not in the range


def _trustworthy(A, b, res):
    exact = _exact_residual(A, res.x, b)
    bound = res.info.get("residual_bound")
    if bound is not None:
        assert res.residual_norm <= bound
        assert exact <= bound * (1 + 1e-12)
    else:
        assert exact / 2 <= res.residual_norm <= 2 * exact
    return exact


def test_ssor_pcg_on_a_rank_one_system_reports_its_residual_or_its_bound():
    res = solvers.ssor_pcg(RANK_ONE, B, 0.98714, rtol=1e-8, maxiter=200)
    assert not res.converged
    exact = _trustworthy(RANK_ONE, B, res)
    if res.info["best_iteration"] != 0:  # an iterate far along the null vector
        assert np.abs(res.x).max() > 1e10
        # its computed residual is rounding noise: flagged, with a bound below the start's
        assert res.info["residual_bound"] < np.linalg.norm(B)
        assert exact < np.linalg.norm(B)


def _solve(kind, A, b):
    if kind == "sor":
        return solvers.sor(A, b, 1.0, rtol=1e-8, maxiter=300)
    if kind == "cg":
        return solvers.cg(A, b, rtol=1e-8, maxiter=300)
    if kind.startswith("ssor"):
        return solvers.ssor_pcg(A, b, float(kind[4:]), rtol=1e-8, maxiter=300)
    return solvers.pcg(A, b, kind, rtol=1e-8, maxiter=300)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 5), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["cg", "ssor0.98714", "ssor1.5", "ssor0.3", "jacobi", "sor"]))
def test_a_failed_result_reports_the_residual_of_its_x(n, seed, kind):
    # rank-deficient PSD A = G Gᵀ with small integer G (exact entries), b off its range
    rng = np.random.default_rng(seed)
    G = rng.integers(-7, 8, size=(n, rng.integers(1, n)))
    A = (G @ G.T).astype(float)
    if np.any(np.diag(A) <= 0):
        return
    b = np.round(rng.standard_normal(n), 4)
    res = _solve(kind, A, b)
    if res.converged:
        return
    _trustworthy(A, b, res)
    # never an iterate whose upper bound is above the start's
    start = np.linalg.norm(b)
    assert res.info.get("residual_bound", res.residual_norm) <= start * (1 + 1e-12) or \
        res.info["best_iteration"] == 0


def test_a_guarded_tuner_ranks_failed_runs_by_what_their_residual_is_known_to_be():
    # a flagged run's residual_norm is rounding noise: ranked by its upper bound
    from bandit._tuner_guard import _residual_key
    res = solvers.ssor_pcg(RANK_ONE, B, 0.98714, rtol=1e-8, maxiter=200)
    assert "residual_bound" in res.info
    assert _residual_key(res) == res.info["residual_bound"] > res.residual_norm
    plain = solvers.sor(RANK_ONE, B, 1.0, rtol=1e-8, maxiter=200)
    assert "residual_bound" not in plain.info and _residual_key(plain) == plain.residual_norm
