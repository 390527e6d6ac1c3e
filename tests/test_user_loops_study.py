"""``experiments.user_loops``: a tiny loop's tuned run, cost matrix and comparison against
references computed here (scipy's direct solves, SOR sweeps from the formula, sums by hand)."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

from dense_gold import sor_sweeps
from experiments.user_loops import GRID, LOOPS, run_loop


def _sor_count(A, b, omega, x0, rtol=1e-8, cap=2000):
    """Sweeps until ``‖b − A x‖ ≤ rtol ‖b‖``, one dense sweep at a time."""
    x, nb = np.array(x0, float), np.linalg.norm(b)
    for k in range(cap + 1):
        if np.linalg.norm(b - A @ x) <= rtol * nb:
            return k
        x = sor_sweeps(A, b, omega, x, 1)
    raise AssertionError("the reference SOR did not converge")


def test_adaptive_loop_matches_direct_solves_and_dense_sor_costs():
    r = run_loop("adaptive", "dt", size=4, t_end=0.004)
    systems, C = r["systems"], r["C"]
    assert len(systems) % 3 == 0 and C.shape == (len(systems), len(GRID))
    # the same loop with scipy's direct solver ends in the same state (every tuned solve met
    # rtol = 1e-8)
    from experiments.user_loops import adaptive_loop

    direct = adaptive_loop(lambda A, b, x0, **kw: spla.spsolve(A.tocsc(), b), "dt", nx=4,
                           t_end=0.004)
    assert np.linalg.norm(r["state"] - direct) <= 1e-6 * np.linalg.norm(direct)
    ref = np.array([[_sor_count(A.toarray(), b, w, x0) for w in GRID]
                    for A, b, x0 in systems])
    np.testing.assert_array_equal(C, ref)
    totals = [sum(ref[t, k] for t in range(len(ref))) for k in range(len(GRID))]
    k_best = min(range(len(GRID)), key=lambda k: (totals[k], k))
    paid = sum(int(i) for i in r["tuner"].history["iterations"])
    assert r["best_omega"] == GRID[k_best] and r["best"] == totals[k_best]
    assert r["omega1"] == totals[0] and r["inst"] == sum(min(row) for row in ref)
    assert r["paid"] == paid and r["exact_regret"] == paid - totals[k_best]
    low, high = r["interval"]
    assert r["covered"] == (low <= paid - totals[k_best] <= high)


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_every_loop_runs_tiny_and_its_tuned_solves_converge(name):
    kw = {"newton": dict(size=6, steps=2), "adaptive": dict(size=4, t_end=0.002),
          "uq": dict(size=6, samples=3), "graph": dict(size=40, steps=3),
          "twophase": dict(size=5, inverse_steps=2, cn_steps=2),
          "rgg": dict(size=40, steps=3), "rggdrift": dict(size=40, steps=3)}[name]
    context = LOOPS[name][2][0] if LOOPS[name][2] else "spectral"
    r = run_loop(name, context, **kw)
    assert r["tuner"].summary()["all_converged"]
    for A, b, _ in r["systems"]:  # SPD systems: every ω of the grid converges on them
        assert A.shape[0] == len(b)
    assert (r["C"] < 10_000).all() and r["inst"] <= r["best"] <= r["omega1"]


def test_a_context_the_loop_does_not_take_is_refused():
    with pytest.raises(ValueError, match="takes context"):
        run_loop("uq", "dt", size=4, samples=1)
