"""A scientist's own solver function inside the Tuner: what it returns is checked once it has
run, so a slip (scipy's ``(x, info)`` tuple, an iteration count that is no count) is named
instead of crashing later or being recorded as a solve."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
import solvers
from solvers import gallery


def _system():
    A = gallery.laplacian_2d(6)
    return A, np.ones(A.shape[0])


def _sor_returning(bad, **fields):
    """A solver function that returns ``bad`` (a callable of the true result) on its first
    call and the true SOR result afterwards."""
    calls = [0]

    def solve(A, b, omega=1.0, *, x0, rtol, atol, maxiter, backend):
        calls[0] += 1
        r = solvers.sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
        return bad(r) if calls[0] == 1 else r
    return solve


def test_a_solver_function_returning_scipys_tuple_is_named():
    A, b = _system()

    def gmres(A, b, omega=1.0, *, x0, rtol, atol, maxiter, backend):
        return spla.gmres(A, b, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)

    t = bandit.Tuner(bandit.SmoothIGW([1.0, 1.5], seed=0), solver=gmres)
    with pytest.raises(TypeError, match=r"solver function gmres returned a tuple, not a "
                                        r"solvers\.SolveResult"):
        t.solve(A, b)
    assert t.summary()["rounds"] == 0 and t.policy.t == 0


@pytest.mark.parametrize("bad, what", [
    (lambda r: r.replace(iterations=None), "iterations"),
    (lambda r: r.replace(iterations=3.5), "iterations"),
    (lambda r: r.replace(iterations=-3), "iterations"),
    (lambda r: r.replace(iterations=10**30), "iterations"),
    (lambda r: r.replace(converged="no"), "converged"),
    (lambda r: r.replace(x=None), "x"),
    (lambda r: r.replace(x=np.ones(5)), "x"),
    (lambda r: r.replace(seconds=None), "seconds"),
    (lambda r: r.replace(info=None), "info"),
])
def test_a_malformed_result_of_a_solver_function_is_refused_and_changes_nothing(bad, what):
    # each of these had been recorded as a solve (converged="no" as converged, an x of the
    # wrong length returned) or crashed inside the tuner (TypeError on None, OverflowError)
    A, b = _system()
    t = bandit.Tuner(bandit.SmoothIGW([1.0, 1.5], seed=0), solver=_sor_returning(bad),
                     audit_budget=0.5, audit_seed=0)
    ref = bandit.Tuner(bandit.SmoothIGW([1.0, 1.5], seed=0), solver=_sor_returning(
        lambda r: r), audit_budget=0.5, audit_seed=0)
    with pytest.raises(ValueError, match=rf"solver function solve returned a SolveResult "
                                         rf"whose {what} "):
        t.solve(A, b)
    assert t.summary()["rounds"] == 0 and t.policy.t == 0
    # the refused round drew nothing: the same arms as a tuner that never saw it
    got = [t.solve(A, b * (k + 1)) for k in range(5)]
    want = [ref.solve(A, b * (k + 1)) for k in range(5)]
    assert [r.arm for r in got] == [r.arm for r in want]
    for r, k in zip(got, range(5)):
        assert r.converged
        assert np.linalg.norm(b * (k + 1) - A @ r.x) <= 1e-8 * np.linalg.norm(b * (k + 1))


def test_numpy_scalars_in_a_solver_functions_result_are_numbers():
    A, b = _system()
    t = bandit.Tuner(bandit.SmoothIGW([1.0, 1.5], seed=0), solver=_sor_returning(
        lambda r: r.replace(iterations=np.int32(r.iterations), converged=np.bool_(True))))
    r = t.solve(A, b)
    assert r.converged is True and type(r.iterations) is int
    assert t.history["iterations"][0] == solvers.sor(A, b, t.policy.arms[r.arm]).iterations
