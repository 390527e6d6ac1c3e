"""The noise floor of a column total in ``Tuner.regret()`` (:data:`bandit.estimate.NOISE_FLOOR`,
:func:`bandit._estimate_floor._noise_floor`), against exact regrets on small cost matrices:
where a few rare rounds are dear for every arm (a random medium's hardest samples), an arm
seen by a handful of audits misses them, its total comes out low and its draws show no
error; the plays, one a round, show those rounds at the rate they occur."""
import numpy as np
import pytest

from bandit import estimate
from bandit._estimate_floor import _noise_floor
from bandit.estimate import RunData, estimate_regret
from regret_runs import audited_run


def dear_rounds_run(seed, T=3000, K=6, q=0.004, p_play=1.0, tail=0.01, factor=15.0):
    """A policy that plays arm 0 (with probability ``p_play``, the rest spread evenly over
    the other arms), costs that grow threefold along the context with an arm factor (arm 2
    the cheapest, 30 % below arm 0), 5 % log-normal noise, and on one round in a hundred
    (``tail``) every arm costs ``factor`` × more; every arm audited with probability ``q``
    a round (about 12 audits of each).  Returns the run's data and its cost matrix."""
    rng = np.random.default_rng(seed)
    x = rng.random(T)
    arm_factor = np.array([1.0, 1.2, 0.7, 0.73, 0.85, 1.3])[:K]
    dear = np.where(rng.random(T) < tail, factor, 1.0)
    C = np.round(50.0 * (1.0 + 2.0 * x[:, None]) * arm_factor[None] * dear[:, None]
                 * np.exp(0.05 * rng.standard_normal((T, K))))
    P = np.full((T, K), (1.0 - p_play) / (K - 1))
    P[:, 0] = p_play
    arm = (np.array([rng.choice(K, p=P[t]) for t in range(T)]) if p_play < 1
           else np.zeros(T, dtype=int))
    rounds, arms = np.nonzero(rng.random((T, K)) < q)
    return audited_run(C, x, arm, P[np.arange(T), arm], rounds, arms, P[rounds, arms], q,
                       randomised=p_play < 1), C


def intervals(seeds, noise, **kw):
    old = estimate.NOISE_FLOOR
    estimate.NOISE_FLOOR = noise
    try:
        out = []
        for seed in seeds:
            data, C = dear_rounds_run(seed, **kw)
            exact = float(data.paid.sum() - C.sum(axis=0).min())
            bf = estimate_regret(data, seed=seed).best_fixed
            out.append((exact, bf.estimate, bf.low, bf.high))
        return np.array(out)
    finally:
        estimate.NOISE_FLOOR = old


def coverage(r):
    return float(np.mean((r[:, 2] <= r[:, 0]) & (r[:, 0] <= r[:, 3])))


@pytest.mark.parametrize("p_play", [1.0, 0.9])
def test_dear_rounds_the_audits_missed_are_covered(p_play):
    """Deterministic plays (every play observed for sure) and a randomised policy with known
    probabilities: the best arm (2) is seen by its audits alone, which miss the dear rounds
    in most runs (one in a hundred, 1.2 % of them audited), so its total comes out about
    14 % low.  Without the floor the interval missed the exact regret in 11 (deterministic)
    and 16 (randomised) of 40 runs, always at the regret's lower end (the comparator's
    upper end too low); with it, in none."""
    seeds = range(40)
    now = intervals(seeds, True, p_play=p_play)
    before = intervals(seeds, False, p_play=p_play)
    assert coverage(now) >= 0.85
    assert coverage(before) < 0.85
    # the floor only widens: each interval contains the one without it
    assert np.all(now[:, 2] <= before[:, 2] + 1e-6 * np.abs(before[:, 2]) + 1e-9)
    assert np.all(now[:, 3] >= before[:, 3] - 1e-6 * np.abs(before[:, 3]) - 1e-9)


def test_without_dear_rounds_nothing_changes():
    """Homogeneous 5 % noise: the plays' noise at the sampled entries' weights is below the
    other floors, and the intervals are the same with and without it."""
    for p_play in (1.0, 0.9):
        now = intervals(range(6), True, p_play=p_play, tail=0.0)
        before = intervals(range(6), False, p_play=p_play, tail=0.0)
        np.testing.assert_allclose(now, before, rtol=1e-9)


def test_the_lower_end_of_a_total_keeps_its_error():
    """The floor stands for dear rounds the sampled entries missed, which leave a total too
    low: the comparator's lower end — the regret's upper end — is the one without it, so
    it moves only where the floor raised the lowest upper end and let another arm's lower
    end in."""
    now = intervals(range(10), True)
    before = intervals(range(10), False)
    assert np.mean(np.isclose(now[:, 3], before[:, 3], rtol=1e-9)) >= 0.5
    assert np.any(now[:, 2] < before[:, 2] - 1e-6 * np.abs(before[:, 2]))


def stopped_run(T=100):
    """Arm 0 played on every round with one context bin; rounds 0–9 stopped by the guard,
    of which 0 and 1 were completed (observed at a residual 20 × the prediction), the other
    90 plays observed with residual 0; one audit of arm 1 (probability 0.01)."""
    played = np.zeros(T)
    played[:10] = np.nan
    audits = {"round": np.array([0, 1, 50]), "arm": np.array([0, 0, 1]),
              "row": np.zeros(3, bool), "value": np.array([21.0, 21.0, 1.0]),
              "iterations": np.array([21, 21, 1]), "converged": np.ones(3, bool),
              "budget": np.array([3, 3, 10 ** 6]), "cap": np.full(3, 10 ** 6),
              "p": np.array([1.0, 1.0, 0.0])}
    data = RunData(paid=np.ones(T), x=np.zeros(T), arm=np.zeros(T, np.int64), p=np.ones(T),
                   played=played, epoch_start=np.zeros(1, np.int64),
                   q=np.array([[0.01, 0.01]]), r=np.zeros(1), audits=audits, fail_cost=1e6,
                   n_arms=2, complete=np.array([0.25]), cap=np.full(T, 1e6))
    t = np.r_[np.arange(10, T), 0, 1, 50]
    k = np.r_[np.zeros(T - 10 + 2, np.int64), 1]
    d = np.r_[np.zeros(T - 10), 20.0, 20.0, 0.0]
    pi = np.r_[np.ones(T - 10), 0.2575, 0.2575, 0.01]
    return data, t, k, d, np.ones(t.size), pi


def test_stopped_plays_count_at_their_chance_of_being_observed():
    """A stopped play is observed only when completed (``c`` = 0.25) or drawn by its own
    column audit (``q`` = 0.01): each observed one stands for 1/0.2575 of the stopped plays,
    and the bin's plays are all 100 of them.  The noise is then
    ``ρ² = 2 · 400 / 0.2575 / 100`` (a count of the observed plays alone, 92, and no
    weights would give 800/92: about half the floor), and arm 1's floor
    ``√((1 − 0.01)/0.01² · ρ²)``; arm 0's two completed plays are its sampled entries."""
    data, t, k, d, m_obs, pi = stopped_run()
    rho2 = 2 * 400 / (1.0 - 0.75 * 0.99) / 100
    sd = _noise_floor(data, t, k, d, m_obs, pi, 2)
    # arm 0: its two completed plays are its sampled entries (the others observed for sure)
    assert sd[0] == pytest.approx(np.sqrt(2 * (1 - 0.2575) / 0.2575 ** 2 * rho2), rel=1e-12)
    assert sd[1] == pytest.approx(np.sqrt(0.99 / 0.01 ** 2 * rho2), rel=1e-12)
