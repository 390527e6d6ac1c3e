"""The heat2d study on distributed PETSc objects: same formulas as :class:`Heat2D`.

:class:`Heat2DPetsc` assembles the Crank–Nicolson system of
:class:`experiments.problems.Heat2D` directly as a distributed ``PETSc.Mat``:
every rank builds only its own block of rows from index arithmetic (no rank ever holds the
whole matrix), and each step updates the values of one persistent Mat in place
(``A = I + α L`` with ``α = κ(s) dt / (2 dx²)``), so the KSP behind
``solvers.ssor_pcg(A, b, ω, backend="petsc")`` — and a :class:`bandit.Tuner` with
``backend="petsc"`` — is built once and reused for the whole run.

The heat2d study (:func:`experiments.heat_study.run_heat_study`) uses it for every solve with
``backend="petsc"``, on one rank or under MPI::

    mpiexec -n 2 relaxtune heat2d --backend petsc --nx 100 --steps 500 --t-end 1

:func:`run_guarded` makes an error on any rank end every rank with one report and one exit
status.  Parallel PCSOR is block Jacobi with a local SSOR sweep on each rank, so the iteration
counts (and the best ω) depend on the number of ranks — which is what the tuner learns.
"""
from __future__ import annotations

import sys
import time
import traceback

import numpy as np

__all__ = ["Heat2DPetsc", "local_laplacian_csr", "run_guarded", "GRACE_SECONDS"]


def local_laplacian_csr(m: int, rstart: int, rend: int):
    """Rows ``rstart..rend-1`` of ``grid_laplacian(m)`` as CSR arrays with global columns.

    Natural order ``g = i·m + j`` (x fastest), 4 on the diagonal and −1 for each neighbour,
    columns sorted within a row.  Returns ``(indptr, indices, data, diag_pos)``.

    >>> ip, ix, d, dp = local_laplacian_csr(3, 3, 5)   # rows 3 and 4 of the 9x9 matrix
    >>> ix.tolist(), d.tolist()
    ([0, 3, 4, 6, 1, 3, 4, 5, 7], [-1.0, 4.0, -1.0, -1.0, -1.0, -1.0, 4.0, -1.0, -1.0])
    """
    g = np.arange(rstart, rend)
    i, j = np.divmod(g, m)
    # neighbours in increasing column order: down, left, centre, right, up
    cols = np.stack([g - m, g - 1, g, g + 1, g + m], axis=1)
    valid = np.stack([i > 0, j > 0, np.ones_like(g, bool), j < m - 1, i < m - 1], axis=1)
    vals = np.where(np.arange(5) == 2, 4.0, -1.0) * np.ones((g.size, 1))
    counts = valid.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = cols[valid]
    data = vals[valid]
    diag_pos = np.flatnonzero(indices == np.repeat(g, counts))
    return indptr, indices, data, diag_pos


class Heat2DPetsc:
    """Crank–Nicolson heat equation with ``κ(t)`` on distributed PETSc objects.

    Same parameters and formulas as :class:`experiments.problems.Heat2D`; ``system`` returns a
    ``PETSc.Mat`` (one object for the whole run, values updated per step) and a ``PETSc.Vec``.

    Parameters
    ----------
    nx, steps, t_end
        As in ``Heat2D``.
    comm : PETSc.Comm, optional
        Default ``PETSc.COMM_WORLD``.

    Examples
    --------
    >>> sim = Heat2DPetsc(nx=8, steps=2)
    >>> u = sim.initial()
    >>> A, b, kap = sim.system(0, u)
    >>> A.getSize(), b.getSize(), round(kap, 6)
    ((49, 49), 49, 0.1)
    """

    def __init__(self, nx: int = 50, steps: int = 5000, t_end: float = 5.0, comm=None):
        from petsc4py import PETSc

        from .problems import Heat2D

        self._ref = Heat2D(nx=nx, steps=steps, t_end=t_end)  # formulas and parameters
        self.nx, self.steps, self.t_end = self._ref.nx, self._ref.steps, self._ref.t_end
        self.dt, self.dx, self.m, self.n = self._ref.dt, self._ref.dx, self._ref.m, self._ref.n
        self.comm = PETSc.COMM_WORLD if comm is None else comm
        layout = PETSc.Vec().createMPI((PETSc.DECIDE, self.n), comm=self.comm)
        self.rstart, self.rend = layout.getOwnershipRange()
        layout.destroy()
        nloc = self.rend - self.rstart
        ip, ix, data, self._diag_pos = local_laplacian_csr(self.m, self.rstart, self.rend)
        it = PETSc.IntType
        csr = (ip.astype(it), ix.astype(it), data)
        size = ((nloc, self.n), (nloc, self.n))
        self.L = PETSc.Mat().createAIJ(size, csr=csr, comm=self.comm)
        self.A = PETSc.Mat().createAIJ(size, csr=(csr[0], csr[1], data.copy()), comm=self.comm)
        for M in (self.L, self.A):
            M.setOption(PETSc.Mat.Option.USE_INODES, False)
        self.A.setOption(PETSc.Mat.Option.SYMMETRIC, True)  # structurally and numerically
        self.A.setOption(PETSc.Mat.Option.SYMMETRY_ETERNAL, True)
        g = np.arange(self.rstart, self.rend)
        i, j = np.divmod(g, self.m)
        self.X = (j + 1) * self.dx
        self.Y = (i + 1) * self.dx
        self._Lu = self.L.createVecLeft()

    @property
    def kappa_bounds(self):
        return self._ref.kappa_bounds

    def contexts(self) -> np.ndarray:
        return self._ref.contexts()

    def vec(self, local_values) -> "PETSc.Vec":
        v = self.L.createVecLeft()
        v.array[:] = local_values
        return v

    def initial(self):
        """``u0 = bump(x; (0.5, 0.5), 0.25)`` as a distributed Vec."""
        from .problems import bump

        return self.vec(bump(self.X, self.Y, (0.5, 0.5), 0.25))

    def forcing_local(self, s: float) -> np.ndarray:
        from .problems import bump

        c = (0.5 + np.cos(16 * np.pi * s) / 4, 0.5 + np.sin(16 * np.pi * s) / 4)
        return 32.0 * bump(self.X, self.Y, c, 0.125)

    def system(self, k: int, u):
        """Step ``k`` from state ``u`` (a Vec): returns ``(A, b, κ(s))``; ``A`` is updated in place."""
        from .problems import kappa

        if not 0 <= k < self.steps:
            raise IndexError(f"step {k} outside 0..{self.steps - 1}")
        s = (k + 0.5) * self.dt
        kap = float(kappa(s))
        alpha = kap * self.dt / (2.0 * self.dx**2)
        # A = I + α L, values only (same nonzero pattern, same Mat object, new state)
        self.L.copy(self.A, structure=self.L.Structure.SAME_NONZERO_PATTERN)
        self.A.scale(alpha)
        self.A.shift(1.0)
        # b = u − α L u + dt f(s)
        self.L.mult(u, self._Lu)
        b = u.copy()
        b.axpy(-alpha, self._Lu)
        b.array[:] += self.dt * self.forcing_local(s)
        return self.A, b, kap

    def run(self, solve, u0=None, *, callback=None):
        """``u ← solve(A, b, x0=u, context=κ).x`` for every step; returns the final Vec."""
        from petsc4py import PETSc

        u = self.initial() if u0 is None else u0
        for k in range(self.steps):
            A, b, kap = self.system(k, u)
            out = solve(A, b, x0=u, context=kap)
            new = getattr(out, "x", out)
            b.destroy()
            if not (isinstance(new, PETSc.Vec) and new.getSize() == self.n):
                what = (f"a Vec of size {new.getSize()}" if isinstance(new, PETSc.Vec)
                        else type(new).__name__)
                raise ValueError(f"step {k}: solve returned {what}; expected a PETSc.Vec of "
                                 f"{self.n} entries (or a result with .x, such as a "
                                 "SolveResult, whose b is a Vec)")
            if new is not u and u is not u0:  # a state this loop made; never the caller's u0
                u.destroy()
            u = new
            if callback is not None:
                callback(k, out)
        return u


#: Seconds a rank that failed waits for the other ranks to reach the same point before it
#: aborts the whole job (they may be blocked in a collective operation that needs it).
GRACE_SECONDS = 5.0


def run_guarded(body, *, debug=False, where=None) -> int:
    """Run ``body()`` on every rank; an error on any rank ends every rank, and nothing hangs.

    Returns ``body()``'s exit status when every rank succeeded.  When some rank raised: if
    every rank reaches the end (the error happened on all of them, or after the last
    collective operation), the ranks agree, rank 0 prints one line ``relaxtune: error: ...``
    and every rank returns 2 for bad input (:class:`experiments.cli.UsageError`), else 1.  If
    the other ranks do not arrive within :data:`GRACE_SECONDS` (they are blocked in a
    collective operation the failed rank will never join), the failed rank prints its one line
    itself and aborts the job with ``MPI_Abort``, which ends every rank with a non-zero status
    (``mpiexec`` adds its own notice).  ``debug`` also prints the traceback on the failed rank.
    ``where()``, if given, says on rank 0 where the work done so far is (a results folder);
    it is appended to the report of a failed computation, not to that of bad input.
    On one rank this is a plain call with the same one-line report.
    """
    from petsc4py import PETSc

    from .cli import EXIT_FAILED, EXIT_USAGE, UsageError, describe, print_error

    world = PETSc.COMM_WORLD.tompi4py()
    comm = world.Dup() if world.Get_size() > 1 else None  # errors never mix with the run's messages
    failure = None
    try:
        status = body()
    except Exception as exc:  # noqa: BLE001 - agreed on and reported below
        status, failure = None, exc
        if debug:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    code = EXIT_USAGE if isinstance(failure, UsageError) else EXIT_FAILED

    def report(text, code):
        if code == EXIT_FAILED:
            text += (f"; {where()}" if where is not None else "") + \
                " (rerun with --debug for the traceback)"
        print_error(text, force=True)

    if comm is None:
        if failure is None:
            return status
        report(describe(failure), code)
        return code
    rank = comm.Get_rank()
    req = comm.Ibarrier()
    deadline = time.monotonic() + GRACE_SECONDS
    while not req.Test():
        if failure is not None and time.monotonic() > deadline:
            print_error(f"rank {rank}: {describe(failure)} (the other ranks did not reach the "
                        "error check; aborting the job)", force=True)
            world.Abort(code)
        time.sleep(0.005)
    reports = comm.allgather(None if failure is None else (code, describe(failure)))
    comm.Free()
    failed = [(r, rep) for r, rep in enumerate(reports) if rep is not None]
    if not failed:
        return status
    first, (code, text) = failed[0]
    code = max(rep[0] for _, rep in failed)
    if rank == 0:  # bad input is the user's, whichever rank checked it: no rank named
        whose = len(failed) == len(reports) or code == EXIT_USAGE
        report(("" if whose else f"rank {first}: ") + text, code)
    return code
