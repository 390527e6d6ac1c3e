"""Launched by tests/test_probe12_mpi.py as ``mpiexec -n 2 python tests/mpi_probe12.py OUT``.

A PETSc-backend Tuner over both ranks whose policy (a user's subclass) raises in ``select`` —
which only rank 0 calls, since rank 0 decides — on some rounds: a ``RuntimeError``, an
exception of a class defined inside a function (it cannot be pickled), and a
``KeyboardInterrupt`` (Ctrl-C reaching rank 0 alone); then a context on rank 1 alone whose
conversion raises a ``RuntimeError`` (the input checks had shared only ``ValueError`` and
``TypeError`` between the ranks).  Each rank writes ``OUT/rank<r>.json``
with what every call returned or raised, and its history.  Before the fix rank 0 raised and
rank 1 waited for the decision forever (the launcher's timeout).
"""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import bandit  # noqa: E402
from solvers import gallery  # noqa: E402


def main(folder):
    class BudgetError(Exception):  # local: not picklable
        pass

    failures = {2: RuntimeError("select failed (budget exhausted)"),
                3: BudgetError("no budget left"), 4: KeyboardInterrupt("rank 0 alone")}

    class Flaky(bandit.TsallisINF):
        calls = 0

        def select(self, context=None):
            Flaky.calls += 1
            if Flaky.calls in failures:
                raise failures[Flaky.calls]
            return super().select(context)

    rank = MPI.COMM_WORLD.Get_rank()
    A = gallery.laplacian_2d(6)
    b = np.ones(36)
    tuner = bandit.Tuner(Flaky([1.0, 1.5], seed=rank), solver="ssor_pcg", backend="petsc")
    calls = []
    for _ in range(6):
        try:
            res = tuner.solve(A, b)
            calls.append(["ok", int(res.iterations), float(res.omega)])
        except (Exception, KeyboardInterrupt) as exc:
            calls.append([type(exc).__name__, str(exc)])
    out = {"calls": calls, "arms": tuner.history["arm"].tolist(),
           "iterations": tuner.history["iterations"].tolist(), "t": int(tuner.policy.t)}

    class Unreadable:  # a context whose conversion raises something other than ValueError
        def __float__(self):
            raise RuntimeError("the sensor is offline")

        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("the sensor is offline")

    second = bandit.Tuner(solver="sor", backend="petsc")
    odd = []
    for k in range(4):
        context = Unreadable() if (k == 1 and rank == 1) else float(k)
        try:
            odd.append(["ok", int(second.solve(A, b, context=context).iterations)])
        except Exception as exc:
            odd.append([type(exc).__name__, str(exc)])
    out["odd"] = odd
    out["odd_rounds"] = len(second.history["arm"])
    with open(os.path.join(folder, f"rank{rank}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    signal.alarm(240)  # a rank left waiting ends here rather than at the launcher's timeout
    main(sys.argv[1])
