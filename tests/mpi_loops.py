"""Launched by tests/test_petsc_loops.py as ``mpiexec -n 2 python tests/mpi_loops.py OUTDIR``.

A user's own loop on two ranks, with the mistakes a new user makes; each rank writes
``OUTDIR/rank<r>.json`` with the outcome of every case (the error message, or the result):
1. Tuners constructed with a different solver, or different arms, on the two ranks: a
   ``ValueError`` on every rank at construction (the ranks' first solves run different
   collective checks of ``A``: they had waited for each other forever).
2. A Tuner given a Mat on ``COMM_SELF`` (a separate system per rank): refused on every rank
   (rank 1 had been told rank 0's iteration count for its own system).
3. A Mat the user destroyed: a ``ValueError`` (it had been a segmentation fault), also when
   only one rank destroyed it; the next solve works.
4. ``order="paper"`` on a Mat that takes new entries on one rank only: the same count as a
   fresh copy of it (it had been PETSc's error 75 from ``MatCopy``).
5. A scipy matrix on rank 0 and a PETSc Mat on rank 1: a ``ValueError`` on every rank (the
   Tuner had hung: one rank compares and converts its matrix, the other checks its Mat).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402


def diffusion(comm, n, coef):
    """Tridiagonal SPD matrix I + coef·L (each rank assembles its own rows)."""
    A = PETSc.Mat().createAIJ([n, n], nnz=3, comm=comm)
    rs, re = A.getOwnershipRange()
    for i in range(rs, re):
        cols = [j for j in (i - 1, i, i + 1) if 0 <= j < n]
        A.setValues([i], cols, [1 + 2 * coef if j == i else -coef for j in cols])
    A.assemble()
    return A


def outcome(fn):
    try:
        r = fn()
        return {"ok": True, "iterations": int(r.iterations), "converged": bool(r.converged)}
    except ValueError as exc:
        return {"ok": False, "error": str(exc)}


def main(out):
    comm = PETSc.COMM_WORLD
    rank = comm.getRank()
    report = {}
    A = diffusion(comm, 60, 30.0)
    b = A.createVecLeft()
    b.set(1.0)

    # 1. different Tuner settings per rank
    report["solver"] = outcome(lambda: bandit.Tuner(
        bandit.TsallisINF([1.0, 1.5], seed=0), solver="sor" if rank else "ssor_pcg",
        backend="petsc"))
    report["arms"] = outcome(lambda: bandit.Tuner(
        bandit.TsallisINF([1.0, 1.5 + 0.1 * rank], seed=0), solver="ssor_pcg",
        backend="petsc"))
    report["rtol"] = outcome(lambda: bandit.Tuner(
        bandit.TsallisINF([1.0, 1.5], seed=0), solver="ssor_pcg", backend="petsc",
        rtol=1e-8 * (1 + rank)))
    tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=rank), solver="ssor_pcg",
                         backend="petsc")  # seeds may differ: rank 0 decides
    report["same"] = outcome(lambda: tuner.solve(A, b))

    # 2. a separate system per rank on COMM_SELF: rank 0's counts would be every rank's
    own = diffusion(PETSc.COMM_SELF, 60, 30.0 * (1 + 40 * rank))
    b_own = own.createVecLeft()
    b_own.set(1.0)
    report["self_direct"] = outcome(lambda: solvers.ssor_pcg(own, b_own, 1.5, backend="petsc"))
    report["self_tuner"] = outcome(lambda: tuner.solve(own, b_own))
    report["after_self"] = outcome(lambda: tuner.solve(A, b))

    # 3. destroyed Mat: on every rank, then on rank 1 only
    B = diffusion(comm, 60, 5.0)
    report["before_destroy"] = outcome(lambda: tuner.solve(B, b))
    B.destroy()
    report["destroyed_tuner"] = outcome(lambda: tuner.solve(B, b))
    report["destroyed_direct"] = outcome(lambda: solvers.ssor_pcg(B, b, 1.5, backend="petsc"))
    C = diffusion(comm, 60, 5.0)
    if rank == 1:
        C.destroy()
    report["destroyed_one_rank_direct"] = outcome(
        lambda: solvers.ssor_pcg(C, b, 1.5, backend="petsc"))
    report["destroyed_one_rank_tuner"] = outcome(lambda: tuner.solve(C, b))
    v = A.createVecLeft()
    v.set(1.0)
    v.destroy()
    report["destroyed_b"] = outcome(lambda: tuner.solve(A, v))
    report["after_destroy"] = outcome(lambda: tuner.solve(A, b))
    report["history"] = np.asarray(tuner.history["iterations"]).tolist()

    # 4. order="paper" on a Mat that takes new entries in rank 1's rows only: both ranks
    # rebuild the renumbered copy (one rank alone would leave the other in MatCopy)
    G = diffusion(comm, 60, 5.0)
    G.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    paper = [outcome(lambda: solvers.ssor_pcg(G, b, 1.4, order="paper", backend="petsc"))]
    rs, re = G.getOwnershipRange()
    if rank == 1:
        for i in range(rs, re - 2):  # weak couplings two rows away, kept symmetric
            for r_, c_, v_ in ((i, i + 2, -0.5), (i + 2, i, -0.5), (i, i, 0.5), (i + 2, i + 2, 0.5)):
                G.setValue(r_, c_, v_, addv=PETSc.InsertMode.ADD_VALUES)
    G.assemble()
    fresh = G.duplicate(copy=True)
    paper.append(outcome(lambda: solvers.ssor_pcg(G, b, 1.4, order="paper", backend="petsc")))
    paper.append(outcome(lambda: solvers.ssor_pcg(fresh, b, 1.4, order="paper",
                                                  backend="petsc")))
    report["paper_new_entries"] = paper

    # 5. a scipy matrix on rank 0, the same matrix as a PETSc Mat on rank 1 (the scipy one is
    # compared across the ranks and converted collectively, the Mat is not): refused
    whole = sp.csr_array(np.diag(np.full(60, 1 + 2 * 30.0)) + np.diag(np.full(59, -30.0), 1)
                         + np.diag(np.full(59, -30.0), -1))
    mine = whole if rank == 0 else A
    ones = np.ones(60)
    report["mixed_direct"] = outcome(lambda: solvers.ssor_pcg(mine, ones, 1.5, backend="petsc"))
    report["mixed_tuner"] = outcome(lambda: tuner.solve(mine, ones))
    report["after_mixed"] = outcome(lambda: tuner.solve(whole, ones))
    mine = ones if rank == 0 else b  # numpy b on rank 0, a PETSc Vec on rank 1
    report["mixed_b"] = outcome(lambda: tuner.solve(A, mine))

    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1])
