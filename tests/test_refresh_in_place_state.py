"""The working copy's in-place refresh (``CSROperator._refresh_in_place``, the Tuner's hot path)
leaves the operator in exactly the state of the general refresh (``CSROperator._fill``, what
``prepare(A, like=op, overwrite=True)`` runs): the same value buffer, inverse diagonal, checks'
results, symmetry, diagonal problems, caches dropped and version bumped, for new values, the
same values again, exactly symmetric ones and after a refused refresh; and a matrix whose index
arrays the user changed in place (another pattern, unsorted indices) is never taken in place —
the Tuner prepares it afresh and solves it right (dense reference)."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery, prepare

#: What a refresh sets or drops (the rest of an operator is its pattern's).
STATE = ("values_version", "_invalid", "_checks", "_diag_check", "_symmetry")
#: What a refresh drops for new values and keeps for values equal bit for bit (each operator
#: its own: compared by whether it is kept)
CACHES = ("_matrix", "_reversed", "_derived")


def _pair(A):
    """Two working copies of ``A`` with their layouts and caches built alike."""
    ops = []
    for _ in range(2):
        op = prepare(A.copy(), overwrite=True)
        op.split_triangles()
        op.sor_mirror()  # the pattern's mirror positions: a symmetric refresh reuses them
        op.matrix, op.reversed()  # caches the next refresh drops
        op.derived()["x"] = 1
        ops.append(op)
    return ops


def _general(op, B):
    """The general refresh of the working copy's own buffers (``_fill``)."""
    return op._fill(B, B.data, B.data, op._values, op._inv_diagonal)


def _assert_same(fast, slow, B):
    for name in STATE:
        assert getattr(fast, name) == getattr(slow, name), name
    for name in CACHES:
        assert (getattr(fast, name) is None) == (getattr(slow, name) is None), name
    assert fast.data is B.data and slow.data is B.data
    np.testing.assert_array_equal(fast._values, slow._values)
    np.testing.assert_array_equal(fast.inv_diagonal, slow.inv_diagonal)
    np.testing.assert_array_equal(fast.diagonal, slow.diagonal)
    assert (fast._sor_mirror is None) == (slow._sor_mirror is None)
    np.testing.assert_array_equal(fast.sor_mirror(), slow.sor_mirror())
    for f, s in zip(fast.split_triangles(), slow.split_triangles()):
        for a, b in zip(f, s):
            np.testing.assert_array_equal(a, b)
    # the checks' numbers against dense references
    dense = B.toarray()
    amax = np.abs(dense).max()
    assert fast.asymmetry() == pytest.approx(np.abs(dense - dense.T).max() / amax, abs=0.0)
    np.testing.assert_array_equal(fast.diagonal, np.diag(dense))


@pytest.mark.parametrize("symmetric", [True, False])
def test_the_fast_refresh_leaves_the_state_of_the_general_refresh(symmetric):
    A = gallery.crank_nicolson_2d(7, 0.01).tocsr()
    fast, slow = _pair(A)
    rng = np.random.default_rng(3)
    for step in range(6):
        B = gallery.crank_nicolson_2d(7, 0.01 * (step + 2)).tocsr()
        if not symmetric:
            B.data[rng.integers(B.nnz)] *= 1.5
        if step == 3:
            B = prev.copy()  # the same values again: the kept checks' results
        if step == 4:  # a refused refresh, then a good one
            bad = B.copy()
            bad.data[5] = np.inf
            for op in (fast, slow):
                with pytest.raises(ValueError, match=r"A contains NaN or Inf \(1 non-finite"):
                    op._refresh_in_place(bad) if op is fast else _general(op, bad)
                with pytest.raises(ValueError, match="cannot be used"):
                    op.require("sor")
        for op in (fast, slow):  # caches the next refresh drops
            op.matrix, op.reversed()
            op.derived()["x"] = 1
        assert fast._refresh_in_place(B) is True
        assert _general(slow, B) is True
        _assert_same(fast, slow, B)
        prev = B


@pytest.mark.parametrize("change", ["column", "unsorted", "indptr"])
def test_indices_the_user_changed_in_place_are_never_taken_in_place(change):
    A = sp.csr_matrix(gallery.laplacian_2d(6)) * 1.0
    A.data += 0.1 * np.arange(A.nnz) / A.nnz  # values unlike any other step's
    A = sp.csr_matrix((A + A.T) * 0.5)
    b = np.arange(A.shape[0], dtype=float) + 1.0
    t = bandit.Tuner(bandit.FixedArm([{"method": "sor", "omega": 1.5}]), rtol=1e-10,
                     maxiter=10_000)
    t.solve(A, b)
    t.solve(A, b)  # the working copy's layout: the fast path from now on
    op = t._last_op
    held = op._values.copy()
    B = A.copy()
    row = 10
    s, e = B.indptr[row], B.indptr[row + 1]
    if change == "column":  # a_{10,j} moved to a column the row did not store
        B.indices[s] = 0
    elif change == "unsorted":  # the same entries, two of them swapped: not canonical
        B.indices[s], B.indices[s + 1] = B.indices[s + 1], B.indices[s]
        B.data[s], B.data[s + 1] = B.data[s + 1], B.data[s]
        B.has_sorted_indices = True  # flags the caller got wrong
    else:  # an entry moved from row 10 to row 9 (the row pointer changed in place)
        B.indptr[row] += 1
    assert op._refresh_in_place(B) is False
    np.testing.assert_array_equal(op._values, held)  # nothing written
    r = t.solve(B, b)
    dense = sp.csr_matrix((B.data, B.indices, B.indptr), shape=B.shape).toarray()
    assert r.converged
    np.testing.assert_allclose(r.x, np.linalg.solve(dense, b), rtol=1e-7)
    assert t._last_op is not op  # prepared afresh
