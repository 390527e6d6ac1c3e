"""The try gate inside the draw (:mod:`bandit._kernels_gate`): the arm it plays, against the
rule written out in NumPy (a family's converged state and the leader's family's arms as
boolean masks), and what a draw allocates — nothing in the gate, and in the whole gated draw
only the arrays it fills (the model's contraction and the widths)."""
from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.runtime import _nrt_python, rtsys

from bandit import _kernels, _kernels_gate
from bandit._kernels_gate import _gate_value, _gated_arm


def _reference(k, lead, mu, score, wide, sigma, family, allow, converged, near_mask,
               pick):
    """The gate's rule with masks: ``proven`` per family, the leader's family as a mask,
    ``np.argmin``-style first minimum (a NaN first)."""
    fk, fl = family[k], family[lead]
    if fk == fl:
        return k
    proven = np.zeros(family.max() + 1, dtype=bool)
    proven[family[converged > 0]] = True
    best = k
    gain, allowance = _gate_value(k, lead, mu, wide, sigma, proven[fk], allow)
    if pick:
        value = gain / allowance
        for j in range(mu.size):
            if family[j] == fl or j == k:
                continue
            g, a = _gate_value(j, lead, mu, wide, sigma, proven[family[j]], allow)
            if g / a > value or value != value:
                best, value, gain, allowance = j, g / a, g, a
    if gain >= allowance:
        return best

    def first_min(values, mask):
        idx = np.flatnonzero(mask)
        return int(idx[np.argmin(values[idx])])

    mask = family == fl
    if near_mask.size:
        mask = mask & near_mask[first_min(mu, mask)]
    return first_min(score, mask)


@pytest.mark.parametrize("pick", [False, True])
@pytest.mark.parametrize("radius", [None, 1])
def test_the_gated_arm_is_the_rule_written_with_masks(pick, radius):
    rng = np.random.default_rng(23)
    K = 9
    family = np.array([0, 0, 0, 0, 1, 1, 2, 3, 3])
    pos = np.arange(K)
    near = (np.abs(pos[:, None] - pos[None, :]) <= radius if radius is not None
            else np.zeros((0, 0), dtype=bool))
    seen = set()
    for trial in range(400):
        mu = rng.normal(0.0, 0.5, K)
        wide = rng.uniform(0.0, 1.0, K)
        score = mu - rng.uniform(0.0, 2.0) * wide
        if trial % 7 == 0:
            score[rng.integers(K)] = np.nan  # a NaN score: the first NaN, as np.argmin
        if trial % 11 == 0:
            mu[5] = mu[4]  # ties
            score[2] = score[1]
        converged = rng.integers(0, 3, K) * (rng.uniform(size=K) < 0.6)
        lead = int(rng.choice(np.flatnonzero(converged > 0))) if converged.any() else 0
        converged[lead] = max(converged[lead], 1)
        k = int(rng.integers(K))
        allow = np.concatenate([[1.5, 1.0], rng.uniform(0.0, 30.0, K)]) if trial % 3 else (
            np.array([rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)]))
        sigma = rng.uniform(0.05, 0.5)
        got = _gated_arm(k, lead, mu, score, wide, sigma, family, allow, converged, near,
                         pick)
        want = _reference(k, lead, mu, score, wide, sigma, family, allow, converged, near,
                          pick)
        assert got == want, trial
        seen.add("own" if family[got] == family[lead] else "rival")
    assert seen == {"own", "rival"}


@njit
def _gate_loop(n, k, lead, mu, score, wide, sigma, family, allow, converged, near, pick):
    s = 0
    for _ in range(n):
        s += _gated_arm(k, lead, mu, score, wide, sigma, family, allow, converged, near,
                        pick)
    return s


@njit
def _draw_loop(n, theta, P, psi, X, bonus, cap, near, mu, score, converged, family, allow,
               sigma, pick):
    s = 0
    for _ in range(n):
        k, lead = _kernels.joint_select_lcb(theta, P, psi, X, bonus, cap, near, mu, score,
                                            converged, False, family, allow, sigma, pick)
        s += k
    return s


def _allocations_per_call(loop, *args):
    """NRT allocations per iteration of ``loop`` (the calls of 1 and 11 iterations apart:
    the arguments' unboxing is the same in both)."""
    _nrt_python.memsys_enable_stats()
    loop(1, *args)  # compiled
    counts = []
    for n in (1, 11):
        before = rtsys.get_allocation_stats().alloc
        loop(n, *args)
        counts.append(rtsys.get_allocation_stats().alloc - before)
    return (counts[1] - counts[0]) / 10


@pytest.mark.parametrize("pick", [False, True])
def test_the_gate_allocates_nothing(pick):
    # a rival drawn and declined (the leader's family's least score next to its best), and
    # with the pick a rival found that pays: both branches of the gate
    family = np.array([0, 0, 1, 2])
    mu = np.array([0.0, 0.1, -0.5, 0.8])
    wide = np.array([0.3, 0.3, 0.2, 2.0])
    score = mu - wide
    converged = np.array([5, 1, 0, 0])
    allow = np.array([1.5, 1.0])
    near = np.ones((4, 4), dtype=np.bool_)
    assert _gated_arm(3, 0, mu, score, wide, 0.2, family, allow, converged, near,
                      pick) == (2 if pick else 0)
    assert _allocations_per_call(_gate_loop, 3, 0, mu, score, wide, 0.2, family, allow,
                                 converged, near, pick) == 0


def test_a_gated_draw_allocates_only_the_arrays_it_fills():
    # the draw of the default configuration learner's shape (gated, one noise scale): the
    # model's contraction (v and M of joint_scores) and the widths the gate reads; the empty
    # placeholders of the arrays it does not fill allocate nothing
    rng = np.random.default_rng(4)
    K, mw, mc = 13, 12, 10
    X = rng.standard_normal((K, mw))
    theta = rng.standard_normal(mc * mw)
    P = np.eye(mc * mw) * 0.01
    psi = rng.standard_normal(mc)
    family = np.array([0] * 8 + [1, 2, 3, 4, 5])
    pos = np.arange(K)
    near = np.abs(pos[:, None] - pos[None, :]) <= 1
    converged = np.array([3] * 8 + [0] * 5)
    mu, score = np.empty(K), np.empty(K)
    per_draw = _allocations_per_call(_draw_loop, theta, P, psi, X, 0.5, 0.05, near, mu,
                                     score, converged, family, np.array([1.5, 1.0]), 0.2,
                                     True)
    assert per_draw == 3


def test_the_gate_s_names_are_reexported_from_the_kernels_module():
    for name in ("_gate_value", "_gated_arm", "expected_saving", "try_pays"):
        assert getattr(_kernels, name) is getattr(_kernels_gate, name)
