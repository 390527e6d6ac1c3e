"""A plain-CG run stopped at its ``maxiter`` by design — the untimed first run a timed Tuner
makes of a family, or a try stopped at the guard's budget — takes the failure path, whose
diagnosis looks for rows of ``A`` with no non-zero entry (``solvers._causes._empty_rows_cause``).
That search was one pass over ``A``'s values with NumPy temporaries (0.5-0.6 ms at 16 384
unknowns, as much as a 4-iteration solve) on every such stop; a row with a non-zero diagonal
entry is not empty, so with the operator's diagonal check (kept with its values) the pass is
made only when some diagonal entry is zero or missing.  The pass is counted here through
``np.bincount``, which only it calls on these paths; the answers are checked against the
matrices' own rows.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import cg, gallery


@pytest.fixture
def passes(monkeypatch):
    """How many times the empty-row search's pass over the values ran."""
    count = [0]
    real = np.bincount

    def spy(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "bincount", spy)
    return count


def test_stop_at_maxiter_with_a_full_diagonal_makes_no_pass(passes):
    A = gallery.laplacian_2d(12)
    b = np.ones(A.shape[0])
    res = cg(A, b, maxiter=2)
    assert res.iterations == 2 and not res.converged and "cause" not in res.info
    assert passes[0] == 0
    # the iterate of textbook CG from zero (dense reference) that a failed solve returns:
    # the one of least residual among its iterates, the start included
    Ad = A.toarray()
    x, r = np.zeros_like(b), b.copy()
    p, iterates = r.copy(), [x]
    for _ in range(2):
        alpha = (r @ r) / (p @ Ad @ p)
        x, r_new = x + alpha * p, r - alpha * (Ad @ p)
        p, r = r_new + (r_new @ r_new) / (r @ r) * p, r_new
        iterates.append(x)
    best = min(iterates, key=lambda v: np.linalg.norm(b - Ad @ v))
    np.testing.assert_allclose(res.x, best, rtol=1e-10, atol=1e-14)
    assert res.residual_norm == pytest.approx(np.linalg.norm(b - Ad @ best), rel=1e-10)


def test_a_zero_diagonal_entry_still_searches_and_finds_no_empty_row(passes):
    # row 0 has a zero diagonal entry but a non-zero off-diagonal one: not empty
    A = sp.lil_array(gallery.laplacian_2d(6) + 0.0)
    A[0, 0] = 0.0
    A = sp.csr_array(A)
    b = np.ones(A.shape[0])
    res = cg(A, b, maxiter=1)
    assert not res.converged and "cause" not in res.info
    assert passes[0] == 1
    assert (abs(A).sum(axis=1) > 0).all()  # the reference: no row is empty


def test_an_empty_row_is_still_named(passes):
    G = sp.lil_array(gallery.laplacian_2d(4))
    G[5, :] = 0.0
    G[:, 5] = 0.0
    G = sp.csr_array(G)
    G.eliminate_zeros()
    res = cg(G, np.ones(16))
    assert not res.converged and "row 5" in res.info["cause"]
    assert passes[0] >= 1


def test_a_timed_tuners_first_plain_cg_call_makes_no_pass(passes):
    """The untimed first run of the family (two iterations, stopped at its maxiter) made the
    pass inside the user's first call of the arm."""
    A = gallery.laplacian_2d(16)
    b = np.ones(A.shape[0])
    for cost in ("time", "timed_work"):
        passes[0] = 0
        tuner = bandit.Tuner(bandit.FixedArm([{"method": "ssor_pcg", "omega": 1.5},
                                              {"method": "cg"}], arm=1), cost=cost)
        res = tuner.solve(A, b)
        assert res.converged and res.arm == 1 and passes[0] == 0
        np.testing.assert_allclose(A @ res.x, b, rtol=0, atol=1e-7 * np.linalg.norm(b))
