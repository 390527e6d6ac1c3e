"""Which never-played family a rival's first try goes to (``JointCB.first_pick``, on by
default; measured side by side in ``docs/studies/precond_rules.md``, *A rival's first try
placed by the regime the leader's cost shows*).

With the try gate and :attr:`bandit.JointCB.gate_pick`, a draw that falls on a rival family
is played as the rival arm of greatest gate value, its expected saving times the leader's
evidence.  A family never played has no reading of its own: its predicted gap to the leader
and that gap's width are where the layout puts it (on the default line, a family's place next
to its neighbours), and the expected saving ``E[max(0, 1 − e^D)]`` grows with the width.  So
among never-played families the gate's pick goes to the widest (AMG with a kept set-up, at the
line's end), whichever one could win there.  On the anisotropic sequence the gate lets a first
try through at the strongest anisotropy (the trough of the sweep, where the leader's evidence
builds up), where IC(0)-CG costs 0.5–0.6 × SSOR-PCG's best; the try goes to AMG, which loses,
and IC(0)-CG is first tried at the weak end, where it loses by 2 ×, and never again.

The rule keeps the gate's decision that a try is due and changes which never-played family
stands for it, by the regime the leader's own cost shows at the context:

* **the regime**: the leader's family's predicted log-cost at the context (its cheapest arm),
  placed within its range over the contexts met so far (the model at nine evenly spaced
  contexts between the least and the greatest seen, and at this one): ``q = (μ − min) /
  (max − min)`` in [0, 1].  For a sequence of one size and sparsity pattern the leader's cost
  at its best ω is its iterations times a fixed work, so ``q`` says whether the context is
  among the systems the leader finds hardest (``q > 1/2``) or easiest (``q < 1/2``);
* **the family's strength** against the leader's: each preconditioner ranked by how much of
  the operator it captures per iteration — plain CG 0, Jacobi 1, SSOR / symmetric
  Gauss–Seidel 2, IC(0) 3, AMG 4 (the iteration relations: plain and Jacobi-CG ``γ ≥ 1``
  against symmetric Gauss–Seidel, IC(0)-CG ``γ ≤ 1``; AMG a count that does not grow with
  the conditioning).  A stronger preconditioner than the
  leader's costs more per iteration or a set-up and saves iterations, so it pays where the
  leader iterates most; a weaker one has cheaper iterations and pays where few are needed.
  Where the leader is at its hardest the first try goes to a never-played *stronger* family,
  at its easiest to a *weaker* one, at ``q = 1/2`` (or with no regime to read: no scalar
  context, a flat cost) to either;
* among the families so chosen (every never-played family when none is of the wanted side),
  the one of **least predicted cost** at the context — the drawn arm on a tie.

Arms whose family has no rank (another solver, a user's preconditioner) count as neither side.
No constant is fitted to a sequence: the side is the regime's half, the ranks the iteration
relations' order.  Once played a family is weighed by the gate as any other.

**When** a first try may come (``JointCB.first_wait``, on by default; *A rival family's first
try after the leader's family is read at two arms* in the study): not while the leader's own
family has a converged solve at fewer than two of its arms (:func:`leader_read`).  The
leader's predicted cost is the first try's yardstick — the gate weighs the expected saving
against it and the guard stops the try at it — and read at the family's first pick alone,
on the first, cold solves, it stands far above the family's cost once its parameter is
explored.  Such a round plays the gate's own fall-back (:func:`leader_round`).
"""
from __future__ import annotations

import numpy as np

from ._kernels_gate import _argmin_family

__all__ = ["arm_strength", "first_pick", "leader_read", "regime"]

#: A preconditioner's rank by how much of the operator one application captures (CG's ``pc``)
STRENGTH = {None: 0, "none": 0, "jacobi": 1, "ssor": 2, "sgs": 2, "ic0": 3, "amg": 4}
#: Contexts at which the leader's range is read (evenly spaced over the contexts seen)
POINTS = 9


def arm_strength(arm):
    """The rank of ``arm``'s preconditioner (:data:`STRENGTH`): SSOR-PCG and SOR arms (and
    plain ω arms) 2, CG by its ``pc``; None for any other arm."""
    if not isinstance(arm, dict):
        return 2
    method = arm.get("method", "ssor_pcg")
    if method in ("ssor_pcg", "sor"):
        return 2
    if method == "cg":
        return STRENGTH.get(arm.get("pc"))
    return None


def regime(policy, context, lead_family):
    """``q ∈ [0, 1]``, where the leader's family's predicted log-cost at ``context`` lies in
    its range over :data:`POINTS` contexts spread over those seen (and ``context`` itself);
    None without a scalar context seen on both sides or when the range is flat."""
    seen = policy.__dict__.get("_first_seen")
    feats = policy.features
    if seen is None or not seen[1] > seen[0] or feats.range.lo is None:
        return None
    xs = np.append(np.linspace(seen[0], seen[1], POINTS), context)
    psi = feats.basis(feats.range.unit(xs[:, None]))  # (points, m): no cache of the map moved
    mw = policy._X.shape[1]
    v = psi @ policy.theta.reshape(-1, mw)
    rows = policy._X[policy._gate_family == lead_family]
    mu = (v @ rows.T).min(axis=1)
    lo, hi = float(mu.min()), float(mu.max())
    if not hi > lo:
        return None
    return (float(mu[-1]) - lo) / (hi - lo)


def first_pick(policy, k):
    """The arm a round plays after its draw chose ``k`` (:meth:`bandit.JointCB.select` with
    :attr:`~bandit.JointCB.first_pick`): ``k``, unless ``k`` is a rival family's first try
    (its family never played, let through by the try gate); then the never-played family's
    arm the module's rule picks.  Keeps the scalar contexts' range seen (``_first_seen``)."""
    if policy.__dict__.get("_first_done"):
        return k  # every family has been played: nothing left for the rule
    memo = policy._mu_of
    if memo is None:
        return k
    context = memo[0]
    if isinstance(context, float):  # (numpy's float64 too)
        context = float(context)
        seen = policy.__dict__.get("_first_seen")
        if seen is None:
            policy._first_seen = [context, context]
        elif context < seen[0]:
            seen[0] = context
        elif context > seen[1]:
            seen[1] = context
    # the families as Python ints (the learner's list of its gate's array): this test runs
    # every round until each family has had one, and NumPy's scalars cost more cache-cold
    families = policy._gate_fams
    if families is None:
        families = policy._gate_family.tolist()
    lead = memo[2]
    if not families or lead is None or lead < 0 or families[k] == families[lead]:
        return k
    counts = policy.counts.tolist()
    played = {f for f, c in zip(families, counts) if c > 0}
    if len(played) == len(set(families)):
        policy._first_done = True  # every family has a round: nothing left to place
    if families[k] in played:
        return k  # a proven rival: the gate's pick stands
    if policy.__dict__.get("_first_wait", False) and not leader_read(policy, families, lead):
        return leader_round(policy, families[lead])  # the leader's family first (first_wait)
    strength = policy.__dict__.get("_first_strength")
    if strength is None:
        strength = policy._first_strength = [arm_strength(a) for a in policy.arms]
    cands = [j for j, f in enumerate(families) if f not in played]
    q = regime(policy, context, families[lead]) if isinstance(context, float) else None
    own = strength[lead]
    if q is not None and own is not None and q != 0.5:
        side = [j for j in cands if strength[j] is not None
                and (strength[j] > own if q > 0.5 else strength[j] < own)]
        cands = side or cands
    mu = policy._mu
    best = k if k in cands else cands[0]
    for j in cands:
        if mu[j] < mu[best]:
            best = j
    return int(best)


def leader_read(policy, families, lead):
    """Whether the leader's family has been read at two of its arms (at its one arm if it has
    one): a converged solve at each (:attr:`bandit.JointCB.first_wait`)."""
    own = families[lead]
    size = read = 0
    for f, c in zip(families, policy.converged_counts.tolist()):
        if f == own:
            size += 1
            read += c > 0
    return read >= min(2, size)


def leader_round(policy, own):
    """The arm a gated draw plays when it keeps to the leader's family ``own`` (the try
    gate's own fall-back, :func:`bandit._kernels_gate._gated_arm`): the least score among
    that family's arms next to its predicted best, from the round's means and scores."""
    family = policy._gate_family
    near_mask = policy._near_mask
    near = _argmin_family(policy._mu, family, own, near_mask, -1) if near_mask.size else -1
    return int(_argmin_family(policy._score, family, own, near_mask, near))
