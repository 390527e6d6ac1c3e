"""Plans without the cost model (the switch ``bandit.audit.MINI_PLAN``, off by default): the
totals they read (:func:`bandit._audit_mini.mini_totals`) against the exact column totals of
small cost matrices, where their audits go, and that the estimator fed by them stays
unbiased and covers the exact regret."""
import numpy as np
import pytest

from bandit import audit
from bandit._audit_mini import mini_totals
from bandit.audit import Auditor, contender_weight
from bandit.estimate import RunData, inclusion_probabilities
from test_audit_follow import moving_best, run as run_follow

OMEGAS = [round(1.0 + 0.05 * k, 2) for k in range(20)]
EMPTY = {"round": np.zeros(0, np.int64), "arm": np.zeros(0, np.int64),
         "row": np.zeros(0, bool), "value": np.zeros(0), "iterations": np.zeros(0, np.int64),
         "converged": np.zeros(0, bool), "budget": np.zeros(0), "cap": np.zeros(0),
         "p": np.zeros(0)}


def known_policy_run(C, x, seed, q=0.02):
    """A randomised policy with known probabilities — a softmax of minus the context's cost
    of each arm, so that it plays the arms cheap at each context and the dear ones rarely —
    and column audits of every arm with probability ``q``: the run's :class:`RunData`."""
    rng = np.random.default_rng(seed)
    T, K = C.shape
    logits = -C / C.min(axis=1, keepdims=True) * 3.0
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    arm = np.array([rng.choice(K, p=P[t]) for t in range(T)])
    rows = np.arange(T)
    hit = (rng.random((T, K)) < q) & (np.arange(K)[None] != arm[:, None])
    ra, ka = np.nonzero(hit)
    audits = {"round": ra, "arm": ka, "row": np.zeros(ra.size, bool),
              "value": C[ra, ka].astype(float), "iterations": C[ra, ka],
              "converged": np.ones(ra.size, bool), "budget": np.full(ra.size, 10**6),
              "cap": np.full(ra.size, 10**6), "p": P[ra, ka]}
    return RunData(paid=C[rows, arm].astype(float), x=x, arm=arm, p=P[rows, arm],
                   played=C[rows, arm].astype(float), epoch_start=np.zeros(1, np.int64),
                   q=np.full((1, K), q), r=np.zeros(1), audits=audits, fail_cost=1e6,
                   n_arms=K, arm_order=np.arange(K))


def test_mini_totals_of_a_policy_with_known_probabilities():
    """Plays with the policy's own probabilities and audits of 2 % per arm, on 3,000 rounds
    of 20 arms whose costs differ by up to 5 × between contexts: every arm's total within
    three of its reported standard errors of the exact one (and within 25 %), the arms near
    the best found as contenders, the dear ones not."""
    C, x = moving_best(3000, 0)
    exact = C.sum(axis=0)
    est = mini_totals(known_policy_run(C, x, 0))
    sd = np.sqrt(est["V"])
    assert np.all(np.abs(est["S"] - exact) <= 3 * sd), (est["S"] / exact, sd / exact)
    assert np.all(np.abs(est["S"] / exact - 1) < 0.25), est["S"] / exact
    w = contender_weight(est)
    best = int(np.argmin(exact))
    assert w[best] > 0.5
    far = exact > 2 * exact.min()
    assert far.sum() >= 5 and np.all(w[far] < 0.05), (w, exact / exact.min())
    assert np.isclose(est["p_best"].sum(), 1.0)
    assert np.allclose(est["mean_cost"], est["S"] / 3000)


def test_mini_totals_fill_the_arms_a_bin_never_saw():
    """Arms never observed in a bin take the log-cost interpolated along the arms there, or
    beyond the observed ones extrapolated with their log-slope where costs rise outwards:
    on costs exponential in the arm's index, exactly so.  Where costs fall outwards the
    neighbour's cost is kept (a guess never makes an unseen arm cheaper than the cheapest
    seen: it stays a contender).  The error of a filled-in total says so, growing with the
    distance to the observed arms."""
    T, K = 800, 6
    x = np.linspace(0.0, 1.0, T)
    C = np.tile(10.0 * 1.5 ** np.arange(K), (T, 1))
    arm = np.where(np.arange(T) % 2 == 0, 1, 3)  # arms 1 and 3 played, on every context
    rows = np.arange(T)
    d = RunData(paid=C[rows, arm], x=x, arm=arm, p=np.ones(T), played=C[rows, arm],
                epoch_start=np.zeros(0, np.int64), q=np.zeros((0, K)), r=np.zeros(0),
                audits=EMPTY, fail_cost=1e6, n_arms=K, arm_order=np.arange(K),
                randomised=False)
    est = mini_totals(d)
    exact = C.sum(axis=0)
    assert np.allclose(est["S"][1:], exact[1:], rtol=1e-9), est["S"] / exact
    assert np.isclose(est["S"][0], exact[1])
    sd = np.sqrt(est["V"])
    assert sd[2] > 0 and sd[5] > sd[4] > sd[3] and sd[0] > sd[1]
    # the same with the arms given out of ω order
    perm = np.array([3, 0, 5, 1, 4, 2])  # arm i of the new numbering is arm perm[i]
    inv = np.argsort(perm)
    d2 = RunData(paid=d.paid, x=x, arm=inv[arm], p=np.ones(T), played=d.played,
                 epoch_start=np.zeros(0, np.int64), q=np.zeros((0, K)), r=np.zeros(0),
                 audits=EMPTY, fail_cost=1e6, n_arms=K, arm_order=inv[np.arange(K)],
                 randomised=False)
    assert np.allclose(mini_totals(d2)["S"], est["S"][perm])


def test_mini_totals_of_an_empty_run():
    d = RunData(paid=np.zeros(0), x=np.zeros(0), arm=np.zeros(0, np.int64), p=np.zeros(0),
                played=np.zeros(0), epoch_start=np.zeros(0, np.int64), q=np.zeros((0, 3)),
                r=np.zeros(0), audits=EMPTY, fail_cost=1e6, n_arms=3)
    est = mini_totals(d)
    assert np.all(np.isnan(est["S"])) and np.allclose(est["p_best"], 1 / 3)


@pytest.fixture
def no_full_plan(monkeypatch):
    """No plan of the cost model fits (as on solves of tens of microseconds), and the
    switch on; the solves' seconds (1 ms per iteration) leave room for the mini plans."""
    monkeypatch.setattr(Auditor, "plan_charge", lambda self, tuner, t: float("inf"))
    monkeypatch.setattr(audit, "MINI_PLAN", True)


def run(C, x, name, seed, budget=0.05, omegas=OMEGAS):
    # solves of a millisecond per iteration: room for the mini plans
    return run_follow(C, x, name, seed, budget, omegas, per_iteration=1e-3)


def near_share(tuner, near):
    a = tuner.audits
    col = ~a["row"] & (a["seconds"] > 0) & (a["arm"] != tuner.history["arm"][a["round"]])
    return float(np.mean(near[a["arm"][col]]))


def test_the_switch_is_off_by_default():
    assert audit.MINI_PLAN is False


@pytest.mark.parametrize("name", ["chebcb", "jointcb"])
def test_mini_plans_send_the_audits_to_the_contenders(name, monkeypatch):
    """2,000 rounds, no plan of the cost model fits: without mini plans a quarter to a half
    of the column-audit runs went to the six arms within 15 % of the best total (audits
    spread evenly, or a deterministic learner's anchor), with them more (over three seeds,
    some 40 column runs each); every arm keeps a positive probability in every epoch."""
    monkeypatch.setattr(Auditor, "plan_charge", lambda self, tuner, t: float("inf"))
    C, x = moving_best(2000, 0)
    tot = C.sum(axis=0)
    near = tot <= 1.15 * tot.min()
    shares = np.zeros((3, 2))
    for seed in range(3):
        for j, mini in enumerate((False, True)):
            monkeypatch.setattr(audit, "MINI_PLAN", mini)
            tuner = run(C, x, name, seed)
            assert (tuner._auditor.mini_plans > 0) == mini
            assert all(np.all(q > 0) for q in tuner._auditor.q)
            shares[seed, j] = near_share(tuner, near)
    assert shares[:, 1].mean() > shares[:, 0].mean() + 0.05, shares


def test_horvitz_thompson_totals_stay_unbiased_with_mini_plans(no_full_plan):
    """The audit probabilities now depend on the run's observed costs; the recorded ones
    must be those the coins were drawn with.  Over 24 seeds (the learner's and the
    audits'), every arm's Horvitz–Thompson total — each observed entry over its recorded
    probability, the policy's plays included — averages to the exact column total within
    four standard errors."""
    omegas = OMEGAS[8::2]  # 6 arms, ω = 1.4 … 1.9
    C, x = moving_best(1100, 1, omegas)
    K = len(omegas)
    est = []
    for seed in range(24):
        tuner = run(C, x, "chebcb", seed, budget=0.3, omegas=omegas)
        assert tuner._auditor.mini_plans >= 1
        t, k, v, pi = inclusion_probabilities(tuner._run_data())
        est.append(np.bincount(k, v / pi, K))
    est = np.array(est)
    se = est.std(axis=0, ddof=1) / np.sqrt(len(est))
    exact = C.sum(axis=0)
    assert np.all(np.abs(est.mean(axis=0) - exact) <= 4 * se + 1e-9), (
        est.mean(axis=0) / exact, se / exact)


@pytest.mark.parametrize("name", ["chebcb", "jointcb", "tsallis_inf"])
def test_the_interval_covers_the_exact_regret_with_mini_plans(name, no_full_plan):
    """The 90 % interval against the best fixed arm contains the exact regret (what the run
    paid minus the smallest column total of the full matrix) in at least 5 of 6 seeds."""
    C, x = moving_best(1600, 2)
    best = C.sum(axis=0).min()
    hits = 0
    for seed in range(6):
        tuner = run(C, x, name, seed)
        assert tuner._auditor.mini_plans >= 1
        b = tuner.regret().best_fixed
        exact = float(tuner.history["iterations"].sum() - best)
        hits += b.low <= exact <= b.high
    assert hits >= 5, hits


def test_a_mini_plan_is_put_off_when_its_price_exceeds_the_plan_share(no_full_plan):
    """Solves of a nanosecond per iteration: a mini plan's price (its arithmetic, and the
    conversion of the rounds it reads) is far above 10 % of the budget so far, so none is
    made, and the audits spend what they did without the switch (the price's measurement
    aside)."""
    C, x = moving_best(2100, 3)
    spent = []
    for mini in (False, True):
        audit.MINI_PLAN = mini
        tuner = run_follow(C, x, "chebcb", 0)
        assert tuner._auditor.mini_plans == 0
        spent.append(len(tuner.audits["arm"]))
    assert spent[1] >= 0.5 * spent[0], spent
