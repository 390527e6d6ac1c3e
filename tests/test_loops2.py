"""Defects found by wrapping realistic simulation loops with the Tuner."""
import numpy as np
import scipy.sparse as sp

import bandit
from bandit.audit import _SETTLE_FROM, _solved


def _laplacian(m):
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    return (sp.kron(T, sp.identity(m)) + sp.kron(sp.identity(m), T)).tocsr()


def test_overspend_before_the_hard_cap_is_rescaled_when_it_starts():
    # The played arm (SOR at ω = 1.8) is ~10x cheaper than the audited one (Gauss–Seidel),
    # so the first audits, priced at a solve before anything is measured, overspend the
    # 5 % budget many times over within the first rounds.  Once the hard cap applies
    # (round _SETTLE_FROM) that overspend must be rescaled away at once, not left to run on
    # until the first audit after the cap or the next epoch 512 rounds later.
    A, b = _laplacian(8), np.ones(64)
    tuner = bandit.Tuner(bandit.FixedArm([1.0, 1.8], arm=1), solver="sor",
                         audit_budget=0.05, audit_seed=3)
    aud = tuner._auditor
    over = None
    for t in range(_SETTLE_FROM + 1):
        tuner.solve(A, b)
        if t == _SETTLE_FROM - 1:
            over = aud.spent > aud.budget * _solved(tuner)
    assert over, "the setting must overspend before the cap (else the test proves nothing)"
    assert _SETTLE_FROM in aud.epoch_start
    # the rescaled rate pays the debt back: the column probabilities drop below the start's
    assert np.all(aud.q[-1] < aud.q[0])


def test_progress_bar_of_a_loaded_tuner_counts_the_whole_run(tmp_path, capsys):
    # the bar's iterations are the run's totals, so its count of solves must be too: a loaded
    # tuner (or a bar reopened after close) showed "2 solves, iterations=3,512"
    A, b = _laplacian(6), np.ones(36)
    tuner = bandit.Tuner(bandit.FixedArm([1.5]), solver="sor")
    for _ in range(5):
        tuner.solve(A, b)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json", progress=True)
    for _ in range(2):
        loaded.solve(A, b)
    bar = loaded._hook.bar
    assert bar.n == 7
    assert f"iterations={loaded.history['iterations'].sum():,}" in bar.postfix
    loaded._hook.close()
