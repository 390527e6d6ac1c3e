"""The rounds told again once ``timed_work``'s reference price is fixed
(:attr:`bandit.armset.ArmSet.retell_early`) are told on the copy of the learner the arm set
kept before its first draw, not on a second copy of it (:meth:`bandit.JointCB.retell` copies
its ``start``; the arm set's copy is its own and dropped): the same learner bit for bit as
the copying :meth:`~bandit.JointCB.retell`, one deep copy of the learner fewer in the round
that fixes the price."""
import copy

import numpy as np
import pytest

import bandit

from test_retell_early import (_model, _policy, _rounds, _run, _tuner, _check_retold,
                               clock)  # noqa: F401  (a fixture)
from test_cfg13_plain_fast import _systems


def _wrong(rounds, seed=1):
    rng = np.random.default_rng(seed)
    return [(c, k, cost * float(rng.uniform(0.2, 4.0)) if i < 12 else cost, cens, conv)
            for i, (c, k, cost, cens, conv) in enumerate(rounds)]


@pytest.mark.parametrize("kw", [{}, {"exploration": "igw", "seed": 3}])
def test_retell_in_place_is_the_copying_retell_bit_for_bit(kw):
    """Two learners told the same wrong first costs, one retold by ``retell`` (which copies
    the start), the other in place on its start: the same model, counts and draws, and the
    second holds its start's arrays."""
    rounds = _rounds()
    learners, starts = [], []
    for _ in range(2):
        learner = _policy(**kw)
        starts.append(copy.deepcopy(learner))
        for c, k, cost, cens, conv in _wrong(rounds):
            learner.select(c)
            learner.update(k, cost, c, cens, conv)
        learners.append(learner)
    copied, in_place = learners
    copied.retell(starts[0], rounds)
    kept_P = starts[1].P
    in_place._retell_consuming(starts[1], rounds)
    assert _model(in_place) == _model(copied)
    assert in_place.P is kept_P and copied.P is not starts[0].P
    for c in (0.3, 2.0, 3.9):
        assert in_place.select(c) == copied.select(c)
        np.testing.assert_array_equal(in_place.predict(c), copied.predict(c))


def test_in_place_retell_refuses_another_learner():
    with pytest.raises(ValueError, match="same 8 arms"):
        _policy()._retell_consuming(bandit.JointCB([1.0, 1.5]), [])


def test_tuner_retells_on_its_kept_copy_without_copying_it_again(clock, monkeypatch):
    """Through a configuration Tuner: the learner after the price is fixed is made of the
    arm set's kept copy (no deep copy of a learner in that round), and its model, history
    and later draws are those of the copying ``retell`` (the in-place path taken away)."""
    systems = _systems(30)
    kept, copies = [], []
    real = bandit.joint.JointCB._retell_consuming
    deepcopy = copy.deepcopy

    def spy(self, start, rounds):
        kept.append(start.__dict__["P"])
        return real(self, start, rounds)

    def counting(obj, *args, **kwargs):
        if isinstance(obj, bandit.JointCB) and not args and not kwargs:  # (not a recursion)
            copies.append(obj)
        return deepcopy(obj, *args, **kwargs)

    monkeypatch.setattr(bandit.joint.JointCB, "_retell_consuming", spy)
    monkeypatch.setattr(copy, "deepcopy", counting)
    # (the first round copies the learner: the kernels' warm-up and the arm set's copy)
    tuner, rounds = _run(_tuner(), systems, on_round=lambda i, t: copies.clear() if i == 0
                         else None)
    assert len(kept) == 1 and tuner.policy.P is kept[0]
    assert copies == []  # no copy of the learner at the retell
    _check_retold(tuner, rounds)
    monkeypatch.setattr(copy, "deepcopy", deepcopy)
    # the code before: the arm set calls the copying retell
    monkeypatch.setattr(bandit.joint.JointCB, "_retell_consuming", None)
    clock.reset()
    before, rounds_before = _run(_tuner(), systems)
    assert rounds_before == rounds
    assert _model(before.policy) == _model(tuner.policy)
    assert before.policy.P is not kept[0]
    np.testing.assert_array_equal(before.history["arm"], tuner.history["arm"])
