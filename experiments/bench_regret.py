"""How good is ``Tuner.regret()``?  Coverage, width and cost of its intervals on known costs.

Run ``python -m experiments.bench_regret`` (or ``relaxtune bench regret``).  On the offset
Laplacian sequences (SOR, high and low variance), on heat2d (SSOR-PCG along the reference
trajectory) and on three held-out studies (:data:`HELD_OUT`: a 3-D random-coefficient Monte
Carlo sequence, an anisotropic sweep, a drifting inclusion) the full cost matrix ``C[t, k]``
is computed first (:mod:`experiments.costs`,
cached in ``--cache``), so the exact regret of any run is known.  Each policy then runs
through a real :class:`bandit.Tuner` (guard, audits, history: everything but the solver)
whose solver function returns the precomputed iteration count and seconds of ``C``; the
Tuner's ``regret()`` is compared with the exact values:

* coverage: the share of runs whose interval contains the exact regret (``bf``: best fixed
  arm, ``io``: instance-optimal, among the runs that have an interval);
* half-width and error of the estimate relative to the size of the exact regret (medians
  over runs), at the end of the run; ``bf bias``: the mean signed error relative to the
  exact regret's size (over the runs whose regret is defined: a cell says how many were
  undefined, every run having failed); ``bf ends``: runs whose estimate lies on an end of its interval; ``bf oracle``: the half-width an oracle would get from
  the same budget (:func:`oracle_half_width`: the best fixed arm alone audited, with a
  perfect model of its cost at each context), relative to the exact regret — below it no
  estimate of that budget can go;
* cost: audit solves (their seconds from the cost matrix, see ``--clock``) plus planning
  (measured, CPU seconds) over the run's solve seconds (median, and the largest); ``its``: what the auditor counted against its
  budget (audit iterations plus the plans' charge) over the solve iterations (median, and
  the largest); ``report``: the time of the ``regret()``
  call itself over the solve seconds; ``audits``: audit runs (median); ``plans``: plans that
  fitted the budget after round 0 (mean per run).

One run per (study, policy, seed); on the offset studies seed ``s`` also draws sequence ``s``.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from . import _bench as B
from ._bench import BenchParser, format_table, machine_header
from .results import _replace_atomically

__all__ = ["main", "ReplaySolver", "replay", "oracle_half_width", "held_out_costs", "HELD_OUT", "young_rate",
           "young_prediction", "fit_young", "covariate_residuals", "width_parts",
           "format_parts", "STUDIES", "POLICIES", "COMPARED"]

#: Study name -> how its cost matrix is made (see :func:`cost_matrix`).  The last three are
#: held out: built on problems the estimator was not developed on (:data:`HELD_OUT`).
STUDIES = ("offset_high", "offset_low", "heat2d_25", "heat2d_50", "mc3d_8", "aniso2d_16",
           "inclusion3d_8")
#: The held-out studies: one sequence each (the same for every seed), solved from ``x0 = 0``
#: with every arm, so their matrices take a minute or two on one core at T = 5000.
#:
#: * ``mc3d_8``: 3-D random-coefficient diffusion (:class:`DiffusionMC3D`, m = 8, n = 512,
#:   sequence seed 0), SOR; context σ_t in (0.25, 2.5): a noisy cost at each context.
#: * ``aniso2d_16``: anisotropic diffusion, ratio swept 1 → 10⁻³ → 1 five times over the run
#:   (:class:`AnisoSweep2D`, nx = 16, n = 225), SOR; context log10 ε in (−3, 0): a
#:   deterministic cost of the context whose best arm moves with it.
#: * ``inclusion3d_8``: a cube inclusion whose contrast grows from 1 to 10⁴ along the run
#:   (:class:`Inclusion3D`, m = 8, n = 512), SSOR-PCG; context log10 c in (0, 4): the best
#:   arm drifts with time, among near-ties of small iteration counts.
HELD_OUT = {"mc3d_8": (0.25, 2.5), "aniso2d_16": (-3.0, 0.0), "inclusion3d_8": (0.0, 4.0)}
#: Policies measured by default.
POLICIES = ("chebcb", "jointcb", "tsallis_inf", "tsallis_inf_cb", "smooth_igw")


class ReplaySolver:
    """A solver function that replays a cost matrix: system ``A`` is the round index.

    Returns ``min(C[t, k], maxiter)`` iterations (converged when ``C[t, k] <= maxiter``) and
    ``S[t, k]`` seconds in proportion, for the arm whose ω is ``omega``.  With
    ``clock="median"`` the seconds are ``C[t, k]`` times arm ``k``'s median seconds per
    iteration in ``S`` instead: a matrix timed on a busy machine holds a few solves that took
    a hundred times longer (its top 1 % of entries can hold a third of its seconds), noise
    that a run's few dozen audit solves would otherwise draw at random.
    """

    __name__ = "replay"

    def __init__(self, C, S, omegas, clock="matrix"):
        self.C = np.asarray(C, dtype=np.int64)
        self.S = np.asarray(S, dtype=float)
        if clock == "median":
            # every entry at its arm's median seconds per iteration: the cost of an iteration
            # without the timing noise of the matrix's own computation
            rate = np.median(self.S / np.maximum(self.C, 1), axis=0)
            self.S = np.maximum(self.C, 1) * rate[None]
        elif clock != "matrix":
            raise ValueError(f"clock must be 'matrix' or 'median', got {clock!r}")
        self.index = {float(w): k for k, w in enumerate(omegas)}

    def __call__(self, A, b, omega=None, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
                 backend="numba"):
        from solvers import SolveResult

        t, k = int(A), self.index[float(omega)]
        need = int(self.C[t, k])
        its = min(need, maxiter)
        done = need <= maxiter
        return SolveResult(x=np.zeros(1), iterations=its, converged=done,
                           residual_norm=0.0 if done else 1.0, omega=omega, solver="replay",
                           reason="converged" if done else "maxiter",
                           seconds=float(self.S[t, k]) * its / max(need, 1), maxiter=maxiter)


def cost_matrix(study: str, seed: int, cache: Path, T: int) -> dict:
    """``C``, ``S``, ``contexts`` and ``omegas`` of a study (offset: sequence ``seed``)."""
    from .costs import OMEGA_GRID, heat_costs, offset_costs
    from .learners import derive_seed
    from .problems import Heat2D, OffsetLaplacianSequence

    kind, _, arg = study.partition("_")
    name = f"{study}_{seed}_T{T}.npz" if kind == "offset" else f"{study}_T{T}.npz"
    path = cache / name
    data = B.read_cache(path, ("C", "S", "contexts", "omegas"))
    if data is not None:
        return data
    if study in HELD_OUT:
        data = held_out_costs(study, T)
    elif kind == "offset":
        seq = OffsetLaplacianSequence(T, arg, m=10, seed=derive_seed(0, seed))
        out = offset_costs(seq, young=False)
        data = {"C": out["C"], "S": out["S"], "contexts": seq.offsets, "omegas": OMEGA_GRID}
    else:
        out = heat_costs(Heat2D(int(arg), T, 5.0 * T / 5000), cg=False)
        data = {"C": out["C"], "S": out["S"], "contexts": out["contexts"], "omegas": OMEGA_GRID}
    cache.mkdir(parents=True, exist_ok=True)
    # atomically: a run stopped while writing leaves no file cut short
    _replace_atomically(path, lambda fh: np.savez(fh, **data))
    return data


def held_out_costs(study: str, T: int, omegas=None) -> dict:
    """``C``, ``S``, ``contexts`` and ``omegas`` of a held-out study (:data:`HELD_OUT`): every
    system of the sequence solved with every arm from ``x0 = 0`` to ``rtol = 1e-8``.

    Examples
    --------
    >>> d = held_out_costs("aniso2d_16", 3, omegas=[1.0, 1.5])
    >>> d["C"].shape, d["contexts"].round(2).tolist()
    ((3, 2), [0.0, -3.0, 0.0])
    """
    import solvers

    from ._problems_mc3d import DiffusionMC3D
    from ._problems_unseen import AnisoSweep2D
    from ._problems_unseen2 import Inclusion3D
    from .costs import OMEGA_GRID, warm_up

    if study not in HELD_OUT:
        raise ValueError(f"not a held-out study: {study!r}; known: {sorted(HELD_OUT)}")
    if int(T) != T or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    omegas = np.asarray(OMEGA_GRID if omegas is None else omegas, dtype=float)
    if study == "mc3d_8":
        seq = DiffusionMC3D(m=8, samples=T, seed=0)
        b, method = seq.b, solvers.sor
        matrix = seq.matrix
        ctx = np.array([seq.sigma(t) for t in range(T)])
    elif study == "aniso2d_16":
        seq = AnisoSweep2D(16, sweeps=5, per_sweep=max(2, -(-T // 5)))
        b, method, matrix, ctx = seq.b, solvers.sor, seq.matrix, seq.contexts()[:T]
    else:
        seq = Inclusion3D(8, steps=T, contrast_max=1e4)
        b, method, matrix, ctx = seq.b, solvers.ssor_pcg, seq.matrix, seq.contexts()
    warm_up()
    C = np.zeros((T, omegas.size), dtype=np.int64)
    S = np.zeros((T, omegas.size))
    for t in range(T):
        op = solvers.prepare(matrix(t))
        for k, w in enumerate(omegas):
            r = method(op, b, w, rtol=1e-8, maxiter=10_000)
            C[t, k], S[t, k] = r.iterations, r.seconds
    return {"C": C, "S": S, "contexts": np.asarray(ctx, dtype=float), "omegas": omegas}


def _policy(name, study, omegas, seed):
    from .learners import derive_seed, make_learner
    from .problems import OFFSET_CONTEXT_BOUNDS

    heat = study.startswith("heat2d")
    bounds = (0.0, 10.0) if heat else HELD_OUT.get(study, OFFSET_CONTEXT_BOUNDS)
    return make_learner(name, omegas, seed=derive_seed(seed, 7, 1000), context_bounds=bounds,
                        bins=6 if heat else 5, cheb_m=6, vector_bounds=[bounds])


#: The switch of :mod:`bandit.estimate` that ``--compare`` turns off for the previous
#: estimator (the latest rule adopted).
COMPARED = ("NOISE_FLOOR",)


def _switched(names, value, fn):
    """``fn()`` with the switches ``names`` of :mod:`bandit.estimate` set to ``value``."""
    from bandit import estimate

    old = {name: getattr(estimate, name) for name in names}
    for name in names:
        setattr(estimate, name, value)
    try:
        return fn()
    finally:
        for name, v in old.items():
            setattr(estimate, name, v)


def replay(name, study, data, seed, *, budget=0.05, level=0.9, n_boot=400, clock="median",
           compare=False, residuals=False, decompose=False):
    """One run: the policy through a Tuner on the replayed costs; returns exact and estimated
    regrets and costs (``compare``: also the regret against the best fixed arm of the
    previous estimator on the same run and audits, the switches :data:`COMPARED` off;
    ``residuals``: also :func:`covariate_residuals` of the run;
    ``decompose``: also :func:`width_parts` of the best-fixed interval)."""
    import bandit
    from bandit import estimate

    C = np.asarray(data["C"], dtype=np.int64)
    solver = ReplaySolver(C, data["S"], data["omegas"], clock=clock)
    tuner = bandit.Tuner(_policy(name, study, data["omegas"], seed), solver=solver,
                         audit_budget=budget, audit_seed=seed)
    ctx = np.asarray(data["contexts"], dtype=float)
    t0 = time.perf_counter()
    for t in range(C.shape[0]):
        tuner.solve(t, None, context=float(ctx[t]))
    loop = time.perf_counter() - t0
    trace = {} if decompose else None
    estimate.TRACE = trace
    try:
        rep = tuner.regret(level=level, n_boot=n_boot, seed=seed)
    finally:
        estimate.TRACE = None
    prev = None
    if compare:
        b = _switched(COMPARED, False,
                      lambda: tuner.regret(level=level, n_boot=n_boot, seed=seed)).best_fixed
        prev = (b.estimate, b.low, b.high)
    paid = float(tuner.history["iterations"].sum())
    exact_bf = paid - float(C.sum(axis=0).min())
    parts = (width_parts(trace, exact_bf, C.sum(axis=0))
             if decompose and trace else None)
    exact_io = paid - float(C.min(axis=1).sum())
    h = tuner.history
    bound = oracle_half_width(C, ctx, h["arm"], ~h["censored"], budget, level)
    res = None
    if residuals:
        from bandit import estimate

        d = tuner._run_data()
        t_, k_, v_, _ = estimate.inclusion_probabilities(d)
        sor = study.startswith("offset")
        # the offset sequences' A_t = L + c_t I on a 10 × 10 grid (cost_matrix): Jacobi
        # radius 4 cos(π/11) / (4 + c_t)
        res = covariate_residuals(C, ctx, d, estimate._model(d, t_, k_, v_, 4),
                                  data["omegas"], sor=sor,
                                  mu=4.0 * math.cos(math.pi / 11) / (4.0 + ctx) if sor else None)
    return {"policy": name, "study": study, "seed": seed, "T": int(C.shape[0]),
            "residuals": res, "parts": parts,
            "exact_bf": exact_bf, "exact_io": exact_io,
            "bf": (rep.best_fixed.estimate, rep.best_fixed.low, rep.best_fixed.high),
            "bf_prev": prev,
            "io": (rep.instance_optimal.estimate, rep.instance_optimal.low,
                   rep.instance_optimal.high),
            "cost": rep.cost, "loop_seconds": loop, "oracle_half_width": bound,
            "spent": tuner._auditor.spent / paid if tuner._auditor is not None else 0.0,
            "plans": tuner._auditor.plans if tuner._auditor is not None else 0,
            "mini_plans": tuner._auditor.mini_plans if tuner._auditor is not None else 0}


def width_parts(trace, exact, totals):
    """What the best-fixed interval's width is made of, from :data:`bandit.estimate.TRACE`.

    The interval of the comparator ``θ = min_k S_k`` runs from the lowest lower end of the
    arms that could be the minimum (the *low arm*) to the lowest upper end (the *top arm*),
    so its width is the top arm's error above its total (``up``), the gap between the two
    arms' totals (``gap``) and the low arm's error below its total (``low``), given as
    shares of the width.  For each of the two arms, which part of its error is the largest
    (``kind``): ``boot`` (its own sampled entries' bootstrap), ``floor`` (its residual
    spread shrunk towards the pooled one), ``unreached`` (the contexts its plays avoided),
    ``noise`` (the rounds' noise the plays show, at the arm's sampled entries' weights: the
    top arm only, it holds no lower end) or ``certain`` (an arm sampled fewer than twice:
    the certain bound).  Also the half-width
    relative to the exact regret, whether the top arm is the best fixed arm, and the number
    of arms whose lower end reaches the upper end."""
    two, low_tr = trace["two"], trace["low_tr"]
    full, upper, low_end = trace["full"], trace["upper"], trace["low_end"]
    jt = int(np.flatnonzero(full)[np.argmin(upper[full])])
    cand = np.flatnonzero(low_end <= trace["top"])
    jl = int(cand[np.argmin(low_end[cand])])
    src = two
    if low_tr is not None and (trace["from_cap"][jl] or (
            trace["c_both"] is not None
            and low_tr.S[-1][jl] - trace["c_both"][jl] * low_tr.sd_low[jl]
            > two.S[-1][jl] - trace["c_both"][jl] * two.sd_low[jl])):
        src = low_tr  # the capped total's end is the larger lower end
    centre = float(src.S[-1][jl])
    parts = np.array([upper[jt] - trace["S_up"][jt], trace["S_up"][jt] - centre,
                      centre - low_end[jl]])
    width = max(float(parts.sum()), 1e-300)

    def kind(track, j, certain, keys=("boot", "floor", "unreached", "noise")):
        if certain:
            return "certain"
        errs = {key: float(track.parts[key][j]) for key in keys if key in track.parts}
        return max(errs, key=errs.get)

    return {"half_width": 0.5 * (float(trace["high_c"]) - float(trace["low_c"]))
            / max(abs(exact), 1e-300),
            "up": parts[0] / width, "gap": parts[1] / width, "low": parts[2] / width,
            "top_kind": kind(two, jt, not trace["informed"][jt]),
            # (the noise floor holds upper ends only: bandit.estimate.NOISE_FLOOR)
            "low_kind": kind(src, jl, bool(trace["bare"][jl]), ("boot", "floor", "unreached")),
            "top_best": jt == int(np.argmin(totals)), "same": jt == jl,
            "candidates": int(cand.size)}


def format_parts(runs, markdown=False) -> str:
    """Per cell, :func:`width_parts` of its runs: the medians of the half-width and of the
    shares of the width, and in how many runs each kind of error is the largest of the top
    and of the low arm (boot / floor / unreached / certain)."""
    cells = {}
    for r in runs:
        if r.get("parts") is not None:
            cells.setdefault((r["study"], r["policy"]), []).append((r["parts"], r))
    head = ("study", "policy", "runs", "half-width", "oracle", "top arm's error",
            "gap between arms", "low arm's error", "top arm: boot/floor/unreached/noise/certain",
            "low arm: boot/floor/unreached/certain", "top arm is the best", "top = low arm",
            "candidates")
    kinds = ("boot", "floor", "unreached", "noise", "certain")
    lines = []
    for (study, pol), rs in cells.items():
        ps = [p for p, _ in rs]

        def med(key):
            return float(np.median([p[key] for p in ps]))

        def count(key):
            # (the noise floor holds no lower end: not a kind of the low arm's)
            ks = kinds if key == "top_kind" else tuple(kd for kd in kinds if kd != "noise")
            return "/".join(str(sum(p[key] == kd for p in ps)) for kd in ks)

        oracle = float(np.median([r["oracle_half_width"] / max(abs(r["exact_bf"]), 1e-300)
                                  for _, r in rs]))
        lines.append((study, pol, str(len(ps)), f"{med('half_width'):.1%}", f"{oracle:.1%}",
                      f"{med('up'):.0%}", f"{med('gap'):.0%}", f"{med('low'):.0%}",
                      count("top_kind"), count("low_kind"),
                      str(sum(p["top_best"] for p in ps)), str(sum(p["same"] for p in ps)),
                      f"{med('candidates'):.0f}"))
    return format_table(head, lines, markdown=markdown, align="r" * len(head))


def oracle_half_width(C, x, arm, played, budget, level=0.9, bins=50):
    """The half-width an audit of the best fixed arm *alone* would give with a perfect model:
    a lower bound for any unbiased estimate spending ``budget`` × the run's solve cost.

    An oracle knows the best fixed arm ``k*`` and the mean of its cost at every context
    (``m(x)``: the column's mean over ``bins`` quantile bins of ``x``, fitted on the whole
    column — no model fitted on samples does better).  The rounds on which the run played
    ``k*`` (and its attempt converged) are known; every other round ``t`` is audited with the
    same probability ``q``, chosen so that the audits of ``k*`` spend the whole budget
    (``q · Σ_unknown C[t, k*] = budget · Σ paid``).  The Horvitz–Thompson error of the unknown
    part of ``k*``'s total is then ``√((1 − q)/q · Σ_unknown (e_t − ē)²)``, ``e = C − m(x)``;
    the interval is at least ``z`` (the normal quantile of ``level``) times that wide on each
    side, even before the uncertainty of which arm is the best.
    """
    from scipy.stats import norm

    C = np.asarray(C, dtype=float)
    ks = int(np.argmin(C.sum(axis=0)))
    col = C[:, ks]
    m = _context_mean(col[:, None], x, bins)[:, 0]
    paid = float(np.sum(C[np.arange(C.shape[0]), arm]))  # at least what the plays cost
    unknown = ~((np.asarray(arm) == ks) & np.asarray(played, dtype=bool))
    if not unknown.any():
        return 0.0
    q = min(1.0, budget * paid / float(col[unknown].sum()))
    e = (col - m)[unknown]
    sd = math.sqrt(max(1.0 - q, 0.0) / q * float(np.sum((e - e.mean()) ** 2)))
    return float(norm.ppf(0.5 + level / 2) * sd)


def young_rate(omega, mu):
    """``−ln ρ(L_ω)`` of SOR on a consistently ordered matrix whose Jacobi radius is ``mu``
    (Young), broadcast over ``omega`` and ``mu``: ``ρ = ω − 1`` where ``ω`` is at least
    Young's ``ω*(μ)`` (``μ <= 2√(ω − 1)/ω``), else ``((ωμ + √(ω²μ² − 4(ω − 1)))/2)²``
    (:func:`solvers.spectral.sor_rate` for one ``μ``)."""
    w = np.asarray(omega, dtype=float)
    mu = np.asarray(mu, dtype=float)
    disc = (w * mu) ** 2 - 4.0 * (w - 1.0)
    real = (0.5 * (w * mu + np.sqrt(np.maximum(disc, 0.0)))) ** 2
    rho = np.where(disc > 0.0, np.maximum(real, np.abs(w - 1.0)), np.abs(w - 1.0))
    return -np.log(np.clip(rho, 1e-300, 1.0 - 1e-15))


def _mu_kink(omega):
    # the Jacobi radius at which ω is Young's ω*: below it the rate is ln(1/(ω − 1)), whatever μ
    w = np.asarray(omega, dtype=float)
    return np.where(w > 1.0, 2.0 * np.sqrt(np.maximum(w - 1.0, 0.0)) / w, 0.0)


def young_prediction(omegas, arm, n_played, a, b, gap=3.0):
    """Every arm's iterations on each round from the played arm's count, through Young.

    The count model is ``n = a + b / (−ln ρ(ω, μ_t))``.  The played count ``n_played[t]`` of
    arm ``arm[t]`` gives ``μ_t`` when it exceeds that arm's count at the kink (its ``ω`` below
    Young's ``ω*(μ_t)``) by more than ``gap``; otherwise ``μ_t`` is only known to lie below
    the kink, which fixes the prediction of the arms of larger ``ω`` (all at ``ω − 1``) and
    not of the others: those entries are NaN (the caller's fallback fills them).

    Returns
    -------
    (P, identified) : ndarray (T, K), ndarray of bool (T,)
    """
    w = np.asarray(omegas, dtype=float)
    om = w[np.asarray(arm)]
    n_p = np.asarray(n_played, dtype=float)
    r_kink = young_rate(om, _mu_kink(om))
    identified = (om <= 1.0) | (n_p > a + b / r_kink + gap)
    r_need = np.minimum(b / np.maximum(n_p - a, 1e-9), r_kink)
    lo, hi = _mu_kink(om) * np.ones_like(n_p), np.full_like(n_p, 1.0 - 1e-12)
    for _ in range(60):  # the rate falls as μ rises above the kink: bisection
        mid = 0.5 * (lo + hi)
        up = young_rate(om, mid) > r_need
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    mu = np.where(identified, 0.5 * (lo + hi), _mu_kink(om))
    P = a + b / young_rate(w[None, :], mu[:, None])
    P[~identified[:, None] & (w[None, :] < om[:, None])] = np.nan
    return P, identified


def fit_young(omegas, arm, n_played, rounds, arms, values, gap=3.0):
    """``(a, b)`` of :func:`young_prediction` by least squares of the log ratio on observed
    entries ``values`` of (``rounds``, ``arms``) other than the played one (a run's audits)."""
    from scipy.optimize import least_squares

    rounds, arms = np.asarray(rounds), np.asarray(arms)
    keep = arms != np.asarray(arm)[rounds]
    rounds, arms, y = rounds[keep], arms[keep], np.maximum(np.asarray(values)[keep], 1.0)

    def resid(x):
        P, _ = young_prediction(omegas, np.asarray(arm)[rounds], np.asarray(n_played)[rounds],
                                x[0], x[1], gap)
        e = np.log(np.maximum(P[np.arange(rounds.size), arms], 1e-3) / y)
        return np.where(np.isfinite(e), e, 0.0)

    if rounds.size < 2:
        return 0.0, math.log(1e8)
    return tuple(least_squares(resid, [0.0, math.log(1e8)],
                               bounds=([-50.0, 1.0], [50.0, 50.0])).x)


def _context_mean(C, x, bins=200):
    """Each column's mean over ``bins`` quantile bins of ``x``, at every round."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(edges.size - 2, 0))
    n = np.maximum(np.bincount(b, minlength=edges.size), 1)
    return np.stack([(np.bincount(b, C[:, k], minlength=edges.size) / n)[b]
                     for k in range(C.shape[1])], axis=1)


def covariate_residuals(C, x, data, m, omegas, sor=True, near=1.3, mu=None):
    """How well a round's entries are predicted where an arm was not played (an analysis of
    the width; nothing the estimator reads).

    For the arms whose column total is within ``near`` × the smallest, on the rounds where
    the arm was not played (and the play converged), the root mean square of the error
    relative to the arm's mean cost there, of: ``model`` — the estimator's cross-fitted cost
    model ``m``; ``young`` (SOR only) — :func:`young_prediction` from the round's played
    count, ``(a, b)`` fitted on the run's column audits (:func:`fit_young`), the model where
    Young leaves the entry open; ``context`` — an oracle's mean of the arm's column over 200
    quantile bins of the context ``x`` (the full matrix: no model fitted on samples does
    better); ``covariate`` — that oracle plus the played arm's oracle residual times the best
    coefficient for each pair of arms, from the full matrix (the most any linear use of the
    played count can remove).  With the rounds' exact Jacobi radii ``mu`` (SOR): ``exact_mu``
    — ``a + b / (−ln ρ(ω, μ_t))`` with ``(a, b)`` fitted on the run's observed entries (plays
    and audits; no inversion), and ``saturated`` — the share of the model's squared error
    on entries whose arm is at or above Young's ``ω*(μ_t)`` (rate ``ln 1/(ω − 1)``, whatever
    ``μ``: the only entries the theory fixes without knowing ``μ_t``).  Returns medians over
    the near-best arms, and the share of rounds whose played count fixes ``μ_t``
    (``identified``).
    """
    C = np.asarray(C, dtype=float)
    T, K = C.shape
    arm = np.asarray(data.arm)
    played = np.isfinite(data.played)
    n_p = C[np.arange(T), arm]
    M = _context_mean(C, np.asarray(x, dtype=float))
    E = C - M
    P, ident = np.full((T, K), np.nan), np.zeros(T, bool)
    if sor:
        A = data.audits
        ok = np.asarray(A["converged"], bool) & ~np.asarray(A["row"], bool)
        r, k = np.asarray(A["round"])[ok], np.asarray(A["arm"])[ok]
        ok = played[r]
        a, b = fit_young(omegas, arm, n_p, r[ok], k[ok], C[r[ok], k[ok]])
        P, ident = young_prediction(omegas, arm, n_p, a, b)
    P = np.where(np.isfinite(P), P, m)
    exact = np.full((T, K), np.nan)
    sat = np.zeros((T, K), bool)
    if sor and mu is not None:
        mu = np.asarray(mu, dtype=float)
        R = young_rate(np.asarray(omegas, dtype=float)[None, :], mu[:, None])
        sat = mu[:, None] <= _mu_kink(np.asarray(omegas, dtype=float))[None, :]
        A = data.audits
        ok = np.asarray(A["converged"], bool) & ~np.asarray(A["row"], bool)
        r = np.concatenate([np.flatnonzero(played), np.asarray(A["round"])[ok]])
        k = np.concatenate([arm[played], np.asarray(A["arm"])[ok]])
        y = C[r, k]
        X = np.stack([np.ones(r.size), 1.0 / R[r, k]], axis=1) / y[:, None]
        coef = np.linalg.lstsq(X, np.ones(r.size), rcond=None)[0]  # relative errors
        exact = coef[0] + coef[1] / R
    tot = C.sum(axis=0)
    rows = []
    for j in np.flatnonzero(tot <= near * tot.min()):
        u = played & (arm != j)
        if not u.any():
            continue
        scale = C[u, j].mean()
        cov = E[u, j].copy()
        for p in np.unique(arm[u]):
            on = arm[u] == p
            beta = np.dot(E[:, p], E[:, j]) / max(np.dot(E[:, p], E[:, p]), 1e-300)
            cov[on] -= beta * E[u, p][on]
        e2 = (C[u, j] - m[u, j]) ** 2
        rows.append([np.sqrt(np.mean(e2)) / scale,
                     np.sqrt(np.mean((C[u, j] - P[u, j]) ** 2)) / scale if sor else math.nan,
                     np.sqrt(np.mean(E[u, j] ** 2)) / scale,
                     np.sqrt(np.mean(cov ** 2)) / scale,
                     np.sqrt(np.mean((C[u, j] - exact[u, j]) ** 2)) / scale,
                     float(e2[sat[u, j]].sum() / max(e2.sum(), 1e-300))
                     if mu is not None else math.nan])
    med = np.median(np.array(rows), axis=0) if rows else np.full(6, math.nan)
    return {"model": float(med[0]), "young": float(med[1]), "context": float(med[2]),
            "covariate": float(med[3]), "exact_mu": float(med[4]), "saturated": float(med[5]),
            "identified": float(ident.mean()) if sor else math.nan}


def _task(args):
    name, study, seed, cache, T, budget, clock, compare, follow, residuals = args[:10]
    decompose = bool(args[12]) if len(args) > 12 else False
    from bandit import audit

    audit.FOLLOW = follow  # (each task sets it: the runs may be other processes)
    audit.MINI_PLAN = bool(args[10]) if len(args) > 10 else False
    audit.ROW_SHARE = args[11] if len(args) > 11 and args[11] is not None else 0.1
    data = cost_matrix(study, seed, Path(cache), T)
    return replay(name, study, data, seed, budget=budget, clock=clock, compare=compare,
                  residuals=residuals, decompose=decompose)


def summarise(runs):
    """Per (study, policy): coverage, median relative half-width, cost (median, max)."""
    out = {}
    for r in runs:
        out.setdefault((r["study"], r["policy"]), []).append(r)
    rows = []
    for (study, pol), rs in out.items():
        row = {"study": study, "policy": pol, "runs": len(rs)}
        for key in ("bf", "io"):
            ex = np.array([r[f"exact_{key}"] for r in rs])
            est = np.array([r[key] for r in rs])  # (runs, 3)
            cov = (est[:, 1] <= ex) & (ex <= est[:, 2])
            hw = 0.5 * (est[:, 2] - est[:, 1]) / np.maximum(np.abs(ex), 1e-300)
            err = (est[:, 0] - ex) / np.maximum(np.abs(ex), 1e-300)
            has = np.isfinite(est[:, 1]) & np.isfinite(est[:, 2])
            # an undefined regret (no arm converged) has no estimate: errors over the others
            defined = np.isfinite(est[:, 0])
            # the estimate clipped to an end of its interval
            end = has & ((est[:, 0] <= est[:, 1]) | (est[:, 0] >= est[:, 2]))
            row[key] = {"coverage": float(np.mean(cov[has])) if has.any() else float("nan"),
                        "with_interval": int(has.sum()),
                        "half_width": float(np.median(hw[has])) if has.any() else float("nan"),
                        "exact": float(np.median(ex)),
                        "error": float(np.median(np.abs(err[defined]))) if defined.any()
                        else float("nan"),
                        "bias": float(np.mean(err[defined])) if defined.any() else float("nan"),
                        "ends": int(end.sum()), "undefined": int(np.sum(~defined))}
        if all(r.get("bf_prev") is not None for r in rs):
            # the previous estimator on the same runs (--compare)
            ex = np.array([r["exact_bf"] for r in rs])
            est = np.array([r["bf_prev"] for r in rs])
            has = np.isfinite(est[:, 1]) & np.isfinite(est[:, 2])
            cov = (est[:, 1] <= ex) & (ex <= est[:, 2])
            hw = 0.5 * (est[:, 2] - est[:, 1]) / np.maximum(np.abs(ex), 1e-300)
            row["bf_prev"] = {"coverage": float(np.mean(cov[has])) if has.any() else math.nan,
                              "half_width": float(np.median(hw[has])) if has.any()
                              else math.nan}
        bound = np.array([r["oracle_half_width"] / max(abs(r["exact_bf"]), 1e-300) for r in rs])
        row["bf"]["oracle"] = float(np.median(bound))
        frac = np.array([r["cost"]["fraction"] for r in rs])
        rep = np.array([r["cost"]["report_seconds"] / r["cost"]["solve_seconds"] for r in rs])
        spent = np.array([r["spent"] for r in rs])
        row["spent"] = float(np.median(spent))
        row["spent_max"] = float(np.max(spent))
        row["cost"] = float(np.median(frac))
        row["cost_max"] = float(np.max(frac))
        row["report"] = float(np.median(rep))
        row["audit_runs"] = float(np.median([r["cost"]["audit_runs"] for r in rs]))
        row["plans"] = float(np.mean([r.get("plans", 0) for r in rs]))
        row["mini_plans"] = float(np.mean([r.get("mini_plans", 0) for r in rs]))
        rows.append(row)
    return rows


def format_rows(rows, markdown=False) -> str:
    # half-widths and errors relative to the exact regret's size
    head = ("study", "policy", "runs", "bf exact", "bf cover", "bf half-width", "bf oracle",
            "bf error", "bf bias", "bf ends",
            "io exact", "io cover", "io half-width", "io error", "cost", "cost max", "its",
            "its max", "report", "audits", "plans")

    def pct(v, digits=1):
        return "-" if not np.isfinite(v) else f"{v:.{digits}%}"

    compare = bool(rows) and all("bf_prev" in r for r in rows)
    if compare:
        head = head[:6] + ("bf half-width before", "bf cover before") + head[6:]
    lines = []
    for r in rows:
        bf, io = r["bf"], r["io"]
        cover_io = (f"{io['coverage']:.0%} of {io['with_interval']}"
                    if io["with_interval"] else "no interval")
        cover_bf = pct(bf["coverage"], 0)
        if bf.get("undefined"):
            cover_bf += f" ({bf['undefined']} undefined)"
        if io.get("undefined"):
            cover_io += f" ({io['undefined']} undefined)"
        before = ((pct(r["bf_prev"]["half_width"]), pct(r["bf_prev"]["coverage"], 0))
                  if compare else ())
        lines.append((r["study"], r["policy"], str(r["runs"]), f"{bf['exact']:,.0f}",
                      cover_bf, pct(bf["half_width"]), *before, pct(bf["oracle"]),
                      pct(bf["error"]), f"{bf['bias']:+.2f}", str(bf["ends"]),
                      f"{io['exact']:,.0f}", cover_io, pct(io["half_width"]), pct(io["error"]),
                      pct(r["cost"]), pct(r["cost_max"]), pct(r["spent"]),
                      pct(r["spent_max"]), pct(r["report"]),
                      f"{r['audit_runs']:.0f}", f"{r['plans']:.1f}"))
    return format_table(head, lines, markdown=markdown, align="r" * len(head))


def format_residuals(runs, markdown=False) -> str:
    """Per cell, medians over runs of :func:`covariate_residuals` (relative rms errors on the
    near-best arms' entries where they were not played) and the ratio model / Young."""
    cells = {}
    for r in runs:
        if r.get("residuals") is not None:
            cells.setdefault((r["study"], r["policy"]), []).append(r["residuals"])
    head = ("study", "policy", "runs", "model", "young", "model / young", "identified",
            "young, exact μ", "model error where saturated", "oracle context",
            "oracle + played", "model / (oracle + played)")
    lines = []
    for (study, pol), rs in cells.items():
        med = {key: float(np.median([r[key] for r in rs])) for key in rs[0]}
        # (a short run's oracle can be exact: no ratio then)
        ratio_y = float(np.median([r["model"] / r["young"] if r["young"] > 0 else math.nan
                                   for r in rs]))
        ratio_c = float(np.median([r["model"] / r["covariate"] if r["covariate"] > 0
                                   else math.nan for r in rs]))

        def pct(v):
            return "-" if not np.isfinite(v) else f"{v:.1%}"

        lines.append((study, pol, str(len(rs)), pct(med["model"]), pct(med["young"]),
                      "-" if not np.isfinite(ratio_y) else f"{ratio_y:.2f}",
                      pct(med["identified"]), pct(med["exact_mu"]), pct(med["saturated"]),
                      pct(med["context"]), pct(med["covariate"]),
                      "-" if not np.isfinite(ratio_c) else f"{ratio_c:.2f}"))
    return format_table(head, lines, markdown=markdown, align="r" * len(head))


def main(argv=None) -> int:
    ap = BenchParser("regret",
                                 description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--studies", nargs="+", default=["offset_high", "offset_low", "heat2d_50"],
                    choices=STUDIES)
    ap.add_argument("--policies", nargs="+", default=list(POLICIES))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds FIRST … FIRST + SEEDS − 1 (on the offset studies, also the "
                         "sequences): runs on seeds an estimator was not tuned on")
    ap.add_argument("--T", type=int, default=5000)
    ap.add_argument("--budget", type=float, default=0.05)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--clock", choices=("median", "matrix"), default="median",
                    help="seconds of a replayed solve: iterations times the arm's median "
                         "seconds per iteration (default), or the matrix's own timing")
    ap.add_argument("--cache", type=B.output_folder, default=Path("results/regret-costs"))
    ap.add_argument("--compare", action="store_true",
                    help="also the regret against the best fixed arm by the previous "
                         "estimator (without the noise floor of the plays, "
                         "bandit.estimate.NOISE_FLOOR), on the same runs")
    ap.add_argument("--decompose", action="store_true",
                    help="also what the best-fixed interval's width is made of, per cell "
                         "(width_parts)")
    ap.add_argument("--follow", type=float, default=None, metavar="SHARE",
                    help="turn on bandit.audit.FOLLOW with this share: without a plan, a "
                         "randomised learner's column audits follow its plays (default: "
                         "off, the library's default)")
    ap.add_argument("--mini-plan", action="store_true",
                    help="turn on bandit.audit.MINI_PLAN: where a plan of the cost model "
                         "does not fit the budget, plan from binned means of the observed "
                         "costs (default: off, the library's default)")
    ap.add_argument("--row-share", type=float, default=None, metavar="SHARE",
                    help="set bandit.audit.ROW_SHARE, the share of the budget spent on row "
                         "audits (default: 0.1, the library's default; 0 spends it on "
                         "column audits)")
    ap.add_argument("--residuals", action="store_true",
                    help="also the per-round prediction errors on the entries the estimator "
                         "fills in, of the cost model, of Young's theory from the played count "
                         "(SOR), and of two oracles (covariate_residuals)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", type=B.output_file, default=None)
    args = ap.parse_args(argv)
    import bandit

    for name, value, low in (("--seeds", args.seeds, 1), ("--T", args.T, 2),
                             ("--jobs", args.jobs, 1), ("--first-seed", args.first_seed, 0)):
        if value < low:
            ap.error(f"{name} must be >= {low}, got {value}")
    if not 0.0 <= args.budget <= 1.0:
        ap.error(f"--budget must be a fraction in [0, 1], got {args.budget}")
    if args.row_share is not None and not 0.0 <= args.row_share < 1.0:
        ap.error(f"--row-share must be a share in [0, 1), got {args.row_share}")
    if args.follow is not None and not 0.0 <= args.follow <= 1.0:
        ap.error(f"--follow must be a share in [0, 1], got {args.follow}")
    unknown = [p for p in args.policies if p not in bandit.POLICIES]
    if unknown:
        ap.error(f"--policies: unknown learner(s) {unknown}; known: {sorted(bandit.POLICIES)}")
    from .offset_study import run_parallel

    # cost matrices first (one process each), then the runs
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    need = sorted({(s, seed if s.startswith("offset") else 0) for s in args.studies
                   for seed in seeds})
    run_parallel(_matrix_task, [(s, seed, str(args.cache), args.T) for s, seed in need],
                 jobs=args.jobs, desc="cost matrices")
    tasks = [(p, s, seed, str(args.cache), args.T, args.budget, args.clock, args.compare,
              args.follow, args.residuals, args.mini_plan, args.row_share, args.decompose)
             for s in args.studies for p in args.policies for seed in seeds]
    t0 = time.perf_counter()
    runs = run_parallel(_task, tasks, jobs=args.jobs, desc="runs")
    rows = summarise(runs)
    print(machine_header())
    print(f"Tuner.regret() against exact regrets: {args.seeds} seeds from "
          f"{args.first_seed}, T = {args.T}, "
          f"audit_budget = {args.budget}, 90 % intervals, {args.clock} clock"
          f"{'' if args.follow is None else f', audits follow the plays ({args.follow})'}"
          f"{', mini plans' if args.mini_plan else ''}"
          f"{'' if args.row_share is None else f', row share {args.row_share}'} "
          f"({time.perf_counter() - t0:.0f} s)")
    print(format_rows(rows, args.markdown))
    if args.residuals:
        print()
        print(format_residuals(runs, args.markdown))
    if args.decompose:
        print()
        print(format_parts(runs, args.markdown))
    if args.json:
        from .results import write_json

        write_json(args.json, {"rows": rows, "runs": runs})
    return 0


def _matrix_task(args):
    study, seed, cache, T = args
    cost_matrix(study, seed, Path(cache), T)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
