"""Scoring runs, and the results folder: ``summary.json``, per-round NPZ/CSV, the table.

A study produces, per method, per-round costs of shape ``(trials, T)`` (iterations and
seconds) and, for grid learners, the arms played.  :func:`score` turns those into the
``methods`` entries of ``summary.json`` (totals averaged over trials, spread, regret), and
:func:`save` / :func:`load` write and read a results folder so ``relaxtune plot`` can redraw
without recomputing.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bandit import regret_of_costs
from bandit._persist import write_bytes_atomic

from .learners import fixed_omega, label as _learner_label

__all__ = ["SCHEMA_VERSION", "METHOD_LABELS", "ResultsError", "label", "regret_curves", "score",
           "default_out", "save", "load", "load_arrays", "format_table", "format_markdown", "write_json"]

#: Version of the ``summary.json`` layout (bump when keys change meaning).
SCHEMA_VERSION = 1

#: Display names of the study-only methods (learners and grid baselines: learners.LABELS).
METHOD_LABELS = {"instance_optimal": "instance-optimal (golden section)"}


class ResultsError(ValueError):
    """A folder is not a readable relaxtune results folder (the message says why)."""


def label(name: str) -> str:
    """Display name of any method key: :data:`METHOD_LABELS`, else :func:`learners.label`.

    Examples
    --------
    >>> label("instance_optimal"), label("fixed_1.6")
    ('instance-optimal (golden section)', 'fixed ω=1.6')
    """
    return METHOD_LABELS.get(name) or _learner_label(name)


def regret_curves(cost: np.ndarray, C: np.ndarray):
    """Cumulative regret of per-round costs against the best fixed arm and the grid minimum.

    Parameters
    ----------
    cost : ndarray, shape (T,)
        Cost paid each round by some method (a learner, Young's ω*, plain CG...).
    C : ndarray, shape (T, K)
        Full cost matrix of the grid.

    Returns
    -------
    (ndarray, ndarray)
        ``cumsum(cost - C[:, k*])`` with ``k*`` the best fixed column, and
        ``cumsum(cost - C.min(1))`` (:func:`bandit.regret_of_costs`).

    Examples
    --------
    >>> rb, ri = regret_curves(np.array([1., 1., 2.]), np.array([[3, 1], [1, 5], [2, 2]]))
    >>> rb.tolist(), ri.tolist()
    ([-2.0, -2.0, -2.0], [0.0, 0.0, 0.0])
    """
    return tuple(regret_of_costs(cost, C))


def score(iters: dict, secs: dict, C: np.ndarray, omegas, extra: dict | None = None) -> dict:
    """Summaries of every method: totals (mean over trials), spread and regret.

    Parameters
    ----------
    iters, secs : dict of name -> ndarray (trials, T)
        Per-round iterations and solve seconds of each method.
    C : ndarray, shape (trials, T, K) or (T, K), or None
        Grid cost matrix of each trial (one shared matrix is broadcast); None: no regret.
    omegas : array_like
        The grid.
    extra : dict of name -> dict, optional
        More fields merged into a method's entry.

    Returns
    -------
    dict
        ``{name: {"label", "iterations", "iterations_std", "iterations_per_trial",
        "seconds", "seconds_std", "regret_best_fixed", "regret_instance_optimal", ...}}``.

    Examples
    --------
    >>> C = np.array([[[3, 1], [1, 5]]])
    >>> s = score({"fixed_1.0": C[:, :, 0]}, {"fixed_1.0": np.zeros((1, 2))}, C, [1.0, 1.5])
    >>> s["fixed_1.0"]["iterations"], s["fixed_1.0"]["regret_instance_optimal"]
    (4.0, 2.0)
    """
    trials = next(iter(iters.values())).shape[0]
    if C is not None:  # None: no grid cost matrix (e.g. heat2d --no-grid), so no regret
        C = np.asarray(C, dtype=float)
        if C.ndim == 2:
            C = np.broadcast_to(C, (trials,) + C.shape)
    out = {}
    for name, it in iters.items():
        it = np.asarray(it, dtype=float)
        tot = it.sum(axis=1)
        sec = np.asarray(secs.get(name, np.zeros_like(it)), dtype=float).sum(axis=1)
        curves = regret_of_costs(it, C) if C is not None else None
        rb = curves.best_fixed[:, -1] if curves is not None else []
        ri = curves.instance_optimal[:, -1] if curves is not None else []
        out[name] = {
            "label": label(name),
            "iterations": float(tot.mean()),
            "iterations_std": float(tot.std()),
            "iterations_per_trial": tot.tolist(),
            "seconds": float(sec.mean()),
            "seconds_std": float(sec.std()),
            "regret_best_fixed": float(np.mean(rb)) if len(rb) else None,
            "regret_instance_optimal": float(np.mean(ri)) if len(ri) else None,
        }
        omega = fixed_omega(name)
        if omega is not None:
            out[name]["omega"] = omega
        out[name].update((extra or {}).get(name, {}))
    return out


class ArrayKey(NamedTuple):
    """Name of a per-method array of a results folder: ``kind`` (``"iter"``, ``"sec"``,
    ``"arms"``, ``"replay"``, ...) of ``method``.  Written ``"kind/method"`` as a key of the
    arrays dict and ``"kind__method"`` inside the NPZ (whose member names are file names).

    Examples
    --------
    >>> key = ArrayKey.parse("iter/fixed_1.6")
    >>> key.method, str(key), ArrayKey.parse("C")
    ('fixed_1.6', 'iter/fixed_1.6', None)
    """

    kind: str
    method: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.method}"

    @classmethod
    def parse(cls, key: str):
        """The record of ``"kind/method"``; None for a shared array (``"C"``, ``"contexts"``)."""
        kind, sep, method = key.partition("/")
        return cls(kind, method) if sep else None


def methods_with(arrays: dict, kind: str = "iter") -> list[str]:
    """Methods that have a ``kind`` array, in the dict's order.

    Examples
    --------
    >>> methods_with({"C": 0, "iter/a": 0, "sec/a": 0, "iter/b": 0})
    ['a', 'b']
    """
    keys = (ArrayKey.parse(k) for k in arrays)
    return [k.method for k in keys if k is not None and k.kind == kind]


def _npz_name(key: str) -> str:
    parsed = ArrayKey.parse(key)
    return key if parsed is None else f"{parsed.kind}__{parsed.method.replace('/', '__')}"


def _array_name(name: str) -> str:
    kind, sep, method = name.partition("__")  # the first "__" only, as _npz_name wrote it
    return str(ArrayKey(kind, method)) if sep else name


def default_out(study: str) -> Path:
    """``results/<study>-<YYYYmmdd-HHMMSS>`` under the current directory."""
    return Path("results") / f"{study}-{_dt.datetime.now():%Y%m%d-%H%M%S}"


def _replace_atomically(path: Path, write) -> None:
    """``write(fh)`` into memory, then replace ``path`` with it atomically
    (:func:`bandit._persist.write_bytes_atomic`): an interrupted save leaves the previous
    file, never half of a new one."""
    buf = io.BytesIO()
    write(buf)
    write_bytes_atomic(path, buf.getvalue())


def write_json(path, obj) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=2, default=_json_default) + "\n"
    _replace_atomically(path, lambda fh: fh.write(text.encode("utf-8")))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def save(out, summary: dict | None, arrays: dict, *, tag: str = "rounds") -> Path:
    """Write ``summary.json``, ``<tag>.npz`` (all arrays) and ``<tag>.csv`` (per-round means).

    ``arrays`` holds ``iter/<method>`` of shape ``(trials, T)`` and any other arrays; the CSV
    has one row per round with each method's iterations averaged over trials.  Each file is
    replaced atomically, ``summary.json`` last (not at all if ``summary`` is None, e.g. while
    more tags are to come), so a study saving as it goes can be stopped at any moment and
    leave a readable folder.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    packed = {_npz_name(k): np.asarray(v) for k, v in arrays.items()}
    _replace_atomically(out / f"{tag}.npz", lambda fh: np.savez_compressed(fh, **packed))
    names = methods_with(arrays, "iter")
    if names:
        cols = [np.asarray(arrays[f"iter/{m}"], dtype=float).mean(axis=0) for m in names]
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["round"] + names)
        for t in range(cols[0].size):
            w.writerow([t] + [f"{c[t]:.6g}" for c in cols])
        _replace_atomically(out / f"{tag}.csv", lambda fh: fh.write(buf.getvalue().encode()))
    if summary is not None:
        write_json(out / "summary.json", summary)
    return out


def load(out, *, tag: str = "rounds"):
    """Read a results folder: ``(summary, arrays)`` with the keys :func:`save` wrote.

    ``arrays`` is ``{}`` when the NPZ is missing (a summary-only or partial folder).

    Raises
    ------
    ResultsError
        If ``out`` is missing, not a folder, has no ``summary.json``, or its summary or
        arrays are corrupt or of another kind (the message says which).
    """
    out = Path(out)
    if not out.exists():
        raise ResultsError(f"{out}: no such folder")
    if not out.is_dir():
        raise ResultsError(f"{out}: not a folder (give a results folder written by relaxtune)")
    if not (out / "summary.json").is_file():
        raise ResultsError(f"{out} has no summary.json: not a relaxtune results folder")
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # (a decoding error, or an integer of 5,000 digits)
        raise ResultsError(f"{out / 'summary.json'}: unreadable or corrupt ({exc})") from None
    problem = _summary_problem(summary)
    if problem:
        raise ResultsError(f"{out / 'summary.json'}: not a relaxtune results summary ({problem})")
    arrays = _read_arrays(out / f"{tag}.npz") if (out / f"{tag}.npz").is_file() else {}
    return summary, arrays


def load_arrays(out, tag: str) -> dict:
    """The per-round arrays ``<tag>.npz`` of a results folder, which must be there.

    A study saves every part's arrays before the ``summary.json`` that lists the part, so a
    part without them is a folder copied incompletely (or another program's file).

    Raises
    ------
    ResultsError
        If the file is missing, unreadable, or holds no per-method arrays.
    """
    path = Path(out) / f"{tag}.npz"
    if not path.is_file():
        raise ResultsError(f"{path}: missing (the per-round arrays the figures are drawn "
                           "from; summary.json lists this part: copy the results folder whole)")
    arrays = _read_arrays(path)
    if not any(ArrayKey.parse(k) for k in arrays):
        raise ResultsError(f"{path}: not a relaxtune rounds file (no per-round iterations or "
                           f"seconds of any method; it holds {sorted(arrays) or 'nothing'})")
    return arrays


def _read_arrays(path: Path) -> dict:
    try:
        # np.load reads a file that is no zip archive as a pickle and then suggests
        # allow_pickle, which would be the wrong advice for a damaged rounds file
        if not zipfile.is_zipfile(path):
            raise ValueError("not an .npz archive: no zip structure")
        with np.load(path, allow_pickle=False) as z:
            return {_array_name(k): z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ResultsError(f"{path}: unreadable or corrupt ({exc})") from None


def _summary_problem(summary) -> str | None:
    if not isinstance(summary, dict):
        return f"a JSON {type(summary).__name__}, not an object"
    for key, kind in (("study", str), ("params", dict), ("methods", dict)):
        if not isinstance(summary.get(key), kind):
            return f"no {key!r} entry"
    if "sizes" in summary and not (isinstance(summary["sizes"], dict) and all(
            isinstance(v, dict) and isinstance(v.get("methods"), dict) and k.isdigit()
            for k, v in summary["sizes"].items())):
        return "malformed 'sizes'"
    if summary["study"] == "precond" and not (
            isinstance(summary.get("sequences"), dict) and all(
                isinstance(v, dict) and isinstance(v.get("methods"), dict)
                for v in summary["sequences"].values())):
        return "malformed 'sequences'"
    version = summary.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        return f"layout version {version!r}; this relaxtune reads up to {SCHEMA_VERSION}"
    return None


def format_table(methods: dict, *, baseline: str | None = None, reference: dict | None = None,
                 order=None) -> str:
    """Plain-text comparison table (one method per line, sorted by total iterations).

    Columns: iterations (mean total over trials), solve seconds, seconds relative to the
    ``baseline`` method (plain CG), regret vs best fixed and vs the grid minimum, regret vs
    the golden-section per-step optimum when some method has ``regret_golden`` (heat2d), and
    the reference total when ``reference`` has one for the method.

    Examples
    --------
    >>> print(format_table({"a": {"label": "A", "iterations": 10.0, "seconds": 1.0,
    ...                           "regret_best_fixed": 0.0, "regret_instance_optimal": 2.0}}))
    ... # doctest: +NORMALIZE_WHITESPACE
    method   iterations   seconds   vs CG   regret/best-fixed   regret/grid-min   reference
    A                10     1.000       -                   0                 2           -
    """
    from .cli_common import shown  # measured as printed: ω may print as "omega"

    header, rows = _table_rows(methods, baseline=baseline, reference=reference, order=order)
    rows = [[shown(c) for c in r] for r in [header] + [r[1:] for r in rows]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines)


def _table_rows(methods, *, baseline=None, reference=None, order=None):
    """Header and ``(name, label, cells...)`` rows of the comparison table."""
    # by total iterations; a direct solve has none, so it goes last, and rows that sum only
    # sampled steps (heat2d --baseline-every) go after the whole runs
    names = list(order) if order else sorted(
        methods, key=lambda m: ("sampled" in methods[m], m == "direct",
                                methods[m]["iterations"]))
    base = methods.get(baseline, {}).get("seconds") if baseline else None
    golden = any(methods[m].get("regret_golden") is not None for m in names)
    header = ("method", "iterations", "seconds", "vs CG", "regret/best-fixed",
              "regret/grid-min") + (("regret/golden",) if golden else ()) + ("reference",)
    rows = []
    for m in names:
        d = methods[m]
        if "vs_cg" in d:  # measured on the steps where the baseline was sampled
            ratio = "-" if d["vs_cg"] is None else f"{d['vs_cg']:.2f}"
        else:
            ratio = f"{d['seconds'] / base:.2f}" if base else "-"
        ref = (reference or {}).get(m)
        rows.append((
            m, d.get("label", m), "-" if m == "direct" else f"{d['iterations']:.0f}",
            f"{d['seconds']:.3f}", ratio,
            _fmt_opt(d.get("regret_best_fixed")), _fmt_opt(d.get("regret_instance_optimal")),
            *((_fmt_opt(d.get("regret_golden")),) if golden else ()),
            "-" if ref is None else f"{ref:.0f}",
        ))
    return header, rows


def _fmt_opt(v) -> str:
    return "-" if v is None else f"{v:.0f}"


def format_markdown(methods: dict, *, baseline: str | None = None,
                    reference: dict | None = None) -> str:
    """The :func:`format_table` comparison as a Markdown table (for docs/), with ours/reference.

    Examples
    --------
    >>> print(format_markdown({"a": {"label": "A", "iterations": 11.0, "seconds": 1.0}},
    ...                       reference={"a": 10.0}))
    | method | iterations | seconds | vs CG | regret/best-fixed | regret/grid-min | reference | ours/ref |
    |---|---:|---:|---:|---:|---:|---:|---:|
    | A | 11 | 1.000 | - | - | - | 10 | 1.10 |
    """
    header, rows = _table_rows(methods, baseline=baseline, reference=reference)
    out = ["| " + " | ".join(header + ("ours/ref",)) + " |",
           "|---|" + "---:|" * len(header)]
    for m, *cells in rows:
        ref = (reference or {}).get(m)
        cells.append(f"{methods[m]['iterations'] / ref:.2f}" if ref else "-")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)
