"""Seven scientists' own loops wrapped in a :class:`bandit.Tuner`, against every fixed ω.

Each loop is written as a scientist would write it, with the solve going through
``tuner.solve`` (the default learner, ``audit_budget=0.05``, ``rtol = 1e-8``, the paper's 20 ω
in [1, 1.95]).  The run records every system it solved; afterwards every ω of the grid solves
every recorded system alone from the same start (the cost matrix ``C[t, k]``, iterations, a
solve that misses the stopping rule in 10,000 iterations counted as 10,000).  From it:

- the best fixed ω in hindsight (the smallest column sum of ``C``), ω = 1 and the
  instance-optimal choice (the row minima),
- the exact regret of the run against the best fixed ω (the iterations the tuned run paid
  minus that column sum) and whether the Tuner's own 90 % interval
  (``tuner.regret().best_fixed``) covers it.

The loops (``LOOPS``; ``size`` scales each):

``newton``
    A bistable reaction–diffusion equation ``u_t = D Δu + u (1 − u)(u − a)`` (D = 0.002,
    a = 0.1) on a ``size × size`` grid (default 96), 150 backward-Euler steps of 0.25, each
    solved by Newton's method to a relative residual of 10⁻⁶ (or 10⁻⁸ ‖u‖ / dt), the Jacobian
    re-assembled every Newton step, each Newton step ``J u_new = J u − F(u)`` solved by
    SSOR-PCG from ``x0 = u``.  Contexts: ``none``, ``resid`` (``log10(‖F‖ / ‖b‖)``, how far
    ``x0`` is from the answer), ``spectral`` (``auto_context="spectral"``).
``adaptive``
    The heat equation with a source switched on and off every quarter time unit and a
    step-doubling controller (:func:`experiments.adaptive_loop.heat_loop`, ``size × size``
    grid, default 40, to t = 3), SOR.  Contexts: ``none``, ``dt``, ``logdt``, ``spectral``.
``uq``
    Monte Carlo over ``−∇·(e^{σ g} ∇u) = 1`` on a ``size × size`` cell-centred grid
    (default 48), ``g`` a Gaussian field of correlation length ℓ, ``σ ∈ [0.5, 2.5]``,
    ``ℓ ∈ [0.05, 0.3]``, 300 samples, SSOR-PCG.  Contexts: ``none``, ``vec``
    (``[sigma, ell]``), ``spectral``.
``graph``
    ``size`` nodes (default 2000) moving by Brownian steps in the unit square, the radius
    graph rebuilt every step, 400 steps of ``(I + τ L) u = u_old`` (weighted graph
    Laplacian, τ between 0.02 and 1.02), SOR from ``x0 = u_old``.  Contexts: ``none``,
    ``tau``, ``spectral``.
``twophase``
    One matrix per phase: 150 steps of inverse iteration with ``K + 10 I``, then 250
    Crank–Nicolson steps with ``I + 10⁻⁴ K`` and a moving source, ``K`` the
    ``size × size`` (default 64) anisotropic Laplacian (coefficients 1 and 0.1), SOR.
    Contexts: ``none``, ``spectral``.
``rgg``
    A random geometric graph of ``size`` nodes (default 500, radius 0.08, unit weights) and
    200 systems ``(L + s I) x = b``, the shift ``s`` log-uniform in [0.01, 10] and drawn
    afresh for each system (independent systems: small shifts are hard and want a large ω,
    large ones are cheap and want a small one), ``b`` random, SOR from zero.  Contexts:
    ``none``, ``shift`` (``log10 s``), ``spectral``.
``rggdrift``
    The same graph, the shift falling slowly from 10 to 0.01 over the 200 systems
    (``log10 s`` linear in the step, with a jitter of 0.1): the systems grow harder and their
    best ω drifts upwards from about 1.2 to about 1.9, so the cheap first systems say little
    about the ω that is best over the run.  Contexts: ``none``, ``shift``, ``spectral``.

Run ``python -m experiments.user_loops`` (every row of the quick start's table, a few
minutes on one core; ``--loop NAME`` and ``--context C`` for one loop's rows or one row) or
call :func:`run_loop` for one row.  ``--sensitivity`` (:func:`sensitivity`) adds, per row, the
ratios of nine replays of the run's systems by the default learner with its ridge and width
constants changed by a few per cent: where a row's figure hinges on a few early draws, this
shows how far it moves (:func:`replay_run` replays a run with any learner in milliseconds).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["GRID", "LOOPS", "PERTURBATIONS", "ROWS", "replay", "replay_run", "run_loop",
           "sensitivity", "main", "print_rows"]

#: the paper's 20 values of ω
GRID = np.linspace(1.0, 1.95, 20)
MAXITER = 10_000


def _laplacian(nx, ay=1.0):
    """``−Δ`` (with coefficient ``ay`` in the second direction) on ``nx × nx`` interior
    points of the unit square, zero boundary values."""
    h = 1.0 / (nx + 1)
    T1 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], (nx, nx))
    I1 = sp.identity(nx)
    return (sp.kron(T1, I1) + ay * sp.kron(I1, T1)).tocsr() / h ** 2


def newton_loop(solve, context, nx=96, steps=150):
    D, a, dt = 2e-3, 0.1, 0.25
    h = 1.0 / (nx + 1)
    x = np.arange(1, nx + 1) * h
    X, Y = np.meshgrid(x, x, indexing="ij")
    L = _laplacian(nx)
    n = nx * nx

    def f(u):
        return u * (1 - u) * (u - a)

    def fp(u):
        return -3 * u ** 2 + 2 * (1 + a) * u - a

    u = np.where((X - 0.3) ** 2 + (Y - 0.4) ** 2 < 0.0625, 1.0, 0.0).ravel()
    for _ in range(steps):
        uold = u.copy()
        for it in range(10):
            F = (u - uold) / dt + D * (L @ u) - f(u)
            nF = np.linalg.norm(F)
            if it == 0:
                nF0 = nF
            elif nF <= max(1e-6 * nF0, 1e-8 * np.linalg.norm(u) / dt):
                break
            J = (sp.identity(n) / dt + D * L - sp.diags(fp(u))).tocsr()
            b = J @ u - F
            kw = {"context": np.log10(max(nF, 1e-300) / np.linalg.norm(b))} \
                if context == "resid" else {}
            u = solve(J, b, u, **kw)
    return u


def adaptive_loop(solve, context, nx=40, t_end=3.0):
    from .adaptive_loop import heat_loop

    def wrapped(A, b, x0, step):
        kw = {"dt": {"context": step}, "logdt": {"context": np.log10(step)}}.get(context, {})
        return solve(A, b, x0, **kw)

    return heat_loop(wrapped, nx, t_end)


def uq_loop(solve, context, m=48, samples=300):
    rng = np.random.default_rng(7)
    n, h = m * m, 1.0 / m
    kx = np.fft.fftfreq(2 * m, d=h)
    KX, KY = np.meshgrid(kx, kx, indexing="ij")
    ii, jj = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    idx = ii * m + jj

    def field(sigma, ell):
        w = rng.standard_normal((2 * m, 2 * m))
        spec = np.exp(-(np.pi * ell) ** 2 * (KX ** 2 + KY ** 2) / 2)  # Gaussian covariance
        g = np.real(np.fft.ifft2(np.fft.fft2(w) * np.sqrt(spec)))[:m, :m]
        g /= g.std()
        return np.exp(sigma * g)

    def assemble(a):
        rows, cols, vals = [], [], []
        diag = np.zeros((m, m))
        for di, dj in ((1, 0), (0, 1)):  # harmonic averages on the faces
            a1, a2 = a[:m - di, :m - dj], a[di:, dj:]
            t = 2 * a1 * a2 / (a1 + a2) / h ** 2
            p, q = idx[:m - di, :m - dj].ravel(), idx[di:, dj:].ravel()
            rows += [p, q]
            cols += [q, p]
            vals += [-t.ravel(), -t.ravel()]
            diag[:m - di, :m - dj] += t
            diag[di:, dj:] += t
        bnd = np.zeros((m, m))  # Dirichlet walls half a cell away
        bnd[0, :] += 2 * a[0, :]
        bnd[-1, :] += 2 * a[-1, :]
        bnd[:, 0] += 2 * a[:, 0]
        bnd[:, -1] += 2 * a[:, -1]
        diag += bnd / h ** 2
        rows.append(idx.ravel())
        cols.append(idx.ravel())
        vals.append(diag.ravel())
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                     np.concatenate(cols))), shape=(n, n))

    b = np.ones(n)
    means = []
    for _ in range(samples):
        sigma, ell = rng.uniform(0.5, 2.5), rng.uniform(0.05, 0.3)
        A = assemble(field(sigma, ell))
        kw = {"context": [sigma, ell]} if context == "vec" else {}
        means.append(solve(A, b, None, **kw).mean())
    return np.array(means)


def graph_loop(solve, context, N=2000, steps=400):
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(3)
    r = 1.6 * np.sqrt(np.log(N) / (np.pi * N))  # connected w.h.p., mean degree about 20

    def laplacian(P):
        pairs = cKDTree(P).query_pairs(r, output_type="ndarray")
        w = np.exp(-np.sum((P[pairs[:, 0]] - P[pairs[:, 1]]) ** 2, axis=1) / r ** 2)
        W = sp.coo_matrix((np.r_[w, w], (np.r_[pairs[:, 0], pairs[:, 1]],
                                         np.r_[pairs[:, 1], pairs[:, 0]])),
                          shape=(N, N)).tocsr()
        return (sp.diags(np.asarray(W.sum(1)).ravel()) - W).tocsr()

    P = rng.random((N, 2))
    u = np.exp(-((P[:, 0] - 0.5) ** 2 + (P[:, 1] - 0.5) ** 2) / 0.01)
    for k in range(steps):
        P = np.clip(P + 0.002 * rng.standard_normal(P.shape), 0, 1)
        tau = 0.5 * (1 + np.sin(2 * np.pi * k / 100)) + 0.02  # a varying step size
        A = (sp.identity(N) + tau * laplacian(P)).tocsr()
        u = solve(A, u.copy(), u, **({"context": tau} if context == "tau" else {}))
    return u


def twophase_loop(solve, context, nx=64, inverse_steps=150, cn_steps=250):
    n, h = nx * nx, 1.0 / (nx + 1)
    K = _laplacian(nx, ay=0.1)
    A_inv = (K + 10.0 * sp.identity(n)).tocsr()
    dt = 2e-4
    A_cn = (sp.identity(n) + 0.5 * dt * K).tocsr()
    B_cn = (sp.identity(n) - 0.5 * dt * K).tocsr()
    x = np.arange(1, nx + 1) * h
    X, Y = np.meshgrid(x, x, indexing="ij")
    v, lam = np.random.default_rng(0).random(n), 1.0
    for _ in range(inverse_steps):  # x0: the previous vector scaled by the eigenvalue estimate
        v = v / np.linalg.norm(v)
        w = solve(A_inv, v, v / lam)
        lam, v = 1 / np.linalg.norm(w), w
    u = np.zeros(n)
    for k in range(cn_steps):
        c = (0.2 + 0.6 * k / cn_steps, 0.5 + 0.2 * np.sin(k / 20))
        s = 100 * np.exp(-((X - c[0]) ** 2 + (Y - c[1]) ** 2) / 0.002).ravel()
        u = solve(A_cn, B_cn @ u + dt * s, u)
    return u


def _rgg_laplacian(N, radius, rng):
    """Unit-weight Laplacian of the random geometric graph of ``N`` points in the unit
    square, joined within ``radius``."""
    from scipy.spatial import cKDTree

    P = rng.random((N, 2))
    pairs = cKDTree(P).query_pairs(radius, output_type="ndarray")
    W = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(N, N))
    W = (W + W.T).tocsr()
    return (sp.diags(np.asarray(W.sum(1)).ravel()) - W).tocsr()


def _shift_loop(solve, context, shifts, N, rng):
    L = _rgg_laplacian(N, 0.08, rng)
    x = None
    for s in shifts:
        A = (L + s * sp.identity(N)).tocsr()
        b = rng.standard_normal(N)
        x = solve(A, b, None, **({"context": float(np.log10(s))} if context == "shift" else {}))
    return x


def rgg_loop(solve, context, N=500, steps=200):
    rng = np.random.default_rng(0)
    shifts = 10.0 ** rng.uniform(-2, 1, steps)
    return _shift_loop(solve, context, shifts, N, rng)


def rggdrift_loop(solve, context, N=500, steps=200):
    rng = np.random.default_rng(1)
    shifts = 10.0 ** (np.linspace(1.0, -2.0, steps) + 0.1 * rng.standard_normal(steps))
    return _shift_loop(solve, context, shifts, N, rng)


#: name -> (solver, loop function, contexts it takes besides "none" and "spectral")
LOOPS = {
    "newton": ("ssor_pcg", newton_loop, ("resid",)),
    "adaptive": ("sor", adaptive_loop, ("dt", "logdt")),
    "uq": ("ssor_pcg", uq_loop, ("vec",)),
    "graph": ("sor", graph_loop, ("tau",)),
    "twophase": ("sor", twophase_loop, ()),
    "rgg": ("sor", rgg_loop, ("shift",)),
    "rggdrift": ("sor", rggdrift_loop, ("shift",)),
}
#: the rows of the quick start's table, in its order
ROWS = [("newton", "none"), ("newton", "resid"), ("newton", "spectral"),
        ("adaptive", "none"), ("adaptive", "dt"), ("adaptive", "logdt"),
        ("adaptive", "spectral"), ("uq", "none"), ("uq", "vec"), ("uq", "spectral"),
        ("graph", "none"), ("graph", "tau"), ("graph", "spectral"),
        ("twophase", "none"), ("twophase", "spectral"), ("rgg", "none"), ("rgg", "shift"),
        ("rgg", "spectral"), ("rggdrift", "none"), ("rggdrift", "shift"),
        ("rggdrift", "spectral")]


def replay(systems, solver, omegas=GRID, rtol=1e-8, maxiter=MAXITER):
    """``C[t, k]``: the iterations of ω ``omegas[k]`` alone on ``systems[t] = (A, b, x0)``
    (``maxiter`` where it misses the stopping rule)."""
    import solvers

    fn = {"sor": solvers.sor, "ssor_pcg": solvers.ssor_pcg}[solver]
    C = np.zeros((len(systems), len(omegas)))
    for t, (A, b, x0) in enumerate(systems):
        for k, w in enumerate(omegas):
            r = fn(A, b, float(w), x0=x0, rtol=rtol, maxiter=maxiter)
            C[t, k] = r.iterations if r.converged else maxiter
    return C


def run_loop(name, context="none", size=None, audit_seed=0, **loop_kw):
    """Run loop ``name`` through a Tuner with ``context`` and replay every ω on its systems.

    ``size`` (and ``loop_kw``, e.g. ``steps=3``) shrink the loop.  The iteration counts are
    deterministic; the regret interval depends on the audits' draws (``audit_seed``).
    Returns a dict: the ``tuner``, its ``solver``, the recorded ``systems`` ``(A, b, x0)``, the final ``state``, the cost matrix
    ``C``, ``paid`` (the tuned run's iterations), ``best`` / ``best_omega`` (the best fixed
    ω's total and ω), ``omega1`` (ω = 1's total), ``inst`` (instance-optimal total),
    ``exact_regret`` (``paid − best``), ``interval`` (the Tuner's 90 % interval of it) and
    ``covered``.
    """
    import bandit

    if name not in LOOPS:
        raise ValueError(f"unknown loop {name!r}: the loops are {', '.join(LOOPS)}")
    solver, loop, contexts = LOOPS[name]
    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer))
                             or size < 2):
        raise ValueError(f"size must be an integer >= 2 (the grid's side or the nodes), "
                         f"got {size!r}")
    if context not in ("none", "spectral") + contexts:
        raise ValueError(f"loop {name!r} takes context 'none', 'spectral' or one of "
                         f"{contexts}, not {context!r}")
    tuner = bandit.Tuner(solver=solver, rtol=1e-8, audit_budget=0.05, audit_seed=audit_seed,
                         auto_context="spectral" if context == "spectral" else None)
    systems = []

    def solve(A, b, x0, **kw):
        A = sp.csr_matrix(A, copy=True)
        systems.append((A, np.array(b, float), None if x0 is None else np.array(x0, float)))
        return tuner.solve(A, b, x0=x0, **kw).x

    if size is not None:
        loop_kw[{"newton": "nx", "adaptive": "nx", "uq": "m", "graph": "N",
                 "twophase": "nx", "rgg": "N", "rggdrift": "N"}[name]] = size
    _check_loop_settings(name, loop, loop_kw)
    state = loop(solve, context, **loop_kw)
    C = replay(systems, solver)
    paid = int(tuner.history["iterations"].sum())
    tot = C.sum(0)
    kbest = int(np.argmin(tot))
    bf = tuner.regret().best_fixed
    exact = paid - tot[kbest]
    return dict(tuner=tuner, solver=solver, systems=systems, state=state, C=C, paid=paid,
                best=int(tot[kbest]), best_omega=float(GRID[kbest]),
                omega1=int(tot[int(np.argmin(np.abs(GRID - 1.0)))]), inst=int(C.min(1).sum()),
                exact_regret=float(exact), interval=(float(bf.low), float(bf.high)),
                covered=bool(bf.low <= exact <= bf.high))


#: Small changes of the default learner's constants under which :func:`sensitivity` replays a
#: run: the ridge ``λ`` by ±10 % and the width multiplier ``β`` by ±5 % (the middle one is the
#: default learner itself).
PERTURBATIONS = tuple({"ridge": r, "beta": b} for r in (0.009, 0.01, 0.011)
                      for b in (0.95, 1.0, 1.05))


def replay_run(result, policy=None, **settings):
    """Replay the systems of a :func:`run_loop` result with another learner, as the Tuner
    played them.

    The learner sees the run's contexts (the automatic context too), is shown the first
    matrix (:meth:`~bandit.JointCB.prime`) and plays the recorded cost matrix ``C`` with the
    Tuner's guard (:func:`experiments.bench_learners.replay`: an exploratory arm stopped at
    three times the leader's predicted cost and finished by the leader, that part charged by
    linear convergence).  A system whose start already met the stopping rule (every ω 0
    iterations) is skipped, as the Tuner tells the learner nothing of it.  The default
    learner replayed this way plays the run's arms on every loop of :data:`ROWS` and pays
    its iterations to within the fallbacks' charge (a dozen iterations in 10⁴–10⁵); the
    replay costs milliseconds where the run re-solves every system.

    Parameters
    ----------
    result : dict
        What :func:`run_loop` returned.
    policy : bandit.Policy, optional
        A fresh learner (default: :func:`bandit.default_policy` for the run's solver with
        ``settings`` changed, e.g. ``ridge=0.011``).
    **settings
        Constructor settings of the default learner to change (without ``policy``).

    Returns
    -------
    dict
        ``paid`` (total iterations), ``ratio`` (``paid`` over the best fixed ω's total),
        ``told`` (which systems were told), and per told system the ``arms`` drawn and the
        iterations ``costs`` paid.
    """
    import bandit

    from .bench_learners import replay

    if policy is None:
        policy = bandit.default_policy(result["solver"])
        if settings:  # the same learner with some of its settings changed
            cfg = policy._config()
            unknown = sorted(set(settings) - set(cfg))
            if unknown:
                raise ValueError(f"the default learner has no setting {unknown[0]!r}; its "
                                 f"settings are {', '.join(cfg)}")
            policy = type(policy)(policy.arms, **{**cfg, **settings})
    elif settings:
        raise ValueError("settings change the default learner: pass either a policy or "
                         "settings, not both")
    C = result["C"]
    told = C.max(axis=1) > 0
    ctx = np.asarray(result["tuner"].history["context"], dtype=float)
    contexts = None if np.isnan(ctx).all() else ctx[told]
    prime = getattr(policy, "prime", None)
    if prime is not None:
        prime(result["systems"][0][0], result["solver"])
    paid, arms = replay(policy, C[told], C[told] < MAXITER, contexts)
    return dict(paid=int(paid.sum()), ratio=float(paid.sum() / result["best"]), arms=arms,
                costs=paid, told=told)


def sensitivity(result, perturbations=PERTURBATIONS):
    """The run's ratio to the best fixed ω under small changes of the default learner.

    Each entry of ``perturbations`` (settings of the default learner, default
    :data:`PERTURBATIONS`) is replayed on the run's systems (:func:`replay_run`).  The
    learner's choices are deterministic, but where the costs spread far more than the
    learner can explain they hinge on a few early draws, and a change of a constant by a few
    per cent can move a loop's total by tens of per cent: one run's ratio is then one draw
    from a wide range, which a comparison of two learners must take into account.

    Returns
    -------
    ndarray
        One ratio (replayed total over the best fixed ω's total) per perturbation.
    """
    return np.array([replay_run(result, **settings)["ratio"] for settings in perturbations])


def _check_loop_settings(name, loop, settings):
    """Each setting must be one of the loop's: its counts integers >= 1 (a count of 0 or less
    had run no step and returned a row of zeros), its time span a finite number > 0."""
    import inspect

    params = {p.name: p.default for p in inspect.signature(loop).parameters.values()
              if p.default is not inspect.Parameter.empty}
    for key, v in settings.items():
        if key not in params:
            raise ValueError(f"loop {name!r} has no setting {key!r}; its settings are "
                             f"{', '.join(params)}")
        if isinstance(params[key], int):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{key} must be an integer >= 1, got {v!r}")
        elif isinstance(v, bool) or not (isinstance(v, (int, float, np.number))
                                         and 0 < v < np.inf):
            raise ValueError(f"{key} must be a finite number > 0, got {v!r}")


def main(argv=None) -> None:
    """The command line: every row of the quick start's table, or one loop's rows
    (``--loop NAME``, ``--context C``)."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m experiments.user_loops",
        description="The quick start's loops through a Tuner against every fixed ω "
                    "(iterations, exact regret and the Tuner's 90 % interval).")
    ap.add_argument("--loop", choices=list(LOOPS), help="one loop's rows (default: every row)")
    ap.add_argument("--context", help="one context of the loop (default: each in the table)")
    ap.add_argument("--sensitivity", action="store_true",
                    help="also replay each run's systems with the default learner's ridge "
                         "changed by ±10 %% and its width multiplier by ±5 %% (nine learners) "
                         "and print the mean, least and largest of their ratios")
    args = ap.parse_args(argv)
    if args.context is not None and args.loop is None:
        ap.error("--context needs --loop")
    rows = [r for r in ROWS if args.loop in (None, r[0])]
    if args.context is not None:
        allowed = ("none", "spectral") + LOOPS[args.loop][2]
        if args.context not in allowed:
            ap.error(f"loop {args.loop!r} takes --context {', '.join(allowed)}, "
                     f"not {args.context!r}")
        rows = [(args.loop, args.context)]
    print_rows(rows, perturbed=args.sensitivity)


def print_rows(rows=ROWS, perturbed=False) -> None:
    """Print every row of ``rows`` (``(loop, context)`` pairs): the tuned run's iterations
    over the best fixed ω, ω = 1 and the instance-optimal total, and the interval's coverage;
    with ``perturbed``, also the mean [least, largest] ratio to the best fixed ω of the
    replays under :data:`PERTURBATIONS` (:func:`sensitivity`)."""
    print(f"{'loop':9s} {'context':9s} {'solves':>6s} {'tuned':>7s} {'best ω':>6s} "
          f"{'×best':>6s} {'×ω=1':>6s} {'×inst':>6s} {'exact regret':>12s} "
          f"{'90% interval':>22s} covered" + ("   ×best perturbed: mean [min, max]"
                                              if perturbed else ""))
    for name, context in rows:
        r = run_loop(name, context)
        low, high = r["interval"]
        print(f"{name:9s} {context:9s} {len(r['C']):6d} {r['paid']:7d} {r['best_omega']:6.2f} "
              f"{r['paid'] / r['best']:6.2f} {r['paid'] / r['omega1']:6.2f} "
              f"{r['paid'] / r['inst']:6.2f} {r['exact_regret']:12.0f} "
              f"[{low:9.0f}, {high:9.0f}] {r['covered']!s:7s}"
              + (_spread(sensitivity(r)) if perturbed else ""), flush=True)
        s = r["tuner"].summary()
        if not s["all_converged"]:
            print(f"  not every solve converged: {s['total_iterations']} iterations, "
                  f"censored {s['censored']}, fallback chain ran on {s['fallback_ran']} "
                  f"(finished {s['fallback_finished']})", flush=True)


def _spread(ratios):
    return f"   {np.mean(ratios):6.3f} [{np.min(ratios):.3f}, {np.max(ratios):.3f}]"


if __name__ == "__main__":
    main()
