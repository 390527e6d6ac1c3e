"""Audits of a configuration learner whose arms build set-ups (AMG): an audit is priced at
the set-up it builds, an attempt the guard did not start is not completed, and the
estimator's probabilities say so (against an exact column total on a small cost matrix)."""
import warnings

import numpy as np
import pytest

import bandit
from bandit.audit import Auditor
from bandit.estimate import RunData, inclusion_probabilities
from solvers import gallery


class _Arms:
    """What the schedule reads of an arm set: which arms keep a set-up and what the next
    one would cost (arm 2: 400 × a round's cost)."""

    has_setups = True

    def __init__(self, setups):
        self._setups = setups
        self._pcs = [None if s == 0 else object() for s in setups]

    def setup_estimate(self, k, op, priced=False):
        return self._setups[k]


class _Policy:
    n_arms, randomised = 3, False


class _Tuner:
    cost = "timed_work"
    policy = _Policy()
    _paid = [1e-4]
    _paid_sum = 1e-4
    _last_op = object()
    _log = []
    _work = [1e-4, 5]

    def __init__(self, setups):
        self._arms = _Arms(setups)


def test_first_audit_probabilities_price_a_set_up_at_what_it_costs():
    """Round 0: an arm whose audit builds a set-up of 400 solves is audited 401 × less often
    than one that costs a solve (on main every arm had the same probability, and one AMG
    audit spent the budget of thousands of rounds)."""
    aud = Auditor(3, 0.05, seed=0)
    aud._rescale(_Tuner([0.0, 0.0, 0.04]), 0)
    q = aud.q[-1]
    assert q[0] == pytest.approx(q[1])
    assert q[0] / q[2] == pytest.approx(401.0)
    # a row audit runs every arm: priced at the set-up too
    assert aud.r[-1] == pytest.approx(0.05 * 0.1 / 2 * 2 / (2 + 400))


def test_an_iteration_counted_run_is_priced_as_before():
    """No set-up costs iterations: the probabilities of every other tuner stay as they were."""
    t = _Tuner([0.0, 0.0, 0.04])
    t.cost = "iterations"
    aud = Auditor(3, 0.05, seed=0)
    aud._rescale(t, 0)
    assert np.allclose(aud.q[-1], 0.05 * 0.9 / 3)


class _Config:
    def __init__(self, pc, key):
        self.pc, self.setup_key = pc, key


class _Op:
    n, nnz = 900, 4380


class _PricedArms(_Arms):
    """A set whose AMG arms (2 and 3) have not measured a set-up: the guard's bound is its
    price over the factor (2 ms: a price of 8 ms); arm 4's kind (IC(0)) was measured at
    0.5 ms.  ``measured``: the AMG kind measured too (at the bound's 2 ms)."""

    cost = "timed_work"
    price_setups = True

    def __init__(self, measured=False):
        super().__init__([0.0, 0.0, 0.002, 0.002, 0.0005])
        self.configs = [_Config(None, None), _Config(None, None), _Config("amg", "amg/a"),
                        _Config("amg", "amg/a"), _Config("ic0", "ic0")]
        self._setup = {"ic0": 0.0005}
        if measured:
            self._setup["amg/a"] = 0.002
        self._clock_price = {("amg/a", _Op.n, _Op.nnz): 0.002}


class _PricedTuner(_Tuner):
    _last_op = _Op()

    def __init__(self, measured=False):
        self._arms = _PricedArms(measured)
        self.policy = type("P", (), {"n_arms": 5, "randomised": False})()


def test_an_unmeasured_set_up_is_priced_at_its_price_not_the_guards_bound():
    """An AMG set-up not measured yet is priced at :meth:`AMG.setup_price` (the guard's bound
    times :data:`solvers.amg.AMG_PRICE_FACTOR`: 2 ms × 4 = 8 ms), a measured one at its
    measurement, an arm without a set-up at 0; the first probabilities follow by hand:
    ``q_k ∝ solve / (solve + setup_k)``, a solve 0.1 ms.  (Priced at the bound, a first AMG
    audit on a 2-D heat matrix of 2,401 unknowns was priced at 2.3 ms and cost 40–70 ms.)"""
    from bandit._audit_price import setup_prices

    assert setup_prices(_PricedTuner()) == pytest.approx([0.0, 0.0, 0.008, 0.008, 0.0005])
    assert setup_prices(_PricedTuner(measured=True)) == pytest.approx(
        [0.0, 0.0, 0.002, 0.002, 0.0005])
    aud = Auditor(5, 0.05, seed=0)
    aud._rescale(_PricedTuner(), 0)
    q = aud.q[-1]
    assert q[0] == pytest.approx(0.05 * 0.9 / 5)
    assert q[0] / q[2] == pytest.approx((1e-4 + 0.008) / 1e-4)  # 81 (21 at the bound)
    assert q[0] / q[4] == pytest.approx((1e-4 + 0.0005) / 1e-4)
    assert aud.r[-1] == pytest.approx(0.05 * 0.1 / 4 * 4e-4 / (4e-4 + 0.0165))


def test_an_unmeasured_set_up_counted_in_work_keeps_its_counted_price():
    """In work (matrix-pass equivalents) a set-up's counted work is what it is charged: the
    price on the clock does not apply."""
    from bandit._audit_price import setup_prices

    t = _PricedTuner()
    t.cost = t._arms.cost = "work"
    assert setup_prices(t) == pytest.approx([0.0, 0.0, 0.002, 0.002, 0.0005])


def test_a_refused_attempt_is_observed_by_column_audits_alone():
    """Exact column totals of a small cost matrix against the Horvitz–Thompson totals of the
    observed entries, averaged over many audit draws: arm 2 is tried every tenth round and
    the guard does not start it (budget 0), so its entry there is seen only when a column
    audit draws it (π = q).  With the completion probability counted in as well, its dear
    rounds were weighted 1/0.29 instead of 1/0.05: the total came out half the exact one."""
    rng = np.random.default_rng(1)
    T, K, q = 200, 3, 0.05
    C = np.column_stack([np.full(T, 1.0), np.full(T, 1.2), np.full(T, 2.0)])
    arm = np.zeros(T, np.int64)
    tried = np.arange(T) % 10 == 3
    arm[tried] = 2
    C[tried, 2] = 30.0  # the rounds it is tried on are the dear ones (a cold set-up)
    played = np.where(tried, np.nan, C[np.arange(T), arm])  # refused: no observation
    exact = C.sum(axis=0)
    totals = []
    for _ in range(400):
        hit = rng.random((T, K)) < q
        tt, kk = np.nonzero(hit)
        chosen = arm[tt] == kk
        audits = {"round": tt, "arm": kk, "row": np.zeros(tt.size, bool),
                  "value": C[tt, kk], "iterations": np.full(tt.size, 5),
                  "converged": np.ones(tt.size, bool),
                  # the attempt's cap: 0 where the guard did not start the chosen arm
                  "budget": np.where(chosen & tried[tt], 0, 10_000),
                  "cap": np.full(tt.size, 10_000), "p": chosen.astype(float)}
        d = RunData(paid=np.where(tried, 1.0, C[np.arange(T), arm]), x=np.zeros(T), arm=arm,
                    p=np.ones(T), played=played, epoch_start=np.zeros(1, np.int64),
                    q=np.full((1, K), q), r=np.zeros(1), audits=audits, fail_cost=1e3,
                    n_arms=K, randomised=False, complete=np.array([0.25]))
        t, k, v, pi = inclusion_probabilities(d)
        totals.append(np.bincount(k, v / pi, K))
    mean = np.mean(totals, axis=0)
    se = np.std(totals, axis=0) / np.sqrt(len(totals))
    # arm 0 is played on every round it is chosen (π = 1 there); arms 1 and 2 by audits
    assert abs(mean[2] - exact[2]) < 4 * se[2], (mean, exact, se)
    assert abs(mean[1] - exact[1]) < 4 * se[1]


def _amg_tuner(seed):
    arms = [{"method": "ssor_pcg", "omega": w} for w in (1.2, 1.5, 1.8)] + [
        {"method": "cg", "pc": "amg"}]
    return bandit.Tuner(bandit.default_policy(None, arms, context_bounds=(0.0, 1.0), seed=0),
                        rtol=1e-8, audit_budget=0.05, audit_seed=seed)


def test_configuration_learner_audits_stay_near_their_budget():
    """A configuration learner over SSOR-PCG ω and AMG-CG on small 2-D systems, whose AMG
    set-up costs hundreds of SSOR-PCG solves: no attempt the guard refused is completed (a
    completion builds the set-up the guard refused), and the audits spend about their
    budget."""
    A0 = gallery.laplacian_2d(30).tocsr()
    n = A0.shape[0]
    rng = np.random.default_rng(0)
    b = rng.standard_normal(n)
    used = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(4):
            tuner = _amg_tuner(seed)
            for t in range(300):
                s = 0.5 + 0.5 * np.sin(t / 30.0)
                A = (A0 + (0.01 + s) * bandit_identity(n)).tocsr()
                tuner.solve(A, b, context=s)
            rep = tuner.regret()
            used.append(rep.cost["budget_used"])
            h = tuner.history
            rec = tuner.audits
            refused = h["censored"] & (h["budget"] == 0)
            done = [r for r, k in zip(rec["round"], rec["arm"])
                    if refused[r] and h["arm"][r] == k]
            assert not done, f"audit seed {seed}: refused attempts completed at rounds {done}"
    assert max(used) <= 0.12, used


def bandit_identity(n):
    import scipy.sparse as sp

    return sp.identity(n, format="csr")
