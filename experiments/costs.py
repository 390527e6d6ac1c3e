"""Full cost matrices ``C[t, k]`` = iterations of instance ``t`` with grid arm ``k``.

The offset-Laplacian costs are deterministic, so one trial computes ``C`` once and every
learner is then replayed over it with :func:`bandit.simulate`; this also gives exact regret.
For heat2d the next system depends on the previous solution, but every method solves to
``rtol = 1e-8``, so (the paper's protocol) the costs are taken along one *reference
trajectory*: each step is solved with every grid ω warm-started from the reference state,
and the reference advances with the cheapest arm's solution.

Each matrix is prepared once (:func:`solvers.prepare`) and reused for all ω of that step.

The heat2d instance-optimal baseline also has a continuous version: per step, a golden-section
search over ω (:func:`golden_section`, :func:`search_omega`) in the bracket around the grid's
best arms, from the same reference state.
"""
from __future__ import annotations

import time

import numpy as np

from .problems import Heat2D, OffsetLaplacianSequence

__all__ = ["OMEGA_GRID", "GOLDEN_EVALUATIONS", "warm_up", "young_omegas", "offset_costs",
           "golden_section", "search_omega", "heat_costs", "study_clock"]

#: The paper's arm grid: 20 points ``linspace(1.0, 1.95, 20)``.
OMEGA_GRID = np.round(np.linspace(1.0, 1.95, 20), 10)
#: Solves per step of the golden-section search (on top of the grid's).  8 matched a
#: 200-point ω grid on every sampled step of nx = 25 and 50 (docs/studies/heat2d.md).
GOLDEN_EVALUATIONS = 8


def warm_up(backend: str = "numba") -> None:
    """Run every solver once on a tiny system so no timed solve includes JIT compilation.

    Numba compiles (or loads from its cache) on the first call of each kernel; that first
    call can take longer than thousands of real solves.
    """
    import solvers

    from .problems import grid_laplacian

    A = grid_laplacian(3)
    b = np.ones(9)
    for x0 in (None, np.zeros(9)):  # a warm start (heat2d's solves) has its own kernels
        for fn in (solvers.sor, solvers.ssor_pcg):
            fn(A, b, 1.2, x0=x0, backend=backend)
        solvers.cg(A, b, x0=x0, backend=backend)
    if backend == "numba":
        # the refresh of a step's values into the previous step's operator has kernels of
        # its own: loaded here, not inside the second step's timed update (0.8 s, charged to
        # every method of that step, had been a fifth of a whole nx = 25 run's seconds)
        op = refreshed(A, None)
        _prepare_fully(op, "ssor_pcg")
        _prepare_fully(refreshed(A.copy(), op), "ssor_pcg")


def study_clock(backend: str = "numba"):
    """The clock of the heat study's seconds.

    CPU seconds of the process on the Numba backend: a solve there runs in the calling process
    alone, so other jobs on a shared machine, which take the core away for a while, do not
    inflate it (on an idle machine it equals the wall-clock); wall seconds on the PETSc
    backend, where ranks wait for one another and the wait is part of the solve.

    Examples
    --------
    >>> import time
    >>> study_clock() is time.process_time, study_clock("petsc") is time.perf_counter
    (True, True)
    """
    return time.perf_counter if backend == "petsc" else time.process_time


def refreshed(A, op, backend: str = "numba"):
    """``A`` prepared for the solvers, its values refreshed in place into ``op`` (the previous
    step's operator, or ``None`` on the first step): what a loop running one method pays for
    each step's matrix, as the Tuner refreshes its own."""
    import solvers

    return solvers.prepare(A, backend=backend, like=op, overwrite=op is not None)


def _timed(clock, solve, *args, **kwargs):
    """``solve(*args, **kwargs)`` with its result's ``seconds`` read on ``clock`` (the whole
    call)."""
    t0 = clock()
    r = solve(*args, **kwargs)
    r.seconds = clock() - t0
    return r


def _prepare_fully(op, solver: str) -> None:
    """The solvers' one-off checks and the operator's lazily built parts ``solver`` uses
    (the split triangles, ``1/a_ii``, SOR's mirrored values, the kernels' work vectors), so
    that no timed solve builds them."""
    import solvers
    from solvers._kernels import CG_WORK_VECTORS
    from solvers._kernels_ssor import WORK_VECTORS

    op.require(solver)
    if isinstance(op, solvers.CSROperator):
        op.split_triangles()
        op.inv_diagonal  # noqa: B018 - a cached property, built here
        op.workspace(max(WORK_VECTORS, CG_WORK_VECTORS))
        if solver == "sor":
            op.sor_mirror()


def young_omegas(seq: OffsetLaplacianSequence) -> np.ndarray:
    """Young's ω* of every instance ``A + c_t I`` of an offset sequence.

    The off-diagonal part of ``A + c I`` does not depend on ``c`` and the base Laplacian has a
    constant diagonal ``d``, so ``ρ_J(A + cI) = ρ_J(A)·d/(d + c)`` exactly: one eigenvalue
    problem per sequence instead of one per instance (checked against
    :func:`solvers.optimal_omega` in the tests).

    Examples
    --------
    >>> seq = OffsetLaplacianSequence(2, seed=0)
    >>> w = young_omegas(seq)
    >>> w.shape, bool(np.all((w > 1) & (w < 2)))
    ((2,), True)
    """
    from solvers.spectral import jacobi_spectral_radius, young_omega

    d = seq.A.diagonal()
    if not np.allclose(d, d[0]):
        raise ValueError("young_omegas needs a base matrix with a constant diagonal")
    rho = jacobi_spectral_radius(seq.A) * d[0] / (d[0] + seq.offsets)
    return np.array([young_omega(r) for r in rho])


def offset_costs(seq: OffsetLaplacianSequence, omegas=OMEGA_GRID, *, rtol=1e-8,
                 maxiter=10_000, backend="numba", young=True, progress=False) -> dict:
    """SOR iterations of every instance of ``seq`` for every ω of the grid (x0 = 0).

    Parameters
    ----------
    seq : OffsetLaplacianSequence
    omegas : array_like
        The arms.
    rtol, maxiter, backend
        Passed to :func:`solvers.sor`.
    young : bool
        Also solve each instance with its Young ω* (the instance-optimal baseline).
    progress : bool or str
        tqdm bar (a string is its description).

    Returns
    -------
    dict
        ``C`` (T, K) int iterations, ``S`` (T, K) solve seconds, ``converged`` (T, K) bool,
        and with ``young``: ``young_omega``, ``young_iterations``, ``young_seconds`` (T,).

    Examples
    --------
    >>> out = offset_costs(OffsetLaplacianSequence(3, seed=1), [1.0, 1.5])
    >>> out["C"].shape, bool(np.all(out["C"][:, 1] < out["C"][:, 0]))
    ((3, 2), True)
    """
    import solvers
    from tqdm.auto import tqdm

    warm_up(backend)
    omegas = np.asarray(omegas, dtype=float)
    T, K = len(seq), omegas.size
    C = np.zeros((T, K), dtype=np.int64)
    S = np.zeros((T, K))
    ok = np.zeros((T, K), dtype=bool)
    wy = young_omegas(seq) if young else None
    Y = np.zeros(T, dtype=np.int64)
    YS = np.zeros(T)
    desc = progress if isinstance(progress, str) else "SOR cost matrix"
    for t in tqdm(range(T), desc=desc, disable=not progress, leave=False):
        A, b, _ = seq[t]
        op = solvers.prepare(A)  # once per instance, reused for all K + 1 solves
        _prepare_fully(op, "sor")  # outside every timed solve (else the first ω pays it)
        for k, w in enumerate(omegas):
            r = solvers.sor(op, b, w, rtol=rtol, maxiter=maxiter, backend=backend)
            C[t, k], S[t, k], ok[t, k] = r.iterations, r.seconds, r.converged
        if young:
            r = solvers.sor(op, b, wy[t], rtol=rtol, maxiter=maxiter, backend=backend)
            Y[t], YS[t] = r.iterations, r.seconds
    out = {"C": C, "S": S, "converged": ok, "omegas": omegas}
    if young:
        out.update(young_omega=wy, young_iterations=Y, young_seconds=YS)
    return out


def golden_section(f, a: float, b: float, evaluations: int):
    """Minimise ``f`` on ``[a, b]`` by golden-section search with a fixed number of calls.

    Keeps the bracket ``[a, b]`` with two interior points at the golden ratio; each further
    call of ``f`` shrinks it by ``0.618``.  Ties keep the left part.  Only the interior is
    evaluated (the caller knows the end points).

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` (any ordered value).
    a, b : float
        Bracket, ``a < b``.
    evaluations : int
        Calls of ``f`` (at least 2).

    Returns
    -------
    (float, float)
        The best ``x`` evaluated and ``f(x)``.

    Examples
    --------
    >>> x, fx = golden_section(lambda x: (x - 0.3) ** 2, 0.0, 1.0, 20)
    >>> round(x, 3), bool(fx < 1e-6)
    (0.3, True)
    """
    if evaluations < 2:
        raise ValueError(f"golden_section needs at least 2 evaluations, got {evaluations}")
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    best = min((fc, c), (fd, d))
    for _ in range(evaluations - 2):
        if fc <= fd:  # the minimum is in [a, d]
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
            best = min(best, (fc, c))
        else:  # in [c, b]
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
            best = min(best, (fd, d))
    return float(best[1]), best[0]


def search_omega(solve, omegas, grid_iterations, *, rtol=1e-8, evaluations=GOLDEN_EVALUATIONS):
    """Per-instance best ω: golden section around the grid's best arms, never worse than them.

    The iteration count is an integer step function of ω, so on its own it gives a
    golden-section (or Brent) search nothing to follow inside a plateau.  The search minimises
    ``iterations + ‖r‖ / tol`` instead (``‖r‖ <= tol`` on convergence, so the final residual
    only orders ω of equal iterations: the lower it is, the nearer ω is to saving an iteration)
    over the bracket from the grid point below the first to the one above the last grid
    minimiser.

    Parameters
    ----------
    solve : callable
        ``solve(omega) -> SolveResult`` (from one fixed state: same ``A``, ``b``, ``x0``).
    omegas : ndarray, shape (K,)
        The grid, increasing.
    grid_iterations : ndarray, shape (K,)
        Iterations of each grid ω (converged solves; ``maxiter`` for the others).
    rtol : float
        The solves' relative tolerance (scales the residual tie-break).
    evaluations : int
        Solves of the search.

    Returns
    -------
    dict
        ``omega`` and ``iterations`` of the best solve: the first grid minimiser unless the
        search found strictly fewer iterations; ``result`` the search's SolveResult then (None
        when a grid ω is best); ``search_seconds`` (all search solves) and ``bracket``.

    Examples
    --------
    >>> import solvers
    >>> from experiments.problems import grid_laplacian
    >>> A, b = grid_laplacian(8), np.ones(64)
    >>> grid = np.linspace(1.0, 1.9, 4)
    >>> its = np.array([solvers.ssor_pcg(A, b, w).iterations for w in grid])
    >>> out = search_omega(lambda w: solvers.ssor_pcg(A, b, w), grid, its)
    >>> bool(out["iterations"] <= its.min())
    True
    """
    omegas = np.asarray(omegas, dtype=float)
    its = np.asarray(grid_iterations)
    tied = np.flatnonzero(its == its.min())
    lo = omegas[max(tied[0] - 1, 0)]
    hi = omegas[min(tied[-1] + 1, omegas.size - 1)]
    k = int(tied[0])
    # candidates ordered by (iterations, residual ratio); the grid's best keeps a ratio of
    # -1 so only strictly fewer iterations replace it
    best = {"key": (int(its[k]), -1.0), "omega": float(omegas[k]), "result": None}
    spent = [0.0]

    def cost(w):
        r = solve(float(w))
        spent[0] += r.seconds
        tol = rtol * r.b_norm
        ratio = min(r.residual_norm / tol, 1.0) if tol > 0 else 0.0
        if r.converged and (r.iterations, ratio) < best["key"]:
            best.update(key=(r.iterations, ratio), omega=float(w), result=r)
        return r.iterations + ratio if r.converged else np.inf

    if hi > lo:
        golden_section(cost, lo, hi, evaluations)
    return {"omega": best["omega"], "iterations": best["key"][0], "result": best["result"],
            "search_seconds": spent[0], "bracket": (float(lo), float(hi))}


def heat_costs(sim: Heat2D, omegas=OMEGA_GRID, *, rtol=1e-8, maxiter=10_000,
               backend="numba", cg=True, direct=False, golden=False,
               golden_evaluations=GOLDEN_EVALUATIONS, progress=False) -> dict:
    """SSOR-PCG iterations and seconds of every step for every ω along a reference trajectory.

    Step ``t`` is solved from the reference state ``u_t`` with each ω; ``u_{t+1}`` is the
    solution of the cheapest ω (ties: smallest ω).  Because every solve meets ``rtol``, any
    method's trajectory agrees with the reference to that tolerance.

    Parameters
    ----------
    sim : Heat2D
    omegas : array_like
        The arms.
    rtol, maxiter, backend
        Passed to :func:`solvers.ssor_pcg` / :func:`solvers.cg`.
    cg : bool
        Also time plain (unpreconditioned) CG on each reference system.
    direct : bool
        Also time a sparse direct solve (``scipy.sparse.linalg.splu`` factor + solve).
    golden : bool
        Also search each step's best ω in ``[min ω, max ω]`` (:func:`search_omega`:
        ``golden_evaluations`` more solves per step, from the same reference state).  The
        reference trajectory is unchanged (it still follows the grid's cheapest arm).
    progress : bool or str
        tqdm bar.

    Returns
    -------
    dict
        ``C`` (T, K) iterations, ``S`` (T, K) seconds on :func:`study_clock` (solve plus the
        step's operator update, ``setup_seconds``: the first step's preparation, then a
        refresh of the values in place), ``converged`` (T, K), ``contexts``
        (T,) = κ(s_t); with ``cg``: ``cg_iterations``, ``cg_seconds``; with ``direct``:
        ``direct_seconds``; with ``golden``: ``golden_omega``, ``golden_iterations``,
        ``golden_seconds`` (the best ω's solve plus set-up, as ``S``) and
        ``golden_search_seconds`` (all the search's solves); ``u_final`` the last reference
        state.

    Examples
    --------
    >>> out = heat_costs(Heat2D(nx=6, steps=3, t_end=0.75), [1.0, 1.5])
    >>> out["C"].shape, out["cg_iterations"].shape
    ((3, 2), (3,))
    """
    import scipy.sparse.linalg as spla
    from tqdm.auto import tqdm

    import solvers

    warm_up(backend)
    omegas = np.asarray(omegas, dtype=float)
    T, K = sim.steps, omegas.size
    C = np.zeros((T, K), dtype=np.int64)
    S = np.zeros((T, K))
    ok = np.zeros((T, K), dtype=bool)
    ctx = np.zeros(T)
    cg_it = np.zeros(T, dtype=np.int64)
    cg_s = np.zeros(T)
    dir_s = np.zeros(T)
    setup = np.zeros(T)
    g_w, g_it, g_s, g_search = np.zeros(T), np.zeros(T, dtype=np.int64), np.zeros(T), np.zeros(T)
    u = sim.initial()
    op = None
    clock = study_clock(backend)
    desc = progress if isinstance(progress, str) else f"heat2d nx={sim.nx} cost matrix"
    for t in tqdm(range(T), desc=desc, disable=not progress, leave=False):
        A, b, ctx[t] = sim.system(t, u)
        # the operator's update is paid once per step by any method: time it apart and charge
        # it to every method (else the first ω pays for all), at the price a loop running that
        # method pays — the first step's preparation, then the new values refreshed in place
        # on the unchanged pattern, as the Tuner does (a fresh preparation every step would
        # charge the fixed ω's several times the Tuner's price for the same matrix)
        t0 = clock()
        # (a simulation on PETSc objects, experiments.heat2d_petsc, hands over its own Mat)
        op = refreshed(A, op, "petsc" if hasattr(A, "getValuesCSR") else "numba")
        _prepare_fully(op, "ssor_pcg")
        setup[t] = clock() - t0
        best, best_x = None, None
        for k, w in enumerate(omegas):
            r = _timed(clock, solvers.ssor_pcg, op, b, w, x0=u, rtol=rtol, maxiter=maxiter,
                       backend=backend)
            C[t, k], S[t, k], ok[t, k] = r.iterations, r.seconds + setup[t], r.converged
            if r.converged and (best is None or r.iterations < best):
                best, best_x = r.iterations, r.x
        if golden and best_x is not None:
            g = search_omega(
                lambda w: _timed(clock, solvers.ssor_pcg, op, b, w, x0=u, rtol=rtol,
                                 maxiter=maxiter, backend=backend),
                omegas, C[t], rtol=rtol, evaluations=golden_evaluations)
            g_w[t], g_it[t], g_search[t] = g["omega"], g["iterations"], g["search_seconds"]
            if g["result"] is None:  # a grid ω is best: the first grid minimiser
                g_s[t] = S[t, int(np.argmin(C[t]))]
            else:
                g_s[t] = g["result"].seconds + setup[t]
        if cg:
            r = _timed(clock, solvers.cg, op, b, x0=u, rtol=rtol, maxiter=maxiter,
                       backend=backend)
            cg_it[t], cg_s[t] = r.iterations, r.seconds + setup[t]
        if direct:
            t0 = clock()
            spla.splu(A.tocsc()).solve(b)
            dir_s[t] = clock() - t0
        if best_x is None:
            raise RuntimeError(f"no ω of the grid converged at heat step {t}")
        u = best_x
    out = {"C": C, "S": S, "converged": ok, "contexts": ctx, "omegas": omegas, "u_final": u,
           "setup_seconds": setup}
    if cg:
        out.update(cg_iterations=cg_it, cg_seconds=cg_s)
    if direct:
        out.update(direct_seconds=dir_s)
    if golden:
        out.update(golden_omega=g_w, golden_iterations=g_it, golden_seconds=g_s,
                   golden_search_seconds=g_search)
    return out
