"""A run's records for the regret estimator built from a full cost matrix (the tests' exact
regrets): what was paid, each round's played-arm probability, and the audits drawn."""
import numpy as np

from bandit.estimate import RunData


def audited_run(C, x, arm, p, rounds, arms, audit_p, q, *, randomised, epoch_start=(0,)):
    """:class:`~bandit.estimate.RunData` of rounds played with ``arm`` (probabilities ``p``)
    on the cost matrix ``C`` (rounds × arms), audited at ``(rounds, arms)`` with audit
    probabilities ``q`` (a scalar, or one row of arms per epoch starting at
    ``epoch_start``); ``audit_p`` is the policy's probability of each audited pair."""
    T, K = C.shape
    n = rounds.size
    E = len(epoch_start)
    paid = C[np.arange(T), arm]
    audits = {"round": rounds, "arm": arms, "row": np.zeros(n, bool),
              "value": C[rounds, arms], "iterations": C[rounds, arms].astype(np.int64),
              "converged": np.ones(n, bool), "budget": np.full(n, 10 ** 6),
              "cap": np.full(n, 10 ** 6), "p": audit_p}
    return RunData(paid=paid, x=x, arm=arm, p=p, played=paid.copy(),
                   epoch_start=np.asarray(epoch_start), q=np.broadcast_to(
                       np.asarray(q, float), (E, K)).copy(), r=np.zeros(E),
                   audits=audits, fail_cost=1e6, n_arms=K, arm_order=np.arange(K),
                   randomised=randomised, full=np.ones((E, K), bool),
                   complete=np.full(E, 0.25), cap=np.full(T, 1e6))
