"""The Tuner's checked path skips the CG-type solvers' check of the start's size when there is
no ``x0`` (the start is new zeros): the same numbers, one pass over ``x`` fewer; a given ``x0``
is still checked on every call and its refusal is the same."""
import numpy as np
import pytest

import bandit
import solvers
from solvers import _api, gallery

ARMS = [({"method": "ssor_pcg", "omega": 1.3}), ({"method": "cg"})]


def _counting(monkeypatch):
    seen = []
    real = _api._prep.beyond

    def beyond(v, bound):
        if v.size == 16:  # (the start's check: A's values are checked with it elsewhere)
            seen.append(v.copy())
        return real(v, bound)

    monkeypatch.setattr(_api._prep, "beyond", beyond)
    return seen


@pytest.mark.parametrize("arm", ARMS)
def test_no_x0_skips_the_pass_over_the_zero_start(monkeypatch, arm):
    A, b = gallery.laplacian_2d(4), np.linspace(1.0, 2.0, 16)
    tuner = bandit.Tuner(bandit.FixedArm([arm], arm=0))
    tuner.solve(A, b)  # (warm: compiled before counting)
    seen = _counting(monkeypatch)
    res = tuner.solve(A, b)
    assert seen == []  # fails when the Tuner's zero start is checked again
    ref = (solvers.ssor_pcg(A, b, 1.3) if arm["method"] == "ssor_pcg" else solvers.cg(A, b))
    assert res.iterations == ref.iterations and np.array_equal(res.x, ref.x)


@pytest.mark.parametrize("arm", ARMS)
def test_a_given_x0_is_still_checked_every_call(monkeypatch, arm):
    A, b = gallery.laplacian_2d(4), np.ones(16)
    x0 = np.full(16, 0.5)
    tuner = bandit.Tuner(bandit.FixedArm([arm], arm=0))
    tuner.solve(A, b, x0=x0)
    seen = _counting(monkeypatch)
    tuner.solve(A, b, x0=x0)
    assert len(seen) == 1 and np.array_equal(seen[0], x0)
    x0[3] = 1e300  # changed in place, on the same object: refused as the solver refuses it
    with pytest.raises(ValueError, match="x0 is out of proportion with b") as err:
        tuner.solve(A, b, x0=x0)
    with pytest.raises(ValueError) as direct:
        (solvers.ssor_pcg(A, b, 1.3, x0=x0) if arm["method"] == "ssor_pcg"
         else solvers.cg(A, b, x0=x0))
    assert str(err.value) == str(direct.value)
    assert len(tuner.history["arm"]) == 2  # the refused call recorded nothing


def test_the_public_solvers_still_check_their_start(monkeypatch):
    A, b = gallery.laplacian_2d(4), np.ones(16)
    seen = _counting(monkeypatch)
    solvers.cg(A, b)
    solvers.ssor_pcg(A, b, 1.2)
    assert len(seen) == 2  # the public functions do not take the Tuner's shortcut
