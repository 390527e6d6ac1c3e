"""An exception raised by the Tuner's callback (or Ctrl-C inside it) carries the solve's
result: the solve had finished and is recorded, but ``u = tuner.solve(...).x`` never
received it, so a loop stopped there had lost that step's solution (solving the system again
records a second round).  The state is the same as without the exception."""
import numpy as np
import pytest

import bandit
from solvers import gallery

A = gallery.laplacian_2d(6)
B = np.linspace(1.0, 2.0, 36)


def _tuner(callback):
    return bandit.Tuner([1.2, 1.5, 1.8], solver="sor", seed=0, callback=callback)


@pytest.mark.parametrize("kind", [RuntimeError, KeyboardInterrupt])
def test_the_result_rides_on_the_exception(kind):
    def callback(result):
        if len(tuner.history["arm"]) == 2:
            raise kind("stop")

    tuner = _tuner(callback)
    tuner.solve(A, B)
    with pytest.raises(kind) as info:
        tuner.solve(A * 1.5, B)
    result = info.value.result
    assert result.converged
    assert np.linalg.norm(B - (A * 1.5) @ result.x) <= 1e-8 * np.linalg.norm(B)
    assert any("callback" in note and ".result" in note
               for note in getattr(info.value, "__notes__", ["callback .result"]))
    # the state is that of a run without the exception
    plain = _tuner(None)
    plain.solve(A, B)
    want = plain.solve(A * 1.5, B)
    assert result.iterations == want.iterations and np.array_equal(result.x, want.x)
    assert np.array_equal(tuner.history["arm"], plain.history["arm"])


def test_ctrl_c_in_an_audit_run_carries_the_result_too():
    # the audits run after the solve, once the round is told: Ctrl-C there had left the
    # round recorded and its result lost in the same way
    tuner = bandit.Tuner([1.2, 1.5, 1.8], solver="sor", seed=0, audit_budget=1.0,
                         audit_seed=0)

    def audit(*args, **kwargs):
        raise KeyboardInterrupt

    tuner._audit = audit  # (an instance attribute: this tuner's audit runs only)
    calls = 0
    with pytest.raises(KeyboardInterrupt) as info:
        for _ in range(5):  # until the first round the schedule audits
            calls += 1
            tuner.solve(A, B)
    result = info.value.result
    assert result.converged
    assert np.linalg.norm(B - A @ result.x) <= 1e-8 * np.linalg.norm(B)
    assert len(tuner.history["arm"]) == calls  # the interrupted round is recorded
    assert tuner.history["iterations"][-1] == result.iterations
