"""The configuration learner's choices and model, pinned bit for bit.

A seeded default configuration learner (:func:`bandit.default_policy` over the configuration
grid) runs 160 rounds of a synthetic sequence (a float context growing with noise, a cost
quadratic in ω with a few censored readings): its arms and exact digests of its model
(``θ``, ``P``, ``σ̂``'s sum, the CUSUMs, the counts; the sums exactly rounded) were recorded from the code before any
change to how the compiled draw and update receive their arguments.  A change to the calls'
plumbing (packing the state, fewer arguments) must leave every number as it was; the general
path (``one_call = False``: separate compiled calls with Python between them) must agree with
the one-call path on the same run.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import bandit
from experiments.precond_study import default_grid

ARMS = [0, 12, 0, 8, 1, 2, 3, 10, 4, 4, 5, 12, 3, 3, 4, 2, 8, 12, 4, 4, 5, 11, 3, 5, 3, 3, 4, 12,
        4, 2, 5, 3, 4, 4, 5, 3, 5, 3, 4, 3, 4, 3, 4, 3, 12, 4, 3, 4, 3, 5, 4, 4, 4, 3, 4, 4, 3,
        4, 3, 5, 3, 3, 4, 3, 3, 4, 3, 4, 4, 3, 3, 3, 4, 4, 3, 4, 5, 3, 4, 4, 3, 4, 4, 4, 3, 3, 4,
        3, 3, 4, 5, 3, 3, 4, 3, 12, 4, 3, 4, 3, 3, 4, 3, 3, 4, 3, 4, 3, 3, 4, 4, 3, 3, 4, 3, 4,
        5, 4, 3, 4, 4, 3, 4, 4, 3, 4, 3, 4, 3, 4, 3, 3, 3, 4, 3, 4, 3, 3, 4, 3, 4, 3, 3, 4, 3, 3,
        4, 2, 3, 3, 3, 3, 4, 3, 3, 4, 3, 4, 5, 4]
DIGEST = ["0x1.44b69ad094b0ap-1", "0x1.707eddb2f3219p-2", "-0x1.649eb40dc7b3ap+2",
          "0x1.b07688db33390p+1", "0x0.0p+0", "0x0.0p+0", 0,
          [2, 1, 4, 69, 62, 12, 0, 0, 2, 0, 1, 1, 6], [2, 1, 3, 69, 60, 11, 0, 0, 2, 0, 1, 1, 6]]


def _run():
    grid = default_grid()
    pol = bandit.default_policy(None, grid, seed=3)
    rng = np.random.default_rng(11)
    arms = []
    for t in range(160):
        c = float(1.0 + 0.5 * t + rng.uniform(0.0, 3.0)) if t > 2 else float(5.0 + t)
        k = pol.select(c)
        w = grid[k].get("omega", 1.0)
        cost = float((1.0 + (w - 1.6) ** 2 * 10.0) * (1.0 + 0.02 * c) * (1.0 + k % 3 * 0.1)
                     * math.exp(rng.normal(0.0, 0.05)))
        pol.update(k, cost, c, censored=bool(t % 37 == 36))
        arms.append(int(k))
    return arms, pol


def _digest(pol):
    v = np.cos(np.arange(pol.P.size, dtype=float))
    s = np.sin(np.arange(pol.theta.size, dtype=float))
    # math.fsum: exactly rounded whatever the order, where a BLAS dot's rounding depends on how
    # many threads the process may use (a run under taskset differed in the last bits)
    return [math.fsum(pol.theta).hex(), math.fsum(pol.theta * s).hex(),
            math.fsum(pol.P.ravel() * v).hex(), float(pol.sq_err).hex(), float(pol.cusum_up).hex(),
            float(pol.cusum_down).hex(), int(pol.changes), pol.counts.tolist(),
            pol.converged_counts.tolist()]


def test_choices_and_model_pinned():
    arms, pol = _run()
    assert arms == ARMS
    assert _digest(pol) == DIGEST


def test_general_path_agrees(monkeypatch):
    monkeypatch.setattr(bandit.JointCB, "one_call", False)
    arms, pol = _run()
    assert arms == ARMS
    assert _digest(pol) == DIGEST


def test_pickle_round_trip_continues_identically():
    import pickle

    arms, pol = _run()
    again = pickle.loads(pickle.dumps(pol))
    assert _digest(again) == DIGEST
    for c in (30.0, 55.5, 80.25):
        assert again.select(c) == pol.select(c)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
