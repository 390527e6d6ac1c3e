"""The Tuner's hot path: b and x0 checked once, the solvers' already-validated entries, the
one-arm leader, and the value buffer every prepared operator uses — each against the public,
fully checked path or an independent dense reference."""
import math
import re

import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from bandit import FixedArm, Tuner
from solvers import cg, gallery, prepare, sor, ssor_pcg
from solvers._api import checked_entry, run_checked
from solvers._checks import check_rhs

RUNS = [(sor, {"omega": 1.3}), (ssor_pcg, {"omega": 1.6}),
        (ssor_pcg, {"omega": 1.6, "order": "textbook"}), (cg, {})]


def _same(r, ref):
    assert (r.iterations, r.converged, r.reason, r.solver, r.omega, r.b_norm) == (
        ref.iterations, ref.converged, ref.reason, ref.solver, ref.omega, ref.b_norm)
    assert r.residual_norm == ref.residual_norm
    np.testing.assert_array_equal(r.x, ref.x)


@pytest.mark.parametrize("fn, kw", RUNS)
@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-170, 0.0])
@pytest.mark.parametrize("warm", [False, True])
def test_checked_entry_solves_exactly_as_the_public_function(fn, kw, scale, warm):
    A = gallery.crank_nicolson_2d(9, 0.05)
    op = prepare(A)
    rng = np.random.default_rng(1)
    b = scale * rng.standard_normal(op.n)
    x0 = scale * rng.standard_normal(op.n) if warm else None
    entry = checked_entry(fn, {"rtol": 1e-9, "atol": 0.0, "dtol": 1e6, **kw})
    b_checked, b_norm, x0_checked = check_rhs(b, x0, op.n)
    x = np.zeros(op.n) if x0 is None else x0_checked.copy()
    r = run_checked(entry, op, b_checked, b_norm, x, 500)
    ref = fn(op, b, x0=x0, rtol=1e-9, dtol=1e6, maxiter=500, **kw)
    _same(r, ref)
    assert r.x is x


def test_checked_entry_is_only_for_what_its_core_runs():
    assert checked_entry(solvers.pcg, {"pc": "jacobi"}) is None  # a preconditioner
    assert checked_entry(sor, {"omega": 1.2, "backend": "petsc"}) is None
    assert checked_entry(cg, {"options": {"pc_type": "jacobi"}}) is None
    assert checked_entry(sor, {"omega": 1.2, "callback": print}) is None  # unknown keyword
    assert checked_entry(sor, {}) is None  # no ω
    assert checked_entry(cg, {"omega": 1.2}) is None
    with pytest.raises(ValueError, match="omega"):
        checked_entry(sor, {"omega": 2.5})
    with pytest.raises(ValueError, match="order"):
        checked_entry(ssor_pcg, {"omega": 1.2, "order": "sideways"})
    with pytest.raises(ValueError, match="dtol"):
        checked_entry(ssor_pcg, {"omega": 1.2, "dtol": 0.5})


def test_check_rhs_uses_good_vectors_as_given_and_refuses_bad_ones_by_name():
    rng = np.random.default_rng(0)
    b, x0 = rng.standard_normal(6), rng.standard_normal(6)
    out_b, norm, out_x0 = check_rhs(b, x0, 6)
    assert out_b is b and out_x0 is x0 and norm == pytest.approx(np.linalg.norm(b), rel=1e-15)
    wide = rng.standard_normal(12)
    out_b, norm, _ = check_rhs(wide[::2], None, 6)  # strided: a contiguous copy
    assert out_b.flags.c_contiguous and np.array_equal(out_b, wide[::2])
    assert check_rhs(np.arange(3), None, 3)[1] == pytest.approx(math.sqrt(5.0))  # ints
    for scale in (1e200, 1e-170):  # the sum of squares overflows or underflows: rescaled
        assert check_rhs(scale * b, None, 6)[1] == pytest.approx(scale * np.linalg.norm(b),
                                                                 rel=1e-14)
    bad = b.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="b contains NaN or Inf"):
        check_rhs(bad, x0, 6)
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        check_rhs(b, np.where(np.arange(6) == 2, np.inf, x0), 6)
    with pytest.raises(ValueError, match=r"x0 has shape \(5,\)"):
        check_rhs(b, x0[:5], 6)
    with pytest.raises(ValueError, match=r"b has shape"):
        check_rhs(b[:5], None, 6)


@pytest.mark.parametrize("solver, omega", [("ssor_pcg", 1.7), ("sor", 1.5), ("cg", None)])
def test_a_tuned_solve_is_the_fixed_solve(solver, omega):
    arms = [omega] if omega is not None else [{}]
    tuner = Tuner(FixedArm(arms), solver=solver)
    assert tuner._fast[0] is not None  # the already-validated entry
    rng = np.random.default_rng(3)
    fn = solvers.SOLVERS[solver]
    for dt in (0.01, 0.02, 0.04):
        A = gallery.crank_nicolson_2d(10, dt)
        b, x0 = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])
        keep = x0.copy()
        r = tuner.solve(A, b, x0=x0)
        ref = fn(prepare(A), b, **({} if omega is None else {"omega": omega}), x0=x0,
                 dtol=1e6)
        _same(r, ref)
        assert np.array_equal(x0, keep) and r.x is not x0  # x0 untouched
    assert tuner._checked is None  # nothing of the user's kept between calls


def test_the_one_arm_leader_is_the_arm_once_it_has_converged():
    tuner = Tuner(FixedArm([1.5]), solver="sor", maxiter=40)
    tuner.solve(gallery.laplacian_2d(30), np.ones(900))  # needs more than 40 sweeps: fails
    tuner.solve(gallery.laplacian_2d(4), np.ones(16))
    tuner.solve(gallery.laplacian_2d(4), np.ones(16))
    h = tuner.history
    assert h["converged"].tolist() == [False, True, True]
    # the same rule as Policy.leader: only an arm with a converged observation leads
    assert h["leader"].tolist() == [-1, -1, 0]
    assert tuner.policy.leader() == (0, pytest.approx(tuner.policy.cost_sums[0] / 3))


def test_refused_input_after_a_good_call_still_changes_nothing():
    A = gallery.laplacian_2d(8)
    tuner = Tuner(FixedArm([1.7]), solver="ssor_pcg")
    b = np.ones(64)
    tuner.solve(A, b)
    b[5] = np.nan  # the same array object, now bad: checked again on every call
    t, rounds = tuner.policy.t, len(tuner.history["arm"])
    with pytest.raises(ValueError, match="b contains NaN"):
        tuner.solve(A, b)
    assert tuner.policy.t == t and len(tuner.history["arm"]) == rounds


@pytest.mark.parametrize("make", [lambda: gallery.crank_nicolson_2d(7, 0.1),
                                  lambda: gallery.anisotropic_2d(6, 0.3),
                                  lambda: sp.random_array((30, 30), density=0.2, rng=4,
                                                          format="csr") + 5 * sp.eye_array(30)])
def test_prepared_value_buffer_against_dense_reference(make):
    A = sp.csr_array(make())
    A.sort_indices()
    op = prepare(A)
    version = op.values_version
    (lp, li, ld, lnear), (up, ui, ud, unear) = op.split_triangles()
    assert op.values_version == version  # building it changes no value: caches stay valid
    D = A.toarray()
    n = D.shape[0]
    idx = np.arange(n)
    np.testing.assert_array_equal(op.diagonal, np.diag(D))
    np.testing.assert_array_equal(op.inv_diagonal, 1.0 / np.diag(D))
    np.testing.assert_array_equal(lnear[1:], D[idx[1:], idx[1:] - 1])
    np.testing.assert_array_equal(unear[:-1], D[idx[:-1], idx[:-1] + 1])
    far_lower = sp.csr_array(sp.tril(A, -2, format="csr"))
    far_upper = sp.csr_array(sp.triu(A, 2, format="csr"))
    for (p, cols, vals), ref in (((lp, li, ld), far_lower), ((up, ui, ud), far_upper)):
        ref.sort_indices()
        np.testing.assert_array_equal(np.asarray(p, dtype=np.int64), ref.indptr)
        np.testing.assert_array_equal(np.asarray(cols, dtype=np.int64), ref.indices)
        np.testing.assert_array_equal(vals, ref.data)
    expected = np.abs(D - D.T).max() / np.abs(D).max()
    assert op.asymmetry() == pytest.approx(expected, rel=1e-15, abs=0.0)


@pytest.mark.parametrize("copy", ["pickle", "deepcopy"])
def test_a_copied_working_copy_refreshes_its_own_buffer(copy):
    import copy as copying
    import pickle

    op = prepare(gallery.crank_nicolson_2d(8, 0.01), overwrite=True)
    op = prepare(gallery.crank_nicolson_2d(8, 0.02), like=op, overwrite=True)
    twin = pickle.loads(pickle.dumps(op)) if copy == "pickle" else copying.deepcopy(op)
    for dt in (0.03, 0.04):
        A = gallery.crank_nicolson_2d(8, dt)
        twin = prepare(A, like=twin, overwrite=True)
        ref = prepare(A)
        np.testing.assert_array_equal(twin.diagonal, ref.diagonal)
        for part, part_ref in zip(twin.split_triangles(), ref.split_triangles()):
            for a, b in zip(part, part_ref):
                np.testing.assert_array_equal(a, b)
        b = np.ones(op.n)
        _same(ssor_pcg(twin, b, 1.5), ssor_pcg(ref, b, 1.5))


def test_refreshing_a_shallow_copy_of_a_working_copy_leaves_the_original_intact():
    # copy.copy shares the value buffer; a refresh of the copy in place wrote into it, and the
    # original — its caches and values_version unchanged — solved a mixture of two matrices
    import copy

    A0 = gallery.crank_nicolson_2d(8, 0.01)
    op = prepare(gallery.crank_nicolson_2d(8, 0.02), overwrite=True)
    op = prepare(A0, like=op, overwrite=True)  # a working copy as the Tuner keeps it
    twin = copy.copy(op)
    A1 = gallery.crank_nicolson_2d(8, 0.05)
    twin = prepare(A1, like=twin, overwrite=True)
    b = np.ones(op.n)
    for fn, kw in RUNS:
        _same(fn(op, b, **kw), fn(prepare(A0), b, **kw))
        _same(fn(twin, b, **kw), fn(prepare(A1), b, **kw))


# --- the in-place refresh of the Tuner's working copy (CSROperator._refresh_in_place) -------

def _on_pattern(A, change):
    """A fresh scipy matrix (new index arrays) on ``A``'s pattern with ``change(M)`` applied
    to a dense copy of its values, entries outside the pattern left alone."""
    M = A.toarray()
    change(M)
    B = A.copy()
    B.data[:] = M[np.repeat(np.arange(A.shape[0]), np.diff(A.indptr)), A.indices]
    return B


def test_refresh_in_place_equals_a_fresh_preparation_and_refuses_others_untouched():
    A = sp.csr_array(gallery.crank_nicolson_2d(8, 0.01))
    op = prepare(A, overwrite=True)
    op.split_triangles(), op.sor_mirror()
    for t in (0.02, 0.05):
        B = sp.csr_array(gallery.crank_nicolson_2d(8, t))
        assert op._refresh_in_place(B) and op.data is B.data  # B's values themselves
        ref = prepare(B)
        for got, want in zip(op.split_triangles(), ref.split_triangles()):
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(op.inv_diagonal, ref.inv_diagonal)
        assert op.asymmetry() == ref.asymmetry() == 0.0
    values, version = op._values.copy(), op.values_version
    other = A.copy()
    other.indices = other.indices.copy()
    other.indices[[1, 2]] = other.indices[[2, 1]]  # unsorted: not this pattern entry by entry
    for refused in (gallery.laplacian_2d(8), other, A.toarray(), prepare(A)):
        assert op._refresh_in_place(refused) is False
    assert op.values_version == version and np.array_equal(op._values, values)
    # what the compiled fast case does not take goes through the general refresh
    wide = sp.csr_array((A.data.astype(np.float32), A.indices.astype(np.int64), A.indptr),
                        shape=A.shape)
    assert op._refresh_in_place(wide) and op.data.dtype == np.float64
    np.testing.assert_array_equal(op.data, A.data.astype(np.float32))
    assert prepare(A)._refresh_in_place(A) is False  # not a working copy: never written


@pytest.mark.parametrize("change, fragment", [
    (lambda M: M.__setitem__((5, 5), np.nan), "A contains NaN or Inf (1 non-finite entry)"),
    (lambda M: M.__setitem__((7, 8), np.inf), "A contains NaN or Inf (1 non-finite entry)"),
    (lambda M: M.__setitem__((3, 3), 0.0), "A has a zero or missing diagonal entry in row 3"),
    (lambda M: M.__setitem__((4, 4), -1.0), "A has a negative diagonal entry a_ii = -1 in row 4"),
    (lambda M: M.__setitem__((0, 1), 0.5), "A is not symmetric"),
])
@pytest.mark.parametrize("warm", [False, True])
def test_bad_matrix_on_the_refreshed_pattern_is_refused_by_name_and_changes_nothing(
        change, fragment, warm):
    A = sp.csr_array(gallery.crank_nicolson_2d(8, 0.02))
    n = A.shape[0]
    b = np.ones(n)
    x0 = np.linspace(0.0, 1.0, n) if warm else None
    tuner = Tuner(FixedArm([1.6]), solver="ssor_pcg")
    tuner.solve(A.copy(), b, x0=x0)
    op = tuner._last_op
    assert op._refresh_in_place(A.copy())  # the path the next calls take
    tuner.solve(A.copy(), b, x0=x0)
    assert tuner._last_op is op
    t, rows, version = tuner.policy.t, len(tuner.history["arm"]), op.values_version
    state = tuner.policy.rng.bit_generator.state if hasattr(tuner.policy, "rng") else None
    with pytest.raises(ValueError, match=re.escape(fragment)):
        tuner.solve(_on_pattern(A, change), b, x0=x0)
    assert tuner.policy.t == t and len(tuner.history["arm"]) == rows
    if state is not None:
        assert tuner.policy.rng.bit_generator.state == state
    # the next good matrix on the pattern is solved as the fixed solve solves it
    B = sp.csr_array(gallery.crank_nicolson_2d(8, 0.03))
    r = tuner.solve(B.copy(), b, x0=x0)
    _same(r, ssor_pcg(prepare(B), b, 1.6, x0=x0, dtol=1e6))
    assert tuner._last_op is op and op.values_version > version


def test_a_changed_pattern_gets_a_fresh_working_copy_and_the_old_pattern_still_works():
    A = sp.csr_array(gallery.crank_nicolson_2d(8, 0.02))
    n = A.shape[0]
    # the same shape and number of entries, one symmetric pair moved
    M = A.toarray()
    M[0, 1] = M[1, 0] = 0.0
    M[0, 2] = M[2, 0] = -0.01
    C = sp.csr_array(M)
    assert C.nnz == A.nnz and not (np.array_equal(C.indices, A.indices))
    b = np.arange(n, dtype=float)
    tuner = Tuner(FixedArm([1.5]), solver="sor")
    for _ in range(2):
        tuner.solve(A.copy(), b)
    first = tuner._last_op
    for matrix, other in ((C, True), (A, True), (A, False)):
        r = tuner.solve(matrix.copy(), b)
        _same(r, sor(prepare(matrix), b, 1.5, dtol=1e6))
        assert (tuner._last_op is not first) == other
        first = tuner._last_op


def test_every_run_of_a_call_starts_from_its_own_copy_of_x0():
    # arm 19 (ω = 1.95) diverges on this matrix; the fallback runs arm 0 from x0 again
    block = np.array([[1.0, 0.8], [-0.8, 1.0]])
    off = 0.05 * np.ones(79)
    A = sp.csr_array(sp.kron(sp.eye(40), block) + sp.diags([off, off], [-1, 1]))
    b = np.ones(80)
    x0 = np.random.default_rng(5).standard_normal(80)
    keep = x0.copy()
    tuner = Tuner(FixedArm(np.linspace(1.0, 1.95, 20), arm=19), solver="sor")
    r = tuner.solve(A, b, x0=x0)
    first, second = r.info["attempts"]
    assert first["reason"] == "diverged" and second["start"] == "x0"
    ref = sor(A, b, 1.0, x0=x0)
    assert r.converged and second["iterations"] == ref.iterations
    np.testing.assert_array_equal(r.x, ref.x)
    assert np.array_equal(x0, keep)


def test_check_rhs_start_copies_x0_in_the_checking_pass_and_refuses_bad_vectors_by_name():
    from solvers._checks import check_rhs_start

    rng = np.random.default_rng(2)
    b, x0 = rng.standard_normal(6), rng.standard_normal(6)
    out_b, norm, out_x0, x = check_rhs_start(b, x0, 6)
    assert out_b is b and out_x0 is x0 and x is not x0 and np.array_equal(x, x0)
    assert norm == pytest.approx(np.linalg.norm(b), rel=1e-15)
    assert check_rhs_start(b, None, 6)[3] is None
    x = check_rhs_start(b, x0.astype(np.float32), 6)[3]  # converted, then copied
    assert x.dtype == np.float64 and np.array_equal(x, x0.astype(np.float32))
    assert check_rhs_start(1e200 * b, x0, 6)[1] == pytest.approx(1e200 * np.linalg.norm(b),
                                                                  rel=1e-14)
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        check_rhs_start(b, np.where(np.arange(6) == 2, np.nan, x0), 6)
    with pytest.raises(ValueError, match="b contains NaN or Inf"):
        check_rhs_start(np.where(np.arange(6) == 1, np.inf, b), x0, 6)
    with pytest.raises(ValueError, match=r"x0 has shape \(5,\)"):
        check_rhs_start(b, x0[:5], 6)


def test_a_copy_of_a_tuner_binds_this_versions_hot_path():
    import copy
    import pickle

    from solvers._checks import check_rhs_start

    A = gallery.crank_nicolson_2d(8, 0.02)
    b, x0 = np.ones(49), np.linspace(0.0, 1.0, 49)
    tuner = Tuner(FixedArm([1.6]), solver="ssor_pcg")
    tuner.solve(A, b, x0=x0)
    tuner._check_rhs = check_rhs  # as a copy made by the version before this one binds it
    for twin in (pickle.loads(pickle.dumps(tuner)), copy.deepcopy(tuner)):
        assert twin._check_rhs is check_rhs_start
        _same(twin.solve(A, b, x0=x0), ssor_pcg(prepare(A), b, 1.6, x0=x0, dtol=1e6))
    by_function = Tuner(FixedArm([1.6]), solver=ssor_pcg)  # a function checks its own input
    assert copy.deepcopy(by_function)._check_rhs is None


def test_x0_is_copied_by_the_check_when_some_arm_runs_its_checked_entry():
    from bandit import config_grid
    from solvers._checks import check_rhs_start

    A = gallery.crank_nicolson_2d(8, 0.02)
    b, x0 = np.ones(49), np.linspace(0.0, 1.0, 49)
    assert check_rhs_start(b, x0, 49, copy=False)[3] is None
    assert Tuner(FixedArm([1.6]), solver="ssor_pcg")._copy_x0 is True
    configs = config_grid(omegas=[1.2, 1.7], pcs=["jacobi"])  # ssor_pcg ω=1.2, 1.7, cg+jacobi
    keep = x0.copy()
    for arm, ref in ((0, lambda: ssor_pcg(A, b, 1.2, x0=x0, dtol=1e6)),
                     (2, lambda: solvers.pcg(A, b, "jacobi", x0=x0, dtol=1e6))):
        mixed = Tuner(FixedArm(configs, arm=arm))
        # the SSOR-PCG arms start from the check's copy; cg+jacobi runs the public function,
        # which copies x0 itself (the check's copy then waits for a later run)
        assert mixed._copy_x0 is True
        for _ in range(2):
            r = mixed.solve(A, b, x0=x0)
            want = ref()
            assert r.arm == arm and r.iterations == want.iterations
            np.testing.assert_array_equal(r.x, want.x)
            assert r.x is not x0 and np.array_equal(x0, keep)
    # no arm runs a checked entry: the check copies nothing
    assert Tuner(FixedArm(config_grid(omegas=[], pcs=["jacobi", "ic0"])))._copy_x0 is False


def test_the_checked_entry_takes_the_diagnosis_off_only():
    # a Tuner runs the library's solvers with diagnose=False (it checks the system itself):
    # that must keep its already-validated entry; diagnose=True needs the public function
    for fn, kw in ((solvers.sor, {"omega": 1.5}), (solvers.cg, {})):
        assert checked_entry(fn, dict(kw, diagnose=False)) is not None
        assert checked_entry(fn, dict(kw, diagnose=True)) is None
