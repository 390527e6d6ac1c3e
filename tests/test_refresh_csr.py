"""The working copy's refresh without the split triangles (``CSROperator._check_csr``,
:func:`solvers._kernels_prep.check_values`): a loop whose solvers never ask for the split
triangles (CG, Jacobi-PCG) has every check of :func:`solvers.prepare` read off ``A``'s CSR
values, and the triangles are placed only when a solver first asks for them.

Against independent references: the symmetry measure equals ``max |A − Aᵀ| / max |A|``
computed by scipy, the diagonal and its inverse NumPy's, the refusals (NaN, Inf, zero or
missing diagonal entries) those of a fresh preparation, naming the row; the split triangles
placed lazily equal those of the matrix prepared afresh."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import bandit
from solvers import _kernels_prep as KP, gallery, prepare
from test_refresh_refuses_as_prepare import INJECT, _base, _fresh, _inject, _outcome


def _csr_copy(A):
    """A working copy of ``A`` in the state of a CG loop's: refreshed once (its value
    buffer made), its split triangles never asked for."""
    op = prepare(A.copy(), overwrite=True)
    assert op._refresh_in_place(A.copy()) is True
    assert not op._split_asked and op._layout is not None
    return op


def _scipy_asymmetry(B):
    amax = abs(B).max()
    return abs(B - B.T).max() / amax if amax > 0 else 0.0


def _assert_split_as_fresh(op, B):
    fresh = prepare(B.copy())
    for f, s in zip(op.split_triangles(), fresh.split_triangles()):
        for a, b in zip(f, s):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(op.diagonal, fresh.diagonal)
    np.testing.assert_array_equal(op.inv_diagonal, fresh.inv_diagonal)
    if fresh.sor_mirror() is None:
        assert op.sor_mirror() is None
    else:
        np.testing.assert_array_equal(op.sor_mirror(), fresh.sor_mirror())


def _random_pattern(n, density, seed, symmetric_pattern):
    """Random values on a random pattern (with an unsymmetric pattern, entries whose mirror
    is not stored: compared with 0), some diagonal entries missing."""
    rng = np.random.default_rng(seed)
    M = sp.random(n, n, density=density, random_state=rng, format="csr")
    if symmetric_pattern:
        M = M + M.T
    M = (M + sp.diags(rng.uniform(1.0, 2.0, n) * (rng.random(n) < 0.8))).tocsr()
    M.eliminate_zeros()
    M.sort_indices()
    M.data = rng.uniform(-1.0, 1.0, M.nnz)
    return M


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), density=st.floats(0.0, 0.5), seed=st.integers(0, 10**6),
       symmetric_pattern=st.booleans())
def test_check_values_returns_what_the_placing_refresh_returns(n, density, seed,
                                                               symmetric_pattern):
    A = _random_pattern(n, density, seed, symmetric_pattern)
    assume(A.nnz > 0)
    op = prepare(A.copy())
    B = A.copy()
    B.data = np.random.default_rng(seed + 1).uniform(-3.0, 3.0, B.nnz)
    slot, umirror, lonely, nl, nu = op._values_pattern()
    values, inv = np.zeros(nl + nu + 3 * n + 1), np.empty(n)
    placed = KP.refresh_values(B.indptr, B.indices, B.data, op.indptr, op.indices, slot,
                               values, umirror, lonely, inv)
    mirror = op._mirror()
    own = np.arange(op.nnz)
    partner = np.where(mirror >= 0, mirror, own).astype(op.indices.dtype)
    diagonal, inv2 = np.full(n, np.nan), np.full(n, np.nan)
    checked = KP.check_values(B.indptr, B.indices, B.data, op.indptr, op.indices, partner,
                              own[mirror < 0].astype(op.indices.dtype), op.diag_ptr,
                              op.has_diagonal, diagonal, inv2)
    assert tuple(checked) == tuple(placed)
    np.testing.assert_array_equal(inv2, inv)
    np.testing.assert_array_equal(diagonal, B.diagonal())
    # the independent references: scipy's max |B − Bᵀ| and max |B|
    assert checked[3] == abs(B - B.T).max()
    assert checked[2] == abs(B).max()


def test_check_values_writes_nothing_when_the_pattern_differs_or_a_value_is_not_finite():
    A = gallery.laplacian_2d(5).tocsr()
    op = prepare(A)
    mirror = op._mirror()
    partner = np.where(mirror >= 0, mirror, np.arange(op.nnz)).astype(op.indices.dtype)
    lonely = np.empty(0, op.indices.dtype)
    B = A.copy()
    B.indices[3] = B.indices[3] + 1 if B.indices[3] + 1 < 25 else 0
    diagonal, inv = np.full(25, 7.0), np.full(25, 7.0)
    out = KP.check_values(B.indptr, B.indices, B.data, op.indptr, op.indices, partner, lonely,
                          op.diag_ptr, op.has_diagonal, diagonal, inv)
    assert out[0] and out[1] == 0
    B = A.copy()
    B.data[[0, 7, -1]] = [np.nan, np.inf, -np.inf]
    out = KP.check_values(B.indptr, B.indices, B.data, op.indptr, op.indices, partner, lonely,
                          op.diag_ptr, op.has_diagonal, diagonal, inv)
    assert not out[0] and out[1] == 3
    assert (diagonal == 7.0).all() and (inv == 7.0).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 13), density=st.floats(0.0, 0.6), seed=st.integers(0, 10**6),
       drop=st.integers(-1, 12), what=st.sampled_from(INJECT), pos=st.integers(0, 10**4))
def test_the_refresh_without_the_split_refuses_exactly_what_prepare_refuses(
        n, density, seed, drop, what, pos):
    A = _base(n, density, seed, drop if drop < n else -1)
    assume(A.nnz > 0)
    op = _csr_copy(A)
    B = _inject(A, what, pos, np.random.default_rng(seed))
    try:
        assert op._refresh_in_place(B) is True
        assert op._stale  # (checked without placing the triangles)
        new = _outcome(op)
    except ValueError as e:
        new = _outcome(e)
    assert new == _outcome(_fresh(B))
    if not np.isfinite(B.data).all():
        with pytest.raises(ValueError, match="cannot be used"):
            op.require("cg")
        assert op._refresh_in_place(A.copy())
        assert _outcome(op) == _outcome(prepare(A.copy()))
        _assert_split_as_fresh(op, A)
        return
    assert op.asymmetry() == pytest.approx(_scipy_asymmetry(B), rel=1e-15, abs=0.0)
    d = B.diagonal()
    bad = ~(np.abs(d) > 2.0 ** -1024)
    if bad.any():
        assert new[1][0].startswith(
            f"A has a zero or missing diagonal entry in row {int(np.argmax(bad))} ")
    _assert_split_as_fresh(op, B)  # placed now, when asked for


def test_a_nan_is_named_by_its_row_and_column_and_the_copy_recovers():
    A = gallery.crank_nicolson_2d(6, 0.01).tocsr()
    op = _csr_copy(A)
    B = A.copy()
    k = int(B.indptr[17]) + 1
    B.data[k] = np.nan
    with pytest.raises(ValueError, match=rf"A contains NaN or Inf \(1 non-finite entry\); the "
                                         rf"first is a\[17, {int(B.indices[k])}\] = nan"):
        op._refresh_in_place(B)
    with pytest.raises(ValueError, match="cannot be used"):
        op.require("cg")
    C = gallery.crank_nicolson_2d(6, 0.03).tocsr()
    assert op._refresh_in_place(C) is True
    op.require("cg")
    np.testing.assert_array_equal(op.diagonal, C.diagonal())


def test_a_zero_diagonal_entry_is_named_by_its_row():
    A = gallery.crank_nicolson_2d(6, 0.01).tocsr()
    op = _csr_copy(A)
    B = A.copy()
    B.data[B.indptr[9] + np.flatnonzero(B.indices[B.indptr[9]:B.indptr[10]] == 9)[0]] = 0.0
    assert op._refresh_in_place(B) is True
    op.require("cg")  # CG does not divide by a_ii
    with pytest.raises(ValueError, match=r"zero or missing diagonal entry in row 9 \(explicit "
                                         r"zero; 1 row in all\); sor divides by a_ii"):
        op.require("sor")
    assert op.inv_diagonal[9] == 0.0


def test_another_pattern_leaves_the_copy_intact():
    A = gallery.crank_nicolson_2d(6, 0.01).tocsr()
    op = _csr_copy(A)
    held = (op.diagonal.copy(), op.inv_diagonal.copy(), op.values_version)
    B = A.copy()
    B.indices[B.indptr[10]] = 0  # a column row 10 did not store
    assert op._refresh_in_place(B) is False
    np.testing.assert_array_equal(op.diagonal, held[0])
    np.testing.assert_array_equal(op.inv_diagonal, held[1])
    assert op.values_version == held[2]


def test_a_copy_whose_triangles_are_stale_is_never_kept_against_them():
    """The general refresh (``prepare(..., like=op, overwrite=True)``) keeps its last checks'
    results for values equal to its buffer's: a buffer whose triangles are stale must not
    count as holding the operator's values."""
    A = gallery.crank_nicolson_2d(6, 0.01).tocsr()
    off = A.indices != np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    A.data[np.flatnonzero(off)[5]] *= 2.0  # not symmetric
    B = gallery.crank_nicolson_2d(6, 0.02).tocsr()  # symmetric
    op = _csr_copy(A)
    assert op._refresh_in_place(B) is True and op._stale and op.asymmetry() == 0.0
    # C: what the buffer holds now — A's triangles (stale), B's diagonal
    C = B.copy()
    C.data[off] = A.data[off]
    same = prepare(C, like=op, overwrite=True)
    assert same is op
    assert op.asymmetry() == pytest.approx(_scipy_asymmetry(C), rel=1e-15, abs=0.0)
    assert op.asymmetry() > 0.0
    _assert_split_as_fresh(op, C)


def test_a_cg_tuner_checks_without_placing_and_solves_right():
    """A fixed plain-CG Tuner's working copy is refreshed without the split triangles; its
    solutions are those of dense solves; a solver that asks for the triangles gets them placed
    (and every later refresh places them with the values)."""
    t = bandit.Tuner(bandit.FixedArm([{"method": "cg"}]), rtol=1e-10, maxiter=10_000)
    rng = np.random.default_rng(0)
    for step in range(4):
        A = gallery.crank_nicolson_2d(7, 0.01 * (step + 1)).tocsr()
        b = rng.standard_normal(A.shape[0])
        r = t.solve(A, b)
        np.testing.assert_allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-8)
    op = t._last_op
    assert op._stale and op._split is None
    _assert_split_as_fresh(op, A)
    assert op._split_asked and not op._stale
    B = gallery.crank_nicolson_2d(7, 0.07).tocsr()
    assert op._refresh_in_place(B) and not op._stale  # asked for: placed with the values
    _assert_split_as_fresh(op, B)
    C = gallery.crank_nicolson_2d(7, 0.08).tocsr()
    assert op._refresh_in_place(C) and not op._stale
    D = gallery.crank_nicolson_2d(7, 0.09).tocsr()
    assert op._refresh_in_place(D) and op._stale  # not asked for since C: not placed
    _assert_split_as_fresh(op, D)


def test_a_tuner_places_the_triangles_before_timing_an_arm_that_needs_them():
    """A Tuner whose working copy was refreshed without the split triangles (nothing had
    asked for them since its last refresh: a CG run) places them before an SSOR-PCG run,
    outside the run's timing; the solution is that of a dense solve."""
    grid = [{"method": "cg"}, {"method": "ssor_pcg", "omega": 1.5}]
    t = bandit.Tuner(bandit.FixedArm(grid, arm=1), rtol=1e-10, maxiter=10_000)
    rng = np.random.default_rng(1)
    for step in range(3):
        A = gallery.crank_nicolson_2d(7, 0.01 * (step + 1)).tocsr()
        t.solve(A, rng.standard_normal(A.shape[0]))
    op = t._last_op
    op._split_asked = False  # as after a CG run
    A = gallery.crank_nicolson_2d(7, 0.05).tocsr()
    b = rng.standard_normal(A.shape[0])
    seen = []
    run_checked = t._run_checked

    def spy(entry, op_, *args, **kwargs):
        seen.append(op_._split is not None)  # placed before the run (and its clock) started
        return run_checked(entry, op_, *args, **kwargs)

    t._run_checked = spy
    r = t.solve(A, b)
    assert r.arm == 1 and seen and all(seen)
    assert not op._stale  # (refreshed without the triangles, then placed by the Tuner)
    np.testing.assert_allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-8)
    _assert_split_as_fresh(op, A)


@pytest.mark.parametrize("same_array", [False, True])
def test_values_equal_bit_for_bit_keep_what_was_made_of_them(same_array):
    """A refresh (in place, or the general one of ``prepare(..., like=op, overwrite=True)``)
    with the values it holds, bit for bit, keeps the reversed operator, SOR's mirror values,
    the derived dict and — only when the very same data array comes again, which it shares —
    the scipy matrix; new values drop them all.  What is kept equals what a fresh
    preparation makes (scipy reference for the reversed operator)."""
    A = gallery.crank_nicolson_2d(6, 0.01).tocsr()
    A.data[np.flatnonzero(A.indices > np.repeat(np.arange(A.shape[0]), np.diff(A.indptr)))[4]] *= 1.1
    for general in (False, True):
        op = prepare(A.copy(), overwrite=True)
        op.split_triangles()
        B = A.copy()
        assert op._refresh_in_place(B)
        op.split_triangles()  # the placing refresh, which sees values unchanged
        made = (op.reversed(), op.sor_mirror(), op.derived(), op.matrix)
        C = B if same_array else A.copy()
        if general:
            assert prepare(C, like=op, overwrite=True) is op
        else:
            assert op._refresh_in_place(C)
        assert op._reversed is made[0] and op._sor_mirror is made[1]
        assert op._derived is made[2]
        assert (op._matrix is made[3]) == same_array
        assert op.data is C.data and np.shares_memory(op.matrix.data, C.data)
        R = sp.csr_array(C)[::-1, ::-1]
        np.testing.assert_array_equal(op.reversed().matrix.toarray(), R.toarray())
        D = C.copy()
        D.data[0] *= 2.0
        assert op._refresh_in_place(D)
        assert op._reversed is None and op._sor_mirror is None and op._derived is None
        assert op._matrix is None


@pytest.mark.parametrize("asked", [False, True])
def test_a_pair_whose_difference_overflows_measures_as_scipy_does(asked):
    """Both refreshes keep the maximum of ``|a_ij − a_ji|`` on its bits: a difference that
    overflows to +Inf (``1e308 − (−1e308)``) is the largest, as in scipy's ``|A − Aᵀ|``; a
    difference of subnormal numbers orders as its value does."""
    A = sp.csr_matrix(np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 4.0]]))
    op = _csr_copy(A)
    for a, b in ((1e308, -1e308), (3e-320, -2e-320), (1.5, 1.25)):
        B = A.copy()
        B.data[1], B.data[3] = a, b  # a_01 and a_10
        if asked:
            op.split_triangles()
        assert op._refresh_in_place(B) and op._stale == (not asked)
        worst = abs(B - B.T).max()
        assert op._checks[1] == worst
        assert op.asymmetry() == _scipy_asymmetry(B)
