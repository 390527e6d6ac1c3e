"""A new user's arm lists and replays: an arm list given as a string, bytes, one dict, a set
or a 2-D array is refused by name (bytes had become the arms ω = 49 and 50, a string was
refused as "could not convert string to float: '.'", a 2-D array with a TypeError about
0-dimensional arrays); ``bandit.simulate`` replays the default learner (``JointCB``, which
works without a context) without contexts, as the Tuner runs it (it had been refused as
"contextual"), and still refuses a learner that needs one, naming ``contexts``."""
import numpy as np
import pytest

import bandit
from bandit.regret import regret
from bandit.simulate import simulate


@pytest.mark.parametrize("arms, match", [
    ("1.2", "got the str '1.2'"),
    (b"12", "got the bytes"),
    ({"omega": 1.2}, "got one dict"),
    ({1.2, 1.5}, "got a set"),
    (np.array([[1.2, 1.5]]), r"shape \(1, 2\)"),
])
@pytest.mark.parametrize("make", [
    lambda a: bandit.default_policy("sor", a),
    lambda a: bandit.default_policy(None, a),
    bandit.JointCB, bandit.TsallisINF, bandit.ChebCB, bandit.FixedArm,
])
def test_an_arm_list_that_is_not_a_sequence_of_arms_is_refused(make, arms, match):
    with pytest.raises(ValueError, match=match):
        make(arms)


def test_bytes_never_become_arms():
    # list(b"12") == [49, 50]: two "ω" far outside (0, 2), which every policy had taken
    with pytest.raises(ValueError, match="bytes"):
        bandit.TsallisINF(b"12")


def test_sequences_of_arms_are_still_accepted():
    for arms in ([1.2, 1.5], (1.2, 1.5), np.array([1.2, 1.5]), range(1, 2),
                 (w for w in [1.2, 1.5]), [{"omega": 1.2}, {"omega": 1.5}]):
        assert bandit.TsallisINF(arms).n_arms in (1, 2)
    assert bandit.default_policy("sor", np.array([1.2, 1.5])).n_arms == 2


def _costs():
    omegas = np.linspace(1.0, 1.9, 10)
    # a cost valley around ω = 1.6, the same every round: the best fixed arm is arm 6
    base = 20 + 200 * (omegas - 1.6) ** 2
    return omegas, np.tile(np.round(base), (60, 1))


def test_simulate_replays_the_default_learner_without_contexts():
    omegas, C = _costs()
    played = simulate(bandit.default_policy(None, omegas.tolist()), C)
    # the same arms a direct ask/tell loop without contexts plays
    p = bandit.default_policy(None, omegas.tolist())
    direct = []
    for t in range(C.shape[0]):
        k = p.select(None)
        p.update(k, C[t, k])
        direct.append(k)
    assert played.tolist() == direct
    r = regret(C, played)
    # the learner plays the valley's floor most, next to it the rest: it pays a fraction
    # of what the best fixed arm costs (20 a round) for its tries
    best = int(np.argmin(C[0]))
    assert np.sum(played[-20:] == best) >= 10 and set(played[-20:]) <= {best - 1, best,
                                                                          best + 1}
    assert 0 < r.best_fixed[-1] < 0.25 * C[:, best].sum()


@pytest.mark.parametrize("cls", [bandit.ChebCB, bandit.TsallisINFCB, bandit.SquareCB])
def test_simulate_names_contexts_for_a_learner_that_needs_one(cls):
    omegas, C = _costs()
    p = cls(omegas.tolist(), seed=0)
    before = p.state_dict()
    with pytest.raises(ValueError, match=f"{cls.__name__} needs a context every round: pass "
                                         f"contexts"):
        simulate(p, C)
    assert p.state_dict() == before  # refused before anything changed
    assert len(simulate(cls(omegas.tolist(), seed=0), C, np.arange(60.0))) == 60


@pytest.mark.parametrize("arms, words", [
    (range(1, 2), "got range; arms go in a list, a tuple or a 1-D array (list(arms))"),
    ((w for w in [1.2, 1.5]), "got generator; arms go in a list"),
    ({1.2, 1.5}, "got a set: arms are named by their index, so give them in a list"),
])
def test_the_tuner_says_how_to_pass_arms_given_in_another_iterable(arms, words):
    # a list, tuple or array of arms is the default learner over them; another iterable had
    # been refused as "policy must be a bandit Policy, got range" alone
    with pytest.raises(ValueError, match="policy must be a bandit Policy, " + words.replace(
            "(", r"\(").replace(")", r"\)")):
        bandit.Tuner(arms, solver="sor")
    assert bandit.Tuner(list(range(1, 2)), solver="sor").policy.n_arms == 1
