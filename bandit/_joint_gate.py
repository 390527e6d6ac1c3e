"""The try gate of :class:`bandit.JointCB` and its rules' settings: whether a drawn rival
family's try is weighed by its value (:attr:`~bandit.JointCB.try_gate`, the arrays the draw
passes, a guarded Tuner's families and allowances), which rival arm is weighed
(:attr:`~bandit.JointCB.gate_pick`), where a rival's first try goes
(:attr:`~bandit.JointCB.first_pick`, whose rule is :mod:`bandit._joint_first`, and the range
of contexts it reads, :attr:`~bandit.JointCB.first_seen`), and the gate's options that were
measured and removed (:mod:`bandit._joint_removed`).

A mixin of :class:`~bandit.JointCB`, split from :mod:`bandit.joint`.
"""
from __future__ import annotations

import numpy as np

from . import _joint_removed


class TryGate:
    """The try gate's settings and arrays, the first pick's, and the gate's removed options."""

    # the try gate (try_gate): what the draw passes, the families when the gate is on and a
    # guarded Tuner has given them (gate_tries), else empty (class defaults: a learner
    # pickled before the gate has none)
    _try_gate = False
    _try_spec = None
    _gate_family = np.empty(0, dtype=np.int64)
    _gate_allow = np.empty(0)
    #: ``_gate_family`` as a list of ints, for the Python that reads single entries every
    #: round (:func:`bandit._joint_first.first_pick`); None: read from the array (no gate, or
    #: a learner pickled before the list)
    _gate_fams = None

    @property
    def try_gate(self):
        """Whether the draw weighs a rival family's try by its value (off by default).

        Under a guarded :class:`~bandit.Tuner` of configuration arms (which gives the
        families and the guard's allowances, :meth:`gate_tries`), a lower-confidence-bound
        draw of an arm ``k`` of another family than the leader ``l`` (the played arm of
        least predicted cost) is played only when its try pays by the model's own numbers
        (:meth:`bandit.armset.ArmSet.try_pays`): the fraction of the leader's cost it is
        expected to save a solve, ``E[max(0, 1 − e^D)]`` for ``D ~ N(d, s²)`` — ``d = μ_k −
        μ_l`` the predicted log-cost gap, ``s = σ̂ sqrt(φ_kᵀPφ_k + φ_lᵀPφ_l)`` its spread
        (the two predictions' uncertainties, their covariance left out) — times the
        *evidence* of the leader's prediction there, ``1 / φ_lᵀPφ_l`` (how many solves it is
        worth: ``n`` solves at that very context give about ``n``, a context beyond those
        seen a few hundredths), must reach the try's allowance in leader's solves
        (``min(guard, 1.5)``, or ``min(guard, 1)`` while the rival's family has not
        converged: what a try that loses may cost, :meth:`bandit.armset.ArmSet.allowance`).
        Otherwise the round plays the draw among the leader's family: its least lower
        confidence bound next to that family's predicted best (``explore_radius``), told as
        any round; the rival, untold, is weighed again at its next draw, when the evidence
        has grown.  The rule runs inside the draw's compiled call
        (:func:`bandit._kernels.joint_select_lcb`), so a declined rival costs no second
        pass.  Only the lower-confidence-bound draw of a model of the log-cost is gated
        (not ``exploration="igw"`` or a model of the cost itself), and only under
        a guarded Tuner over several families; a learner saved before the option loads
        without it."""
        return self._try_gate

    @try_gate.setter
    def try_gate(self, on):
        if not isinstance(on, (bool, np.bool_)):
            raise ValueError(f"try_gate must be True or False, got {on!r}")
        self._try_gate = bool(on)
        self._arm_gate()

    def gate_tries(self, spec):
        """Take a guarded Tuner's families and allowances for :attr:`try_gate`:
        ``(family, (allowance of a proven family, allowance of a first try))``
        (:meth:`bandit.armset.ArmSet.gate_spec`), or None (nothing to gate: one family, or
        no guard).  Called once, when a Tuner is made with this learner."""
        if spec is not None:
            family, allow = spec
            family = np.asarray(family, dtype=np.int64)
            allow = np.asarray(allow, dtype=np.float64)
            if family.shape != (self.n_arms,) or allow.shape != (2,):
                raise ValueError(f"gate_tries takes (family of each of the {self.n_arms} "
                                 f"arms, two allowances), got shapes {family.shape} and "
                                 f"{allow.shape}")
            spec = family, allow
        self._try_spec = spec
        self._arm_gate()

    #: True: a drawn rival stands for every arm of the other families, and the draw weighs
    #: the one of greatest gate value (see :meth:`gate_pick`); False: the drawn arm alone (a
    #: learner pickled before the option loads without it; a new one takes the parameter)
    _gate_pick = False

    @property
    def gate_pick(self):
        """Whether the try gate weighs, for a drawn rival, the rival arm of greatest gate value
        (on by default, measured side by side in ``docs/studies/precond_rules.md``).

        With :attr:`try_gate`, the lower-confidence-bound draw proposes a rival family's arm by
        its score, which favours the widest prediction: the never-played family placed where
        the model knows least (an AMG arm at the end of the line), not the one whose try
        would pay.  The gate then weighs that one proposal, and a cheaper rival narrower in
        its prior is rarely or never proposed.  With this rule a proposal of any rival is
        read as "a rival's try is due": every arm of the families other than the leader's is
        weighed by the gate's own terms — its expected saving per solve times the evidence,
        over the allowance of its try (:meth:`bandit.armset.ArmSet.try_pays`) — and the arm of
        greatest value (the drawn arm on a tie) is played when its try pays; otherwise the
        round keeps to the leader's family, as before.  The weighing runs in the draw's
        compiled call (:func:`bandit._kernels._gated_arm`): a loop over the arms there, no
        pass in Python."""
        return self._gate_pick

    @gate_pick.setter
    def gate_pick(self, on):
        if not isinstance(on, (bool, np.bool_)):
            raise ValueError(f"gate_pick must be True or False, got {on!r}")
        self._gate_pick = bool(on)

    def _arm_gate(self):
        """The arrays the draw passes for :attr:`try_gate` (empty: no gate)."""
        spec = self._try_spec if self._try_gate else None
        if spec is None:
            self.__dict__.pop("_gate_family", None)  # the class's empty arrays
            self.__dict__.pop("_gate_allow", None)
            self.__dict__.pop("_gate_fams", None)
        else:
            self._gate_family, self._gate_allow = spec
            self._gate_fams = spec[0].tolist()

    # options measured, left off and removed: each reads False and refuses True by name
    gate_losses = _joint_removed.Removed()
    first_try_run = _joint_removed.Removed()
    context_retries = _joint_removed.Removed()
    paired_first = _joint_removed.Removed()
    reread_reference = _joint_removed.Removed()

    #: see :attr:`first_pick` (class default: a learner pickled before the option plays the
    #: gate's arm; a new one takes the parameter)
    _first_pick = False

    @property
    def first_pick(self):
        """Whether a rival's first try goes by the regime the leader's cost shows (on by
        default, measured side by side in ``docs/studies/precond_rules.md``).

        With :attr:`try_gate`, when the draw's arm is a family never played (a first try the
        gate let through), the try goes to a never-played family of a stronger
        preconditioner than the leader's where the leader's predicted cost is in the upper
        half of its range over the contexts seen (it iterates most there), of a weaker one in
        the lower half, the one of least predicted cost among them
        (:mod:`bandit._joint_first`).  Without it the gate's pick, which among unread
        families is the one the layout leaves widest, is played.  No effect without the gate
        (plain ω arms, no guarded Tuner)."""
        return self._first_pick

    @first_pick.setter
    def first_pick(self, on):
        if not isinstance(on, (bool, np.bool_)):
            raise ValueError(f"first_pick must be True or False, got {on!r}")
        self._first_pick = bool(on)

    #: see :attr:`first_wait` (class default: a learner saved before the option tries a
    #: rival family whenever the gate lets it; a new one takes the parameter)
    _first_wait = False

    @property
    def first_wait(self):
        """Whether a rival family's first try waits until the leader's own family has been read
        at two of its arms (on by default, measured side by side in
        ``docs/studies/precond_rules.md``).

        With :attr:`try_gate` and :attr:`first_pick`, a draw that would be a family's first
        try (a family never played, let through by the gate) keeps to the leader's family
        while that family has a converged solve at fewer than two of its arms (at its one arm
        if it has one): the round plays the gate's own fall-back, the least score among the
        leader's family next to its predicted best.  The leader's predicted cost is the
        yardstick of a first try (the gate weighs the expected saving against it, the guard
        stops the try at it): read at one ω only — the learner's first pick, on the first,
        cold solves — it stands far above what the family costs once its ω is explored, and
        every rival looks promising.  The rule orders the exploration: a family's own
        parameter before the other families.  A rival family once played, and every draw
        once the leader's family is read at two arms, are the gate's as before
        (:func:`bandit._joint_first.leader_read`)."""
        return self._first_wait

    @first_wait.setter
    def first_wait(self, on):
        if not isinstance(on, (bool, np.bool_)):
            raise ValueError(f"first_wait must be True or False, got {on!r}")
        self._first_wait = bool(on)

    @property
    def first_seen(self):
        """The least and the greatest scalar context :attr:`first_pick`'s rule has met
        (``[lo, hi]``; None before one): the range it reads the leader's regime over, part of
        the saved state so that a loaded learner picks as the one saved would have."""
        seen = self.__dict__.get("_first_seen")
        return None if seen is None else np.array(seen, dtype=float)

    @first_seen.setter
    def first_seen(self, value):
        if value is None:
            self.__dict__.pop("_first_seen", None)
            return
        seen = np.asarray(value, dtype=float).ravel()
        if seen.shape != (2,) or not np.all(np.isfinite(seen)) or seen[0] > seen[1]:
            raise ValueError(f"first_seen must be None or [lo, hi] with lo <= hi, got {value!r}")
        self._first_seen = [float(seen[0]), float(seen[1])]
