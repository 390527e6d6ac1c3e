"""Full cost matrices ``C[t, k]`` = iterations of instance ``t`` with grid arm ``k``.

The offset-Laplacian costs are deterministic, so one trial computes ``C`` once and every
learner is then replayed over it with :func:`bandit.simulate`; this also gives exact regret.
For heat2d the next system depends on the previous solution, but every method solves to
``rtol = 1e-8``, so (the paper's protocol) the costs are taken along one *reference
trajectory*: each step is solved with every grid ω warm-started from the reference state,
and the reference advances with the cheapest arm's solution.

Each matrix is prepared once (:func:`solvers.prepare`) and reused for all ω of that step.
"""
from __future__ import annotations

import time

import numpy as np

from .problems import Heat2D, OffsetLaplacianSequence

__all__ = ["OMEGA_GRID", "warm_up", "young_omegas", "offset_costs", "heat_costs"]

#: The paper's arm grid: 20 points ``linspace(1.0, 1.95, 20)``.
OMEGA_GRID = np.round(np.linspace(1.0, 1.95, 20), 10)


def warm_up(backend: str = "numba") -> None:
    """Run every solver once on a tiny system so no timed solve includes JIT compilation.

    Numba compiles (or loads from its cache) on the first call of each kernel; that first
    call can take longer than thousands of real solves.
    """
    import solvers

    from .problems import grid_laplacian

    A = grid_laplacian(3)
    b = np.ones(9)
    for fn in (solvers.sor, solvers.ssor_pcg):
        fn(A, b, 1.2, backend=backend)
    solvers.cg(A, b, backend=backend)


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


def heat_costs(sim: Heat2D, omegas=OMEGA_GRID, *, rtol=1e-8, maxiter=10_000,
               backend="numba", cg=True, direct=False, progress=False) -> dict:
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
    progress : bool or str
        tqdm bar.

    Returns
    -------
    dict
        ``C`` (T, K) iterations, ``S`` (T, K) seconds (solve plus the step's one-off operator
        set-up, ``setup_seconds``), ``converged`` (T, K), ``contexts``
        (T,) = κ(s_t); with ``cg``: ``cg_iterations``, ``cg_seconds``; with ``direct``:
        ``direct_seconds``; ``u_final`` the last reference state.

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
    u = sim.initial()
    desc = progress if isinstance(progress, str) else f"heat2d nx={sim.nx} cost matrix"
    for t in tqdm(range(T), desc=desc, disable=not progress, leave=False):
        A, b, ctx[t] = sim.system(t, u)
        # conversion and the solvers' one-off checks are paid once per step by any method:
        # time them apart and charge them to every method (else the first ω pays for all)
        t0 = time.perf_counter()
        op = solvers.prepare(A)
        op.require_diagonal("ssor_pcg", positive=True)
        op.require_symmetric("ssor_pcg")
        setup[t] = time.perf_counter() - t0
        best, best_x = None, None
        for k, w in enumerate(omegas):
            r = solvers.ssor_pcg(op, b, w, x0=u, rtol=rtol, maxiter=maxiter, backend=backend)
            C[t, k], S[t, k], ok[t, k] = r.iterations, r.seconds + setup[t], r.converged
            if r.converged and (best is None or r.iterations < best):
                best, best_x = r.iterations, r.x
        if cg:
            r = solvers.cg(op, b, x0=u, rtol=rtol, maxiter=maxiter, backend=backend)
            cg_it[t], cg_s[t] = r.iterations, r.seconds + setup[t]
        if direct:
            t0 = time.perf_counter()
            spla.splu(A.tocsc()).solve(b)
            dir_s[t] = time.perf_counter() - t0
        if best_x is None:
            raise RuntimeError(f"no ω of the grid converged at heat step {t}")
        u = best_x
    out = {"C": C, "S": S, "converged": ok, "contexts": ctx, "omegas": omegas, "u_final": u,
           "setup_seconds": setup}
    if cg:
        out.update(cg_iterations=cg_it, cg_seconds=cg_s)
    if direct:
        out.update(direct_seconds=dir_s)
    return out
