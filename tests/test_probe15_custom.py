"""A user's solver function whose result contradicts itself — more iterations than the cap
it was called with, a ``reason`` that disagrees with ``converged``, a reason that is none of
``solvers.REASONS`` — is refused by name, with nothing recorded or told to the learner; the
next, consistent solve is recorded at SOR's own count."""
import pickle

import numpy as np
import pytest

import bandit
import solvers
from solvers import SolveResult, gallery

A = gallery.laplacian_2d(6)
B = np.ones(36)


def _sor(edit):
    """SOR of the library, its result then edited by ``edit(result, maxiter)`` (a dict of
    fields) while ``state["bad"]``."""
    state = {"bad": True}

    def solve(A, b, omega=None, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
              backend="numba", **kw):
        r = solvers.sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
        return r.replace(**edit(r, maxiter)) if state["bad"] else r

    return solve, state


CASES = {
    "iterations past the cap": (lambda r, m: {"iterations": m + 5},
                                "whose iterations is 205; it must be at most maxiter=200"),
    "past the cap, not converged": (
        lambda r, m: {"iterations": m + 1, "converged": False, "reason": "maxiter"},
        "whose iterations is 201; it must be at most maxiter=200"),
    "converged with reason maxiter": (lambda r, m: {"reason": "maxiter"},
                                      "whose converged is True but whose reason is 'maxiter'"),
    "not converged with reason converged": (
        lambda r, m: {"converged": False},
        "whose converged is False but whose reason is 'converged'"),
    "a reason of its own": (lambda r, m: {"reason": "done"},
                            "whose reason is 'done'; it must be one of 'converged', 'maxiter'"),
    "no reason": (lambda r, m: {"reason": None}, "whose reason is None; it must be one of"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_inconsistent_result_refused_nothing_recorded(case):
    edit, named = CASES[case]
    fn, state = _sor(edit)
    tuner = bandit.Tuner(bandit.TsallisINF([1.2, 1.5], seed=0), solver=fn, maxiter=200)
    policy = pickle.dumps(tuner.policy)
    with pytest.raises(ValueError, match="solver function solve returned a SolveResult " + named):
        tuner.solve(A, B)
    assert len(tuner.history["arm"]) == 0 and pickle.dumps(tuner.policy) == policy
    state["bad"] = False  # the same tuner goes on with consistent results
    r = tuner.solve(A, B)
    assert len(tuner.history["arm"]) == 1
    assert r.iterations == solvers.sor(A, B, r.omega, maxiter=200).iterations
    assert r.converged and r.reason == "converged"


def test_refused_on_the_fallback_after_a_valid_failed_attempt():
    # ω = 1.8 stops at the cap (a valid failure), then ω = 1.2, the fallback, reports a count
    # past its cap: the whole solve is abandoned, the first attempt not told either
    calls = []

    def solve(A, b, omega=None, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
              backend="numba", **kw):
        calls.append(omega)
        if omega == 1.8:
            return SolveResult(x=np.zeros(b.size), iterations=maxiter, converged=False,
                               residual_norm=1.0, omega=omega, solver="s", reason="maxiter",
                               seconds=1e-4, maxiter=maxiter)
        return SolveResult(x=np.zeros(b.size), iterations=maxiter + 1, converged=True,
                           residual_norm=0.0, omega=omega, solver="s", reason="converged",
                           seconds=1e-4, maxiter=maxiter)

    tuner = bandit.Tuner(bandit.TsallisINF([1.8, 1.2], seed=2), solver=solve, maxiter=100)
    policy = pickle.dumps(tuner.policy)
    with pytest.raises(ValueError, match="iterations is 101; it must be at most maxiter=100"):
        tuner.solve(A, B)
    assert calls == [1.8, 1.2]
    assert len(tuner.history["arm"]) == 0 and pickle.dumps(tuner.policy) == policy
