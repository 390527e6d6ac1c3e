"""What a :class:`bandit.Tuner` records and reports (:mod:`bandit.report` builds it): the log's
row of a round, a round whose start already met the stopping rule, the per-solve history,
its CSV, the regret estimate, the summary and the audit runs, and the hooks run after each
solve (progress bar, callback)."""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import report as _report
from . import _tuner_own as _own
from ._tuner_checks import _check_hooks

_COLUMNS = _report.LOG_COLUMNS  # the fields of one solve's row tuple in the log


class Records:
    """The log of rounds, the reports read from it, and the per-solve hooks."""

    @property
    def _counts_starts(self) -> bool:
        """Whether a converged result of 0 iterations means that the start already met the
        stopping rule (:meth:`_already_solved`): for the library's solvers, which count their
        iterations so, and with a cost in iterations; a solver function of the user's with
        ``cost="time"`` may count none at all (a direct solve), and its seconds are then what
        its arms cost."""
        return self._by_name or self.cost == "iterations"

    def _row(self, context, arm, final, cost, censored, fallback, pv, best, budget):
        """The log's tuple of one round (:data:`_COLUMNS`)."""
        if context is None:
            ctx = math.nan
        elif type(context) is float:
            ctx = context
        else:
            ctx = context.tolist()
        return (arm, self._omegas[arm], final.iterations, final.seconds, ctx, final.converged,
                cost, censored, fallback, 1.0 if pv is None else pv[arm],
                -1 if best is None else best, budget, *self._round_tol)

    def _already_solved(self, final, undo, context, arm, best, pv, budget, fallback, paid):
        """Record a round whose start already met the stopping rule (0 iterations; ``b = 0``
        too), without teaching anyone: every arm would have cost 0 iterations there (and
        built no set-up: the solvers test the start first), so the round says nothing about
        which arm is cheaper.  The policy is not told and its draw is undone (the next round
        draws as if this one had not been played); the arms' costs per iteration are not fed
        (:meth:`_run`); no audit is run (a round the audit schedule drew is passed on); the
        regret counts the round as one on which every arm costs what it paid
        (:func:`bandit.report.estimator_data`).  It is recorded like any other round:
        history (``cost`` is what it cost, in the cost unit), result, counts and totals."""
        t = len(self._log)
        self.policy._undo_draw(undo)
        final.info["already_solved"] = True
        final.info["cost"] = paid
        final.info["censored"] = False
        row = self._row(context, arm, final, paid, False, fallback, pv, best, budget)
        aud = self._auditor
        if aud is not None and t == aud.next_audit:
            if self._comm is None:
                aud.pass_round(t)
            else:  # rank 0 draws; every rank then holds the same schedule and generator
                self._audit_plan(lambda: aud.pass_round(t))
        self._checked = None
        costly = False
        try:
            self._log.append(row)
        finally:  # (Ctrl-C between the two: the log and what each round paid stay one run)
            if self._paid is not None and len(self._paid) < len(self._log):
                self._paid.append(paid)
                self._paid_sum += paid
            if len(self._own) < len(self._log):  # the tuner's own time (bandit._tuner_own)
                costly = _own.record(self, self._round_start, final.seconds,
                                     _own.time.perf_counter())
        # released before the callback, which may solve or save again
        self._owner = None
        self._lock.release()
        if costly:
            _own.warn(self)
        if self._hook is not None:
            self._call_hook(final)
        return final

    @property
    def _rows(self) -> dict:
        """The log as one list per column (:data:`_COLUMNS`)."""
        cols = list(zip(*self._log)) if self._log else [()] * len(_COLUMNS)
        return {k: list(v) for k, v in zip(_COLUMNS, cols)}

    # --- reporting (bandit/report.py) -------------------------------------------------------------
    @property
    def history(self) -> dict:
        """Per-solve arrays, one entry per solve (schema: :data:`bandit.report.HISTORY_SCHEMA`):
        ``round``, ``arm`` (chosen), ``label``, ``omega``, ``iterations`` and ``seconds`` (all
        runs, audits excluded), ``context`` (NaN if none; 2-D for vectors), ``converged``,
        ``cost`` told to the policy (of a round already solved: what it cost, not told),
        ``censored`` (the chosen arm's attempt did not converge),
        ``fallback_arm`` (−1 if none), ``p`` (the policy's probability of the chosen arm),
        ``leader``, ``budget`` (the attempt's iteration cap), ``rtol`` and ``atol`` (the
        solve's stopping rule: :meth:`solve`'s, else the Tuner's), ``audit_runs``."""
        return _report.history(self)

    def to_csv(self, path) -> None:
        """Write :attr:`history` to a CSV file (:func:`bandit.report.read_csv` reads it),
        gzip-compressed when its name ends in ``.gz``."""
        _report.write_csv(self.history, path)

    def regret(self, *, level=0.9, n_boot=200, seed=0, rounds=None):
        """Estimated regret against the best fixed arm and the instance-optimal choice.

        Returns a :class:`bandit.estimate.RegretReport`: for each comparator the estimate,
        its interval at ``level``, the method (and whether it is biased), per-round curves,
        and what the estimation cost (docs/regret.md).  Costs are in the tuner's unit
        (iterations, or seconds with ``cost="time"``); regret = what the run paid (every run of
        every solve) minus what the comparator would have paid.

        ``rounds``: estimate over the first ``rounds`` rounds only (default: all so far) —
        their solves, and the audits run on them — e.g. to compare with exact costs known for
        those systems only; the comparators are then those of that part of the run.  The
        report's ``cost`` block still describes the whole run's audits.

        Examples
        --------
        >>> import numpy as np
        >>> from bandit import Tuner, TsallisINF
        >>> from solvers import gallery
        >>> A = gallery.laplacian_2d(6)
        >>> t = Tuner(TsallisINF([1.2, 1.5], seed=0), solver="sor")
        >>> for c in (0.0, 0.1, 0.2):
        ...     _ = t.solve(A + c * np.eye(36), np.ones(36))
        >>> rep = t.regret(rounds=2)               # over the first two solves only
        >>> rep.rounds, rep.paid == int(t.history["iterations"][:2].sum())
        (2, True)
        """
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if rounds is not None:
            T = len(self._log)
            if isinstance(rounds, (bool, np.bool_)) or not isinstance(
                    rounds, numbers.Integral) or not 0 <= rounds <= T:
                raise ValueError(f"rounds must be None or an integer from 0 to the {T} "
                                 f"{'round' if T == 1 else 'rounds'} so far, got {rounds!r}")
            rounds = int(rounds)
        return _report.regret(self, level=level, n_boot=n_boot, seed=int(seed), rounds=rounds)

    def summary(self) -> dict:
        """Totals, ``all_converged``, arm counts by label, audit cost and the regret block."""
        return _report.summary(self)

    @property
    def audits(self) -> dict:
        """Audit runs as arrays (``bandit.audit.AUDIT_COLUMNS``; empty without audits)."""
        from .audit import AUDIT_COLUMNS

        rec = self._auditor.records if self._auditor is not None else {}
        return {c: np.asarray(rec.get(c, [])) for c in AUDIT_COLUMNS}

    @property
    def audit_seconds(self) -> float:
        """Solver seconds of every audit run (never part of a result's ``seconds``)."""
        return 0.0 if self._auditor is None else self._auditor.seconds

    def _run_data(self):
        return _report.estimator_data(self)

    # --- the hooks run after each solve (bandit.report.Hook) -------------------------------
    @property
    def progress(self):
        """The progress setting; may be changed between solves (a loaded or copied tuner
        starts with ``False``)."""
        return self._progress

    @progress.setter
    def progress(self, value):
        self._set_hooks(value, self._callback)

    @property
    def callback(self):
        """``callback(result)`` after each solve, or None; may be changed between solves (a
        loaded or copied tuner starts with ``None``)."""
        return self._callback

    @callback.setter
    def callback(self, value):
        self._set_hooks(self._progress, value)

    def _set_hooks(self, progress, callback):
        _check_hooks(progress, callback)
        old = self._hook
        # (a description, even "", is a bar: only False is none)
        if old is not None and (progress is False or progress != self._progress):
            old.close()  # its bar's final totals; a new bar opens at the next solve
            old = None
        self._progress, self._callback = progress, callback
        if progress is False and callback is None:
            self._hook = None
        elif old is not None:
            old.callback = callback
        else:
            self._hook = _report.Hook(self, progress, callback)
