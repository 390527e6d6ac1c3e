"""What a :class:`bandit.Tuner` reports: its history, summary, regret, CSV and progress bar.

The Tuner keeps one tuple per solve; this module turns them into a documented table
(:data:`HISTORY_SCHEMA`, a dict of NumPy arrays, no pandas), writes and reads it as CSV,
builds the summary, hands the estimators of :mod:`bandit.estimate` their arrays (kept up to
date append-only as rounds are logged, :class:`RunArrays`), and runs
the optional per-solve hook (a tqdm bar and a user callback).

Each part is kept in a private module of its own (``bandit/_report_*.py``: the history and its
CSV, what the estimators read, the run's costs, the regret report, the summary); every name
is importable from here.  The hook stays here: it reads :func:`estimator_data` through this
module, so that one replaced here reaches it.
"""
from __future__ import annotations

import math
import re
import sys
import time
import weakref

import numpy as np

from ._base import count_of  # noqa: F401 (importable from here, as before the cut)
from ._persist import read_bytes, write_bytes_atomic  # noqa: F401 (as count_of)
from ._report_costs import audit_cost, cost_unit, first_solve_load  # noqa: F401
from ._report_data import (_ARM, _BUDGET, _CENSORED, _CONTEXT, _CONVERGED,  # noqa: F401
                           _COST, _ITERATIONS, _P, _SECONDS, RunArrays, _arm_order,
                           already_solved, estimator_data, paid_per_solve, run_arrays)
from ._report_history import (HISTORY_SCHEMA, LOG_COLUMNS, ROW_CONFIG_COLUMNS,  # noqa: F401
                              TOLERANCE_COLUMNS,
                              history, read_csv, row_configs, write_csv)
from ._report_regret import TunerRegretReport, failure_note, fallback_counts, regret  # noqa: F401
from ._report_summary import summary  # noqa: F401
from .estimate import (RegretEstimate, RegretReport, RunData, estimate_regret,  # noqa: F401
                       quick_totals)


__all__ = ["HISTORY_SCHEMA", "history", "read_csv", "write_csv", "summary", "regret",
           "estimator_data", "already_solved", "row_configs", "paid_per_solve",
           "audit_cost", "cost_unit", "RunArrays", "run_arrays", "Hook",
           "TunerRegretReport", "failure_note"]


# --- per-solve hook: progress bar and callback -------------------------------------------------
_LEADER = LOG_COLUMNS.index("leader")


def _keep_result(exc: BaseException, result, rounds: int,
                 where: str = "by the Tuner's callback") -> None:
    """An exception leaving the user's callback carries the solve's result (``exc.result``)
    and says so: the solve had finished and is recorded (round ``rounds - 1``), and the
    caller's ``u = tuner.solve(...).x`` never received it — a loop stopped there had lost
    the step's solution, and solving the system again would record a second round."""
    try:
        exc.result = result
    except (AttributeError, TypeError):  # an exception type that takes no attributes
        return
    if hasattr(exc, "add_note"):  # Python >= 3.11
        exc.add_note(f"relaxtune: raised {where} after solve {rounds} "
                     f"(round {rounds - 1}) had finished and was recorded; its SolveResult "
                     f"is this exception's .result (solving the system again would record "
                     f"another round)")


#: Seconds between two lines of the progress bar written into a log (standard error not a
#: terminal): a line a minute, newline-terminated, instead of a redraw per solve.
LOG_INTERVAL = 60.0


#: a terminal's cursor and erase controls (ANSI CSI sequences), which tqdm writes for nested bars
_CURSOR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _LogLines:
    """The stream a progress bar writes into a log through: each frame tqdm draws (a
    carriage return, the text, padding) becomes one line; the clearing frames are dropped.
    In a batch job's log every redraw had been one more carriage-return frame on one
    endless line, about a kilobyte per few dozen solves that nobody sees animated."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        # a second bar open at the same time (another Tuner's, one left open) is drawn a
        # line lower, reached by cursor moves ("\x1b[A"): in a log they are noise lines
        line = _CURSOR.sub("", text.replace("\r", "")).rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self):
        self.stream.flush()


def _log_options(tqdm) -> dict:
    """tqdm's options for the Tuner's bar: none on a terminal (or in a notebook, whose bar
    is a widget); into a file or a pipe (``python run.py 2> log``, a batch job), a plain
    line at most every :data:`LOG_INTERVAL` seconds and the final totals when the bar closes,
    instead of a carriage-return redraw per solve."""
    if any(base.__module__.startswith("tqdm.notebook") for base in tqdm.__mro__):
        return {}
    stream = sys.stderr
    try:
        if stream is None or stream.isatty():
            return {}
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return {}
    return {"file": _LogLines(stream), "mininterval": LOG_INTERVAL,
            "maxinterval": LOG_INTERVAL, "ascii": True}


class Hook:
    """Called after each solve: updates a tqdm bar (running iterations and the leader's
    label after every solve; the regret estimate against the best fixed arm — the one
    :meth:`bandit.Tuner.regret` reports — refreshed at most every ``interval`` seconds and
    at most ~2 % of the time) and calls the user's ``callback(result)``."""

    def __init__(self, tuner, progress, callback, interval=1.0):
        self.tuner = tuner
        self.callback = callback
        self.interval = interval
        self.bar = None
        self.desc = progress if isinstance(progress, str) else "tuned solves"
        self.progress = isinstance(progress, str) or bool(progress)  # "" too: a bar, no title
        self._next = 0.0
        self._iters = 0
        self._regret = "≈-"  # the last regret estimate shown, with its sign (≈, or ≤ a bound)
        self._at_exit = None

    def __call__(self, result):
        if self.progress:
            self._tick(result)
        if self.callback is not None:
            try:
                self.callback(result)
            except BaseException as exc:  # Ctrl-C in the callback too
                _keep_result(exc, result, len(self.tuner._log))
                raise

    def _tick(self, result):
        if self.bar is None:
            from tqdm.auto import tqdm

            # the bar counts the whole run, as its iterations do (a loaded tuner, a bar
            # reopened after close): this solve is logged already and counted by update
            before = len(self.tuner._log) - 1
            self.bar = tqdm(desc=self.desc, unit="solve", leave=True, initial=before,
                            **_log_options(tqdm))
            if not self._at_exit:
                # the final totals at the end of the program, whatever order the interpreter
                # collects objects in at its shutdown (a bar written into a log had ended on
                # its first line in some programs); nothing held if the hook goes first
                self._at_exit = weakref.finalize(self, _close_at_exit, weakref.ref(self))
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
        if not tuner._log:
            return "≈-"
        # the figure tuner.regret() reports (its estimator with its defaults), so the bar and
        # the report agree; a cheaper estimate had shown another number (the quick totals'
        # plain minimum over every arm, the never-played ones' extrapolations included)
        est = estimate_regret(estimator_data(tuner), unit=cost_unit(tuner.cost)).best_fixed
        reg = est.estimate
        if not math.isfinite(reg):  # none converged, or undefined: nothing to compare with
            return "≈-"
        unit = cost_unit(tuner.cost)
        # at its bound (the comparator's total below 0) the figure is what was paid, an upper
        # end
        sign = "≤" if est.at_bound else "≈"
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


def _close_at_exit(ref):
    """A progress bar still open when the program ends: its final totals, then closed (never
    an error at exit: the figure is a courtesy)."""
    hook = ref()
    if hook is not None:
        try:
            hook.close()
        except Exception:  # noqa: BLE001 (the interpreter is shutting down)
            pass
