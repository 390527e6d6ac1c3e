"""Two counts of fallbacks under two names. ``Tuner.summary()`` had counted as ``fallbacks``
the solves whose fallback chain ran and ``Tuner.regret().failures`` under the same name the
solves a fallback arm finished. Both now give both counts, named for what they count
(``fallback_ran``, ``fallback_finished``); the old ``fallbacks`` keys keep their meanings.
The counts are checked against SOR run here on every system with every ω."""
import numpy as np

import bandit
import solvers
from solvers import gallery

OMEGAS = [1.2, 1.5, 1.8]
MAXITER = 100


def _run():
    # ω = 1.2 is always played first: it converges on the 4 × 4 Laplacians within 100
    # sweeps, not on the 16 × 16 ones (ω = 1.8 does) nor on the 48 × 48 ones (no ω does); a
    # guard this loose caps no attempt below maxiter, so only convergence decides
    tuner = bandit.Tuner(bandit.FixedArm(OMEGAS, arm=0), solver="sor", maxiter=MAXITER,
                         guard=1e9)
    systems = [gallery.laplacian_2d(m) for m in (4, 16, 48, 4, 16, 16, 48, 4)]
    for A in systems:
        tuner.solve(A, np.ones(A.shape[0]))
    return tuner, systems


def test_fallback_counts_say_what_they_count():
    tuner, systems = _run()
    conv = np.array([[solvers.sor(A, np.ones(A.shape[0]), w, maxiter=MAXITER).converged
                      for w in OMEGAS] for A in systems])
    ran = ~conv[:, 0]                        # the chosen ω failed: the chain ran
    finished = ran & conv[:, 1:].any(axis=1)  # and another ω finished the solve
    assert (ran.sum(), finished.sum()) == (5, 3)
    s = tuner.summary()
    f = tuner.regret().failures
    for counts in (s, f):
        assert counts["fallback_ran"] == ran.sum()
        assert counts["fallback_finished"] == finished.sum()
    # the older keys, kept with what they counted
    assert s["fallbacks"] == ran.sum() and f["fallbacks"] == finished.sum()
    assert s["not_converged"] == f["not_converged"] == (~conv.any(axis=1)).sum()
    assert s["regret"]["failures"]["fallback_ran"] == ran.sum()
