"""The arm features of :class:`bandit.JointCB`: the layouts ``χ_k`` of its ``arm_basis``
(``"line"``, ``"omega"``, ``"family"``), the ridge penalty ``λΛ`` on the joint
features, and the neighbours ``explore_radius`` lets exploration draw.

A mixin of :class:`~bandit.JointCB`; the setting's documentation stays in
:mod:`bandit.joint`, ``FAMILY_CONTEXT_PENALTY`` is here (documented on the class's page).
"""
from __future__ import annotations

import numpy as np

from ._base import arm_omega
from .features import _chebyshev
from .smooth import arm_positions


class ArmBasis:
    """The arm basis ``χ`` (``_X``, and ``_degree`` for the family layout), its penalty and
    the exploration radius's mask (``_near_mask``)."""

    #: How many times more a family's own dependence on the context is penalised than the
    #: dependence all arms share (``arm_basis="family"``).  Chosen on replays of recorded
    #: per-system costs of configuration arms (mc3d, heat2d): 1–2 explored dear families at
    #: every new context, 10 and more kept a family tried at small κ from being learnt at
    #: large κ (heat2d); 3–5 were within noise of each other.
    FAMILY_CONTEXT_PENALTY = 4.0

    def _line_basis(self):
        """All arms on one line: by ω when every arm has one, else by index (plain ω arms,
        and the layout of ``arm_basis="line"``)."""
        # arm basis χ: Chebyshev in ω mapped to [-1, 1]; more than K columns add nothing
        x = arm_positions(self.arms)
        span = x.max() if x.max() > 0 else 1.0
        mw = min(self.m_omega, self.n_arms)
        self._X = np.ascontiguousarray(np.array([_chebyshev(2.0 * v / span - 1.0, mw) for v in x]))
        # row k: the arms exploration may draw when arm k is the predicted best (empty: all)
        self._near_mask = np.zeros((0, 0), dtype=bool)
        omegas = [arm_omega(a) for a in self.arms]
        if self.explore_radius is not None and all(w is not None for w in omegas):
            # neighbours by rank among the distinct ω, not by distance in median grid steps:
            # on an uneven grid (1.0, 1.2, 1.4, 1.5, ...) the median step is 0.1, and 1.0 had
            # no arm within one step — a learner whose model put the best there never moved
            rank = np.searchsorted(np.unique(omegas), omegas).astype(float)
            reach = self.explore_radius * (1 + 1e-9)
            self._near_mask = np.abs(rank[:, None] - rank[None, :]) <= reach

    def _omega_line_basis(self, family, pos):
        """All arms on one line, each family of several ω placed by its ω (``arm_basis="omega"``).

        The families (:func:`bandit.smooth.family_positions`) are laid end to end in the order
        of their first arm, one family grid step apart: the SSOR-PCG ω 1.0, 1.2, 1.4, 1.5, …, 1.9
        at 0, 2, 4, 5, …, 9, then plain CG, Jacobi-CG, IC(0)-CG, … at 10, 11, 12, ….  The
        basis is the line's (``min(m_omega, K)`` Chebyshev polynomials of the position), so
        within a family the model is a smooth curve in ω, as over plain ω arms, and the
        exploration radius applies within the predicted best's family in its ω order (as
        with ``arm_basis="family"``: the way to a better ω leads through the neighbours of the
        best); the other families are explored by the confidence width."""
        x = np.zeros(self.n_arms)
        start = 0.0
        for f in range(int(family.max()) + 1):
            idx = np.flatnonzero(family == f)
            x[idx] = start + pos[idx]
            start = x[idx].max() + 1.0
        span = x.max() if x.max() > 0 else 1.0
        mw = min(self.m_omega, self.n_arms)
        self._X = np.ascontiguousarray(np.array([_chebyshev(2.0 * v / span - 1.0, mw) for v in x]))
        self._near_mask = self._family_radius_mask(family, pos)

    def _family_radius_mask(self, family, pos):
        """The exploration radius over configuration arms (``near_mask``; empty: none): within
        the predicted best's family, its neighbours in the family's ω order (an uneven grid
        such as 1.0, 1.2, 1.4, 1.5 has 1.2 next to 1.0, not two median steps away); every
        other family is open to the confidence width (families have no order between them)."""
        if self.explore_radius is None:
            return np.zeros((0, 0), dtype=bool)
        same = family[:, None] == family[None, :]
        rank = np.zeros(self.n_arms)
        for f in range(int(family.max()) + 1):
            idx = np.flatnonzero(family == f)
            rank[idx[np.argsort(pos[idx], kind="stable")]] = np.arange(idx.size)
        near = np.abs(rank[:, None] - rank[None, :]) <= self.explore_radius * (1 + 1e-9)
        mask = ~same | near
        # all True (every family one arm): no restriction
        return np.zeros((0, 0), dtype=bool) if mask.all() else mask

    def _family_basis(self, family, pos):
        """A column shared by every arm, then one block of columns per family of arms that
        differ only by ω (:func:`bandit.smooth.family_positions`): the family's indicator times a
        Chebyshev basis in the family's own ω mapped to [−1, 1] (the indicator alone for a
        family of one arm), and in a family of several ω each arm's own level (its indicator,
        penalised as the family's level).  Arms of different families share no family column:
        the model learns each family's level from its own rounds and the shape in ω within a
        family from all of them, and the penalty ``(j + 1)²`` on the degree ``j`` within the
        family smooths in ω without pulling one family towards another.  The arms' own levels
        keep an ω read once as uncertain as an arm alone (a cold first solve of each ω, read
        slow, would otherwise price the whole family); an ω never played is predicted by the
        family's curve.  How the cost moves with the context is shared (the shared column); a
        family's own departure from it is penalised :data:`FAMILY_CONTEXT_PENALTY` times more,
        so a family tried once is predicted at other contexts by how the others move, not left
        open at every new context."""
        blocks, degree = [np.ones((self.n_arms, 1))], [0]
        for f in range(int(family.max()) + 1):
            idx = np.flatnonzero(family == f)
            mw = min(self.m_omega, idx.size)
            span = pos[idx].max() if pos[idx].max() > 0 else 1.0
            block = np.zeros((self.n_arms, mw))
            for k in idx:
                block[k] = _chebyshev(2.0 * pos[k] / span - 1.0, mw) if mw > 1 else 1.0
            blocks.append(block)
            degree.extend(range(mw))
            if idx.size > 1:  # each ω's own level, penalised as the family's
                blocks.append(np.eye(self.n_arms)[:, idx])
                degree.extend([0] * idx.size)
        self._X = np.ascontiguousarray(np.hstack(blocks))
        self._degree = np.asarray(degree, dtype=float)
        self._near_mask = self._family_radius_mask(family, pos)

    @property
    def _near(self):
        """Per predicted best, the indices of the arms exploration may draw (None: all)."""
        if not self._near_mask.size:
            return None
        return [np.flatnonzero(row) for row in self._near_mask]

    def _penalty_diag(self):
        """``λ Λ`` on the joint features (index ``i·m_omega + j``)."""
        ctx = np.diag(self.features.penalty)
        if self._degree is None:  # the line basis: column j has degree j in ω
            j = np.arange(self._X.shape[1]) + 1.0
            return self.ridge * np.outer(ctx, j ** 2).ravel()
        # the family basis: degree in ω within the family; a family's departure from the
        # shared dependence on the context (context feature i > 0) penalised more
        pen = np.outer(ctx, (self._degree + 1.0) ** 2)
        pen[1:, 1:] *= self.FAMILY_CONTEXT_PENALTY
        return self.ridge * pen.ravel()
