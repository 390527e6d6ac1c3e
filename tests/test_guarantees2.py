"""Promises of docs/guarantees.md checked on inputs the other tests had not tried."""
import numpy as np
import pytest
import scipy.sparse.linalg as spl

import bandit
from bandit import Tuner
from bandit.report import read_csv
from solvers import gallery


def test_contexts_of_different_lengths_are_all_kept_by_the_history(tmp_path):
    # a learner without contexts accepts any context and the history records it: vectors of
    # different lengths (and numbers among them) had made history, to_csv, summary and
    # regret raise numpy's "inhomogeneous shape", and a number among vectors had dropped
    # every entry of the vectors but the first
    A = gallery.laplacian_2d(4)
    b = np.arange(1.0, 17.0)
    t = Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    contexts = [[1.0, 2.0], [3.0, 4.0, 5.0], 0.5, None, [6]]
    for c in contexts:
        r = t.solve(A, b, context=c)
        # the solve itself is unaffected: dense reference
        np.testing.assert_allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-6)
    nan = np.nan
    want = np.array([[1.0, 2.0, nan], [3.0, 4.0, 5.0], [0.5, nan, nan], [nan, nan, nan],
                     [6.0, nan, nan]])
    np.testing.assert_array_equal(t.history["context"], want)
    t.to_csv(tmp_path / "h.csv")
    np.testing.assert_array_equal(read_csv(tmp_path / "h.csv")["context"], want)
    assert t.summary()["rounds"] == 5
    assert t.regret(n_boot=10).paid == pytest.approx(float(np.sum(t.history["iterations"])))
    t.save(tmp_path / "t.json")
    np.testing.assert_array_equal(Tuner.load(tmp_path / "t.json").history["context"], want)


def test_contexts_of_one_entry_stay_one_column():
    A = gallery.laplacian_2d(4)
    t = Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    for c in (0.25, [0.5], None):
        t.solve(A, np.ones(16), context=c)
    np.testing.assert_array_equal(t.history["context"], [0.25, 0.5, np.nan])
