"""Options of :class:`bandit.JointCB` that were measured, left off by default and removed: what
a saved learner that names one of them loads as.

Each was off by default, and a learner saved with it off learnt exactly as a learner without
it, so it loads and continues bit for bit; one saved with it on learnt by a rule this library
no longer has, and is refused with a :class:`ValueError` naming the option (continuing it as
if the rule had never been there would be a silently different learner).  Their measurements
stay in ``docs/studies/precond_rules.md`` and ``docs/studies/unseen.md``.

* ``gate_losses`` (a rival family's lost tries charged together by the try gate): saved in a
  tuner file's policy config when on (``"gate_losses": true``), and in a pickled learner as
  ``_gate_losses``, with its counts ``_lost_tries`` and ``_pending_try``.
* ``first_try_run`` (a never-played family's first try weighed with the run's solves): an
  attribute, never in a tuner file; pickled as ``_first_try_run``, with ``_first_run``.
* ``context_retries`` (a rival family re-tried where the context is far from its rounds): an
  attribute, never in a tuner file; pickled as ``context_retries``, with ``_retry_state``.
* ``paired_first`` (a rival family's first reading told against the leader's latest
  readings): an attribute, never in a tuner file; pickled as ``paired_first``, with
  ``_paired_recent``, ``_paired_fams``, ``_paired_played``, ``_paired_t`` and ``_paired_done``.
* ``reread_reference`` (the reference family re-read during a rival's long stretch): an
  attribute, never in a tuner file; pickled as ``reread_reference``, with ``_reread_state``.

Settings of the constructor, saved in every tuner file's policy config with their off value
(:data:`SETTINGS`): their key is dropped when it holds that value and refused otherwise, and
the saved state's entries that went with them (:data:`STATE`) are dropped with it:

* ``smear`` (a model of the log-cost ranked by its smeared mean cost): off ``false``; its
  state ``smear_rows`` (null when off), pickled as ``smear`` and ``smear_rows``.
* ``family_gap`` (the space after a family of several ω on the ``"omega"`` line, ``"span"``:
  its own span): off ``"step"``; pickled as ``family_gap``.
* ``noise_scale`` (how a round's one-step error enters ``σ̂``: ``"standardised"`` over its
  predictive spread, ``"family"`` each family's kept apart as well): off ``"raw"``; its state
  ``family_sq_err`` (zeros when off), pickled as ``noise_scale``, ``_own_noise``,
  ``_arm_family`` and ``_family_sq_err``.
* ``lone_prior`` (the arms without an ω predicted from SSOR-PCG at ω = 1 by the work model,
  ``"work"``, or by the iteration relation's range, ``"range"``): off ``"none"``, saved only
  when on (with its state ``work_ratio``); pickled as ``lone_prior``.
* ``lone_arms`` (an arm without an ω predicted at the ω arms' mean plus an offset of its own,
  ``"offset"``): off ``"line"``, saved only when on; pickled as ``lone_arms``.

A value of a kept setting that named a removed rule (:data:`VALUES`) is refused the same way:

* ``arm_basis="base"`` (the family of most arms with the columns of a learner over it alone,
  every other family an offset from its level).
"""
from __future__ import annotations

import numpy as np

#: Per removed option, its config key in a saved state (None: never saved there), the pickled
#: attribute that held it, and the pickled scratch attributes that went with it.
REMOVED = {"gate_losses": ("gate_losses", "_gate_losses", ("_lost_tries", "_pending_try")),
           "first_try_run": (None, "_first_try_run", ("_first_run",)),
           "context_retries": (None, "context_retries", ("_retry_state",)),
           "paired_first": (None, "paired_first", ("_paired_recent", "_paired_fams",
                                                   "_paired_played", "_paired_t",
                                                   "_paired_done")),
           "reread_reference": (None, "reread_reference", ("_reread_state",))}

#: Per removed constructor setting (its config key and pickled attribute), the value that
#: meant off, and the pickled attributes that went with it.
SETTINGS = {"smear": (False, ("smear_rows",)), "family_gap": ("step", ()),
            "noise_scale": ("raw", ("_own_noise", "_arm_family", "_family_sq_err")),
            "lone_prior": ("none", ("_work_cols", "_work_ratio", "_untried_arms",
                                    "_untried_drop", "_untried_ref", "_untried_regime")),
            "lone_arms": ("line", ())}

#: Values of kept settings that named a removed rule: refused (any other value loads as saved).
VALUES = {"arm_basis": ("base",)}

#: Saved-state entries of removed settings (dropped: the setting's key says whether it was on).
STATE = ("smear_rows", "family_sq_err", "work_ratio")

_WHERE = {"gate_losses": "docs/studies/precond_rules.md",
          "first_try_run": "docs/studies/unseen.md",
          "context_retries": "docs/studies/precond_rules.md",
          "paired_first": "docs/studies/precond_rules.md",
          "reread_reference": "docs/studies/precond_rules.md",
          "smear": "docs/studies/precond_rules.md",
          "family_gap": "docs/studies/precond_rules.md",
          "noise_scale": "docs/studies/precond_rules.md",
          "lone_prior": "docs/studies/precond_rules.md",
          "lone_arms": "docs/studies/unseen.md",
          "arm_basis": "docs/studies/precond_rules.md"}


def _off(value):
    return isinstance(value, (bool, np.bool_)) and not value


def _is(value, off):
    """Whether a saved ``value`` of a removed setting is its off value ``off``."""
    if isinstance(off, bool):
        return _off(value)
    if off is None:
        return value is None
    return isinstance(value, str) and value == off


def _refuse(option, value):
    raise ValueError(f"this JointCB was saved with {option}={value!r}, an option that was "
                     f"measured, left off and removed from relaxtune ({_WHERE[option]}); a "
                     f"learner that learnt with it on cannot continue as it was learnt (one "
                     f"saved with it off loads)")


def saved_config(config):
    """``config`` (a saved state's) without the removed options' keys when they say off;
    ``ValueError`` naming the option when one says on (or anything but its off value)."""
    for option, (key, _, _) in REMOVED.items():
        if key is not None and key in config:
            if not _off(config[key]):
                _refuse(option, config[key])
            config = {k: v for k, v in config.items() if k != key}
    for option, (off, _) in SETTINGS.items():
        if option in config:
            if not _is(config[option], off):
                _refuse(option, config[option])
            config = {k: v for k, v in config.items() if k != option}
    for key, gone in VALUES.items():
        if isinstance(config.get(key), str) and config[key] in gone:
            _refuse(key, config[key])
    return config


def saved_state(state):
    """A saved state's entries (``state["state"]`` of a policy state) without those of removed
    settings; call after :func:`saved_config` has refused a setting saved on."""
    return {k: v for k, v in state.items() if k not in STATE}


def pickled_state(state):
    """A pickled learner's ``__dict__`` without the removed options' attributes when they say
    off; ``ValueError`` naming the option when one is on."""
    for option, (_, attr, scratch) in REMOVED.items():
        if attr in state:
            if not _off(state[attr]):
                _refuse(option, state[attr])
            state = {k: v for k, v in state.items() if k != attr}
        if any(k in state for k in scratch):
            state = {k: v for k, v in state.items() if k not in scratch}
    for option, (off, scratch) in SETTINGS.items():
        if option in state:
            if not _is(state[option], off):
                _refuse(option, state[option])
            state = {k: v for k, v in state.items() if k != option}
        if any(k in state for k in scratch):
            state = {k: v for k, v in state.items() if k not in scratch}
    for key, gone in VALUES.items():
        if isinstance(state.get(key), str) and state[key] in gone:
            _refuse(key, state[key])
    return state


class Removed:
    """A removed option's attribute on :class:`bandit.JointCB`: reads ``False`` (what every
    learner now does), takes ``False``, and refuses anything else with a ``ValueError`` naming
    the option, where a plain attribute would be set and silently ignored."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return False

    def __set__(self, obj, value):
        if not _off(value):
            raise ValueError(f"JointCB.{self.name} was an option that was measured, left off "
                             f"and removed from relaxtune ({_WHERE[self.name]}); it can only "
                             f"be False, got {value!r}")
