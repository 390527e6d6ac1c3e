"""The PETSc backend solves a matrix near the double range on a copy scaled down by ``2**k``,
as the Numba backend does (``PetscOperator.scaled_down``: ``MatDuplicate`` + ``MatScale``,
kept while the Mat's values are unchanged).

Before, it scaled only ``b``: on the 12 × 12 Laplacian times 3.9e307 KSPCG stopped as
"diverged" after 1 iteration and SSOR-PCG as "breakdown", with a cause telling the user to
scale ``A`` by hand.  References, independent of the library: the same PETSc solve of the
system scaled by hand (iterations and ``x`` bit for bit, on one rank and on two), scipy's
``spsolve``, and norms computed here with numpy.  ``k`` is computed here from the matrix."""
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

import bandit
import solvers

pytest.importorskip("petsc4py")
from solvers import petsc as P  # noqa: E402
from mpi_launch import two_ranks  # noqa: E402  (the suite's launch settings)

pytestmark = pytest.mark.petsc

HERE = Path(__file__).resolve().parent
from near_range import HUGE, k_of as _k, lap as _lap  # noqa: E402 (shared)


SOLVES = {
    "cg": lambda A, b, **kw: solvers.cg(A, b, backend="petsc", **kw),
    "ssor_pcg": lambda A, b, **kw: solvers.ssor_pcg(A, b, 1.5, backend="petsc", **kw),
    "ssor_pcg_paper": lambda A, b, **kw: solvers.ssor_pcg(A, b, 1.5, order="paper",
                                                          backend="petsc", **kw),
    "sor": lambda A, b, **kw: solvers.sor(A, b, 1.5, backend="petsc", **kw),
}


@pytest.mark.parametrize("matrix", ["scipy", "mat"])
@pytest.mark.parametrize("name", sorted(SOLVES))
def test_solved_as_scaled_by_hand(name, matrix):
    A, b = _lap() * HUGE, np.ones(144)
    k = _k(A)
    assert k == 424
    As, bs = A / 2.0 ** k, b / 2.0 ** k
    if matrix == "mat":  # a user's assembled Mat, used in place
        A, As = P.to_petsc_mat(A), P.to_petsc_mat(As)
    solve = SOLVES[name]
    r, hand = solve(A, b), solve(As, bs)
    assert r.converged and hand.converged and "cause" not in r.info
    assert r.iterations == hand.iterations
    assert np.array_equal(r.x, hand.x)
    ref = sla.spsolve((_lap() * HUGE / 2.0 ** k).tocsc(), bs)
    assert np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max()
    # in the caller's units
    assert r.b_norm == 12.0 and r.atol == 0.0
    assert r.residual_norm == math.ldexp(hand.residual_norm, k)
    assert np.linalg.norm(b - (_lap() * HUGE) @ r.x) <= 1e-8 * 12.0 * (1 + 1e-6)


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_atol_is_in_the_callers_units(name):
    A, b = _lap() * HUGE, np.linspace(1.0, 2.0, 144)
    k = _k(A)
    loose = SOLVES[name](_lap(), b, rtol=1e-3).residual_norm
    r = SOLVES[name](A, b, rtol=0.0, atol=loose)
    hand = SOLVES[name](A / 2.0 ** k, b / 2.0 ** k, rtol=0.0, atol=loose / 2.0 ** k)
    assert r.converged and r.iterations == hand.iterations and np.array_equal(r.x, hand.x)
    assert r.atol == loose and r.residual_norm <= loose
    assert np.linalg.norm(b - A @ r.x) <= loose * (1 + 1e-6)


def test_the_copy_is_kept_while_the_values_are_unchanged():
    A, b = _lap() * HUGE, np.ones(144)
    mat = P.to_petsc_mat(A)
    op = P.prepare(mat)
    first = solvers.cg(mat, b, backend="petsc")
    copy = op._down[1]
    assert copy is not None and copy._shift == 424 and copy.mat is not mat
    ksp = copy.solvers[("cg", False, ())]
    second = solvers.cg(mat, b, backend="petsc")
    assert op._down[1] is copy and copy.solvers[("cg", False, ())] is ksp  # no new KSP
    assert second.iterations == first.iterations and np.array_equal(second.x, first.x)
    # the user changes the values: a new copy, at the new scale
    mat.scale(0.5)
    third = solvers.cg(mat, b, backend="petsc")
    assert op._down[1] is not copy and op._down[1]._shift == 423
    hand = solvers.cg(A / 2.0 ** 424, b / 2.0 ** 423, backend="petsc")
    assert third.iterations == hand.iterations and np.array_equal(third.x, hand.x)
    # values brought within range: no copy, the Mat itself is solved
    mat.scale(2.0 ** -500)
    assert op.scaled_down() is op and op._down[1] is None
    assert solvers.cg(mat, b, backend="petsc").converged


def test_a_working_copy_refreshed_in_place_gets_a_new_copy():
    b = np.ones(144)
    op = solvers.prepare(_lap() * HUGE, backend="petsc", overwrite=True)
    first = solvers.cg(op, b, backend="petsc")
    copy = op._down[1]
    B = _lap() * (HUGE / 4)
    assert solvers.prepare(B, backend="petsc", like=op, overwrite=True) is op
    r = solvers.cg(op, b, backend="petsc")
    assert op._down[1] is not copy and op._down[1]._shift == 422
    hand = solvers.cg(B / 2.0 ** 422, b / 2.0 ** 422, backend="petsc")
    assert r.iterations == hand.iterations == first.iterations and np.array_equal(r.x, hand.x)


def test_a_tiny_b_beside_a_huge_matrix():
    L = _lap(6)
    A = sp.block_diag([L * HUGE, L]).tocsr()
    b = np.concatenate([np.zeros(36), np.full(36, 1e-300)])
    ref = sla.spsolve(A.tocsc(), b)
    for name in sorted(SOLVES):
        r = SOLVES[name](A, b)
        assert r.converged and np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max(), name
        assert r.b_norm == pytest.approx(1e-300 * 6.0, rel=1e-15)


@pytest.mark.parametrize("matrix", ["scipy", "mat"])
def test_a_diagonal_entry_the_copy_would_lose_is_refused_by_name(matrix):
    A = sp.diags([4e307, 1e-300, 1.0]).tocsr()
    if matrix == "mat":
        A = P.to_petsc_mat(A)
    for name in sorted(SOLVES):
        with pytest.raises(ValueError, match=r"the diagonal entry a\[1, 1\] = 1\.000e-300 "
                                             r"falls below the normal range"):
            SOLVES[name](A, np.ones(3))


def test_a_tuner_solves_it_as_scaled_by_hand():
    A, b = _lap() * HUGE, np.ones(144)
    k = _k(A)
    got = bandit.Tuner(solver="ssor_pcg", seed=0, cost="iterations", backend="petsc")
    hand = bandit.Tuner(solver="ssor_pcg", seed=0, cost="iterations", backend="petsc")
    for _ in range(4):
        r, h = got.solve(A, b), hand.solve(A / 2.0 ** k, b / 2.0 ** k)
        assert r.converged and r.iterations == h.iterations and np.array_equal(r.x, h.x)


@pytest.mark.mpi
def test_two_ranks(tmp_path):
    """``tests/mpi_scale_a.py`` on two ranks: each solver on a distributed Mat near the double
    range against the same Mat scaled by hand, and a diagonal entry lost in the second rank's
    rows refused on both ranks."""
    import json

    two_ranks(HERE / "mpi_scale_a.py", tmp_path, timeout=180)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0] == ranks[1]  # the whole x on every rank, the same verdicts
    out = ranks[0]
    assert out["size"] == 2
    for name, (got, hand) in out["solves"].items():
        assert got["converged"] and hand["converged"], name
        assert got["iterations"] == hand["iterations"], name
        assert got["x"] == hand["x"], name
        assert got["residual_norm"] == math.ldexp(hand["residual_norm"], 424), name
        assert got["b_norm"] == 10.0  # (100 ones)
    assert "a[99, 99] = 1.000e-300 falls below the normal range" in out["lost"]


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_an_underflowing_solution_is_refused_in_the_callers_units(name):
    # x = A⁻¹ b is about 1e-478: the x returned is 0, its residual ‖b‖ = 1.2e-169
    A, b = _lap() * HUGE, np.full(144, 1e-170)
    b_norm = 1e-170 * float(np.linalg.norm(b / 1e-170))
    with pytest.raises(ValueError) as err:
        SOLVES[name](A, b)
    assert f"‖b − A x‖ = {b_norm:.3e} > {1e-8 * b_norm:.3e}" in str(err.value)
    assert "A by 2^-424" in str(err.value)
