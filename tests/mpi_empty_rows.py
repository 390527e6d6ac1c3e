"""Launched by tests/test_cg_empty_rows.py as ``mpiexec -n 2 python tests/mpi_empty_rows.py
OUT``: plain CG on the PETSc backend over two ranks on the model Laplacian with an isolated
node (rows 5 and 12 emptied: one on each rank), ``b = 1`` (inconsistent) and ``b = 0`` on
those rows (consistent).  Each rank writes ``OUT/rank<r>.json``."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import solvers  # noqa: E402
from test_cg_empty_rows import isolated_node  # noqa: E402


def main(out):
    rank = MPI.COMM_WORLD.rank
    G = isolated_node(rows=(5, 12))
    b = np.ones(16)
    consistent = np.where(np.isin(np.arange(16), (5, 12)), 0.0, b)
    report = {"rank": rank}
    for name, rhs in (("inconsistent", b), ("consistent", consistent)):
        res = solvers.cg(G, rhs, backend="petsc")
        report[name] = {"converged": bool(res.converged), "reason": res.reason,
                        "cause": res.info.get("cause"), "x": np.asarray(res.x).tolist()}
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(sys.argv[1])
