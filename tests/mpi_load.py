"""Launched by tests/test_petsc_mpi_load.py as ``mpiexec -n 2 python tests/mpi_load.py OUT``.

A PETSc Tuner on two ranks is saved (by rank 0), then loaded with ``comm=`` in four ways:
every rank the good file; rank 1 a missing path; rank 1 a corrupt file; rank 1 another valid
tuner file.  Each rank writes ``OUT/rank<r>.json`` with what each load raised (or the arms
the loaded tuner went on to choose).  A rank left waiting for another is killed by its own
watchdog, so a hang is a failed run, never a stuck test.
"""
import faulthandler
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import bandit  # noqa: E402
from solvers import gallery  # noqa: E402


def main(out):
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    A = gallery.laplacian_2d(10)
    b = np.ones(A.shape[0])

    def make(seed):
        return bandit.Tuner(bandit.TsallisINF([1.0, 1.3, 1.6, 1.8], seed=seed),
                            solver="ssor_pcg", backend="petsc", comm=comm)

    tuner = make(5)
    for _ in range(4):
        tuner.solve(A, b)
    good = os.path.join(out, "tuner.json")
    tuner.save(good)
    other = make(6)
    other.solve(A, b)
    other_path = os.path.join(out, "other.json")
    other.save(other_path)
    corrupt = os.path.join(out, f"corrupt{rank}.json")
    with open(corrupt, "w") as fh:
        fh.write('{"format": "relaxtune-tuner", "version": 3, "conf')
    paths = {"good": good, "missing": os.path.join(out, "no-such-file.json"),
             "corrupt": corrupt, "other": other_path}
    report = {"rank": rank, "loads": {}}
    for case, bad in paths.items():
        path = good if rank == 0 else bad
        try:
            loaded = bandit.Tuner.load(path, comm=comm)
        except Exception as exc:  # noqa: BLE001 - recorded for the test
            report["loads"][case] = {"error": type(exc).__name__, "message": str(exc)}
        else:
            rounds = len(loaded.history["arm"])
            more = [loaded.solve(A, b).omega for _ in range(3)]
            report["loads"][case] = {"rounds": rounds, "more": more}
    # the original tuner continues the same way as the loaded one
    report["original_more"] = [tuner.solve(A, b).omega for _ in range(3)]
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(90, exit=True)  # (not on import: pytest imports it)
    main(sys.argv[1])
