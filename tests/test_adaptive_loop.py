"""The adaptive-time-step loop of ``experiments.adaptive_loop``: its systems and its runs."""
import numpy as np
import pytest
import scipy.sparse as sp

from experiments.adaptive_loop import main, record_loop, run_loop_study


def test_the_loop_records_backward_euler_systems_of_its_steps():
    systems = record_loop(nx=6, t_end=0.02)
    assert len(systems) % 3 == 0 and len(systems) >= 9
    h = 1.0 / 7
    T1 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], (6, 6))
    K = 0.05 * (sp.kron(T1, sp.identity(6)) + sp.kron(sp.identity(6), T1)) / h ** 2
    for i in range(0, len(systems), 3):  # one step of dt, two of dt / 2 from the same state
        (A1, _, x1, dt), (A2, _, x2, half), (A3, b3, _, half2) = systems[i:i + 3]
        assert half == half2 == pytest.approx(dt / 2)
        np.testing.assert_allclose((A1 - sp.identity(36) - dt * K).toarray(), 0, atol=1e-9)
        np.testing.assert_allclose((A2 - A3).toarray(), 0)
        np.testing.assert_array_equal(x1, x2)
    steps = [s[3] for s in systems[::3]]
    assert steps[0] == pytest.approx(1e-4) and max(steps) > 2e-4  # the step grows


def test_every_method_runs_side_by_side_and_the_learners_choices_are_counted():
    labels, totals, chosen, counts, T = run_loop_study(nx=5, t_end=0.005, rounds=1)
    assert len(labels) == 9 and T % 3 == 0
    for k in range(len(labels)):  # a fixed configuration's choices are its own run (NaN
        # for one stopped at 5 × the best)
        np.testing.assert_allclose(chosen[f"fixed/{k}"], totals[f"fixed/{k}"], rtol=1e-12)
    assert np.isfinite([totals[f"fixed/{k}"][0] for k in range(len(labels))]).sum() >= 3
    for basis in ("line", "family"):
        assert sum(counts[basis][0].values()) == T
        assert set(counts[basis][0]) <= set(labels)
        assert np.isfinite(totals[basis]).all() and np.isfinite(chosen[basis]).all()


def test_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--rounds", "0"])
    assert "--rounds >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("t_end", ["nan", "inf"])
def test_a_final_time_that_is_not_finite_is_refused(capsys, t_end):
    """Before: --t-end nan failed with an IndexError after the loop, and inf never ended."""
    with pytest.raises(SystemExit):
        main(["--t-end", t_end])
    assert "--t-end" in capsys.readouterr().err
