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
arm's own rounds.  The arms with an ω keep the line's columns, placed and penalised as before,
and no arm with an ω has a non-zero entry in an offset column, so while no arm without an ω
has been played their predictions and widths are the layout's own (to rounding: the
products with the offsets' zeros change the order of some sums).  Before any
arm has converged the draw keeps to the arms with an ω (as ``arm_basis="base"`` keeps to its
base family): with no cost seen every prediction is 0 and the widest, an unplayed offset,
would open the run.
"""
from __future__ import annotations

import numpy as np

from ._base import arm_omega


def lone_offsets(policy):
    """Rewrite ``policy._X`` (a line layout's rows, built) for ``lone_arms="offset"``: each arm
    without an ω gets the mean row of the arms with an ω and an indicator column of its own
    appended; sets ``_degree`` (the line's columns ``j``, the offsets 0), ``_context_mult``
    (1 and ``FAMILY_CONTEXT_PENALTY``) and ``_base_arms`` (the arms with an ω, where the draw
    keeps before any arm has converged).  Nothing changes when every arm, or none, has an ω.
    """
    has = np.array([arm_omega(a) is not None for a in policy.arms])
    lone = np.flatnonzero(~has)
    if lone.size == 0 or lone.size == has.size:
        return
    X = policy._X
    mw = X.shape[1]
    line = X.copy()
    line[lone] = X[has].mean(axis=0)
    own = np.zeros((X.shape[0], lone.size))
    own[lone, np.arange(lone.size)] = 1.0
    policy._X = np.ascontiguousarray(np.hstack((line, own)))
    policy._degree = np.concatenate((np.arange(mw, dtype=float), np.zeros(lone.size)))
    policy._context_mult = np.concatenate(
        (np.ones(mw), np.full(lone.size, float(policy.FAMILY_CONTEXT_PENALTY))))
    policy._base_arms = np.flatnonzero(has)
