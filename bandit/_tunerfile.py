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
* the rows against the policy state: each arm played on no more told rounds (rows other than
  those already solved at the start) than the policy's ``counts`` give it;
* ``audits`` (version 3: the auditor's plans, records, spend and generator, or null without
  audits) and ``work`` consistent with the rows;
* ``measured`` (optional: absent from files written before it was kept, and so are its later
  entries): what the runs of configuration arms measured — every entry of its JSON type,
  numbers finite and >= 0 (NaN only for a price not read yet), no list longer than the
  library keeps; the Tuner's ``load`` then checks it against the arms
  (:meth:`bandit.armset.ArmSet.check_measured`: one entry per family, arms with a set-up);
* ``row_configs`` (optional: absent from files written before it was kept): what each row
  ran, the label, method and preconditioner of its arm, one string per row — lists of the
  rows' length here, the very strings the arm list gives in the Tuner's ``load``.

Older files are read as follows.  Versions 1 and 2 have no ``p``, ``leader`` and ``budget``
columns (read as NaN — unknown —, −1 and ``maxiter``), and audited a fraction ``audit`` of
the rounds with every arm: those audits become column audits of every arm (probability
``audit`` each) and row audits (probability ``audit``) of one epoch from round 0, and the
tuner continues with ``audit_budget`` = the share of the solve time those audits took (or
``audit × (K − 1)``, at most 1, before any solve); ``audit = 0`` reads as no audits.

The policy state is checked in :mod:`bandit._tunerfile_policy`, the history and the audits in
:mod:`bandit._tunerfile_rows`, with the small checks they share in
:mod:`bandit._tunerfile_checks`.
"""
from __future__ import annotations

import json
import math
import zlib

import numpy as np

from ._persist import TunerFileError, check_path, read_versioned
from ._report_history import ROW_CONFIG_COLUMNS as _ROW_CONFIG_COLUMNS
from ._report_history import TOLERANCE_COLUMNS as _TOLERANCE_COLUMNS
from ._tunerfile_checks import _Bad, _decode, _is_int, _is_real, _need, _number, _rng_state
from ._tunerfile_policy import _policy, check_policy_state
from ._tunerfile_rows import _audits, _auditor, _column_ok, _first_bad, _rows, _told_rows
from .audit import AUDIT_COLUMNS

__all__ = ["read_tuner_file", "check_policy_state", "check_tuner_payload"]

#: Keys of a tuner file besides ``format`` and ``version`` (version 3; versions 1–2: _TOP_2).
_TOP = ("config", "policy", "rows", "audits", "work")
_TOP_2 = ("config", "policy", "rows", "audits", "audit_seconds", "work", "audit_rng")
#: History columns added by version 3 and what older files read as (NaN: unknown).
_NEW_COLUMNS = ("p", "leader", "budget")


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
    check_path(path, reading=True)
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
    _arm_omegas(policy)
    log = _tolerance_rows(payload, columns, policy, config)
    _told_rows(log, columns, policy)
    auditor = _auditor(_decode(payload["audits"], "audits"), log, columns, policy.n_arms,
                       config["audit_budget"])
    return {"policy": policy, "config": config, "log": log, "auditor": auditor,
            "work": _work(payload), "paid": _paid(payload, len(log), config["cost"]),
            "measured": _measured(payload),
            "process_starts": _process_starts(payload, len(log)),
            "row_configs": _row_configs(payload, len(log)),
            "tuner_seconds": _tuner_seconds(payload, len(log))}


def _tuner_seconds(payload, T):
    """The tuner's own seconds per row (``None`` if not in the file, written before they
    were kept; an older library ignores them): numbers >= 0, NaN for a row not measured."""
    if "tuner_seconds" not in payload:
        return None
    own = _decode(payload["tuner_seconds"], "tuner_seconds")
    _need(isinstance(own, list) and len(own) == T
          and all(_is_real(v) and (v != v or 0.0 <= v < math.inf) for v in own),
          f"tuner_seconds must be a list of one number >= 0 (NaN: not measured) per row "
          f"({T}), got {own!r:.80}")
    return [float(v) for v in own]


def _arm_omegas(policy):
    """Every arm's ω reads as a number (or there is none): the rows are checked against
    them, and an arm edited to ``"omega": null`` had stopped ``load`` there with float()'s
    bare TypeError, naming neither the file nor the arm."""
    from ._checks import arm_omega

    for i, arm in enumerate(policy.arms):
        try:
            arm_omega(arm)
        except (TypeError, ValueError) as exc:
            raise _Bad(f"policy arm {i} ({arm!r}): its ω is not a number ({exc})") from None


def _tolerance_rows(payload, columns, policy, config):
    """The rows of a version 3 file; without the columns ``rtol`` and ``atol`` (every solve
    at the Tuner's stopping rule, or a file written before they were kept) each row reads
    the file's ``config.rtol`` and ``config.atol``."""
    rows = _decode(payload["rows"], "rows")
    if not (isinstance(rows, dict) and not any(c in rows for c in _TOLERANCE_COLUMNS)):
        return _rows(rows, columns, policy, config["maxiter"], config["solver"])
    old = tuple(c for c in columns if c not in _TOLERANCE_COLUMNS)
    log = _rows(rows, old, policy, config["maxiter"], config["solver"])
    tol = (float(config["rtol"]), float(config["atol"]))
    return [row + tol for row in log]


def _row_configs(payload, T):
    """What each row ran — its arm's label, method and preconditioner, one string per row —
    or ``None`` if not in the file (written before it was kept; an older library ignores
    it).  That the strings are the rows' arms' is checked by the Tuner's ``load``."""
    if "row_configs" not in payload:
        return None
    rc = _decode(payload["row_configs"], "row_configs")
    _need(isinstance(rc, dict) and set(rc) == set(_ROW_CONFIG_COLUMNS),
          f"row_configs must hold exactly {', '.join(map(repr, _ROW_CONFIG_COLUMNS))}")
    for c in _ROW_CONFIG_COLUMNS:
        _need(isinstance(rc[c], list) and len(rc[c]) == T
              and all(isinstance(v, str) for v in rc[c]),
              f"row_configs.{c} must be a list of one string per row ({T})")
    return rc


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
    """The arms' measurements (``None`` if not in the file): every entry of the right JSON
    type, numbers finite and >= 0 (a ratio or a price NaN where nothing was read yet), each
    list no longer than the library keeps; the lengths against the arms are checked by the
    Tuner's ``load`` (:meth:`bandit.armset.ArmSet.check_measured`)."""
    if "measured" not in payload:
        return None
    from ._armset_persist import MEASURED_KEYS, MEASURED_LATER, PRICE_KEYS
    from ._armset_setup import _LIFETIMES, _SETUP_READINGS
    from ._prices import _WINDOW

    m = _decode(payload["measured"], "measured")

    def nonneg(v, integer=False):
        return (_is_int(v) if integer else _is_real(v) and math.isfinite(v)) and v >= 0

    def numbers(v, most, positive=False):  # a list of at most `most` numbers >= 0 (> 0)
        return isinstance(v, list) and len(v) <= most and all(
            nonneg(x) and (x > 0 or not positive) for x in v)

    def pairs(v, ok):  # [arm index, value] pairs
        return isinstance(v, list) and all(
            isinstance(p, list) and len(p) == 2 and nonneg(p[0], True) and ok(p[1])
            for p in v)

    keys = set(MEASURED_KEYS)
    # the later keys are absent from files written before they were kept
    _need(isinstance(m, dict) and keys <= set(m) <= keys | set(MEASURED_LATER),
          f"measured must hold exactly {', '.join(map(repr, MEASURED_KEYS))} and optionally "
          f"{', '.join(map(repr, MEASURED_LATER))}")
    _need(isinstance(m["rate"], list) and isinstance(m["all"], list)
          and all(isinstance(p, list) and len(p) == 2 and nonneg(p[0]) and nonneg(p[1], True)
                  for p in m["rate"] + [m["all"]]),
          "measured.rate and measured.all must be [cost >= 0, iterations >= 0] pairs")
    _need(isinstance(m["per_work"], list) and len(m["per_work"]) == 2
          and all(nonneg(v) for v in m["per_work"]),
          "measured.per_work must be [seconds >= 0, work >= 0]")
    _need(isinstance(m["fit"], list) and len(m["fit"]) == len(m["rate"])
          and all(isinstance(f, list) and len(f) == 5 and nonneg(f[0], True)
                  and all(nonneg(v) for v in f[1:]) for f in m["fit"]),
          "measured.fit must hold one [n, Σw, Σw², Σs, Σsw] per family (an integer n >= 0, "
          "sums finite and >= 0)")
    _need(pairs(m["setup"], nonneg), "measured.setup must be [arm index, set-up cost >= 0] "
                                     "pairs")
    _need(pairs(m.get("solve_floor", []), nonneg),
          "measured.solve_floor must be [arm index, solve cost >= 0] pairs")
    _need(pairs(m.get("served", []), lambda v: nonneg(v, True)),
          "measured.served must be [arm index, reuses >= 0] pairs")
    # (the lengths of the per-family lists against the arms' families: the Tuner's load, as
    # measured.rate's)
    for key in ("latest_solve", "warm_most"):
        v = m.get(key, [])
        _need(isinstance(v, list) and all(nonneg(x) for x in v),
              f"measured.{key} must hold one cost >= 0 per family")
    recent = m.get("time_recent", [])
    _need(isinstance(recent, list) and all(numbers(r, _WINDOW) for r in recent),
          f"measured.time_recent must hold per family a list of at most {_WINDOW} seconds per "
          "iteration >= 0")
    _need(pairs(m.get("setup_readings", []),
                lambda r: numbers(r, _SETUP_READINGS) and len(r) >= 1),
          f"measured.setup_readings must be [arm index, [1 to {_SETUP_READINGS} set-up costs "
          ">= 0]] pairs")
    _need(pairs(m.get("lifetimes", []), lambda r: numbers(r, _LIFETIMES) and len(r) >= 1),
          f"measured.lifetimes must be [arm index, [1 to {_LIFETIMES} rounds >= 0]] pairs")
    book = m.get("prices")
    if book is not None:
        _prices(book, nonneg, numbers, PRICE_KEYS, _WINDOW)
    return m


def _prices(book, nonneg, numbers, keys, window):
    """``measured.prices``: timed_work's paired prices (null before a tuner had any)."""
    _need(isinstance(book, dict) and set(book) == set(keys),
          f"measured.prices must be null or hold exactly {', '.join(map(repr, keys))}")

    def price(v):  # > 0, or NaN before a reading
        return _is_real(v) and (v != v or 0 < v < math.inf)

    _need(_is_int(book["ref"]) and book["ref"] >= -1,
          f"measured.prices.ref must be a family index, or -1 before any reading, got "
          f"{book['ref']!r}")
    _need(price(book["base"]), f"measured.prices.base must be a price > 0 (NaN before any "
                               f"reading), got {book['base']!r}")
    _need(isinstance(book["fixed"], bool), f"measured.prices.fixed must be true or false, "
                                           f"got {book['fixed']!r}")
    _need(numbers(book["base_readings"], window, True),
          f"measured.prices.base_readings must be at most {window} readings > 0")
    _need(isinstance(book["ratio"], list) and all(price(v) for v in book["ratio"]),
          "measured.prices.ratio must hold per family a ratio > 0 (NaN before any reading)")
    _need(isinstance(book["samples"], list)
          and all(numbers(s, window, True) for s in book["samples"]),
          f"measured.prices.samples must hold per family a list of at most {window} ratios > 0")
    _need(nonneg(book["tick"], True), f"measured.prices.tick must be an integer >= 0, got "
                                      f"{book['tick']!r}")
    _need(book["ref"] >= 0 or not (book["base_readings"] or book["fixed"]),
          "measured.prices: readings of the reference family, or a fixed price, without a "
          "reference family (ref = -1)")


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
    _arm_omegas(policy)
    old = tuple(c for c in columns if c not in _NEW_COLUMNS + _TOLERANCE_COLUMNS)
    log = _rows(_decode(payload["rows"], "rows"), old, policy, config["maxiter"],
                config["solver"])
    log = [row + (math.nan, -1, config["maxiter"], float(config["rtol"]),
                  float(config["atol"])) for row in log]
    _told_rows(log, columns, policy)
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
    # checked once decoded: an encoded scalar ({"__float__": "nan"}) is a JSON object too,
    # and had passed for a config, then failed as "TypeError: 'float' object is not iterable"
    config = _decode(raw, "config")
    _need(isinstance(config, dict), f"config must be an object, got {type(config).__name__}")
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
