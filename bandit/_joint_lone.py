"""A configuration arm without an ω predicted from its own rounds (``JointCB(lone_arms=
"offset")``), not from its neighbour on the line.

On the line layouts (``arm_basis="omega"`` or ``"line"``) an arm without an ω — plain CG,
Jacobi-CG, IC(0)-CG, an AMG arm: each a family of its own — has a place on the line after the
families of several ω, and its cost is the line's curve there: plain CG listed after SSOR-PCG
ω = 1.9 is predicted at about ω = 1.9's cost, whatever CG costs.  Where the largest ω is dear
(heat3d: 1.15–3.7 × the leader, where the clock put plain CG at 0.37–0.83 ×) the rival is
predicted dear with a narrow spread, and the try gate never plays it.

With ``lone_arms="offset"`` such an arm's features are instead

* the *mean* of the line's rows over the arms that have an ω: the arm starts at the ω arms'
  mean log-cost and moves with the context as they do on average, borrowing from no
  particular ω; and
* an indicator column of its own (its offset from that mean), penalised as a level (degree 0)
  and its dependence on the context :attr:`~bandit.JointCB.FAMILY_CONTEXT_PENALTY` times more,
  as a family's block is with ``arm_basis="family"``.

Before the arm is played its offset has the ridge's prior, mean 0 and variance
``σ̂² / λ``: the model says honestly that it knows nothing of the arm's cost beyond the ω
arms' mean, and the try gate weighs that spread; once played the offset is learnt from the
arm's own rounds.  The line itself spans the arms with an ω alone, placed as the layout places
them (``"omega"``: the families of several ω end to end, each by its ω; ``"line"``: by ω), with
``min(m_omega, their number)`` Chebyshev columns: over one family of ω, the columns of the
ω-only learner over it.  No arm with an ω has a non-zero entry in an offset column, so while
no arm without an ω has been played their predictions and widths are those of a learner over
the arms with an ω alone (to rounding: products with the offsets' zeros change the order of
some sums).  The model has as many arm columns as arms up to ``m_omega`` on the line (13
over the study's grid, the line's 12): an offset per arm on top of the line's 12 columns made
each round's rank-one update half as dear again, which a solve of a few milliseconds feels.
Before any arm has converged the draw keeps to the arms with an ω (as ``arm_basis="base"`` keeps to its
base family): with no cost seen every prediction is 0 and the widest, an unplayed offset,
would open the run.
"""
from __future__ import annotations

import numpy as np

from ._base import arm_omega
from .features import _chebyshev
from .smooth import arm_positions


def lone_offsets(policy, family, pos):
    """Rebuild ``policy._X`` (a line layout's, built) for ``lone_arms="offset"``: the line
    over the arms with an ω alone, each arm without an ω the mean of their rows and an
    indicator column of its own; sets ``_degree`` (the line's columns ``j``, the offsets 0),
    ``_context_mult`` (1 and ``FAMILY_CONTEXT_PENALTY``) and ``_base_arms`` (the arms with
    an ω, where the draw keeps before any arm has converged).  Nothing changes when every
    arm, or none, has an ω."""
    has = np.array([arm_omega(a) is not None for a in policy.arms])
    lone = np.flatnonzero(~has)
    if lone.size == 0 or lone.size == has.size:
        return
    x = np.zeros(has.size)
    if policy.arm_basis == "omega":  # the families with an ω end to end, as on the line
        start = 0.0
        for f in range(int(family.max()) + 1):
            idx = np.flatnonzero(family == f)
            if not has[idx[0]]:
                continue
            x[idx] = start + pos[idx]
            start = x[idx].max() + 1.0
    else:  # "line": the arms with an ω by their ω
        x[has] = arm_positions([policy.arms[k] for k in np.flatnonzero(has)])
    span = x[has].max() if x[has].max() > 0 else 1.0
    mw = min(policy.m_omega, int(has.sum()))
    line = np.zeros((has.size, mw))
    for k in np.flatnonzero(has):
        line[k] = _chebyshev(2.0 * x[k] / span - 1.0, mw)
    line[lone] = line[has].mean(axis=0)
    own = np.zeros((has.size, lone.size))
    own[lone, np.arange(lone.size)] = 1.0
    policy._X = np.ascontiguousarray(np.hstack((line, own)))
    policy._degree = np.concatenate((np.arange(mw, dtype=float), np.zeros(lone.size)))
    policy._context_mult = np.concatenate(
        (np.ones(mw), np.full(lone.size, float(policy.FAMILY_CONTEXT_PENALTY))))
    policy._base_arms = np.flatnonzero(has)
