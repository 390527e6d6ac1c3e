"""Launched by tests/test_petsc_scale_a.py as ``mpiexec -n 2 python tests/mpi_scale_a.py OUT``.

On two ranks: each PETSc solver on the 10 × 10 Laplacian times 3.9e307 (a distributed Mat,
solved on its copy scaled down by 2**424) and on that Mat scaled by hand; then a matrix
whose diagonal entry in the last row (the second rank's) the copy would lose, refused on
every rank.  Each rank writes ``OUT/rank<r>.json`` (the whole ``x`` on every rank).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from mpi4py import MPI  # noqa: E402

import solvers  # noqa: E402
from solvers import gallery, petsc as P  # noqa: E402


def _result(r):
    return {"converged": bool(r.converged), "iterations": int(r.iterations),
            "x": [float(v) for v in r.x], "residual_norm": float(r.residual_norm),
            "b_norm": float(r.b_norm)}


def main(folder):
    L = gallery.laplacian_2d(10).tocsr()
    A, b = L * 3.9e307, np.ones(100)
    mat, hand = P.to_petsc_mat(A), P.to_petsc_mat(A / 2.0 ** 424)
    solves = {
        "cg": lambda M, v: solvers.cg(M, v, backend="petsc"),
        "ssor_pcg": lambda M, v: solvers.ssor_pcg(M, v, 1.5, backend="petsc"),
        "ssor_pcg_paper": lambda M, v: solvers.ssor_pcg(M, v, 1.5, order="paper",
                                                        backend="petsc"),
        "sor": lambda M, v: solvers.sor(M, v, 1.5, backend="petsc"),
    }
    out = {"size": MPI.COMM_WORLD.Get_size(), "solves": {}}
    for name, solve in solves.items():
        out["solves"][name] = [_result(solve(mat, b)), _result(solve(hand, b / 2.0 ** 424))]
    d = np.ones(100)
    d[0], d[99] = 4e307, 1e-300
    lost = P.to_petsc_mat(sp.diags(d).tocsr())
    try:
        solvers.cg(lost, np.ones(100), backend="petsc")
        out["lost"] = None
    except ValueError as exc:
        out["lost"] = str(exc)
    with open(os.path.join(folder, f"rank{MPI.COMM_WORLD.Get_rank()}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])
