"""The contexts file of :mod:`experiments.user_files` (``relaxtune tune --contexts``):
:func:`read_contexts` (text, one context per line, or a NumPy ``.npy``) and
:func:`check_contexts` (what the learner would refuse, named after the file).  Importable from
:mod:`experiments.user_files` as before.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._user_files_mtx import _not_a_file

_CONTEXTS_FORMAT = ("the format is one context per line: one number (a scalar context) or "
                    "numbers separated by spaces (a vector context, as many on every line); "
                    "'#' starts a comment")


def _contexts_problem(path, exc) -> str:
    """The first line of a contexts file numpy could not read, said in the file's terms (numpy
    speaks of rows, columns and ``usecols``, and counts the lines it skipped differently)."""
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return f"{type(exc).__name__}: {exc}"
    width = None
    for number, line in enumerate(lines, 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        text = line.strip() if len(line.strip()) <= 60 else line.strip()[:57] + "..."
        try:
            [float(f) for f in fields]
        except ValueError:
            comma = " (values separated by commas)" if "," in line else ""
            return f"line {number} is {text!r}{comma}, not numbers separated by spaces"
        if width is not None and len(fields) != width:
            return (f"line {number} ({text!r}) has {len(fields)} "
                    f"number{'s' if len(fields) != 1 else ''} where the lines before it have "
                    f"{width}")
        width = len(fields)
    return f"{type(exc).__name__}: {exc}"


def _npy_contexts(path):
    """The contexts of a NumPy ``.npy`` file (known by its magic bytes, whatever its name) as
    rows, ``None`` for any other file: a vector is one number per system, a 2-D array one row
    per system.  (Such a file had been read as text: "line 1 is \"\\x93NUMPY...\" (values
    separated by commas)".)"""
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # had been read as text lines
        raise ValueError(f"{path}: a zip archive (a .npz: np.savez or scipy.sparse.save_npz), "
                         f"not contexts: save them with np.save(path, contexts) (.npy) or as "
                         f"text, one line per system")
    if head != b"\x93NUMPY":
        return None
    try:
        raw = np.load(path, allow_pickle=False)
    except Exception as exc:  # a truncated file, an array of objects
        raise ValueError(f"{path}: cannot read contexts from this .npy file "
                         f"({type(exc).__name__}: {exc})") from None
    if raw.dtype.kind not in "iuf" or raw.ndim not in (1, 2):
        raise ValueError(f"{path}: contexts must be a 1-D array (one number per system) or a "
                         f"2-D array (one row per system) of real numbers, got shape "
                         f"{raw.shape} and dtype {raw.dtype}")
    raw = raw.astype(np.float64)
    return raw[:, None] if raw.ndim == 1 else raw


def read_contexts(path, count: int) -> list:
    """One context per system from a text file: one number per line (a scalar context) or
    one row of numbers per line (a vector context); ``#`` starts a comment.  A NumPy ``.npy``
    file holds them as a vector (one number per system) or a 2-D array (one row each)."""
    path = Path(path)
    if not path.is_file():
        raise _not_a_file(path)
    rows = _npy_contexts(path)
    if rows is None:
        try:
            with warnings.catch_warnings():  # an empty file: counted below, in one line
                warnings.simplefilter("ignore", UserWarning)
                rows = np.loadtxt(path, dtype=np.float64, ndmin=2, encoding="utf-8-sig")
        except Exception as exc:
            raise ValueError(f"{path}: cannot read contexts: {_contexts_problem(path, exc)}; "
                             f"{_CONTEXTS_FORMAT}") from None
    if rows.shape[0] != count:
        from bandit._base import count_of

        raise ValueError(f"{path}: {count_of(rows.shape[0], 'context')} for "
                         f"{count_of(count, 'system')}; give one line per system")
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if bad.size:  # the system it belongs to (comment and blank lines are not counted)
        row = rows[bad[0]]
        value = row.tolist() if rows.shape[1] > 1 else row[0]
        beyond = ("; a number beyond double precision's range (such as 1e400) reads as inf"
                  if np.isinf(row).any() else "")
        raise ValueError(f"{path}: contexts must be finite numbers; the context of system "
                         f"{bad[0] + 1} is {value} ({bad.size} of {count} in all){beyond}")
    return [float(r[0]) if rows.shape[1] == 1 else r.copy() for r in rows]


def check_contexts(policy, contexts, path, auto_context=None) -> None:
    """Refuse, naming the contexts file ``path``, contexts the learner would refuse at the
    first solve — a vector too long for its model, or of another length than a resumed
    tuner's — before anything is solved (such a refusal had been named after the first
    matrix file).  A copy of the policy is asked for a draw at the first context (with an
    automatic context, one number more, as the Tuner passes it); every line has the same
    length (:func:`read_contexts`)."""
    if contexts is None or not getattr(policy, "contextual", False) or not len(contexts):
        return
    import copy

    c = contexts[0]
    if auto_context is not None:
        c = np.append(np.asarray(c, dtype=np.float64).ravel(), 1.0)
    try:
        copy.deepcopy(policy).select(c)
    except ValueError as exc:
        also = (" (with the automatic context: one number more than each line)"
                if auto_context is not None else "")
        raise ValueError(f"{path}: {exc}{also}") from None

