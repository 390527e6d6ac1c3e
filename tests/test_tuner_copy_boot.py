"""``copy.copy`` of a Tuner is an independent Tuner, and a regret bootstrap too large to hold
is refused by name before anything is allocated."""
import copy

import numpy as np
import pytest

import bandit
from solvers import gallery


def _tuner(solves=6):
    A = gallery.laplacian_2d(8)
    rng = np.random.default_rng(3)
    tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.3, 1.6], seed=0), solver="ssor_pcg")
    for _ in range(solves):
        tuner.solve(A, rng.standard_normal(A.shape[0]))
    return tuner, A, rng


def test_a_shallow_copy_solves_apart_from_the_original():
    tuner, A, rng = _tuner()
    before = tuner.summary()
    twin = copy.copy(tuner)
    for _ in range(4):
        twin.solve(A, rng.standard_normal(A.shape[0]))
    # the original is as it was: its history, its totals and its learner's rounds
    after = tuner.summary()
    assert len(tuner.history["iterations"]) == 6 == before["rounds"] == after["rounds"]
    assert after["total_iterations"] == before["total_iterations"]
    assert tuner.policy is not twin.policy and tuner.policy.t == 6
    # and the copy's totals agree with its own history
    assert len(twin.history["iterations"]) == 10 == twin.summary()["rounds"]
    assert twin.summary()["total_iterations"] == int(np.sum(twin.history["iterations"]))


def test_a_bootstrap_too_large_to_hold_is_refused_by_name():
    tuner, _, _ = _tuner()
    with pytest.raises(ValueError, match=r"n_boot=1000000000 draws over 6 rounds .* GiB"):
        tuner.regret(n_boot=10**9)
    assert tuner.regret(n_boot=200).rounds == 6  # the default still runs
