"""A tuner file's history columns and audits, each column checked whole and the first bad
row named (:mod:`bandit._tunerfile`)."""
from __future__ import annotations

import itertools
import math

import numpy as np

from ._checks import arm_omega
from ._tunerfile_checks import _Bad, _describe, _is_int, _is_real, _need, _number, _rng_state
from .audit import AUDIT_COLUMNS


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
        if kind == "rtol":  # a relative tolerance: [0, 1)
            return bool(np.all(np.isfinite(a) & (a >= 0.0) & (a < 1.0)))
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


def _rows(rows, columns, policy, maxiter, solver=None):
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
        "rtol": (lambda v: _number(v) and 0 <= v < 1, "a finite number in [0, 1)"),
        "atol": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    }
    # the same checks on whole columns (kind, lowest, highest: see _column_ok)
    top = min(maxiter, _INT64_MAX)
    whole = {"arm": ("int", 0, K - 1), "omega": ("real",), "iterations": ("int", 0, _INT64_MAX),
             "seconds": ("nonneg",), "converged": ("bool",), "cost": ("nonneg",),
             "censored": ("bool",), "fallback_arm": ("int", -1, K - 1), "p": ("prob",),
             "leader": ("int", -1, K - 1), "budget": ("int", 0, top), "rtol": ("rtol",),
             "atol": ("nonneg",)}
    for c in columns:
        ok, what = checks.get(c, (lambda v: True, ""))
        passed = (_context_column_ok(rows[c]) if c == "context" else
                  _column_ok(rows[c], *whole[c]) if c in whole else False)
        if not passed:
            _first_bad(rows[c], ok, f"rows.{c}", what)
    if "rtol" in columns and "atol" in columns:
        for i, (r, a) in enumerate(zip(rows["rtol"], rows["atol"])):
            _need(r or a, f"rows.rtol[{i}] and rows.atol[{i}] are both 0: the stopping rule "
                          f"could never hold")
    if solver == "cg" and "omega" in rows and "arm" in rows:
        # a number arm of cg runs without ω: NaN (files written before recorded the arm's
        # number, 1.0, as its ω); another value is left for the check below to name
        numbers = [not isinstance(a, dict) for a in policy.arms]
        rows = dict(rows, omega=[math.nan if numbers[a] and (w == omegas[a] or w != w) else w
                                 for a, w in zip(rows["arm"], rows["omega"])])
        omegas = [math.nan if n else w for n, w in zip(numbers, omegas)]
    if "omega" in rows and "arm" in rows and not _omegas_ok(rows, omegas):
        for i, (a, w) in enumerate(zip(rows["arm"], rows["omega"])):
            expect = omegas[a]
            _need(w == expect or (math.isnan(w) and math.isnan(expect)),
                  f"rows.omega[{i}] = {w!r} is not the ω of arm {a} ({expect!r})")
    return list(zip(*(rows[c] for c in columns)))


def _told_rows(log, columns, policy):
    """The history against the policy state: every round recorded was told to the policy
    (``counts[arm] += 1``; the Tuner records a round only once it has told it), except a
    round whose start already met the stopping rule (converged in 0 iterations: recorded,
    never told), and counts only grow — so each arm's ``counts`` is at least its rows
    other than those.  (More is no contradiction: a policy shared by several Tuners, trained
    before, or told through :meth:`Tuner.tell`.)  A hand edit of the rows' arms, or of the
    policy's ``counts`` and ``t``, that breaks this is refused naming both fields."""
    if not log:
        return
    at = {c: i for i, c in enumerate(columns)}
    arm, its, conv = at["arm"], at["iterations"], at["converged"]
    played = np.zeros(policy.n_arms, dtype=np.int64)
    for row in log:
        if row[its] or not row[conv]:
            played[row[arm]] += 1
    counts = np.asarray(policy.counts)
    over = np.flatnonzero(played > counts)
    if over.size:
        a = int(over[0])
        raise _Bad(
            f"the history contradicts the policy state: rows.arm has arm {a} on "
            f"{int(played[a])} rounds it was told (not counting rounds already solved at "
            f"the start: converged in 0 iterations), but the policy state's 'counts' gives "
            f"arm {a} {int(counts[a])} (t = {int(policy.t)}); every recorded round is told to "
            f"the policy, and its counts only grow — was the file edited by hand?")


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
    optional = ("c", "stopped", "completion", "column", "plan_floor",
                # the auditor's CPU time settled (files written before it was: none)
                "settled", "prepaid", "floored", "last_adjust")
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
    for key in ("settled", "prepaid"):
        if key in state:
            v = state[key]
            _need(_is_real(v) and math.isfinite(v) and v >= 0,
                  f"audits.{key} must be a finite number >= 0, got {v!r}")
    if "floored" in state:
        _need(isinstance(state["floored"], bool),
              f"audits.floored must be true or false, got {state['floored']!r}")
    if "last_adjust" in state:
        v = state["last_adjust"]
        _need(isinstance(v, list) and len(v) == 2
              and all(_is_real(x) and math.isfinite(x) and x >= 0 for x in v),
              f"audits.last_adjust must be [solves >= 0, cost >= 0], got {v!r}")
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
