"""For ``tests/test_petsc_row_scaled_refused.py``: on two ranks, the row-scaled Neumann
Laplacian of ``test_row_scaled_inconsistent`` on the PETSc backend — the floor of
``null_floor`` for a distributed Vec, then a Tuner's refusal of the inconsistent right-hand
side and a solve of the consistent one.  Each rank writes ``OUT/rank<r>.json``."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import bandit  # noqa: E402
import solvers.petsc as P  # noqa: E402
from solvers.spectral import null_floor  # noqa: E402
from test_row_scaled_inconsistent import row_scaled  # noqa: E402


def main(folder):
    A, d = row_scaled()
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    op = P.prepare(A)
    vec = op.vector(b, "b")
    out = {"floor": list(null_floor(op, vec)), "floor_numpy_b": list(null_floor(op, b))}
    vec.destroy()
    t = bandit.Tuner(solver="sor", backend="petsc", maxiter=3000)
    try:
        t.solve(A, b)
        out["refused"] = None
    except ValueError as exc:
        out["refused"] = str(exc)
    c = d * (b / d - np.mean(b / d))
    r = t.solve(A, c)
    out["consistent"] = [bool(r.converged), float(np.linalg.norm(c - A @ r.x))]
    out["rounds"] = len(t.history["arm"])
    with open(os.path.join(folder, f"rank{MPI.COMM_WORLD.Get_rank()}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])
