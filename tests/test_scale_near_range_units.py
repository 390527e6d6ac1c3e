"""A matrix near the double range is solved on a copy scaled down by ``2**k``
(``CSROperator.scaled_down``); what is said about the solve is in the caller's units, and
nothing of the caller's system is lost on the way.

* A refusal after the solve (the solution's entries underflow) quoted the scaled system's
  norms (``‖b − A x‖ = 2.770e-297 > 2.770e-305`` for the caller's 1.2e-169 and 1.2e-177);
  plain CG's cause of a stop quoted the scaled diagonal.
* A tiny ``b`` divided by ``2**k`` underflowed to 0 before it was scaled up again, and the
  solvers returned ``x = 0`` as converged with ``‖b‖ = 0``: ``b`` is now scaled once, by
  the power of two read off the caller's ``‖b‖``.
* A diagonal entry more than ``2**1000`` below the largest entry became 0 in the copy: SOR
  refused "a zero diagonal entry" that ``A`` does not have, CG stopped as "diverged" on a
  singular copy.  Refused now, naming the entry.
* A preconditioner built on the copy (``pcg``) was compared with the caller's operator, so
  it never "held" the matrix it was built for (``Tuner``'s ``will_setup``).

References, independent of the library: the norms computed here with numpy, scipy's
``spsolve`` on the unscaled system, and the solvers on the system scaled by hand."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

import bandit
import solvers
from bandit import FixedArm
from solvers import prepare
from solvers.precond import preconditioner

from near_range import HUGE, k_of as _k, lap as _lap  # noqa: E402 (shared)


SOLVES = {
    "cg": lambda A, b, **kw: solvers.cg(A, b, **kw),
    "ssor_pcg": lambda A, b, **kw: solvers.ssor_pcg(A, b, 1.5, **kw),
    "pcg_jacobi": lambda A, b, **kw: solvers.pcg(A, b, "jacobi", **kw),
    "pcg_ic0": lambda A, b, **kw: solvers.pcg(A, b, "ic0", **kw),
    "sor": lambda A, b, **kw: solvers.sor(A, b, 1.5, **kw),
}


# -- (a) messages in the caller's units ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SOLVES))
def test_an_underflowing_solution_is_refused_in_the_callers_units(name):
    # x = A⁻¹ b is about 1e-478: every entry underflows, so the x returned is 0 and its
    # residual is ‖b‖ itself
    A, b = _lap() * HUGE, np.full(144, 1e-170)
    b_norm = 1e-170 * float(np.linalg.norm(b / 1e-170))  # (its squares underflow)
    assert b_norm == pytest.approx(1.2e-169, rel=1e-12)
    with pytest.raises(ValueError) as err:
        SOLVES[name](A, b)
    text = str(err.value)
    assert f"‖b − A x‖ = {b_norm:.3e} > {1e-8 * b_norm:.3e}" in text, text
    assert "entries of x underflow" in text and f"A by 2^-{_k(A)}" in text


def test_plain_cgs_cause_names_the_callers_diagonal():
    # diag(1e-30, 1, ..., 1) · 2^700: CG's transient crosses dtol; the cause names the
    # diagonal as the caller gave it (2^700 · 1e-30 = 5.26e180), not the copy's
    d = np.ones(50)
    d[0] = 1e-30
    A = sp.diags(np.ldexp(d, 700)).tocsr()
    assert _k(A) == 101
    r = solvers.cg(A, np.ldexp(np.ones(50), 700))
    assert r.reason == "diverged"
    lo, hi = float(A.diagonal().min()), float(A.diagonal().max())
    assert f"A's diagonal spans {lo:.3g} (row 0) to {hi:.3g}" in r.info["cause"]


def test_plain_cgs_empty_rows_cause_stays_in_the_callers_units():
    A = sp.lil_matrix(_lap(6) * HUGE)
    A[5, :] = 0.0
    A[:, 5] = 0.0
    A = A.tocsr()
    b = np.full(36, 1e300)
    r = solvers.cg(A, b, maxiter=50)
    assert not r.converged
    assert f"b[5] = {1e300:.6g}" in r.info["cause"]
    assert f"‖b − A x‖ >= {1e300:.3e}" in r.info["cause"]
    b_norm = 1e300 * float(np.linalg.norm(b / 1e300))  # (its squares overflow)
    assert f"max(rtol·‖b‖, atol) = {1e-8 * b_norm:.3e}" in r.info["cause"]


# -- (b) a tiny b beside a huge matrix --------------------------------------------------------------

def _block_system():
    """blockdiag(L · HUGE, L) with b = (0, 1e-300·1): max |a_ij| beyond 2^600, and
    ‖b‖ / 2^k = 1e-300 / 2^424 below the double range — the solution, about 1e-299 in the
    second block, is ordinary."""
    L = _lap(6)
    A = sp.block_diag([L * HUGE, L]).tocsr()
    b = np.concatenate([np.zeros(36), np.full(36, 1e-300)])
    return A, b


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_a_tiny_b_beside_a_huge_matrix_is_not_lost(name):
    A, b = _block_system()
    k = _k(A)
    assert math.ldexp(float(np.linalg.norm(b)), -k) < 2.0 ** -1000
    ref = sla.spsolve(A.tocsc(), b)
    assert np.abs(ref[36:]).min() > 1e-300  # (scipy, unscaled: an ordinary solution)
    r = SOLVES[name](A, b)
    assert r.converged and r.iterations > 0
    assert r.b_norm == pytest.approx(float(np.linalg.norm(b)), rel=1e-15)
    assert np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max()
    assert np.linalg.norm(b - A @ r.x) <= 1e-8 * r.b_norm * (1 + 1e-6)
    assert r.residual_norm <= 1e-8 * r.b_norm
    # scaled by hand, in one step: A / 2^k, b by 2^-e (‖b‖ · 2^-e in [0.5, 1)), x by 2^(k−e)
    e = math.frexp(float(np.linalg.norm(b)))[1]
    hand = SOLVES[name](A / 2.0 ** k, np.ldexp(b, -e))
    assert hand.iterations == r.iterations
    assert np.array_equal(r.x, np.ldexp(hand.x, e - k))


@pytest.mark.parametrize("solver", ["cg", "sor", "ssor_pcg"])
def test_a_tuner_solves_a_tiny_b_beside_a_huge_matrix(solver):
    A, b = _block_system()
    ref = sla.spsolve(A.tocsc(), b)
    t = bandit.Tuner(solver=solver, seed=0, cost="iterations")
    for _ in range(3):
        r = t.solve(A, b)
        assert r.converged and np.abs(r.x - ref).max() <= 1e-6 * np.abs(ref).max()


# -- (c) a diagonal entry lost in the copy ------------------------------------------------------------

LOST = sp.diags([4e307, 1e-300, 1.0]).tocsr()  # k = 422: 1e-300 / 2^422 = 0 in double


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_a_diagonal_entry_the_copy_would_lose_is_refused_by_name(name):
    assert 1e-300 * 2.0 ** -_k(LOST) == 0.0
    with pytest.raises(ValueError, match=r"the diagonal entry a\[1, 1\] = 1\.000e-300 falls "
                                         r"below the normal range"):
        SOLVES[name](LOST, np.ones(3))


def test_the_tuner_refuses_it_before_the_draw():
    t = bandit.Tuner(solver="cg", seed=0)
    with pytest.raises(ValueError, match=r"a\[1, 1\] = 1\.000e-300"):
        t.solve(LOST, np.ones(3))
    assert len(t.history["arm"]) == 0 and t.policy.state_dict()["state"]["t"] == 0
    assert t.solve(_lap(), np.ones(144)).converged  # the loop goes on


def test_a_diagonal_within_the_range_of_the_copy_is_solved():
    # 1e-170 / 2^422 is 1.4e-297: normal, exact; x = (2.5e-308, 1e170, 1) (scipy, unscaled)
    A, b = sp.diags([4e307, 1e-170, 1.0]).tocsr(), np.ones(3)
    ref = sla.spsolve(A.tocsc(), b)
    for name in sorted(set(SOLVES) - {"cg"}):  # (κ = 1e477: beyond plain CG in double)
        r = SOLVES[name](A, b)
        assert r.converged and np.allclose(r.x, ref, rtol=1e-6, atol=0.0), name


# -- (d) a preconditioner built on the copy holds the caller's matrix ------------------------------

@pytest.mark.parametrize("pc", ["ic0", "jacobi"])
def test_a_preconditioner_built_on_the_copy_holds_the_callers_operator(pc):
    op = prepare(_lap() * HUGE)
    p = preconditioner(pc)
    first = solvers.pcg(op, np.ones(144), p)
    assert first.info["setup"]
    assert p._holds(op)  # what pcg will find: the same matrix
    again = solvers.pcg(op, np.ones(144), p)
    assert not again.info["setup"] and not again.info["reused"]
    other = prepare(_lap() * (HUGE / 3))
    assert not p._holds(other)


def test_will_setup_agrees_with_the_system_scaled_by_hand():
    A, b = _lap() * HUGE, np.ones(144)
    k = _k(A)
    arms = [{"method": "cg", "pc": "ic0"}, {"method": "cg", "pc": "jacobi"}]
    got = bandit.Tuner(FixedArm(arms, arm=0), cost="work")
    hand = bandit.Tuner(FixedArm(arms, arm=0), cost="work")
    for _ in range(3):
        r, h = got.solve(A, b), hand.solve(A / 2.0 ** k, b / 2.0 ** k)
        assert r.iterations == h.iterations and np.array_equal(r.x, h.x)
        for arm in range(2):
            assert got._arms.will_setup(arm, got._last_op) == hand._arms.will_setup(
                arm, hand._last_op), arm
            assert got._arms.setup_estimate(arm, got._last_op) == pytest.approx(
                hand._arms.setup_estimate(arm, hand._last_op))
    # the arm's set-up was built once and held since, as scaled by hand
    assert not got._arms.will_setup(0, got._last_op)
    np.testing.assert_array_equal(got.history["cost"], hand.history["cost"])
