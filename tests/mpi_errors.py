"""Launched by tests/test_bad_input_files_cli.py as ``mpiexec -n 2 python tests/mpi_errors.py MODE OUT``.

Runs ``relaxtune heat2d --backend petsc --out OUT`` (``experiments.cli.main``) with an error
injected into the third time step of the simulation, on rank 1 only (``MODE=rank1``: rank 0
is then blocked in a collective operation) or on every rank (``MODE=all``), or into every
learner run on every rank (``MODE=late``: the cost matrix and the baselines have finished and
been saved by then).  Exits with ``main``'s status.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from petsc4py import PETSc  # noqa: E402

import experiments.heat2d_petsc as heat2d_petsc  # noqa: E402
import experiments.heat_study as heat_study  # noqa: E402
from experiments.cli import main  # noqa: E402


def inject(mode):
    rank = PETSc.COMM_WORLD.getRank()
    heat2d_petsc.GRACE_SECONDS = 1.0  # the test need not wait the default grace period
    if mode == "late":
        def learner(params):
            raise RuntimeError(f"injected failure on rank {rank}")

        heat_study._TASKS["learner"] = learner
        return
    real = heat2d_petsc.Heat2DPetsc.system

    def system(self, k, u):
        if k == 2 and (mode == "all" or rank == 1):
            raise RuntimeError(f"injected failure on rank {rank}")
        return real(self, k, u)

    heat2d_petsc.Heat2DPetsc.system = system


if __name__ == "__main__":
    inject(sys.argv[1])
    sys.exit(main(["heat2d", "--backend", "petsc", "--nx", "8", "--steps", "6", "--t-end",
                   "0.006", "--methods", "tsallis_inf", "--trials", "1", "--quiet",
                   "--no-plots", "--out", sys.argv[2]]))
