"""What the estimators of :mod:`bandit.estimate` read of a :class:`bandit.Tuner`'s run (part of
:mod:`bandit.report`, importable from there): the per-round arrays kept up to date append-only
as rounds are logged (:class:`RunArrays`), what each solve paid, the rounds whose start already
met the stopping rule, and the :class:`~bandit.estimate.RunData` assembled from them."""
from __future__ import annotations

import math
import weakref

import numpy as np

from ._report_history import LOG_COLUMNS
from .estimate import RunData


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
                   solved=int(np.count_nonzero(cols["converged"])),
                   # the attempts the guard did not start (budget 0): never completed
                   refused=cols["censored"] & (cols["budget"] == 0))
    return data, kept, T, paid_all
