"""Launched by tests/test_probe7_mpi.py as ``mpiexec -n 2 python tests/mpi_probe7.py OUTDIR``.

Each rank writes ``OUTDIR/rank<r>.json``:

1. a Tuner on a ``Dup`` of COMM_WORLD (a system distributed over both ranks): ``pickle``
   refuses it with a TypeError, ``copy.deepcopy`` copies it on the same communicator, and
   the copy and the original then make the same choices and counts on the next solves;
2. a Tuner on a ``Split`` of COMM_WORLD (one rank each): deep-copied, the copy continues;
3. a failed plain-CG solve distributed over both ranks: its best iterate and
   ``info["best_iteration"]`` (the test compares them with the serial Numba solve);
4. a tuner state that load would refuse (a run continued from a file with 1e308 in the
   model): ``save`` refuses it on every rank and writes nothing.
"""
import copy
import json
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402
from solvers import gallery  # noqa: E402


def run(tuner, systems):
    out = []
    for A, b in systems:
        r = tuner.solve(A, b)
        out.append([int(r.arm), int(r.iterations)])
    return out


def main(out):
    world = MPI.COMM_WORLD
    rank = world.Get_rank()
    report = {"rank": rank}
    rng = np.random.default_rng(5)
    systems = [(gallery.laplacian_2d(10) * (1 + 0.1 * t), rng.standard_normal(100))
               for t in range(8)]

    # 1. a Dup of COMM_WORLD
    dup = world.Dup()
    tuner = bandit.Tuner(solver="sor", backend="petsc", comm=dup, audit_budget=0.0)
    run(tuner, systems[:4])
    try:
        pickle.dumps(tuner)
        report["pickle"] = "pickled"
    except TypeError as exc:
        report["pickle"] = str(exc)
    twin = copy.deepcopy(tuner)
    report["dup_same_comm"] = twin._comm is tuner._comm
    report["dup_original"] = run(tuner, systems[4:])
    report["dup_copy"] = run(twin, systems[4:])

    # 2. a Split: each rank a communicator of its own
    mine = world.Split(rank, 0)
    solo = bandit.Tuner(solver="ssor_pcg", backend="petsc", comm=mine, audit_budget=0.0)
    run(solo, systems[:3])
    solo_twin = copy.deepcopy(solo)
    report["split_original"] = run(solo, systems[3:6])
    report["split_copy"] = run(solo_twin, systems[3:6])

    # 3. a failed CG solve over both ranks
    A = (gallery.laplacian_2d(10) - sp.identity(100)).tocsr()
    b = np.random.default_rng(0).standard_normal(100)
    res = solvers.cg(A, b, maxiter=40, backend="petsc")
    report["cg"] = {"iterations": res.iterations, "reason": res.reason,
                    "best_iteration": res.info.get("best_iteration"),
                    "residual_norm": res.residual_norm, "x": np.asarray(res.x).tolist()}

    # 4. save refuses a state load would refuse, on every rank
    path = os.path.join(out, "run.json")
    t = bandit.Tuner(solver="sor", backend="petsc", audit_budget=0.0)
    run(t, systems[:3])
    t.save(path)
    raw = json.loads(open(path).read())
    theta = raw["policy"]["state"]["theta"]
    theta["__ndarray__"] = np.full(theta["shape"], 1e308).tolist()
    world.Barrier()
    if rank == 0:
        with open(os.path.join(out, "edited.json"), "w") as fh:
            json.dump(raw, fh)
    world.Barrier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow this is about
        t = bandit.Tuner.load(os.path.join(out, "edited.json"))
        run(t, systems[3:6])
    try:
        t.save(os.path.join(out, "continued.json"))
        report["save"] = "saved"
    except (ValueError, OSError) as exc:
        report["save"] = f"{type(exc).__name__}: {exc}"
    world.Barrier()
    report["written"] = os.path.exists(os.path.join(out, "continued.json"))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)
    for t_ in (tuner, twin, solo, solo_twin):
        del t_
    PETSc.COMM_WORLD.Barrier()


if __name__ == "__main__":
    main(sys.argv[1])
