"""Your own sequence of systems from files: what ``relaxtune tune`` runs.

A simulation can write its systems as files (Matrix Market from most codes, scipy's ``.npz``
from Python) long before anyone wraps its loop.  :func:`load_systems` reads them,
:func:`run` solves them in order through a :class:`bandit.Tuner` and, unless told not to,
solves every system again with every arm from the same start, so that the totals, the best
fixed arm in hindsight and the regret are exact rather than estimated; :func:`summarize`
puts the tuned run, every fixed arm, the instance-optimal choice and the Tuner's own
regret estimate (with its interval) side by side.

Examples
--------
>>> import scipy.sparse as sp
>>> from solvers import gallery
>>> systems = [(gallery.laplacian_2d(8) + s * sp.eye(64), np.ones(64)) for s in (0, 1, 2)]
>>> res = run(systems, solver="sor", arms=[1.0, 1.3, 1.6])
>>> s = summarize(res)
>>> s["best_fixed"]["omega"], s["tuned"]["iterations"] >= s["instance_optimal"]["iterations"]
(1.3, True)
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

__all__ = ["read_matrix", "read_vector", "read_contexts", "SystemFiles", "load_systems",
           "check_systems", "run",
           "summarize",
           "format_report", "figure_data", "make_policy", "needs_context"]

MATRIX_SUFFIXES = (".mtx", ".mtx.gz", ".npz")
VECTOR_SUFFIXES = (".mtx", ".mtx.gz", ".npy", ".txt")


def _suffix(path: Path, known) -> str:
    name = path.name.lower()
    for s in sorted(known, key=len, reverse=True):
        if name.endswith(s):
            return s
    raise ValueError(f"{path}: unknown file type; give one of {', '.join(known)}")


def _not_a_file(path: Path) -> ValueError:
    """Why ``path`` cannot be read as a file: a folder or a device had been "no such file"."""
    if path.is_dir():
        return ValueError(f"{path}: is a folder; give a file")
    if path.exists():
        return ValueError(f"{path}: not a regular file (a device or a pipe); give a file")
    return ValueError(f"{path}: no such file{_pattern_hint(path)}")


def _pattern_hint(path: Path) -> str:
    """A shell passes a pattern that matches nothing on as it was typed; so does a quoted
    pattern, or a program started without a shell, that matches files (it had been called
    "a pattern that matched no file?" all the same)."""
    if not any(c in str(path) for c in "*?["):
        return ""
    import glob

    found = sorted(glob.glob(str(path)))
    if not found:
        return " (a pattern that matched no file?)"
    some = f"{found[0]} ... {found[-1]}" if len(found) > 1 else found[0]
    return (f" (a quoted pattern? it matches {len(found)} file{'s' if len(found) > 1 else ''}"
            f": {some}; relaxtune takes file names, not patterns: write it without quotes and "
            f"the shell lists the files, in name order, the order they are solved in)")


def _one_triangle(path: Path, symmetry: str) -> None:
    """A file in symmetric storage lists one triangle; scipy mirrors every off-diagonal entry,
    so one listed on both sides would be added twice: refuse it (read as written)."""
    import gzip
    import io

    raw = (gzip.open if path.name.lower().endswith(".gz") else open)(path, "rb").read()
    head, _, rest = raw.partition(b"\n")
    head = re.sub(re.escape(symmetry).encode(), b"general", head, flags=re.IGNORECASE)
    G = scipy.io.mmread(io.BytesIO(head + b"\n" + rest))
    G = sp.coo_matrix(G)
    if np.any(G.row > G.col) and np.any(G.row < G.col):
        raise ValueError(f"{path}: {symmetry} storage with entries on both sides of the "
                         f"diagonal; it keeps one triangle (each entry listed once), which "
                         f"scipy mirrors: store one triangle or write the file as 'general'")
    if symmetry.lower() == "skew-symmetric" and np.any((G.row == G.col) & (G.data != 0)):
        # the format's skew-symmetric storage has a zero diagonal (a_ii = -a_ii); scipy keeps
        # a listed diagonal entry, and the system read would be neither the file's nor skew
        i = int(G.row[(G.row == G.col) & (G.data != 0)][0])
        raise ValueError(f"{path}: skew-symmetric storage with a nonzero diagonal entry (row "
                         f"{i + 1}); a skew-symmetric matrix has a zero diagonal: write the "
                         f"file as 'general'")


def _bom_note(path: Path, kind: str) -> str:
    """What to do when an unreadable Matrix Market file starts with a byte-order mark (the
    UTF-8 signature some Windows editors write), or ``""``: scipy's reader then finds no
    banner, and "Missing banner" was all the error said of a file whose banner is there."""
    if not kind.startswith(".mtx"):
        return ""
    import gzip

    try:
        with (gzip.open if kind == ".mtx.gz" else open)(path, "rb") as f:
            start = f.read(3)
    except (OSError, EOFError):
        return ""
    if start != b"\xef\xbb\xbf":
        return ""
    return ("; the file starts with a byte-order mark (the UTF-8 signature some Windows "
            "editors write) before its %%MatrixMarket banner: save it without one (UTF-8, "
            "no signature)")


#: Numbers per entry line of a Matrix Market file, by layout and field (besides the indices).
_MM_VALUES = {"real": 1, "integer": 1, "double": 1, "complex": 2, "pattern": 0}


def _check_numbers(path: Path, layout: str, field: str) -> None:
    """Refuse a Matrix Market file whose entry lines are not numbers as the format writes
    them, or hold more or fewer of them than its header says.

    scipy's reader stops reading a number at the first character it cannot take and ignores
    the rest of the line: ``1,5`` (a decimal comma) had been read as 1, ``1.5D-3`` (Fortran's
    exponent) as 1.5, and the imaginary parts of a complex file headed ``real`` dropped — the
    system solved, and reported converged, was another one.  One strict pass of NumPy's
    reader over the entry lines (NumPy ≥ 1.23 parses in C: about a second per 10⁶ lines).
    """
    import gzip
    import io

    raw = (gzip.open if path.name.lower().endswith(".gz") else open)(path, "rb").read()
    rest, skipped = raw, 0
    while True:  # the banner, comments and blank lines, then the size line
        line, sep, rest = rest.partition(b"\n")
        skipped += 1
        text = line.strip()
        if not sep or (text and not text.startswith(b"%")):
            break
    width = (2 if layout == "coordinate" else 0) + _MM_VALUES.get(field, 1)
    try:
        values = np.loadtxt(io.BytesIO(rest), dtype=np.float64, comments="%", ndmin=2)
    except ValueError as exc:
        raise ValueError(
            f"{path}: cannot read it as .mtx: an entry is not a number as Matrix Market "
            f"writes them ({exc}; rows "
            f"counted from the first entry line, line {skipped + 1}): a decimal point, not "
            f"a comma, an exponent with e or E, not Fortran's D, and {width} number"
            f"{'s' if width != 1 else ''} a line for a {layout} {field} file") from None
    if values.size and values.shape[1] != width:
        raise ValueError(
            f"{path}: its entry lines hold {values.shape[1]} numbers each, and a {layout} "
            f"{field} file has {width} (the header says {field}: "
            + ("complex values under a 'real' header would lose their imaginary parts"
               if values.shape[1] > width else "a line is missing its value") + ")")
    if field == "integer" and values.size and not np.all(values[:, -1]
                                                         == np.round(values[:, -1])):
        raise ValueError(f"{path}: an 'integer' file holds non-integer values; write it as "
                         f"'real'")


#: the files whose numbers passed :func:`_check_numbers`, by (path, size, modification time):
#: ``relaxtune tune`` reads each file once to check every system before solving and again to
#: solve it, and the strict pass costs about three of scipy's reads
_NUMBERS_CHECKED: dict = {}


def _checked_numbers(path: Path, layout: str, field: str) -> None:
    """:func:`_check_numbers`, once per version of the file (a file rewritten since, even to
    the same size, is checked again: its modification time moved)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, layout, field)
    if key not in _NUMBERS_CHECKED:
        _check_numbers(path, layout, field)
        if len(_NUMBERS_CHECKED) >= 4096:  # a long run over many files: bounded memory
            _NUMBERS_CHECKED.clear()
        _NUMBERS_CHECKED[key] = True


def _check_header(path: Path, rows: int, cols: int, entries: int, layout: str) -> None:
    """Refuse from the Matrix Market header alone what the systems cannot be, before scipy
    allocates what the header claims: a header of 10⁹ × 10⁹ with one entry had made the
    conversion to CSR allocate 4-8 GB (a MemoryError, or the machine swapping) for a matrix
    refused a moment later for its missing diagonal."""
    if rows != cols or rows == 0:
        raise ValueError(f"{path}: the matrix must be square and non-empty, got {rows}x{cols}")
    if layout == "coordinate" and entries < rows:
        raise ValueError(f"{path}: {rows}x{cols} with {entries} stored entries, fewer than its "
                         f"rows: some diagonal entry is missing (SOR and SSOR divide by every "
                         f"a_ii)")


def _load_npz(path: Path):
    """``scipy.sparse.load_npz``, saying what a NumPy ``.npz`` of dense arrays holds (scipy
    says only that it "does not contain a sparse array or matrix") and how to save the
    matrix as relaxtune reads it."""
    try:
        return sp.load_npz(path)
    except ValueError as exc:
        if "does not contain a sparse" not in str(exc):
            raise
        with np.load(path, allow_pickle=False) as z:
            held = ", ".join(f"{k!r} of shape {z[k].shape}" for k in list(z.files)[:3])
            more = f" and {len(z.files) - 3} more" if len(z.files) > 3 else ""
        raise ValueError(f"{path}: a NumPy .npz of dense arrays ({held}{more}; np.savez), not "
                         f"a scipy sparse matrix: save the matrix with scipy.sparse.save_npz("
                         f"path, scipy.sparse.csr_matrix(A)), or as Matrix Market "
                         f"(scipy.io.mmwrite)") from None


def read_matrix(path) -> sp.csr_matrix:
    """A square sparse matrix from a Matrix Market file (``.mtx``, ``.mtx.gz``) or a scipy
    sparse ``.npz`` file, as float64 CSR.

    Raises
    ------
    ValueError
        Naming the file: missing, of an unknown type, unreadable, not square, not real.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give its files in order (e.g. "
                         f"{path / '*.mtx'})")
    kind = _suffix(path, MATRIX_SUFFIXES)
    if not path.is_file():
        raise _not_a_file(path)
    try:
        info = None if kind == ".npz" else scipy.io.mminfo(path)
        if info is not None and info[4] == "pattern":
            # scipy reads a pattern as ones: a sparsity pattern, not the user's system
            raise ValueError(f"{path}: a Matrix Market pattern only (no values); the "
                             f"systems need their numbers")
        if info is not None:
            _check_header(path, *info[:4])
            _checked_numbers(path, info[3], info[4])
        M = _load_npz(path) if kind == ".npz" else scipy.io.mmread(path)
        if info is not None and info[3] == "coordinate" and info[5] != "general":
            _one_triangle(path, info[5])
    except ValueError as exc:
        if str(exc).startswith(f"{path}: ") or "both sides" in str(exc):
            raise
        raise ValueError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {exc})"
                         f"{_bom_note(path, kind)}") \
            from None
    except Exception as exc:  # scipy's readers raise many kinds for a damaged file
        raise ValueError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {exc})"
                         f"{_bom_note(path, kind)}") \
            from None
    if not sp.issparse(M):
        M = sp.csr_matrix(np.atleast_2d(M))
    if np.iscomplexobj(M.data):
        raise ValueError(f"{path}: complex values; the solvers take real matrices")
    if M.dtype == np.bool_:
        # a boolean sparse matrix is a sparsity pattern (every stored entry reads as 1, a
        # -1 of the user's system as +1), as a Matrix Market pattern file is
        raise ValueError(f"{path}: boolean values, a sparsity pattern only; the systems need "
                         f"their numbers")
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"{path}: the matrix must be square and non-empty, got "
                         f"{'x'.join(map(str, M.shape))}")
    return sp.csr_matrix(M, dtype=np.float64)


def read_vector(path, n: int) -> np.ndarray:
    """A right-hand side of length ``n`` from ``.mtx``/``.mtx.gz`` (a dense ``array`` or a
    sparse column), ``.npy`` or ``.txt`` (numbers separated by white space).  A file holding
    a ``1 × n`` row or an ``n × 1`` column is read as the vector (a file has no orientation to
    keep, unlike the array a program passes to the solvers, which refuse a row)."""
    path = Path(path)
    if path.is_dir():  # (had been "unknown file type", a folder's name having no suffix)
        raise ValueError(f"{path}: is a folder; give its files in order, one per matrix "
                         f"(e.g. {path / '*.npy'})")
    kind = _suffix(path, VECTOR_SUFFIXES)
    if not path.is_file():
        raise _not_a_file(path)
    try:
        if kind == ".npy":
            v = np.load(path, allow_pickle=False)
        elif kind == ".txt":
            # (utf-8-sig: a byte-order mark, as Windows editors write, had been refused as
            # "could not convert string '\ufeff1.0' to float64")
            v = np.loadtxt(path, dtype=np.float64, ndmin=1, encoding="utf-8-sig")
        else:
            info = scipy.io.mminfo(path)
            _checked_numbers(path, info[3], info[4])
            v = scipy.io.mmread(path)
            v = v.toarray() if sp.issparse(v) else np.asarray(v)
    except ValueError as exc:
        if str(exc).startswith(f"{path}: "):
            raise
        raise ValueError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {exc})"
                         f"{_bom_note(path, kind)}") \
            from None
    except Exception as exc:
        raise ValueError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {exc})"
                         f"{_bom_note(path, kind)}") \
            from None
    v = np.asarray(v)
    if v.ndim == 2 and 1 in v.shape:
        v = v.ravel()
    if v.ndim == 2 and n in v.shape:  # several right-hand sides in one file
        k = v.shape[1] if v.shape[0] == n else v.shape[0]
        raise ValueError(f"{path}: {k} right-hand sides of {n} entries in one file (shape "
                         f"{v.shape}); relaxtune tune takes one right-hand side per file: "
                         f"save each column as its own file and give them in order "
                         f"(--rhs b1.npy b2.npy ...; one matrix is solved for each)")
    if v.ndim != 1 or v.size != n:
        raise ValueError(f"{path}: a vector of {n} entries was expected (the size of its "
                         f"matrix), got shape {v.shape}")
    if np.iscomplexobj(v) or not np.issubdtype(v.dtype, np.number):
        raise ValueError(f"{path}: the right-hand side must be real numbers, got {v.dtype}")
    v = v.astype(np.float64)
    if not np.all(np.isfinite(v)):
        bad = int(np.sum(~np.isfinite(v)))
        raise ValueError(f"{path}: {bad} {'entry is' if bad == 1 else 'entries are'} not "
                         f"finite (NaN or Inf)")
    from solvers._checks import check_vector_norm

    try:  # a norm beyond the double range (entries near 1e308): refused before any solve
        check_vector_norm(v, n, "b", copy=False)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return v


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
            return (f"line {number} ({text!r}) has {len(fields)} numbers where the lines "
                    f"before it have {width}")
        width = len(fields)
    return f"{type(exc).__name__}: {exc}"


def _npy_contexts(path):
    """The contexts of a NumPy ``.npy`` file (known by its magic bytes, whatever its name) as
    rows, ``None`` for any other file: a vector is one number per system, a 2-D array one row
    per system.  (Such a file had been read as text: "line 1 is \"\\x93NUMPY...\" (values
    separated by commas)".)"""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
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
        raise ValueError(f"{path}: contexts must be finite numbers; the context of system "
                         f"{bad[0] + 1} is {value} ({bad.size} of {count} in all)")
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


class SystemFiles(Sequence):
    """The systems ``(A_t, b_t)`` of files, each read when it is asked for.

    Only the system in use is in memory (plus the matrix, when one matrix has many right-hand
    sides), so a sequence of thousands of large systems needs the memory of one: a loop over
    it reads each file again (a read is cheap next to the solves of one system).  Made by
    :func:`load_systems`; a file that cannot be read raises ``ValueError`` naming it when its
    system is asked for (:func:`check_systems` asks for every one before anything is solved).

    Examples
    --------
    >>> import tempfile, scipy.io
    >>> from solvers import gallery
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for t in range(3):
    ...         scipy.io.mmwrite(f"{d}/A{t}.mtx", gallery.laplacian_2d(4) * (t + 1))
    ...     systems = load_systems([f"{d}/A{t}.mtx" for t in range(3)])  # nothing read yet
    ...     A, b = systems[2]                                          # read when asked for
    >>> len(systems), float(A[0, 0]), b.shape                          # b = (1, ..., 1)
    (3, 12.0, (16,))
    """

    def __init__(self, matrices, rhs=None):
        self._matrices = [Path(p) for p in matrices]
        self._rhs = None if rhs is None else [Path(p) for p in rhs]
        # one matrix for many right-hand sides: read once and shared, as the solves share it
        self._single = read_matrix(self._matrices[0]) if len(self._matrices) == 1 else None

    def __len__(self) -> int:
        return len(self._matrices) if self._rhs is None or self._single is None \
            else len(self._rhs)

    def matrix_key(self, t: int) -> int:
        """Which matrix file system ``t`` uses (systems with the same key share a matrix)."""
        return 0 if self._single is not None else t

    def __getitem__(self, t):
        if isinstance(t, slice):
            return [self[i] for i in range(*t.indices(len(self)))]
        if t < 0:
            t += len(self)
        if not 0 <= t < len(self):
            raise IndexError(f"system {t} of {len(self)}")
        A = self._single if self._single is not None else read_matrix(self._matrices[t])
        b = np.ones(A.shape[0]) if self._rhs is None else read_vector(self._rhs[t], A.shape[0])
        return A, b


def load_systems(matrices, rhs=None) -> SystemFiles:
    """The sequence ``[(A_t, b_t)]`` in the order given, read from the files one system at a
    time (:class:`SystemFiles`; only the counts are checked here).

    ``rhs``: ``None`` (``b = (1, …, 1)`` for every system), one file per matrix, or several
    files for a single matrix (one matrix, many right-hand sides)."""
    matrices = [Path(p) for p in matrices]
    if not matrices:
        raise ValueError("no matrix files given")
    rhs = None if rhs is None else [Path(p) for p in rhs]
    if rhs is not None and len(rhs) != len(matrices) and len(matrices) != 1:
        raise ValueError(f"{len(rhs)} right-hand sides for {len(matrices)} matrices; give one "
                         f"per matrix, or many for a single matrix")
    return SystemFiles(matrices, rhs)


def check_systems(systems, solver, names=None, auto_context=None) -> None:
    """Refuse, naming the file (``names``, one per system) or the system, a system that
    cannot be read (:class:`SystemFiles`) or a matrix ``solver`` cannot take — a zero or
    missing diagonal entry; for SSOR-PCG, or an automatic context, a matrix that is not
    symmetric, or whose diagonal is not positive (for an automatic context with SOR: of both
    signs) — before anything is solved (each distinct matrix once, one system in memory at a
    time)."""
    import solvers

    seen = set()
    key = getattr(systems, "matrix_key", None)
    for t in range(len(systems)):
        A, _ = systems[t]  # a file that cannot be read names itself
        # a list holds its matrices, so their ids stay distinct; files are told apart by index
        k = key(t) if key is not None else id(A)
        if k in seen:
            continue
        seen.add(k)
        try:
            op = solvers.prepare(A)
            # the automatic context's estimate takes a diagonal all of one sign (an operator
            # assembled with the other sign has the estimate of −A); SSOR-PCG needs it positive
            flipped = solver != "ssor_pcg" and op.diagonal.max() < 0.0
            op.require_diagonal(solver, positive=solver == "ssor_pcg"
                                or (auto_context is not None and not flipped))
            if solver == "ssor_pcg":
                op.require_symmetric(solver)
            elif auto_context is not None and op.asymmetry() > 1e-10:
                raise ValueError(f"A is not symmetric (max |a_ij - a_ji| = "
                                 f"{op.asymmetry():.2e} relative to max |a_ij|); the automatic "
                                 f"context estimates the spectrum of symmetric matrices only")
        except ValueError as exc:
            raise ValueError(f"{names[t] if names else f'system {t}'}: {exc}") from None


def make_policy(policy, solver, arms, seed=0):
    """A policy over ``arms``: a :data:`bandit.POLICIES` name, ``"default"`` or ``None`` (the
    library's default learner for ``solver``), or a policy, returned as it is."""
    import bandit

    if isinstance(policy, str) and policy != "default":
        return bandit.POLICIES[policy](list(arms), seed=seed)
    if policy is None or policy == "default":
        return bandit.default_policy(solver, list(arms), seed=seed)
    return policy


def needs_context(policy) -> bool:
    """Whether ``policy`` refuses to choose without a context (asked of a copy)."""
    import copy

    try:
        copy.deepcopy(policy).select(None)
    except ValueError as exc:
        return "context" in str(exc)
    return False


def unresumable(tuner) -> str | None:
    """Why :func:`run` cannot continue ``tuner`` (``None``: it can).  The comparison it
    makes solves every system with every ω of the tuner's grid by the Numba kernels and counts
    iterations, so the tuner must be of the Numba backend, over ω of ``sor`` or ``ssor_pcg``
    (not solver configurations), with its cost in iterations (a cost in seconds or work would
    print the tuner's regret estimate in that unit beside the exact regret in iterations)."""
    if tuner.backend != "numba":
        return (f"a tuner of backend {tuner.backend!r}; relaxtune tune solves with the numba "
                f"backend")
    configs = [a for a in tuner.policy.arms if isinstance(a, dict)]
    if configs or tuner.solver not in ("sor", "ssor_pcg"):
        what = (f"{len(configs)} configuration arms such as {configs[0]}" if configs
                else repr(tuner.solver))
        return (f"a tuner over solver configurations ({what}); relaxtune tune tunes the ω "
                f"of 'sor' or 'ssor_pcg'")
    if tuner.cost != "iterations":
        return (f"a tuner whose cost is {tuner.cost!r}; relaxtune tune compares iteration "
                f"counts, and the tuner's own regret estimate would be in its cost's unit")
    return None


def run(systems, *, solver="ssor_pcg", arms=None, policy=None, contexts=None, warm=False,
        rtol=1e-8, maxiter=10_000, exact=True, audit_budget=0.05, progress=False,
        seed=0, interruptible=False, auto_context=None, names=None, tuner=None) -> dict:
    """Solve ``systems`` in order through a Tuner and, if ``exact``, with every arm.

    Parameters
    ----------
    systems : sequence of (A, b)
        A list, or :class:`SystemFiles` (read one system at a time).
    solver : {"sor", "ssor_pcg"}
    arms : sequence of float, optional
        The ω grid (default :data:`bandit.DEFAULT_ARMS`).
    policy : str or bandit.Policy, optional
        A :data:`bandit.POLICIES` name or a policy over ``arms``; default the library's
        default learner for ``solver``.
    contexts : list, optional
        One context per system (a number or a vector).
    warm : bool
        Start each solve from the previous system's solution when the sizes match (as a
        time-stepping loop does); every arm of the exact run starts from the same ``x0`` as
        the tuned solve of that system.
    exact : bool
        Also solve every system with every arm (``len(arms)`` times the tuned run's solves)
        for exact totals and regret.
    auto_context : {None, "spectral"}
        The Tuner's automatic context (:class:`bandit.Tuner`): the theory's ω of each system
        from a few Lanczos steps, beside ``contexts`` if given.
    interruptible : bool
        Ctrl-C returns what was finished (``interrupted``: the systems finished in full)
        instead of raising.
    names : list of str, optional
        One name per system (its file) for a refusal: ``ValueError("<name>: ...")``;
        default ``system <index>``.
    tuner : bandit.Tuner, optional
        A tuner to continue (:meth:`bandit.Tuner.load`): its solver, arms, policy, ``rtol``,
        ``maxiter``, audit budget and automatic context are used (the arguments of those
        names are ignored), and the summary's tuned run covers the rounds added here
        (``start``: the rounds it had before).
    audit_budget : float or None
        The Tuner's audit budget (a share of its solve time spent on audit runs, off the
        clock), which gives its own regret estimate an interval; ``None`` or 0: no audits.

    Returns
    -------
    dict
        ``tuner``, ``arms``, ``C`` (iterations, systems × arms; a failed solve, or one the
        solver refused at that ω, counts ``maxiter``) and ``converged`` (both ``None`` without ``exact``), ``solver``, ``maxiter``,
        ``interrupted`` (``None``, or the systems finished before Ctrl-C; then ``stop``, the
        ``KeyboardInterrupt`` caught).
    """
    import bandit
    import solvers

    atol = 0.0
    if tuner is not None:  # continued: the tuner's settings, not the arguments'
        why = unresumable(tuner)
        if why is not None:
            raise ValueError(f"cannot continue {why}")
        solver, arms, policy = tuner.solver, list(tuner.policy.arms), tuner.policy
        rtol, maxiter, auto_context = tuner.rtol, tuner.maxiter, tuner.auto_context
        # a tuner saved with atol > 0 stops there: the fixed ω of the comparison stop at
        # the same rule (they had run to rtol alone, and the tuned run looked cheaper than
        # the best fixed ω in hindsight: "0.857 × best fixed", an exact regret of -6)
        atol = tuner.atol
    if solver not in ("sor", "ssor_pcg"):
        raise ValueError(f"solver must be 'sor' or 'ssor_pcg', got {solver!r}")
    arms = list(bandit.DEFAULT_ARMS if arms is None else arms)
    if contexts is not None and len(contexts) != len(systems):
        raise ValueError(f"{len(contexts)} contexts for {len(systems)} systems")
    policy = make_policy(policy, solver, arms, seed)
    if contexts is None and auto_context is None and needs_context(policy):
        raise ValueError(f"{type(policy).__name__} needs a context for every system (give "
                         f"contexts or auto_context='spectral', or a learner that works "
                         f"without)")
    if tuner is None:
        tuner = bandit.Tuner(policy, solver=solver, rtol=rtol, maxiter=maxiter,
                             audit_budget=audit_budget or 0.0, audit_seed=seed,
                             auto_context=auto_context)
    start = len(tuner.history["arm"])  # rounds of the runs it continues
    fn = solvers.SOLVERS[solver]
    T, K = len(systems), len(arms)
    C = np.zeros((T, K)) if exact else None
    conv = np.zeros((T, K), dtype=bool) if exact else None
    steps = range(T)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="systems", unit="system")
    x = None
    done = 0  # systems with the tuned solve and (if exact) every arm's
    # the tuned solves that failed: (system, why), as the Tuner's result says it (every run
    # breaking down: "not positive definite"); the table had said only "no solve converged"
    failures = []
    try:
        for t in steps:
            A, b = systems[t]
            x0 = x if warm and x is not None and x.shape[0] == A.shape[0] else None
            ctx = None if contexts is None else contexts[t]
            res = tuner.solve(A, b, x0=x0, context=ctx)
            if not res.converged:
                failures.append((t, (res.info or {}).get("failure") or res.reason))
            x = res.x
            if exact:
                op = solvers.prepare(A)
                for k, w in enumerate(arms):
                    try:
                        r = fn(op, b, w, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
                    except ValueError:
                        # the tuned solve took this system: a refusal is this ω's, e.g. an
                        # iterate that overflows in SOR's first sweep at a large ω
                        C[t, k], conv[t, k] = maxiter, False
                        continue
                    C[t, k] = r.iterations if r.converged else maxiter
                    conv[t, k] = r.converged
            done = t + 1
    except ValueError as exc:  # a system refused once it ran: say which
        raise ValueError(f"{names[done] if names else f'system {done}'}: {exc}") from None
    except KeyboardInterrupt as exc:
        if not interruptible:
            raise
        # Ctrl-C: what was finished is kept (the tuner has every round it recorded; the
        # exact costs cover the systems finished in full)
        if exact:
            C, conv = C[:done], conv[:done]
        return {"tuner": tuner, "arms": arms, "C": C, "converged": conv, "solver": solver,
                "interrupted": done, "maxiter": maxiter, "stop": exc, "start": start,
                "failures": _named(failures, names)}
    return {"tuner": tuner, "arms": arms, "C": C, "converged": conv, "solver": solver,
            "interrupted": None, "maxiter": maxiter, "start": start,
            "failures": _named(failures, names)}


def _named(failures, names):
    """The failed systems of :func:`run` as ``{"system": t + 1, "name": ..., "why": ...}``."""
    return [{"system": t + 1, "name": None if not names else str(names[t]), "why": str(why)}
            for t, why in failures]


def _tuned_costs(result, T) -> np.ndarray:
    """The tuned run's iterations per system, counted as the fixed ω's are: a system the run
    did not solve costs at least ``maxiter`` (the guard may stop a diverging solve early;
    a fixed ω that fails counts the cap, so the tuned run must too).  A continued tuner's
    earlier rounds (``result["start"]``) are not this run's."""
    h = result["tuner"].history
    s = result.get("start", 0)
    its = np.asarray(h["iterations"][s:s + T], dtype=float)
    cap = result.get("maxiter", result["tuner"].maxiter)
    failed = ~np.asarray(h["converged"][s:s + T], dtype=bool)
    its[failed] = np.maximum(its[failed], cap)
    return its


def _best_fixed(result):
    """``(k, totals, converged)``: the best fixed arm in hindsight — the cheapest of the arms
    that converged on every system (of all arms if none did) — each arm's exact total, and
    whether it converged on every system."""
    totals = result["C"].sum(axis=0)
    conv = result["converged"].all(axis=0)
    ok = np.flatnonzero(conv)
    k = int(ok[np.argmin(totals[ok])]) if ok.size else int(np.argmin(totals))
    return k, totals, conv


def summarize(result) -> dict:
    """Totals and regret of a :func:`run`: the tuned run, the best fixed arm in hindsight,
    ω = 1 (or the arm closest to it), the instance-optimal choice, and the Tuner's own regret
    estimate against the best fixed arm with its 90 % interval beside the exact value.

    A continued tuner (``result["start"]`` earlier rounds): the totals and the exact regret
    cover this run's systems, the Tuner's estimate every round it holds (``resumed``)."""
    tuner, arms, C = result["tuner"], result["arms"], result["C"]
    h = tuner.history
    s = result.get("start", 0)
    # after Ctrl-C the tuner may have one round more than the exact costs: compare the same
    T = len(h["arm"]) - s if C is None else C.shape[0]
    its = int(np.sum(_tuned_costs(result, T)))
    out = {"solver": result["solver"], "systems": int(T),
           "tuned": {"iterations": its, "seconds": float(np.sum(h["seconds"][s:s + T])),
                     "all_converged": bool(np.all(h["converged"][s:s + T])),
                     "not_converged": int(T - np.sum(h["converged"][s:s + T]))}}
    if s:
        out["resumed"] = {"earlier_rounds": int(s), "rounds": int(s + T)}
    failures = [f for f in result.get("failures", ()) if f["system"] <= T]
    if failures:
        out["failures"] = failures
    if result.get("interrupted") is not None:
        out["interrupted"] = True
    auto = getattr(tuner, "auto_context", None)
    if auto is not None:  # paid by the tuned run only: its Lanczos steps, one product each
        # (counted by the tuner: fewer than the steps on a system smaller than them)
        out["auto_context"] = {"kind": auto,
                               "matvecs": int(getattr(tuner, "_context_products", 0))}
    # after Ctrl-C the tuner may have one round more than the exact costs: the estimate
    # covers the systems the exact costs cover
    rep = tuner.regret(rounds=s + T)
    est = rep.best_fixed
    out["estimate"] = {"best_fixed": float(est.estimate), "low": float(est.low),
                       "high": float(est.high), "method": est.method,
                       "at_bound": bool(est.at_bound)}
    if C is None:
        return out
    k, totals, conv = _best_fixed(result)
    k1 = int(np.argmin([abs(w - 1.0) for w in arms]))
    inst = float(C.min(axis=1).sum())
    failed = (~result["converged"]).sum(axis=0)  # per arm: the systems it did not solve
    out["best_fixed"] = {"omega": arms[k], "iterations": int(totals[k]),
                         "all_converged": bool(conv[k]), "not_converged": int(failed[k])}
    out["omega_one"] = {"omega": arms[k1], "iterations": int(totals[k1]),
                        "all_converged": bool(conv[k1]), "not_converged": int(failed[k1])}
    solved = result["converged"].any(axis=1)
    out["instance_optimal"] = {"iterations": int(inst), "all_converged": bool(solved.all()),
                               "not_converged": int((~solved).sum())}
    out["fixed"] = {float(w): int(c) for w, c in zip(arms, totals)}
    out["exact_regret"] = {"best_fixed": its - int(totals[k]),
                           "instance_optimal": its - int(inst)}
    if not s:  # (a continued run's estimate covers other rounds than the exact regret)
        out["covered"] = bool(est.low <= its - totals[k] <= est.high)
    return out


def format_report(s: dict) -> str:
    """The comparison table of :func:`summarize` as plain text."""
    from bandit._base import count_of

    stopped = (" (interrupted: the systems finished before the run was stopped)"
               if s.get("interrupted") else "")
    lines = [f"{count_of(s['systems'], 'system')}, {s['solver']}{stopped}"]
    resumed = s.get("resumed")
    if resumed:
        these = (f"these {count_of(s['systems'], 'system')}" if s["systems"] != 1
                 else "this system")
        lines[0] += (f" (a continued tuner: the table covers {these}, "
                     f"not its {count_of(resumed['earlier_rounds'], 'earlier round')})")
    tuned = s["tuned"]["iterations"]
    T = s["systems"]

    def failed(row):  # a summary written before the count: the flag alone
        return row.get("not_converged", 0 if row["all_converged"] else -1)

    rows = [("tuned (relaxtune)", tuned, failed(s["tuned"]))]
    if "auto_context" in s:  # an SOR sweep reads the matrix once, as a product does
        mv = s["auto_context"]["matvecs"]
        per = 1 if s["solver"] == "sor" else 2  # SSOR-PCG: about two passes an iteration
        rows.append((f"  + automatic context ({mv:,} products)", tuned + mv // per,
                     failed(s["tuned"])))
    if "best_fixed" in s:
        bf = s["best_fixed"]
        rows += [(f"best fixed ω = {bf['omega']:g} (hindsight)", bf["iterations"],
                  failed(bf)),
                 (f"fixed ω = {s['omega_one']['omega']:g}", s["omega_one"]["iterations"],
                  failed(s["omega_one"])),
                 ("instance-optimal (per system)", s["instance_optimal"]["iterations"],
                  failed(s["instance_optimal"]))]
    from bandit._regretdata import format_interval, no_minus_zero

    from .cli_common import shown  # measured as printed: ω may print as "omega"

    ref = s["best_fixed"]["iterations"] if "best_fixed" in s else None
    rows = [(shown(name), v, nf) for name, v, nf in rows]
    width = max(len(r[0]) for r in rows)
    lines.append(f"{'method':<{width}}  {'iterations':>11}  {shown('× best fixed'):>12}")
    for name, v, nf in rows:
        ratio = f"{v / ref:.3f}" if ref else shown("—")
        flag = ("" if nf == 0 else "  (some solves did not converge)" if nf < 0
                else "  (no solve converged)" if nf >= T
                else f"  ({nf} of {T} solves did not converge)")
        lines.append(f"{name:<{width}}  {v:>11,}  {ratio:>12}{flag}")
    e = s["estimate"]
    whole = no_minus_zero("{:,.0f}")  # (a regret of -0.3 iterations reads 0, not -0)
    band = (f"interval {format_interval(e['low'], e['high'], whole)}"
            if math.isfinite(e["low"]) and math.isfinite(e["high"]) else "no interval")
    # at its bound the 'estimate' is the cost paid, the interval's upper end: no estimate
    point = (f"at most {whole(e['best_fixed'])} (no point estimate: too few audits)"
             if e.get("at_bound") else whole(e["best_fixed"]))
    est = (f"regret against the best fixed arm: the Tuner's estimate {point}, "
           f"{band} ({e['method'].split(':')[0]})")
    if resumed:
        est = est.replace("the Tuner's estimate",
                          f"the Tuner's estimate over all {resumed['rounds']} rounds "
                          f"(earlier runs included)", 1)
    if not math.isfinite(e["best_fixed"]):  # had printed "estimate nan no interval"
        est = f"regret against the best fixed arm: the Tuner's estimate is {e['method']}"
    if "exact_regret" in s:
        est += (f"; exact {s['exact_regret']['best_fixed']:,}"
                + (f" over {these}" if resumed else ""))
        if band != "no interval" and "covered" in s:
            est += f" ({'inside' if s['covered'] else 'outside'} the interval)"
    lines.append(est)
    return "\n".join(lines)


def format_failures(s: dict) -> str:
    """Why the tuned run of :func:`summarize` left systems unsolved, as its Tuner said it for
    the first of them (``""`` when it solved every one): the table says only how many."""
    failures = s.get("failures") or ()
    if not failures:
        return ""
    first = failures[0]
    which = f"system {first['system']}" + (f" ({first['name']})" if first["name"] else "")
    more = (f" ({len(failures) - 1} more in summary.json, \"failures\")"
            if len(failures) > 1 else "")
    return f"not solved by the tuned run: {which}: {first['why']}{more}"


def figure_data(result) -> dict:
    """:func:`experiments.plots.run_data` of the run, with the exact comparators and regret
    curves added where :func:`run` solved every system with every arm
    (``regret[kind]["exact"]``, ``regret[kind]["exact_comparator"]`` at the estimate's
    checkpoints), for :func:`experiments.plots.draw_run`."""
    from .plots import run_data

    data = run_data(result["tuner"])
    C = result["C"]
    if C is None or not C.shape[0] or data["unit"] != "iterations" or result.get("start"):
        # (a continued tuner's curves start at its first run; the exact costs at this one)
        return data
    k = _best_fixed(result)[0]
    columns = {"best_fixed": np.cumsum(C[:, k]), "instance_optimal": np.cumsum(C.min(axis=1))}
    tuned = np.cumsum(_tuned_costs(result, C.shape[0]))
    for kind, comp in columns.items():
        r = data["regret"][kind]
        at = np.asarray(r["rounds"], dtype=int) - 1
        # after Ctrl-C the tuner has a round (or more) the exact costs do not: NaN, not drawn
        known = at < C.shape[0]
        r["exact_comparator"] = np.full(at.shape, np.nan)
        r["exact"] = np.full(at.shape, np.nan)
        r["exact_comparator"][known] = comp[at[known]]
        r["exact"][known] = tuned[at[known]] - comp[at[known]]
    return data
