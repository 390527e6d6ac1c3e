"""What a tuner file must hold, checked in full before anything is restored.

:meth:`bandit.Tuner.load` calls :func:`read_tuner_file`, which returns the policy (rebuilt and
checked) and the Tuner's configuration, history, audits and counters, or raises
:class:`~bandit._persist.TunerFileError` naming the file and the first problem found:

* the file itself: missing, a folder, unreadable, not JSON, another format, a newer version;
* ``config``: every key present with the right JSON type (``rtol`` a number, ``maxiter`` an
  integer, ``guard`` a number or null, ...);
* ``policy``: a known policy class whose constructor accepts the saved arms and settings;
  exactly the state entries that class keeps, each with the shape and dtype of a freshly
  built policy of the same configuration (so shapes follow the number of arms and the
  feature sizes of any policy, present or future), finite wherever the fresh policy is finite,
  counts non-negative and summing to the round counter, a valid random-generator state;
* ``rows``: every history column present, all of one length, arm indices within the arm list,
  ``omega`` the played arm's ω, counts and costs non-negative and finite, flags boolean,
  probabilities in [0, 1];
* ``audits`` (version 3: the auditor's plans, records, spend and generator, or null without
  audits) and ``work`` consistent with the rows.

Older files are read as follows.  Versions 1 and 2 have no ``p``, ``leader`` and ``budget``
columns (read as NaN — unknown —, −1 and ``maxiter``), and audited a fraction ``audit`` of
the rounds with every arm: those audits become column audits of every arm (probability
``audit`` each) and row audits (probability ``audit``) of one epoch from round 0, and the
tuner continues with ``audit_budget`` = the share of the solve time those audits took (or
``audit × (K − 1)``, at most 1, before any solve); ``audit = 0`` reads as no audits.
"""
from __future__ import annotations

import itertools
import json
import math
import numbers
import zlib
import warnings

import numpy as np

from ._base import (BASE_STATE_KEYS, CHANGE_TEST_STATE_KEYS, OPTIONAL_STATE_KEYS,  # noqa: F401
                    RepeatedArmWarning,
                    PRIOR_SHIFT_STATE_KEYS, STATE_FORMAT, STATE_VERSION,
                    Policy, arm_omega, from_jsonable, to_jsonable)  # (to_jsonable: doctest)
from ._persist import TunerFileError, read_versioned
from .audit import AUDIT_COLUMNS

__all__ = ["read_tuner_file", "check_policy_state", "check_tuner_payload"]

#: Keys of a tuner file besides ``format`` and ``version`` (version 3; versions 1–2: _TOP_2).
_TOP = ("config", "policy", "rows", "audits", "work")
_TOP_2 = ("config", "policy", "rows", "audits", "audit_seconds", "work", "audit_rng")
#: History columns added by version 3 and what older files read as (NaN: unknown).
_NEW_COLUMNS = ("p", "leader", "budget")


class _Bad(Exception):
    """A problem with one part of the file (the caller adds the file name)."""


def _is_int(v) -> bool:
    return type(v) is int  # JSON integers; bool is not an int here


def _is_real(v) -> bool:
    return type(v) in (int, float)


def _need(cond, msg):
    if not cond:
        raise _Bad(msg)


def _decode(obj, where):
    try:
        return from_jsonable(obj)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # (1e999 in an int array)
        raise _Bad(f"{where}: malformed encoded value ({exc})") from None


def read_tuner_file(path, *, fmt: str, version: int, oldest: int, columns,
                    comm=None) -> dict:
    """Read and check a tuner file; return its parts ready to restore.

    With ``comm`` (a PETSc or mpi4py communicator of several ranks) every rank reads its
    ``path`` and the ranks then agree, in one ``allgather``, that each read succeeded and
    that they all read the same content: otherwise every rank raises the same
    :class:`TunerFileError`, naming the rank(s) and the reason.  A failure on one rank alone
    would leave the others waiting in the Tuner's collective steps forever.

    Returns
    -------
    dict
        ``policy`` (a :class:`~bandit.Policy`), ``config`` (Tuner keyword arguments),
        ``log`` (one tuple of ``columns`` per solve), ``auditor`` (an auditor state for
        :meth:`bandit.audit.Auditor.load_state`, or None), ``work``.

    Raises
    ------
    TunerFileError
        Naming ``path`` and the problem.
    """
    if comm is not None:
        from .mpi import mpi_comm

        comm = mpi_comm(comm)
        if comm.Get_size() > 1:
            return _read_on_every_rank(comm, path, fmt=fmt, version=version, oldest=oldest,
                                       columns=columns)
    return _read(path, fmt=fmt, version=version, oldest=oldest, columns=columns)


def _read_on_every_rank(comm, path, **how):
    """:func:`read_tuner_file` on every rank of ``comm``: all succeed with the same content,
    or all raise the same :class:`TunerFileError` naming the ranks that differ or failed."""
    data, crc, err = None, None, None
    try:
        payload = read_versioned(path, how["fmt"], how["version"], oldest=how["oldest"])
        # the content as read, in a canonical form (the same on every rank for one file)
        crc = zlib.crc32(json.dumps(payload, sort_keys=True, allow_nan=True).encode())
        data = _checked(path, payload, how["columns"])
    except Exception as exc:  # noqa: BLE001 - every rank must learn of it (raised below)
        err = f"{type(exc).__name__}: {exc}" if not isinstance(exc, TunerFileError) \
            else str(exc)
    every = comm.allgather((err, crc, str(path)))
    size = comm.Get_size()
    failed = [(r, e) for r, (e, _, _) in enumerate(every) if e is not None]
    if failed:
        said = "; ".join(f"rank {r}: {e}" for r, e in failed)
        ranks = ", ".join(str(r) for r, _ in failed)
        raise TunerFileError(
            f"Tuner.load failed on rank {ranks} of {size}, so on every rank: {said} (every "
            f"rank reads its own path: each must be able to read the same tuner file)")
    differ = [r for r, (_, c, _) in enumerate(every) if c != every[0][1]]
    if differ:
        said = "; ".join(f"rank {r}: {every[r][2]}" for r in differ)
        raise TunerFileError(
            f"Tuner.load: the tuner file read on rank {', '.join(map(str, differ))} of {size} "
            f"differs from rank 0's ({every[0][2]}), so nothing was loaded on any rank "
            f"({said}): every rank must load the same tuner file")
    return data


def _read(path, *, fmt, version, oldest, columns):
    return _checked(path, read_versioned(path, fmt, version, oldest=oldest), columns)


def check_tuner_payload(path, payload, *, fmt, columns) -> dict:
    """The checks of :func:`read_tuner_file` on a payload in memory (as parsed from JSON), for
    :meth:`bandit.Tuner.save`: a file it writes is one ``load`` reads.  Raises
    :class:`TunerFileError` naming ``path`` and the problem."""
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise TunerFileError(f"{path}: not a {fmt} file (no format tag {fmt!r})")
    return _checked(path, payload, columns)


def _checked(path, payload, columns):
    try:
        if payload["version"] < 3:
            return _check_2(payload, tuple(columns))
        return _check(payload, tuple(columns))
    except _Bad as exc:
        raise TunerFileError(f"{path}: {exc}") from None


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


def _work(payload):
    work = _decode(payload["work"], "work")
    _need(isinstance(work, list) and len(work) == 2 and _is_real(work[0])
          and math.isfinite(work[0]) and work[0] >= 0 and _is_int(work[1]) and work[1] >= 0,
          f"work must be [seconds >= 0, iterations >= 0], got {work!r}")
    return [float(work[0]), int(work[1])]


def _check(payload, columns):
    missing = [k for k in _TOP if k not in payload]
    _need(not missing, f"incomplete tuner file: no {', '.join(map(repr, missing))}")
    config = _config(payload["config"], _CONFIG)
    policy = _policy(payload["policy"])
    log = _rows(_decode(payload["rows"], "rows"), columns, policy, config["maxiter"])
    auditor = _auditor(_decode(payload["audits"], "audits"), log, columns, policy.n_arms,
                       config["audit_budget"])
    return {"policy": policy, "config": config, "log": log, "auditor": auditor,
            "work": _work(payload), "paid": _paid(payload, len(log), config["cost"]),
            "measured": _measured(payload),
            "process_starts": _process_starts(payload, len(log))}


def _process_starts(payload, T):
    """Rounds at which a process began solving with the tuner (``None`` if not in the file,
    written before they were kept): increasing integers from 0 to ``T``."""
    if "process_starts" not in payload:
        return None
    starts = _decode(payload["process_starts"], "process_starts")
    _need(isinstance(starts, list) and len(starts) >= 1 and starts[0] == 0
          and all(_is_int(v) and 0 <= v <= T for v in starts)
          and all(a < b for a, b in zip(starts, starts[1:])),
          f"process_starts must be increasing round indices from 0 to the {T} rounds, "
          f"got {starts!r:.80}")
    return [int(v) for v in starts]


def _measured(payload):
    """The arms' measured costs per iteration and set-up (``None`` if not in the file; the
    shapes are checked against the arms by the Tuner's ``load``)."""
    if "measured" not in payload:
        return None
    m = _decode(payload["measured"], "measured")

    def nonneg(v, integer=False):
        return (_is_int(v) if integer else _is_real(v) and math.isfinite(v)) and v >= 0

    keys = {"rate", "all", "per_work", "fit", "setup"}
    # 'solve_floor' and 'served' are absent from files written before they were kept
    _need(isinstance(m, dict) and keys <= set(m) <= keys | {"solve_floor", "served"},
          "measured must hold exactly 'rate', 'all', 'per_work', 'fit', 'setup' and "
          "optionally 'solve_floor' and 'served'")
    _need(isinstance(m["rate"], list) and isinstance(m["all"], list)
          and all(isinstance(p, list) and len(p) == 2 and nonneg(p[0]) and nonneg(p[1], True)
                  for p in m["rate"] + [m["all"]]),
          "measured.rate and measured.all must be [cost >= 0, iterations >= 0] pairs")
    _need(isinstance(m["per_work"], list) and len(m["per_work"]) == 2
          and all(nonneg(v) for v in m["per_work"]),
          "measured.per_work must be [seconds >= 0, work >= 0]")
    _need(isinstance(m["fit"], list) and len(m["fit"]) == len(m["rate"])
          and all(isinstance(f, list) and len(f) == 5 and nonneg(f[0], True)
                  and all(_is_real(v) and math.isfinite(v) for v in f[1:]) for f in m["fit"]),
          "measured.fit must hold one [n, Σw, Σw², Σs, Σsw] per family")
    _need(isinstance(m["setup"], list)
          and all(isinstance(p, list) and len(p) == 2 and nonneg(p[0], True) and nonneg(p[1])
                  for p in m["setup"]),
          "measured.setup must be [arm index, set-up cost >= 0] pairs")
    floor = m.get("solve_floor", [])
    _need(isinstance(floor, list)
          and all(isinstance(p, list) and len(p) == 2 and nonneg(p[0], True) and nonneg(p[1])
                  for p in floor),
          "measured.solve_floor must be [arm index, solve cost >= 0] pairs")
    served = m.get("served", [])
    _need(isinstance(served, list)
          and all(isinstance(p, list) and len(p) == 2 and nonneg(p[0], True)
                  and nonneg(p[1], True) for p in served),
          "measured.served must be [arm index, reuses >= 0] pairs")
    return m


def _paid(payload, T, cost):
    """What each solve paid in work or timed work (``None`` if not in the file)."""
    if "paid" not in payload or cost not in ("work", "timed_work"):
        return None
    paid = _decode(payload["paid"], "paid")
    _need(isinstance(paid, list) and len(paid) == T,
          f"paid must be a list of one cost per solve ({T}), got {paid!r:.80}")
    if not _column_ok(paid, "nonneg"):
        _first_bad(paid, lambda v: _is_real(v) and math.isfinite(v) and v >= 0, "paid",
                   "a finite number >= 0")
    return [float(v) for v in paid]


def _check_2(payload, columns):
    """A version 1 or 2 file, read as version 3 (see the module notes)."""
    missing = [k for k in _TOP_2 if k not in payload]
    _need(not missing, f"incomplete tuner file: no {', '.join(map(repr, missing))}")
    config = _config(payload["config"], _CONFIG_2)
    policy = _policy(payload["policy"])
    old = tuple(c for c in columns if c not in _NEW_COLUMNS)
    log = _rows(_decode(payload["rows"], "rows"), old, policy, config["maxiter"])
    log = [row + (math.nan, -1, config["maxiter"]) for row in log]
    audits = _audits(_decode(payload["audits"], "audits"), log, columns, policy.n_arms)
    seconds = _decode(payload["audit_seconds"], "audit_seconds")
    _need(_is_real(seconds) and math.isfinite(seconds) and seconds >= 0,
          f"audit_seconds must be a finite number >= 0, got {seconds!r}")
    work = _work(payload)
    rng = _decode(payload["audit_rng"], "audit_rng")
    _rng_state(rng, "audit_rng")
    fraction = config.pop("audit")
    _need(0.0 <= fraction <= 1.0, f"config.audit must be a fraction in [0, 1], got {fraction!r}")
    K = policy.n_arms
    if fraction == 0.0 and not audits:
        config["audit_budget"] = 0.0
        return {"policy": policy, "config": config, "log": log, "auditor": None, "work": work}
    # the rounds so far were audited with probability `fraction`, every arm, uncapped
    solve = float(sum(row[columns.index("seconds")] for row in log))
    budget = seconds / solve if solve > 0 else fraction * max(K - 1, 1)
    config["audit_budget"] = float(min(max(budget, 1e-6), 1.0))
    rec = {c: [] for c in AUDIT_COLUMNS}
    cost_is_time = config["cost"] == "time"
    censored = [row[columns.index("censored")] for row in log]
    for i, played, costs in audits:
        for k, c in enumerate(costs.tolist()):
            if k == played and not censored[i]:
                continue  # the played arm converged: its cost is the history's
            ok = math.isfinite(c)
            for key, v in (("round", i), ("arm", k), ("row", False),
                           ("value", c if ok else float(config["maxiter"])),
                           ("iterations", int(c) if ok and not cost_is_time else 0),
                           ("seconds", c if ok and cost_is_time else 0.0), ("converged", ok),
                           ("budget", config["maxiter"]), ("cap", config["maxiter"]),
                           ("p", math.nan)):
                rec[key].append(v)
    rounds = sorted({i for i, *_ in audits})
    for i in rounds:  # each audited round was a whole row: record its minimum as a row run
        row = [c for c in audits[[a[0] for a in audits].index(i)][2].tolist()]
        k = int(np.argmin(row))
        ok = math.isfinite(row[k])
        for key, v in (("round", i), ("arm", k), ("row", True),
                       ("value", row[k] if ok else float(config["maxiter"])),
                       ("iterations", int(row[k]) if ok and not cost_is_time else 0),
                       ("seconds", 0.0), ("converged", ok), ("budget", config["maxiter"]),
                       ("cap", config["maxiter"]), ("p", math.nan)):
            rec[key].append(v)
    order = sorted(range(len(rec["round"])), key=lambda j: rec["round"][j])
    rec = {c: [v[j] for j in order] for c, v in rec.items()}
    state = {"epoch_start": [0], "q": [np.full(K, fraction)], "r": [fraction],
             "full": [np.ones(K, dtype=bool)], "capped": np.zeros(K, dtype=bool),
             "next_plan": len(log), "next_adjust": len(log), "next_audit": -1,
             "records": rec, "seconds": float(seconds), "planning": 0.0, "plan_cost": None,
             "spent": float(seconds if config["cost"] == "time" else sum(rec["iterations"])),
             "plan": None, "rng": rng}
    return {"policy": policy, "config": config, "log": log, "auditor": state, "work": work}


# --- config --------------------------------------------------------------------------------
def _number(v):
    return _is_real(v) and math.isfinite(v)


_CONFIG = {  # key: (check, what it must be)
    "solver": (lambda v: isinstance(v, str), "a solver name (string)"),
    "rtol": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "atol": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "maxiter": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "cost": (lambda v: isinstance(v, str), "a string"),
    "backend": (lambda v: isinstance(v, str), "a string"),
    "guard": (lambda v: v is None or _is_real(v), "a number or null"),
    "audit_budget": (lambda v: _number(v), "a finite number"),
    "audit_seed": (lambda v: v is None or _is_int(v), "an integer or null"),
}
#: Versions 1 and 2: a fraction of audited rounds instead of a time budget.
_CONFIG_2 = {**{k: v for k, v in _CONFIG.items() if k != "audit_budget"},
             "audit": (lambda v: _number(v), "a finite number")}


#: Settings a file may leave out (written only when not at their default).
_OPTIONAL = {
    # (save leaves the key out when there are none: a null is a hand edit, which had loaded
    # a tuner whose spectral-context learner then failed at the first solve without one)
    "auto_context": (lambda v: isinstance(v, str),
                     "a string ('spectral'; a tuner without automatic contexts is saved "
                     "without the key)"),
}


def _config(raw, spec):
    _need(isinstance(raw, dict), f"config must be an object, got {type(raw).__name__}")
    config = _decode(raw, "config")
    unknown = [k for k in config if k not in spec and k not in _OPTIONAL]
    _need(not unknown, f"config has unknown key(s) {', '.join(map(repr, unknown))}")
    for key, (ok, what) in spec.items():
        _need(key in config, f"incomplete tuner file: config has no {key!r}")
        v = config[key]
        _need(ok(v), f"config.{key} must be {what}, got {type(v).__name__} {v!r}")
    for key, (ok, what) in _OPTIONAL.items():
        if key in config:
            v = config[key]
            _need(ok(v), f"config.{key} must be {what}, got {type(v).__name__} {v!r}")
    return config


# --- policy --------------------------------------------------------------------------------
def _policy(raw):
    from . import POLICIES  # the registry lives in the package facade

    _need(isinstance(raw, dict), f"policy must be an object, got {type(raw).__name__}")
    _need(raw.get("format") == STATE_FORMAT, "policy: not a relaxtune policy state")
    _need(raw.get("version") == STATE_VERSION,
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
    config = klass._saved_config(_decode(raw["config"], "policy config"))
    try:
        with warnings.catch_warnings():  # (warned when the policy was made, not again)
            warnings.simplefilter("ignore", RepeatedArmWarning)
            fresh = klass(arms, seed=raw["seed"], **config)
    except (TypeError, ValueError) as exc:
        raise _Bad(f"policy config of {name}: {exc}") from None
    state = raw["state"]
    optional = OPTIONAL_STATE_KEYS
    if config.get("prior_shift", 0) is None:  # saved before prior_shift, or without it
        optional = (*optional, *PRIOR_SHIFT_STATE_KEYS)
    if config.get("detect_changes") is False:  # saved before the change test (or without it)
        optional = (*optional, *CHANGE_TEST_STATE_KEYS)
    expected = tuple(k for k in (*BASE_STATE_KEYS, *klass._state_keys)
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
    rows = values.get("smear_rows")
    if rows is not None:  # JointCB's smearing rounds: its arms, its features' length
        _need(bool(np.all(rows[:, 0] < fresh.n_arms)), f"policy state 'smear_rows' names an "
              f"arm beyond the {fresh.n_arms} arms")
        P = values.get("P")
        _need(P is not None and rows.shape[1] - 2 == P.shape[0] // fresh._X.shape[1],
              "policy state 'smear_rows' does not match the model's context features")
    if "converged_counts" in values:
        cc = values["converged_counts"]
        _need(bool(np.all(cc >= 0) and np.all(cc <= values["counts"])),
              "policy state 'converged_counts' must lie between 0 and 'counts' for every arm")
    _rng_state(_decode(raw["rng"], "policy rng"), "policy rng", type(fresh.rng.bit_generator))
    try:
        return Policy.from_state_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:  # pragma: no cover - checked above
        raise _Bad(f"policy state: {exc}") from None


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
    elif key == "smear_rows" and v is not None:  # JointCB's smearing: rows (arm, y, ψ)
        ok = (isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] >= 3
              and v.dtype.kind == "f" and bool(np.isfinite(v).all()))
        _need(ok and bool(np.all((v[:, 0] >= 0) & (v[:, 0] == np.round(v[:, 0])))),
              f"policy state {key!r} must be null or rows (arm index, log-cost, features) of "
              f"finite numbers")
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


def _describe(v):
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape} and dtype {v.dtype}"
    return f"{type(v).__name__} {v!r}"


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


def _rng_state(state, where, kind=None):
    """A bit-generator state that numpy accepts (checked on a throwaway generator)."""
    _need(isinstance(state, dict), f"{where} must be a bit-generator state object")
    bg = (kind or type(np.random.default_rng().bit_generator))()
    try:
        bg.state = state
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _Bad(f"{where} is not a valid {type(bg).__name__} state ({exc})") from None


# --- history -------------------------------------------------------------------------------
#: The largest count a history keeps (as int64).
_INT64_MAX = 2 ** 63 - 1


def _column_ok(col, kind, low=None, high=None) -> bool:
    """Whether every value of a history column passes its check, tested on the whole column
    at once (types by a set of the values' types, numbers as one numpy array).  A False
    sends the caller to the value-by-value check, which names the first bad row; so this
    test may be stricter than that one but never looser."""
    types = set(map(type, col))
    if kind == "bool":
        return types <= {bool}
    if kind == "int":
        if not types <= {int}:
            return False
        try:
            a = np.array(col, dtype=np.int64)  # (an integer beyond 64 bits: OverflowError)
        except OverflowError:
            return False
    else:  # "real" (any number), "finite", "nonneg" (finite, >= 0), "prob" (NaN or [0, 1])
        if not types <= {int, float}:
            return False
        try:
            a = np.array(col, dtype=np.float64)
        except OverflowError:  # an integer beyond the float range
            return False
        if kind == "finite":
            return bool(np.all(np.isfinite(a)))
        if kind == "nonneg":
            return bool(np.all(np.isfinite(a) & (a >= 0)))
        if kind == "prob":
            return bool(np.all(np.isnan(a) | ((a >= 0.0) & (a <= 1.0))))
    return bool(np.all((a >= low) & (a <= high))) if low is not None else True


def _context_column_ok(col) -> bool:
    """:func:`_context_ok` on a whole column at once (see :func:`_column_ok`)."""
    types = set(map(type, col))
    if not types <= {int, float, list}:
        return False
    if list not in types:
        return True  # numbers (NaN: a solve without context)
    lists = [c for c in col if type(c) is list]
    if not all(lists):  # an empty list
        return False
    flat = list(itertools.chain.from_iterable(lists))
    return _column_ok(flat, "finite")


def _first_bad(col, ok, where, what):
    """The value-by-value check of a column whose whole-column test failed: names the first
    bad row (a column that passes here passes; the whole-column test may be stricter)."""
    for i, v in enumerate(col):
        if not ok(v):
            raise _Bad(f"{where}[{i}] must be {what}, got {v!r}")


def _context_ok(c):
    if _is_real(c):
        return True  # NaN: a solve without context
    return (isinstance(c, list) and len(c) > 0
            and all(_is_real(x) and math.isfinite(x) for x in c))


def _rows(rows, columns, policy, maxiter):
    _need(isinstance(rows, dict), f"rows must be an object of columns, got {type(rows).__name__}")
    missing = [c for c in columns if c not in rows]
    _need(not missing, f"incomplete tuner file: rows has no column {', '.join(map(repr, missing))}")
    extra = [c for c in rows if c not in columns]
    _need(not extra, f"rows has unknown column(s) {', '.join(map(repr, extra))}")
    for c in columns:
        _need(isinstance(rows[c], list), f"rows column {c!r} must be a list")
    lengths = {c: len(rows[c]) for c in columns}
    n = lengths[columns[0]]
    for c in columns:
        _need(lengths[c] == n, f"rows columns have unequal lengths: {columns[0]!r} has {n}, "
                               f"{c!r} has {lengths[c]}")
    K = policy.n_arms
    omegas = [arm_omega(a) for a in policy.arms]
    omegas = [math.nan if w is None else w for w in omegas]
    checks = {
        "arm": (lambda v: _is_int(v) and 0 <= v < K, f"an arm index in 0..{K - 1}"),
        "omega": (_is_real, "a number (NaN for arms without ω)"),
        # (the history keeps them as int64: 2^70 loaded, and summary() overflowed)
        "iterations": (lambda v: _is_int(v) and 0 <= v < 2 ** 63,
                       "an integer >= 0 (within 64 bits)"),
        "seconds": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
        "context": (_context_ok, "a number (NaN: none) or a list of finite numbers"),
        "converged": (lambda v: isinstance(v, bool), "true or false"),
        "cost": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
        "censored": (lambda v: isinstance(v, bool), "true or false"),
        "fallback_arm": (lambda v: _is_int(v) and -1 <= v < K, f"-1 or an arm index in 0..{K - 1}"),
        "p": (lambda v: _is_real(v) and (math.isnan(v) or 0.0 <= v <= 1.0),
              "a probability in [0, 1] (NaN: unknown)"),
        "leader": (lambda v: _is_int(v) and -1 <= v < K, f"-1 or an arm index in 0..{K - 1}"),
        "budget": (lambda v: _is_int(v) and 0 <= v <= maxiter,
                   f"an iteration cap in 0..{maxiter} (maxiter; 0: not started)"),
    }
    # the same checks on whole columns (kind, lowest, highest: see _column_ok)
    top = min(maxiter, _INT64_MAX)
    whole = {"arm": ("int", 0, K - 1), "omega": ("real",), "iterations": ("int", 0, _INT64_MAX),
             "seconds": ("nonneg",), "converged": ("bool",), "cost": ("nonneg",),
             "censored": ("bool",), "fallback_arm": ("int", -1, K - 1), "p": ("prob",),
             "leader": ("int", -1, K - 1), "budget": ("int", 0, top)}
    for c in columns:
        ok, what = checks.get(c, (lambda v: True, ""))
        passed = (_context_column_ok(rows[c]) if c == "context" else
                  _column_ok(rows[c], *whole[c]) if c in whole else False)
        if not passed:
            _first_bad(rows[c], ok, f"rows.{c}", what)
    if "omega" in rows and "arm" in rows and not _omegas_ok(rows, omegas):
        for i, (a, w) in enumerate(zip(rows["arm"], rows["omega"])):
            expect = omegas[a]
            _need(w == expect or (math.isnan(w) and math.isnan(expect)),
                  f"rows.omega[{i}] = {w!r} is not the ω of arm {a} ({expect!r})")
    return list(zip(*(rows[c] for c in columns)))


def _omegas_ok(rows, omegas) -> bool:
    """Whether every row's ω is its arm's, on whole columns (arms already checked); only
    floats are compared here (an integer ω is compared exactly, value by value)."""
    w = rows["omega"]
    if not set(map(type, w)) <= {float}:
        return False
    w = np.array(w, dtype=np.float64)
    expect = np.array(omegas, dtype=np.float64)[np.array(rows["arm"], dtype=np.int64)]
    return bool(np.all((w == expect) | (np.isnan(w) & np.isnan(expect))))


def _audits(audits, log, columns, K):
    _need(isinstance(audits, list), "audits must be a list")
    arms = [row[columns.index("arm")] for row in log]
    out, last = [], -1
    for j, entry in enumerate(audits):
        _need(isinstance(entry, list) and len(entry) == 3,
              f"audits[{j}] must be [round, arm, costs of every arm]")
        i, a, costs = entry
        _need(_is_int(i) and last < i < len(log),
              f"audits[{j}] round {i!r} is not a later round of the history (0..{len(log) - 1})")
        _need(_is_int(a) and a == arms[i],
              f"audits[{j}] arm {a!r} is not the arm played in round {i} ({arms[i]})")
        _need(isinstance(costs, np.ndarray) and costs.dtype == np.float64 and costs.shape == (K,),
              f"audits[{j}] costs must be {K} float64 numbers, got {_describe(costs)}")
        _need(bool(np.all((costs >= 0) & ~np.isnan(costs))),
              f"audits[{j}] costs must be >= 0 (inf: the arm failed), got {costs.tolist()}")
        out.append((i, a, costs))
        last = i
    return out


def _auditor(state, log, columns, K, budget):
    """Check a version 3 ``audits`` entry: null without audits, else the auditor's state."""
    if budget == 0.0:
        _need(state is None, "audits must be null when config.audit_budget is 0")
        return None
    if K == 1:  # one arm: every cost is observed, there is nothing to audit
        _need(state is None, "audits must be null for a policy with one arm")
        return None
    _need(isinstance(state, dict), "audits must be the auditor's state (an object) when "
                                   "config.audit_budget > 0")
    keys = ("epoch_start", "q", "r", "full", "capped", "next_plan", "next_adjust",
            "next_audit", "records", "seconds", "spent", "planning", "plan_cost", "plan",
            "rng")
    missing = [k for k in keys if k not in state]
    _need(not missing, f"incomplete audits: no {', '.join(map(repr, missing))}")
    # budgeted completions (optional: files written before them completed with COMPLETE)
    optional = ("c", "stopped", "completion", "column", "plan_floor")
    extra = [k for k in state if k not in keys + optional]
    _need(not extra, f"audits has unknown entries {', '.join(map(repr, extra))}")
    if "c" in state and isinstance(state["epoch_start"], list):  # (else refused below)
        c = state["c"]
        _need(isinstance(c, list) and len(c) == len(state["epoch_start"])
              and all(_is_real(v) and 0.0 <= v <= 1.0 for v in c),
              "audits.c must be one completion probability in [0, 1] per epoch")
    if "plan_floor" in state:
        v = state["plan_floor"]
        _need(_is_real(v) and math.isfinite(v) and v >= 0,
              f"audits.plan_floor must be a finite number >= 0, got {v!r}")
    if "stopped" in state:
        _need(_is_int(state["stopped"]) and state["stopped"] >= 0,
              f"audits.stopped must be an integer >= 0, got {state['stopped']!r}")
    for key in ("completion", "column"):
        if key in state:
            v = state[key]
            _need(isinstance(v, list) and len(v) == 2 and _is_int(v[0]) and v[0] >= 0
                  and _is_real(v[1]) and math.isfinite(v[1]) and v[1] >= 0,
                  f"audits.{key} must be [runs >= 0, cost >= 0], got {v!r}")
    T = len(log)
    start, q, r, full = state["epoch_start"], state["q"], state["r"], state["full"]
    _need(isinstance(start, list) and isinstance(q, list) and isinstance(r, list)
          and isinstance(full, list) and len(start) == len(q) == len(r) == len(full),
          "audits.epoch_start, q, r and full must be lists of one length")
    for e, fe in enumerate(full):
        _need(isinstance(fe, np.ndarray) and fe.dtype == np.bool_ and fe.shape == (K,),
              f"audits.full[{e}] must be {K} booleans")
    pc = state["plan_cost"]
    _need(pc is None or (_number(pc) and pc >= 0),
          f"audits.plan_cost must be null or a finite number >= 0, got {pc!r}")
    capped = state["capped"]
    _need(isinstance(capped, np.ndarray) and capped.dtype == np.bool_ and capped.shape == (K,),
          f"audits.capped must be {K} booleans")
    plan = state["plan"]
    if plan is not None:
        _need(isinstance(plan, dict) and set(plan) == {"rate", "row_cost", "q"},
              "audits.plan must be null or an object with 'rate', 'row_cost' and 'q'")
        _need(all(_number(plan[key]) and plan[key] >= 0 for key in ("rate", "row_cost")),
              "audits.plan rate and row_cost must be finite numbers >= 0")
        pq = plan["q"]
        _need(isinstance(pq, np.ndarray) and pq.dtype == np.float64 and pq.shape == (K,)
              and bool(np.all(np.isfinite(pq) & (pq >= 0))),
              f"audits.plan.q must be {K} finite numbers >= 0")
    last = -1
    for e, (s0, qe, re_) in enumerate(zip(start, q, r)):
        _need(_is_int(s0) and last < s0 <= T, f"audits.epoch_start[{e}] must be a round after "
                                              f"the previous epoch's, at most {T}, got {s0!r}")
        last = s0
        _need(isinstance(qe, np.ndarray) and qe.dtype == np.float64 and qe.shape == (K,)
              and bool(np.all((qe >= 0) & (qe <= 1))),
              f"audits.q[{e}] must be {K} probabilities in [0, 1]")
        _need(_is_real(re_) and 0.0 <= re_ <= 1.0, f"audits.r[{e}] must be a probability in "
                                                    f"[0, 1], got {re_!r}")
    for key, low in (("next_plan", 0), ("next_adjust", 0), ("next_audit", -1)):
        _need(_is_int(state[key]) and state[key] >= low,
              f"audits.{key} must be an integer >= {low}, got {state[key]!r}")
    for key in ("seconds", "spent", "planning"):
        v = state[key]
        _need(_is_real(v) and math.isfinite(v) and v >= 0,
              f"audits.{key} must be a finite number >= 0, got {v!r}")
    _rng_state(state["rng"], "audits.rng")
    rec = state["records"]
    _need(isinstance(rec, dict), "audits.records must be an object of columns")
    missing = [c for c in AUDIT_COLUMNS if c not in rec]
    _need(not missing, f"incomplete audits.records: no {', '.join(map(repr, missing))}")
    extra = [c for c in rec if c not in AUDIT_COLUMNS]
    _need(not extra, f"audits.records has unknown column(s) {', '.join(map(repr, extra))}")
    n = len(rec["round"]) if isinstance(rec["round"], list) else -1
    for c in AUDIT_COLUMNS:
        _need(isinstance(rec[c], list) and len(rec[c]) == n,
              f"audits.records columns must be lists of one length ({c!r})")
    checks = {
        "round": (lambda v: _is_int(v) and 0 <= v < T, f"a round of the history (0..{T - 1})"),
        "arm": (lambda v: _is_int(v) and 0 <= v < K, f"an arm index in 0..{K - 1}"),
        "row": (lambda v: isinstance(v, bool), "true or false"),
        "value": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
        # (the history keeps them as int64: 2^70 loaded, and summary() overflowed)
        "iterations": (lambda v: _is_int(v) and 0 <= v < 2 ** 63,
                       "an integer >= 0 (within 64 bits)"),
        "seconds": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
        "converged": (lambda v: isinstance(v, bool), "true or false"),
        "budget": (lambda v: _is_int(v) and v >= 0, "an integer >= 0 (0: not started)"),
        "cap": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
        "p": (lambda v: _is_real(v) and (math.isnan(v) or 0.0 <= v <= 1.0),
              "a probability in [0, 1] (NaN: unknown)"),
    }
    whole = {"round": ("int", 0, T - 1), "arm": ("int", 0, K - 1), "row": ("bool",),
             "value": ("nonneg",), "iterations": ("int", 0, _INT64_MAX), "seconds": ("nonneg",),
             "converged": ("bool",), "budget": ("int", 0, _INT64_MAX),
             "cap": ("int", 0, _INT64_MAX), "p": ("prob",)}
    for c, (ok, what) in checks.items():
        if not _column_ok(rec[c], *whole[c]):
            _first_bad(rec[c], ok, f"audits.records.{c}", what)
    _need(all(a <= b for a, b in zip(rec["round"], rec["round"][1:])),
          "audits.records.round must be in round order")
    return state
