"""The inputs a scipy.sparse.linalg user brings, checked against scipy.

Every form a loop written for ``scipy.sparse.linalg.cg``/``spsolve`` may pass — each sparse
format, ``csr_matrix`` and ``csr_array``, 32- and 64-bit or big-endian index arrays,
non-canonical CSR, float32/int matrices, read-only, non-contiguous, big-endian or ``(n, 1)``
right-hand sides — is solved to the documented tolerance (solution checked against
``spsolve``), or refused with a message that names the problem and the way out.  The stopping
rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` is scipy's: the iteration counts of ``cg`` equal
scipy's ``cg`` for the same ``rtol``/``atol``.
"""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from solvers import cg, gallery, pcg, prepare, sor, ssor_pcg

A = sp.csr_matrix(gallery.laplacian_2d(6))
N = A.shape[0]
B = np.random.default_rng(0).standard_normal(N)
X = spla.spsolve(A.tocsc(), B)

SOLVES = {
    "sor": lambda A, b, **kw: sor(A, b, 1.5, **kw),
    "ssor_pcg": lambda A, b, **kw: ssor_pcg(A, b, 1.5, **kw),
    "ssor_pcg textbook": lambda A, b, **kw: ssor_pcg(A, b, 1.5, order="textbook", **kw),
    "cg": cg,
    "pcg ic0": lambda A, b, **kw: pcg(A, b, "ic0", **kw),
    "pcg amg": lambda A, b, **kw: pcg(A, b, "amg", **kw),
}


def check_solution(res, b=B, x_ref=X, A_ref=A):
    """Converged, ``x`` of shape ``(n,)`` float64, meeting the stopping rule in numpy's own
    residual (up to rounding) and close to scipy's direct solution."""
    assert res.converged and res.reason == "converged"
    assert res.x.shape == (N,) and res.x.dtype == np.float64
    b = np.asarray(b, dtype=np.float64).ravel()
    assert np.linalg.norm(b - A_ref @ res.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-6) + 1e-13
    # ‖x − x*‖ <= κ(A) · rtol · ‖x*‖ with κ(A) ≈ 30 for this Laplacian
    assert np.linalg.norm(res.x - x_ref) <= 30 * 1e-8 * np.linalg.norm(x_ref)


def native_to_big_endian(M):
    """``M`` (CSR/CSC/BSR) with its index arrays in big-endian byte order, as read from a
    big-endian file (``np.fromfile(..., dtype='>i4')``, HDF5, MATLAB v4)."""
    M = M.copy()
    M.indices = M.indices.astype(">i4")
    M.indptr = M.indptr.astype(">i4")
    return M


def upper_triangle_csr():
    return sp.triu(A, format="csr")


def with_int64_indices(M):
    M = M.copy()
    M.indices, M.indptr = M.indices.astype(np.int64), M.indptr.astype(np.int64)
    return M


def reversed_rows_with_lying_flags():
    """Every row's entries in reverse column order and each entry split into two halves (a
    duplicate), while scipy's flags claim sorted, canonical indices."""
    indptr, indices, data = [0], [], []
    for i in range(N):
        s, e = A.indptr[i], A.indptr[i + 1]
        indices += list(A.indices[s:e][::-1]) * 2
        data += list(A.data[s:e][::-1] / 2) * 2
        indptr.append(len(indices))
    M = sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=A.shape)
    M.has_sorted_indices = True
    M.has_canonical_format = True
    return M


def with_explicit_zeros():
    """``A`` plus two stored zeros (a symmetric pair far off the diagonal)."""
    Z = sp.csr_matrix((np.array([1.0, 1.0]), ([0, 30], [30, 0])), shape=A.shape)
    M = (A + Z).tocsr()
    M.data[M.data == 1.0] = 0.0  # the Laplacian's entries are 4 and -1: only the pair is 1
    assert M.nnz == A.nnz + 2
    return M


MATRICES = {
    "csr_matrix": lambda: A,
    "csr_array": lambda: sp.csr_array(A),
    "csc": lambda: A.tocsc(),
    "coo": lambda: A.tocoo(),
    "bsr": lambda: A.tobsr(blocksize=(2, 2)),
    "dia": lambda: A.todia(),
    "lil": lambda: A.tolil(),
    "dok": lambda: A.todok(),
    "dense ndarray": lambda: A.toarray(),
    "np.matrix": lambda: np.asarray(A.toarray()).view(np.matrix),
    "int64 indices": lambda: with_int64_indices(A),
    "float32 values": lambda: A.astype(np.float32),
    "int64 values": lambda: A.astype(np.int64),
    "big-endian dense": lambda: A.toarray().astype(">f8"),
    "big-endian csr indices": lambda: native_to_big_endian(A),
    "big-endian csc indices": lambda: native_to_big_endian(A.tocsc()),
    "big-endian bsr indices": lambda: native_to_big_endian(A.tobsr(blocksize=(2, 2))),
    "big-endian csr values": lambda: sp.csr_matrix((A.data.astype(">f8"), A.indices, A.indptr),
                                                   shape=A.shape),
    "big-endian dia": lambda: sp.dia_matrix((A.todia().data.astype(">f8"),
                                             A.todia().offsets.astype(">i4")), shape=A.shape),
    "unsorted duplicates, flags lie": reversed_rows_with_lying_flags,
    "explicit zeros": with_explicit_zeros,
}


def frozen(M):
    """``M`` with every array it holds read-only (a user's matrix shared with others)."""
    arrays = [M] if isinstance(M, np.ndarray) else [
        getattr(M, name) for name in ("data", "indices", "indptr", "row", "col", "offsets")
        if isinstance(getattr(M, name, None), np.ndarray)]
    for a in arrays:
        a.flags.writeable = False
    return M


def snapshot(M):
    if isinstance(M, np.ndarray):
        return [M.copy()]
    return [getattr(M, name).copy() for name in ("data", "indices", "indptr", "row", "col",
                                                 "offsets")
            if isinstance(getattr(M, name, None), np.ndarray)]


@pytest.mark.parametrize("matrix", list(MATRICES))
@pytest.mark.parametrize("solver", list(SOLVES))
def test_every_matrix_form_is_solved_and_left_untouched(matrix, solver):
    M = MATRICES[matrix]()
    before = snapshot(M)
    if not isinstance(M, sp.dok_matrix):  # dok has no arrays to freeze
        frozen(M)
    check_solution(SOLVES[solver](M, B))
    for old, new in zip(before, snapshot(M)):
        assert np.array_equal(old, new) and old.dtype == new.dtype


def right_hand_sides():
    wide = np.zeros((N, 3))
    wide[:, 1] = B
    read_only = B.copy()
    read_only.flags.writeable = False
    return {
        "float64": B,
        "read-only": read_only,
        "column slice (non-contiguous)": wide[:, 1],
        "(n, 1) column": B[:, None],
        "big-endian": B.astype(">f8"),
        "list": list(B),
    }


@pytest.mark.parametrize("form", list(right_hand_sides()))
@pytest.mark.parametrize("solver", list(SOLVES))
def test_every_rhs_form_is_solved_and_left_untouched(form, solver):
    b = right_hand_sides()[form]
    before = np.array(b, copy=True)
    check_solution(SOLVES[solver](A, b, x0=np.zeros((N, 1))))
    assert np.array_equal(np.asarray(b), before)


@pytest.mark.parametrize("dtype,digits", [(np.float32, 6), (np.int64, 14)])
def test_rhs_of_another_dtype_is_solved_as_float64(dtype, digits):
    b = (B * 100).astype(dtype)
    res = cg(A, b)
    x_ref = spla.spsolve(A.tocsc(), b.astype(np.float64))
    assert res.converged and res.x.dtype == np.float64
    assert np.linalg.norm(res.x - x_ref) <= 30 * 1e-8 * np.linalg.norm(x_ref)


@pytest.mark.parametrize("rtol,atol", [(1e-5, 0.0), (1e-5, 1e-3), (0.0, 1e-3), (1e-8, 0.0)])
@pytest.mark.parametrize("x0", [None, "threes"])
def test_cg_stops_where_scipy_cg_stops(rtol, atol, x0):
    """scipy ≥ 1.12 stops at ``‖r‖ <= max(rtol·‖b‖, atol)``, ``‖b‖`` also when warm-started:
    the documented rule, so the counts agree exactly."""
    start = None if x0 is None else np.full(N, 3.0)
    steps = []
    x_scipy, info = spla.cg(A, B, x0=start, rtol=rtol, atol=atol,
                            callback=lambda xk: steps.append(1))
    res = cg(A, B, x0=start, rtol=rtol, atol=atol)
    assert info == 0 and res.converged
    assert res.iterations == len(steps)
    assert res.residual_norm <= max(rtol * np.linalg.norm(B), atol)
    assert np.allclose(res.x, x_scipy, rtol=1e-9, atol=1e-12)


def test_zero_rhs_returns_zero_like_scipy():
    x_scipy, info = spla.cg(A, np.zeros(N), x0=np.ones(N))
    for solve in SOLVES.values():
        res = solve(A, np.zeros(N), x0=np.ones(N))
        assert res.converged and res.iterations == 0 and res.b_norm == 0.0
        assert np.array_equal(res.x, np.zeros(N)) and np.array_equal(res.x, x_scipy)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_tiny_and_huge_rhs(scale):
    for solve in SOLVES.values():
        res = solve(A, B * scale)
        assert res.converged
        assert np.allclose(res.x / scale, X, rtol=0, atol=30 * 1e-8 * np.linalg.norm(X))


def test_big_endian_indices_refresh_an_operator():
    """``prepare(A, like=op)`` on big-endian index arrays: the same pattern, new values."""
    op = prepare(A)
    A2 = A * 2.0
    for overwrite in (False, True):
        working = prepare(A, overwrite=overwrite)
        new = prepare(native_to_big_endian(A2), like=working, overwrite=overwrite)
        check_solution(cg(new, 2 * B))
    assert np.array_equal(op.data, prepare(A).data)


def test_tuner_takes_big_endian_indices_in_a_loop():
    """The Tuner's working copy refreshed by a big-endian matrix (every call but the first
    tries an in-place refresh)."""
    tuner = bandit.Tuner(solver="ssor_pcg", audit_budget=0.0)
    for step in range(4):
        M = A if step == 0 else native_to_big_endian(A * (1.0 + step))
        if step == 3:  # big-endian values too
            M.data = M.data.astype(">f8")
        res = tuner.solve(M, B)
        assert res.converged
        assert np.allclose(res.x * (1.0 + step), X, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["ssor_pcg", "cg", "pcg ic0"])
def test_one_triangle_of_an_spd_matrix_is_refused_by_name(name):
    """A symmetric matrix stored as its upper triangle (as some file formats and assembly
    codes keep it) is not the matrix CG needs: the message says which triangle is missing and
    how to form the full matrix."""
    with pytest.raises(ValueError, match=r"A is not symmetric .*only its upper triangle.*"
                                         r"A \+ sp\.triu\(A, 1\)\.T"):
        SOLVES[name](upper_triangle_csr(), B)
    with pytest.raises(ValueError, match=r"only its lower triangle.*A \+ sp\.tril\(A, -1\)\.T"):
        SOLVES[name](sp.tril(A, format="csr"), B)
    # sor solves any matrix with a non-zero diagonal: the triangle is a system of its own
    U = upper_triangle_csr()
    check_solution(sor(U, B, 1.0), x_ref=spla.spsolve(U.tocsc(), B), A_ref=U)


def test_tuner_refuses_one_triangle_by_name():
    with pytest.raises(ValueError, match="only its upper triangle"):
        bandit.Tuner(solver="cg").solve(upper_triangle_csr(), B)


def test_linear_operator_is_refused_with_the_way_out():
    """A scipy LinearOperator has no entries: SOR sweeps and SSOR need them."""
    with pytest.raises(TypeError, match=r"LinearOperator.*entries.*pass the sparse matrix"):
        cg(spla.aslinearoperator(A), B)

    class Laplacian(spla.LinearOperator):  # a user's own operator class
        def __init__(self):
            super().__init__(np.float64, A.shape)

        def _matvec(self, x):
            return A @ x

    with pytest.raises(TypeError, match=r"LinearOperator \(Laplacian\).*pass the sparse"):
        sor(Laplacian(), B, 1.5)


def test_result_like_scipy():
    """``x`` is a new float64 array of shape ``(n,)`` (scipy's shape also for an ``(n, 1)``
    ``b``); the result is not scipy's ``(x, info)`` pair."""
    x_scipy, _ = spla.cg(A, B[:, None])
    res = cg(A, B[:, None])
    assert res.x.shape == x_scipy.shape == (N,)
    with pytest.raises(TypeError):
        x, info = res  # noqa: F841
    # float32 input: scipy answers in float32, relaxtune solves in (and returns) float64
    A32, b32 = A.astype(np.float32), B.astype(np.float32)
    assert spla.cg(A32, b32)[0].dtype == np.float32
    assert cg(A32, b32).x.dtype == np.float64


@pytest.mark.parametrize("make", [lambda: sp.coo_array(np.ones(4)),
                                  lambda: sp.csr_array(np.ones(4)),
                                  lambda: sp.coo_array(np.ones((2, 2, 2)))],
                         ids=["1-D coo_array", "1-D csr_array", "3-D coo_array"])
def test_sparse_arrays_that_are_not_matrices_are_refused_by_name(make):
    """scipy's sparse arrays may be 1-D (and COO n-D): like a dense 1-D array, not a matrix."""
    M = make()
    for solve in (cg, lambda A, b: sor(A, b, 1.5), prepare):
        with pytest.raises(ValueError, match=rf"A must be a 2-D matrix, got a sparse array of "
                                             rf"shape \({M.shape[0]},"):
            solve(M, np.ones(M.shape[0])) if solve is not prepare else prepare(M)


def test_non_integer_index_array_is_named():
    M = A.copy()
    M.indices = M.indices.astype(np.float64)
    with pytest.raises(ValueError, match=r"indices has shape \(156,\) and dtype float64, "
                                         r"expected \(156,\) of integers"):
        cg(M, B)
    M = A.copy()
    M.indptr = M.indptr.astype(np.float64)
    with pytest.raises(ValueError, match=r"indptr has shape \(37,\) and dtype float64, "
                                         r"expected \(37,\) of integers"):
        cg(M, B)


@pytest.mark.parametrize("name", ["ssor_pcg", "pcg ic0"])
def test_negative_definite_matrix_is_refused_with_the_sign_to_flip(name):
    """A Laplacian assembled with the other sign (−Δ discretised as negative definite) has
    every diagonal entry negative: the message says to solve (−A) x = −b."""
    with pytest.raises(ValueError, match=r"negative diagonal entry .* every diagonal entry is "
                                         r"negative.*solve \(−A\) x = −b"):
        SOLVES[name](-A, -B)
    # one negative entry among positive ones: no such hint
    M = A.tolil()
    M[3, 3] = -4.0
    with pytest.raises(ValueError, match="negative diagonal entry") as info:
        SOLVES[name](M.tocsr(), B)
    assert "every diagonal" not in str(info.value)


PCS = ["none", "jacobi", {"pc": "ssor", "omega": 1.4}, "ic0", "amg"]


def pc_reference(spec, r):
    """``M⁻¹ r`` from the preconditioner applied to a fresh vector (the plain call)."""
    from solvers import preconditioner

    return preconditioner(spec).setup(A).apply(np.array(r, dtype=np.float64))


@pytest.mark.parametrize("spec", PCS, ids=str)
def test_preconditioner_apply_in_place_and_into_a_column(spec):
    """``apply(r, out=r)`` (in place, as an ``M`` for scipy's ``cg`` may be written) and
    ``out`` a column of a 2-D array give ``M⁻¹ r``, for every preconditioner."""
    from solvers import preconditioner

    pc = preconditioner(spec).setup(A)
    z = pc_reference(spec, B)
    r = B.copy()
    assert pc.apply(r, out=r) is r
    assert np.allclose(r, z, rtol=1e-14, atol=1e-14)
    wide = np.zeros((N, 2))
    pc.apply(B, out=wide[:, 1])
    assert np.allclose(wide[:, 1], z, rtol=1e-14, atol=1e-14) and not wide[:, 0].any()
    # as scipy's preconditioner M: the same iterates as relaxtune's pcg
    M = spla.LinearOperator(A.shape, matvec=pc.apply, dtype=np.float64)
    steps = []
    spla.cg(A, B, M=M, rtol=1e-8, callback=lambda xk: steps.append(1))
    assert abs(len(steps) - pcg(A, B, preconditioner(spec)).iterations) <= 1


@pytest.mark.parametrize("r,message", [
    (B + 1j, r"r is complex \(complex128\)"),
    (B > 0, r"r is boolean \(bool\)"),
    (np.array(["a"] * N), r"r must have a real numeric dtype, got <U1"),
], ids=["complex", "bool", "str"])
def test_preconditioner_apply_refuses_what_the_solvers_refuse(r, message):
    from solvers import preconditioner

    pc = preconditioner("jacobi").setup(A)
    with pytest.raises(ValueError, match=message):
        pc.apply(r)


def test_canonical_form_does_not_trust_scipy_flags_on_the_copy(monkeypatch):
    """``prepare`` sorts and sums a copy of a non-canonical matrix with scipy, which skips the
    work when the copy's flags claim it is done.  A scipy whose copy kept the user's lying
    flags (as ``csr_array(M, copy=True)`` may, depending on the version) must still give the
    canonical matrix."""
    import solvers._operator as operator

    real = sp.csr_array

    def copy_keeping_flags(M, *args, **kwargs):
        new = real(M, *args, **kwargs)
        if kwargs.get("copy"):
            new.has_sorted_indices = True
            new.has_canonical_format = True
        return new

    monkeypatch.setattr(operator.sp, "csr_array", copy_keeping_flags)
    M = reversed_rows_with_lying_flags()
    op = prepare(M)
    monkeypatch.undo()
    assert op.nnz == A.nnz
    assert np.array_equal(op.indices, A.indices) and np.array_equal(op.data, A.data)


def with_unused_tail(M, extra=50):
    """``M`` whose ``data`` and ``indices`` are longer than ``indptr[-1]``, as when a code
    assembles into arrays of a preallocated capacity and assigns them: scipy's ``nnz`` is
    ``indptr[-1]`` and its products ignore the tail (here garbage: out-of-range columns)."""
    M = M.copy()
    M.data = np.r_[M.data, np.full(extra, 7.0)]
    M.indices = np.r_[M.indices, np.full(extra, 10 ** 6, dtype=M.indices.dtype)]
    assert M.nnz == A.nnz and np.allclose(M @ X, B)
    return M


@pytest.mark.parametrize("solver", list(SOLVES))
def test_unused_tail_of_the_arrays_is_ignored_like_scipy(solver):
    check_solution(SOLVES[solver](with_unused_tail(A), B))
    assert prepare(with_unused_tail(A)).nnz == A.nnz


def test_tuner_takes_arrays_with_an_unused_tail():
    tuner = bandit.Tuner(solver="ssor_pcg", audit_budget=0.0)
    for step in range(3):
        res = tuner.solve(A if step == 0 else with_unused_tail(A), B)
        check_solution(res)


def test_non_finite_entry_of_A_is_located():
    """A NaN from an assembly bug: the message says where the first one is (row, column and
    value), fresh and on the refresh of a loop's working copy."""
    M = A.copy()
    M.data[np.flatnonzero((M.indices == 9) & (np.repeat(np.arange(N), np.diff(M.indptr)) == 3))] = np.nan
    M.data[-1] = np.inf
    fragment = r"A contains NaN or Inf \(2 non-finite entries\); the first is a\[3, 9\] = nan"
    with pytest.raises(ValueError, match=fragment):
        cg(M, B)
    with pytest.raises(ValueError, match=fragment):
        prepare(M, like=prepare(A, overwrite=True), overwrite=True)
    tuner = bandit.Tuner(solver="cg")
    tuner.solve(A, B)
    with pytest.raises(ValueError, match=fragment):
        tuner.solve(M, B)
    with pytest.raises(ValueError, match=r"the first is a\[0, 0\] = inf"):
        cg(np.where(np.eye(N, dtype=bool), np.inf, A.toarray()), B)


def test_bsr_with_fewer_value_blocks_than_indptr_claims_is_refused():
    """``indptr`` counts blocks: a BSR matrix whose ``data`` holds fewer blocks had been read
    past the end of its values by scipy's conversion (a solve of a garbage matrix)."""
    M = A.tobsr(blocksize=(2, 2))
    M.data = M.data[:-3]
    with pytest.raises(ValueError, match=r"not a valid BSR matrix: indptr ends at 72, beyond "
                                         r"its 69 entries"):
        cg(M, B)


@pytest.mark.parametrize("axis,value", [(0, N), (0, 10 ** 6), (1, -1), (1, N)])
def test_coo_coordinates_out_of_range_are_refused(axis, value):
    """A COO matrix whose coordinates were assigned after construction (scipy's constructor
    checks them, assignment does not) — e.g. 1-based row numbers, where row n appears: scipy's
    conversion to CSR wrote outside its arrays (a segmentation fault)."""
    C = A.tocoo()
    coords = [C.row.copy(), C.col.copy()]
    coords[axis][5] = value
    C.row, C.col = coords
    kind = ("row", "column")[axis]
    with pytest.raises(ValueError, match=rf"A is not a valid COO matrix: {kind} index {value} "
                                         rf"out of range for shape \({N}, {N}\)"):
        cg(C, B)


def test_coo_coordinates_of_another_length_are_refused():
    C = A.tocoo()
    C.row = C.row[:-3]
    with pytest.raises(ValueError, match=r"A is not a valid COO matrix: row has 153 entries, "
                                         r"data 156"):
        cg(C, B)


def test_lil_changed_directly_is_checked():
    """A LIL matrix's lists changed behind scipy's methods: an out-of-range column had been
    copied into the converted matrix unchecked (a segmentation fault in the kernels)."""
    L = A.tolil()
    L.rows[0].append(10 ** 7)
    L.data[0].append(1.0)
    out_of_range = r"(column index 10000000 out of range|axis 1 index 10000000 exceeds)"
    with pytest.raises(ValueError, match=r"A is not a valid LIL matrix: " + out_of_range):
        sor(L, B, 1.2)


def test_csr_input_is_not_converted_before_it_is_copied():
    """A CSR matrix goes to the operator as it is (one copy of what the operator keeps), not
    through a conversion by scipy first: a solve's set-up at n = 10⁶ pays every pass."""
    import solvers._operator as operator

    for M in (A, sp.csr_array(A), with_int64_indices(A), with_unused_tail(A)):
        assert operator._to_csr(M) is M


def test_asymmetry_at_rounding_level_suggests_symmetrising():
    """A symmetric operator whose a_ij and a_ji were computed apart in float32 differs from its
    transpose by about an ulp of float32 (scipy's cg does not check): the refusal says how to
    symmetrise it; a clearly non-symmetric matrix gets no such hint."""
    rng = np.random.default_rng(3)
    M = A.astype(np.float64)
    M.data = (M.data * (1 + rng.uniform(-1, 1, M.nnz) * 2.0 ** -24)).astype(np.float32)
    with pytest.raises(ValueError, match=r"A is not symmetric \(max \|a_ij - a_ji\| = \d\.\d\de-0[78] .*"
                                         r"rounding.*pass \(A \+ A\.T\) / 2"):
        cg(M, B)
    check_solution(cg((M + M.T) / 2, B), x_ref=spla.spsolve(((M + M.T) / 2).tocsc(), B),
                   A_ref=(M + M.T) / 2)
    N2 = A.tolil()
    N2[0, 1] = -2.0
    with pytest.raises(ValueError, match="A is not symmetric") as info:
        cg(N2.tocsr(), B)
    assert "rounding" not in str(info.value)
