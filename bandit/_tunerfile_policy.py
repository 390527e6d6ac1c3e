"""A tuner file's policy state, checked against a freshly built policy of the same class and
settings before it is restored (:mod:`bandit._tunerfile`)."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ._base import (BASE_STATE_KEYS, CHANGE_TEST_STATE_KEYS, OPTIONAL_STATE_KEYS,
                    PRIOR_SHIFT_STATE_KEYS, STATE_FORMAT, STATE_VERSION, Policy)
from ._checks import RepeatedArmWarning
from ._jsonable import to_jsonable  # noqa: F401 - check_policy_state's example
from ._tunerfile_checks import _Bad, _decode, _describe, _is_int, _is_real, _need, _rng_state

__all__ = ["check_policy_state"]


def check_policy_state(state):
    """Check a policy state (as :meth:`Policy.state_dict` writes it) and rebuild the policy.

    Raises :class:`ValueError` naming the problem.

    Examples
    --------
    >>> from bandit import TsallisINF
    >>> p = TsallisINF([1.0, 1.5], seed=0)
    >>> check_policy_state(p.state_dict()).n_arms
    2
    >>> bad = p.state_dict(); bad["state"]["L"] = to_jsonable(np.zeros(3))
    >>> check_policy_state(bad)
    Traceback (most recent call last):
    ...
    ValueError: policy state 'L' has shape (3,), expected (2,) for this policy's arms and settings
    """
    try:
        return _policy(state)
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def _policy(raw):
    from . import POLICIES  # the registry lives in the package facade

    _need(isinstance(raw, dict), f"policy must be an object, got {type(raw).__name__}")
    _need(raw.get("format") == STATE_FORMAT, "policy: not a relaxtune policy state")
    # (type-checked: JSON's true equals 1 in Python and had passed for version 1)
    _need(_is_int(raw.get("version")) and raw.get("version") == STATE_VERSION,
          f"policy state version {raw.get('version')!r} is not supported (this relaxtune "
          f"reads version {STATE_VERSION})")
    name = raw.get("class")
    classes = {c.__name__: c for c in POLICIES.values()}
    _need(isinstance(name, str) and name in classes,  # (a list or an object: unhashable)
          f"policy class {name!r} is unknown (known: {', '.join(sorted(classes))})")
    klass = classes[name]
    missing = [k for k in ("arms", "seed", "config", "rng", "state") if k not in raw]
    _need(not missing, f"incomplete policy state: no {', '.join(map(repr, missing))}")
    _need(isinstance(raw["config"], dict), "policy config must be an object")
    _need(isinstance(raw["arms"], list), "policy arms must be a list")
    _need(isinstance(raw["state"], dict), "policy state must be an object")
    _need(raw["seed"] is None or _is_int(raw["seed"]),
          f"policy seed must be an integer or null, got {raw['seed']!r}")
    arms = _decode(raw["arms"], "policy arms")
    config = _decode(raw["config"], "policy config")
    # (an encoded scalar is a JSON object too: checked again once decoded)
    _need(isinstance(config, dict), "policy config must be an object")
    try:  # (a removed option saved on is refused here: bandit/_joint_removed.py)
        config = klass._saved_config(config)
    except ValueError as exc:
        raise _Bad(f"policy config of {name}: {exc}") from None
    try:
        with warnings.catch_warnings():  # (warned when the policy was made, not again)
            warnings.simplefilter("ignore", RepeatedArmWarning)
            fresh = klass(arms, seed=raw["seed"], **config)
    except (TypeError, ValueError) as exc:
        raise _Bad(f"policy config of {name}: {exc}") from None
    _no_flags_for_numbers(name, config, fresh)
    state = klass._saved_state(raw["state"])  # (a removed option's entries: dropped when off)
    optional = OPTIONAL_STATE_KEYS
    if config.get("prior_shift", 0) is None:  # saved before prior_shift, or without it
        optional = (*optional, *PRIOR_SHIFT_STATE_KEYS)
    if config.get("detect_changes") is False:  # saved before the change test (or without it)
        optional = (*optional, *CHANGE_TEST_STATE_KEYS)
    # (the instance's keys: an option may keep more than its class's)
    expected = tuple(k for k in (*BASE_STATE_KEYS, *fresh._state_keys)
                     if k in state or k not in optional)
    missing = [k for k in expected if k not in state]
    _need(not missing, f"incomplete policy state: no {', '.join(map(repr, missing))}")
    extra = [k for k in state if k not in expected]
    _need(not extra, f"policy state has unknown entries {', '.join(map(repr, extra))} "
                     f"({name} keeps {', '.join(expected)})")
    values = {}
    for key in expected:
        v = _decode(state[key], f"policy state {key!r}")
        if key == "t":
            _need(_is_int(v) and v >= 0, f"policy state 't' must be an integer >= 0, got {v!r}")
        elif key == "p":
            _probabilities(v, fresh.n_arms)
        elif key == "prior_curve":
            _prior_curve(v, fresh.n_arms)
        else:
            _like(key, v, getattr(fresh, key))
            _meaning(key, v, getattr(fresh, key))
        values[key] = v
    _need(int(values["counts"].sum()) == values["t"],
          f"policy state is inconsistent: counts sum to {int(values['counts'].sum())} but "
          f"t = {values['t']}")
    _need(bool(np.all(values["cost_sums"] >= 0)), "policy state 'cost_sums' has a negative "
          "entry (costs are non-negative)")
    _need(values.get("forgotten", 0) <= values["t"], f"policy state 'forgotten' "
          f"({values.get('forgotten')!r}) exceeds the rounds played, t = {values['t']}")
    if "converged_counts" in values:
        cc = values["converged_counts"]
        _need(bool(np.all(cc >= 0) and np.all(cc <= values["counts"])),
              "policy state 'converged_counts' must lie between 0 and 'counts' for every arm")
    _rng_state(_decode(raw["rng"], "policy rng"), "policy rng", type(fresh.rng.bit_generator))
    try:
        return Policy.from_state_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:  # pragma: no cover - checked above
        raise _Bad(f"policy state: {exc}") from None


def _no_flags_for_numbers(name, config, fresh):
    """A setting saved as a number must not read ``true``/``false``: the constructors take
    Python's ``True`` as 1 (``beta``, ``context_dim``, ``gamma_exponent`` ...), so a hand
    edit had loaded as another learner (``beta = 1.0``, a 1-entry context) without a word.
    What the fresh policy keeps of each setting says which are numbers."""
    kept = fresh.state_dict()["config"]
    for key, v in config.items():
        if isinstance(v, bool) and key in kept and not isinstance(kept[key], bool):
            raise _Bad(f"policy config of {name}: {key!r} must be "
                       f"{'null or ' if kept[key] is None else ''}a number, got {v!r}")


def _meaning(key, v, fresh):
    """Entries whose kind the policies share by name: a cost scale (``unit``: NaN until the
    first positive cost, then that cost) that costs are divided by, and sums of squared
    errors (``sq_err``, ``family_sq_err``) whose square roots the confidence widths take."""
    if key == "unit":
        _need(math.isnan(v) or v > 0, f"policy state 'unit' must be a cost > 0 (or NaN before "
                                      f"the first positive cost), got {v!r}")
    elif key == "context_range" and isinstance(fresh, dict):
        _context_range(v, fresh)
    elif key == "grid" and isinstance(fresh, dict):
        _bin_grid(v, fresh)
    elif key.endswith("sq_err"):
        _need(bool(np.all(np.asarray(v) >= 0)),
              f"policy state {key!r} must be >= 0 (a sum of squares)")
    elif key == "drift_score":  # JointCB's drift test: CUSUMs
        _need(bool(np.all(np.asarray(v) >= 0)), f"policy state {key!r} must be >= 0, got {v!r}")
    elif key in ("cusum_up", "cusum_down", "forgotten", "prior_scale"):  # JointCB's change test
        _need(v >= 0 and (key != "prior_scale" or 0 < v <= 1),
              f"policy state {key!r} must be " + ("in (0, 1]" if key == "prior_scale" else
                                                  ">= 0") + f", got {v!r}")


def _learnt_dim(v, fresh, where, *, least):
    """The learnt context length ``v["dim"]``: null (no context yet) or an integer >=
    ``least``, and the policy's configured ``context_dim`` where the settings fix one."""
    dim = v["dim"]
    _need(dim is None or (_is_int(dim) and dim >= least),
          f"{where} dim must be null or an integer >= {least}, got {dim!r}")
    if fresh.get("dim") is not None:
        _need(dim == fresh["dim"], f"{where} has dim {dim!r}, but the policy's config has "
                                   f"context_dim {fresh['dim']}")
    return dim


def _context_range(v, fresh):
    """The learnt range of the contexts: ``dim`` (null until the first context), per-entry
    ``lo`` and ``hi``; a ``dim`` fixed by the policy's settings must be the same."""
    where = "policy state 'context_range'"
    _need(set(v) == {"dim", "lo", "hi"}, f"{where} must hold exactly 'dim', 'lo' and 'hi'")
    dim = _learnt_dim(v, fresh, where, least=0)
    lo, hi = v["lo"], v["hi"]
    if lo is None and hi is None:
        return
    ok = (dim is not None and all(isinstance(a, np.ndarray) and a.shape == (dim,)
                                  and a.dtype.kind == "f" and np.all(np.isfinite(a))
                                  for a in (lo, hi)))
    _need(ok and bool(np.all(lo <= hi)),
          f"{where} lo and hi must be both null or both arrays of {dim} finite number(s) "
          f"with lo <= hi")


def _bin_grid(v, fresh):
    """The learnt bins of the contextual Tsallis-INF: ``dim`` (null until the first context),
    and per coordinate the origin and width of the bins (float) and the stored and occupied
    bin indices ``j0``, ``jlo``, ``jhi`` (int64), all null until the grid is set.  Had been
    checked only for being an object: a ``j0`` of 1e308 stopped ``load`` with an
    OverflowError, a null ``origin`` the first solve with a TypeError."""
    where = "policy state 'grid'"
    names = ("dim", "origin", "width", "j0", "jlo", "jhi")
    _need(set(v) == set(names), f"{where} must hold exactly {', '.join(map(repr, names))}")
    dim = _learnt_dim(v, fresh, where, least=1)
    arrays = [v[k] for k in names[1:]]
    if all(a is None for a in arrays):
        return
    ok = dim is not None and all(
        isinstance(a, np.ndarray) and a.shape == (dim,)
        and a.dtype == (np.float64 if k in ("origin", "width") else np.int64)
        for k, a in zip(names[1:], arrays))
    ok = ok and bool(np.all(np.isfinite(v["origin"])) and np.all(np.isfinite(v["width"]))
                     and np.all(v["width"] >= 0))
    _need(ok, f"{where}: origin, width, j0, jlo and jhi must be all null or arrays of {dim} "
              f"numbers (origin and width finite floats, width >= 0; the others int64)")


def _prior_curve(v, n_arms):
    """JointCB's prior (null, or each arm's predicted log-cost relative to the best: finite,
    >= 0); any value had been accepted and failed at the first solve."""
    _need(v is None or (isinstance(v, np.ndarray) and v.dtype == np.float64
                        and v.shape == (n_arms,) and bool(np.all(np.isfinite(v)))
                        and bool(np.all(v >= 0))),
          f"policy state 'prior_curve' must be null or {n_arms} finite float64 numbers >= 0, "
          f"got {_describe(v)}")


def _probabilities(v, n_arms):
    if v is None:
        return
    _need(isinstance(v, np.ndarray) and v.dtype == np.float64 and v.shape == (n_arms,),
          f"policy state 'p' must be null or {n_arms} float64 probabilities, got "
          f"{_describe(v)}")
    _need(bool(np.all(np.isfinite(v)) and np.all(v >= 0) and abs(v.sum() - 1.0) <= 1e-6),
          "policy state 'p' is not a probability distribution")



def _like(key, v, fresh):
    """``v`` must look like the freshly built policy's ``fresh`` value of the same entry."""
    where = f"policy state {key!r}"
    if isinstance(fresh, np.ndarray):
        _need(isinstance(v, np.ndarray), f"{where} must be an array, got {_describe(v)}")
        _need(v.shape == fresh.shape, f"{where} has shape {v.shape}, expected {fresh.shape} "
                                      "for this policy's arms and settings")
        _need(v.dtype == fresh.dtype, f"{where} has dtype {v.dtype}, expected {fresh.dtype}")
        if fresh.dtype.kind == "f":
            # finite, except where a fresh policy holds a sentinel (NaN: "not set yet")
            ok = np.isfinite(v) | (v == fresh) | (np.isnan(v) & np.isnan(fresh))
            if not ok.all():
                idx = tuple(int(i) for i in np.argwhere(~ok)[0])
                raise _Bad(f"{where} has a non-finite entry {v[idx]} at index {idx}")
        elif fresh.dtype.kind in "iu":
            low = np.minimum(fresh, 0)
            if not np.all(v >= low):
                idx = tuple(int(i) for i in np.argwhere(v < low)[0])
                raise _Bad(f"{where} has a negative count {v[idx]} at index {idx}")
    elif isinstance(fresh, (bool, np.bool_)):
        _need(isinstance(v, bool), f"{where} must be true or false, got {v!r}")
    elif isinstance(fresh, numbers.Integral):
        _need(_is_int(v) and v >= min(int(fresh), 0),
              f"{where} must be an integer >= 0, got {v!r}")
    elif isinstance(fresh, numbers.Real):
        _need(_is_real(v), f"{where} must be a number, got {_describe(v)}")
        same_sentinel = (math.isnan(v) and math.isnan(fresh)) or v == fresh
        _need(math.isfinite(v) or same_sentinel, f"{where} is not finite ({v!r})")
    elif fresh is not None:
        _need(type(v) is type(fresh), f"{where} must be a {type(fresh).__name__}, got "
                                      f"{type(v).__name__}")
    else:
        # an entry a fresh policy has not set yet (JointCB's prior, ...) holds
        # numbers once set: a string had loaded, and the next solve failed with "unsupported
        # operand type(s) for -: 'str' and 'float'"
        _need(v is None or (_is_real(v) and not isinstance(v, (bool, np.bool_)))
              or (isinstance(v, np.ndarray) and v.dtype.kind in "fiu"),
              f"{where} must be null, a number or an array of numbers, got {_describe(v)}")
