"""A repeated arm is refused by name: two arms a learner must tell apart although they are one
(double that setting's share of the exploration and its weight in the model)."""
import pytest

import bandit


@pytest.mark.parametrize("make", [
    lambda arms: bandit.ChebCB(arms, context_bounds=(0.0, 1.0)),
    lambda arms: bandit.TsallisINF(arms),
    lambda arms: bandit.default_policy("sor", arms),
    lambda arms: bandit.Tuner(bandit.FixedArm(arms), solver="ssor_pcg"),
])
def test_a_repeated_omega_is_refused_with_both_positions(make):
    with pytest.raises(ValueError, match=r"arms 0 and 2 are the same \(ω = 1\.5\)"):
        make([1.5, 1.2, 1.5])
    assert make([1.5, 1.2, 1.55]) is not None  # distinct values, however close: accepted


def test_a_repeated_configuration_is_refused_whatever_the_key_order():
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "cg"}, {"pc": "jacobi", "method": "cg"}]
    with pytest.raises(ValueError, match="arms 0 and 2 are the same"):
        bandit.Tuner(arms)
