"""Launched by tests/test_mpi_one_rank_refuses.py as ``mpiexec -n 2 python
tests/mpi_one_rank_refuses.py OUT [SCENARIO ...]``.

Each scenario makes the PETSc solvers (or a :class:`bandit.Tuner` on them) meet, on ONE
rank only, input that rank refuses, a preconditioner set-up that rank refuses, or a Ctrl-C
(a real SIGINT, sent to that rank's own process) next to a collective PETSc call:

* ``vec_layout``: ``solvers.cg`` with a ``PETSc.Vec`` ``b`` whose local size is not ``A``'s
  rows on rank 1 (a Vec of the whole length on ``COMM_SELF`` there);
* ``vec_nan``: a distributed ``b`` with a NaN among rank 1's entries;
* ``block_setup``: CG with block Jacobi + ICC(0) on a matrix whose block on rank 1 misses a
  diagonal entry (PETSc refuses that block's factorisation, on rank 1 alone);
* ``sigint_sor_test``: Ctrl-C reaching rank 1 inside the Python convergence test of a
  Richardson + SOR KSPSolve;
* ``sigint_before_ksp``: Ctrl-C reaching rank 1 just before a CG KSPSolve;
* ``sigint_convert``: Ctrl-C reaching rank 1 as scipy input is converted to a distributed Mat;
* ``tuner_vec_layout``: ``vec_layout`` given to a Tuner;
* ``tuner_block_setup``: a Tuner of the ``ic0`` arm (block Jacobi + ICC(0) on two ranks) on
  the matrix of ``block_setup``;
* ``tuner_told_in_prepare``: a Tuner's input check raising on rank 1 alone just before the
  solvers' comparison of the ranks' inputs (which rank 0 has entered: a new sparsity
  pattern is prepared);
* ``tuner_sigint_solve``: Ctrl-C reaching rank 1 just before a Tuner's CG KSPSolve.

Each rank writes ``OUT/<scenario>.rank<r>.json``: what it raised (class and message), the
iterations of a direct solve that returned, a Tuner's rounds and policy digest, then the
same after solving together again (a direct solve, or two Tuner rounds), so a scenario that
left the ranks out of step fails there.  A rank left waiting stops itself
(``faulthandler``, re-armed for each scenario), so a hang fails the test instead of stalling
it.
"""
import faulthandler
import hashlib
import json
import os
import pickle
import signal
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402
import solvers._petsc_ksp as ksp_part  # noqa: E402
import solvers.petsc  # noqa: E402

RANK = PETSc.COMM_WORLD.getRank()
SCENARIOS = ["vec_layout", "vec_nan", "block_setup", "sigint_sor_test", "sigint_before_ksp",
             "sigint_convert", "tuner_vec_layout", "tuner_block_setup",
             "tuner_told_in_prepare", "tuner_sigint_solve"]
#: seconds a rank may take over one scenario before it stops itself (a hang)
DEADLINE = 20
BEFORE = 2  # a Tuner's rounds before the one that fails


class Injected(Exception):
    """A failure of one rank's own (a class of the user's: not a built-in one)."""


def ctrl_c():
    """A real Ctrl-C reaching this rank alone: SIGINT to its own process."""
    os.kill(os.getpid(), signal.SIGINT)


def digest(policy):
    return hashlib.sha256(pickle.dumps(vars(policy), protocol=4)).hexdigest()


def system():
    A = solvers.gallery.laplacian_2d(8)
    rng = np.random.default_rng(0)
    return A, [rng.standard_normal(A.shape[0]) for _ in range(BEFORE + 3)]


def missing_diagonal(A):
    """``A`` without its diagonal entry in row 40 (rank 1's rows: 32-63), still symmetric."""
    A = sp.csr_array(A).tolil()
    A[40, 40] = 0.0  # (lil drops the entry)
    return sp.csr_array(A)


def rank1_b(M, b):
    """``b`` as a Vec of ``M``'s layout on rank 0, of the whole length on COMM_SELF on rank 1
    (its global size right, its local size not).  (Every rank makes the distributed one:
    PETSc objects are made collectively — one made on one rank alone shifts the message
    tags of that rank's later collective calls, and they hang.)"""
    v = M.createVecLeft()
    lo, hi = v.getOwnershipRange()
    v.setArray(b[lo:hi])
    if RANK == 1:
        v = PETSc.Vec().createSeq(M.getSize()[0], comm=PETSc.COMM_SELF)
        v.setArray(b)
    return v


def patched(obj, name, before):
    """``obj.name`` calling ``before()`` first, on rank 1 and once; returns the undo."""
    real = getattr(obj, name)
    armed = [RANK == 1]

    def call(*args, **kwargs):
        if armed[0]:
            armed[0] = False
            before()
        return real(*args, **kwargs)

    setattr(obj, name, call)
    return lambda: setattr(obj, name, real)


def sor_test_interrupted():
    """Rank 1's Richardson convergence test receives Ctrl-C at its third call."""
    real = ksp_part._make_test

    def make(state):
        test = real(state)
        calls = [0]

        def converged(ksp, its, rnorm):
            calls[0] += 1
            if RANK == 1 and calls[0] == 3:
                ctrl_c()
            return test(ksp, its, rnorm)

        return converged

    ksp_part._make_test = make
    return lambda: setattr(ksp_part, "_make_test", real)


def direct(scenario, A, M, rhs):
    b = rhs[0]
    undo = lambda: None  # noqa: E731
    if scenario == "vec_layout":
        call = lambda: solvers.cg(M, rank1_b(M, b), backend="petsc")  # noqa: E731
    elif scenario == "vec_nan":
        v = M.createVecLeft()
        lo, hi = v.getOwnershipRange()
        v.setArray(b[lo:hi])
        if RANK == 1:
            v.setValue(lo + 3, np.nan)
        v.assemble()
        call = lambda: solvers.cg(M, v, backend="petsc")  # noqa: E731
    elif scenario == "block_setup":
        Z = missing_diagonal(A)
        call = lambda: solvers.cg(Z, b, backend="petsc", options={  # noqa: E731
            "pc_type": "bjacobi", "sub_pc_type": "icc"})
    elif scenario == "sigint_sor_test":
        undo = sor_test_interrupted()
        # (a fresh operator: its KSP is made, and its test wrapped, in this solve)
        call = lambda: solvers.sor(A, b, 1.5, backend="petsc")  # noqa: E731
    elif scenario == "sigint_before_ksp":
        undo = patched(ksp_part.PetscSolver, "run", ctrl_c)
        call = lambda: solvers.cg(M, b, backend="petsc")  # noqa: E731
    elif scenario == "sigint_convert":
        undo = patched(solvers.petsc, "to_petsc_mat", ctrl_c)
        call = lambda: solvers.cg(A, b, backend="petsc")  # noqa: E731
    report = {}
    try:
        res = call()
        report.update(raised=None, iterations=res.iterations, converged=res.converged)
    except BaseException as exc:  # noqa: BLE001 - what each rank raised is the result
        report["raised"] = [type(exc).__name__, str(exc)]
    finally:
        undo()
    # the ranks still work together
    res = solvers.cg(M, rhs[1], backend="petsc")
    report["after"] = [res.iterations, bool(res.converged)]
    return report


def tuned(scenario, A, M, rhs):
    ic0 = scenario == "tuner_block_setup"
    if ic0:
        tuner = bandit.Tuner(bandit.TsallisINF([{"method": "cg", "pc": "ic0"}], seed=RANK),
                             backend="petsc", guard=None)
    else:
        tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.3, 1.6, 1.9], seed=5 + RANK),
                             solver="ssor_pcg", backend="petsc", guard=None)
    for i in range(BEFORE):
        tuner.solve(A, rhs[i])
    undo = lambda: None  # noqa: E731
    system_, b = A, rhs[BEFORE]
    if scenario == "tuner_vec_layout":
        system_, b = M, rank1_b(M, b)
    elif ic0:
        system_ = missing_diagonal(A)
    elif scenario == "tuner_told_in_prepare":
        # a new sparsity pattern: every rank prepares it (and compares it) anew
        system_ = sp.csr_array(A + sp.eye(A.shape[0], k=8) + sp.eye(A.shape[0], k=-8))

        def refuse():
            raise Injected("an input check failed on rank 1 alone")

        undo = patched(solvers, "prepare", refuse)
    elif scenario == "tuner_sigint_solve":
        undo = patched(ksp_part.PetscSolver, "run", ctrl_c)
    report = {}
    try:
        tuner.solve(system_, b)
        report["raised"] = None
    except BaseException as exc:  # noqa: BLE001 - what each rank raised is the result
        report["raised"] = [type(exc).__name__, str(exc)]
    finally:
        undo()
    report["rounds"] = len(tuner.history["arm"])
    report["told"] = int(tuner.policy.t)
    report["policy"] = digest(tuner.policy)
    for i in range(BEFORE + 1, BEFORE + 3):  # the ranks still work together
        tuner.solve(A, rhs[i])
    report["after_arms"] = tuner.history["arm"].tolist()
    report["after_iterations"] = tuner.history["iterations"].tolist()
    report["after_policy"] = digest(tuner.policy)
    return report


def main(out, scenarios):
    warnings.simplefilter("ignore")
    A, rhs = system()
    M = solvers.petsc.to_petsc_mat(A)
    for scenario in scenarios:
        # a rank left waiting prints where it waits, then ends
        faulthandler.dump_traceback_later(DEADLINE, exit=True)
        run = tuned if scenario.startswith("tuner_") else direct
        report = {"scenario": scenario, "rank": RANK, **run(scenario, A, M, rhs)}
        faulthandler.cancel_dump_traceback_later()
        with open(os.path.join(out, f"{scenario}.rank{RANK}.json"), "w") as f:
            json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or SCENARIOS)
