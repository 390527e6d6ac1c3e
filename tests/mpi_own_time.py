"""Launched by tests/test_mpi_own_time.py as ``mpiexec -n 2 python tests/mpi_own_time.py OUT``.

The Tuner's own time on two ranks: a fixed learner whose update sleeps on rank 0 alone
(:data:`SLEEP`, the Tuner's own work there, not a solve), over tiny systems, for
:data:`ROUNDS` solves.  Each rank writes ``OUT/rank<r>.json``: the history's
``tuner_seconds`` and ``seconds``, ``summary()["tuner"]`` and the TunerCostWarnings it saw.
A rank left waiting stops itself (``signal.alarm``).
"""
import json
import os
import signal
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
from solvers import gallery  # noqa: E402

SLEEP = 3e-3  # rank 0's extra own time per solve
ROUNDS = 60  # past the warning's first check (bandit._tuner_own.WARN_ROUNDS)


class SlowOnRoot(bandit.FixedArm):
    """FixedArm whose update sleeps on rank 0 only (the same state on every rank)."""

    def update(self, *args, **kwargs):
        if PETSc.COMM_WORLD.getRank() == 0:
            time.sleep(SLEEP)
        return super().update(*args, **kwargs)


def main(out):
    rank = PETSc.COMM_WORLD.getRank()
    signal.alarm(150)  # a hang fails the test
    A = gallery.laplacian_2d(4)
    b = np.ones(A.shape[0])
    tuner = bandit.Tuner(SlowOnRoot([1.0, 1.5], arm=0), solver="sor", backend="petsc")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(ROUNDS):
            tuner.solve(A, b)
    h = tuner.history
    report = {
        "rank": rank, "size": PETSc.COMM_WORLD.getSize(),
        "tuner_seconds": h["tuner_seconds"].tolist(), "seconds": h["seconds"].tolist(),
        "summary": tuner.summary()["tuner"],
        "warnings": [[w.category.__name__, str(w.message)] for w in seen
                     if issubclass(w.category, bandit.TunerCostWarning)],
    }
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(report, f, default=repr)


if __name__ == "__main__":
    main(sys.argv[1])
