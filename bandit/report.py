"""What a :class:`bandit.Tuner` reports: its history, summary, regret, CSV and progress bar.

The Tuner keeps one tuple per solve; this module turns them into a documented table
(:data:`HISTORY_SCHEMA`, a dict of NumPy arrays, no pandas), writes and reads it as CSV,
builds the summary, hands the estimators of :mod:`bandit.estimate` their arrays (kept up to
date append-only as rounds are logged, :class:`RunArrays`), and runs
the optional per-solve hook (a tqdm bar and a user callback).
"""
from __future__ import annotations

import csv
import io
import math
import os
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from ._base import count_of
from ._persist import read_bytes, write_bytes_atomic
from .estimate import RegretEstimate, RegretReport, RunData, estimate_regret, quick_totals

__all__ = ["HISTORY_SCHEMA", "history", "read_csv", "write_csv", "summary", "regret",
           "estimator_data", "already_solved", "row_configs", "paid_per_solve", "audit_cost", "cost_unit",
           "RunArrays", "run_arrays", "Hook", "TunerRegretReport", "failure_note"]

#: The fields of the tuple the Tuner logs per solve, in order (``Tuner._log``; saved as the
#: tuner file's ``rows``).
LOG_COLUMNS = ("arm", "omega", "iterations", "seconds", "context", "converged", "cost",
               "censored", "fallback_arm", "p", "leader", "budget")

#: Columns of ``Tuner.history``: name, NumPy dtype, meaning (one entry per solve).
HISTORY_SCHEMA = (
    ("round", "int64", "solve index, 0-based"),
    ("arm", "int64", "arm the policy chose"),
    ("label", "str", "that arm's readable name (Tuner.arm_labels)"),
    ("method", "str", "the method that arm ran: 'sor', 'ssor_pcg' or 'cg' (a solver "
                      "function's name for a Tuner with one; '': a CSV written before the "
                      "column)"),
    ("pc", "str", "its preconditioner: 'ssor' for ssor_pcg, CG's 'none', 'jacobi', 'ic0', "
                  "'amg' or PETSc pc_type; '' for SOR, a solver function, or a CSV written "
                  "before the column"),
    ("omega", "float64", "that arm's ω (NaN for an arm without one)"),
    ("iterations", "int64", "iterations of every run of the solve (attempt and fallbacks)"),
    ("seconds", "float64", "solver seconds of every run of the solve (audits excluded)"),
    ("context", "float64", "the context passed (NaN: none); shape (T, d) for a vector context "
                           "(one shorter than the longest padded with NaN)"),
    ("converged", "bool", "the returned result converged"),
    ("cost", "float64", "cost told to the policy (a round whose start already met the "
                        "stopping rule, 0 iterations, is not told: what it cost)"),
    ("censored", "bool", "the chosen arm's attempt did not converge (stopped or failed)"),
    ("fallback_arm", "int64", "arm that produced x when it was not the attempt (−1: none)"),
    ("p", "float64", "probability the policy gave the chosen arm (1: deterministic policy; "
                     "NaN: not recorded, files older than version 3)"),
    ("leader", "int64", "the guard's leader: lowest predicted cost among arms that converged "
                        "before (−1: none yet)"),
    ("budget", "int64",
     "iteration cap of the chosen arm's attempt (0: the guard did not start it)"),
    ("audit_runs", "int64", "audit solves run after this solve (off the user's clock)"),
)


def _context_array(ctx) -> np.ndarray:
    """The recorded contexts as one array: ``(T,)`` when every context has one entry (NaN:
    none), else ``(T, d)`` with ``d`` the longest, a shorter context (a number, none, a
    shorter vector — which a learner without contexts accepts) padded with NaN, so that no
    recorded entry is dropped."""
    width = max((len(c) for c in ctx if isinstance(c, list)), default=1)
    if width == 1:
        return np.array([c[0] if isinstance(c, list) else c for c in ctx], dtype=float)
    out = np.full((len(ctx), width), np.nan)
    for i, c in enumerate(ctx):
        if isinstance(c, list):
            out[i, :len(c)] = c
        else:
            out[i, 0] = c
    return out


#: Columns of :func:`row_configs`: what each solve ran, beside its arm index
ROW_CONFIG_COLUMNS = ("label", "method", "pc")


def _arm_configs(tuner) -> dict:
    """Per arm: its label, method and preconditioner (:data:`HISTORY_SCHEMA`)."""
    arms = tuner._arms
    K = len(tuner.arm_labels)
    if arms.configs is None:  # a solver function of the user's: its name, no preconditioner
        methods, pcs = [arms.solver_name] * K, [""] * K
    else:
        methods = [c.method for c in arms.configs]
        pcs = [c.pc if c.method == "cg" else "ssor" if c.method == "ssor_pcg" else ""
               for c in arms.configs]
    return {"label": list(tuner.arm_labels), "method": methods, "pc": pcs}


def row_configs(tuner) -> dict:
    """What each solve ran, one list per :data:`ROW_CONFIG_COLUMNS` entry (one string per
    solve): the chosen arm's label, method and preconditioner, so that a saved run reads
    without its arm list (the tuner file's ``row_configs``; :attr:`Tuner.history`)."""
    per_arm = _arm_configs(tuner)
    arm = tuner._rows["arm"]
    return {c: [per_arm[c][a] for a in arm] for c in ROW_CONFIG_COLUMNS}


def history(tuner) -> dict:
    """The history as a dict of arrays in :data:`HISTORY_SCHEMA` order."""
    rows = tuner._rows
    T = len(rows["arm"])
    ctx = _context_array(rows["context"])
    arm = np.array(rows["arm"], dtype=np.int64)
    per_arm = {c: np.array(v, dtype=object) for c, v in _arm_configs(tuner).items()}
    runs = np.zeros(T, dtype=np.int64)
    aud = tuner._auditor
    if aud is not None and aud.records["round"]:
        runs += np.bincount(np.array(aud.records["round"], dtype=np.int64), minlength=T)[:T]
    out = {"round": np.arange(T, dtype=np.int64), "arm": arm,
           **{c: per_arm[c][arm] if T else np.array([], dtype=object)
              for c in ROW_CONFIG_COLUMNS},
           "omega": np.array(rows["omega"], dtype=float),
           "iterations": np.array(rows["iterations"], dtype=np.int64),
           "seconds": np.array(rows["seconds"], dtype=float), "context": ctx,
           "converged": np.array(rows["converged"], dtype=bool),
           "cost": np.array(rows["cost"], dtype=float),
           "censored": np.array(rows["censored"], dtype=bool),
           "fallback_arm": np.array(rows["fallback_arm"], dtype=np.int64),
           "p": np.array(rows["p"], dtype=float),
           "leader": np.array(rows["leader"], dtype=np.int64),
           "budget": np.array(rows["budget"], dtype=np.int64),
           "audit_runs": runs}
    return out


# --- CSV ------------------------------------------------------------------------------------
def write_csv(hist: dict, path) -> None:
    """Write a history to CSV: a header of the schema's names (a vector context becomes
    ``context_0 … context_{d−1}``), one row per solve, floats written exactly (``repr``)."""
    names = [n for n, *_ in HISTORY_SCHEMA]
    ctx = hist["context"]
    header = []
    for n in names:
        if n == "context" and ctx.ndim == 2:
            header += [f"context_{j}" for j in range(ctx.shape[1])]
        else:
            header.append(n)
    T = len(hist["arm"])
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    w.writerow(header)
    for i in range(T):
        row = []
        for n in names:
            v = hist[n][i]
            if n == "context" and ctx.ndim == 2:
                row += [repr(float(c)) for c in v]
            elif isinstance(v, (bool, np.bool_)):
                row.append("true" if v else "false")
            elif isinstance(v, (float, np.floating)):
                row.append(repr(float(v)))
            else:
                row.append(str(v))
        w.writerow(row)
    # atomic: a failure part-way, a crash or a concurrent reader never sees a half-written
    # file in place of the previous one
    write_bytes_atomic(path, fh.getvalue().encode("utf-8"))


def read_csv(path) -> dict:
    """Read a CSV written by :meth:`bandit.Tuner.to_csv` back into history arrays.

    Examples
    --------
    >>> import tempfile, os
    >>> h = {n: np.zeros(0, dtype=object if d == "str" else d) for n, d, _ in HISTORY_SCHEMA}
    >>> path = os.path.join(tempfile.mkdtemp(), "h.csv")
    >>> write_csv(h, path); sorted(read_csv(path)) == sorted(h)
    True

    Raises
    ------
    ValueError
        Naming the file and the problem: missing, a folder, unreadable, not a relaxtune
        history, truncated, or a row with an entry of the wrong kind.
    """
    path = os.fspath(path)
    # the messages Tuner.load gives for a file it cannot read
    raw = read_bytes(path, "relaxtune history", ValueError)
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: not a relaxtune history ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: empty file, not a relaxtune history")
    header, body = rows[0], rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):  # a truncated or hand-edited file
            raise ValueError(f"{path}: row {i + 1} has {len(r)} fields, the header "
                             f"{len(header)} (truncated or not a relaxtune history)")
    if not raw.endswith(b"\n"):  # every row ends a line: a cut inside the last field can
        # leave a shorter valid number ("12" -> "1"), seen only by the missing line end
        raise ValueError(f"{path}: the last row does not end its line (truncated or not a "
                         f"relaxtune history)")
    col = {n: i for i, n in enumerate(header)}

    def column(name, i, convert, what="a number"):
        out = []
        for j, r in enumerate(body):
            try:
                out.append(convert(r[i]))
            except ValueError:
                raise ValueError(f"{path}: row {j + 1}, column {name!r}: {r[i]!r} is not "
                                 f"{what}") from None
        return out

    def integer(v):
        f = float(v)
        if not f.is_integer():
            raise ValueError(v)
        return int(f)

    def flag(v):
        if v not in ("true", "false"):
            raise ValueError(v)
        return v == "true"

    out = {}
    for name, dtype, _ in HISTORY_SCHEMA:
        if name == "context" and "context" not in col:
            cols = [column(h, col[h], float) for h in header if h.startswith("context_")]
            out[name] = np.array(cols, dtype=float).T.reshape(len(body), len(cols))
            continue
        if name in ("method", "pc") and name not in col:  # written before the column
            out[name] = np.array([""] * len(body), dtype=object)
            continue
        if name not in col:
            raise ValueError(f"{path}: no column {name!r}, not a relaxtune history")
        i = col[name]
        if dtype == "bool":
            out[name] = np.array(column(name, i, flag, "true or false"), dtype=bool)
        elif dtype == "str":
            out[name] = np.array([r[i] for r in body], dtype=object)
        elif np.dtype(dtype).kind == "i":
            out[name] = np.array(column(name, i, integer, "an integer"), dtype=dtype)
        else:
            out[name] = np.array(column(name, i, float), dtype=dtype)
    return out


# --- what the estimators read ----------------------------------------------------------------
def _arm_order(tuner):
    om = np.array(tuner._omegas, dtype=float)
    if om.size == 0 or not np.all(np.isfinite(om)):
        return None
    return np.argsort(om, kind="stable")


def paid_per_solve(tuner) -> np.ndarray:
    """What each solve cost (every run, audits excluded) in the tuner's cost unit
    (:func:`cost_unit`): iterations, seconds, or the work / timed work of its runs."""
    if tuner._paid is not None:  # work or timed work
        return np.array(tuner._paid, dtype=float)
    rows = tuner._rows
    return np.array(rows["seconds" if tuner.cost == "time" else "iterations"], dtype=float)


# the log's columns the estimators read, by their index in the Tuner's row tuples
_ARM, _ITERATIONS, _SECONDS, _CONTEXT, _CONVERGED, _COST, _CENSORED, _P, _BUDGET = (
    LOG_COLUMNS.index(c) for c in ("arm", "iterations", "seconds", "context", "converged",
                                   "cost", "censored", "p", "budget"))


class RunArrays:
    """The per-round arrays the estimators read, kept up to date append-only.

    The Tuner's log is a list of row tuples that only grows; :meth:`update` converts the
    rows added since the last call (amortised ``O(1)`` per round: a plan at round ``t``
    converts the rounds since the previous one, not all ``t``) into growing NumPy buffers,
    so the audit plans and the progress bar do not rebuild ``O(T)`` arrays from the whole
    log each time.  A log that was replaced (a loaded tuner) or shortened starts over.
    The arrays equal those of a full rebuild exactly (tested).

    Examples
    --------
    >>> class Run:  # the two attributes read: the log and the per-round paid cost
    ...     _log = [(0, 1.0, 5, 0.1, 0.5, True, 5.0, False, -1, 1.0, -1, 100)]
    ...     _paid, cost = None, "iterations"
    >>> RunArrays().update(Run()).view("paid").tolist()
    [5.0]
    """

    _FIELDS = (("arm", np.int64), ("iterations", float), ("seconds", float), ("x", float),
               ("cost", float), ("censored", bool), ("p", float), ("budget", float),
               ("paid", float), ("converged", bool))

    def __init__(self):
        self._log = self._paid = None
        self.n = 0
        self._buf = {name: np.empty(0, dtype) for name, dtype in self._FIELDS}

    def update(self, tuner) -> "RunArrays":
        """Append the rows logged since the last call; returns ``self``."""
        log, paid = tuner._log, tuner._paid
        if log is not self._log or paid is not self._paid or len(log) < self.n:
            self.__init__()
            self._log, self._paid = log, paid
        T = len(log)
        if T == self.n:
            return self
        new = log[self.n:T]
        cols = list(zip(*new))
        m = T - self.n
        vals = {"arm": cols[_ARM], "iterations": cols[_ITERATIONS], "seconds": cols[_SECONDS],
                "x": [c[0] if isinstance(c, list) else c for c in cols[_CONTEXT]],
                "cost": cols[_COST], "censored": cols[_CENSORED], "p": cols[_P],
                "budget": cols[_BUDGET], "converged": cols[_CONVERGED]}
        if paid is not None:
            vals["paid"] = paid[self.n:T]
        else:
            vals["paid"] = vals["seconds" if tuner.cost == "time" else "iterations"]
        for name, dtype in self._FIELDS:
            buf = self._buf[name]
            if buf.size < T:  # capacity doubles: amortised O(1) per appended round
                grown = np.empty(max(2 * buf.size, T, 64), dtype)
                grown[:self.n] = buf[:self.n]
                self._buf[name] = buf = grown
            buf[self.n:T] = np.array(vals[name], dtype=dtype)[:m]
        self.n = T
        return self

    def view(self, name) -> np.ndarray:
        """The rounds so far of one field (a read-only view: later appends never change
        it)."""
        v = self._buf[name][:self.n]
        v.flags.writeable = False
        return v


def run_arrays(tuner) -> RunArrays:
    """The tuner's :class:`RunArrays`, brought up to date (kept with the tuner, never saved)."""
    arrays = _ARRAYS.get(tuner)
    if arrays is None:
        arrays = _ARRAYS[tuner] = RunArrays()
    return arrays.update(tuner)


_ARRAYS = weakref.WeakKeyDictionary()


def _full_arrays(tuner) -> dict:
    """The same fields as :class:`RunArrays`, rebuilt from the whole log (the reference the
    incremental arrays are tested against)."""
    rows = tuner._rows
    ctx = rows["context"]
    return {"arm": np.array(rows["arm"], dtype=np.int64),
            "iterations": np.array(rows["iterations"], dtype=float),
            "seconds": np.array(rows["seconds"], dtype=float),
            "x": np.array([c[0] if isinstance(c, list) else c for c in ctx], dtype=float),
            "cost": np.array(rows["cost"], dtype=float),
            "censored": np.array(rows["censored"], dtype=bool),
            "p": np.array(rows["p"], dtype=float),
            "budget": np.array(rows["budget"], dtype=float),
            "paid": paid_per_solve(tuner),
            "converged": np.array(rows["converged"], dtype=bool)}


#: Beyond this magnitude the cost model's coordinate is scaled by 2⁻⁶⁴ (exact) so that its
#: differences cannot overflow (:func:`estimator_data`).
_X_HUGE = 2.0 ** 960


def _varying_coordinate(log, T) -> np.ndarray:
    """The cost model's coordinate when a context's first coordinate never changed: the
    first coordinate of a vector context that did, else the round index — a context that
    never changes tells the rounds apart no more than none, and the round lets the model
    follow a drift over the run (costs that fall to 0 at a steady state)."""
    if not (T and isinstance(log[0][_CONTEXT], list)):
        return np.arange(T, dtype=float)
    ctx = [row[_CONTEXT] for row in log[:T]]
    if all(isinstance(c, list) and len(c) == len(ctx[0]) for c in ctx):
        X = np.array(ctx, dtype=float)
        for x in X.T[1:]:
            if np.all(np.isfinite(x)) and x.min() < x.max():
                return x
    return np.arange(T, dtype=float)


def already_solved(iterations, converged) -> np.ndarray:
    """Which rounds' start already met the stopping rule: converged in 0 iterations
    (``b = 0`` too).  Every arm costs 0 iterations on such a round — the solvers test the
    start before their first iteration or set-up — so it tells nothing about the arms (a
    solver function of the user's is taken at its word only with a cost in iterations: one
    that counts no iterations at all is told its seconds as before): the
    Tuner does not tell its policy, the auditor does not audit it, and the regret counts it
    as a round on which every arm costs what the round paid (with ``cost="time"``, the
    microseconds of that test), so its contribution is 0 (:func:`estimator_data`).

    Examples
    --------
    >>> import numpy as np
    >>> already_solved([12, 0, 0], [True, True, False])   # the third failed at once
    array([False,  True, False])
    """
    return (np.asarray(iterations) == 0) & np.asarray(converged, dtype=bool)


def estimator_data(tuner, *, rebuild=False, rounds=None) -> RunData:
    """The :class:`~bandit.estimate.RunData` of a tuner's run so far (from its
    :class:`RunArrays`; ``rebuild``: from the whole log, the slower reference): its first
    ``rounds`` rounds (default all) without those whose start already met the stopping rule
    (:func:`already_solved`: every arm costs the same there, what the round paid, so they
    add nothing to the regret against either comparator), audits and audit epochs
    renumbered to match."""
    return _estimator_input(tuner, rebuild=rebuild, rounds=rounds)[0]


def _estimator_input(tuner, *, rebuild=False, rounds=None):
    """``(RunData, kept, T, paid)``: :func:`estimator_data`, the indices in the run of its
    rounds (None: the run's rounds, all of them), the rounds it covers (``rounds`` or the
    run's) and what those rounds paid, the rounds already solved included."""
    if rebuild:
        cols = _full_arrays(tuner)
    else:
        arrays = run_arrays(tuner)
        cols = {name: arrays.view(name) for name, _ in RunArrays._FIELDS}
    T = cols["arm"].size if rounds is None else min(int(rounds), cols["arm"].size)
    solved = already_solved(cols["iterations"][:T], cols["converged"][:T])
    if not tuner._counts_starts:  # (a solver function of the user's that counts no iterations)
        solved[:] = False
    paid_all = float(np.sum(cols["paid"][:T]))
    kept = None
    if T < cols["arm"].size or solved.any():
        kept = np.flatnonzero(~solved)
        cols = {name: v[kept] for name, v in cols.items()}
    n = cols["arm"].size  # the rounds the estimators read
    K = tuner.policy.n_arms
    paid = cols["paid"]
    x = cols["x"]
    if n and not (np.all(np.isfinite(x)) and x.min() < x.max()):
        # no context (NaN: the model follows the round), or a first coordinate that never
        # changed
        x = _varying_coordinate(tuner._log, T) if np.all(np.isfinite(x)) else None
        if x is None or (kept is not None and x.size == T and np.array_equal(
                x, np.arange(T, dtype=float))):
            x = np.arange(n, dtype=float)  # the round among those read
        elif kept is not None:
            x = x[kept]
    if x is not None and n and float(np.max(np.abs(x))) > _X_HUGE:
        # contexts near the float range (±1.7e308): the estimators' quantiles and hat
        # weights take differences of x, which overflowed (inf − inf = NaN knots, and the
        # report said "nothing observed yet" with NaN intervals); they only read the order
        # and the ratios of differences of x, which a power of two keeps exactly
        x = x * 2.0 ** -64
    played = np.where(cols["censored"], np.nan, cols["cost"])
    fail = tuner._failure_cost(0.0)
    its = cols["iterations"]
    if not (fail > 0.0 and math.isfinite(fail)) and n:
        # a loaded tuner has not measured a cost per iteration yet (it is not saved): price a
        # failure from the history, maxiter times the dearest cost per iteration recorded
        per = np.divide(paid, its, out=np.zeros(n), where=its > 0)
        fail = float(tuner.maxiter * max(per.max(), paid.max()))
    aud = tuner._auditor
    if aud is None:
        audits = {c: np.zeros(0) for c in ("round", "arm", "row", "value", "iterations",
                                            "converged", "budget", "p")}
        start, q, r = np.zeros(0, np.int64), np.zeros((0, K)), np.zeros(0)
        full = complete = None
    else:
        rec = aud.records
        audits = {c: np.asarray(rec[c]) for c in rec}
        value = np.asarray(rec["value"], dtype=float)
        audits["value"] = np.where(audits["converged"].astype(bool), value, fail)
        start = np.array(aud.epoch_start, dtype=np.int64)
        q = np.array(aud.q, dtype=float).reshape(len(aud.q), K)
        r = np.array(aud.r, dtype=float)
        full = np.array(aud.full, dtype=bool).reshape(len(aud.full), K)
        complete = np.array(aud.c, dtype=float)
        if kept is not None:
            # the kept rounds' indices: an audit of a later round, or of a round already
            # solved (a file written before such rounds went unaudited), is left out, and
            # an epoch starts at the first kept round from its start on
            at = np.asarray(rec["round"], dtype=np.int64)
            inside = at < T
            inside[inside] = ~solved[at[inside]]
            before = np.concatenate(([0], np.cumsum(~solved)))  # kept rounds before each
            audits = {c: v[inside] for c, v in audits.items()}
            audits["round"] = before[at[inside]]
            used = start < T
            start, q, r, full, complete = (start[used], q[used], r[used], full[used],
                                           complete[used])
            start = before[start]
    from .audit import CAP_FACTOR

    cap = np.clip(np.ceil(CAP_FACTOR * its), 1, tuner.maxiter)  # as audit.capped_cap
    data = RunData(paid=paid, x=x, arm=cols["arm"], p=cols["p"], played=played,
                   epoch_start=start, q=q, r=r, audits=audits, fail_cost=float(fail),
                   n_arms=K, arm_order=_arm_order(tuner),
                   randomised=bool(tuner.policy.randomised), full=full, cap=cap,
                   maxiter=tuner.maxiter,
                   budget=None if tuner.cost != "iterations" else cols["budget"],
                   complete=complete,
                   # a failed attempt is told the failure cost, maxiter iterations (or the
                   # round's cost when larger), a stopped one less; in seconds or work the
                   # failure cost of a past round is not known exactly
                   failed=(cols["censored"] & (cols["cost"] >= fail)
                           if tuner.cost == "iterations" else None),
                   solved=int(np.count_nonzero(cols["converged"])))
    return data, kept, T, paid_all


def first_solve_load(seconds, iterations, arm, starts=(0,)) -> float:
    """Seconds of the first solve of each process that solved with the tuner (rounds
    ``starts``: 0, and the first round after each :meth:`~bandit.Tuner.load`) beyond its
    iterations at the median seconds per iteration of the other solves of the same arm (of
    every other solve when its arm has none): in a fresh process, what loading the compiled
    kernels took (0 when such a solve took no longer than the others, or there are no
    others).

    Examples
    --------
    >>> # a first solve of 10 iterations that took 50 ms, then a microsecond an iteration
    >>> round(first_solve_load([0.05, 2e-5, 3e-5], [10, 20, 30], [0, 0, 0]), 8)
    0.04999
    >>> # the same run continued in a second process from round 2: 30 ms to load again
    >>> round(first_solve_load([0.05, 2e-5, 0.03003, 2e-5], [10, 20, 30, 20], [0, 0, 0, 0],
    ...                        starts=(0, 2)), 8)
    0.07999
    """
    s = np.asarray(seconds, dtype=float)
    its = np.maximum(np.asarray(iterations, dtype=float), 1.0)  # a 0-iteration solve: 1
    arm = np.asarray(arm)
    starts = [int(r) for r in starts if 0 <= r < s.size]
    other = np.ones(s.size, dtype=bool)
    other[starts] = False
    if not other.any():
        return 0.0
    per = s / its
    load = 0.0
    for r in starts:
        same = other & (arm == arm[r])
        rate = float(np.median(per[same] if same.any() else per[other]))
        load += max(0.0, float(s[r] - its[r] * rate))
    return load


def audit_cost(tuner) -> dict:
    """Audit runs, their iterations and seconds, planning seconds, both over the user's
    solve seconds without the first solve's loading of compiled code (``fraction``;
    ``load_seconds``: :func:`first_solve_load`), the audits' iterations over the user's
    (``audit_share``), the planning seconds over those solve seconds
    (``planning_share``), and the share the budget bounds (``budget_used``: audits and plans
    over the user's solves in the tuner's cost unit, ``unit``)."""
    from .audit import _solved

    aud = tuner._auditor
    rows = tuner._rows  # (the log converted once)
    solve = float(np.sum(rows["seconds"])) if tuner._log else 0.0
    # the shares in seconds are over the solves without the first one's loading of the
    # compiled kernels (a one-off of tens of milliseconds, against tens of microseconds a
    # solve: 300 SOR solves of a 100-unknown system read 2.1 % where the same run in a
    # process that had loaded them read 6.4 %)
    load = first_solve_load(rows["seconds"], rows["iterations"], rows["arm"],
                            tuner._starts())
    common = {"budget": float(tuner.audit_budget), "unit": cost_unit(tuner.cost),
              "load_seconds": load}
    its = int(np.sum(rows["iterations"])) if tuner._log else 0
    common = {**common, "solve_iterations": its}
    if aud is None:
        return {"audit_runs": 0, "audit_iterations": 0, "audit_seconds": 0.0,
                "planning_seconds": 0.0, "solve_seconds": solve, "fraction": 0.0,
                "audit_share": 0.0, "planning_share": 0.0, "budget_used": 0.0, **common}
    spent = aud.seconds + aud.planning
    solved = _solved(tuner)
    net = solve - load
    # the audits' share in iterations, not seconds: the first solve's seconds include
    # loading the compiled kernels (a 3-audit run read 0.0 % of the solve time), and the
    # planning seconds are no audit runs (a run with none read 115 %): those are stated apart
    a_its = int(np.sum(aud.records["iterations"]))
    return {"audit_runs": len(aud.records["round"]),
            "audit_iterations": a_its,
            "audit_seconds": aud.seconds, "planning_seconds": aud.planning,
            "solve_seconds": solve, "fraction": spent / net if net > 0 else 0.0,
            "audit_share": a_its / its if its > 0 else 0.0,
            "planning_share": aud.planning / net if net > 0 else 0.0,
            "budget_used": aud.spent / solved if solved > 0 else 0.0, **common}


def cost_unit(cost) -> str:
    """The unit of a tuner's costs: ``"iterations"``, ``"seconds"`` (``"time"`` and
    ``"timed_work"``) or ``"work"`` (matrix-pass equivalents)."""
    return {"time": "seconds", "timed_work": "seconds", "work": "work"}.get(cost, "iterations")


@dataclass(frozen=True)
class TunerRegretReport(RegretReport):
    """:meth:`bandit.Tuner.regret`: a :class:`~bandit.estimate.RegretReport` that also says
    how the run's failed solves are counted.

    Attributes
    ----------
    failures : dict
        Over the report's rounds: ``not_converged`` (solves no arm finished),
        ``fallback_ran`` (solves whose fallback chain ran: the chosen arm was stopped,
        failed or not started), ``fallback_finished`` (those of them that an arm of the
        chain finished: converged), ``failure_cost`` (what an arm is counted on a round where
        it does not converge, in ``unit``) and ``maxiter``. Failed solves and fallbacks are
        *included*: the run at what it paid for them, every arm it ran; each comparator's arm
        at the failure cost on a round it does not finish. ``fallbacks`` is the older name
        of ``fallback_finished``, kept for code that reads it (:meth:`bandit.Tuner.summary`'s
        ``fallbacks`` counts ``fallback_ran``).

    Examples
    --------
    >>> from bandit.report import failure_note
    >>> print(failure_note({"rounds": 12, "not_converged": 4, "fallback_ran": 4,
    ...                     "fallback_finished": 0, "failure_cost": 30.0, "maxiter": 30},
    ...                    "iterations"))
    4 of 12 solves did not converge; included: the run at what it paid for them, an arm at the failure cost (30 iterations, maxiter) on a round it does not finish
    """

    failures: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "failures": dict(self.failures)}

    def __str__(self):
        head, _, rest = super().__str__().partition("\n")
        note = failure_note(self.failures, self.unit)
        return "\n".join(filter(None, [head, f"  {note}" if note else "", rest]))


def failure_note(f: dict, unit: str) -> str:
    """One line: how many of the report's solves failed or fell back, and that they are in
    both totals (the run's and the comparators'); empty for a report over no rounds."""
    T = f.get("rounds", 0)
    if not T:
        return ""
    n, fb = f["not_converged"], f.get("fallback_finished", f.get("fallbacks", 0))
    fell = (f"{count_of(fb, 'solve')} finished by a fallback arm after the chosen one "
            f"stopped (the run paid both)") if fb else ""
    if not n:
        return (f"all {T} solves converged" if T > 1 else "the solve converged") + (
            f"; {fell}" if fell else "")
    fail = f["failure_cost"]
    cost = (f"{fail:,.0f} iterations, maxiter" if unit == "iterations" else
            f"{fail:.4g} {unit}: maxiter = {f['maxiter']:,} iterations of the dearest arm")
    return (f"{n} of {T} solves did not converge; included: the run at what it paid for "
            f"them, an arm at the failure cost ({cost}) on a round it does not finish"
            + (f"; {fell}" if fell else ""))


def regret(tuner, *, level=0.9, n_boot=200, seed=0, rounds=None) -> TunerRegretReport:
    """:meth:`bandit.Tuner.regret`."""
    data, kept, T, paid = _estimator_input(tuner, rounds=rounds)
    rep = estimate_regret(data, level=level, n_boot=n_boot, seed=seed,
                          unit=cost_unit(tuner.cost))
    cost = audit_cost(tuner)
    cost["report_seconds"] = rep.cost["report_seconds"]
    best, opt = rep.best_fixed, rep.instance_optimal
    if kept is not None and T:
        best, opt = (_on_run_rounds(e, kept, T, level) for e in (best, opt))
    h = history(tuner)
    ran, finished = fallback_counts(h, T)
    failures = {"rounds": T,
                "not_converged": int(np.count_nonzero(~h["converged"][:T])),
                "fallback_ran": ran, "fallback_finished": finished,
                "fallbacks": finished,  # the older name of fallback_finished
                "failure_cost": float(data.fail_cost), "maxiter": int(tuner.maxiter)}
    return TunerRegretReport(best, opt, paid if kept is not None else rep.paid, rep.unit, T,
                             cost, failures)


def fallback_counts(h, T=None) -> tuple[int, int]:
    """Of a history's first ``T`` rounds (all by default): the solves whose fallback chain
    ran (``fallback_arm >= 0``: the chosen arm was stopped, failed or not started), and
    those of them an arm of the chain finished (converged; on a solve no arm finished the
    chain only ran)."""
    ran = h["fallback_arm"][:T] >= 0
    return int(np.count_nonzero(ran)), int(np.count_nonzero(ran & h["converged"][:T]))


def _on_run_rounds(e, kept, T, level):
    """A regret estimate over the kept rounds (:func:`estimator_data`) stated over the run's
    ``T`` rounds: each checkpoint at the run's round, the last at ``T`` (the rounds left out
    add 0 to the regret, so the curve holds between kept rounds).  With no kept round at
    all, every arm cost what each round paid: both regrets are exactly 0."""
    import dataclasses

    if not kept.size:
        zero = np.zeros(1)
        return RegretEstimate(e.comparator, 0.0, 0.0, 0.0, level,
                              "exact: every round's start already met the stopping rule, so "
                              "every arm costs what the round paid", True,
                              np.array([T], dtype=np.int64), zero, zero.copy(), zero.copy(),
                              None)
    at = kept[np.asarray(e.rounds, dtype=np.int64) - 1] + 1
    at[-1] = T
    return dataclasses.replace(e, rounds=at)


def summary(tuner) -> dict:
    """:meth:`bandit.Tuner.summary`."""
    h = history(tuner)
    T = len(h["arm"])
    K = tuner.policy.n_arms
    counts = np.bincount(h["arm"], minlength=K) if T else np.zeros(K, dtype=np.int64)
    conv = int(h["converged"].sum())
    ran, finished = fallback_counts(h)
    out = {"rounds": T, "cost": tuner.cost,
           "total_iterations": int(h["iterations"].sum()),
           "total_seconds": float(h["seconds"].sum()),
           "all_converged": conv == T, "converged": conv, "not_converged": T - conv,
           "censored": int(h["censored"].sum()),
           # solves whose fallback chain ran, and those an arm of the chain finished;
           # "fallbacks" is the older name of the first (regret()'s "fallbacks" is the second)
           "fallback_ran": ran, "fallback_finished": finished, "fallbacks": ran,
           "arm_counts": {lab: int(n) for lab, n in zip(tuner.arm_labels, counts)},
           "audits": audit_cost(tuner)}
    auto = getattr(tuner, "auto_context", None)
    if auto is not None:  # what the automatic contexts cost (their estimates, this process)
        from .tuner import AUTO_CONTEXT_STEPS

        out["auto_context"] = {"kind": auto, "steps": AUTO_CONTEXT_STEPS,
                               "seconds": float(getattr(tuner, "_context_seconds", 0.0)),
                               "products": int(getattr(tuner, "_context_products", 0))}
    if T:
        rep = regret(tuner)
        out["regret"] = rep.as_dict()
    else:
        out["regret"] = {"method": "no rounds yet"}
    return out


# --- per-solve hook: progress bar and callback -------------------------------------------------
_LEADER = LOG_COLUMNS.index("leader")


class Hook:
    """Called after each solve: updates a tqdm bar (running iterations and the leader's
    label after every solve; the regret estimate refreshed at most every ``interval`` seconds
    and at most ~2 % of the time) and calls the user's ``callback(result)``."""

    def __init__(self, tuner, progress, callback, interval=1.0):
        self.tuner = tuner
        self.callback = callback
        self.interval = interval
        self.bar = None
        self.desc = progress if isinstance(progress, str) else "tuned solves"
        self.progress = bool(progress)
        self._next = 0.0
        self._iters = 0
        self._regret = "≈-"  # the last regret estimate shown, with its sign (≈, or ≤ a bound)

    def __call__(self, result):
        if self.progress:
            self._tick(result)
        if self.callback is not None:
            self.callback(result)

    def _tick(self, result):
        if self.bar is None:
            from tqdm.auto import tqdm

            # the bar counts the whole run, as its iterations do (a loaded tuner, a bar
            # reopened after close): this solve is logged already and counted by update
            before = len(self.tuner._log) - 1
            self.bar = tqdm(desc=self.desc, unit="solve", leave=True, initial=before)
            self._iters = int(np.sum(self.tuner._rows["iterations"][:-1])) if before else 0
        self._iters += int(result.iterations)
        now = time.perf_counter()
        if now >= self._next:
            self._regret = self._estimate()
            spent = time.perf_counter() - now
            # at most ~2 % of the run: the estimate's cost grows with the rounds
            self._next = now + max(self.interval, 50.0 * spent)
        # the counts and the leader are the last solve's, whatever the age of the estimate:
        # a run shorter than the interval must not end on its first solve's figures
        self.bar.set_postfix_str(self._text(), refresh=False)
        self.bar.update(1)

    def _estimate(self) -> str:
        tuner = self.tuner
        est = quick_totals(estimator_data(tuner)) if tuner._log else None
        reg = est["regret"] if est else math.nan
        if not math.isfinite(reg):  # no solve yet, or none converged: nothing to compare with
            return "≈-"
        unit = cost_unit(tuner.cost)
        # at its bound (a column total below 0) the figure is what was paid, an upper end
        sign = "≤" if est.get("at_bound") else "≈"
        return sign + (f"{reg:,.0f}" if unit == "iterations" else f"{reg:.3g}" + (
            "s" if unit == "seconds" else " work"))

    def _text(self) -> str:
        tuner = self.tuner
        lead = tuner._log[-1][_LEADER] if tuner._log else -1
        name = tuner.arm_labels[lead] if lead >= 0 else "-"
        return (f"iterations={self._iters:,}, regret{self._regret} (vs best fixed), "
                f"leader={name}")

    def postfix(self) -> str:
        """The bar's text with a fresh regret estimate."""
        self._regret = self._estimate()
        return self._text()

    def close(self):
        """Final totals in the bar, then close it (a later solve opens a new one)."""
        if self.bar is not None:
            self.bar.set_postfix_str(self.postfix(), refresh=False)
            self.bar.close()
            self.bar = None
