"""``bandit.audit.ROW_SHARE`` is read when the audits are rescaled: set to 0, the budget's
row share goes to column audits (no row audit runs)."""
import numpy as np

import bandit
from bandit import Tuner, audit
from experiments.bench_regret import ReplaySolver

OMEGAS = [1.0, 1.2, 1.4, 1.6, 1.8]


def _run(share, seed, T=600):
    rng = np.random.default_rng(seed)
    C = np.round(50 * np.exp(0.2 * rng.standard_normal((T, len(OMEGAS))))
                 * (1 + np.abs(np.asarray(OMEGAS) - 1.5))).astype(np.int64)
    saved = audit.ROW_SHARE
    audit.ROW_SHARE = share
    try:
        tuner = Tuner(bandit.TsallisINF(OMEGAS, seed=seed), solver=ReplaySolver(C, 1e-6 * C,
                      OMEGAS), audit_budget=0.2, audit_seed=seed)
        for t in range(T):
            tuner.solve(t, None)
    finally:
        audit.ROW_SHARE = saved
    return tuner, C


def test_no_row_audits_at_a_row_share_of_0():
    """At 0.1 a run of 600 rounds at a 20 % budget makes row audits; at 0 it makes none and
    its epochs' row probabilities are 0 (before, the share was read once, at import, and
    setting it changed nothing)."""
    with_rows, _ = _run(0.1, 0)
    assert with_rows.audits["row"].any()
    none, _ = _run(0.0, 0)
    assert not none.audits["row"].any()
    assert all(r == 0.0 for r in none._auditor.r)

