"""The compiled round called past Numba's dispatcher (``bandit/_joint_entry.py``): the entry
point is used only with the array objects the dispatcher chose it for, an array replaced by
another (of another layout here) goes through the dispatcher again, the learner's attributes
hold nothing of it, and it is dropped with the learner."""
import gc
import math
import pickle

import numpy as np

import bandit
from bandit import _joint_entry as entry


def _learner():
    return bandit.default_policy(None, bandit.config_grid(), context_bounds=(0.0, 1.0), seed=0)


def _round(p, t):
    c = 0.05 + 0.9 * ((t * 0.618) % 1.0)
    k = p.select(c)
    p.update(int(k), 10.0 + 5.0 * k + 20.0 * c + math.sin(t), c)
    return k


def test_a_replaced_array_goes_through_the_dispatcher_and_the_numbers_stay_the_same():
    a, b = _learner(), _learner()
    for t in range(40):
        assert _round(a, t) == _round(b, t)
    assert entry.DECIDE[id(a)][2][1] is a.P and entry.TELL[id(a)][2][0] is a.P
    # the same numbers in a Fortran-ordered copy: a compiled version of another layout
    b.P = np.asfortranarray(b.P)
    b.counts = b.counts.copy()
    for t in range(40, 80):
        assert _round(a, t) == _round(b, t)
        assert a.P.tobytes() == np.ascontiguousarray(b.P).tobytes()
        assert a.theta.tobytes() == b.theta.tobytes() and a._mu.tobytes() == b._mu.tobytes()
    assert not b.P.flags.c_contiguous  # (kept as the user left it)
    kept = entry.DECIDE[id(b)]
    assert kept[2][1] is b.P and entry.TELL[id(b)][2][4] is b.counts
    assert list(a.counts) == list(b.counts)


def test_nothing_of_it_on_the_learner_and_dropped_with_it():
    p = _learner()
    for t in range(20):
        _round(p, t)
    key = id(p)
    assert key in entry.DECIDE and key in entry.TELL
    assert not any("entry" in name for name in vars(p))
    q = pickle.loads(pickle.dumps(p))  # a copy starts through the dispatcher
    assert id(q) not in entry.DECIDE
    assert _round(q, 20) == _round(p, 20)
    del p
    gc.collect()
    assert key not in entry.DECIDE and key not in entry.TELL
