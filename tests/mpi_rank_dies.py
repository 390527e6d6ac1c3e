"""Launched by tests/test_mpi_rank_dies.py as ``mpiexec -n 2 python tests/mpi_rank_dies.py
OUT SCENARIO ...``.

A failure on ONE rank that the exchanges of a round cannot meet on their own:

* in the middle of a collective PETSc call, or between two of them, where the other rank
  is left inside the call (it cannot be made to return): the failing rank must end the job
  with ``MPI_Abort`` and one line naming itself and the error, after the grace
  (``solvers._mpi_exchange.GRACE_SECONDS``, 2 s here), rather than leave both waiting:

  - ``shell_mult``: ``solvers.cg`` on a shell (Python) Mat whose ``mult`` raises
    ``MemoryError`` on rank 1 alone, inside KSPSolve;
  - ``tuner_sor_test``: a Tuner's third round, whose Richardson convergence test (Python,
    inside KSPSolve) raises ``MemoryError`` on rank 1 alone;
  - ``tuner_between``: a Tuner's third round, ``MemoryError`` on rank 1 in the solve between
    two collective calls (before the true residual's norm);

* where the other rank reaches an exchange: every rank raises, the Tuner the same on both,
  and the ranks then solve on together (each rank writes ``OUT/<scenario>.rank<r>.json``):

  - ``every_rank_shell``: the shell Mat's ``mult`` raising on every rank (its own class, not
    PETSc's ``error code 101``);
  - ``sigint_estimate``: Ctrl-C on rank 1 during the spectral estimate of the first solve's
    prior (``Tuner(solver="sor")``'s default learner);
  - ``save_rank1``: ``MemoryError`` on rank 1 in ``Tuner.save``'s checks (rank 0 had written
    the file and returned);
  - ``sigint_sor_every`` / ``sigint_sor_one``: Ctrl-C on both ranks / on rank 1 inside a long
    Richardson + SOR solve (its Python convergence test): the sweeps stop within one, on
    every rank (they had run on to the solve's end, the Ctrl-C held);
  - ``tuner_sigint_sor_every``: the same on both ranks in a Tuner's third round (the two
    finished rounds kept on both).

Rank 0 prints ``RETURNED <scenario>`` if a call it should not return from returned.
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
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import bandit._tuner_persist as persist  # noqa: E402
import solvers  # noqa: E402
import solvers._mpi_exchange as exchange_part  # noqa: E402
import solvers._petsc_ksp as ksp_part  # noqa: E402
import solvers.petsc  # noqa: E402

RANK = PETSc.COMM_WORLD.getRank()
ABORTING = ["shell_mult", "tuner_sor_test", "tuner_between"]
TOGETHER = ["every_rank_shell", "sigint_estimate", "save_rank1", "sigint_sor_every",
            "sigint_sor_one", "tuner_sigint_sor_every"]
GRACE = 2.0
BEFORE = 2  # a Tuner's rounds before the one that fails


class Shell:
    """A shell Mat's context: ``M``'s product, raising ``MemoryError`` at the third product
    on the ranks in ``failing``."""

    def __init__(self, M, failing):
        self.M, self.failing, self.calls = M, failing, 0

    def norm(self, mat, kind):
        return self.M.norm(kind)

    def mult(self, mat, x, y):
        self.calls += 1
        if RANK in self.failing and self.calls == 3:
            raise MemoryError(f"mult ran out of memory on rank {RANK}")
        self.M.mult(x, y)


def shell(M, failing):
    S = PETSc.Mat().createPython(M.getSizes(), Shell(M, failing), comm=M.getComm())
    S.setUp()
    S.setOption(PETSc.Mat.Option.SYMMETRIC, True)
    return S


def digest(policy):
    """Each attribute's digest (a pickle of the whole ``vars`` differs between a policy and
    its unpickled copy by the sharing of objects alone)."""
    return {k: hashlib.sha256(pickle.dumps(v, protocol=4)).hexdigest()
            for k, v in sorted(vars(policy).items())}


def _each_test_call(before):
    """Make every Richardson convergence test call ``before(n)`` first (``n``: its call count
    in that solve); returns what puts the real test back."""
    real = ksp_part._make_test

    def make(state):
        test = real(state)
        n = [0]

        def converged(ksp, its, rnorm):
            n[0] += 1
            before(n[0])
            return test(ksp, its, rnorm)

        return converged

    ksp_part._make_test = make
    return lambda: setattr(ksp_part, "_make_test", real)


def failing_test():
    """Rank 1's Richardson convergence test raises ``MemoryError`` at its third call."""
    def before(n):
        if RANK == 1 and n == 3:
            raise MemoryError("the convergence test ran out of memory on rank 1")

    _each_test_call(before)


def failing_residual():
    """Rank 1 raises ``MemoryError`` before the solve's true-residual norm (collective)."""
    real = solvers.petsc.PetscOperator.residual_norm

    def residual_norm(self, b, x):
        if RANK == 1:
            raise MemoryError("out of memory between two collective calls on rank 1")
        return real(self, b, x)

    solvers.petsc.PetscOperator.residual_norm = residual_norm


def interrupted_test(ranks, calls):
    """The Richardson convergence test receives Ctrl-C at its third call on ``ranks``;
    ``calls`` counts the calls made after it."""
    def before(n):
        if n == 3 and RANK in ranks:
            os.kill(os.getpid(), signal.SIGINT)
            calls.append(0)
        elif calls:
            calls[0] += 1

    return _each_test_call(before)


def aborting(scenario, A, M, rhs):
    if scenario == "shell_mult":
        solvers.cg(shell(M, {1}), rhs[0], backend="petsc")
    else:
        tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), solver="sor",
                             backend="petsc")
        for i in range(BEFORE):
            tuner.solve(M, rhs[i])
        if scenario == "tuner_sor_test":
            failing_test()
            solvers.petsc.clear_cache()  # (a new KSP: its test is the failing one)
            M = solvers.petsc.to_petsc_mat(A)
        else:
            failing_residual()
        tuner.solve(M, rhs[BEFORE])
    print(f"RETURNED {scenario} on rank {RANK}", flush=True)


def together(scenario, out, A, M, rhs):
    report = {"rank": RANK}
    tuner = None
    try:
        if scenario == "every_rank_shell":
            solvers.cg(shell(M, {0, 1}), rhs[0], backend="petsc")
        elif scenario == "sigint_estimate":
            import solvers._spectral_floor as floor

            real = floor.petsc_in_range

            def in_range(A, scale):  # inside the estimate, between its collective calls
                if RANK == 1:
                    os.kill(os.getpid(), signal.SIGINT)
                return real(A, scale)

            floor.petsc_in_range = in_range
            tuner = bandit.Tuner(solver="sor", backend="petsc")  # the theory prior
            try:
                tuner.solve(M, rhs[0])
            finally:
                floor.petsc_in_range = real
        elif scenario == "save_rank1":
            tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), solver="sor",
                                 backend="petsc")
            for i in range(BEFORE):
                tuner.solve(M, rhs[i])
            real = persist.check_path

            def check_path(path):
                if RANK == 1:
                    raise MemoryError("out of memory in the save's checks on rank 1")
                return real(path)

            persist.check_path = check_path
            try:
                tuner.save(os.path.join(out, "saved.json"))
            finally:
                persist.check_path = real
        elif scenario.startswith(("sigint_sor", "tuner_sigint_sor")):
            calls = []
            ranks = {1} if scenario.endswith("_one") else {0, 1}
            big = solvers.gallery.laplacian_2d(40)  # (hundreds of sweeps to rtol 1e-10)
            if scenario.startswith("tuner"):
                tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), solver="sor",
                                     backend="petsc", rtol=1e-10)
                for i in range(BEFORE):
                    tuner.solve(big, np.ones(big.shape[0]) * (i + 1))
            undo = interrupted_test(ranks, calls)
            try:
                solvers.petsc.clear_cache()
                if tuner is None:
                    solvers.sor(big, np.ones(big.shape[0]), 1.5, rtol=1e-10,
                                backend="petsc")
                else:  # (another pattern: a new KSP, whose test is the wrapped one)
                    big = solvers.gallery.laplacian_2d(41)
                    tuner.solve(big, np.ones(big.shape[0]))
            finally:
                undo()
                report["calls_after"] = calls[0] if calls else None
        report["raised"] = None
    except BaseException as exc:  # noqa: BLE001 - what each rank raised is the result
        report["raised"] = [type(exc).__name__, str(exc)]
    report["saved"] = os.path.exists(os.path.join(out, "saved.json"))
    # the ranks still work together
    res = solvers.cg(M, rhs[1], backend="petsc")
    report["after_iterations"] = res.iterations
    if tuner is not None:
        report["rounds"] = len(tuner.history["arm"])
        report["policy"] = digest(tuner.policy)
        for i in range(2):
            tuner.solve(M, rhs[BEFORE + 1 + i])
        report["after_arms"] = tuner.history["arm"].tolist()
        report["after_policy"] = digest(tuner.policy)
    with open(os.path.join(out, f"{scenario}.rank{RANK}.json"), "w") as f:
        json.dump(report, f)


def main(out, scenarios):
    faulthandler.dump_traceback_later(60, exit=True)  # (a rank left waiting: ends)
    warnings.simplefilter("ignore")
    exchange_part.GRACE_SECONDS = GRACE
    A = solvers.gallery.laplacian_2d(8)
    M = solvers.petsc.to_petsc_mat(A)
    rng = np.random.default_rng(0)
    rhs = [rng.standard_normal(A.shape[0]) for _ in range(BEFORE + 3)]
    for scenario in scenarios:
        if scenario in ABORTING:
            aborting(scenario, A, M, rhs)
        else:
            together(scenario, out, A, M, rhs)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
