"""An audit run of an arm that keeps its set-up (``reuse=k``) is recorded at a fixed run's cost
per step, its solve plus ``S / (1 + k)``, whether it built the set-up or reused the held one;
the budget counts what the run spent; and the Horvitz–Thompson column total of that arm
matches a fixed reuse-k run's exact total.  Counted in work, where an IC(0) set-up's work is
deterministic (``info["setup_work"]``)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit.baselines import FixedArm
from bandit.estimate import inclusion_probabilities
from solvers import gallery, pcg

REUSE = 9
ARMS = [{"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0", "reuse": REUSE}]


class _Every(FixedArm):
    """Jacobi-CG, and the reuse arm every ``period``-th round (its set-up is held for 9
    rounds after each play, so the audits between plays reuse it and later ones build)."""

    randomised = False

    def __init__(self, arms, period=25, *, seed=None):
        super().__init__(arms, arm=0, seed=seed)
        self.period = period

    def _select(self, context):
        return 1 if self.t % self.period == 0 else 0


class _Most(_Every):
    """The reuse arm on the first 13 rounds of every 25, Jacobi-CG on the other 12: the
    audits' anchor is the reuse arm, and of its audits on the other rounds the first seven
    reuse the set-up built at the period's round 10 and the last five build one."""

    def _select(self, context):
        return 1 if self.t % self.period < 13 else 0


def _systems(T, seed=0):
    A0 = gallery.laplacian_2d(10).tocsr()
    n = A0.shape[0]
    rng = np.random.default_rng(seed)
    # a slow drift of the values (a reused set-up stays nearly as good as a fresh one, as
    # on a time-stepping sequence), a new right-hand side every round
    return [((A0 + (1.0 + 0.2 * np.sin(t / 15.0)) * sp.identity(n)).tocsr(),
             rng.standard_normal(n)) for t in range(T)]


def _run(systems, policy, **kw):
    tuner = bandit.Tuner(policy, solver="cg", cost="work", rtol=1e-6, guard=None, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for A, b in systems:
            tuner.solve(A, b)
    return tuner


def _setup_work(A, b):
    """IC(0)'s set-up work on ``A``, from a solve of its own (the reference)."""
    return pcg(A, b, "ic0", rtol=1e-6).info["setup_work"]


def test_reuse_audits_are_recorded_at_the_solve_plus_a_share_of_the_set_up():
    """Every audit run of the reuse arm is recorded at its solve plus ``S / 10``, ``S`` the
    IC(0) set-up's work of a solve of its own: one that built the set-up (the held one aged
    out: 10 or more rounds after the arm's last play) at its work less ``9 S / 10``, one that
    reused the held set-up at its work plus ``S / 10``; what the budget counts is the runs'
    work (on main every record was the run's work: ``S`` whole or none)."""
    T = 60
    systems = _systems(T)
    tuner = _run(systems, _Every(ARMS), audit_budget=1.0, audit_seed=0)
    a = tuner.audits
    runs = a["seconds"] > 0
    mine = runs & (a["arm"] == 1)  # column and row runs alike
    assert (mine & ~a["row"]).sum() >= 10
    # the rounds an audit of arm 1 builds: its held set-up aged out (played every 25th round)
    age = a["round"] % 25
    built = mine & (age > REUSE)
    reused = mine & (age <= REUSE)
    assert built.any() and reused.any()
    share = np.zeros(a["round"].size)
    for i in np.flatnonzero(mine):
        A, b = systems[a["round"][i]]
        S = _setup_work(A, b)
        share[i] = S / (1 + REUSE) - (S if built[i] else 0.0)
        if built[i]:  # a fresh IC(0) on the same system: the same run, its whole work
            ref = pcg(A, b, "ic0", rtol=1e-6)
            assert a["iterations"][i] == ref.iterations
            assert a["value"][i] == pytest.approx(ref.info["work"] - S + S / (1 + REUSE),
                                                  rel=1e-12)
    # what the runs spent, against what they are recorded at: the shares, and nothing else
    # (T < 512: no planning is charged, and the played arm's own solves spend nothing)
    spent = tuner._auditor.spent
    assert spent == pytest.approx(float(np.sum(a["value"][runs]) - share[runs].sum()),
                                  rel=1e-12)
    assert share[built].sum() < 0 < share[reused].sum()


def test_the_played_reuse_arms_free_record_is_amortised_like_its_audits():
    """The played arm's own solve, recorded for free when a column audit draws it: the reuse
    arm's play that built its set-up is recorded at its solve plus ``S / 10`` (the learner's
    ``paid`` keeps the whole set-up)."""
    systems = _systems(30)
    tuner = _run(systems, FixedArm(ARMS, arm=1), audit_budget=1.0, audit_seed=0)
    a = tuner.audits
    free = (a["seconds"] == 0) & (a["arm"] == 1)
    assert free.any()
    paid = np.asarray(tuner._paid)
    for i in np.flatnonzero(free):
        t = a["round"][i]
        S = _setup_work(*systems[t])
        if t % (1 + REUSE) == 0:  # the fixed run builds: paid whole, recorded at its share
            assert paid[t] - a["value"][i] == pytest.approx(S - S / (1 + REUSE), rel=1e-12)
        else:
            assert a["value"][i] - paid[t] == pytest.approx(S / (1 + REUSE), rel=1e-12)


def test_reuse_arms_column_total_matches_a_fixed_reuse_run():
    """The Horvitz–Thompson total of an AMG reuse arm's observed entries (its plays, told at
    their share, and its audits) over a run, averaged over audit seeds, against the exact
    total a fixed reuse-9 run of the arm pays on the same systems (one set-up per ten
    solves): within four standard errors of the mean and 5 %.  On main the audits that
    built the set-up were recorded whole and those that reused none."""
    arms = [ARMS[0], {"method": "cg", "pc": "amg", "reuse": REUSE}]
    systems = _systems(150)
    fixed = _run(systems, FixedArm(arms, arm=1))
    exact = float(np.sum(fixed._paid))
    totals = []
    for seed in range(6):
        tuner = _run(systems, _Most(arms), audit_budget=1.0, audit_seed=seed)
        t, k, v, pi = inclusion_probabilities(tuner._run_data())
        totals.append(np.bincount(k, v / pi, 2)[1])
    mean = float(np.mean(totals))
    se = float(np.std(totals, ddof=1) / np.sqrt(len(totals)))
    assert abs(mean - exact) < 4 * se + 0.01 * exact, (mean, exact, se)
    assert abs(mean - exact) < 0.05 * exact, (mean, exact, se)
