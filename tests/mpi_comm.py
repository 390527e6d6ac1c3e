"""Launched by tests/test_petsc_comm.py as ``mpiexec -n 2 python tests/mpi_comm.py OUTDIR``.

One Tuner per rank, each on a system of its own, with ``comm=MPI.COMM_SELF``: each rank writes
``OUTDIR/rank<r>.json`` with its solves (system, arm, iterations) for the test to repeat
serially.  The ranks have different arms, seeds and numbers of solves: any exchange between
them inside the Tuner would mismatch (and hang, caught by the test's timeout).
1. scipy systems of a different size on each rank, converted on COMM_SELF;
2. a rank's own PETSc Mat on COMM_SELF;
3. save and load with the rank's own file;
4. a Mat distributed over both ranks, given to a COMM_SELF Tuner: refused on each rank;
5. a Tuner on COMM_WORLD refused on one rank at construction: refused on every rank.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402
from solvers import gallery, petsc as sp_petsc  # noqa: E402


def system(m, shift, seed):
    """The system the test rebuilds serially: a shifted 2-D Laplacian and a random b."""
    return (gallery.shifted_laplacian_2d(m, shift),
            np.random.default_rng(seed).standard_normal(m * m))


def main(out):
    rank = MPI.COMM_WORLD.Get_rank()
    report = {"rank": rank, "solves": []}
    arms = [[1.0, 1.5, 1.8], [1.2, 1.6, 1.9, 1.3]][rank]  # different arms per rank: allowed
    tuner = bandit.Tuner(bandit.TsallisINF(arms, seed=10 + rank), solver="ssor_pcg",
                         backend="petsc", guard=None, comm=MPI.COMM_SELF)
    m = 10 + 8 * rank  # a different size on each rank: different counts
    for t in range(3 + 2 * rank):  # a different number of solves on each rank
        shift, seed = 0.05 * t, 100 * rank + t
        A, b = system(m, shift, seed)
        res = tuner.solve(A, b)
        report["solves"].append({"m": m, "shift": shift, "seed": seed, "omega": res.omega,
                                 "iterations": int(res.iterations),
                                 "converged": bool(res.converged),
                                 "ranks": res.info["ranks"], "input": "scipy"})
    # a rank's own PETSc Mat on COMM_SELF
    A, b = system(m, 0.3, 100 * rank + 50)
    M = sp_petsc.to_petsc_mat(A, comm=PETSc.COMM_SELF)
    res = tuner.solve(M, b)
    report["solves"].append({"m": m, "shift": 0.3, "seed": 100 * rank + 50,
                             "omega": res.omega, "iterations": int(res.iterations),
                             "converged": bool(res.converged), "ranks": res.info["ranks"],
                             "input": "mat"})
    # each rank saves to its own file and loads it on its own communicator
    path = os.path.join(out, f"tuner{rank}.json")
    tuner.save(path)
    loaded = bandit.Tuner.load(path, comm=MPI.COMM_SELF)
    report["loaded_iterations"] = np.asarray(loaded.history["iterations"]).tolist()
    report["iterations"] = np.asarray(tuner.history["iterations"]).tolist()
    report["next_after_load"] = bool(loaded.solve(*system(m, 0.1, 7)).converged)

    # configuration arms, different on each rank: the constructor's trial solves of the
    # arms run on COMM_SELF too (on COMM_WORLD they compared the ranks' options)
    configs = [[{"method": "cg", "pc": "jacobi"}, {"method": "ssor_pcg", "omega": 1.5}],
               [{"method": "cg", "pc": "ic0"}, {"method": "cg", "pc": "none"},
                {"method": "cg", "pc_type": "gamg"}]][rank]
    ct = bandit.Tuner(bandit.TsallisINF(configs, seed=rank), backend="petsc",
                      comm=MPI.COMM_SELF)
    report["configs"] = {"labels": ct.arm_labels, "converged": [
        bool(ct.solve(*system(m, 0.1 * t, 5 + t)).converged) for t in range(2 + rank)]}

    # a Mat over both ranks is not this rank's own system
    W = sp_petsc.to_petsc_mat(gallery.laplacian_2d(8), comm=PETSc.COMM_WORLD)
    try:
        tuner.solve(W, np.ones(64))
        report["world_mat"] = "solved"
    except ValueError as exc:
        report["world_mat"] = str(exc)
    report["after_world_mat"] = bool(tuner.solve(*system(m, 0.2, 9)).converged)

    # construction refused on one rank only (rtol NaN on rank 1): every rank hears of it
    try:
        bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), backend="petsc",
                     rtol=float("nan") if rank else 1e-8)
        report["one_rank_refused"] = "constructed"
    except ValueError as exc:
        report["one_rank_refused"] = str(exc)
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1])
