"""Launched by tests/test_probe10_mpi.py as ``mpiexec -n 2 python tests/mpi_probe10.py OUT``.

Each rank writes ``OUT/rank<r>.json``: a PETSc-backend Tuner over both ranks on the 20 × 20
Neumann Laplacian — the first arm (the theory prior of the gap above the null vector, the
estimate collective) and the iterations of consistent solves, then the refusal of an
inconsistent right-hand side (its message, and the history's length after it).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import bandit  # noqa: E402
from test_probe10_singular import consistent, neumann_2d  # noqa: E402


def main(folder):
    out = {}
    A = neumann_2d(20)
    t = bandit.Tuner(solver="sor", backend="petsc")
    res = [t.solve(A, b) for b in consistent(400, 3)]
    out["solves"] = [[float(r.omega), int(r.iterations), bool(r.converged)] for r in res]
    b = np.random.default_rng(0).standard_normal(400)
    try:
        t.solve(A, b)
        out["inconsistent"] = None
    except ValueError as exc:
        out["inconsistent"] = str(exc)
    out["rounds"] = len(t.history["arm"])
    with open(os.path.join(folder, f"rank{MPI.COMM_WORLD.Get_rank()}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])
