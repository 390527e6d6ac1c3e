"""``bandit.default_policy`` given the arms as its first argument (the solver's place) says so
and how to call it; it had answered "unknown solver [{'method': ...}, ...]" with the whole
list, calling the arms a solver."""
import numpy as np
import pytest

from bandit import config_grid, default_policy


@pytest.mark.parametrize("arms", [config_grid([1.5], ["ic0"]), [1.0, 1.5], (1.2,),
                                  np.array([1.0, 1.5])])
def test_arms_in_the_solvers_place_are_named(arms):
    with pytest.raises(ValueError) as exc:
        default_policy(arms)
    msg = str(exc.value)
    assert "first argument is the solver's name (or None), not the arms" in msg
    assert f"of {len(arms)};" in msg and "default_policy(None, arms)" in msg
    assert "unknown solver" not in msg


def test_the_intended_calls_still_work():
    assert default_policy(None, config_grid([1.5], ["ic0"])).n_arms == 2
    assert default_policy("ssor_pcg", [1.0, 1.5]).n_arms == 2
    with pytest.raises(ValueError, match="unknown solver 'gmres'; known: "):
        default_policy("gmres")
