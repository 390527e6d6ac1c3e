"""Launched by tests/test_petsc_mpi_grid_storage.py as
``mpiexec -n 2 python tests/mpi_grid_storage.py OUT``; each rank writes ``OUT/rank<r>.json``.

1. ``Tuner(config_grid(), backend="petsc")`` on two ranks: its IC(0) arm runs block Jacobi
   with ICC(0) per rank (labelled so); the Tuner's solves, and those of a Tuner whose only
   arm is ``{"method": "cg", "pc": "ic0"}``, against scipy's direct solve; the grid's Tuner
   saved as ``OUT/grid_tuner.json`` (read on one process by the test).
2. ``solvers.cg`` with the same matrix stored differently on the two ranks (index types,
   byte order, unsorted indices, dense): accepted, the right answer; a different matrix:
   refused on every rank.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import solvers  # noqa: E402
from solvers import gallery  # noqa: E402


def _error(x, ref):
    return float(np.linalg.norm(np.asarray(x) - ref) / np.linalg.norm(ref))


def _grid(report, out, A, b, ref):
    tuner = bandit.Tuner(bandit.config_grid(), backend="petsc", rtol=1e-10)
    report["grid_labels"] = list(tuner.arm_labels)
    # 14 solves at least, then on until the IC(0) arm has run: when the learner first tries
    # it depends on the ranks' clock (a loaded machine had put it past the 14th); every rank
    # holds the same history, so every rank stops at the same solve
    errors = []
    for k in range(80):
        errors.append(_error(tuner.solve(A, b).x, ref))
        if k >= 13 and any("bjacobi" in label for label in tuner.history["label"]):
            break
    report["grid_errors"] = errors
    report["grid_played"] = sorted(set(tuner.history["label"]))
    tuner.save(os.path.join(out, "grid_tuner.json"))  # read on one process by the test
    one = bandit.Tuner([{"method": "cg", "pc": "ic0"}], backend="petsc", rtol=1e-10)
    r = one.solve(A, b)
    report["ic0_label"] = list(one.arm_labels)
    report["ic0_error"] = _error(r.x, ref)
    report["ic0_pc_type"] = r.info.get("pc_type")


def _storage(report, rank, A, b, ref):
    forms = {
        "int64 indices": sp.csr_matrix((A.data, A.indices.astype(np.int64),
                                        A.indptr.astype(np.int64)), shape=A.shape),
        "big-endian": sp.csr_matrix((A.data.astype(">f8"), A.indices.astype(">i4"),
                                     A.indptr.astype(">i4")), shape=A.shape),
        "dense": A.toarray(),
        "csc": A.tocsc(),
    }
    unsorted = A.copy()
    for i in range(A.shape[0]):  # each row's entries in reverse order
        lo, hi = unsorted.indptr[i], unsorted.indptr[i + 1]
        unsorted.indices[lo:hi] = unsorted.indices[lo:hi][::-1].copy()
        unsorted.data[lo:hi] = unsorted.data[lo:hi][::-1].copy()
    unsorted.has_sorted_indices = False
    forms["unsorted indices"] = unsorted
    out = {}
    for name, form in forms.items():  # rank 0 passes A as it is, rank 1 the other form
        try:
            r = solvers.cg(A if rank == 0 else form, b, backend="petsc", rtol=1e-10,
                           maxiter=2000)
            out[name] = _error(r.x, ref)
        except ValueError as exc:
            out[name] = f"refused: {exc}"
    # b in another byte order: the same vector
    try:
        bb = b if rank == 0 else b.astype(">f8")
        out["b big-endian"] = _error(solvers.cg(A, bb, backend="petsc", rtol=1e-10).x, ref)
    except ValueError as exc:
        out["b big-endian"] = f"refused: {exc}"
    report["storage"] = out
    other = A.copy()
    other.data[0] *= 2.0 if rank == 1 else 1.0  # a genuinely different matrix
    for name, mat in (("values", other), ("values, int64 indices", sp.csr_matrix(
            (other.data, other.indices.astype(np.int64), other.indptr.astype(np.int64)),
            shape=A.shape) if rank == 1 else A)):
        try:
            solvers.cg(mat, b, backend="petsc", rtol=1e-10)
            report.setdefault("different", {})[name] = "accepted"
        except ValueError as exc:
            report.setdefault("different", {})[name] = str(exc)
    # the next solve after a refusal works
    report["after"] = _error(solvers.cg(A, b, backend="petsc", rtol=1e-10).x, ref)


def main(out):
    comm = PETSc.COMM_WORLD
    rank = comm.getRank()
    A = gallery.laplacian_2d(12).tocsr()
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    ref = spla.spsolve(A.tocsc(), b)
    report = {"rank": rank, "size": comm.getSize()}
    for part, fn in (("grid", lambda: _grid(report, out, A, b, ref)),
                     ("storage", lambda: _storage(report, rank, A, b, ref))):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the test names it
            report[f"{part}_failed"] = f"{type(exc).__name__}: {exc}"
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(sys.argv[1])
