"""Launched by tests/test_small7_petsc_shift.py as ``mpiexec -n 2 python tests/mpi_small7.py OUT``.

IC(0) on a matrix distributed over two ranks, each rank's diagonal block an SPD matrix on
which the unshifted IC(0) breaks down (:func:`test_small7_petsc_shift.two_block_system`):

1. the refusal of an ``ic0`` arm (PETSc has no ICC of a distributed Mat) for the default
   arm, ``breakdown="raise"`` and a fixed ``shift``: the message and the options it names;
2. a solve with exactly the options the message names;
3. a Tuner over both ranks with the block Jacobi arm of ICC with a fixed diagonal shift,
   solving three matrices of one pattern (the values change every step);
4. that Tuner with a tolerance per solve: the same on both ranks, different ones, and one
   refused on rank 1 alone.

Each rank writes ``OUT/rank<r>.json``.
"""
import ast
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402
from bandit.arms import parse_arm  # noqa: E402
from test_small7_petsc_shift import SHIFT, two_block_system  # noqa: E402


def main(out):
    rank = MPI.COMM_WORLD.Get_rank()
    A = two_block_system()
    b = np.arange(1.0, A.shape[0] + 1)
    report = {"rank": rank, "hints": {}, "followed": {}}
    arms = {"default": {"method": "cg", "pc": "ic0"},
            "raise": {"method": "cg", "pc": "ic0", "breakdown": "raise"},
            "shift": {"method": "cg", "pc": "ic0", "shift": SHIFT}}
    for name, arm in arms.items():
        fn, kw = parse_arm(arm, backend="petsc").call()
        try:
            fn(A, b, rtol=1e-10, maxiter=300, **kw)
            report["hints"][name] = None
            continue
        except ValueError as exc:
            msg = str(exc)
        report["hints"][name] = msg
        named = re.search(r"use (\{.*?\}) \(one factorisation", msg)
        if named is None:
            continue
        opts = ast.literal_eval(named.group(1))
        res = solvers.cg(A, b, rtol=1e-10, maxiter=300, backend="petsc", options=opts)
        report["followed"][name] = {"options": opts, "converged": res.converged,
                                    "reason": res.reason, "iterations": res.iterations,
                                    "petsc_reason": res.info["petsc_reason"],
                                    "x": np.asarray(res.x).tolist()}
    op = solvers.prepare(A, backend="petsc")
    report["rows"] = [op.rstart, op.rend]
    arm = {"method": "cg", "pc_type": "bjacobi", "sub_pc_type": "icc",
           "relaxtune_diagonal_shift": SHIFT}
    tuner = bandit.Tuner(bandit.FixedArm([arm]), backend="petsc")
    steps = []
    for c in (1.0, 0.4, 0.7):
        Ac = two_block_system(c)
        res = tuner.solve(Ac, b, rtol=1e-10)
        steps.append({"c": c, "iterations": res.iterations, "converged": res.converged})
    report["steps"] = steps
    report["label"] = tuner.arm_labels[0]
    # a tolerance per solve: the ranks must agree on it, or every rank refuses the call
    calls = []
    for rtol in (1e-3, (1e-3, 1e-4), (1e-5, 1.5), 1e-6):
        mine = rtol if isinstance(rtol, float) else rtol[rank]
        try:
            res = tuner.solve(two_block_system(0.4), b, rtol=mine)
            calls.append(["ok", res.iterations, res.rtol])
        except ValueError as exc:
            calls.append(["ValueError", str(exc)])
    report["calls"] = calls
    report["history_rtol"] = tuner.history["rtol"].tolist()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(sys.argv[1])
