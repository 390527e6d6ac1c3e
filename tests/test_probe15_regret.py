"""``tuner.regret()`` says how many solves failed and that they are in both totals: the run's
at what it paid for them, each arm at the failure cost (maxiter) on a round it does not
finish. The counts are checked against SOR run here on every system with every ω."""
import numpy as np

import bandit
import solvers
from solvers import gallery

OMEGAS = [1.2, 1.5, 1.8]


def _run(maxiter=30, T=12):
    """SOR, iteration cap 30: the 4 × 4 Laplacians converge, the 16 × 16 ones cannot."""
    tuner = bandit.Tuner(OMEGAS, solver="sor", maxiter=maxiter, audit_budget=0.05,
                         audit_seed=0)
    systems = []
    for k in range(T):
        A = gallery.laplacian_2d(16 if k % 3 == 1 else 4)
        b = np.ones(A.shape[0])
        tuner.solve(A, b)
        systems.append((A, b))
    return tuner, systems


def test_regret_report_says_failed_solves_are_included():
    tuner, systems = _run()
    # the reference: which systems no ω of the list solves within the cap
    conv = np.array([[solvers.sor(A, b, w, maxiter=30).converged for w in OMEGAS]
                     for A, b in systems])
    failed = ~conv.any(axis=1)
    assert failed.sum() == 4
    rep = tuner.regret()
    text = str(rep)
    assert ("4 of 12 solves did not converge; included: the run at what it paid for them, an "
            "arm at the failure cost (30 iterations, maxiter) on a round it does not finish"
            in text.splitlines()[1])
    # every failed solve ran the fallback chain (no other ω finished it)
    assert rep.failures == {"rounds": 12, "not_converged": 4, "fallback_ran": 4,
                            "fallback_finished": 0, "fallbacks": 0,
                            "failure_cost": 30.0, "maxiter": 30}
    # included: what the run paid counts every arm the chain ran on a failed round (all
    # three, to the cap) and the iterations of each solve that converged
    its = tuner.history["iterations"]
    want = 3 * 30 * failed.sum() + its[~failed].sum()
    assert rep.paid == want
    assert tuner.summary()["regret"]["failures"]["not_converged"] == 4
    # over the first solve only (converged): said so
    assert tuner.regret(rounds=1).__str__().splitlines()[1] == "  the solve converged"


def test_regret_report_of_a_run_whose_solves_all_converged():
    tuner, systems = _run(maxiter=10000, T=6)
    assert all(solvers.sor(A, b, w).converged for A, b in systems for w in OMEGAS)
    rep = tuner.regret()
    assert rep.failures["not_converged"] == 0
    # here the guard stopped an exploratory ω on a 16 × 16 system and the leader finished it
    fell = int(np.count_nonzero(tuner.history["fallback_arm"] >= 0))
    assert fell == rep.failures["fallbacks"] == 1
    assert str(rep).splitlines()[1] == ("  all 6 solves converged; 1 solve finished by a "
                                        "fallback arm after the chosen one stopped (the run "
                                        "paid both)")
