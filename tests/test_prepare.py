"""solvers.prepare(A, backend=..., like=..., overwrite=...): the value refresh of a re-assembled
matrix against a fresh preparation, what is checked on every call, and who may be overwritten."""
import numpy as np
import solvers
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from solvers import _kernels, cg, gallery, prepare, sor, ssor_pcg
from solvers._operator import CSROperator


def _random_pattern(n, density, seed, *, symmetric_pattern, symmetric_values):
    """A random CSR matrix with every diagonal entry stored (dominant); mirror entries may be
    missing (``symmetric_pattern=False``), values asymmetric; a few stored zeros."""
    rng = np.random.default_rng(seed)
    R = sp.random_array((n, n), density=density, rng=rng, format="coo")
    rows, cols = R.row, R.col
    if symmetric_pattern:
        rows, cols = np.r_[rows, cols], np.r_[cols, rows]
    rows, cols = np.r_[rows, np.arange(n)], np.r_[cols, np.arange(n)]
    keep = np.unique(np.c_[rows, cols], axis=0)
    vals = rng.uniform(-1.0, 1.0, len(keep))
    vals[rng.random(len(keep)) < 0.05] = 0.0  # explicit zeros stay stored
    A = sp.csr_array((vals, (keep[:, 0], keep[:, 1])), shape=(n, n))
    A.sort_indices()
    if symmetric_values:
        A = _symmetrise_on_pattern(A)
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    on_diag = A.indices == rows
    A.data[on_diag] = (np.abs(A).sum(axis=1) + 1.0)[rows[on_diag]]
    return A


def _symmetrise_on_pattern(B):
    """``(B + Bᵀ)/2`` on ``B``'s own pattern (entries without a stored mirror are halved)."""
    D = B.toarray()
    C = B.copy()
    C.data = ((D + D.T) / 2)[np.repeat(np.arange(B.shape[0]), np.diff(B.indptr)), B.indices]
    return C


def _new_values(A, seed, *, symmetric):
    """The same pattern (fresh index arrays) with other values."""
    B = A.copy()
    B.data = B.data * np.random.default_rng(seed).uniform(0.5, 2.0, B.data.size)
    return _symmetrise_on_pattern(B) if symmetric else B


def _outcome(op, solver):
    try:
        op.require(solver)
    except ValueError as exc:
        return str(exc)
    return "ok"


def _assert_same_operator(op, ref):
    np.testing.assert_array_equal(op.data, ref.data)
    np.testing.assert_array_equal(op.diagonal, ref.diagonal)
    np.testing.assert_array_equal(op.inv_diagonal, ref.inv_diagonal)
    for part, part_ref in zip(op.split_triangles(), ref.split_triangles()):
        for a, b in zip(part, part_ref):
            np.testing.assert_array_equal(a, b)
    assert op.asymmetry() == ref.asymmetry()
    np.testing.assert_array_equal(np.asarray(op.sor_mirror() if op.sor_mirror() is not None
                                             else []),
                                  np.asarray(ref.sor_mirror() if ref.sor_mirror() is not None
                                             else []))
    for solver in ("sor", "ssor_pcg", "cg"):
        assert _outcome(op, solver) == _outcome(ref, solver)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 40), density=st.floats(0.02, 0.4), seed=st.integers(0, 10_000),
       symmetric_pattern=st.booleans(), symmetric_values=st.booleans(),
       overwrite=st.booleans())
def test_refresh_equals_a_fresh_preparation(n, density, seed, symmetric_pattern,
                                            symmetric_values, overwrite):
    A = _random_pattern(n, density, seed, symmetric_pattern=symmetric_pattern or symmetric_values,
                        symmetric_values=symmetric_values)
    op = prepare(A, overwrite=overwrite)
    op.split_triangles(), op.sor_mirror()  # pattern work done, as after a solve
    for k in range(3):  # refreshed again and again (in place when overwrite)
        B = _new_values(A, seed + k, symmetric=symmetric_values)
        new = prepare(B, like=op, overwrite=overwrite)
        assert (new is op) == overwrite
        _assert_same_operator(new, prepare(B))
        # the symmetry measure is the exact one over every stored pair
        assert new.asymmetry() == float(_kernels.asymmetry_from_mirror(prepare(B).data,
                                                                       prepare(B)._mirror()))
        op = new


def test_refreshed_solves_match_fresh_ones_iterate_for_iterate():
    m = 12
    op = prepare(gallery.crank_nicolson_2d(m, 0.01), overwrite=True)
    b = np.random.default_rng(0).standard_normal(op.n)
    for dt in (0.02, 0.05, 0.3):
        A = gallery.crank_nicolson_2d(m, dt)
        op = prepare(A, like=op, overwrite=True)
        for run in (lambda M: sor(M, b, 1.3), lambda M: ssor_pcg(M, b, 1.4),
                    lambda M: ssor_pcg(M, b, 1.4, order="textbook"), lambda M: cg(M, b)):
            r, ref = run(op), run(prepare(A))
            assert r.iterations == ref.iterations and r.converged
            np.testing.assert_array_equal(r.x, ref.x)


def test_overwrite_never_touches_an_operator_it_did_not_make():
    A1, A2 = gallery.crank_nicolson_2d(8, 0.01), gallery.crank_nicolson_2d(8, 0.2)
    mine = prepare(A1)  # prepared by the user, kept
    kept = mine.data.copy()
    new = prepare(A2, like=mine, overwrite=True)
    assert new is not mine and new.indices is mine.indices  # pattern shared, values not
    np.testing.assert_array_equal(mine.data, kept)
    np.testing.assert_array_equal(new.diagonal, A2.diagonal())
    again = prepare(A1, like=new, overwrite=True)  # `new` was made with overwrite: reused
    assert again is new
    np.testing.assert_array_equal(mine.data, kept)
    # an operator passed as A is returned as it is, whatever like/overwrite say
    assert prepare(mine, like=new, overwrite=True) is mine


def test_overwrite_shares_the_float64_data_and_copies_other_dtypes():
    A = gallery.crank_nicolson_2d(6, 0.01)
    op = prepare(A, overwrite=True)
    B = A.copy()
    assert prepare(B, like=op, overwrite=True).data is B.data  # no copy
    C = sp.csr_array((A.data.astype(np.float32), A.indices.copy(), A.indptr.copy()),
                     shape=A.shape)
    op = prepare(C, like=op, overwrite=True)
    assert op.data.dtype == np.float64 and op.data is not C.data
    np.testing.assert_array_equal(op.data, C.data.astype(np.float64))
    # a plain refresh (like without overwrite) is a snapshot: it copies
    assert prepare(B, like=op).data is not B.data


def test_a_refused_refresh_leaves_a_working_copy_unusable_until_the_next_one():
    A = gallery.crank_nicolson_2d(6, 0.01)
    n = A.shape[0]
    op = prepare(A, overwrite=True)
    bad = A.copy()
    bad.data[4] = np.nan
    with pytest.raises(ValueError, match=r"A contains NaN or Inf \(1 non-finite"):
        prepare(bad, like=op, overwrite=True)
    for run in (lambda: ssor_pcg(op, np.ones(n), 1.5), lambda: sor(op, np.ones(n), 1.5),
                lambda: cg(op, np.ones(n)), lambda: op.require("cg")):
        with pytest.raises(ValueError, match="this operator cannot be used: its refresh was "
                                             "refused"):
            run()
    op2 = prepare(A, like=op, overwrite=True)  # still good as `like`: refreshed, usable
    assert op2 is op and ssor_pcg(op, np.ones(n), 1.5).converged


def test_another_pattern_gets_a_fresh_operator_and_like_stays_intact():
    A = gallery.crank_nicolson_2d(6, 0.01)
    op = prepare(A, overwrite=True)
    kept = op.data.copy()
    lil = A.tolil()
    lil[0, 7] = -0.5
    lil[7, 0] = -0.5
    other = prepare(sp.csr_array(lil), like=op, overwrite=True)
    assert other is not op and other.nnz == op.nnz + 2
    np.testing.assert_array_equal(op.data, kept)
    assert ssor_pcg(op, np.ones(25), 1.5).converged
    # same nnz, one column moved: the entry-by-entry comparison sees it
    moved = A.copy()
    row0 = slice(moved.indptr[0], moved.indptr[1])
    moved.indices[row0][-1] += 1  # a_{0,5} becomes a_{0,6}
    fresh = prepare(moved, like=op, overwrite=True)
    assert fresh is not op
    np.testing.assert_array_equal(fresh.matrix.toarray(), moved.toarray())


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 30), density=st.floats(0.05, 0.4), seed=st.integers(0, 10_000),
       where=st.floats(0.0, 1.0, exclude_max=True), shift=st.integers(1, 5),
       in_indptr=st.booleans(), wide=st.booleans())
def test_any_changed_pattern_is_a_fresh_preparation_and_like_stays_intact(
        n, density, seed, where, shift, in_indptr, wide):
    """One index changed anywhere (a column, or a row boundary keeping nnz): never taken for
    the old pattern, whatever the index dtype; the working copy keeps its values."""
    A = _random_pattern(n, density, seed, symmetric_pattern=True, symmetric_values=True)
    op = prepare(A, overwrite=True)
    op = prepare(A.copy(), like=op, overwrite=True)
    kept = [a.copy() for part in op.split_triangles() for a in part] + [
        op.diagonal.copy(), op.inv_diagonal.copy()]
    B = _new_values(A, seed, symmetric=True)
    if wide:
        B.indices, B.indptr = B.indices.astype(np.int64), B.indptr.astype(np.int64)
    if in_indptr:  # a row gives an entry to the next one: nnz unchanged
        i = int(where * (n - 1)) + 1
        if B.indptr[i] == B.indptr[i - 1]:
            return
        B.indptr[i] -= 1
    else:
        k = int(where * B.nnz)
        B.indices[k] = (B.indices[k] + 1 + shift % (n - 1)) % n  # another column
    fresh = prepare(B, like=op, overwrite=True)
    assert fresh is not op
    np.testing.assert_array_equal(fresh.matrix.toarray(), B.toarray())
    now = [a for part in op.split_triangles() for a in part] + [op.diagonal, op.inv_diagonal]
    for a, b in zip(now, kept):
        np.testing.assert_array_equal(a, b)
    assert prepare(A.copy(), like=op, overwrite=True) is op  # still the working copy


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 17, -1])
def test_a_non_finite_entry_anywhere_is_refused_on_refresh(bad, where):
    A = gallery.crank_nicolson_2d(7, 0.01).astype(np.float32)  # and a dtype to convert
    op = prepare(A, overwrite=True)
    B = A.copy()
    B.data[where] = bad
    for like, overwrite in ((op, False), (op, True)):
        with pytest.raises(ValueError, match=r"A contains NaN or Inf \(1 non-finite"):
            prepare(B, like=like, overwrite=overwrite)


def test_every_value_check_runs_on_every_refresh():
    A = gallery.crank_nicolson_2d(6, 0.01)
    n = A.shape[0]
    op = prepare(A, overwrite=True)
    on_diag = A.indices == np.repeat(np.arange(n), np.diff(A.indptr))
    zero = A.copy()
    zero.data[np.flatnonzero(on_diag)[3]] = 0.0
    op = prepare(zero, like=op, overwrite=True)
    with pytest.raises(ValueError, match="zero or missing diagonal entry in row 3 \\(explicit"):
        op.require("sor")
    neg = A.copy()
    neg.data[np.flatnonzero(on_diag)[9]] *= -1.0
    op = prepare(neg, like=op, overwrite=True)
    op.require("sor")  # SOR takes a negative diagonal
    with pytest.raises(ValueError, match="negative diagonal entry .* in row 9"):
        op.require("ssor_pcg")
    skew = A.copy()
    off = np.flatnonzero(~on_diag)
    skew.data[off[5]] *= 1.0 + 1e-6  # one entry of one pair: relative asymmetry ~ 1e-7
    op = prepare(skew, like=op, overwrite=True)
    assert op.asymmetry() == pytest.approx(abs(A.data[off[5]]) * 1e-6 / np.abs(A.data).max())
    with pytest.raises(ValueError, match="not symmetric"):
        op.require("cg")
    op = prepare(A, like=op, overwrite=True)  # and a good matrix passes again
    op.require("ssor_pcg")
    assert op.asymmetry() == 0.0 and op.sor_mirror() is op.split_triangles()[0][2]


def test_a_missing_diagonal_is_named_after_a_refresh():
    A = sp.csr_array(np.array([[2.0, -1.0, 0.0], [-1.0, 0.0, -1.0], [0.0, -1.0, 2.0]]))
    A.eliminate_zeros()  # row 1 stores no diagonal
    op = prepare(A, overwrite=True)
    op = prepare(A.copy(), like=op, overwrite=True)
    with pytest.raises(ValueError, match="row 1 \\(missing"):
        op.require("sor")


def test_prepare_refuses_bad_arguments_by_name():
    A = gallery.laplacian_2d(3)
    with pytest.raises(ValueError, match="backend must be 'numba' or 'petsc'"):
        prepare(A, backend="cuda")
    with pytest.raises(ValueError, match="like must be a CSROperator"):
        prepare(A, like=A)
    with pytest.raises(ValueError, match="comm is a PETSc communicator"):
        prepare(A, comm=object())


def test_the_solve_path_reads_b_without_changing_it():
    A = prepare(gallery.laplacian_2d(10))
    for b in (np.ones(100), np.full(100, 1e200), np.full(100, 1e-170)):  # as is, and scaled
        kept = b.copy()
        for run in (lambda: sor(A, b, 1.5), lambda: ssor_pcg(A, b, 1.5), lambda: cg(A, b)):
            assert run().converged
            np.testing.assert_array_equal(b, kept)


def test_operators_of_one_pattern_share_work_vectors_without_cross_talk():
    m = 10
    ops = [prepare(gallery.crank_nicolson_2d(m, dt)) for dt in (0.01, 0.3)]
    ops = [ops[0], ops[0].with_values(gallery.crank_nicolson_2d(m, 0.3))]
    b = np.random.default_rng(3).standard_normal(ops[0].n)
    assert ops[0].workspace(8) is ops[1].workspace(8)
    alone = [ssor_pcg(prepare(o.matrix), b, 1.5) for o in ops]
    for _ in range(2):  # interleaved on the shared space
        for o, ref in zip(ops, alone):
            r = ssor_pcg(o, b, 1.5)
            assert r.iterations == ref.iterations
            np.testing.assert_array_equal(r.x, ref.x)


@pytest.mark.petsc
def test_petsc_working_copy_is_refreshed_in_place_and_keeps_its_ksp():
    m = 10
    op = prepare(gallery.crank_nicolson_2d(m, 0.01), backend="petsc", overwrite=True)
    b = np.ones(op.n)
    assert ssor_pcg(op, b, 1.5, backend="petsc").converged
    ksps = dict(op.solvers)
    for dt in (0.2, 5.0):
        A = gallery.crank_nicolson_2d(m, dt)
        new = prepare(A, backend="petsc", like=op, overwrite=True)
        assert new is op and op.solvers == ksps
        r = ssor_pcg(op, b, 1.5, backend="petsc")
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b)
        assert r.iterations == ssor_pcg(prepare(A, backend="petsc"), b, 1.5,
                                        backend="petsc").iterations
        assert r.iterations == ssor_pcg(A, b, 1.5, order="textbook").iterations


@pytest.mark.petsc
def test_petsc_never_overwrites_the_operator_of_a_users_matrix():
    m = 8
    mine = prepare(gallery.crank_nicolson_2d(m, 0.01))
    b = np.ones(mine.n)
    users = prepare(mine, backend="petsc")  # cached on the user's CSROperator
    before = ssor_pcg(mine, b, 1.5, backend="petsc").iterations
    A2 = gallery.crank_nicolson_2d(m, 5.0)
    new = prepare(A2, backend="petsc", like=users, overwrite=True)
    assert new is not users
    assert ssor_pcg(mine, b, 1.5, backend="petsc").iterations == before
    assert ssor_pcg(new, b, 1.5, backend="petsc").iterations == ssor_pcg(
        A2, b, 1.5, order="textbook").iterations
    with pytest.raises(ValueError, match="like must be a PetscOperator"):
        prepare(A2, backend="petsc", like=mine)


def test_tuner_keeps_one_working_copy_and_never_touches_the_users_operator():
    from bandit import FixedArm, Tuner

    tuner = Tuner(FixedArm([1.5]), solver="ssor_pcg")
    mats = [gallery.crank_nicolson_2d(9, dt) for dt in (0.01, 0.1, 0.4, 1.0)]
    b = np.random.default_rng(0).standard_normal(mats[0].shape[0])
    mine = prepare(mats[0])
    kept = mine.data.copy()
    assert tuner.solve(mine, b).converged and tuner._last_op is mine
    ops = []
    for A in mats[1:]:
        r = tuner.solve(A.copy(), b)
        ops.append(tuner._last_op)
        ref = ssor_pcg(A, b, 1.5)
        assert r.iterations == ref.iterations
        np.testing.assert_array_equal(r.x, ref.x)
    assert ops[0] is not mine and ops[0] is ops[1] is ops[2]  # one working copy, refreshed
    np.testing.assert_array_equal(mine.data, kept)
    bad = mats[2].copy()
    bad.data[0] = np.inf
    with pytest.raises(ValueError, match="A contains NaN or Inf"):
        tuner.solve(bad, b)
    assert len(tuner.history["arm"]) == 4  # refused: nothing recorded
    r = tuner.solve(mats[3].copy(), b)  # the working copy recovers
    assert r.converged and tuner._last_op is ops[0]
    np.testing.assert_array_equal(r.x, ssor_pcg(mats[3], b, 1.5).x)


@pytest.mark.petsc
def test_petsc_tuner_refreshes_its_mat_and_keeps_the_ksp():
    from bandit import FixedArm, Tuner

    tuner = Tuner(FixedArm([1.5]), solver="ssor_pcg", backend="petsc")
    mats = [gallery.crank_nicolson_2d(9, dt) for dt in (0.01, 0.1, 2.0)]
    b = np.ones(mats[0].shape[0])
    seen = []
    for A in mats:
        r = tuner.solve(A.copy(), b)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b)
        assert r.iterations == ssor_pcg(A, b, 1.5, order="textbook").iterations
        seen.append(tuner._last_op)
    assert seen[0] is seen[1] is seen[2]  # one operator, its Mat refreshed in place
    assert len(seen[0].solvers) == 1  # and one KSP for every solve


@pytest.mark.petsc
@pytest.mark.mpi
def test_petsc_working_copy_on_two_ranks(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(here.parent),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(["mpiexec", "-n", "2", "--oversubscribe", sys.executable,
                           str(here / "mpi_refresh.py"), str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0]["direct"] == ranks[1]["direct"] and ranks[0]["tuned"] == ranks[1]["tuned"]
    for d in ranks[0]["direct"]:
        assert d["same_object"] and d["converged"] and d["true_residual"] <= 1e-8
        assert d["iterations"] == d["fresh_iterations"]
    assert [t["iterations"] for t in ranks[0]["tuned"]] == [
        d["iterations"] for d in ranks[0]["direct"]]
    assert all(t["true_residual"] <= 1e-8 for t in ranks[0]["tuned"])
    assert ranks[0]["one_operator"] and ranks[0]["ksps"] == 1


@pytest.mark.parametrize("pc", ["jacobi", "ic0", {"pc": "ssor", "omega": 1.4}, "amg"],
                         ids=["jacobi", "ic0", "ssor", "amg"])
def test_a_preconditioner_sets_up_again_after_an_in_place_refresh(pc):
    """An operator refreshed in place is the same object with new values: a preconditioner
    built for its old values must not be taken as current (its counts would be another
    matrix's)."""
    from solvers import gallery
    from solvers.precond import preconditioner

    b = np.ones(49)
    kept, fresh_counts, counts = preconditioner(pc), [], []
    op = None
    for kappa in (0.01, 1.0, 10.0):
        A = gallery.crank_nicolson_2d(8, kappa)
        op = solvers.prepare(A.copy(), like=op, overwrite=True)
        counts.append(solvers.pcg(op, b, kept).iterations)
        fresh_counts.append(solvers.pcg(A, b, preconditioner(pc)).iterations)
    assert counts == fresh_counts
    assert kept.setups == (3 if kept.has_setup else 0)


def _verdicts(make):
    """What ``make()`` (a preparation) says of a matrix: the error of the preparation itself,
    or each solver's ``require`` verdict and the exact asymmetry."""
    try:
        op = make()
    except ValueError as exc:
        return str(exc)
    return [_outcome(op, s) for s in ("sor", "ssor_pcg", "cg")] + [op.asymmetry()]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(2, 30), density=st.floats(0.05, 0.4), seed=st.integers(0, 10_000),
       kind=st.sampled_from(["nan", "inf", "-inf", "pair", "zero_diag", "neg_diag",
                             "tiny_diag", "none"]),
       where=st.floats(0.0, 1.0, exclude_max=True), overwrite=st.booleans())
def test_a_refresh_refuses_exactly_what_a_fresh_preparation_refuses(
        n, density, seed, kind, where, overwrite):
    """One defect placed anywhere in a re-assembled matrix on the working copy's pattern — a
    non-finite value, one entry of a symmetric pair changed, a zero, negative or uninvertible
    diagonal entry — is refused by the refresh exactly as by a fresh preparation of the same
    matrix (same error, same solver verdicts, the same asymmetry to the last bit), and the
    working copy takes the next good matrix again."""
    A = _random_pattern(n, density, seed, symmetric_pattern=True, symmetric_values=True)
    op = prepare(A, overwrite=overwrite)
    op.split_triangles()
    B = _new_values(A, seed + 1, symmetric=True)
    rows = np.repeat(np.arange(n), np.diff(B.indptr))
    diag, off = np.flatnonzero(B.indices == rows), np.flatnonzero(B.indices != rows)
    if kind in ("nan", "inf", "-inf"):
        B.data[int(where * B.nnz)] = float(kind)
    elif kind == "pair":
        if off.size == 0:
            return
        B.data[off[int(where * off.size)]] += 0.25
    elif kind != "none":
        B.data[diag[int(where * diag.size)]] = {"zero_diag": 0.0, "neg_diag": -1.5,
                                                "tiny_diag": 2.0 ** -1030}[kind]
    got = _verdicts(lambda: prepare(B.copy(), like=op, overwrite=overwrite))
    assert got == _verdicts(lambda: prepare(B.copy()))
    if isinstance(got, str):
        assert got.startswith("A contains NaN or Inf (1 non-finite")
    elif kind != "none":
        assert got[:3] != ["ok", "ok", "ok"]  # every defect is refused by some solver
    good = _new_values(A, seed + 2, symmetric=True)
    new = prepare(good, like=op, overwrite=overwrite)
    assert (new is op) == overwrite
    _assert_same_operator(new, prepare(good))
