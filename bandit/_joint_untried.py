"""A family the learner has never played, predicted from a relation's *range* and tried
when the range's cheap end would pay (``JointCB(lone_prior="range")``, an option).

On the default layout plain CG, Jacobi-CG and IC(0)-CG sit on the ω line after SSOR-PCG's
largest ω and are predicted from that neighbour; the try gate weighs an unplayed family's
try by its expected saving times the leader's evidence at the context, which on a sweep of
contexts stays at a few solves, so a family predicted dearer is never tried (heat3d: plain
CG, best fixed, played in none of 180 steps).  ``lone_prior="work"``
(:mod:`bandit._joint_work`) predicts such an arm from SSOR-PCG at ω = 1 (symmetric
Gauss–Seidel) by the *mean* of an iteration relation, ``γ = √8`` for CG, which is the
asymptotic value and 1.5–2.1 × too large at few iterations, where CG wins.

Here the relation is read as a *range*, as the theory gives it, and the two uses of a
prediction are kept apart:

* **the iteration ratio's range** to symmetric Gauss–Seidel-PCG on the same system:
  plain CG and Jacobi-CG ``γ ∈ [1, √8]`` — about the same iterations where a warm-started
  solve takes a handful (the asymptotic rates say nothing there), ``√8`` as ``μ → 0`` (the
  roots of ``κ(D⁻¹A) ≈ 2/μ`` and Axelsson's ``1 + 1/(4μ)``); IC(0)-CG ``γ ∈ [1/√8, 1]``
  — an incomplete factorisation on ``A``'s own pattern as symmetric Gauss–Seidel is, of the
  same order in ``h`` and no more iterations, fewer by as much as CG has more where it
  follows strong couplings.  The per-iteration work ``w`` is the work model's
  (:func:`bandit._joint_work.per_iteration`, ``r = nnz/n`` of the first system).
* **the prediction** (the model, which the arm's own rounds replace once played): on the
  row of the SSOR-PCG arm at ω = 1 plus an offset of its own, whose prior mean is the log of
  the relation's typical value, ``γ_mean · w_k / w_sgs`` (CG the range's geometric centre
  ``8^(1/4)``; IC(0)-CG 1, symmetric Gauss–Seidel's count), worth one round (the
  offset's constant term penalised ``λΛ = 1``).  Every other arm keeps the default layout's
  row (the line's 12 columns over the study's grid): AMG, with no iteration relation, and
  the ω arms are predicted as by the default learner until a related arm is played.  The
  model has a column more per related arm (15 against 12 over the study's grid).
* **the first try** (:func:`first_try`, after the draw, while some related family has never
  been played): optimism in the face of the range.  The family's cheapest plausible cost at
  the context is the range's cheap end, ``γ_lo · w_k / w_sgs`` times SSOR-PCG ω = 1's
  predicted cost; its saving per solve against the leader's predicted cost, ``s = 1 −
  e^(lo − μ_lead)``, would serve the solves ahead, for which the run's converged solves so
  far stand (the run is at least as long again, in expectation, as it has been); a try costs
  at most the first try's allowance of the guard (``a`` leader's solves,
  :meth:`bandit.armset.ArmSet.allowance`).  The family is tried when ``s · n ≥ a`` — at the
  first draw where that holds, the related family of greatest ``s`` — and never by this rule
  again: from its first round on the arm's own readings set its offset, and the try gate
  weighs it as any other family.  A family whose cheap end is not below the leader
  (``s ≤ 0``) is never tried by it.
* **the regime** (the cheap end read at the context): the relation's two limits belong to two
  regimes — ``γ = 1`` to few iterations, ``γ_s`` (CG ``√8``, IC(0) ``1/√8``) to strongly
  coupled, many-iteration systems — and the learner reads which one holds at the context from
  its own ω curve: SSOR-PCG at ω = 1 predicted ``ρ = e^gap`` times the best ω of its family.
  The first try prices the family at ``γ = 1/ρ + (1 − 1/ρ)·γ_s`` (:func:`regime_gamma`)
  instead of the range's cheap end at every context, so IC(0)-CG is not first tried where
  ω = 1 is near the best ω and IC(0) has no edge, nor CG where over-relaxation pays most.  The
  fixed cheap end stays reachable as ``policy._untried_regime = False`` (the rule before, for
  side-by-side measurement).

No constant is fitted to a sequence: the range's ends are the relation's two limits, the
allowance the guard's, the horizon the run's own length so far.

Measured side by side on six sequences (``docs/studies/precond_rules.md``, *A never-played family
tried at its relation's cheap end*): plain CG is played on heat3d, but the learner is behind
the default on every sequence (the extra columns, the related families' later tries through
the offsets' spread, and IC(0)-CG's first try at the weak anisotropy where it loses), so the
option is off.  Measured again with the first try placed by the regime (same page, *First
tries placed by the regime*): no first try of IC(0)-CG at aniso2d's weak anisotropy (the
ω curve's gap is 2.3–2.9 × at every step there, and prices it above the best ω), level with
the fixed interval within the noise, still behind the default.
"""
from __future__ import annotations

import math

import numpy as np

from ._base import arm_omega
from ._joint_work import _relation, per_iteration

#: The iteration ratio's range to symmetric Gauss–Seidel-PCG, per kind: ``(γ_lo, γ_hi)``.
GAMMA_RANGE = {"cg": (1.0, math.sqrt(8.0)), "jacobi": (1.0, math.sqrt(8.0)),
               "ic0": (1.0 / math.sqrt(8.0), 1.0)}
#: The prior's mean in the range: CG's geometric centre (between its few-iteration and its
#: asymptotic limit); IC(0)'s symmetric Gauss–Seidel's own count (its typical value: the
#: cheap end is where it follows strong couplings, which the first try is for).
GAMMA_MEAN = {"cg": 8.0 ** 0.25, "jacobi": 8.0 ** 0.25, "ic0": 1.0}
#: The relation's strong-coupling end (``μ → 0``, many iterations) per kind: the ratio that
#: holds for the share of symmetric Gauss–Seidel's iterations that over-relaxation removes
#: (:func:`regime_log_ratio`); the other share, which the best ω needs too, is at ``γ = 1``.
GAMMA_STRONG = {"cg": math.sqrt(8.0), "jacobi": math.sqrt(8.0), "ic0": 1.0 / math.sqrt(8.0)}


def regime_gamma(gap, strong):
    """The iteration ratio to symmetric Gauss–Seidel-PCG at a context where SSOR-PCG at ω = 1
    costs ``e^gap`` times the best ω's (``gap ≥ 0``, clipped): ``γ = 1/ρ + (1 − 1/ρ)·γ_s``
    with ``ρ = e^gap`` and ``γ_s`` the relation's strong-coupling end.

    Of ω = 1's iterations, the share ``1/ρ`` is what the best ω needs as well — the
    few-iteration part, where a Krylov method's count hardly depends on the preconditioner
    (``γ = 1``) — and the share ``1 − 1/ρ`` is what over-relaxation removes, the strongly
    coupled smooth modes, where the relation's asymptotic end holds (``γ_s``: plain CG
    ``√8``, IC(0) ``1/√8``).  Near the best ω (``ρ → 1``) CG is at its cheap end and IC(0)
    at its dear one; far above it, the reverse.  The gap includes the calls' fixed work, so
    ``ρ`` is at most the iteration ratio and ``γ`` is placed no further towards the strong end
    than the iterations put it."""
    inv = math.exp(-max(0.0, gap))
    return inv + (1.0 - inv) * strong


def range_log_ratios(arms, r):
    """Per arm, ``(log mean, log cheap end)`` of its cost ratio to SSOR-PCG at ω = 1,
    ``γ · w_k / w_sgs`` at ``γ =`` :data:`GAMMA_MEAN` and ``γ = γ_lo`` (NaN for an arm
    without a relation); two arrays."""
    centre = np.full(len(arms), np.nan)
    low = np.full(len(arms), np.nan)
    w_ref = per_iteration("sgs", r)
    for k, a in enumerate(arms):
        rel = _relation(a)
        if rel is not None:
            w = math.log(per_iteration(rel[1], r) / w_ref)
            centre[k] = w + math.log(GAMMA_MEAN[rel[1]])
            low[k] = w + math.log(GAMMA_RANGE[rel[1]][0])
    return centre, low


def range_basis(policy, family, pos):
    """The layout of ``lone_prior="range"``: the default ``arm_basis="omega"`` line as built,
    every arm keeping its row, and the related arms (plain CG, Jacobi-CG, IC(0)-CG) moved to
    the SSOR-PCG ω = 1 arm's row plus an indicator column each.  Until a related arm is
    played the other arms' predictions and widths are the default layout's (no round has a
    non-zero entry in the new columns).  Sets ``_X``, ``_degree``, ``_context_mult``, the
    work prior's ``_work_cols`` and ``_work_ratio`` (:class:`bandit._joint_work.WorkPrior`),
    ``_base_arms`` (the unrelated arms) and ``_untried_arms``, ``_untried_drop`` (the cheap
    end's log below the mean) and ``_untried_ref`` (:func:`first_try`).  ``ValueError`` if
    the arms have no SSOR-PCG arm at ω = 1 or no related arm, or the layout is not
    ``"omega"``."""
    arms = policy.arms
    has = np.array([arm_omega(a) is not None for a in arms])
    ref = [k for k, a in enumerate(arms) if has[k] and isinstance(a, dict)
           and a.get("method", "ssor_pcg") == "ssor_pcg" and abs(arm_omega(a) - 1.0) < 1e-9]
    related = np.array([_relation(a) is not None for a in arms])
    if not ref or not related.any() or policy.arm_basis != "omega":
        raise ValueError("lone_prior='range' predicts plain CG, Jacobi-CG or IC(0)-CG arms "
                         "from an SSOR-PCG arm at omega = 1.0 on the arm_basis='omega' layout; "
                         + ("arm_basis is " + repr(policy.arm_basis) if policy.arm_basis
                            != "omega" else "these arms lack " + ("that arm" if not ref else
                                                                  "an arm to predict")))
    line = policy._X
    mw = line.shape[1]
    lone = np.flatnonzero(related)
    X = np.zeros((len(arms), mw + lone.size))
    X[:, :mw] = line
    cols = np.full(len(arms), -1, dtype=np.int64)
    for j, k in enumerate(lone):
        X[k, :mw] = line[ref[0]]
        X[k, mw + j] = 1.0
        cols[k] = mw + j
    policy._X = np.ascontiguousarray(X)
    # the line's columns penalised as the default's (column j of degree j), each offset as a
    # level whose context dependence is penalised as a family's block
    policy._degree = np.concatenate((np.arange(mw, dtype=float), np.zeros(lone.size)))
    policy._context_mult = np.concatenate(
        (np.ones(mw), np.full(lone.size, float(policy.FAMILY_CONTEXT_PENALTY))))
    # before any arm has converged the draw keeps to the unrelated arms (as with
    # lone_arms="offset"): with no cost seen the widest prediction, a new column, would
    # open the run
    policy._base_arms = np.flatnonzero(~related)
    policy._work_cols = cols
    policy._untried_arms = lone
    policy._untried_ref = int(ref[0])
    centre, low = range_log_ratios(arms, 5.0)
    # the cheap end below the mean: a constant of the relation (no r), so a state loaded
    # with its own work_ratio has its own cheap ends
    policy._untried_drop = low - centre
    # the regime's reading (first_try): the relation's mean and strong end, per arm
    kinds = [(_relation(a) or (None, None))[1] for a in arms]
    policy._untried_mean = np.array([math.log(GAMMA_MEAN[q]) if q else np.nan for q in kinds])
    policy._untried_strong = np.array([GAMMA_STRONG[q] if q else np.nan for q in kinds])
    policy._untried_regime = True
    take_ratios(policy, 5.0)


def take_ratios(policy, r):
    """Set the prior's means (``_work_ratio``) for rows of ``r`` entries."""
    policy._work_ratio = range_log_ratios(policy.arms, r)[0]


def first_try(policy, k):
    """The arm a round plays after its draw chose ``k`` (:meth:`bandit.JointCB.select`, with
    ``lone_prior="range"`` and the try gate on): ``k``, unless ``k`` is of the leader's family
    and some related family never played has a saving ``s`` at the regime's ratio
    (:func:`regime_gamma`; the range's cheap end if ``_untried_regime`` is off) with
    ``s · n ≥ a`` (the module's rule; ``n`` the run's converged solves, ``a`` the guard's
    allowance of a first try); then that family's arm of greatest ``s``."""
    arms = policy._untried_arms
    counts = policy.counts
    memo = policy._mu_of
    fam = policy._gate_family
    if arms.size == 0 or memo is None or memo[2] is None or memo[2] < 0 or fam.size == 0 \
            or policy.models_cost:
        return k
    lead = memo[2]
    if fam[k] != fam[lead]:
        return k  # the draw plays a rival already
    n = float(policy.converged_counts.sum())
    mu = policy._mu
    ref = policy._untried_ref
    base = mu[ref] - mu[lead]
    # how far ω = 1 sits above the best ω of its family at the context: the regime
    curve = np.flatnonzero(fam == fam[ref])
    gap = float(mu[ref] - mu[curve].min())
    allowance = float(policy._gate_allow[1])
    best, saving = k, 0.0
    left = False
    for j in arms:
        if counts[j] > 0:
            continue
        left = True
        if policy._untried_regime:
            lo = (policy._work_ratio[j] - policy._untried_mean[j]
                  + math.log(regime_gamma(gap, policy._untried_strong[j])))
        else:
            lo = policy._work_ratio[j] + policy._untried_drop[j]
        s = -math.expm1(base + lo)
        if s > saving and s * n >= allowance:
            best, saving = int(j), s
    if not left:
        policy._untried_arms = arms[:0]  # every related family played: the rule is done
    return best
