"""The Tuner's per-call checks with the cheaper refresh: a working copy refreshed with values
equal to those it holds keeps its checks' results (nothing else is kept between calls), so
every in-place change of the user's matrix after a clean call is still refused or taken in;
and the fused check of ``b`` and ``x0`` gives the sums and counts of the loops it replaced."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from bandit import FixedArm, Tuner, default_policy
from solvers import _kernels_prep as P, gallery, prepare, ssor_pcg
from test_prepare import _assert_same_operator, _random_pattern


def _diagonal_positions(A):
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return np.flatnonzero(A.indices == rows)


def _tuner_state(t):
    return (t.policy.t, len(t.history["arm"]), t.policy._draw_state())


@pytest.mark.parametrize("change, message", [
    (lambda A, d: A.data.__setitem__(d[7], np.nan), r"A contains NaN or Inf \(1 non-finite"),
    (lambda A, d: A.data.__setitem__(-1, np.inf), r"A contains NaN or Inf"),
    (lambda A, d: A.data.__setitem__(d[5], 0.0),
     r"zero or missing diagonal entry in row 5 \(explicit zero"),
    (lambda A, d: A.data.__setitem__(d[3], -A.data[d[3]]), r"negative diagonal entry .* row 3"),
    (lambda A, d: A.data.__setitem__(d[2] + 1, A.data[d[2] + 1] * 1.5), r"not symmetric"),
])
@pytest.mark.parametrize("learner", ["fixed", "default"])
def test_an_in_place_change_after_clean_calls_is_refused(change, message, learner):
    """The same object solved twice unchanged (the second call keeps the checks' results),
    then changed in place: refused by name before the draw, nothing recorded; restored, it
    solves as a fresh Tuner's first call would."""
    A = gallery.crank_nicolson_2d(12, 0.05)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    policy = FixedArm([1.6]) if learner == "fixed" else default_policy("ssor_pcg", seed=3)
    t = Tuner(policy, solver="ssor_pcg")
    t.solve(A, b)
    t.solve(A, b)  # unchanged: its checks kept
    saved = A.data.copy()
    change(A, _diagonal_positions(A))
    before = _tuner_state(t)
    for _ in range(2):  # refused again on the next call (the working copy is not trusted)
        with pytest.raises(ValueError, match=message):
            t.solve(A, b)
        assert _tuner_state(t)[:2] == before[:2]
    A.data[:] = saved
    r = t.solve(A, b)
    ref = ssor_pcg(A, b, r.omega)
    assert (r.iterations, r.converged) == (ref.iterations, ref.converged)
    np.testing.assert_array_equal(r.x, ref.x)


def test_an_in_place_change_of_the_index_arrays_is_seen():
    """The same object whose column indices are changed in place (a pattern of another
    matrix): prepared afresh, solved as that matrix, never as the cached pattern."""
    A = gallery.crank_nicolson_2d(10, 0.05)
    b = np.ones(A.shape[0])
    t = Tuner(FixedArm([1.5]), solver="ssor_pcg")
    t.solve(A, b)
    t.solve(A, b)
    # row 0 stores (0, 0), (0, 1), (0, m): its far entry moved to column m + 1 (no mirror)
    m = int(A.indices[A.indptr[0] + 2])
    assert A.indices[A.indptr[0]:A.indptr[1]].tolist() == [0, 1, m]
    A.indices[A.indptr[0] + 2] = m + 1
    with pytest.raises(ValueError, match="not symmetric"):
        t.solve(A, b)
    A.indices[A.indptr[0] + 2] = m
    A.indices[A.indptr[0] + 1], A.indices[A.indptr[0] + 2] = m, 1  # unsorted, same matrix
    A.data[A.indptr[0] + 1], A.data[A.indptr[0] + 2] = A.data[A.indptr[0] + 2], A.data[
        A.indptr[0] + 1]
    A.has_sorted_indices = False
    r = t.solve(A, b)
    ref = ssor_pcg(sp.csr_array(A.toarray()), b, 1.5)
    assert r.iterations == ref.iterations
    np.testing.assert_array_equal(r.x, ref.x)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 30), density=st.floats(0.05, 0.4), seed=st.integers(0, 10_000),
       symmetric=st.booleans(), where=st.floats(0.0, 1.0), factor=st.sampled_from(
           [1.0, -1.0, 0.0, 3.0, 1e-3]))
def test_a_refresh_after_an_unchanged_one_equals_a_fresh_preparation(n, density, seed,
                                                                     symmetric, where, factor):
    """Refreshed with its own values (kept), then with one entry changed anywhere — before or
    after the largest magnitude, on or off the diagonal — the working copy is the operator a
    fresh preparation builds: every check's result, the buffer and the inverse diagonal."""
    A = _random_pattern(n, density, seed, symmetric_pattern=symmetric,
                        symmetric_values=symmetric)
    op = prepare(A, overwrite=True)
    op.split_triangles()
    B = A.copy()
    op = prepare(B, like=op, overwrite=True)
    version = op.values_version
    assert prepare(B, like=op, overwrite=True) is op  # unchanged: kept
    _assert_same_operator(op, prepare(A))
    assert op.values_version == version + 1  # a refresh all the same (set-ups compare it)
    k = min(int(where * B.nnz), B.nnz - 1)
    B.data[k] = B.data[k] * factor if B.data[k] != 0.0 else factor
    op = prepare(B, like=op, overwrite=True)
    _assert_same_operator(op, prepare(B.copy()))


def test_the_kept_refresh_is_told_apart_only_by_the_bits():
    """``-0.0`` for a stored ``0.0`` is a change (placed, checked); the kernel reports an
    unchanged refresh only for equal bits, and the largest magnitude of the entries before
    the first change is counted."""
    A = gallery.crank_nicolson_2d(6, 0.05).tocsr()
    A.data[np.argmax(np.abs(A.data))] *= 1.0  # (the largest entries: the diagonal)
    op = prepare(A, overwrite=True)
    op.split_triangles()
    slot, umirror, lonely, nl, nu = op._values_pattern()
    values, inv = op._values, op._inv_diagonal
    args = (A.indptr, A.indices, A.data, op.indptr, op.indices, slot, values, umirror, lonely,
            inv)
    out = P.refresh_values_kept(*args, True)
    assert out[:3] == (False, 0, True)
    C = A.copy()
    C.data[-1] = C.data[-1] + 0.0  # the same value: still unchanged
    assert P.refresh_values_kept(*args[:2], C.data, *args[3:], True)[2]
    D = A.copy()
    D.data[-1] *= 1.0 + 2.0 ** -52  # the last entry, one ulp more
    full = P.refresh_values(*args[:2], D.data, *args[3:6], np.zeros_like(values), umirror,
                            lonely, np.empty_like(inv))
    kept = P.refresh_values_kept(*args[:2], D.data, *args[3:], True)
    assert not kept[2]
    assert (kept[0], kept[1], *kept[3:]) == full  # max |a_ij| of the entries before it too
    assert kept[3] == np.abs(D.data).max()


@pytest.mark.parametrize("n", [1, 7, 64, 1001])
@pytest.mark.parametrize("with_x0, copy", [(False, False), (True, False), (True, True)])
def test_the_check_of_b_and_x0_sums_and_counts_as_before(n, with_x0, copy):
    """Σ b² summed in order (the same bits as a loop of adds), the non-finite entries of each
    vector counted, and the copy of ``x0`` made, in the one loop over both."""
    rng = np.random.default_rng(n)
    b = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)
    x0 = rng.standard_normal(n)
    if n > 1:
        b[n // 2], x0[n // 3], x0[-1] = np.nan, np.inf, -np.inf
    out = np.empty(n if copy else 0)
    bad_b, sumsq, bad_x = P.check_rhs(b, x0 if with_x0 else np.empty(0), out)
    ref = 0.0
    for v in b:
        ref += v * v
    assert (math.isnan(sumsq) and math.isnan(ref)) or sumsq == ref
    assert bad_b == np.count_nonzero(~np.isfinite(b))
    assert bad_x == (np.count_nonzero(~np.isfinite(x0)) if with_x0 else 0)
    if copy:
        np.testing.assert_array_equal(out, x0)
