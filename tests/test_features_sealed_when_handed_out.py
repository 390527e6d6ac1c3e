"""The one-call draw of JointCB leaves its features in the feature map's cache writable, and
the feature map makes them read-only when it first hands them out.

Setting an array's ``writeable`` flag right after a solve cost several µs a draw (the flags
object and its setter are far from the caches then), and a round never reads the cached
features: the draw and the update only compare the cached context.  What anyone is handed
— ``features(c)``, ``features.observe(c)``, after a copy or a pickle of the learner — is
read-only, as before, and the same numbers.
"""
import copy
import pickle

import numpy as np

import bandit


def _learner(rounds=30):
    pol = bandit.default_policy(None, bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi"]),
                                context_bounds=(0.0, 4.0), seed=3)
    rng = np.random.default_rng(4)
    for t in range(rounds):
        c = float(rng.uniform(0.0, 4.0))
        k = pol.select(c)
        pol.update(k, 1.0 + 0.3 * k + 0.1 * c, c)
    return pol


def test_the_draw_leaves_its_features_open_and_they_are_handed_out_read_only():
    pol = _learner()
    c = 1.75
    assert pol._one_call_range(c) is not None
    pol.select(c)
    psi = pol.features._last
    assert psi.flags.writeable  # not sealed by the draw (the change: main sealed it here)
    ref = pol.features.__class__.__new__(pol.features.__class__)
    ref.__dict__.update(pol.features.__dict__)
    ref._key = None
    for handed in (pol.features(c), pol.features.observe(c)[0]):
        assert handed is psi and not handed.flags.writeable
        assert handed.tobytes() == ref(c).tobytes()  # the feature map's own computation


def test_a_copy_or_a_pickle_of_an_open_cache_hands_out_read_only_features():
    pol = _learner()
    c = 2.25
    pol.select(c)
    assert pol.features._last.flags.writeable
    for twin in (copy.deepcopy(pol), pickle.loads(pickle.dumps(pol))):
        phi = twin.features(c)
        assert not phi.flags.writeable
        assert phi.tobytes() == pol.features._last.tobytes()
        # and the learner's next round goes on as the original's
        k = twin.select(c + 0.5)
        assert k == copy.deepcopy(pol).select(c + 0.5)
