"""A prior from the work model for the configuration arms without an ω (``JointCB(lone_prior=
"work")``): plain CG, Jacobi-CG and IC(0)-CG predicted from SSOR-PCG at ω = 1 at the same
context, by how many iterations and how much work per iteration the theory gives them.

On the line layouts an arm without an ω is predicted at its place on the line (after
SSOR-PCG's largest ω); with ``lone_arms="offset"`` at the ω arms' mean plus an offset of
mean 0 (:mod:`bandit._joint_lone`).  Neither says what the theory knows of the arm.  Here,
on the offset layout, an arm whose iterations have a documented relation to SSOR-PCG's has
the *row of the SSOR-PCG arm at ω = 1* (symmetric Gauss–Seidel, ``sgs``) plus its own offset,
and the offset's prior mean is the log of

``ratio_k = γ_k · w_k / w_sgs``,

* ``w`` the work of one iteration in matrix passes (``solvers.work_model``, symmetric ``A``
  with ``r = nnz/n`` entries a row: CG ``1 + 5/r``, Jacobi-CG ``1 + 7/r``, IC(0)-CG
  ``2 + 7/r``, SSOR-PCG's Eisenstat form ``1.5 + 12.5/r``; 2.0, 2.4, 3.4 and 4.0 for a
  5-point stencil), ``r`` read from the first system (:meth:`~bandit.JointCB.prime`; 5
  before it);
* ``γ_k`` the ratio of iterations to symmetric Gauss–Seidel-PCG's on the same system:
  CG and Jacobi-CG ``√8`` — CG's iterations grow like ``√κ`` with ``κ(D⁻¹A) ≈ 2/μ``
  (``μ = λ_min(D⁻¹A)``), SSOR-PCG's at ω = 1 like the root of Axelsson's bound
  ``1 + 1/(4μ)`` (:func:`solvers.spectral.ssor_condition_bound`), and the ratio of the roots
  tends to ``√8`` as ``μ → 0`` whatever the sequence; IC(0)-CG 1 (an incomplete factorisation
  of ``A`` on its own pattern, as symmetric Gauss–Seidel is, of the same order in ``h``).

The relation is one between the two methods' iterations at the same context, so it needs no
iteration count (the learner sees costs, not iterations) and no constant fitted to a
sequence: where a solve takes many SSOR-PCG iterations at ω = 1 and few at the best ω (large
κ), CG is predicted dear against the best ω; where ω matters little, CG is predicted at
``ratio`` times the family.  Its spread is one round's (the offset's constant term is
penalised ``λΛ = 1``: the prior counts as one reading of the arm), its dependence on the
context is penalised as an offset's, and the arm's own rounds replace it once played.  AMG
arms have no such relation (their iterations do not grow with κ): they keep the offset
layout's prior of mean 0.  A detected change (:meth:`_forget`) discounts the data, not
the prior's mean.
"""
from __future__ import annotations

import math

import numpy as np

from ._base import arm_omega
from ._joint_lone import lone_offsets

#: Iterations of CG (and Jacobi-CG) over SSOR-PCG's at ω = 1, from the condition numbers'
#: roots: ``κ(D⁻¹A) ≈ 2/μ`` against Axelsson's ``1 + 1/(4μ)``, as ``μ → 0``.
GAMMA_CG = math.sqrt(8.0)
#: Rows' entries assumed before the first system is seen (a 5-point stencil).
DEFAULT_DENSITY = 5.0


def _relation(arm):
    """``(γ, kind)`` for an arm with a work relation to SSOR-PCG at ω = 1, else None."""
    if not isinstance(arm, dict) or arm_omega(arm) is not None:
        return None
    method = arm.get("method")
    pc = arm.get("pc", "none")
    if method == "cg" or (method == "pcg" and pc in ("none", None)):
        pc = "none" if method == "cg" and pc in ("none", None) else pc
    elif method != "pcg":
        return None
    if pc in ("none", None):
        return GAMMA_CG, "cg"
    if pc == "jacobi":
        return GAMMA_CG, "jacobi"
    if pc == "ic0":
        return 1.0, "ic0"
    return None


def per_iteration(kind, r):
    """Matrix passes of one iteration (``solvers.work_model``) of a symmetric matrix of
    ``r = nnz/n`` entries a row."""
    return {"cg": 1.0 + 5.0 / r, "jacobi": 1.0 + 7.0 / r, "ic0": 2.0 + 7.0 / r,
            "sgs": 1.5 + 12.5 / r}[kind]


def work_log_ratios(arms, r):
    """Per arm, ``log(γ_k w_k / w_sgs)`` for the arms with a work relation, NaN otherwise."""
    out = np.full(len(arms), np.nan)
    w_ref = per_iteration("sgs", r)
    for k, a in enumerate(arms):
        rel = _relation(a)
        if rel is not None:
            out[k] = math.log(rel[0] * per_iteration(rel[1], r) / w_ref)
    return out


def work_basis(policy, family, pos):
    """The offset layout (:func:`bandit._joint_lone.lone_offsets`) with each arm of a work
    relation on the SSOR-PCG ω = 1 arm's row instead of the ω arms' mean; sets
    ``_work_cols`` (per arm its offset column, −1 for none).  ``ValueError`` if the arms have
    no SSOR-PCG arm at ω = 1 or no arm with a relation."""
    lone_offsets(policy, family, pos)
    arms = policy.arms
    ref = [k for k, a in enumerate(arms) if isinstance(a, dict)
           and a.get("method", "ssor_pcg") in ("ssor_pcg",) and arm_omega(a) is not None
           and abs(arm_omega(a) - 1.0) < 1e-9]
    related = [k for k, a in enumerate(arms) if _relation(a) is not None]
    if not ref or not related or policy._base_arms is None:
        raise ValueError("lone_prior='work' predicts plain CG, Jacobi-CG or IC(0)-CG arms from "
                         "an SSOR-PCG arm at omega = 1.0 (symmetric Gauss-Seidel); these arms "
                         "lack " + ("that arm" if not ref else "an arm to predict"))
    lone = np.flatnonzero([arm_omega(a) is None for a in arms])
    mw = policy._X.shape[1] - lone.size
    cols = np.full(len(arms), -1, dtype=np.int64)
    X = policy._X.copy()
    for j, k in enumerate(lone):
        if k in related:
            X[k, :mw] = X[ref[0], :mw]
            cols[k] = mw + j
    policy._X = np.ascontiguousarray(X)
    policy._work_cols = cols
    policy._work_ratio = work_log_ratios(arms, DEFAULT_DENSITY)


class WorkPrior:
    """``lone_prior="work"``: the offsets' prior means and weights in the ridge fit (a mixin of
    :class:`~bandit.JointCB`)."""

    lone_prior = "none"
    _work_cols = None
    #: The weight ``λΛ`` of the work prior's mean: one round's worth.
    WORK_PRIOR_WEIGHT = 1.0

    @property
    def work_ratio(self):
        """``lone_prior="work"``: per arm, the prior's log cost ratio to SSOR-PCG at ω = 1
        (NaN for an arm without one; part of the saved state with the option)."""
        return self._work_ratio

    @work_ratio.setter
    def work_ratio(self, value):
        self._work_ratio = np.asarray(value, dtype=np.float64)

    def _work_index(self):
        """(joint feature indices, arms) of the offsets' constant terms (``ψ_0 = 1``)."""
        arms = np.flatnonzero(self._work_cols >= 0)
        return self._work_cols[arms], arms

    def _penalty_diag(self):
        """``λ Λ`` on the joint features (:meth:`_joint_basis.ArmBasis._basis_penalty_diag`),
        the offsets' constant terms at the work prior's weight under ``lone_prior="work"``."""
        pen = self._basis_penalty_diag()
        if self._work_cols is not None:
            pen[self._work_index()[0]] = self.WORK_PRIOR_WEIGHT
        return pen

    def _work_mean(self):
        """The prior mean of the joint coefficients (zeros but the offsets' constant terms)."""
        m = np.zeros(self.P.shape[0])
        idx, arms = self._work_index()
        m[idx] = self._work_ratio[arms]
        return m

    def _take_density(self, A):
        """Read ``r = nnz/n`` of the first system and move the unplayed offsets' prior means
        to its work figures (no round has been told yet: nothing else moves)."""
        nnz, n = getattr(A, "nnz", None), getattr(A, "shape", (None,))[0]
        if not (isinstance(nnz, (int, np.integer)) and isinstance(n, (int, np.integer))
                and n > 0 and nnz >= n):
            return
        if self.lone_prior == "range":  # (bandit/_joint_untried.py: the range's centres)
            from ._joint_untried import take_ratios
            take_ratios(self, float(nnz) / float(n))
        else:
            self._work_ratio = work_log_ratios(self.arms, float(nnz) / float(n))
        if self.P is not None and self.t == 0:
            self.theta = self._work_mean()

    def _work_forgotten(self, rho, pen):
        """After a detected change's discount ``rho`` (:meth:`_joint_change.ChangeTests.
        _forget`): the discount is the data's, so the prior's mean keeps its weight."""
        self.theta = self.theta + self.P @ ((1.0 - rho) * pen * self._work_mean())
