"""What :class:`bandit.JointCB` saves and how a saved learner is read back: the saved state's
keys, the class defaults that make a learner pickled or saved before an attribute existed what
it was then, the constructor settings a state saves (:meth:`~bandit.Policy.state_dict`) and
their mapping from an older state, and the reading of a pickle or a state that names a removed
option (:mod:`bandit._joint_removed`).

A mixin of :class:`~bandit.JointCB`, split from :mod:`bandit.joint` (a pickle or a state names
the class there, ``bandit.joint.JointCB``, however its members are laid out).
"""
from __future__ import annotations

from . import _joint_removed


class SavedState:
    """JointCB's saved state and settings, and the defaults of a learner saved before them."""

    _state_keys = ("P", "theta", "unit", "sq_err", "log_sq_err", "context_range", "prior_curve",
                   "prior_used", "prior_moved", "prior_dir", "prior_proj", "prior_usq", "prior_c",
                   "prior_s2", "cusum_up", "cusum_down", "forgotten", "prior_scale", "changes",
                   "drift_level", "drift_score", "drifts", "prior_w",
                   "auto_span", "auto_rounds", "first_seen")
    # class defaults: a learner pickled or saved before these existed is what it was then
    target = "log"
    log_sq_err = 0.0
    # target="auto" with a context (:meth:`_auto_target`): the least and largest context seen
    # and the latest rounds while the context has not varied (None once it has, and in a
    # learner saved before the rule, which modelled the log-cost from its first context)
    auto_span = None
    _auto_kept = None  # the rounds of auto_rounds, a deque of tuples (cheap to append)
    arm_basis = "line"
    _degree = None  # the line basis: column j has degree j
    prior_shift = None
    prior_moved = None  # (nodes, K): the prior's log-curve with its best ω moved (quadrature)
    prior_dir = None  # (r, d): Φu_j, the pseudo-observations' rows weighted by the shared error
    prior_proj = None  # (r,): u_jᵀd, the shared error's part of the pseudo-observations' targets
    prior_usq = None  # (r,): |u_j|²
    prior_c = None  # (r,): the weights of the shared error's downdates now in P
    prior_s2 = None  # σ̂² the weights were set for
    prior_w = None  # the pseudo-observations' weight (_prior_w; None: prior_weight, saved before)
    # the change test (detect_changes); a learner saved before it existed had none
    detect_changes = False
    cusum_up = 0.0  # the one-sided CUSUMs of the standardised errors, upwards and downwards
    cusum_down = 0.0
    forgotten = 0.0  # rounds' worth of errors the forgetting removed from σ̂'s count
    prior_scale = 1.0  # what the forgetting left of the prior's weight
    changes = 0  # changes detected so far
    detect_drift = False
    # the drift test (detect_drift, no context): per rate of DRIFT_RATES the exponentially
    # weighted level of the standardised errors and the CUSUM of its log-likelihood ratio;
    # drifts counts alarms (a state saved before it existed starts it afresh)
    drift_level = None
    drift_score = None
    drifts = 0

    @classmethod
    def _saved_state(cls, values):
        """A saved state's entries without those of a removed option saved off
        (:mod:`bandit._joint_removed`; :meth:`_saved_config` refuses one saved on)."""
        return _joint_removed.saved_state(values)

    def __setstate__(self, state):
        # a learner pickled with a removed option: loaded without it when it was off,
        # refused when on (bandit/_joint_removed.py)
        self.__dict__.update(_joint_removed.pickled_state(state))

    def _config(self):
        cfg = self.features.config()
        return {"context_bounds": cfg["context_bounds"], "m": self._m_arg,
                "context_dim": cfg["context_dim"], "m_omega": self.m_omega, "ridge": self.ridge,
                "beta": self.beta, "exploration": self.exploration, "gamma": self.gamma,
                "explore_within": self.explore_within,
                "explore_radius": self.explore_radius, "prior": self.prior,
                "prior_weight": self.prior_weight, "prior_shift": self.prior_shift,
                "target": self.target,
                "arm_basis": self.arm_basis,
                "detect_changes": self.detect_changes,
                "detect_drift": self.detect_drift,
                "try_gate": self.try_gate,
                # always saved: a state saved before the option (no key) had the drawn arm
                # alone, and loads so
                "gate_pick": self.gate_pick,
                # always saved too: one saved before it (no key) gave the gate's arm
                "first_pick": self.first_pick,
                # always saved too: one saved before it (no key) tried rivals at once
                "first_wait": self.first_wait}

    @classmethod
    def _saved_config(cls, config):
        """A state saved before ``arm_basis`` existed had every arm on one line, one saved
        before ``prior_shift`` existed a prior without the shared error, one saved before
        ``detect_changes`` existed no change test (and none before ``detect_drift`` a drift
        test, none before ``try_gate`` a try gate, and one saved before ``gate_pick`` the
        drawn rival weighed alone).  A removed option's key is dropped when
        off and refused when on (:mod:`bandit._joint_removed`)."""
        config = _joint_removed.saved_config(config)
        config = config if "arm_basis" in config else {**config, "arm_basis": "line"}
        config = config if "detect_changes" in config else {**config, "detect_changes": False}
        config = config if "detect_drift" in config else {**config, "detect_drift": False}
        config = config if "try_gate" in config else {**config, "try_gate": False}
        config = config if "gate_pick" in config else {**config, "gate_pick": False}
        config = config if "first_pick" in config else {**config, "first_pick": False}
        config = config if "first_wait" in config else {**config, "first_wait": False}
        return config if "prior_shift" in config else {**config, "prior_shift": None}
