"""Audits by need (``bandit.audit.BY_NEED``): column-audit probabilities per context bin.
Where each arm's audits go, that every round's probability is the one actually used (the
draws' frequencies, the estimator's record of them), and that the estimator fed by them
stays unbiased and covers — against exact totals and regrets of small cost matrices."""
import numpy as np
import pytest

from bandit import Tuner, audit
from bandit._audit_need import (COVERED_NEED, NEED_FLOOR, context_bin, coordinate, need_bins,
                                round_probabilities)
from bandit.audit import Auditor
from bandit.estimate import RunData, estimate_regret, inclusion_probabilities
from experiments.bench_regret import ReplaySolver
from experiments.learners import make_learner
from test_audit_follow import OMEGAS, moving_best


@pytest.fixture
def by_need():
    """The switch on (its default) or off, restored after the test."""
    saved = audit.BY_NEED
    yield
    audit.BY_NEED = saved


def test_an_arm_is_audited_where_its_plays_do_not_observe_it():
    """Arm 0 played on the low half of the contexts, arm 1 on the high half, arm 2 never:
    each played arm's audits go to the half it was not played on (1 against
    COVERED_NEED, plus the floor), its expected number of audits kept; the arm never played
    keeps its probability in every bin."""
    T = 600
    x = np.linspace(0.0, 1.0, T)
    arm = np.where(x < 0.5, 0, 1)
    q = np.array([0.02, 0.04, 0.01])
    edges, qb = need_bins(x, arm, np.ones(T, bool), q, bins=2)
    assert edges.size == 1 and 0.49 < edges[0] < 0.51
    low, high = 0, 1  # the bins
    assert qb[high, 0] > qb[low, 0] and qb[low, 1] > qb[high, 1]
    ratio = (NEED_FLOOR + (1 - NEED_FLOOR) * COVERED_NEED) / 1.0
    assert np.isclose(qb[low, 0] / qb[high, 0], ratio)
    # arm 0 is not observed on the high half only (its plays observe the low half): its
    # audits there keep its expected number, q × the rounds it was not observed on
    assert np.isclose(qb[high, 0] * T / 2, q[0] * T / 2)
    assert np.allclose(qb[:, 2], q[2])
    # no bins where the context does not tell the rounds apart
    assert need_bins(np.zeros(T), arm, np.ones(T, bool), q) is None
    assert need_bins(np.full(T, np.nan), arm, np.ones(T, bool), q) is None


def test_round_probabilities_and_coordinates():
    q = np.array([[0.1, 0.2], [0.3, 0.4]])
    edges = [None, np.array([0.5])]
    qb = [None, np.array([[0.5, 0.6], [0.7, 0.8]])]
    x = np.array([0.0, 0.9, 0.1, 0.9, np.nan])
    got = round_probabilities(x, np.array([0, 2]), q, edges, qb)
    assert got.tolist() == [[0.1, 0.2], [0.1, 0.2], [0.5, 0.6], [0.7, 0.8], [0.7, 0.8]]
    assert int(context_bin(np.array([0.5]), coordinate(None))) == 1  # NaN: the last bin
    assert coordinate(0.25) == 0.25
    assert coordinate([0.25, 3.0]) == 0.25
    assert coordinate(np.array([0.25, 3.0])) == 0.25


def test_draws_audit_each_arm_with_its_bins_probability():
    """An epoch with bins, drawn over 60,000 rounds by the geometric skip of its envelope and
    thinned per bin: each (bin, arm)'s audit frequency is its probability within four
    binomial standard errors, and the arms are drawn independently (the frequency of two
    at once is the product)."""
    rng = np.random.default_rng(0)
    K = 3
    aud = Auditor(K, 0.05, seed=1)
    qb = np.array([[0.02, 0.10, 0.05], [0.08, 0.01, 0.05]])
    aud.epoch_start, aud.edges, aud.qb = [0], [np.array([0.5])], [qb]
    aud.q, aud.r, aud.full, aud.c = [qb.max(axis=0)], [0.0], [np.ones(K, bool)], [0.25]
    aud.next_adjust = 1 << 62
    aud.next_audit = aud._skip() - 1
    T = 60_000
    x = rng.uniform(0.0, 1.0, T)
    hits = np.zeros((T, K), bool)
    for t in range(T):
        if t == aud.next_audit:
            cols, _ = aud.draw(None, t, float(x[t]))
            hits[t, cols] = True
    b = (x >= 0.5).astype(int)
    for j in range(2):
        n = int(np.sum(b == j))
        freq = hits[b == j].mean(axis=0)
        se = np.sqrt(qb[j] * (1 - qb[j]) / n)
        assert np.all(np.abs(freq - qb[j]) <= 4 * se), (j, freq, qb[j])
    both = hits[b == 1][:, 0] & hits[b == 1][:, 1]
    n = int(np.sum(b == 1))
    p2 = qb[1, 0] * qb[1, 1]
    assert abs(both.mean() - p2) <= 4 * np.sqrt(p2 / n) + 1e-4


def policy_run(C, x, seed, edges, qb):
    """A randomised policy with known probabilities (a softmax of minus each context's
    costs: the arms cheap there) and column audits with the per-bin probabilities ``qb``
    (one epoch from round 0): the run's :class:`RunData`, recorded as the Tuner records
    one (``qt``, each round's probabilities)."""
    rng = np.random.default_rng(seed)
    T, K = C.shape
    logits = -C / C.min(axis=1, keepdims=True) * 3.0
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    arm = (rng.random(T)[:, None] > np.cumsum(P, axis=1)).sum(axis=1)
    qt = round_probabilities(x, np.array([0]), qb.max(axis=0)[None], [edges], [qb])
    hit = (rng.random((T, K)) < qt) & (np.arange(K)[None] != arm[:, None])
    ra, ka = np.nonzero(hit)
    rows = np.arange(T)
    audits = {"round": ra, "arm": ka, "row": np.zeros(ra.size, bool),
              "value": C[ra, ka].astype(float), "iterations": C[ra, ka],
              "converged": np.ones(ra.size, bool), "budget": np.full(ra.size, 10**6),
              "cap": np.full(ra.size, 10**6), "p": P[ra, ka]}
    return RunData(paid=C[rows, arm].astype(float), x=x, arm=arm, p=P[rows, arm],
                   played=C[rows, arm].astype(float), epoch_start=np.zeros(1, np.int64),
                   q=qb.max(axis=0)[None], r=np.zeros(1), audits=audits, fail_cost=1e6,
                   n_arms=K, arm_order=np.arange(K), cap=np.full(T, 1e6),
                   full=np.ones((1, K), bool), qt=qt)


def test_horvitz_thompson_totals_are_unbiased_with_bin_probabilities():
    """The entries a run observes, weighed by the probabilities the estimator reads
    (plays at the policy's, audits at the round's bin's): their Horvitz–Thompson column
    totals over 200 runs average to the exact totals within four of their own standard
    errors, for every arm — while the per-epoch envelope ``q`` (what the estimator read
    before it knew each round's) is biased by many standard errors."""
    C, x = moving_best(800, 3, OMEGAS[::4])
    T, K = C.shape
    exact = C.sum(axis=0).astype(float)
    edges = np.quantile(x, [1 / 3, 2 / 3])
    qb = np.array([[0.02, 0.10, 0.05, 0.10, 0.02],
                   [0.10, 0.02, 0.05, 0.02, 0.10],
                   [0.05, 0.05, 0.10, 0.05, 0.05]])
    ht, ht_env = [], []
    for seed in range(200):
        d = policy_run(C, x, seed, edges, qb)
        t, k, v, pi = inclusion_probabilities(d)
        ht.append(np.bincount(k, v / pi, K))
        d.qt = None  # the envelope on every round
        t, k, v, pi = inclusion_probabilities(d)
        ht_env.append(np.bincount(k, v / pi, K))
    ht, ht_env = np.array(ht), np.array(ht_env)
    se = ht.std(axis=0, ddof=1) / np.sqrt(len(ht))
    assert np.all(np.abs(ht.mean(axis=0) - exact) <= 4 * se), (ht.mean(axis=0) / exact, se)
    z_env = np.abs(ht_env.mean(axis=0) - exact) / (ht_env.std(axis=0, ddof=1) / np.sqrt(200))
    assert z_env.max() > 8, z_env


def run(C, x, name, seed, need, T=None):
    """``name`` on the cost matrix ``C`` through a Tuner (solves of a microsecond per
    hundred iterations), audits by need on or off."""
    audit.BY_NEED = need
    policy = make_learner(name, OMEGAS, seed=seed, context_bounds=(0.0, 1.0), bins=4,
                          cheb_m=4)
    tuner = Tuner(policy, solver=ReplaySolver(C, 1e-8 * C, OMEGAS), audit_budget=0.05,
                  audit_seed=seed)
    for t in range(C.shape[0] if T is None else T):
        tuner.solve(t, None, context=float(x[t]))
    return tuner


def test_the_tuner_records_the_probabilities_it_drew_with(by_need):
    """Through a Tuner: epochs from round 128 on have bins, each audited column run's
    probability in the estimator's record (``RunData.qt``) is its epoch's bin's at the
    round's context, and a saved and loaded tuner keeps them and audits the same rounds."""
    C, x = moving_best(1500, 1)
    tuner = run(C, x, "chebcb", 2, True, T=1200)
    aud = tuner._auditor
    binned = [e for e, ed in enumerate(aud.edges) if ed is not None]
    assert binned and all(aud.epoch_start[e] >= 128 for e in binned)
    d = tuner._run_data()
    assert d.qt is not None and d.qt.shape == (1200, len(OMEGAS))
    for e in binned:
        s0 = aud.epoch_start[e]
        s1 = aud.epoch_start[e + 1] if e + 1 < len(aud.epoch_start) else 1200
        b = context_bin(aud.edges[e], x[s0:s1])
        assert np.array_equal(d.qt[s0:s1], aud.qb[e][b])
        assert np.allclose(aud.q[e], aud.qb[e].max(axis=0))
    # the auditor's state through the tuner file's JSON and its checks, loaded: the same
    # bins and probabilities; a copy of the tuner continues with the same audits as a
    # tuner run through
    import copy
    import json

    from bandit._jsonable import from_jsonable, to_jsonable
    from bandit._tunerfile_rows import _auditor
    from bandit.report import LOG_COLUMNS

    state = from_jsonable(json.loads(json.dumps(to_jsonable(aud.state_dict()))))
    _auditor(state, tuner._log, LOG_COLUMNS, len(OMEGAS), 0.05)
    again = Auditor(len(OMEGAS), 0.05)
    again.load_state(state)
    assert [None if v is None else v.tolist() for v in again.edges] == \
        [None if v is None else v.tolist() for v in aud.edges]
    assert all((a is None and b is None) or np.array_equal(a, b)
               for a, b in zip(again.qb, aud.qb))
    bad = dict(state, qb=state["qb"][:-1])
    with pytest.raises(Exception, match="audits.qb"):
        _auditor(bad, tuner._log, LOG_COLUMNS, len(OMEGAS), 0.05)
    loaded = copy.deepcopy(tuner)
    for t in range(1200, 1500):
        loaded.solve(t, None, context=float(x[t]))
    through = run(C, x, "chebcb", 2, True)
    assert through.audits["round"].tolist() == loaded.audits["round"].tolist()
    assert through.audits["arm"].tolist() == loaded.audits["arm"].tolist()
    assert len(loaded._auditor.qb) == len(through._auditor.qb)


@pytest.mark.slow
def test_estimates_against_exact_regrets_by_need(by_need):
    """ChebCB (deterministic) and Tsallis-INF-CB (randomised, known probabilities) over 20
    ω on 3,000 rounds, 12 seeds each, audits by need: the 90 % interval covers the exact
    regret against the best fixed arm in at least 10 of 12 runs, and the mean error of the
    estimate is within three of its own standard errors (plus 2 % of the regret's size)."""
    C, x = moving_best(3000, 0)
    exact_min = C.sum(axis=0).min()
    for name in ("chebcb", "tsallis_inf_cb"):
        cover, err = 0, []
        for seed in range(12):
            tuner = run(C, x, name, seed, True)
            b = tuner.regret().best_fixed
            exact = float(tuner.history["iterations"].sum() - exact_min)
            cover += b.low <= exact <= b.high
            err.append(b.estimate - exact)
        err = np.array(err)
        se = err.std(ddof=1) / np.sqrt(err.size)
        assert cover >= 10, (name, cover)
        assert abs(err.mean()) <= 3 * se + 0.02 * abs(exact), (name, err.mean(), se)


@pytest.mark.parametrize("name", ["jointcb", "tsallis_inf_cb"])
def test_horvitz_thompson_totals_through_the_tuner_are_unbiased(name, by_need):
    """Through a Tuner, audits by need (bins from round 128 on, rescaled at 512): over 24
    seeds (the learner's and the audits'), every arm's Horvitz–Thompson total — each
    observed entry over the probability the estimator reads for it, plays with the
    policy's own probability included — averages to the exact column total within four of
    its standard errors: the probabilities recorded are those the coins were drawn with.
    JointCB is deterministic (its plays are observed for sure), Tsallis-INF-CB randomised
    (known probabilities)."""
    omegas = OMEGAS[8::2]  # 6 arms, ω = 1.4 … 1.9
    C, x = moving_best(1100, 1, omegas)
    K = len(omegas)
    est = []
    for seed in range(24):
        audit.BY_NEED = True
        policy = make_learner(name, omegas, seed=seed, context_bounds=(0.0, 1.0), bins=4,
                              cheb_m=4)
        tuner = Tuner(policy, solver=ReplaySolver(C, 1e-8 * C, omegas), audit_budget=0.3,
                      audit_seed=seed)
        for t in range(C.shape[0]):
            tuner.solve(t, None, context=float(x[t]))
        assert any(e is not None for e in tuner._auditor.edges)
        t_, k, v, pi = inclusion_probabilities(tuner._run_data())
        est.append(np.bincount(k, v / pi, K))
    est = np.array(est)
    se = est.std(axis=0, ddof=1) / np.sqrt(len(est))
    exact = C.sum(axis=0)
    assert np.all(np.abs(est.mean(axis=0) - exact) <= 4 * se + 1e-9), (
        est.mean(axis=0) / exact, se / exact)
