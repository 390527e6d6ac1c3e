"""Column audits that follow the plays where no plan fits (the switch
``bandit.audit.FOLLOW``, off by default): where they go, and that the totals they feed stay
unbiased — checked against the exact column totals of small cost matrices."""
import numpy as np
import pytest

from bandit import Tuner, audit
from bandit.audit import play_weights
from bandit.estimate import inclusion_probabilities
from experiments.bench_regret import ReplaySolver
from experiments.learners import make_learner

OMEGAS = [round(1.0 + 0.05 * k, 2) for k in range(20)]


def moving_best(T, seed, omegas=OMEGAS):
    """SOR-like costs: quadratic in ω around a best ω that moves with the context (1.5 to
    1.8), five times dearer at the low end of the context (where the best fixed arm is
    decided), 10 % noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, T)
    w = np.array(omegas)
    best = 1.5 + 0.3 * x
    C = 30 * (1 + 6 * (w[None] - best[:, None]) ** 2) * (1 + 4 * (1 - x[:, None])) * np.exp(
        0.1 * rng.standard_normal((T, w.size)))
    return np.round(C).astype(np.int64), x


#: The share measured in docs/regret.md (the switch is off by default).
ON = 0.8


@pytest.fixture
def follow():
    """Turns the switch on for one test."""
    saved = audit.FOLLOW
    audit.FOLLOW = ON
    yield ON
    audit.FOLLOW = saved


def run(C, x, name, seed, budget=0.05, omegas=OMEGAS, per_iteration=1e-9):
    # seconds per iteration 1e-9: solves of tens of nanoseconds, so no plan ever fits the
    # budget (the case the rule is for); seed: the learner's and the audits'
    policy = make_learner(name, omegas, seed=seed, context_bounds=(0.0, 1.0), bins=4,
                          cheb_m=4)
    tuner = Tuner(policy, solver=ReplaySolver(C, per_iteration * C, omegas),
                  audit_budget=budget, audit_seed=seed)
    for t in range(C.shape[0]):
        tuner.solve(t, None, context=float(x[t]))
    assert tuner._auditor.plans == 0
    return tuner


def test_play_weights_spread_along_omega_order():
    # arms given out of ω order: the mass of the arm at rank 3 spreads over ranks 1..5
    order = np.array([4, 0, 6, 2, 5, 1, 3])  # order[i] is the arm of rank i
    mass = np.zeros(7)
    mass[order[3]] = 8.0
    w = play_weights(mass, order=order)
    by_rank = w[order]
    assert np.allclose(by_rank, [0, 0.125, 0.25, 0.25, 0.25, 0.125, 0])
    assert np.isclose(w.sum(), 1.0)
    assert np.allclose(play_weights(np.zeros(4)), 0.25)  # nothing paid yet: even
    assert np.allclose(play_weights(np.array([np.nan, 2.0, 0.0])), [0, 1, 0])


def test_audits_without_a_plan_go_to_the_contenders():
    """ChebCB over 20 ω on 2,000 rounds whose solves are too fast for any plan: the six arms
    within 15 % of the best total got 27 % of the 44 column-audit runs when every arm was
    audited alike (what the budget bought spread evenly, one to three runs each); following
    the plays they get 55 % of 49.  (Since the auditor's own CPU time is charged to the
    budget, fewer runs: 38 % of 29 spread evenly — six arms of 20, about 30 % on average —
    and 63 % following the plays.)"""
    C, x = moving_best(2000, 0)
    tot = C.sum(axis=0)
    near = tot <= 1.15 * tot.min()
    shares = []
    for follow in (None, ON):
        saved = audit.FOLLOW
        audit.FOLLOW = follow
        try:
            tuner = run(C, x, "chebcb", 0)
        finally:
            audit.FOLLOW = saved
        a = tuner.audits
        col = ~a["row"] & (a["seconds"] > 0) & (a["arm"] != tuner.history["arm"][a["round"]])
        shares.append(float(np.mean(near[a["arm"][col]])))
        # every arm keeps a positive probability in every epoch: the totals stay unbiased
        assert all(np.all(q > 0) for q in tuner._auditor.q)
    assert shares[0] < 0.4, shares
    assert shares[1] > 0.45, shares


def test_the_switch_is_off_by_default():
    """Off, a randomised learner's audits without a plan are spread evenly, as before: in
    every epoch from round 512 on (none before it differs), the same probability for every
    arm."""
    assert audit.FOLLOW is None
    C, x = moving_best(1100, 2)
    tuner = run(C, x, "chebcb", 0)
    aud = tuner._auditor
    late = [q for s, q in zip(aud.epoch_start, aud.q) if s >= 512]
    assert late and all(np.allclose(q, q[0]) for q in late)


@pytest.mark.parametrize("name", ["chebcb", "tsallis_inf"])
def test_horvitz_thompson_totals_stay_unbiased_when_audits_follow_the_plays(name, follow):
    """The audit probabilities now depend on the plays so far; the recorded ones must be
    those the coins were drawn with.  Over 24 seeds (the learner's and the audits'), the
    Horvitz–Thompson total of every arm — each observed entry over its recorded
    probability, plays with the policy's own probability included — averages to the exact
    column total within four standard errors.  (With the learner's seed fixed the plays
    are the same in every run, and a randomised learner's plays are then no sample: the
    average over the audits alone is not the total.)"""
    omegas = OMEGAS[8::2]  # 6 arms, ω = 1.4 … 1.9
    C, x = moving_best(1100, 1, omegas)
    K = len(omegas)
    est = []
    for seed in range(24):
        tuner = run(C, x, name, seed, budget=0.3, omegas=omegas)
        assert len(tuner._auditor.epoch_start) >= 2  # rescaled after round 512
        t, k, v, pi = inclusion_probabilities(tuner._run_data())
        est.append(np.bincount(k, v / pi, K))
    est = np.array(est)
    se = est.std(axis=0, ddof=1) / np.sqrt(len(est))
    exact = C.sum(axis=0)
    assert np.all(np.abs(est.mean(axis=0) - exact) <= 4 * se + 1e-9), (
        est.mean(axis=0) / exact, se / exact)



def test_the_rule_reads_only_what_a_saved_tuner_keeps(follow):
    """A saved tuner keeps the policy's sums and the audit records, not the auditor's
    caches of this process (the ω order, the per-arm prices read so far): rebuilt from
    scratch at any round, as a loaded tuner rebuilds them, they give the same
    probabilities, so a loaded tuner audits as the run that went on would have."""
    C, x = moving_best(1100, 3)
    tuner = run(C, x, "chebcb", 0)
    aud = tuner._auditor
    assert aud._priced is not None  # the rule ran and read the records incrementally
    q = aud._follow(tuner, 1100, 5.0, 40.0, 30.0)
    aud._order, aud._priced = None, None
    assert np.array_equal(q, aud._follow(tuner, 1100, 5.0, 40.0, 30.0))
    assert np.all(q > 0)
