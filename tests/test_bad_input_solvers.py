"""Bad input to the solvers and ``prepare``: one table, each case with its exact outcome.

A case either raises (exception type and a fragment of the message, which must name the
problem) or solves (converged, and the solution checked against a dense solve).  Badly scaled
but valid systems (``b = 1e200·1``, ``b = 1e-170·1``, ``A·1e150``) must be solved to tolerance
by every solver on both backends, or refused with a clear error — never reported converged
with a wrong ``x``.
"""
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from solvers import SOLVERS, cg, gallery, prepare, sor, ssor_pcg

A = gallery.laplacian_2d(5)
N = 25
B = np.linspace(1.0, 2.0, N)
X_TRUE = np.linalg.solve(A.toarray(), B)


def solve(name, A=A, b=B, omega=1.3, **kw):
    return SOLVERS[name](A, b, **kw) if name == "cg" else SOLVERS[name](A, b, omega, **kw)


def raises(exc, fragment):
    return ("raises", exc, fragment)


SOLVES = ("solves", None, None)


def with_entry(i, j, value, A=A):
    M = sp.lil_array(A)
    M[i, j] = value
    return sp.csr_array(M)


def explicit_zero_diagonal(row):
    C = sp.coo_array(missing_diagonal(row))
    return sp.csr_array((np.append(C.data, 0.0), (np.append(C.row, row), np.append(C.col, row))),
                        shape=C.shape)  # a stored 0.0 (coo -> csr keeps explicit zeros)


def missing_diagonal(row):
    M = sp.lil_array(A)
    M[row, row] = 0.0
    M = sp.csr_array(M)
    M.eliminate_zeros()
    return M


# (id, solvers it applies to, keyword arguments of ``solve``, expected outcome)
ALL = ("sor", "ssor_pcg", "cg")
CASES = [
    # shapes
    ("non-square A", ALL, dict(A=np.ones((3, 4)), b=np.ones(3)), raises(ValueError, "must be square")),
    ("1-D A", ALL, dict(A=np.ones(4), b=np.ones(4)), raises(ValueError, "2-D matrix")),
    ("3-D A", ALL, dict(A=np.ones((2, 2, 2)), b=np.ones(2)), raises(ValueError, "2-D matrix")),
    ("empty A", ALL, dict(A=sp.csr_array((0, 0)), b=np.ones(0)), raises(ValueError, "empty")),
    ("A not a matrix", ALL, dict(A="A"), raises(TypeError, "A must be a scipy sparse matrix")),
    ("A is None", ALL, dict(A=None), raises(TypeError, "not NoneType")),
    ("b too short", ALL, dict(b=np.ones(N - 1)), raises(ValueError, "b has shape (24,)")),
    ("b is (n, 2)", ALL, dict(b=np.ones((N, 2))), raises(ValueError, "b has shape (25, 2)")),
    ("b as a column (n, 1)", ALL, dict(b=B[:, None]), SOLVES),
    ("b as a list", ALL, dict(b=list(B)), SOLVES),
    ("x0 too long", ALL, dict(x0=np.ones(N + 1)), raises(ValueError, "x0 has shape (26,)")),
    # non-finite values
    ("NaN in A", ALL, dict(A=with_entry(3, 3, np.nan)), raises(ValueError, "A contains NaN or Inf (1")),
    ("Inf in A", ALL, dict(A=with_entry(3, 4, np.inf)), raises(ValueError, "A contains NaN or Inf")),
    ("NaN in b", ALL, dict(b=np.where(np.arange(N) == 2, np.nan, B)),
     raises(ValueError, "b contains NaN or Inf (1 entry)")),
    ("Inf in x0", ALL, dict(x0=np.full(N, np.inf)), raises(ValueError, "x0 contains NaN or Inf")),
    # diagonal
    ("explicit zero diagonal", ("sor", "ssor_pcg"), dict(A=explicit_zero_diagonal(7)),
     raises(ValueError, "zero or missing diagonal entry in row 7 (explicit zero")),
    ("missing diagonal", ("sor", "ssor_pcg"), dict(A=missing_diagonal(4)),
     raises(ValueError, "diagonal entry in row 4 (missing")),
    ("negative diagonal", ("ssor_pcg",), dict(A=with_entry(2, 2, -4.0)),
     raises(ValueError, "negative diagonal entry a_ii = -4 in row 2")),
    ("non-symmetric A", ("ssor_pcg", "cg"), dict(A=with_entry(0, 1, -0.5)),
     raises(ValueError, "A is not symmetric")),
    # ω
    *[(f"omega = {w!r}", ("sor", "ssor_pcg"), dict(omega=w),
       raises(ValueError, "omega must lie in the open interval (0, 2)"))
      for w in (0.0, 2.0, -1.0, 2.5, float("nan"), float("inf"))],
    *[(f"omega = {w!r}", ("sor", "ssor_pcg"), dict(omega=w),
       raises(ValueError, "omega must be a real number"))
      for w in ("1.5", True, np.bool_(True), None, 1.5 + 0j, np.array([1.5]), [1.5])],
    *[(f"omega = {w!r}", ("sor", "ssor_pcg"), dict(omega=w), SOLVES)
      for w in (np.float32(1.5), np.float64(1.3), np.int64(1), 1, Fraction(3, 2),
                np.array(1.5))],
    # tolerances and caps
    *[(f"rtol = {v!r}", ALL, dict(rtol=v), raises(ValueError, "rtol must be a real number"))
      for v in ("1e-8", True, None, 1e-8j, [1e-8], np.array([1e-8]))],
    *[(f"atol = {v!r}", ALL, dict(atol=v), raises(ValueError, "atol must be a real number"))
      for v in ("0", False, None)],
    *[(f"rtol = {v!r}", ALL, dict(rtol=v), raises(ValueError, "must be finite and >= 0"))
      for v in (-1e-8, float("nan"), float("inf"))],
    *[(f"rtol = {v!r}", ALL, dict(rtol=v), raises(ValueError, "rtol must be a number in [0, 1)"))
      for v in (1, 1.0, 3.0)],  # from x0 = 0 the rule held before any iteration
    ("rtol = atol = 0", ALL, dict(rtol=0.0, atol=0.0), raises(ValueError, "cannot both be 0")),
    ("rtol = np.float32(1e-6)", ALL, dict(rtol=np.float32(1e-6)), SOLVES),
    ("atol only", ALL, dict(rtol=0, atol=1e-9), SOLVES),
    *[(f"maxiter = {v!r}", ALL, dict(maxiter=v),
       raises(ValueError, "maxiter must be a non-negative integer"))
      for v in (1.5, 10.0, "10", True, None, -1, np.float64(10))],
    *[(f"maxiter = {v!r}", ALL, dict(maxiter=v), raises(ValueError, "maxiter must be at most"))
      for v in (2**63, 2**70)],
    *[(f"maxiter = {v!r}", ALL, dict(maxiter=v), SOLVES)
      for v in (np.int64(500), np.int32(500), np.uint16(500), 2**63 - 1)],
    *[(f"dtol = {v!r}", ALL, dict(dtol=v), raises(ValueError, "dtol must"))
      for v in (1.0, 0.5, float("nan"), "big", True, None)],
    ("dtol = np.float32(100)", ALL, dict(dtol=np.float32(100.0)), SOLVES),
    # dtypes
    ("complex A", ALL, dict(A=A * (1 + 1j)), raises(ValueError, "A is complex")),
    ("complex b", ALL, dict(b=B + 1j), raises(ValueError, "b is complex")),
    ("complex x0", ALL, dict(x0=np.full(N, 1j)), raises(ValueError, "x0 is complex")),
    # a real system held as complex (every imaginary part exactly zero) is solved as real
    ("complex A, zero imaginary parts", ALL, dict(A=A.astype(complex)), SOLVES),
    ("complex b, zero imaginary parts", ALL, dict(b=B + 0j), SOLVES),
    ("complex x0, zero imaginary parts", ALL, dict(x0=np.zeros(N, complex)), SOLVES),
    ("string b", ALL, dict(b=np.array(["1"] * N)), raises(ValueError, "b must have a real numeric dtype")),
    ("object A", ALL, dict(A=np.array([[1, None], [None, 1]], dtype=object), b=np.ones(2)),
     raises(ValueError, "A must have a real numeric dtype")),
    ("boolean sparse A", ALL, dict(A=A.astype(bool)), raises(ValueError, "A is boolean (bool)")),
    ("boolean dense A", ALL, dict(A=A.toarray() != 0), raises(ValueError, "A is boolean (bool)")),
    ("boolean b", ALL, dict(b=B != 0), raises(ValueError, "b is boolean (bool)")),
    ("boolean x0", ALL, dict(x0=np.zeros(N, bool)), raises(ValueError, "x0 is boolean (bool)")),
    # sparse vectors: a dense vector (or column) is needed
    ("b a sparse column", ALL, dict(b=sp.csr_matrix(B[:, None])),
     raises(ValueError, "b is a scipy sparse csr_matrix of shape (25, 1)")),
    ("b a sparse row array", ALL, dict(b=sp.csr_array(B[None, :])),
     raises(ValueError, "b is a scipy sparse csr_array of shape (1, 25)")),
    ("x0 a sparse column", ALL, dict(x0=sp.coo_matrix(np.ones((N, 1)))),
     raises(ValueError, "x0 is a scipy sparse coo_matrix of shape (25, 1)")),
    ("integer A and b", ALL, dict(A=(A * 2).astype(np.int32), b=np.arange(N) % 3), SOLVES),
    ("float32 A and b", ALL, dict(A=A.astype(np.float32), b=B.astype(np.float32)), SOLVES),
    # options that are not the Numba backend's
    ("PETSc options on Numba", ALL, dict(options={"pc_type": "jacobi"}),
     raises(ValueError, "only accepted with backend='petsc'")),
    ("unknown backend", ALL, dict(backend="cuda"), raises(ValueError, "backend must be one of")),
    ("unknown SSOR order", ("ssor_pcg",), dict(order="sideways"),
     raises(ValueError, "order must be one of")),
]


def _params():
    for case_id, names, kw, expected in CASES:
        for name in names:
            yield pytest.param(name, kw, expected, id=f"{name}: {case_id}")


@pytest.mark.parametrize("name, kw, expected", list(_params()))
def test_bad_input(name, kw, expected):
    kind, exc, fragment = expected
    if kind == "raises":
        with pytest.raises(exc) as info:
            solve(name, **kw)
        assert fragment in str(info.value), str(info.value)
        return
    res = solve(name, **kw)
    assert res.converged and res.reason == "converged"
    # (np.real: a complex A or b with zero imaginary parts is solved as real)
    Ad = np.asarray(np.real(sp.csr_array(kw.get("A", A)).toarray()), dtype=float)
    bd = np.asarray(np.real(kw.get("b", B)), dtype=float).ravel()
    assert np.linalg.norm(bd - Ad @ res.x) <= 1.0001 * max(res.rtol * np.linalg.norm(bd), res.atol)
    if "omega" in kw and res.omega is not None:
        assert type(res.omega) is float


def test_catalogue_size():
    assert len(list(_params())) >= 60


# -- systems far from unit scale: solved to tolerance, or refused ----------------------------

SCALED = [  # (id, A, b, x0): each is A x = b for the model problem, rescaled
    ("b = 1e200", A, 1e200 * B, None),
    ("b = 1e-170", A, 1e-170 * B, None),
    ("b = 1e300", A, 1e300 * B, None),
    ("b = 1e-300", A, 1e-300 * B, None),
    ("A·1e150", A * 1e150, B, None),
    ("A·1e150, b = 1e200", A * 1e150, 1e200 * B, None),
    ("A·1e-150, b = 1e-170", A * 1e-150, 1e-170 * B, None),
    ("b = 1e200, x0 = 1e199", A, 1e200 * B, 1e199 * np.ones(N)),
    ("b = 1e-170, x0 = 1e-171", A, 1e-170 * B, 1e-171 * np.ones(N)),
]


@pytest.mark.parametrize("backend", ["numba", pytest.param("petsc", marks=pytest.mark.petsc)])
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("case", SCALED, ids=[c[0] for c in SCALED])
def test_badly_scaled_systems_are_solved_to_tolerance(case, name, backend):
    _, As, b, x0 = case
    res = solve(name, A=As, b=b, x0=x0, backend=backend)
    unscaled = solve(name, A=A, b=B, backend=backend)
    assert res.converged and np.all(np.isfinite(res.x))
    b_norm = np.linalg.norm(b / np.abs(b).max()) * np.abs(b).max()
    assert res.b_norm == pytest.approx(b_norm, rel=1e-12) and res.b_norm > 0
    # the relative residual, computed at a scale where the squares cannot over/underflow
    s = np.abs(b).max()
    Ad = As.toarray()
    rel = np.linalg.norm(b / s - (Ad @ res.x) / s) / np.linalg.norm(b / s)
    assert rel <= 1e-8 * 1.0001
    assert res.residual_norm / res.b_norm == pytest.approx(rel, rel=1e-3, abs=1e-15)
    if x0 is None:
        assert res.iterations == unscaled.iterations  # scaling by powers of two is exact


@pytest.mark.parametrize("backend", ["numba", pytest.param("petsc", marks=pytest.mark.petsc)])
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("As, b, x0, fragment", [
    (A * 1e150, 1e-170 * B, None, "cannot be represented in double precision"),
    (A * 1e-150, 1e200 * B, None, "overflows double precision"),
    (A, 5e-324 * np.ones(N), None, "cannot be represented in double precision"),
    (A, 1e-170 * B, 1e200 * np.ones(N), "x0 is out of proportion with b"),
], ids=["solution underflows", "solution overflows", "subnormal b", "x0 out of proportion"])
def test_unrepresentable_systems_are_refused(As, b, x0, fragment, name, backend):
    with pytest.raises(ValueError, match=fragment):
        solve(name, A=As, b=b, x0=x0, backend=backend)


# -- outcomes that are not convergence ---------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_cap_is_not_convergence(name):
    res = solve(name, maxiter=2)
    assert not res.converged and res.reason == "maxiter" and res.iterations == 2
    assert res.residual_norm == pytest.approx(np.linalg.norm(B - A @ res.x), rel=1e-12)


def test_diverging_sor_is_reported_with_a_finite_iterate():
    res = sor(np.array([[1.0, 3.0], [3.0, 1.0]]), np.array([1.0, 2.0]), 1.0)
    assert res.reason == "diverged" and not res.converged and np.all(np.isfinite(res.x))


@pytest.mark.parametrize("name", ["ssor_pcg", "cg"])
def test_indefinite_matrix_breaks_down(name):
    res = solve(name, A=np.array([[1.0, 2.0], [2.0, 1.0]]), b=np.array([1.0, -1.0]))
    assert res.reason == "breakdown" and not res.converged


@pytest.mark.parametrize("name", ALL)
def test_zero_rhs_is_solved_by_zero(name):
    res = solve(name, b=np.zeros(N), x0=np.ones(N))
    assert res.converged and res.iterations == 0 and not res.x.any()


# -- prepare ----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, exc, fragment", [
    ("abc", TypeError, "A must be a scipy sparse matrix"),
    (None, TypeError, "not NoneType"),
    (np.ones((2, 3)), ValueError, "must be square"),
    (sp.csr_array((0, 0)), ValueError, "empty"),
    (with_entry(1, 1, np.nan), ValueError, "A contains NaN or Inf"),
    (A * 1j, ValueError, "complex"),
    (A.astype(bool), ValueError, "A is boolean"),
])
def test_prepare_rejects(bad, exc, fragment):
    with pytest.raises(exc, match=fragment):
        prepare(bad)


def test_prepare_returns_a_prepared_operator_unchanged():
    op = prepare(A)
    assert prepare(op) is op
    np.testing.assert_allclose(ssor_pcg(op, B, 1.5).x, X_TRUE, rtol=1e-6)
    np.testing.assert_allclose(cg(op, B).x, X_TRUE, rtol=1e-6)


def test_a_boolean_matrix_is_refused_on_every_path_of_prepare():
    # a refresh on a known pattern (like=, overwrite=True in place) took bool values as 1.0s
    M = A.astype(bool)
    op = prepare(A)
    scratch = prepare(A, overwrite=True)
    for call in (lambda: prepare(M, like=op), lambda: op.with_values(M),
                 lambda: prepare(M, like=scratch, overwrite=True)):
        with pytest.raises(ValueError, match=r"A is boolean \(bool\)"):
            call()
    assert scratch._refresh_in_place(M) is False  # left to prepare, which refuses it
    np.testing.assert_allclose(ssor_pcg(scratch, B, 1.5).x, X_TRUE, rtol=1e-6)  # intact


@pytest.mark.parametrize("pc", ["none", "jacobi", "ic0", "amg", {"pc": "ssor", "omega": 1.3}],
                         ids=str)
@pytest.mark.parametrize("kw, fragment", [
    (dict(b=sp.csr_matrix(B[:, None])), "b is a scipy sparse csr_matrix"),
    (dict(x0=sp.csr_array(np.zeros((N, 1)))), "x0 is a scipy sparse csr_array"),
    (dict(A=A.astype(bool)), "A is boolean"),
    (dict(b=B != 0), "b is boolean"),
])
def test_pcg_refuses_sparse_vectors_and_boolean_matrices(pc, kw, fragment):
    from solvers import pcg

    args = {"A": A, "b": B, **kw}
    with pytest.raises(ValueError, match=fragment):
        pcg(args.pop("A"), args.pop("b"), pc, **args)


@pytest.mark.parametrize("name", ALL)
def test_tuner_refuses_a_sparse_rhs_on_its_first_call_and_on_its_hot_path(name):
    # the hot path (a matrix on the pattern of the Tuner's working copy, refreshed in place)
    # checks b in one compiled call: anything else falls back to the full checks' message
    import bandit

    t = bandit.Tuner(bandit.FixedArm([1.3]), solver=name)
    bs = sp.csr_matrix(B[:, None])
    with pytest.raises(ValueError, match="b is a scipy sparse csr_matrix of shape"):
        t.solve(A, bs)
    assert t.solve(A, B).converged
    for kw in (dict(b=bs), dict(b=B, x0=sp.csr_matrix(np.ones((N, 1))))):
        with pytest.raises(ValueError, match="is a scipy sparse csr_matrix of shape"):
            t.solve(A.copy(), **kw)
    with pytest.raises(ValueError, match="A is boolean"):
        t.solve(A.astype(bool), B)
    for kw in (dict(b=B != 0), dict(b=B, x0=np.zeros(N, bool))):  # a mask, not numbers
        with pytest.raises(ValueError, match=r"(b|x0) is boolean \(bool\)"):
            t.solve(A.copy(), **kw)
    res = t.solve(A.copy(), B)
    assert res.converged and len(t.history["arm"]) == 2
    np.testing.assert_allclose(res.x, X_TRUE, rtol=1e-6)


@pytest.mark.petsc
@pytest.mark.parametrize("name", ALL)
def test_a_petsc_matrix_on_the_numba_backend_is_pointed_to_backend_petsc(name):
    import bandit
    from petsc4py import PETSc

    M = PETSc.Mat().createAIJ(A.shape, csr=(A.indptr, A.indices, A.data),
                              comm=PETSc.COMM_SELF)
    pop = prepare(A, backend="petsc", comm=PETSc.COMM_SELF)
    try:
        for bad in (M, pop):
            kind = type(bad).__name__
            for call in (lambda: solve(name, A=bad), lambda: prepare(bad),
                         lambda: bandit.Tuner(bandit.FixedArm([1.3]), solver=name).solve(bad, B)):
                with pytest.raises(TypeError, match=f"not {kind}.*backend='petsc'"):
                    call()
        assert solve(name, A=M, backend="petsc").converged  # what the message suggests
    finally:
        M.destroy()


# -- the PETSc backend: the same checks ---------------------------------------------------------

@pytest.mark.petsc
@pytest.mark.parametrize("kw, fragment", [
    (dict(rtol=True), "rtol must be a real number"),
    (dict(rtol="1e-8"), "rtol must be a real number"),
    (dict(maxiter=2**40), "maxiter must be at most"),
    (dict(maxiter=1.5), "maxiter must be a non-negative integer"),
    (dict(dtol="big"), "dtol must"),
    (dict(x0=np.full(N, np.nan)), "x0 contains NaN or Inf"),
    (dict(b=np.full(N, np.inf)), "b contains NaN or Inf"),
    (dict(b=sp.csr_matrix(B[:, None])), r"b is a scipy sparse csr_matrix of shape \(25, 1\)"),
    (dict(x0=sp.csr_array(np.ones((N, 1)))), "x0 is a scipy sparse csr_array"),
    (dict(A=A.astype(bool)), r"A is boolean \(bool\)"),
])
@pytest.mark.parametrize("name", ALL)
def test_petsc_backend_rejects(name, kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        solve(name, backend="petsc", **kw)


@pytest.mark.petsc
def test_petsc_backend_accepts_numpy_scalars():
    res = sor(A, B, np.float32(1.5), maxiter=np.int64(500), rtol=np.float32(1e-6),
              backend="petsc")
    assert res.converged and res.omega == 1.5


@pytest.mark.petsc
def test_petsc_backend_solves_the_new_values_of_a_with_values_copy():
    # the copy inherits the parent's attributes; the parent's PETSc Mat holds the old values
    op = prepare(gallery.crank_nicolson_2d(10, 0.01))
    b = np.ones(op.n)
    assert ssor_pcg(op, b, 1.5, backend="petsc").converged
    new = op.with_values(gallery.crank_nicolson_2d(10, 5.0))
    res = ssor_pcg(new, b, 1.5, backend="petsc")
    assert res.converged and np.linalg.norm(b - new.matrix @ res.x) <= 1e-8 * np.linalg.norm(b)
    assert res.iterations == ssor_pcg(new, b, 1.5, order="textbook").iterations
    assert ssor_pcg(op, b, 1.5, backend="petsc").iterations != res.iterations  # parent intact


@pytest.mark.parametrize("pc", ["jacobi", "ic0", "amg", "none", "ssor"])
@pytest.mark.parametrize("case", SCALED, ids=[c[0] for c in SCALED])
def test_badly_scaled_systems_are_solved_by_pcg(case, pc):
    from solvers import pcg, SSOR

    _, As, b, x0 = case
    spec = SSOR(1.3) if pc == "ssor" else pc
    res = pcg(As, b, spec, x0=x0)
    unscaled = pcg(A, B, SSOR(1.3) if pc == "ssor" else pc)
    assert res.converged and np.all(np.isfinite(res.x))
    s = np.abs(b).max()
    rel = np.linalg.norm(b / s - (As.toarray() @ res.x) / s) / np.linalg.norm(b / s)
    assert rel <= 1e-8 * 1.0001
    if x0 is None and pc != "amg":  # AMG's set-up depends on the scale through its tolerances
        assert res.iterations == unscaled.iterations
