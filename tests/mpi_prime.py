"""Launched by tests/test_petsc_mpi_prime.py as ``mpiexec -n 2 python tests/mpi_prime.py OUT``.

Each rank counts the spectral estimates (``solvers.spectral.estimate_spectrum``, ~40
collective matrix-vector products of the distributed matrix) that a Tuner's first solve runs
to prime its policy, per policy, and writes ``OUT/rank<r>.json``.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402
import solvers.petsc  # noqa: E402,F401
import solvers.spectral as spectral  # noqa: E402


def main(out):
    rank = PETSc.COMM_WORLD.getRank()
    calls = []
    real = spectral.estimate_spectrum

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    spectral.estimate_spectrum = counted
    A = solvers.gallery.laplacian_2d(12)
    M = solvers.petsc.to_petsc_mat(A)
    b = np.ones(A.shape[0])
    omegas = [1.0, 1.3, 1.6, 1.8]
    policies = {
        "uniform": lambda: bandit.UniformRandom(omegas, seed=rank),
        "tsallis": lambda: bandit.TsallisINF(omegas, seed=rank),
        "joint_no_prior": lambda: bandit.JointCB(omegas, seed=rank),
        "default_ssor_pcg": lambda: bandit.default_policy("ssor_pcg", omegas, seed=rank),
        "default_sor": lambda: bandit.default_policy("sor", omegas, seed=rank),
    }
    report = {"rank": rank, "size": PETSc.COMM_WORLD.getSize(), "estimates": {},
              "converged": {}, "prior": {}}
    for name, make in policies.items():
        solver = "sor" if name == "default_sor" else "ssor_pcg"
        tuner = bandit.Tuner(make(), solver=solver, backend="petsc")
        calls.clear()
        res = [tuner.solve(M, b) for _ in range(3)]
        report["estimates"][name] = len(calls)
        report["converged"][name] = all(r.converged for r in res)
        curve = getattr(tuner.policy, "prior_curve", None)
        report["prior"][name] = None if curve is None else np.asarray(curve).tolist()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(sys.argv[1])
