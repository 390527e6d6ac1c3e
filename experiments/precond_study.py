"""The preconditioner study (``relaxtune precond``): learning the whole solver configuration.

Two kinds of sequence, each solved to ``rtol = 1e-8`` by every method, timed call by call
(the whole call: a Tuner's validation, decision, guard and solve; a hand-written anchor's
conversions, set-up and solve):

* **heat2d** (:class:`experiments.problems.Heat2D`): the Crank–Nicolson heat simulation,
  ``nx`` intervals per side, one period of κ(t) by default (1000 steps on [0, 1]), context
  κ(s), warm starts from the previous state;
* **mc3d** (:class:`experiments.problems.DiffusionMC3D`): a Monte Carlo sequence of steady
  3-D random-coefficient diffusion problems on an ``m³`` grid, context σ (the log-coefficient's
  standard deviation), ``x0 = 0``.

Methods, run one after the other in one process (never in parallel: the seconds are the
measurement):

* every **fixed configuration** of the grid (:func:`bandit.config_grid`), each through a
  :class:`bandit.Tuner` with a :class:`bandit.FixedArm` — the same preparation path as the
  learners, so the comparison is the policy and nothing else;
* the **configuration learner**: a contextual policy over the grid, ``cost="time"``;
  and the same over ``cost="work"`` (matrix-pass equivalents, deterministic);
* the **ω-only learner**: the same policy over the SSOR-PCG ω of the grid (``solver=
  "ssor_pcg"``, its default cost, iterations);
* the **anchors** a user would write by hand: pyamg smoothed-aggregation CG set up every
  step and every ``lag`` steps (``ml.solve(b, x0, tol, accel="cg")``), PETSc CG + GAMG and
  CG + ICC(0) with the Mat converted each step (where petsc4py is installed), and scipy's
  ``splu`` factorisation every step.

Rounds: round ``r`` runs the learners with seed ``r`` (``seeds`` rounds) and the fixed
configurations again, interleaved, so each round's ratio learner / best fixed compares runs
made minutes apart.  Round 0 runs every fixed configuration and the anchors; later rounds
re-run only the fixed configurations within ``prune ×`` round 0's best (the others cannot be
best in hindsight).  A fixed configuration or an anchor whose running total exceeds ``cap ×``
the best complete fixed total of its round is stopped there, and its total is reported as a
lower bound.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .learners import derive_seed

__all__ = ["OMEGAS", "GRID_PCS", "GRID_REUSE", "ANCHORS", "LEARNER", "default_grid",
           "Sequence", "make_sequence", "run_precond_study", "work_vs_time", "family",
           "format_precond_table"]

#: ω of the SSOR-PCG arms (and of the ω-only learner).
OMEGAS = (1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9)
#: CG preconditioners of the grid, and their set-up reuse values.
GRID_PCS = ("none", "jacobi", "ic0", "amg")
GRID_REUSE = {"ic0": (0,), "amg": (0, 20)}
#: Hand-picked anchors (names of :data:`_ANCHOR_LABELS`).
ANCHORS = ("pyamg", "pyamg_lagged", "petsc_gamg", "petsc_icc", "splu")
#: Default policy of the learners (a :data:`bandit.POLICIES` name).
LEARNER = "chebcb"
_ANCHOR_LABELS = {"pyamg": "pyamg SA-CG, set up every step",
                  "pyamg_lagged": "pyamg SA-CG, set up every {lag} steps",
                  "petsc_gamg": "PETSc CG + GAMG (Mat per step)",
                  "petsc_icc": "PETSc CG + ICC(0) (Mat per step)",
                  "splu": "scipy splu every step"}


def default_grid(omegas=OMEGAS, pcs=GRID_PCS, reuse=None) -> list:
    """The study's configuration arms (:func:`bandit.config_grid`)."""
    from bandit import config_grid

    return config_grid(omegas, pcs, reuse=GRID_REUSE if reuse is None else reuse)


def family(label: str) -> str:
    """Family of a configuration label: ``"ssor_pcg ω=1.40"`` → ``"ssor_pcg"``,
    ``"cg+amg reuse=20"`` → ``"cg+amg"``."""
    return label.split(" ")[0].split("(")[0]


# -- sequences ---------------------------------------------------------------------------------
class Sequence:
    """A sequence of systems the study solves: ``run(solve)`` calls
    ``solve(A, b, x0, context)`` once per system, in order, and stops early if it raises
    :class:`Capped`."""

    def __init__(self, name, kind, n, T, context_name, bounds, runner, tiny):
        self.name, self.kind, self.n, self.T = name, kind, n, T
        self.context_name, self.bounds = context_name, bounds
        self._runner, self.tiny = runner, tiny

    def run(self, solve):
        self._runner(solve)


class Capped(Exception):
    """Raised by a timed solve callback to stop a method whose total exceeded its cap."""


def make_sequence(kind: str, size: int, *, steps=1000, t_end=1.0, samples=100, seed=0,
                  cache_limit=5e7) -> Sequence:
    """``heat2d`` with ``nx = size`` or ``mc3d`` with ``m = size``.

    Monte Carlo samples are assembled once and kept when ``nnz × samples <= cache_limit``
    (assembly is not timed, but it is not free either); else re-assembled for each method.
    """
    from .problems import DiffusionMC3D, Heat2D

    if kind == "heat2d":
        sim = Heat2D(size, steps, t_end)

        def runner(solve):
            sim.run(lambda A, b, x0, context: solve(A, b, x0, context))

        tiny = Heat2D(5, 4, t_end)
        return Sequence(f"heat2d_nx{size}", kind, sim.n, sim.steps, "κ", sim.kappa_bounds,
                        runner, lambda solve: tiny.run(lambda A, b, x0, context: solve(
                            A, b, x0, context)))
    if kind != "mc3d":
        raise ValueError(f"sequence must be 'heat2d' or 'mc3d', got {kind!r}")
    seq = DiffusionMC3D(size, samples, seed=seed)
    cached = [seq[t] for t in range(samples)] if 7 * seq.n * samples <= cache_limit else None

    def runner(solve):
        for t in range(samples):
            A, b, sigma = cached[t] if cached is not None else seq[t]
            solve(A, b, None, sigma)

    small = DiffusionMC3D(4, 3, seed=seed)

    def tiny(solve):
        for A, b, sigma in small:
            solve(A, b, None, sigma)

    return Sequence(f"mc3d_m{size}", kind, seq.n, samples, "σ", seq.context_bounds, runner,
                    tiny)


# -- methods: each a factory of a fresh solve callable ------------------------------------------
def _policy(name, arms, seed, bounds):
    import bandit

    cls = bandit.POLICIES[name]
    if cls.contextual:
        return cls(arms, context_bounds=bounds, seed=seed)
    return cls(arms, seed=seed)


def _tuner_method(make_tuner):
    """A method run through a Tuner: returns (solve callable, finish() -> extras)."""
    def factory():
        tuner = make_tuner()

        def solve(A, b, x0, context):
            r = tuner.solve(A, b, x0=x0, context=context)
            explored = r.info.get("explored")
            return (r.x, r.iterations, r.converged, explored["arm"] if explored else r.arm,
                    r.info.get("work", math.nan))
        return solve, tuner
    return factory


def _anchor(name, lag, rtol, maxiter):
    """A hand-written solve of the kind a user would pick (returns the same tuple as above;
    arm = -1, work NaN)."""
    import scipy.sparse.linalg as spla

    if name == "splu":
        def factory():
            def solve(A, b, x0, context):
                x = spla.splu(A.tocsc()).solve(b)
                return x, 0, True, -1, math.nan
            return solve, None
        return factory
    if name in ("pyamg", "pyamg_lagged"):
        import pyamg
        from pyamg.krylov import cg as pyamg_cg

        every = 1 if name == "pyamg" else lag

        def factory():
            state = {"M": None, "age": 0}

            def solve(A, b, x0, context):
                # pyamg's own CG on the current matrix, preconditioned by one V-cycle of a
                # hierarchy built now (or up to `every` steps ago: a lagged hierarchy)
                if state["M"] is None or state["age"] >= every:
                    state["M"] = pyamg.smoothed_aggregation_solver(A).aspreconditioner()
                    state["age"] = 0
                state["age"] += 1
                res = []
                x, flag = pyamg_cg(A, b, x0=x0, tol=rtol, maxiter=maxiter, M=state["M"],
                                   residuals=res)
                return x, len(res) - 1, flag == 0, -1, math.nan
            return solve, None
        return factory
    if name in ("petsc_gamg", "petsc_icc"):
        import solvers

        opts = {"pc_type": "gamg" if name == "petsc_gamg" else "icc"}

        def factory():
            def solve(A, b, x0, context):
                r = solvers.cg(A, b, x0=x0, rtol=rtol, maxiter=maxiter, backend="petsc",
                               options=opts)
                return r.x, r.iterations, r.converged, -1, math.nan
            return solve, None
        return factory
    raise ValueError(f"unknown anchor {name!r}; known: {ANCHORS}")


def _petsc_available() -> bool:
    try:
        import petsc4py  # noqa: F401
        import solvers.petsc  # noqa: F401
    except ImportError:
        return False
    return True


# -- one timed run ---------------------------------------------------------------------------
def _timed_run(seq, factory, cap_seconds=math.inf, rtol=1e-8):
    """Run ``seq`` with a fresh solve callable; per-step call seconds, iterations, converged
    flag, arm, work; ``capped`` if stopped at ``cap_seconds``.  The true residual of each
    solution is checked after the clock (a method that returns an unconverged x is reported
    so)."""
    solve, owner = factory()
    T = seq.T
    sec = np.full(T, np.nan)
    its = np.full(T, -1, dtype=np.int64)
    ok = np.zeros(T, dtype=bool)
    arms = np.full(T, -1, dtype=np.int64)
    work = np.full(T, np.nan)
    ctx = np.full(T, np.nan)
    k = [0, 0.0]

    def step(A, b, x0, context):
        t0 = time.perf_counter()
        x, n_it, conv, arm, w = solve(A, b, x0, context)
        dt = time.perf_counter() - t0
        i = k[0]
        sec[i], its[i], arms[i], work[i], ctx[i] = dt, n_it, arm, w, context
        # the stopping rule, checked off the clock on the true residual
        r = np.linalg.norm(b - A @ x)
        ok[i] = bool(conv) and r <= max(rtol * np.linalg.norm(b), 0.0) * (1 + 1e-6)
        k[0] += 1
        k[1] += dt
        if k[1] > cap_seconds:
            raise Capped
        return x

    capped = False
    try:
        seq.run(step)
    except Capped:
        capped = True
    return {"seconds": sec, "iterations": its, "converged": ok, "arms": arms, "work": work,
            "contexts": ctx, "capped": capped, "steps": k[0], "total": float(k[1]),
            "owner": owner}


# -- the study ---------------------------------------------------------------------------------
def run_precond_study(*, sequences=(("heat2d", 100),), steps=1000, t_end=1.0, samples=100,
                      seeds=3, seed=0, learner=LEARNER, grid=None, omegas=OMEGAS,
                      anchors=ANCHORS, lag=50, cap=5.0, prune=1.5, work_learner=True,
                      rtol=1e-8, maxiter=10_000, progress=True, checkpoint=None):
    """Run the study on each ``(kind, size)`` sequence and score every method.

    Parameters
    ----------
    sequences : sequence of (str, int)
        ``("heat2d", nx)`` or ``("mc3d", m)``.
    steps, t_end : int, float
        heat2d time steps on ``[0, t_end]`` (default one period of κ: 1000 on [0, 1]).
    samples : int
        mc3d sequence length.
    seeds : int
        Rounds; round ``r`` runs the learners with seed ``r``.
    seed : int
        Master seed (learner seeds and the Monte Carlo samples derive from it).
    learner : str
        :data:`bandit.POLICIES` name of the configuration and ω-only learners.
    grid : list, optional
        Configuration arms (default :func:`default_grid` over ``omegas``).
    anchors : sequence of str
        Which of :data:`ANCHORS` to run (the PETSc ones only if petsc4py is installed).
    lag : int
        Steps between set-ups of the lagged pyamg anchor.
    cap, prune : float
        A fixed configuration or anchor stops once its running total exceeds ``cap ×`` the
        best complete fixed total of the round (reported as a lower bound); rounds after the
        first re-run only fixed configurations within ``prune ×`` round 0's best.
    work_learner : bool
        Also run the configuration learner with ``cost="work"``.
    checkpoint : callable, optional
        ``checkpoint(summary, arrays)`` after every finished run, so a long study keeps its
        work as it goes (``summary["partial"]`` says how far it got).

    Returns
    -------
    (dict, dict)
        ``summary`` (``sequences`` → per-sequence ``methods``, ``targets``, ``work_vs_time``,
        ``choices``) and ``arrays`` (per sequence: ``sec/<m>``, ``iter/<m>``, ``arms/<m>``,
        ``work/<m>`` of shape (rounds, T), ``contexts``, ``labels``).

    Examples
    --------
    >>> s, a = run_precond_study(sequences=[("heat2d", 6)], steps=6, seeds=1,
    ...                          anchors=["splu"], grid=[{"method": "ssor_pcg", "omega": 1.5},
    ...                          {"method": "cg", "pc": "jacobi"}], omegas=[1.5],
    ...                          progress=False)
    >>> sorted(s["sequences"]["heat2d_nx6"]["methods"])[:3]
    ['cg+jacobi', 'learner', 'learner_work']
    """
    import bandit

    grid = default_grid(omegas) if grid is None else list(grid)
    labels = bandit.Tuner(bandit.FixedArm(grid)).arm_labels
    omega_arms = [float(w) for w in omegas]
    anchors = [a for a in anchors if a not in ("petsc_gamg", "petsc_icc") or _petsc_available()]
    params = dict(study="precond", sequences=[list(s) for s in sequences], steps=int(steps),
                  t_end=float(t_end), samples=int(samples), seeds=int(seeds), seed=int(seed),
                  learner=learner, grid=grid, labels=labels, omegas=omega_arms,
                  anchors=list(anchors), lag=int(lag), cap=float(cap), prune=float(prune),
                  work_learner=bool(work_learner), rtol=float(rtol), maxiter=int(maxiter),
                  learners=["learner"] + (["learner_work"] if work_learner else []) +
                  ["omega_learner"])
    seqs = [make_sequence(kind, size, steps=steps, t_end=t_end, samples=samples,
                          seed=derive_seed(seed, 7)) for kind, size in sequences]
    settings = {"rtol": rtol, "maxiter": maxiter}
    plan = []  # (sequence index, round, method key)
    for i, _ in enumerate(seqs):
        for r in range(seeds):
            plan += [(i, r, f"fixed/{k}") for k in range(len(grid))]
            plan += [(i, r, m) for m in params["learners"]]
            if r == 0:
                plan += [(i, r, f"anchor/{a}") for a in anchors]
    runs = {}  # (i, r, key) -> result
    t_start = time.perf_counter()
    from tqdm.auto import tqdm

    _warm_up(seqs, grid, omega_arms, learner, anchors, lag, settings)
    bar = tqdm(total=len(plan), desc="precond runs", disable=not progress)
    try:
        for i, r, key in plan:
            seq = seqs[i]
            best = _best_fixed(runs, i, r, len(grid))
            if key.startswith("fixed/") and r > 0:
                k = int(key[6:])
                base = _best_fixed(runs, i, 0, len(grid))
                first = runs.get((i, 0, key))
                if first is None or first["capped"] or first["total"] > prune * base:
                    bar.update()
                    continue  # cannot be best in hindsight: round 0 says so
            factory, capped = _method(key, grid, omega_arms, learner, seq, r, seed, anchors,
                                      lag, settings)
            cap_s = cap * best if capped and math.isfinite(best) else math.inf
            runs[(i, r, key)] = _timed_run(seq, factory, cap_s, rtol)
            runs[(i, r, key)]["owner"] = _owner_summary(runs[(i, r, key)]["owner"])
            bar.update()
            if checkpoint is not None and len(runs) < len(plan):
                part = _summarise(params, seqs, runs, grid, labels, time.perf_counter() - t_start)
                part[0]["partial"] = {"finished": len(runs), "of": len(plan), "unit": "runs"}
                checkpoint(*part)
    finally:
        bar.close()
    return _summarise(params, seqs, runs, grid, labels, time.perf_counter() - t_start)


def _owner_summary(owner):
    """What to keep of a method's Tuner: its choices per label (None for anchors)."""
    if owner is None:
        return None
    h = owner.history
    return {"arm_counts": owner.summary()["arm_counts"], "censored": int(h["censored"].sum()),
            "fallbacks": int((h["fallback_arm"] >= 0).sum())}


def _warm_up(seqs, grid, omega_arms, learner, anchors, lag, settings):
    """Every method once on a tiny sequence of each kind: no timed call pays a compilation
    or a first import."""
    kinds = {}
    for s in seqs:
        kinds.setdefault(s.kind, s)
    for seq in kinds.values():
        keys = [f"fixed/{k}" for k in range(len(grid))] + ["learner", "omega_learner"] + [
            f"anchor/{a}" for a in anchors]
        for key in keys:
            factory, _ = _method(key, grid, omega_arms, learner, seq, 0, 0, anchors, lag,
                                 settings)
            solve, _ = factory()
            seq.tiny(lambda A, b, x0, context: solve(A, b, x0, context)[0])


def _method(key, grid, omega_arms, learner, seq, r, seed, anchors, lag, settings):
    """``(factory, cap applies)`` of a method key."""
    import bandit

    if key.startswith("fixed/"):
        k = int(key[6:])
        return _tuner_method(lambda: bandit.Tuner(bandit.FixedArm(grid, arm=k), cost="time",
                                                  **settings)), True
    if key.startswith("anchor/"):
        return _anchor(key[7:], lag, settings["rtol"], settings["maxiter"]), True
    s = derive_seed(seed, r, 101)
    if key == "learner":
        return _tuner_method(lambda: bandit.Tuner(_policy(learner, grid, s, seq.bounds),
                                                  cost="time", **settings)), False
    if key == "learner_work":
        return _tuner_method(lambda: bandit.Tuner(_policy(learner, grid, s, seq.bounds),
                                                  cost="work", **settings)), False
    if key == "omega_learner":
        return _tuner_method(lambda: bandit.Tuner(_policy(learner, omega_arms, s, seq.bounds),
                                                  solver="ssor_pcg", **settings)), False
    raise ValueError(f"unknown method {key!r}")


def _best_fixed(runs, i, r, K):
    totals = [runs[(i, r, f"fixed/{k}")]["total"] for k in range(K)
              if (i, r, f"fixed/{k}") in runs and not runs[(i, r, f"fixed/{k}")]["capped"]]
    return min(totals) if totals else math.inf


# -- scoring ---------------------------------------------------------------------------------
def _method_name(key, labels):
    if key.startswith("fixed/"):
        return labels[int(key[6:])]
    if key.startswith("anchor/"):
        return key[7:]
    return key


def _method_label(key, labels, params):
    if key.startswith("fixed/"):
        return labels[int(key[6:])]
    if key.startswith("anchor/"):
        return _ANCHOR_LABELS[key[7:]].format(lag=params["lag"])
    return {"learner": f"configuration learner ({params['learner']}, time)",
            "learner_work": f"configuration learner ({params['learner']}, work)",
            "omega_learner": f"ω-only learner ({params['learner']}, SSOR-PCG)"}[key]


def _summarise(params, seqs, runs, grid, labels, elapsed):
    out, arrays = {}, {}
    R = params["seeds"]
    for i, seq in enumerate(seqs):
        mine = {(r, key): v for (j, r, key), v in runs.items() if j == i}
        if not mine:
            continue
        out[seq.name], arrays[seq.name] = _score_sequence(seq, mine, R, labels, params)
    last = list(out)[-1]
    summary = {"study": "precond", "params": params, "methods": out[last]["methods"],
               "sequences": out, "elapsed_seconds": elapsed}
    return summary, arrays


def _score_sequence(seq, runs, R, labels, params):
    keys = list(dict.fromkeys(key for _, key in runs))
    T = seq.T
    methods, arr = {}, {}
    best_per_round = []
    for r in range(R):
        tot = [v["total"] for (rr, key), v in runs.items()
               if rr == r and key.startswith("fixed/") and not v["capped"]]
        best_per_round.append(min(tot) if tot else math.nan)
    for key in keys:
        name = _method_name(key, labels)
        stack = {f: np.full((R, T), np.nan) for f in ("sec", "iter", "arms", "work")}
        totals, capped, conv, owners = [], False, True, []
        for r in range(R):
            v = runs.get((r, key))
            if v is None:
                totals.append(math.nan)
                continue
            stack["sec"][r], stack["iter"][r] = v["seconds"], v["iterations"]
            stack["arms"][r], stack["work"][r] = v["arms"], v["work"]
            totals.append(v["total"])
            capped = capped or v["capped"]
            conv = conv and bool(v["converged"][:v["steps"]].all())
            if v["owner"] is not None:
                owners.append(v["owner"])
        tot = np.array(totals)
        done = tot[np.isfinite(tot)]
        kind = key.split("/")[0] if "/" in key else "learner"
        entry = {"label": _method_label(key, labels, params), "kind": kind,
                 "seconds": float(done.mean()), "seconds_per_round": [
                     None if not math.isfinite(x) else float(x) for x in tot],
                 "seconds_min": float(done.min()), "seconds_max": float(done.max()),
                 "iterations": float(np.where(stack["iter"] > 0, stack["iter"], 0).sum(
                     axis=1)[np.isfinite(tot)].mean()),
                 "lower_bound": capped, "all_converged": conv}
        if key.startswith("fixed/"):
            entry["config"] = params["grid"][int(key[6:])]
            w = stack["work"][np.isfinite(tot)][0]
            entry["work"] = float(np.nansum(w)) if not capped else None
        ratios = [t / b for t, b in zip(totals, best_per_round)
                  if math.isfinite(t) and math.isfinite(b)]
        if kind == "learner":
            entry["vs_best_fixed"] = ratios
            entry["vs_best_fixed_mean"] = float(np.mean(ratios)) if ratios else None
            counts = {}
            for o in owners:
                for lab, n in o["arm_counts"].items():
                    counts[lab] = counts.get(lab, 0) + n
            entry["arm_counts"] = counts
            entry["censored"] = float(np.mean([o["censored"] for o in owners])) if owners else 0
            entry["fallbacks"] = float(np.mean([o["fallbacks"] for o in owners])) if owners else 0
        methods[name] = entry
        for f, a in stack.items():
            arr[f"{f}/{name}"] = a
    # learner against the ω-only learner, round by round
    omega = methods.get("omega_learner")
    for name in ("learner", "learner_work"):
        if name in methods and omega:
            ratios = [a / b for a, b in zip(methods[name]["seconds_per_round"],
                                            omega["seconds_per_round"]) if a and b]
            methods[name]["vs_omega_learner"] = ratios
            methods[name]["vs_omega_learner_mean"] = float(np.mean(ratios)) if ratios else None
    ctx = next(v["contexts"] for v in runs.values())
    arr["contexts"] = ctx
    arr["labels"] = np.array(labels, dtype=str)
    choices = _best_by_context(arr, labels, ctx)
    fixed = {n: m for n, m in methods.items() if m["kind"] == "fixed"}
    best_fixed = min((n for n in fixed if not fixed[n]["lower_bound"]),
                     key=lambda n: fixed[n]["seconds"], default=None)
    targets = _targets(methods, best_fixed, choices, seq)
    return {"name": seq.name, "kind": seq.kind, "n": seq.n, "T": seq.T,
            "context": seq.context_name, "bounds": list(seq.bounds), "methods": methods,
            "best_fixed": best_fixed, "best_fixed_per_round": best_per_round,
            "best_by_context": choices, "targets": targets,
            "work_vs_time": work_vs_time(fixed)}, arr


def _best_by_context(arr, labels, ctx, bins=8):
    """Per context bin (equal counts of steps), the fixed configuration and the family with
    the smallest total seconds (median over rounds of each step)."""
    order = np.argsort(ctx, kind="stable")
    cols = [lab for lab in labels if f"sec/{lab}" in arr]
    if not cols:
        return []
    with warnings.catch_warnings():  # steps a capped configuration never reached: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        S = np.stack([np.nanmedian(arr[f"sec/{lab}"], axis=0) for lab in cols], axis=1)
    out = []
    for part in np.array_split(order, min(bins, ctx.size)):
        tot = np.nansum(S[part], axis=0)
        tot[np.all(np.isnan(S[part]), axis=0)] = np.inf  # not run (capped early)
        k = int(np.argmin(tot))
        fam = {}
        for j, lab in enumerate(cols):
            fam[family(lab)] = min(fam.get(family(lab), math.inf), tot[j])
        out.append({"context": [float(ctx[part].min()), float(ctx[part].max())],
                    "best": cols[k], "family": family(cols[k]),
                    "family_seconds": {f: float(v) for f, v in fam.items()}})
    return out


#: A family "wins" a context bin over the best fixed configuration's family when it takes at
#: most this fraction of that family's seconds there (per-step timings of sub-millisecond
#: solves are noisy; ties are not a change of family).
FAMILY_MARGIN = 0.9


def _targets(methods, best_fixed, choices, seq):
    """The study's targets, evaluated (means over rounds)."""
    lrn = methods.get("learner", {})
    families = {c["family"] for c in choices}
    home = family(best_fixed) if best_fixed else None
    changes = any(min(v for f, v in c["family_seconds"].items() if f != home) <=
                  FAMILY_MARGIN * c["family_seconds"][home]
                  for c in choices if home in c["family_seconds"] and len(c["family_seconds"]) > 1)
    out = {"best_fixed": best_fixed,
           "best_family_changes": changes, "best_families": sorted(families),
           "learner_vs_best_fixed": lrn.get("vs_best_fixed_mean"),
           "target_vs_best_fixed": 0.9 if changes else 1.05,
           "learner_vs_omega_learner": lrn.get("vs_omega_learner_mean")}
    anchors = {n: m["seconds"] for n, m in methods.items() if m["kind"] == "anchor"}
    if anchors and lrn:
        out["learner_ahead_of_anchors"] = all(lrn["seconds"] < v for v in anchors.values())
    return out


def work_vs_time(fixed: dict) -> dict:
    """Does total work rank the fixed configurations as wall-clock does?

    Returns Spearman's rank correlation of total work and total seconds over the fixed
    configurations that finished, the pairs ranked differently (with their ratios), and the
    seconds per unit of work of each family (the calibration the work model would need).

    Examples
    --------
    >>> f = {"a": {"work": 10.0, "seconds": 1.0, "lower_bound": False},
    ...      "b": {"work": 20.0, "seconds": 3.0, "lower_bound": False},
    ...      "c": {"work": 30.0, "seconds": 2.0, "lower_bound": False}}
    >>> w = work_vs_time(f)
    >>> round(w["spearman"], 2), [d["pair"] for d in w["disagreements"]]
    (0.5, [['b', 'c']])
    """
    ok = {n: m for n, m in fixed.items() if not m.get("lower_bound") and m.get("work")}
    names = sorted(ok, key=lambda n: ok[n]["seconds"])
    if len(names) < 2:
        return {"spearman": None, "disagreements": [], "seconds_per_work": {}}
    w = np.array([ok[n]["work"] for n in names])
    s = np.array([ok[n]["seconds"] for n in names])
    rw = np.argsort(np.argsort(w))
    rs = np.argsort(np.argsort(s))
    rho = 1 - 6 * float(np.sum((rw - rs) ** 2)) / (len(names) * (len(names) ** 2 - 1))
    dis = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            if (w[a] - w[b]) * (s[a] - s[b]) < 0:
                dis.append({"pair": [names[a], names[b]],
                            "work_ratio": float(w[a] / w[b]), "seconds_ratio": float(s[a] / s[b])})
    per = {}
    for n in names:
        per.setdefault(family(n), []).append(ok[n]["seconds"] / ok[n]["work"])
    return {"spearman": rho, "disagreements": dis,
            "seconds_per_work": {f: float(np.median(v)) for f, v in per.items()},
            "ranking_by_time": names,
            "ranking_by_work": [names[i] for i in np.argsort(w, kind="stable")]}


def format_precond_table(seq_summary: dict, *, markdown=False) -> str:
    """The comparison table of one sequence: every method by mean total seconds, with the
    spread over rounds, the ratio to the best fixed configuration, iterations and work."""
    methods = seq_summary["methods"]
    best = seq_summary["best_fixed"]
    base = methods[best]["seconds"] if best else None
    names = sorted(methods, key=lambda n: methods[n]["seconds"])
    header = ["method", "kind", "seconds", "[min, max]", "vs best fixed", "iterations", "work"]
    rows = []
    for n in names:
        m = methods[n]
        lb = "≥ " if m["lower_bound"] else ""
        rows.append([m["label"], m["kind"], f"{lb}{m['seconds']:.3f}",
                     f"[{m['seconds_min']:.3f}, {m['seconds_max']:.3f}]",
                     f"{lb}{m['seconds'] / base:.3f}" if base else "-",
                     f"{m['iterations']:.0f}" if m["iterations"] == m["iterations"] else "-",
                     f"{m['work']:.0f}" if m.get("work") else "-"])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    table = [header] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return "\n".join("   ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1])] +
                                [c.rjust(w) for c, w in zip(r[2:], widths[2:])]).rstrip()
                     for r in table)
