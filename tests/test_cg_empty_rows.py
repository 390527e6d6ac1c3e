"""Plain CG (the one solver that accepts a zero diagonal) on a matrix with rows that hold no
non-zero entry: where ``b`` does not vanish on them ``A x = b`` has no solution (``e_i`` is a
null vector of ``Aᵀ``: ``(b − A x)_i = b_i`` for every ``x``), and the failed solve says so
in ``info["cause"]``, naming the row and the floor of the residual.  It had stopped as
"diverged" with nothing to say why; where ``b`` vanishes there, CG solves the consistent
system (checked against a least-squares reference).
"""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import cg, gallery, pcg


def isolated_node(m=4, row=5):
    """The model Laplacian with row and column ``row`` removed from the graph (an isolated
    vertex, or a node left out of the assembly)."""
    G = sp.lil_array(gallery.laplacian_2d(m))
    G[row, :] = 0.0
    G[:, row] = 0.0
    G = sp.csr_array(G)
    G.eliminate_zeros()
    return G


@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200])
def test_failed_cg_names_the_empty_row_and_the_residual_floor(scale):
    G = isolated_node() * scale
    b = np.full(16, scale)
    res = cg(G, b)
    assert not res.converged
    # the floor holds for any x: the residual at row 5 is b[5] itself
    assert res.residual_norm >= scale * (1 - 1e-12)
    assert abs((b - G @ res.x)[5]) == pytest.approx(scale, rel=1e-15)
    cause = res.info["cause"]
    assert "row 5" in cause and "no solution" in cause
    assert f"{scale:.3e}" in cause  # the floor ‖b_E‖ = |b_5|
    assert pcg(G, b, "none").info["cause"] == cause


def test_consistent_system_with_an_empty_row_is_solved():
    G = isolated_node()
    b = np.ones(16)
    b[5] = 0.0
    res = cg(G, b)
    assert res.converged and "cause" not in res.info
    keep = np.arange(16) != 5
    reference = np.linalg.solve(G.toarray()[np.ix_(keep, keep)], b[keep])
    np.testing.assert_allclose(res.x[keep], reference, rtol=1e-7)


def test_tuner_failure_carries_the_cause():
    G = isolated_node()
    res = bandit.Tuner(solver="cg").solve(G, np.ones(16))
    assert not res.converged and "row 5" in res.info["cause"]
