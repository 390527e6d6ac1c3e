"""The Tuner's in-place refresh of its working copy (``CSROperator._refresh_in_place``, one
compiled call: pattern compared, values placed and checked, pairs and diagonal checked) refuses
exactly what a fresh :func:`solvers.prepare` refuses, with the same messages, and its checks'
numbers are those of dense NumPy references: small random CSR matrices with NaN, ±Inf, zero,
missing, subnormal or negative diagonal entries and asymmetry injected anywhere (every position
modulo the placement's unrolling by four included)."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from solvers import prepare

SOLVERS = ("sor", "ssor_pcg", "cg")
INJECT = ("none", "nan", "inf", "-inf", "zero_diag", "tiny_diag", "negative_diag",
          "all_negative", "asymmetry", "small_asymmetry", "two_nan")


def _base(n, density, seed, drop_diag):
    """A symmetric, diagonally dominant matrix on a random pattern with a symmetric
    structure (its diagonal stored, but for row ``drop_diag`` if ≥ 0)."""
    rng = np.random.default_rng(seed)
    M = sp.random(n, n, density=density, random_state=rng, format="csr")
    M = M + M.T
    M.data[:] = -rng.uniform(0.1, 1.0, M.nnz)
    M = (M + M.T) * 0.5
    D = sp.diags(abs(M).sum(axis=1).A1 + 1.0 + np.arange(n) * 0.0).tocsr()
    A = (M + D).tocsr()
    if 0 <= drop_diag < n:
        A = A.tolil()
        A[drop_diag, drop_diag] = 0.0
        A = A.tocsr()
        A.eliminate_zeros()
    A.sort_indices()
    A.data = np.ascontiguousarray(A.data, dtype=np.float64)
    return A


def _inject(A, what, pos, rng):
    B = A.copy()
    diag_k = [k for i in range(A.shape[0]) for k in range(B.indptr[i], B.indptr[i + 1])
              if B.indices[k] == i]
    off_k = [k for i in range(A.shape[0]) for k in range(B.indptr[i], B.indptr[i + 1])
             if B.indices[k] != i]
    k = pos % B.nnz
    if what == "nan":
        B.data[k] = np.nan
    elif what == "inf":
        B.data[k] = np.inf
    elif what == "-inf":
        B.data[k] = -np.inf
    elif what == "two_nan":
        B.data[k] = np.nan
        B.data[-1] = np.inf
    elif what in ("zero_diag", "tiny_diag", "negative_diag") and diag_k:
        B.data[diag_k[pos % len(diag_k)]] = {"zero_diag": 0.0, "tiny_diag": 5e-324,
                                             "negative_diag": -2.0}[what]
    elif what == "all_negative":
        B.data *= -1.0
    elif what in ("asymmetry", "small_asymmetry") and off_k:
        B.data[off_k[pos % len(off_k)]] *= 1.5 if what == "asymmetry" else 1.0 + 1e-8
    return B


def _outcome(op_or_error):
    """(the preparation's error, each solver's refusal, the asymmetry) of an operator."""
    if isinstance(op_or_error, Exception):
        return str(op_or_error), None, None
    said = []
    for s in SOLVERS:
        try:
            op_or_error.require(s)
            said.append(None)
        except ValueError as e:
            said.append(str(e))
    return None, tuple(said), op_or_error.asymmetry()


def _fresh(B):
    try:
        return prepare(B.copy())
    except ValueError as e:
        return e


def _refreshed(op, B):
    try:
        assert op._refresh_in_place(B) is True
        return op
    except ValueError as e:
        return e


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 13), density=st.floats(0.0, 0.6), seed=st.integers(0, 10**6),
       drop=st.integers(-1, 12), what=st.sampled_from(INJECT), pos=st.integers(0, 10**4))
def test_the_in_place_refresh_refuses_exactly_what_a_fresh_preparation_refuses(
        n, density, seed, drop, what, pos):
    A = _base(n, density, seed, drop if drop < n else -1)
    assume(A.nnz > 0)
    op = prepare(A.copy(), overwrite=True)
    op.split_triangles()
    assert op._refresh_in_place(A.copy())  # the working copy's layout: the fast path
    op.split_triangles()  # asked for: the next refresh places the values (without: test_refresh_csr)
    B = _inject(A, what, pos, np.random.default_rng(seed))
    new, old = _outcome(_refreshed(op, B)), _outcome(_fresh(B))
    assert new == old
    dense = B.toarray()
    finite = np.isfinite(B.data)
    if not finite.all():
        bad = int((~finite).sum())
        assert new[0].startswith(f"A contains NaN or Inf ({bad} non-finite entr")
        # the operator is unusable until a successful refresh, which restores it
        with pytest.raises(ValueError, match="cannot be used"):
            op.require("sor")
        assert op._refresh_in_place(A.copy())
        assert _outcome(op) == _outcome(prepare(A.copy()))
        return
    # dense references for the checks' numbers
    amax = np.abs(dense).max()
    asym = np.abs(dense - dense.T).max() / amax if amax > 0 else 0.0
    assert new[2] == pytest.approx(asym, rel=1e-15, abs=0.0)
    d = np.diag(dense)
    diag_bad = ~(np.abs(d) > 2.0 ** -1024)
    if diag_bad.any():
        assert new[1][0].startswith(
            f"A has a zero or missing diagonal entry in row {int(np.argmax(diag_bad))} ")
    else:
        assert new[1][0] is None
    assert (new[1][2] is None) == (asym <= 1e-10)  # cg: symmetry only
    np.testing.assert_array_equal(op.inv_diagonal,
                                  np.where(diag_bad, 0.0, 1.0 / np.where(diag_bad, 1.0, d)))


@pytest.mark.parametrize("nnz_extra", range(4))
def test_the_placement_counts_every_non_finite_entry_wherever_it_is(nnz_extra):
    """Every position of an unrolled placement — the four lanes and the remainder — is
    checked: a NaN in the last entry alone, and the count of several."""
    n = 5 + nnz_extra
    A = sp.diags([-1.0, 4.0, -1.0], [-1, 0, 1], shape=(n, n), format="csr")
    op = prepare(A.copy(), overwrite=True)
    op.split_triangles()
    for k in range(A.nnz):
        B = A.copy()
        B.data[k] = np.nan
        with pytest.raises(ValueError, match=r"\(1 non-finite entry\)"):
            op._refresh_in_place(B)
        assert op._refresh_in_place(A.copy())
        op.split_triangles()  # (the placing refresh; without the split: test_refresh_csr)
    B = A.copy()
    B.data[::3] = np.inf
    with pytest.raises(ValueError, match=rf"\({len(B.data[::3])} non-finite entries\)"):
        op._refresh_in_place(B)
