"""The one-call draw of JointCB hands no array made in compiled code back to Python.

An array a Numba function returns is boxed with its dtype unpickled on every call
(``numba.core.serialize._numba_unpickle``, 1-2 µs a draw after a solve); ``joint_decide``
writes the context's features into an array of the caller's instead.  The features the draw
leaves in the feature map's cache are the feature map's own (its general computation, bit for
bit), read-only once handed out, and a new array every round (one kept from an earlier
round never changes).
"""
import sys

import numpy as np

import bandit


def _learner(rounds=40):
    pol = bandit.default_policy("ssor_pcg", seed=1)
    rng = np.random.default_rng(2)
    for t in range(rounds):
        c = float(rng.uniform(0.0, 4.0)) if t > 1 else float(4.0 * t)
        k = pol.select(c)
        pol.update(k, 1.0 + (pol.arms[k] - 1.5) ** 2 + 0.1 * c, c)
    return pol


def _unpickles_during(fn):
    count = [0]

    def prof(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "_numba_unpickle":
            count[0] += 1

    sys.setprofile(prof)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count[0]


def test_one_call_draw_unpickles_nothing_and_caches_fresh_features():
    pol = _learner()
    assert pol._one_call_range(1.5) is not None  # the draws below take the one-call path
    kept = []

    def draws():
        for c in (0.5, 1.5, 2.5, 3.5, 1.25):
            pol.select(c)
            cached = pol.features._last
            psi = pol.features(c)  # handed out: the draw's own array, read-only from now on
            assert psi is cached
            kept.append((c, psi))

    assert _unpickles_during(draws) == 0
    assert pol._mu_of is not None and pol._mu_of[0] == 1.25  # the one-call draw ran
    fresh = bandit.default_policy("ssor_pcg", seed=1)
    fresh.features = pol.features.__class__.__new__(pol.features.__class__)
    fresh.features.__dict__.update(pol.features.__dict__)
    for c, psi in kept:
        assert not psi.flags.writeable
        fresh.features._key = None  # the feature map's own computation of the same context
        np.testing.assert_array_equal(psi, fresh.features(c))
        assert psi.tobytes() == fresh.features(c).tobytes()
    assert len({id(psi) for _, psi in kept}) == len(kept)  # a new array every round
