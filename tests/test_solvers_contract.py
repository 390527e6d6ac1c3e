"""The solver contract (stopping rule, iteration count, x0 untouched) and bad input, for every solver."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings, strategies as st

import dense_gold as gold
from solvers import (SOLVERS, ConvergenceError, SolveResult, cg, gallery, pcg, prepare, sor,
                     ssor_pcg)

#: preconditioned CG, one case per preconditioner ("pcg:<preconditioner>")
PCG = ["pcg:none", "pcg:jacobi", "pcg:ssor", "pcg:ic0", "pcg:amg"]


def run(name, A, b, omega=1.3, **kw):
    if name.startswith("pcg:"):
        pc = name[4:]
        return pcg(A, b, {"pc": "ssor", "omega": omega} if pc == "ssor" else pc, **kw)
    return SOLVERS[name](A, b, **kw) if name == "cg" else SOLVERS[name](A, b, omega, **kw)


NAMES = list(SOLVERS) + PCG
WITH_OMEGA = ["sor", "ssor_pcg", "pcg:ssor"]
A0 = gallery.laplacian_2d(6)
B0 = np.random.default_rng(0).standard_normal(36)


@pytest.mark.parametrize("name", NAMES)
def test_zero_rhs_returns_zero(name):
    res = run(name, A0, np.zeros(36), x0=np.ones(36))
    assert res.converged and res.iterations == 0
    np.testing.assert_array_equal(res.x, 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_x0_not_modified(name):
    x0 = np.full(36, 0.25)
    keep = x0.copy()
    res = run(name, A0, B0, x0=x0)
    np.testing.assert_array_equal(x0, keep)
    assert res.x is not x0


@pytest.mark.parametrize("name", NAMES)
def test_maxiter_one_runs_exactly_once(name):
    res = run(name, A0, B0, maxiter=1)
    assert res.iterations == 1 and not res.converged and res.reason == "maxiter"
    with pytest.raises(ConvergenceError, match="did not converge"):
        res.raise_if_not_converged()


@pytest.mark.parametrize("name", NAMES)
def test_cap_is_reported_not_converged(name):
    res = run(name, A0, B0, maxiter=3, rtol=1e-14)
    assert (res.iterations, res.converged, res.reason) == (3, False, "maxiter")
    assert res.residual_norm > 1e-14 * np.linalg.norm(B0)


@pytest.mark.parametrize("name", NAMES)
def test_warm_start_already_converged_takes_zero_iterations(name):
    first = run(name, A0, B0)
    again = run(name, A0, B0, x0=first.x)
    assert first.converged and first.iterations > 0
    assert again.converged and again.iterations == 0
    np.testing.assert_array_equal(again.x, first.x)


@pytest.mark.parametrize("name", NAMES)
def test_result_fields(name):
    res = run(name, A0, B0, rtol=1e-10)
    assert isinstance(res, SolveResult)
    assert res.solver == name.split(":")[0] and res.backend == "numba" and res.seconds > 0
    assert res.residual_norm == pytest.approx(np.linalg.norm(B0 - A0 @ res.x), rel=1e-9)
    assert res.residual_norm <= 1e-10 * np.linalg.norm(B0)
    assert res.omega == (1.3 if name in WITH_OMEGA else None)
    np.testing.assert_allclose(res.x, np.linalg.solve(A0.toarray(), B0), rtol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_atol_rule(name):
    res = run(name, A0, B0, rtol=0.0, atol=1e-3)
    assert res.converged and res.residual_norm <= 1e-3
    assert run(name, A0, B0, rtol=0.0, atol=1e-3, maxiter=res.iterations - 1).residual_norm > 1e-3


def test_prepared_operator_is_reused_not_reconverted():
    op = prepare(A0)
    assert prepare(op) is op
    ring = op.ring()
    for w in (1.0, 1.5):
        sor(op, B0, w)
    assert op.ring() is ring


# -- bad input: one test each, message names the problem ---------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_non_square(name):
    with pytest.raises(ValueError, match="square"):
        run(name, sp.random_array((3, 4), density=0.5), np.ones(3))


@pytest.mark.parametrize("name", NAMES)
def test_empty(name):
    with pytest.raises(ValueError, match="empty"):
        run(name, np.zeros((0, 0)), np.zeros(0))


@pytest.mark.parametrize("name", NAMES)
def test_b_length(name):
    with pytest.raises(ValueError, match=r"b has shape \(35,\), expected \(36,\)"):
        run(name, A0, np.ones(35))


@pytest.mark.parametrize("name", NAMES)
def test_x0_length(name):
    with pytest.raises(ValueError, match="x0 has shape"):
        run(name, A0, B0, x0=np.ones(37))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_matrix(name, bad):
    A = A0.toarray()
    A[3, 4] = A[4, 3] = bad
    with pytest.raises(ValueError, match="A contains NaN or Inf"):
        run(name, A, B0)


@pytest.mark.parametrize("name", NAMES)
def test_nonfinite_rhs_and_x0(name):
    b = B0.copy()
    b[0] = np.nan
    with pytest.raises(ValueError, match="b contains NaN or Inf"):
        run(name, A0, b)
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        run(name, A0, B0, x0=np.full(36, np.inf))


@pytest.mark.parametrize("name", ["sor", "ssor_pcg"] + PCG[1:])
def test_zero_diagonal(name):
    A = A0.toarray()
    A[5, 5] = 0.0
    with pytest.raises(ValueError, match="zero or missing diagonal entry in row 5"):
        run(name, sp.csr_array(A), B0)


@pytest.mark.parametrize("name", ["sor", "ssor_pcg"] + PCG[1:])
def test_missing_diagonal(name):
    A = sp.csr_array(A0.toarray())
    A = A.tolil()
    A[7, 7] = 0
    A = sp.csr_array(A)
    A.eliminate_zeros()
    with pytest.raises(ValueError, match="zero or missing diagonal entry in row 7"):
        run(name, A, B0)


@pytest.mark.parametrize("name", WITH_OMEGA)
@pytest.mark.parametrize("omega", [0.0, 2.0, -0.5, 2.5, float("nan"), "1.2", None])
def test_omega_out_of_range(name, omega):
    with pytest.raises(ValueError, match="omega"):
        run(name, A0, B0, omega=omega)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [object, "U1", complex])
def test_non_numeric_dtype(name, dtype):
    # (a complex matrix whose imaginary parts are all zero is solved as real)
    A = A0.toarray().astype(dtype)
    if dtype is complex:
        A = A * (1 + 1j)
    with pytest.raises(ValueError, match="dtype|complex"):
        run(name, A, B0)


@pytest.mark.parametrize("name", ["ssor_pcg", "cg"] + PCG)
def test_non_symmetric_rejected(name):
    A = gallery.random_diagonally_dominant(30, 0.2, seed=1)
    with pytest.raises(ValueError, match="not symmetric"):
        run(name, A, np.ones(30))


@pytest.mark.parametrize("name", ["ssor_pcg"] + PCG[1:])
def test_negative_diagonal_rejected(name):
    with pytest.raises(ValueError, match="negative diagonal"):
        run(name, -A0, B0)


@pytest.mark.parametrize("name", NAMES)
def test_bad_tolerances(name):
    with pytest.raises(ValueError, match="rtol and atol cannot both be 0"):
        run(name, A0, B0, rtol=0.0)
    with pytest.raises(ValueError, match="maxiter"):
        run(name, A0, B0, maxiter=-1)


def test_options_only_with_petsc_and_unknown_backend():
    with pytest.raises(ValueError, match="only accepted with backend='petsc'"):
        sor(A0, B0, 1.2, options={"pc_type": "jacobi"})
    with pytest.raises(ValueError, match="backend"):
        cg(A0, B0, backend="cuda")


@pytest.mark.parametrize("name", ["ssor_pcg", "cg"] + PCG)
def test_cg_breakdown_on_indefinite_matrix(name):
    A = np.array([[1.0, 2.0], [2.0, 1.0]])  # symmetric, positive diagonal, indefinite
    res = run(name, A, np.array([1.0, -1.0]))
    assert not res.converged and res.reason == "breakdown"
    assert np.all(np.isfinite(res.x))


def test_sor_divergence_is_stopped_with_finite_iterate():
    A = np.array([[1.0, 3.0], [3.0, 1.0]])  # Gauss-Seidel amplification 9 per sweep
    res = sor(A, np.array([1.0, 2.0]), 1.0)
    assert not res.converged and res.reason == "diverged"
    assert res.iterations < 50 and np.all(np.isfinite(res.x))


def _first_growth(A, b, omega, dtol, maxiter=200):
    """Dense reference: first SOR sweep whose residual exceeds ``dtol·‖r_0‖``."""
    A = np.asarray(A, dtype=float)
    n = len(b)
    x = np.zeros(n)
    r0 = np.linalg.norm(b)
    for k in range(1, maxiter + 1):
        for i in range(n):
            s = b[i] - A[i] @ x + A[i, i] * x[i]
            x[i] = (1 - omega) * x[i] + omega * s / A[i, i]
        if np.linalg.norm(b - A @ x) > dtol * r0:
            return k
    raise AssertionError("no divergence")


@pytest.mark.parametrize("dtol", [10.0, 1e3, 1e8])
def test_sor_dtol_stops_at_the_first_sweep_beyond_it(dtol):
    A = np.array([[1.0, 3.0], [3.0, 1.0]])
    b = np.array([1.0, 2.0])
    res = sor(A, b, 1.0, dtol=dtol)
    assert res.reason == "diverged" and not res.converged
    assert res.iterations == _first_growth(A, b, 1.0, dtol)
    # the residual grew from the first sweep on: the best iterate is the start, x0 = 0
    assert res.info["best_iteration"] == 0 and not res.x.any()
    assert res.residual_norm == np.linalg.norm(b)


@pytest.mark.parametrize("name", ["sor", "ssor_pcg", "cg"] + PCG)
@pytest.mark.parametrize("bad", [1.0, 0.5, -3.0, float("nan"), "big", True])
def test_dtol_must_exceed_one(name, bad):
    with pytest.raises(ValueError, match="dtol"):
        run(name, A0, B0, dtol=bad)


@pytest.mark.parametrize("name", ["sor", "ssor_pcg", "cg"] + PCG)
def test_dtol_inf_keeps_convergence(name):
    assert run(name, A0, B0, dtol=float("inf")).converged


# -- property tests against the dense references ----------------------------------------------

@st.composite
def systems(draw, spd):
    n = draw(st.integers(2, 25))
    density = draw(st.floats(0.05, 0.6))
    seed = draw(st.integers(0, 2**31 - 1))
    A = (gallery.random_spd if spd else gallery.random_diagonally_dominant)(n, density, seed=seed)
    b = np.random.default_rng(seed).standard_normal(n)
    return A, b


@settings(max_examples=40, deadline=None)
@given(systems(spd=False), st.floats(0.2, 1.9), st.integers(1, 4))
# a diagonal matrix at omega = 1: one sweep solves it exactly (residual 0), converged even at
# rtol = atol = 1e-300, and a converged solve has no best iterate apart from its last
@example((sp.csr_array(np.diag([2.0, 3.0])), np.array([0.12573022, -0.13210486])), 1.0, 1)
def test_sor_property_vs_dense(system, omega, sweeps):
    A, b = system
    res = sor(A, b, omega, maxiter=sweeps, rtol=1e-300, atol=1e-300)
    # a capped solve returns its best iterate: the gold one of that many sweeps
    k = res.iterations if res.converged else res.info["best_iteration"]
    ref = gold.sor_sweeps(A, b, omega, np.zeros_like(b), k)
    np.testing.assert_allclose(res.x, ref, rtol=1e-9, atol=1e-9 * (1 + np.abs(ref).max()))


@settings(max_examples=40, deadline=None)
@given(systems(spd=True), st.floats(0.2, 1.9))
def test_ssor_pcg_and_cg_property_vs_dense_solve(system, omega):
    A, b = system
    x_true = np.linalg.solve(A.toarray(), b)
    for res in (ssor_pcg(A, b, omega, rtol=1e-10), cg(A, b, rtol=1e-10)):
        assert res.converged and res.iterations <= A.shape[0] + 5
        assert res.residual_norm <= 1e-10 * np.linalg.norm(b)
        np.testing.assert_allclose(res.x, x_true, rtol=1e-6, atol=1e-8)
    _, count, _ = gold.scipy_cg_count(A, b, M=gold.ssor_operator(A, omega), rtol=1e-10)
    assert abs(ssor_pcg(A, b, omega, rtol=1e-10).iterations - count) <= 1


# -- the prepared operator's one-pass analysis ------------------------------------------------

def test_unsorted_and_duplicate_csr_is_canonicalised():
    A = gallery.laplacian_2d(5).toarray()
    rows, cols = np.nonzero(A)
    order = np.random.default_rng(0).permutation(rows.size)
    vals = A[rows, cols]
    # split every value into two duplicates and shuffle entries within the arrays
    r2 = np.concatenate([rows[order], rows[order]])
    c2 = np.concatenate([cols[order], cols[order]])
    v2 = np.concatenate([vals[order] * 0.25, vals[order] * 0.75])
    messy = sp.csr_array(sp.coo_array((v2, (r2, c2)), shape=A.shape), copy=True)
    # coo→csr sums duplicates; rebuild raw arrays to keep them unsorted and duplicated
    indptr = np.zeros(26, dtype=np.int32)
    np.add.at(indptr, r2 + 1, 1)
    indptr = np.cumsum(indptr)
    idx = np.argsort(r2, kind="stable")
    raw = sp.csr_array((v2[idx], c2[idx], indptr), shape=A.shape)
    assert not raw.has_sorted_indices or raw.nnz != messy.nnz
    op = prepare(raw)
    np.testing.assert_allclose(op.matrix.toarray(), A)
    assert op.bandwidth == 5 and op.nnz == np.count_nonzero(A)
    np.testing.assert_array_equal(op.diagonal, 4.0)
    b = np.arange(25.0)
    assert sor(raw, b, 1.3).iterations == sor(A, b, 1.3).iterations


def test_explicit_zero_on_sparse_diagonal():
    A = sp.csr_array(gallery.laplacian_2d(4))
    k = A.indptr[2] + int(np.flatnonzero(A.indices[A.indptr[2]:A.indptr[3]] == 2)[0])
    A.data[k] = 0.0  # stored, but zero
    with pytest.raises(ValueError, match="row 2 \\(explicit zero"):
        sor(A, np.ones(16), 1.2)


@pytest.mark.parametrize("where", ["value", "missing mirror"])
def test_asymmetry_is_exact(where):
    A = gallery.laplacian_2d(6).tolil()
    if where == "value":
        A[3, 4] = -1.5  # mirror (4, 3) stays -1
        expected = 0.5 / 4.0
    else:
        A[0, 20] = 0.8  # no (20, 0) entry at all
        expected = 0.8 / 4.0
    op = prepare(sp.csr_array(A))
    assert op.asymmetry() == pytest.approx(expected)
    assert prepare(gallery.laplacian_2d(6)).asymmetry() == 0.0
    with pytest.raises(ValueError, match="not symmetric"):
        cg(op, np.ones(36))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.floats(0.05, 0.5), st.integers(0, 2**31 - 1), st.booleans())
def test_asymmetry_matches_dense_reference(n, density, seed, perturb):
    A = (gallery.random_spd if seed % 2 else gallery.random_diagonally_dominant)(n, density,
                                                                                 seed=seed)
    if perturb:
        A = A.tolil()
        A[n - 1, 0] = A[n - 1, 0] + 0.25
        A = sp.csr_array(A)
    D = A.toarray()
    expected = np.abs(D - D.T).max() / np.abs(D).max()
    assert prepare(A).asymmetry() == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("A", [gallery.random_diagonally_dominant(40, 0.2, seed=4),
                               gallery.laplacian_2d(5), gallery.crank_nicolson_2d(6, 0.01)])
def test_split_triangles_are_the_strict_triangles(A):
    (lp, li, ld, lnear), (up, ui, ud, unear) = prepare(A).split_triangles()
    D = np.asarray(A.toarray())
    n = D.shape[0]
    L = sp.csr_array((ld, li.astype(np.int64), lp.astype(np.int64)), shape=(n, n)).toarray()
    U = sp.csr_array((ud, ui.astype(np.int64), up.astype(np.int64)), shape=(n, n)).toarray()
    np.testing.assert_array_equal(L + np.diag(lnear[1:], -1), np.tril(D, -1))
    np.testing.assert_array_equal(U + np.diag(unear[:-1], 1), np.triu(D, 1))
    assert lnear[0] == 0.0 and unear[-1] == 0.0
    last = [max([i] + [j for j in range(n) if D[i, j] != 0 or j == i]) for i in range(n)]
    np.testing.assert_array_equal(prepare(A).sor_finish(), last)
    assert np.all(li.astype(np.int64) < np.repeat(np.arange(n), np.diff(lp)) - 1)
    assert np.all(ui.astype(np.int64) > np.repeat(np.arange(n), np.diff(up)) + 1)


def test_with_values_matches_a_fresh_prepare():
    A1 = gallery.crank_nicolson_2d(9, 0.01)
    A2 = gallery.crank_nicolson_2d(9, 0.03)
    op1 = prepare(A1)
    op1.split_triangles(), op1.asymmetry()  # pattern caches filled from the first operator
    op2 = op1.with_values(A2)
    ref = prepare(A2)
    assert op2.indices is op1.indices and op2.data is not op1.data
    for name in ("data", "diagonal", "inv_diagonal"):
        np.testing.assert_array_equal(getattr(op2, name), getattr(ref, name))
    for part2, part_ref in zip(op2.split_triangles(), ref.split_triangles()):
        for a, b in zip(part2, part_ref):
            np.testing.assert_array_equal(a, b)
    assert op2.asymmetry() == ref.asymmetry() == 0.0
    b = np.random.default_rng(1).standard_normal(A1.shape[0])
    r2, rr = ssor_pcg(op2, b, 1.4), ssor_pcg(ref, b, 1.4)
    assert r2.iterations == rr.iterations
    np.testing.assert_array_equal(r2.x, rr.x)
    # op1 still describes A1
    assert ssor_pcg(op1, b, 1.4).iterations == ssor_pcg(A1, b, 1.4).iterations


def test_with_values_redoes_every_value_check():
    """The one-pass refresh must catch what a fresh prepare catches on the same pattern."""
    A = gallery.crank_nicolson_2d(6, 0.01)
    n = A.shape[0]
    op = prepare(A)
    op.split_triangles(), op.asymmetry()
    on_diagonal = A.indices == np.repeat(np.arange(n), np.diff(A.indptr))
    zero = A.copy()
    zero.data[on_diagonal] = np.r_[1.0, 1.0, 0.0, np.ones(n - 3)]
    with pytest.raises(ValueError, match="zero or missing diagonal entry in row 2"):
        ssor_pcg(op.with_values(zero), np.ones(n), 1.2)
    neg = A.copy()
    neg.data[on_diagonal] *= np.r_[np.ones(7), -1.0, np.ones(n - 8)]
    with pytest.raises(ValueError, match="negative diagonal entry .* in row 7"):
        ssor_pcg(op.with_values(neg), np.ones(n), 1.2)
    big = A * 4.0
    op_big = op.with_values(big)
    np.testing.assert_array_equal(op_big.inv_diagonal, 1.0 / big.diagonal())
    np.testing.assert_array_equal(op_big.diagonal, big.diagonal())
    assert op.with_values(A).asymmetry() == 0.0 and op.diagonal[0] == A.diagonal()[0]


def test_with_values_checks_values_and_falls_back_on_another_pattern():
    A = gallery.crank_nicolson_2d(6, 0.01)
    op = prepare(A)
    bad = A.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        op.with_values(bad)
    lop = A.tolil()
    lop[0, 10] = 0.5  # a new entry: different pattern, full preparation
    other = op.with_values(sp.csr_array(lop))
    assert other.nnz == op.nnz + 1 and other.asymmetry() > 0
    skew = A.copy()
    skew.data[skew.indices != np.repeat(np.arange(25), np.diff(skew.indptr))] *= \
        np.linspace(1, 2, skew.nnz - 25)
    with pytest.raises(ValueError, match="not symmetric"):
        cg(op.with_values(skew), np.ones(25))


def test_result_replace_copies_and_rejects_unknown_fields():
    r = cg(gallery.laplacian_2d(4), np.ones(16))
    r2 = r.replace(iterations=99, info={"k": 1})
    assert (r2.iterations, r.iterations) == (99, r.iterations) and r2.x is r.x
    assert r2.info == {"k": 1} and r.info == {}
    with pytest.raises(TypeError, match="no field"):
        r.replace(iters=3)
    with pytest.raises(AttributeError):
        r2.iters = 1  # slotted: a misspelt field is an error, not a new attribute
    r2.arm = 4  # a plain record: fields are set in place, the original is untouched
    assert (r2.arm, r.arm) == (4, None)


def test_result_pickles_and_its_constructor_is_the_solvers_own():
    import pickle
    r = cg(gallery.laplacian_2d(4), np.ones(16))
    ref = SolveResult(**{f: getattr(r, f) for f in ("x", "iterations", "converged", "residual_norm",
                                                     "omega", "solver", "reason", "seconds",
                                                     "backend", "b_norm", "rtol", "atol",
                                                     "maxiter")})
    assert r == ref and r.info == {} and r.arm is None and r.settings is None
    assert r.info is not cg(gallery.laplacian_2d(4), np.ones(16)).info  # no shared default
    back = pickle.loads(pickle.dumps(r))  # results cross MPI ranks pickled
    np.testing.assert_array_equal(back.x, r.x)
    assert (back.iterations, back.reason, back.info) == (r.iterations, r.reason, r.info)


def test_with_values_rejects_extra_capacity_and_other_shapes():
    A = gallery.crank_nicolson_2d(6, 0.01)
    n = A.shape[0]
    op = prepare(A)
    op.split_triangles(), op.asymmetry()
    wide = sp.csr_array((A.data, A.indices, A.indptr), shape=(n, n + 3))
    with pytest.raises(ValueError, match="square"):
        op.with_values(wide)
    padded = sp.csr_array((np.r_[A.data, 7.0], np.r_[A.indices, 0], A.indptr), shape=(n, n))
    other = op.with_values(padded)  # longer data than nnz: no in-place refresh, a full prepare
    np.testing.assert_array_equal(other.data, A.data)


@pytest.mark.parametrize("solve", [lambda A, b, **kw: ssor_pcg(A, b, 1.3, **kw),
                                   lambda A, b, **kw: ssor_pcg(A, b, 1.3, order="textbook", **kw),
                                   lambda A, b, **kw: cg(A, b, **kw)]
                         + [lambda A, b, pc=pc, **kw: pcg(A, b, pc, **kw)
                            for pc in ("jacobi", "ic0", "amg")])
def test_residual_gap_is_never_reported_as_convergence(solve):
    """Below rounding level the recursive residual keeps falling while the true one
    stagnates: every time the recursion claims convergence the true residual must veto it,
    and after a few vetoes without progress the solve stops as stagnated."""
    A = gallery.laplacian_2d(12)
    b = np.random.default_rng(7).standard_normal(A.shape[0])
    r = solve(A, b, rtol=1e-17, maxiter=400)
    true = np.linalg.norm(b - A @ r.x)
    # STALL_CHECKS checks, STAGNATION_WINDOW apart, after the first false claim of convergence
    # (at 26 to 57 iterations)
    assert not r.converged and r.reason == "stagnated" and r.iterations <= 57 + 3 * 50
    assert np.isfinite(r.x).all() and r.residual_norm == pytest.approx(true, rel=1e-6)
    assert true < 1e-14 * np.linalg.norm(b)  # at rounding level
    assert true > 1e-17 * np.linalg.norm(b)
    ok = solve(A, b, rtol=1e-12)  # attainable: converges, and truly
    assert ok.converged and np.linalg.norm(b - A @ ok.x) <= 1e-12 * np.linalg.norm(b)


def test_capped_sor_reports_the_true_residual_of_its_last_iterate():
    # SOR's in-sweep residual is exact, so a capped solve reports it without another product
    A = gallery.random_diagonally_dominant(60, 0.15, seed=3)
    b = np.random.default_rng(3).standard_normal(60)
    for w in (0.7, 1.3, 1.9):
        r = sor(A, b, w, maxiter=4)
        assert not r.converged and r.reason == "maxiter"
        assert r.residual_norm == pytest.approx(np.linalg.norm(b - A @ r.x), rel=1e-9)
