"""PETSc backend: iteration parity with the Numba kernels, inputs, options, errors.

petsc4py is a required test dependency (``pip install .[petsc,test]``): these tests fail, never
skip, when it is missing.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from petsc4py import PETSc

import bandit
import solvers
from solvers import gallery, petsc as sp_petsc

pytestmark = pytest.mark.petsc

RNG = np.random.default_rng(4)

# name -> (matrix, SPD?)
MATRICES = {
    "laplacian": gallery.laplacian_2d(12),
    "laplacian_rect_rhs": gallery.laplacian_2d(9),
    "heat_cn": gallery.crank_nicolson_2d(20, kappa_dt=5e-3),
    "anisotropic": gallery.anisotropic_2d(12, epsilon=0.05),
}


def rhs(A, seed=0):
    return np.random.default_rng(seed).standard_normal(A.shape[0])


def both(name, A, b, omega=None, **kw):
    """Numba and PETSc results of the same solve."""
    args = (A, b) if name == "cg" else (A, b, omega)
    fn = solvers.SOLVERS[name]
    return fn(*args, **kw), fn(*args, backend="petsc", **kw)


# -- iteration parity -------------------------------------------------------------------------
@pytest.mark.parametrize("mat", MATRICES)
@pytest.mark.parametrize("omega", [1.0, 1.5, 1.85])
def test_sor_parity_identical_counts(mat, omega):
    A = MATRICES[mat]
    b = rhs(A)
    ref, res = both("sor", A, b, omega, rtol=1e-8)
    assert res.backend == "petsc" and res.solver == "sor"
    assert ref.converged and res.converged
    assert res.iterations == ref.iterations  # Richardson + forward PCSOR, test attached
    assert res.info["ksp_type"] == "richardson" and res.info["pc_type"] == "sor"
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-9 * np.abs(ref.x).max())
    assert res.residual_norm <= 1e-8 * np.linalg.norm(b)


@pytest.mark.parametrize("mat", MATRICES)
def test_cg_parity_identical_counts(mat):
    A = MATRICES[mat]
    b = rhs(A, 1)
    ref, res = both("cg", A, b, rtol=1e-9)
    assert ref.converged and res.converged
    assert res.iterations == ref.iterations
    assert res.omega is None and res.info["pc_type"] == "none"


@pytest.mark.parametrize("mat", MATRICES)
@pytest.mark.parametrize("order", ["textbook", "paper"])
@pytest.mark.parametrize("omega", [1.0, 1.4, 1.8])
def test_ssor_pcg_parity_within_one(mat, order, omega):
    A = MATRICES[mat]
    b = rhs(A, 2)
    ref, res = both("ssor_pcg", A, b, omega, order=order)
    assert ref.converged and res.converged
    assert abs(res.iterations - ref.iterations) <= 1, (ref.iterations, res.iterations)
    assert res.info["order"] == order


def test_petsc_symmetric_sor_is_the_textbook_order():
    """PETSc's symmetric sweep runs forward first: its iterates equal order="textbook"."""
    A = gallery.anisotropic_2d(8, 0.2)
    b = rhs(A, 3)
    for order in ("textbook", "paper"):
        ref, res = both("ssor_pcg", A, b, 1.6, order=order, maxiter=3)
        np.testing.assert_allclose(res.x, ref.x, rtol=1e-10, atol=1e-12)
    # and the two orders really are different preconditioners
    tb = solvers.ssor_pcg(A, b, 1.6, order="textbook", maxiter=3, backend="petsc")
    pp = solvers.ssor_pcg(A, b, 1.6, order="paper", maxiter=3, backend="petsc")
    assert np.abs(tb.x - pp.x).max() > 1e-6


@pytest.mark.parametrize("name", ["sor", "ssor_pcg", "cg"])
def test_warm_start_parity(name):
    """The stopping rule stays ‖b − A x‖ <= rtol‖b‖ with x0 != 0 (not relative to ‖r0‖)."""
    A = MATRICES["heat_cn"]
    b = rhs(A, 5)
    x0 = sp.linalg.spsolve(A.tocsc(), b) + 1e-3 * rhs(A, 6)
    ref, res = both(name, A, b, 1.3, x0=x0, rtol=1e-8)
    assert ref.converged and res.converged
    assert abs(res.iterations - ref.iterations) <= (1 if name == "ssor_pcg" else 0)
    assert 0 < res.iterations
    assert res.residual_norm <= 1e-8 * np.linalg.norm(b)


def test_atol_parity():
    A = MATRICES["laplacian"]
    b = rhs(A)
    ref, res = both("sor", A, b, 1.5, rtol=0.0, atol=1e-6)
    assert res.iterations == ref.iterations and res.residual_norm <= 1e-6


# -- the contract -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sor", "ssor_pcg", "cg"])
def test_contract(name):
    A = gallery.laplacian_2d(6)
    b = rhs(A)
    x0 = np.full(36, 0.25)
    keep = x0.copy()
    kw = {"backend": "petsc"}
    run = (lambda **k: solvers.cg(A, **k)) if name == "cg" else (
        lambda **k: solvers.SOLVERS[name](A, omega=1.3, **k))
    zero = run(b=np.zeros(36), x0=x0, **kw)
    assert zero.converged and zero.iterations == 0 and not zero.x.any()
    one = run(b=b, x0=x0, maxiter=1, **kw)
    assert (one.iterations, one.converged, one.reason) == (1, False, "maxiter")
    assert one.info["petsc_reason"] in ("DIVERGED_MAX_IT", "DIVERGED_ITS")
    np.testing.assert_array_equal(x0, keep)
    full = run(b=b, **kw)
    again = run(b=b, x0=full.x, **kw)
    assert full.converged and again.converged and again.iterations == 0
    capped = run(b=b, maxiter=0, **kw)
    assert (capped.iterations, capped.converged) == (0, False)


def test_sor_does_not_take_the_richardson_fast_path():
    """Without a test attached, Richardson + SOR would run all max_it sweeps."""
    A = gallery.laplacian_2d(8)
    res = solvers.sor(A, np.ones(64), 1.5, maxiter=5000, backend="petsc")
    assert res.converged and res.iterations < 100


def test_breakdown_on_indefinite_matrix():
    A = sp.diags([1.0, -1.0, 2.0, -3.0]).tocsr()
    res = solvers.cg(A, np.ones(4), backend="petsc")
    assert not res.converged and res.reason == "breakdown"
    assert np.all(np.isfinite(res.x))
    assert res.info["petsc_reason"].startswith("DIVERGED_INDEFINITE")


# -- inputs: prepared operators, PETSc Mat and Vec -------------------------------------------
def test_prepared_operator_reuses_one_ksp_across_omegas():
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    op = sp_petsc.prepare(A)
    counts = [solvers.sor(op, b, w, backend="petsc").iterations for w in (1.0, 1.3, 1.56, 1.9)]
    assert counts == [solvers.sor(A, b, w).iterations for w in (1.0, 1.3, 1.56, 1.9)]
    assert len(op.solvers) == 1
    ksp = next(iter(op.solvers.values())).ksp
    solvers.sor(op, b, 1.7, backend="petsc")
    assert next(iter(op.solvers.values())).ksp is ksp


def test_csr_operator_caches_its_petsc_matrix():
    op = solvers.prepare(gallery.laplacian_2d(5))
    first = sp_petsc.prepare(op)
    assert sp_petsc.prepare(op) is first
    assert solvers.ssor_pcg(op, np.ones(25), 1.5, backend="petsc").converged


def test_user_petsc_mat_and_vec():
    A = gallery.crank_nicolson_2d(12, 1e-2)
    n = A.shape[0]
    b = rhs(A, 7)
    M = PETSc.Mat().createAIJ(A.shape, csr=(A.indptr.astype(PETSc.IntType),
                                            A.indices.astype(PETSc.IntType), A.data))
    bv = M.createVecLeft()
    bv.array[:] = b
    ref = solvers.ssor_pcg(A, b, 1.5, order="textbook")
    res = solvers.ssor_pcg(M, bv, 1.5, order="textbook", backend="petsc")
    assert isinstance(res.x, PETSc.Vec) and res.x.getSize() == n
    assert res.x is not bv
    assert abs(res.iterations - ref.iterations) <= 1
    np.testing.assert_allclose(res.x.array, ref.x, atol=1e-8)
    # numpy b with a PETSc Mat gives a numpy x
    res2 = solvers.cg(M, b, backend="petsc")
    assert isinstance(res2.x, np.ndarray) and res2.converged
    # a Vec x0 is copied, never modified, and a warm start from the solution takes 0 iterations
    x0 = res.x.copy()
    keep = x0.array.copy()
    again = solvers.ssor_pcg(M, bv, 1.5, x0=x0, backend="petsc")
    assert again.iterations == 0 and again.x is not x0
    np.testing.assert_array_equal(x0.array, keep)
    # the same Mat is wrapped once
    assert sp_petsc.prepare(M) is sp_petsc.prepare(M)


def test_values_changed_in_place_are_seen():
    A = gallery.laplacian_2d(6)
    M = sp_petsc.to_petsc_mat(A)
    b = np.ones(36)
    before = solvers.sor(M, b, 1.2, backend="petsc")
    M.shift(1.0)  # A + I: a new state of the same Mat
    after = solvers.sor(M, b, 1.2, backend="petsc")
    ref = solvers.sor(A + sp.eye(36), b, 1.2)
    assert after.iterations == ref.iterations != before.iterations


# -- options: settings as arms ----------------------------------------------------------------
@pytest.mark.parametrize("options", [
    {"pc_type": "sor", "pc_sor_omega": 1.4},
    {"pc_type": "jacobi"},
    {"pc_type": "gamg"},
    {"pc_type": "ilu"},
    {"pc_type": "icc"},
    {"-pc_type": "eisenstat"},
])
def test_option_dicts_configure_the_preconditioner(options):
    A = MATRICES["heat_cn"]
    b = rhs(A)
    res = solvers.cg(A, b, backend="petsc", options=options)
    assert res.converged and res.residual_norm <= 1e-8 * np.linalg.norm(b)
    want = (options.get("pc_type") or options.get("-pc_type"))
    assert res.info["pc_type"] == want
    plain = solvers.cg(A, b, backend="petsc")
    if want == "jacobi":  # constant diagonal: Jacobi is a scaling, CG is unchanged
        assert res.iterations == plain.iterations
    else:
        assert res.iterations < plain.iterations


def test_eisenstat_matches_ssor_counts():
    """PCEISENSTAT is SSOR with the Eisenstat trick: ω set per solve, counts within ±1."""
    A = MATRICES["laplacian"]
    b = rhs(A)
    for omega in (1.2, 1.7):
        sym = solvers.ssor_pcg(A, b, omega, order="textbook", backend="petsc")
        eis = solvers.ssor_pcg(A, b, omega, order="textbook", backend="petsc",
                               options={"pc_type": "eisenstat"})
        assert eis.info["pc_type"] == "eisenstat"
        assert abs(eis.iterations - sym.iterations) <= 1


def test_each_configuration_has_its_own_prefix():
    op = sp_petsc.prepare(gallery.laplacian_2d(6))
    b = np.ones(36)
    r1 = solvers.cg(op, b, backend="petsc", options={"pc_type": "jacobi"})
    r2 = solvers.cg(op, b, backend="petsc", options={"pc_type": "ilu"})
    r3 = solvers.cg(op, b, backend="petsc")
    prefixes = {r.info["prefix"] for r in (r1, r2, r3)}
    assert len(prefixes) == 3 and len(op.solvers) == 3
    assert (r1.info["pc_type"], r2.info["pc_type"], r3.info["pc_type"]) == ("jacobi", "ilu", "none")


# -- errors -----------------------------------------------------------------------------------
def test_non_square_petsc_mat():
    M = PETSc.Mat().createAIJ((4, 3), nnz=1)
    M.assemble()
    with pytest.raises(ValueError, match=r"square.*\(4, 3\)"):
        solvers.cg(M, np.ones(4), backend="petsc")


def test_unassembled_petsc_mat():
    M = PETSc.Mat().createAIJ((4, 4), nnz=1)
    with pytest.raises(ValueError, match="not assembled"):
        solvers.cg(M, np.ones(4), backend="petsc")


def test_wrong_vec_size():
    M = sp_petsc.to_petsc_mat(gallery.laplacian_2d(4))
    with pytest.raises(ValueError, match=r"b is a PETSc Vec of global size 5, expected 16"):
        solvers.cg(M, PETSc.Vec().createSeq(5), backend="petsc")
    with pytest.raises(ValueError, match=r"x0 is a PETSc Vec of global size 3"):
        solvers.sor(M, np.ones(16), 1.2, x0=PETSc.Vec().createSeq(3), backend="petsc")
    with pytest.raises(ValueError, match=r"b has shape \(7,\), expected \(16,\)"):
        solvers.cg(M, np.ones(7), backend="petsc")


def test_unknown_option_name():
    A = gallery.laplacian_2d(4)
    with pytest.raises(ValueError, match=r"unknown or unused PETSc option.*pc_sor_omgea"):
        solvers.cg(A, np.ones(16), backend="petsc", options={"pc_type": "sor", "pc_sor_omgea": 1.2})
    with pytest.raises(ValueError, match=r"unknown or unused.*pc_sor_omega.*pc_type=jacobi"):
        solvers.cg(A, np.ones(16), backend="petsc", options={"pc_type": "jacobi", "pc_sor_omega": 1.2})
    with pytest.raises(ValueError, match=r"PETSc rejected the options"):
        solvers.cg(A, np.ones(16), backend="petsc", options={"pc_type": "no_such_pc"})


def test_bad_inputs_share_the_numba_messages():
    with pytest.raises(ValueError, match="zero or missing diagonal"):
        solvers.sor(sp.csr_array([[0.0, 1.0], [1.0, 2.0]]), np.ones(2), 1.2, backend="petsc")
    with pytest.raises(ValueError, match="not symmetric"):
        solvers.cg(sp.csr_array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2), backend="petsc")
    with pytest.raises(ValueError, match="NaN or Inf"):
        solvers.cg(gallery.laplacian_2d(2), np.array([1.0, np.nan, 0, 0]), backend="petsc")
    with pytest.raises(ValueError, match="open interval"):
        solvers.sor(gallery.laplacian_2d(2), np.ones(4), 2.0, backend="petsc")
    M = sp_petsc.to_petsc_mat(sp.csr_array([[0.0, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="zero or missing diagonal entry in row 0"):
        solvers.sor(M, np.ones(2), 1.2, backend="petsc")
    N = sp_petsc.to_petsc_mat(sp.csr_array([[2.0, 1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="not symmetric"):
        solvers.cg(N, np.ones(2), backend="petsc")


def test_petsc_sor_dtol_matches_numba():
    from solvers import sor
    A = np.array([[1.0, 3.0], [3.0, 1.0]])  # Gauss-Seidel amplification 9 per sweep
    b = np.array([1.0, 2.0])
    for dtol in (10.0, 1e6):
        ours = sor(A, b, 1.0, dtol=dtol)
        theirs = sor(A, b, 1.0, dtol=dtol, backend="petsc")
        assert ours.reason == theirs.reason == "diverged"
        assert ours.iterations == theirs.iterations


def test_csr_operator_copies_and_refreshes_get_their_own_petsc_mat():
    # a CSROperator keeps its converted Mat (CSROperator.derived); a with_values copy and an
    # in-place refresh carry new values, so they must not solve with the old Mat
    A1, A2 = gallery.crank_nicolson_2d(6, 0.01), gallery.crank_nicolson_2d(6, 0.5)
    b = rhs(A1)
    op = solvers.prepare(A1)
    first = solvers.cg(op, b, backend="petsc", rtol=1e-12)
    copy = op.with_values(A2)
    again = solvers.cg(copy, b, backend="petsc", rtol=1e-12)
    exact = sp.linalg.spsolve(A2.tocsc(), b)
    np.testing.assert_allclose(again.x, exact, rtol=1e-9)
    assert sp_petsc.prepare(op) is sp_petsc.prepare(op)  # the original keeps its own
    np.testing.assert_allclose(solvers.cg(op, b, backend="petsc", rtol=1e-12).x, first.x)
    scratch = solvers.prepare(A1, overwrite=True)
    solvers.cg(scratch, b, backend="petsc")
    assert solvers.prepare(A2, like=scratch, overwrite=True) is scratch
    np.testing.assert_allclose(solvers.cg(scratch, b, backend="petsc", rtol=1e-12).x, exact,
                               rtol=1e-9)


def _node_pairs(n=10):
    """SPD matrix whose rows come in pairs with identical column patterns (two unknowns per
    node, as in a vector-valued PDE): PETSc's AIJ format groups such rows into i-nodes."""
    T = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    B = sp.csr_matrix(np.array([[4.0, -1.0], [-1.0, 4.0]]))
    return (sp.kron(T, sp.identity(2)) + sp.kron(sp.identity(n), B)).tocsr()


@pytest.mark.parametrize("A", [np.array([[2.0, -1.0], [-1.0, 2.0]]), _node_pairs()],
                         ids=["dense2x2", "node-pairs"])
def test_eisenstat_on_rows_with_identical_patterns(A):
    """Eisenstat (and the other orders) on a matrix whose Mat has i-nodes: solved, at the
    tolerance, with the counts of the symmetric sweep within one."""
    b = np.ones(A.shape[0])
    sym = solvers.ssor_pcg(A, b, 1.4, backend="petsc")
    eis = solvers.ssor_pcg(A, b, 1.4, backend="petsc", options={"pc_type": "eisenstat"})
    ref = np.linalg.solve(np.asarray(sp.csr_matrix(A).toarray()), b)
    for res in (sym, eis):
        assert res.converged and res.reason == "converged"
        assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-12)
        np.testing.assert_allclose(res.x, ref, rtol=1e-6)
    assert abs(eis.iterations - sym.iterations) <= 1


@pytest.mark.parametrize("omega", [1.2, 1.4, 1.7])
def test_eisenstat_residual_gap_continues_to_the_tolerance(omega):
    """PCEISENSTAT's KSP tests the residual of its transformed system; when that claims
    convergence before the true residual meets ‖b − A x‖ ≤ rtol‖b‖, the solve goes on and
    reports "converged" at the tolerance (never a converged solve reported as diverged)."""
    A = gallery.laplacian_2d(10)
    b = np.ones(A.shape[0])
    res = solvers.ssor_pcg(A, b, omega, backend="petsc", options={"pc_type": "eisenstat"})
    assert res.converged and res.reason == "converged", (res.reason, res.residual_norm)
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)
    sym = solvers.ssor_pcg(A, b, omega, backend="petsc")
    assert abs(res.iterations - sym.iterations) <= 1


@pytest.mark.parametrize("options, argument", [
    ({"ksp_max_it": 2}, "maxiter"), ({"ksp_rtol": 0.5}, "rtol"), ({"-ksp_atol": 1.0}, "atol"),
    ({"ksp_divtol": 10.0}, "dtol"), ({"ksp_initial_guess_nonzero": True}, "x0"),
    ({"ksp_type": "gmres"}, "the method decides"),
    ({"ksp_norm_type": "preconditioned"}, "the method decides")])
def test_options_that_the_solve_itself_sets_are_refused(options, argument):
    """The solve sets the KSP's tolerances, cap and initial guess from its own arguments (and
    the KSP and norm from the method) on every call: such an option would be silently
    replaced — a cap of 2 that still runs 15 iterations — so it is refused, naming the
    argument to use; so is it as a Tuner arm."""
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    with pytest.raises(ValueError, match=argument):
        solvers.cg(A, b, backend="petsc", options=options)
    with pytest.raises(ValueError, match=argument):
        bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "jacobi", **options}]),
                     backend="petsc")
    res = solvers.cg(A, b, maxiter=2, backend="petsc")  # the argument works
    assert res.iterations == 2 and not res.converged and res.reason == "maxiter"


def test_rejected_options_say_what_petsc_said_on_one_line():
    """PETSc's error text is a call stack with build paths; the ValueError keeps PETSc's own
    messages (what was wrong) on one line, without the stack."""
    A = gallery.laplacian_2d(4)
    for options, said in [({"pc_type": "no_such_pc"}, "requested PC type no_such_pc"),
                          ({"pc_type": "sor", "pc_sor_omega": "abc"}, "abc has no numeric value")]:
        with pytest.raises(ValueError) as info:
            solvers.cg(A, np.ones(16), backend="petsc", options=options)
        msg = str(info.value)
        assert said in msg and "\n" not in msg and "() at " not in msg and "error code" in msg


def test_communicator_argument():
    """``comm`` may be a PETSc communicator or an mpi4py one (what petsc4py itself accepts);
    anything else is a TypeError naming the argument, not an AttributeError from inside."""
    from mpi4py import MPI

    A = gallery.laplacian_2d(5)
    b = np.ones(25)
    want = solvers.cg(A, b, backend="petsc").iterations
    for comm in (PETSc.COMM_SELF, MPI.COMM_SELF, MPI.COMM_WORLD):
        assert sp_petsc.solve("cg", A, b, None, comm=comm).iterations == want
        assert solvers.prepare(A, backend="petsc", comm=comm).comm.getSize() == 1
    for bad in ("world", 3):
        with pytest.raises(TypeError, match="comm must be a PETSc or mpi4py communicator"):
            sp_petsc.solve("cg", A, b, None, comm=bad)
        with pytest.raises(TypeError, match="comm must be a PETSc or mpi4py communicator"):
            solvers.prepare(A, backend="petsc", comm=bad)


def test_a_mat_type_petsc_cannot_solve_with_is_a_clear_error_and_leaves_things_usable():
    """PETSc's BAIJ MatSOR supports only ω = 1, and a shell Mat has no diagonal: a ValueError
    naming the Mat type and what PETSc said, not a PETSc.Error; the user's right-hand side
    Vec stays writable (a failed KSPSolve leaves its read lock behind) and the same Mat still
    solves what PETSc supports."""
    A = gallery.laplacian_2d(6)
    n = A.shape[0]
    B = sp_petsc.to_petsc_mat(A).convert("baij")
    b, _ = B.createVecs()
    b.set(1.0)
    for _ in range(2):  # the second time too (no broken KSP kept)
        with pytest.raises(ValueError, match=r"baij.*relaxation factor"):
            solvers.sor(B, b, 1.3, backend="petsc")
    b.set(1.0)  # still writable
    res = solvers.sor(B, b, 1.0, backend="petsc")
    assert res.converged and res.iterations == solvers.sor(A, np.ones(n), 1.0).iterations

    class Product:
        def mult(self, mat, x, y):
            y.array[:] = A @ x.array

    shell = PETSc.Mat().createPython((n, n), Product())
    shell.setUp()
    shell.assemble()
    for solve in (lambda: solvers.sor(shell, np.ones(n), 1.3, backend="petsc"),
                  lambda: solvers.cg(shell, np.ones(n), backend="petsc")):
        with pytest.raises(ValueError, match=r"type 'python'"):
            solve()


def test_an_omega_option_that_contradicts_the_omega_argument_is_refused():
    """sor/ssor_pcg set ω from their argument on every call (PCSORSetOmega), so an ω option
    with another value would be ignored without a word: refused; the same value is fine."""
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    for solve in (solvers.sor, solvers.ssor_pcg):
        for key in ("pc_sor_omega", "-pc_sor_omega"):
            with pytest.raises(ValueError, match=r"pc_sor_omega = 1.8 .* omega = 1.2"):
                solve(A, b, 1.2, backend="petsc", options={key: 1.8})
        same = solve(A, b, 1.2, backend="petsc", options={"pc_sor_omega": "1.2"})
        assert same.iterations == solve(A, b, 1.2, backend="petsc").iterations
    with pytest.raises(ValueError, match=r"pc_eisenstat_omega = 1.5 .* omega = 1.3"):
        solvers.ssor_pcg(A, b, 1.3, backend="petsc",
                         options={"pc_type": "eisenstat", "pc_eisenstat_omega": 1.5})


@pytest.mark.petsc
def test_petsc_leaves_a_broken_pipe_to_python(tmp_path):
    # PETSc's own signal handlers had turned a write to a closed pipe (`relaxtune ... | head`,
    # a test reading part of a child's output) into "PETSC ERROR: Caught signal number 13" and
    # an MPI_Abort with exit status 59; Python reports it as BrokenPipeError
    import subprocess
    import sys

    code = ("import os, solvers.petsc\n"  # initialises PETSc
            "r, w = os.pipe(); os.close(r)\n"
            "try:\n    os.write(w, b'x')\nexcept BrokenPipeError:\n    print('EPIPE')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "EPIPE" and "PETSC ERROR" not in proc.stderr
