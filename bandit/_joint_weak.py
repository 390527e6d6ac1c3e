"""A never-played family weaker than the leader's tried against the run's solves
(``JointCB.weak_first``, an option, off; measured side by side in
``docs/studies/precond_rules.md``, *heatadapt's excess over the ω-only learner, finadapt's
missed plain CG, and a weaker family's first try weighed by the run's solves*: behind on
aniso2d, where it displaces IC(0)-CG's first try, and not ahead on finadapt).

The try gate weighs a rival's try by its expected saving per solve times the leader's evidence
at the context (``1 / φᵀPφ``, the solves seen near it).  Where the context moves on at every
step — the first pass of an adaptive time step, a sweep — that evidence is a solve or two, so
no rival is tried there: on the cooling fin the learner's first 47 steps, where plain CG costs
0.53–0.64 × the leader, pass with no try (the gate's value of plain CG's try 0.01–0.33 of its
allowance).  One reading there is all that is missing: an untimed learner made to try plain CG
once at the fifth step keeps it over those bins in every seed tried.

A family *weaker* than the leader's (a cheaper iteration, no set-up: plain CG and Jacobi-CG
against SSOR-PCG, by the ranks of :data:`bandit._joint_first.STRENGTH`) is the one rival whose
first try is priced by the leader's solve alone — the guard stops it at the leader's predicted
cost, with nothing built first — and whose reading the model carries to every context (a family
read once is predicted elsewhere at the same ratio to the leader).  Its first try therefore
serves the solves ahead wherever they fall, and the rule counts them by the run's own length
so far: while a weaker family has never been played, its try's evidence is at least the run's
converged solves (the solves ahead, as many as behind), and it is played when its expected
saving times that evidence reaches its first try's allowance.  Nothing else changes: a
stronger family's first try stays the gate's and :mod:`bandit._joint_first`'s (its reading is
worth most where the leader iterates most, and it carries a set-up), and once played a family
is weighed by the gate as any other.  No constant is fitted: the evidence is the run's count,
the allowance the guard's.

The rule runs after the draw, in Python, only while a weaker family is unplayed (one flag
read after that).
"""
from __future__ import annotations

import math

import numpy as np

from ._joint_first import arm_strength
from ._kernels_gate import expected_saving

__all__ = ["weak_first"]


def _weaker(policy, lead):
    """The arms of the never-played families weaker than the leader's (an empty list when
    none is left: ``_weak_done`` is then set, and :func:`weak_first` reads only that flag;
    a leader of a stronger family met later is not weighed again)."""
    strength = policy.__dict__.get("_weak_strength")
    if strength is None:
        strength = policy._weak_strength = [arm_strength(a) for a in policy.arms]
    own = strength[lead]
    if own is None:
        return []
    fam = policy._gate_family.tolist()
    counts = policy.counts.tolist()
    played = {f for f, c in zip(fam, counts) if c > 0}
    left = [j for j, s in enumerate(strength)
            if s is not None and s < own and fam[j] not in played]
    if not left:
        policy._weak_done = True
    return left


def weak_first(policy, k, context):
    """The arm a round plays after its draw (and :func:`bandit._joint_first.first_pick`)
    chose ``k``: ``k``, unless it is of the leader's family and a never-played family weaker
    than the leader's has an arm whose try pays against the run's converged solves; then that
    family's arm of greatest ``saving × evidence / allowance`` (the gate's own terms:
    :func:`bandit._kernels_gate.expected_saving` of the predicted gap and its spread
    ``σ̂ sqrt(w_j + w_lead)``, ``w = φᵀPφ``; evidence ``max(1 / w_lead, converged solves)``;
    the allowance of a first try)."""
    if policy.__dict__.get("_weak_done"):
        return k
    memo = policy._mu_of
    fam = policy._gate_family
    if memo is None or fam.size == 0 or policy._gate_allow.size < 2:
        return k
    lead = memo[2]
    if lead is None or lead < 0 or fam[k] != fam[lead]:
        return k
    cands = _weaker(policy, lead)
    if not cands:
        return k
    mu = policy._mu
    sigma = math.sqrt((policy.sq_err + 0.1) / (policy.t - policy.forgotten + 1))
    P = policy.P
    phi = policy.phi(context, lead)
    w_lead = float(phi @ P @ phi)
    if not (w_lead > 0.0 and math.isfinite(w_lead)):
        return k
    evidence = max(1.0 / w_lead, float(np.sum(policy.converged_counts)))
    allowance = float(policy._gate_allow[1])
    best, value = k, -math.inf
    for j in cands:
        phi = policy.phi(context, j)
        spread = sigma * math.sqrt(float(phi @ P @ phi) + w_lead)
        gain = float(expected_saving(float(mu[j] - mu[lead]), spread)) * evidence
        if gain >= allowance and gain / allowance > value:
            best, value = j, gain / allowance
    return int(best)
