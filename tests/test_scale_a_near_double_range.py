"""A matrix whose entries lie near the double range is solved, not only explained.

On the 12 × 12 Laplacian times 3.9e307 (a row's absolute sum 3.1e308) the products ``A p``
and ``pᵀAp`` of CG overflowed: CG stopped as "diverged" after 2 iterations and SSOR-PCG as
"breakdown", with a cause telling the user to solve ``A / 2**k``, ``b / 2**k``; SOR and
the Jacobi and IC(0) preconditioned CG converged, with iterates ``x`` near 1e-307 whose
updates lost bits below the normal range.  The Numba solvers now do that scaling
themselves when ``max |a_ij| > 2**600`` (``solvers._operator.LOG2_DOWN``): ``k`` brings it
into ``[2**599, 2**600)``, exact for a power of two.

References, independent of the library: ``scipy.sparse.linalg.spsolve`` on the scaled-down
system, and the same solver on that system scaled by hand (iterations and ``x`` bit for
bit).  ``k`` is computed here from the matrix, not read from the library."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

import bandit
import solvers
from bandit import SmoothIGW, config_grid
from solvers import _api, prepare

from near_range import HUGE, k_of as _k, lap as _lap  # noqa: E402 (shared)


SOLVES = {
    "cg": lambda A, b, **kw: solvers.cg(A, b, **kw),
    "ssor_pcg": lambda A, b, **kw: solvers.ssor_pcg(A, b, 1.5, **kw),
    "ssor_pcg_textbook": lambda A, b, **kw: solvers.ssor_pcg(A, b, 1.5, order="textbook",
                                                             **kw),
    "pcg_jacobi": lambda A, b, **kw: solvers.pcg(A, b, "jacobi", **kw),
    "pcg_ic0": lambda A, b, **kw: solvers.pcg(A, b, "ic0", **kw),
    "sor": lambda A, b, **kw: solvers.sor(A, b, 1.5, **kw),
}


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_a_matrix_near_the_double_range_is_solved_as_scaled_by_hand(name):
    A, b = _lap() * HUGE, np.ones(144)
    k = _k(A)
    assert k == 424
    As, bs = A / 2.0 ** k, b / 2.0 ** k
    solve = SOLVES[name]
    r, hand = solve(A, b), solve(As, bs)
    assert r.converged and hand.converged
    assert r.iterations == hand.iterations
    assert np.array_equal(r.x, hand.x)
    ref = sla.spsolve(As.tocsc(), bs)
    assert np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max()
    # reported in the caller's units
    assert r.b_norm == 12.0 and r.atol == 0.0
    assert r.residual_norm == math.ldexp(hand.residual_norm, k)
    assert r.residual_norm <= 1e-8 * 12.0
    assert np.linalg.norm(b - A @ r.x) <= 1e-8 * 12.0 * (1 + 1e-6)
    assert "cause" not in r.info


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_atol_is_in_the_callers_units(name):
    # rtol = 0: the stop is ‖b − A x‖ <= atol, which is ‖b/2^k − A/2^k x‖ <= atol / 2^k
    A, b = _lap() * HUGE, np.linspace(1.0, 2.0, 144)
    k = _k(A)
    solve = SOLVES[name]
    loose = solve(_lap(), b, rtol=1e-3).residual_norm  # a mid-run residual of the same system
    r = solve(A, b, rtol=0.0, atol=loose)
    hand = solve(A / 2.0 ** k, b / 2.0 ** k, rtol=0.0, atol=loose / 2.0 ** k)
    assert r.converged and r.iterations == hand.iterations and np.array_equal(r.x, hand.x)
    assert r.atol == loose and r.residual_norm <= loose
    assert np.linalg.norm(b - A @ r.x) <= loose * (1 + 1e-6)
    tight = solve(A, b, rtol=0.0, atol=loose / 1e3)
    assert tight.converged and tight.iterations > r.iterations


def test_the_system_solved_is_the_copy_scaled_down():
    # what the kernels receive: the copy of the values times 2^-424, b likewise
    A, b = _lap() * HUGE, np.ones(144)
    op = prepare(A)
    system = _api._system(op, b, 12.0, np.zeros(144), 1e-8, 0.0, 10_000)
    assert system[0] is not op and system[0] is op.scaled_down()
    assert system[0].data.max() == math.ldexp(float(op.data.max()), -424)
    # ‖b / 2^424‖ = 12 · 2^-424 is below 2^-100: b scaled as any b, in one step from the
    # caller's ‖b‖ (kept in the tuple: 12), to [0.5, 1) — by 2^-4, and x by 2^(424 - 4)
    assert system[4] == 12.0 and system[5] == 420
    assert np.array_equal(system[1], np.ldexp(b, -424 + system[5]))
    assert system[3] == 1e-8 * 0.75


def test_the_scaled_copy_is_made_once_per_values_and_renewed_with_them(monkeypatch):
    seen = []
    real = solvers._kernels.cg_solve
    monkeypatch.setattr(_api.K, "cg_solve", lambda *a: seen.append(a[2]) or real(*a))
    A, b = _lap() * HUGE, np.ones(144)
    op = prepare(A, overwrite=True)
    first = solvers.cg(op, b)
    second = solvers.cg(op, b)
    assert seen[0] is seen[1] is op.scaled_down().data and seen[0] is not op.data
    assert np.array_equal(first.x, second.x)
    # a refresh in place with other values drops the copy; with the same ones keeps it
    B = _lap() * (HUGE / 2)
    assert prepare(B, like=op, overwrite=True) is op
    solvers.cg(op, b)
    assert seen[2] is not seen[0]
    assert np.array_equal(seen[2], np.ldexp(B.data, -423))
    assert prepare(B.copy(), like=op, overwrite=True) is op
    solvers.cg(op, b)
    assert seen[3] is seen[2]


def test_an_ordinary_matrix_is_solved_on_its_own_values(monkeypatch):
    # no copy and no pass: the kernels read the operator's own arrays, bit for bit as before
    seen = []
    real = solvers._kernels.cg_solve
    monkeypatch.setattr(_api.K, "cg_solve", lambda *a: seen.append(a[2]) or real(*a))
    for scale in (1.0, 1e150, 2.0 ** 598):  # (max |a_ij| = 4·scale: up to 2^600)
        op = prepare(_lap() * scale)
        r = solvers.cg(op, np.ones(144))
        assert seen[-1] is op.data and op.scaled_down() is op and op.down_shift() == 0
        assert r.converged and r.iterations == solvers.cg(_lap(), np.ones(144)).iterations
    op = prepare(_lap() * 2.0 ** 599)  # max |a_ij| = 2^601 = 0.5 · 2^602
    assert op.down_shift() == 2 and op.scaled_down() is not op


def test_the_shift_costs_no_copy_of_the_values(monkeypatch):
    # a Tuner's working copy reads max |a_ij| off its value checks; a plain operator makes
    # one compiled pass (solvers._kernels_prep.beyond): neither calls np.abs on the values
    A = _lap()
    op = prepare(A, overwrite=True)
    assert prepare(A * 2.0, like=op, overwrite=True) is op and op._checks is not None
    plain = prepare(A)
    assert plain._checks is None
    calls = []
    monkeypatch.setattr(np, "abs", lambda *a, **kw: calls.append(1) or np.absolute(*a, **kw))
    assert op.down_shift() == 0 and plain.down_shift() == 0
    assert op._down == plain._down == (0, None)
    assert calls == []
    huge = prepare(A * HUGE)
    assert huge._checks is None and huge.down_shift() == 424 and calls == [1]


@pytest.mark.parametrize("solver", ["cg", "ssor_pcg", "sor"])
def test_a_tuner_solves_it_as_scaled_by_hand(solver):
    A, b = _lap() * HUGE, np.ones(144)
    k = _k(A)
    got = bandit.Tuner(solver=solver, seed=0, cost="iterations")
    hand = bandit.Tuner(solver=solver, seed=0, cost="iterations")
    ref = sla.spsolve((A / 2.0 ** k).tocsc(), b / 2.0 ** k)
    for _ in range(4):
        r, h = got.solve(A, b), hand.solve(A / 2.0 ** k, b / 2.0 ** k)
        assert r.converged and h.converged
        assert r.iterations == h.iterations and np.array_equal(r.x, h.x)
        assert np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max()
        assert "failure" not in r.info


def test_a_tuner_with_preconditioned_arms_solves_it_as_scaled_by_hand():
    A, b = _lap() * HUGE, np.ones(144)
    k = _k(A)
    arms = config_grid(omegas=[1.2, 1.7], pcs=["jacobi", "ic0"])
    got = bandit.Tuner(SmoothIGW(arms, seed=0), cost="work")
    hand = bandit.Tuner(SmoothIGW(arms, seed=0), cost="work")
    ref = sla.spsolve((A / 2.0 ** k).tocsc(), b / 2.0 ** k)
    labels = set()
    for _ in range(8):
        r, h = got.solve(A, b), hand.solve(A / 2.0 ** k, b / 2.0 ** k)
        assert r.converged and r.iterations == h.iterations and np.array_equal(r.x, h.x)
        assert np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max()
        labels.add(got.history["arm"][-1])
    assert labels & {2, 3}  # a preconditioned arm ran


@pytest.mark.parametrize("name", ["cg", "pcg_jacobi", "sor"])
def test_a_solution_out_of_range_is_still_refused(name):
    # the scaling keeps the solution: x_0 = 1e310 stays beyond double range, and the error
    # names the caller's ‖b‖
    A = sp.csr_array(np.diag([1e-10, 4e307]))
    with pytest.raises(ValueError, match=r"the solution of this system overflows double "
                                         r"precision \(‖b‖ = 1\.000e\+300\)"):
        SOLVES[name](A, np.array([1e300, 1.0]), dtol=np.inf)
