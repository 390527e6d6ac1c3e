"""IC(0) with a fixed diagonal shift on the PETSc backend: ``{"method": "cg", "pc": "ic0",
"shift": s}`` builds PETSc's ICC from a separate preconditioning matrix ``A + s·diag(A)``
(``KSPSetOperators(A, P)``; refilled when ``A``'s values change), the same preconditioner as
the Numba ``IC0(shift=s)``.  Checked on SPD matrices far from an M-matrix on which the
unshifted IC(0) breaks down: iteration counts within ±1 of the Numba kernel's, the solution
within tolerance of scipy's direct solve.  Before, the arm was refused when it was made.

On two ranks (``mpiexec -n 2`` on ``tests/mpi_small7.py``): the refusal of an ``ic0`` arm
names the block Jacobi arm to write instead with the arm's own shift settings for the
sub-preconditioner (``sub_pc_factor_shift_type``, and the diagonal shift) — it had named
``{'pc_type': 'bjacobi', 'sub_pc_type': 'icc'}`` alone, whose sub-ICC shifts a breakdown by
PETSc's default, so ``breakdown="raise"`` silently became a shifted solve — and block
Jacobi ICC of ``A + s·diag(A)`` counts as a dense PCG with that preconditioner.
"""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

pytest.importorskip("petsc4py")

import dense_gold as gold  # noqa: E402
import solvers  # noqa: E402
from bandit import FixedArm, Tuner  # noqa: E402
from bandit.arms import parse_arm  # noqa: E402
from solvers import IC0, pcg  # noqa: E402
from solvers._petsc_options import DIAGONAL_SHIFT  # noqa: E402
from test_probe16_pcg_properties import _rotated  # noqa: E402

KERSHAW = np.array([[3.0, -2.0, 0.0, 2.0], [-2.0, 3.0, -2.0, 0.0], [0.0, -2.0, 3.0, -2.0],
                    [2.0, 0.0, -2.0, 3.0]])
SHIFT = 0.5


def _matrices():
    return {"kershaw": KERSHAW, "rotated30": _rotated(np.random.default_rng(3), 30, 3),
            "rotated60": _rotated(np.random.default_rng(7), 60, 4)}


def two_block_system(c=1.0):
    """32 × 32 SPD: two 16 × 16 blocks (one per rank) on each of which IC(0) breaks down
    without a shift, weakly coupled; ``c`` in (0, 1] scales the off-diagonal entries (same
    pattern; ``(1 − c) D + c A`` stays SPD)."""
    blocks = [_rotated(np.random.default_rng(seed), 16, 3) for seed in (0, 4)]
    A = sla.block_diag(*blocks)
    A[15, 16] = A[16, 15] = 1e-4
    D = np.diag(np.diag(A))
    return sp.csr_matrix(D + c * (A - D))


def _petsc(arm, A, b, **kw):
    fn, call = parse_arm(arm, backend="petsc").call()
    return fn(A, b, **{"rtol": 1e-10, "maxiter": 300, **kw}, **call)


@pytest.mark.parametrize("name", sorted(_matrices()))
@pytest.mark.parametrize("shift", [0.2, 0.5, 1.0])
def test_fixed_shift_matches_the_numba_ic0(name, shift):
    A = sp.csr_matrix(_matrices()[name])
    b = np.arange(1.0, A.shape[0] + 1)
    with pytest.raises(ArithmeticError):
        gold.ic0_dense(A.toarray())  # the unshifted factorisation breaks down
    gold.ic0_dense(A.toarray(), shift)  # the shifted one does not: one preconditioner
    numba = pcg(A, b, IC0(shift=shift, breakdown="raise"), rtol=1e-10, maxiter=300)
    res = _petsc({"method": "cg", "pc": "ic0", "shift": shift}, A, b)
    assert numba.converged and res.converged and res.info["pc_type"] == "icc"
    assert abs(res.iterations - numba.iterations) <= 1, (res.iterations, numba.iterations)
    exact = spla.spsolve(sp.csc_matrix(A), b)
    cond = np.linalg.cond(A.toarray())
    for r in (numba, res):
        assert np.linalg.norm(r.x - exact) <= 1e-10 * cond * np.linalg.norm(exact)


def test_the_shift_is_the_preconditioner():
    """The counts follow the shift (a factor of A itself, or PETSc's own shift, would not
    change with it), and equal a dense PCG with IC(0) of A + s·diag(A)."""
    A = sp.csr_matrix(_matrices()["rotated60"])
    b = np.arange(1.0, 61.0)
    counts = {}
    for shift in (0.2, 1.0, 4.0):
        L = gold.ic0_dense(A.toarray(), shift)
        ref, _ = gold.pcg_count(A, b, lambda r: gold.ic0_apply(L, r), rtol=1e-10)
        counts[shift] = _petsc({"method": "cg", "pc": "ic0", "shift": shift}, A, b).iterations
        # past n = 60 iterations CG's count is set by its lost orthogonality, i.e. by
        # rounding, which follows the machine's summation order (66 against 68 at s = 4 on
        # one machine): a few per cent there, one iteration below n
        slack = 1 if ref <= A.shape[0] else max(1, 0.05 * ref)
        assert abs(counts[shift] - ref) <= slack, (shift, counts[shift], ref)
    assert len(set(counts.values())) == 3


def test_the_preconditioning_matrix_follows_the_values():
    """One operator whose values change (a Tuner's working copy, a user's Mat updated in
    place): the same counts as a fresh solve of each matrix, never a stale factor."""
    from petsc4py import PETSc

    b = np.arange(1.0, 33.0)
    arm = {"method": "cg", "pc": "ic0", "shift": SHIFT}
    runs = [_petsc(arm, two_block_system(c), b) for c in (1.0, 0.4, 0.7)]
    assert all(r.converged for r in runs)
    fresh = [r.iterations for r in runs]
    assert len(set(fresh)) > 1  # a stale factor would show
    tuner = Tuner(FixedArm([arm]), backend="petsc")
    got = [tuner.solve(two_block_system(c), b, rtol=1e-10).iterations for c in (1.0, 0.4, 0.7)]
    assert got == fresh
    op = tuner._last_op
    assert len(op.solvers) == 1  # one KSP throughout
    # a user's PETSc Mat whose values are set again in place
    A = two_block_system(1.0)
    mat = PETSc.Mat().createAIJ(A.shape, csr=(A.indptr, A.indices, A.data))
    opts = {"pc_type": "icc", DIAGONAL_SHIFT: SHIFT}
    mine = []
    for c in (1.0, 0.4, 0.7):
        Ac = two_block_system(c)
        mat.setValuesCSR(Ac.indptr, Ac.indices, Ac.data)
        mat.assemble()
        mine.append(solvers.cg(mat, b, rtol=1e-10, maxiter=300, backend="petsc",
                               options=opts).iterations)
    assert mine == fresh
    mat.destroy()


def test_shift_arm_in_a_tuner_labels_saves_and_loads(tmp_path):
    arms = [{"method": "cg", "pc": "ic0", "shift": SHIFT}, {"method": "cg", "pc": "jacobi"}]
    tuner = Tuner(FixedArm(arms), backend="petsc")
    assert tuner.arm_labels[0] == "cg+ic0(shift=0.5)"
    A = sp.csr_matrix(_matrices()["rotated30"])
    b = np.ones(30)
    res = tuner.solve(A, b)
    assert res.converged and res.settings == {"method": "cg", "pc": "ic0", "shift": SHIFT}
    tuner.save(tmp_path / "t.json")
    again = Tuner.load(tmp_path / "t.json")
    assert again.arm_labels == tuner.arm_labels
    assert again.solve(A, b).iterations == res.iterations
    # a different shift is a different arm (family), the unshifted ic0 another
    assert parse_arm(arms[0], backend="petsc") != parse_arm(
        {"method": "cg", "pc": "ic0"}, backend="petsc")


@pytest.mark.parametrize("call, match", [
    (lambda A, b: solvers.ssor_pcg(A, b, 1.2, backend="petsc", options={DIAGONAL_SHIFT: 0.5}),
     "ssor_pcg sweeps A itself"),
    (lambda A, b: solvers.sor(A, b, 1.2, backend="petsc", options={DIAGONAL_SHIFT: 0.5}),
     "sor sweeps A itself"),
    (lambda A, b: solvers.cg(A, b, backend="petsc",
                             options={"pc_type": "icc", DIAGONAL_SHIFT: -1}),
     "must be a finite number >= 0"),
    (lambda A, b: solvers.cg(A, b, backend="petsc",
                             options={"pc_type": "icc", DIAGONAL_SHIFT: "nan"}),
     "must be a finite number >= 0"),
])
def test_bad_diagonal_shifts_are_refused(call, match):
    A = solvers.gallery.laplacian_2d(5)
    with pytest.raises(ValueError, match=match):
        call(A, np.ones(25))
    with pytest.raises(ValueError, match="shift must be a finite number >= 0"):
        parse_arm({"method": "cg", "pc": "ic0", "shift": -0.5}, backend="petsc")


# -- two ranks -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    from test_petsc_comm import rank_reports  # the launch settings of the suite's MPI tests

    return rank_reports("mpi_small7.py", tmp_path_factory.mktemp("small7"), timeout=300)


def _block_ic0_count(A, rows, shift, b):
    """Dense PCG with block Jacobi IC(0) of ``A + shift·diag(A)`` over the ranks' rows."""
    Ad = A.toarray()
    factors = [(lo, hi, gold.ic0_dense(Ad[lo:hi, lo:hi], shift)) for lo, hi in rows]

    def apply(r):
        z = np.empty_like(r)
        for lo, hi, L in factors:
            z[lo:hi] = gold.ic0_apply(L, r[lo:hi])
        return z

    return gold.pcg_count(A, b, apply, rtol=1e-10)[0]


@pytest.mark.petsc
@pytest.mark.mpi
def test_two_ranks_the_hint_keeps_the_arms_shift(two_ranks):
    r0, r1 = two_ranks
    for r in (r0, r1):
        hints = r["hints"]
        assert "'sub_pc_type': 'icc', 'sub_pc_factor_shift_type': 'positive_definite'" in (
            hints["default"])
        assert "'sub_pc_type': 'icc', 'sub_pc_factor_shift_type': 'none'" in hints["raise"]
        assert f"'{DIAGONAL_SHIFT}': {SHIFT}" in hints["shift"]
        f = r["followed"]
        # following the hint keeps the arm's meaning: "raise" reports the breakdown (as
        # one rank's ic0 arm does), the shifted arms converge
        assert not f["raise"]["converged"] and f["raise"]["reason"] == "breakdown"
        assert f["raise"]["petsc_reason"] == "DIVERGED_INDEFINITE_PC"
        A = two_block_system()
        b = np.arange(1.0, 33.0)
        exact = spla.spsolve(sp.csc_matrix(A), b)
        for name in ("default", "shift"):
            assert f[name]["converged"]
            np.testing.assert_allclose(f[name]["x"], exact, rtol=1e-5)
        rows = [tuple(r0["rows"]), tuple(r1["rows"])]
        assert rows[0][1] == rows[1][0] and rows[1][1] == 32
        ref = _block_ic0_count(A, rows, SHIFT, b)
        assert abs(f["shift"]["iterations"] - ref) <= 1, (f["shift"]["iterations"], ref)
    assert r0["followed"] == r1["followed"]


@pytest.mark.petsc
@pytest.mark.mpi
def test_two_ranks_block_jacobi_of_the_shifted_matrix_follows_the_values(two_ranks):
    r0, r1 = two_ranks
    assert r0["steps"] == r1["steps"]
    rows = [tuple(r0["rows"]), tuple(r1["rows"])]
    b = np.arange(1.0, 33.0)
    for step in r0["steps"]:
        assert step["converged"]
        ref = _block_ic0_count(two_block_system(step["c"]), rows, SHIFT, b)
        assert abs(step["iterations"] - ref) <= 1, (step, ref)


@pytest.mark.petsc
@pytest.mark.mpi
def test_two_ranks_a_tolerance_per_solve_is_agreed(two_ranks):
    """``Tuner.solve(..., rtol=)`` on two ranks: the same value solves on both; values that
    differ between the ranks, or one refused on one rank, raise on every rank and record
    nothing (no rank is left waiting)."""
    r0, r1 = two_ranks
    for r in (r0, r1):
        calls = r["calls"]
        assert calls[0][0] == "ok" and calls[0][2] == 1e-3
        assert calls[1][0] == "ValueError" and "the MPI ranks passed different tolerances" in (
            calls[1][1])
        assert calls[2][0] == "ValueError" and "rtol must be a number in [0, 1)" in calls[2][1]
        assert calls[3][0] == "ok" and calls[3][2] == 1e-6
        assert r["history_rtol"] == [1e-10] * 3 + [1e-3, 1e-6]
    assert r0["calls"][2][1].startswith("rank 1: ")
    assert r0["calls"][0] == r1["calls"][0] and r0["calls"][3] == r1["calls"][3]
