"""The lower ends of the column totals in ``Tuner.regret()`` against exact regrets on small
cost matrices: an arm audited in full takes the larger of its two-sided total's lower end
and that of its capped total (costs cut at 3 × what the round paid), both at one quantile of
the larger of the two deviations in the same bootstrap draws."""
import numpy as np
import pytest

from bandit import estimate
from bandit.estimate import RunData, estimate_regret


def heavy_tail_run(seed, T=3000, q=0.005):
    """Arm 0 is played on every round (probability 1, its total known exactly: the best
    fixed arm); arms 1 and 2 cost 120 and 200 iterations on most rounds and 5,000 and
    8,000 on 3 % of them (a poor arm's rare dear rounds), each audited in full with
    probability ``q`` a round.  Returns the run's data and its cost matrix."""
    rng = np.random.default_rng(seed)
    C = np.empty((T, 3))
    C[:, 0] = 50 + rng.integers(0, 5, T)
    C[:, 1] = np.where(rng.random(T) < 0.03, 5000.0, 120.0)
    C[:, 2] = np.where(rng.random(T) < 0.03, 8000.0, 200.0)
    hit = rng.random((T, 2)) < q
    rounds, arms = np.nonzero(hit)
    arms = arms + 1
    n = rounds.size
    audits = {"round": rounds, "arm": arms, "row": np.zeros(n, bool),
              "value": C[rounds, arms], "iterations": C[rounds, arms].astype(np.int64),
              "converged": np.ones(n, bool), "budget": np.full(n, 10_000),
              "cap": np.full(n, 10_000), "p": np.zeros(n)}
    data = RunData(paid=C[:, 0].copy(), x=rng.random(T), arm=np.zeros(T, np.int64),
                   p=np.ones(T), played=C[:, 0].copy(), epoch_start=np.array([0]),
                   q=np.array([[q, q, q]]), r=np.zeros(1), audits=audits, fail_cost=1e4,
                   n_arms=3, arm_order=np.arange(3), randomised=False,
                   full=np.ones((1, 3), bool), cap=np.ceil(3 * C[:, 0]))
    return data, C


@pytest.fixture
def previous_estimator():
    estimate.CAPPED_LOWER_ENDS = False
    yield
    estimate.CAPPED_LOWER_ENDS = True


def intervals(seeds):
    out = []
    for seed in seeds:
        data, C = heavy_tail_run(seed)
        exact = float(data.paid.sum() - C.sum(axis=0).min())
        bf = estimate_regret(data, seed=seed).best_fixed
        out.append((exact, bf.low, bf.high))
    return np.array(out)


def test_poor_arms_rare_dear_rounds_no_longer_widen_the_interval(previous_estimator):
    """The exact regret is 0 (the played arm is the best fixed arm, its total known).  A
    poor arm seen by 15 audits, 3 % of whose rounds cost 40 times the others, has a
    two-sided total whose lower end falls below the played arm's: the interval's upper end
    was what the run paid.  Its costs capped at 3 × what each round paid (150) bound its
    total from below at about 2.4 × the best one, with little spread: the interval closes
    on the exact regret."""
    seeds = range(8)
    before = intervals(seeds)
    estimate.CAPPED_LOWER_ENDS = True
    after = intervals(seeds)
    paid = before[:, 2].max()
    tol = 1e-9 * paid  # (sums of 3000 costs)
    for exact, low, high in np.concatenate([before, after]):
        assert exact == 0.0 and low - tol <= exact <= high + tol
    # before: most upper ends at (nearly) everything paid; now all within 1 % of it
    assert np.median(before[:, 2]) > 0.5 * paid
    assert np.all(after[:, 2] <= 0.01 * paid)
    assert np.all(after[:, 1] >= before[:, 1])
