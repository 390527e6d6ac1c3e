"""The history of a :class:`bandit.Tuner` (part of :mod:`bandit.report`, importable from there):
the fields of its per-solve log, the documented table built from them (:data:`HISTORY_SCHEMA`,
a dict of NumPy arrays) and that table written to and read back from CSV."""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from ._persist import check_path, read_bytes, write_bytes_atomic


#: The fields of the tuple the Tuner logs per solve, in order (``Tuner._log``; saved as the
#: tuner file's ``rows``).
LOG_COLUMNS = ("arm", "omega", "iterations", "seconds", "context", "converged", "cost",
               "censored", "fallback_arm", "p", "leader", "budget", "rtol", "atol")

#: Columns of the log a tuner file holds only when some solve had a stopping rule of its own
#: (``Tuner.solve(..., rtol=, atol=)``): a file without them (every solve at the Tuner's
#: ``rtol``/``atol``, or written before they were kept) reads the file's ``config`` values.
TOLERANCE_COLUMNS = ("rtol", "atol")

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
    ("tuner_seconds", "float64", "the Tuner's own wall time in this solve call, outside the "
                                 "solver's runs and the audits (time.perf_counter; NaN: not "
                                 "measured, a round recorded or a CSV written before the "
                                 "column)"),
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
    ("rtol", "float64", "the solve's relative tolerance (Tuner.solve's rtol, else the "
                        "Tuner's; NaN: a CSV written before the column)"),
    ("atol", "float64", "the solve's absolute tolerance (Tuner.solve's atol, else the "
                        "Tuner's; NaN: a CSV written before the column)"),
    ("audit_runs", "int64", "audit solves run after this solve (off the user's clock)"),
)

#: Columns of :data:`HISTORY_SCHEMA` added after the first CSVs: a CSV without one reads NaN
LATER_COLUMNS = ("tuner_seconds",)


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
           "seconds": np.array(rows["seconds"], dtype=float),
           "tuner_seconds": _own_seconds(tuner, T), "context": ctx,
           "converged": np.array(rows["converged"], dtype=bool),
           "cost": np.array(rows["cost"], dtype=float),
           "censored": np.array(rows["censored"], dtype=bool),
           "fallback_arm": np.array(rows["fallback_arm"], dtype=np.int64),
           "p": np.array(rows["p"], dtype=float),
           "leader": np.array(rows["leader"], dtype=np.int64),
           "budget": np.array(rows["budget"], dtype=np.int64),
           "rtol": np.array(rows["rtol"], dtype=float),
           "atol": np.array(rows["atol"], dtype=float),
           "audit_runs": runs}
    return out


def _own_seconds(tuner, T) -> np.ndarray:
    """The tuner's own seconds per solve (``bandit._tuner_own``); NaN where not measured."""
    own = getattr(tuner, "_own", None)
    if own is None or len(own) != T:  # (a stand-in tuner of the estimators' tests)
        return np.full(T, np.nan)
    return np.array(own, dtype=float)


# --- CSV ------------------------------------------------------------------------------------
def write_csv(hist: dict, path) -> None:
    """Write a history to CSV: a header of the schema's names (a vector context becomes
    ``context_0 … context_{d−1}``), one row per solve, floats written exactly (``repr``)."""
    check_path(path)  # before the rows are formatted
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
    data = fh.getvalue().encode("utf-8")
    if os.fsdecode(path).lower().endswith(".gz"):
        # compressed as the name says (pandas, R and zcat read such a name as gzip: plain
        # text under it had failed there with "Not a gzipped file")
        import gzip

        data = gzip.compress(data, mtime=0)
    # atomic: a failure part-way, a crash or a concurrent reader never sees a half-written
    # file in place of the previous one
    write_bytes_atomic(path, data)


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
    if raw[:2] == b"\x1f\x8b":  # written to a .gz name: gzip-compressed
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a relaxtune history (a damaged gzip file: "
                             f"{exc})") from None
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
        if name in TOLERANCE_COLUMNS + LATER_COLUMNS and name not in col:  # (written before)
            out[name] = np.full(len(body), np.nan)
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
