"""Messages that count say "1 row", "1 round" for one (not "1 rows", "1 rounds")."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit import Tuner
from solvers import gallery
from test_regret_edges import failing_run


@pytest.mark.parametrize("zeros, said", [([3], "1 row in all"), ([3, 7], "2 rows in all")])
def test_the_zero_diagonal_count_is_singular_for_one_row(zeros, said):
    A = gallery.laplacian_2d(4).tolil()
    for i in zeros:
        A[i, i] = 0.0
    t = Tuner(bandit.ChebCB([1.0, 1.5], seed=0), solver="sor", maxiter=50)
    with pytest.raises(ValueError, match=rf"in row 3 \(missing; {said}\); "):
        t.solve(sp.csr_matrix(A), np.ones(16))


@pytest.mark.parametrize("T, said", [(1, "in the 1 round (every"),
                                     (2, "in any of the 2 rounds (every")])
def test_the_undefined_regret_says_one_round(T, said):
    rep = failing_run(sorted(bandit.POLICIES)[0], 0.0, T=T).regret()
    assert rep.rounds == T
    assert rep.best_fixed.method.startswith(f"undefined: no arm converged {said} run failed)")


@pytest.mark.parametrize("T, said", [(1, "the 1 round so far"), (2, "the 2 rounds so far")])
def test_the_rounds_bound_says_one_round(T, said):
    t = Tuner(bandit.ChebCB([1.0, 1.5], seed=0), solver="sor", maxiter=200)
    for _ in range(T):
        t.solve(gallery.laplacian_2d(4), np.ones(16), context=0.5)
    with pytest.raises(ValueError, match=f"an integer from 0 to {said}, got 5"):
        t.regret(rounds=5)
