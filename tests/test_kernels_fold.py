"""The held rounds told in one compiled call (``bandit._kernels_fold.fold_rounds``) against
``JointCB.update`` round by round: the same model, noise scale, change test and counts, bit
for bit — through a detected change, censored rounds and rounds
that take ``update``'s general path (a context beyond the learnt range)."""
import copy
import math

import numpy as np
import pytest

import bandit
from bandit._kernels_fold import fold_rounds

OMEGAS = [1.0, 1.2, 1.4, 1.6, 1.8]


def _rounds(n, rng, jump=None, wide_at=()):
    out = []
    for t in range(n):
        c = float(rng.uniform(0.0, 1.0)) if t not in wide_at else 1.5
        k = int(rng.integers(len(OMEGAS)))
        level = 8.0 if jump is not None and t >= jump else 1.0
        cost = float(level * (20.0 + 200.0 * (OMEGAS[k] - 1.2 - 0.4 * c) ** 2)
                     * math.exp(0.05 * rng.standard_normal()))
        cens = bool(rng.uniform() < 0.1)
        out.append((k, cost, c, cens, not cens))
    return out


def _same(p, q):
    assert p.t == q.t
    for name in ("P", "theta", "counts", "converged_counts", "cost_sums"):
        np.testing.assert_array_equal(getattr(p, name), getattr(q, name), err_msg=name)
    for name in ("sq_err", "cusum_up", "cusum_down", "forgotten", "changes", "unit"):
        assert getattr(p, name) == getattr(q, name), name
    assert p.features.state() == q.features.state()


@pytest.mark.parametrize("jump,wide_at", [(None, ()), (60, ()), (None, (70,)), (50, (40, 90))])
def test_fold_is_update_round_by_round(jump, wide_at):
    rng = np.random.default_rng(3)
    rows = _rounds(120, rng, jump, wide_at)
    p = bandit.default_policy(None, OMEGAS, context_bounds=(0.0, 1.0), seed=0)
    for r in rows[:10]:  # (the first rounds set the unit and the target)
        p.select(r[2])
        p.update(*r)
    q = copy.deepcopy(p)
    for start in range(10, 120, 7):  # blocks of 7 rounds, as a Tuner's hold would fold
        block = rows[start:start + 7]
        for r in block:
            p.update(*r)
        pending = list(block)
        fold_rounds(q, pending)
        assert not pending
        _same(p, q)
    if jump is not None:
        assert p.changes >= 1


def test_fold_refuses_nothing_and_leaves_an_empty_list():
    p = bandit.default_policy(None, OMEGAS, context_bounds=(0.0, 1.0), seed=0)
    fold_rounds(p, [])  # nothing to tell
    assert p.t == 0
