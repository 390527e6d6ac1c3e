"""A run whose first solves were already solved (b = 0, or a start that meets the rule).

A simulation often starts at rest: zero forcing gives b = 0 for its first steps, and a loop
restarted at a steady state has x0 = the solution.  Those rounds teach the learner nothing
and its draw is undone; the default SOR learner (whose prior comes from the first matrix)
had then been left with no model at all, and such a tuner could not be saved.  The test
failed before its fix; solutions are checked against scipy's direct solve.
"""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from solvers import gallery

A = gallery.laplacian_2d(8).tocsr()


def _system(k):
    M = (A + 0.2 * k * sp.identity(64)).tocsr()
    b = np.linspace(1.0, 2.0, 64)
    return M, b, spla.spsolve(M.tocsc(), b)


@pytest.mark.parametrize("context", [None, 0.5])
@pytest.mark.parametrize("start", ["b = 0", "x0 = solution"])
def test_a_tuner_whose_first_solves_were_already_solved_saves_and_continues(
        start, context, tmp_path):
    tuner = bandit.Tuner(solver="sor")
    M, b, x = _system(0)
    for _ in range(3):
        r = (tuner.solve(M, np.zeros(64), context=context) if start == "b = 0"
             else tuner.solve(M, b, x0=x, context=context))
        assert r.converged and r.iterations == 0 and r.info["already_solved"]
    # before: ValueError "cannot save ...: policy state 'P' must be an array, got NoneType
    # None" (the undone draw had taken the model away with the prior)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    for k in range(1, 8):
        M, b, x = _system(k)
        ctx = None if context is None else context + k
        runs = [t.solve(M, b, context=ctx) for t in (tuner, loaded)]
        for r in runs:
            assert r.converged and np.linalg.norm(r.x - x) <= 1e-6 * np.linalg.norm(x)
        # the loaded tuner is the uninterrupted run: the same arm and iterations (its prior
        # is the first matrix's, as the saved tuner's, not the next one's)
        assert (runs[0].arm, runs[0].iterations) == (runs[1].arm, runs[1].iterations)
    assert loaded.history["arm"].tolist() == tuner.history["arm"].tolist()
    assert np.array_equal(loaded.policy.prior_curve, tuner.policy.prior_curve)
