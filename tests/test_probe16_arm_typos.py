"""A dict arm with a misspelt key is refused naming the key and the name it was meant to be.
``{"omgea": 1.4}`` had been refused as "has no omega, which sor needs; for another
configuration give the arm a method", and ``{"methd": "cg"}`` likewise: the message named
what was missing, not the key the user wrote. Right spellings are still accepted, and
settings far from every name get no suggestion."""
import numpy as np
import pytest

import bandit
from bandit.arms import parse_arm
from solvers import gallery


@pytest.mark.parametrize("arm, solver, typo, meant", [
    ({"omgea": 1.4}, "sor", "omgea", "omega"),
    ({"methd": "cg"}, "ssor_pcg", "methd", "method"),
    ({"omega": 1.4, "ordr": "textbook"}, "ssor_pcg", "ordr", "order"),
    ({"omega": 1.4, "methd": "sor"}, "ssor_pcg", "methd", "method"),
    ({"method": "cg", "pcc": "ic0"}, None, "pcc", "pc"),
    ({"pcc": "ic0"}, "cg", "pcc", "pc"),
    ({"method": "cg", "pc": "jacobi", "reuze": 1}, None, "reuze", "reuse"),
    ({"pc": "ic0", "shfit": 0.1}, None, "shfit", "shift"),
    ({"pc": "amg", "cylce": "W"}, None, "cylce", "cycle"),
])
def test_misspelt_key_is_named_with_the_name_meant(arm, solver, typo, meant):
    with pytest.raises(ValueError) as err:
        bandit.Tuner([arm], **({"solver": solver} if solver else {}))
    msg = str(err.value)
    assert msg.startswith("arm 0 (") and f"did you mean {meant!r} for {typo!r}?" in msg and msg.endswith("?"), msg


def test_right_spellings_still_make_the_same_configurations():
    assert parse_arm({"omega": 1.4}, "sor").label == "sor ω=1.40"
    assert parse_arm({"method": "cg", "pc": "jacobi", "reuse": 1}).label == "cg+jacobi reuse=1"
    assert parse_arm({"pc": "amg", "cycle": "W"}).label == "cg+amg(cycle=W)"
    # a key close to no name: refused as before, with no suggestion
    with pytest.raises(ValueError, match=r"has no omega, which sor needs") as err:
        parse_arm({"colour": 1}, "sor")
    assert "did you mean" not in str(err.value)
    # the corrected arms solve: the Tuner's result meets the stopping rule
    A = gallery.laplacian_2d(6)
    b = np.ones(A.shape[0])
    tuner = bandit.Tuner([{"omega": 1.4}, {"omega": 1.6}], solver="sor", rtol=1e-8)
    r = tuner.solve(A, b)
    assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b)
