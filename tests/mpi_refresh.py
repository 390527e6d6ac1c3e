"""Launched by tests/test_prepare.py as ``mpiexec -n 2 python tests/mpi_refresh.py OUTDIR``.

A PETSc working copy (``solvers.prepare(A, backend="petsc", like=op, overwrite=True)``) on a Mat
distributed over two ranks, refreshed with replicated scipy matrices of one pattern, directly
and through a Tuner; each rank writes ``OUTDIR/rank<r>.json``.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402


def main(out):
    rank = PETSc.COMM_WORLD.getRank()
    mats = [solvers.gallery.crank_nicolson_2d(16, dt) for dt in (0.01, 0.2, 3.0)]
    b = np.random.default_rng(0).standard_normal(mats[0].shape[0])  # the same on every rank
    op = solvers.prepare(mats[0], backend="petsc", overwrite=True)
    first = op
    direct = []
    for A in mats:
        op = solvers.prepare(A.copy(), backend="petsc", like=op, overwrite=True)
        r = solvers.ssor_pcg(op, b, 1.5, backend="petsc")
        fresh = solvers.ssor_pcg(solvers.prepare(A, backend="petsc"), b, 1.5, backend="petsc")
        direct.append({"same_object": op is first, "iterations": r.iterations,
                       "fresh_iterations": fresh.iterations, "converged": r.converged,
                       "true_residual": float(np.linalg.norm(b - A @ r.x) / np.linalg.norm(b))})
    tuner = bandit.Tuner(bandit.FixedArm([1.5]), solver="ssor_pcg", backend="petsc")
    tuned, ops = [], []
    for A in mats:
        r = tuner.solve(A.copy(), b)
        ops.append(tuner._last_op)
        tuned.append({"iterations": r.iterations, "converged": r.converged,
                      "true_residual": float(np.linalg.norm(b - A @ r.x) / np.linalg.norm(b))})
    report = {"rank": rank, "direct": direct, "tuned": tuned,
              "one_operator": all(o is ops[0] for o in ops), "ksps": len(ops[0].solvers)}
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(sys.argv[1])
