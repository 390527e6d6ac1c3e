"""A NumPy float context (what a user's arithmetic on arrays gives) takes the Tuner's fast
check: taken as the Python float of the same value, without :func:`_check_context`'s general
tests (3-10 µs a call); a non-finite one is still refused by name."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import bandit._tuner_input as tuner_input
from solvers import gallery


def _system():
    A = (gallery.laplacian_2d(6) + 0.1 * sp.identity(36)).tocsr()
    return A, np.ones(36)


def test_finite_numpy_float_context_is_taken_without_the_general_check(monkeypatch):
    tuner = bandit.Tuner(bandit.default_policy("sor", seed=0), solver="sor")
    A, b = _system()
    tuner.solve(A, b, context=0.25)
    seen = []
    general = tuner_input._check_context
    monkeypatch.setattr(tuner_input, "_check_context",
                        lambda c: (seen.append(type(c)), general(c))[1])
    for c in (np.float64(0.5), np.float64(-3.0), np.float64(0.0)):
        tuner.solve(A, b, context=c)
    assert seen == []
    ctx = tuner.history["context"]
    assert ctx.tolist() == [0.25, 0.5, -3.0, 0.0]


@pytest.mark.parametrize("bad", [np.float64("nan"), np.float64("inf"), np.float64("-inf")])
def test_non_finite_numpy_float_context_is_refused_by_name(bad):
    tuner = bandit.Tuner(bandit.default_policy("sor", seed=0), solver="sor")
    A, b = _system()
    with pytest.raises(ValueError, match="context must be finite"):
        tuner.solve(A, b, context=bad)
    assert len(tuner.history["arm"]) == 0
