"""The matrix and right-hand-side files of :mod:`experiments.user_files` (``relaxtune tune``):
:func:`read_matrix` and :func:`read_vector` and their checks — the file types, the Matrix
Market header, the strict pass over its numbers, symmetric storage, a byte-order mark, a NumPy
``.npz`` of dense arrays.  Every name is importable from :mod:`experiments.user_files` as
before; ``experiments.user_files._check_numbers`` replaced there reaches
:func:`_checked_numbers`, which looks it up on that module.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

MATRIX_SUFFIXES = (".mtx", ".mtx.gz", ".npz")
VECTOR_SUFFIXES = (".mtx", ".mtx.gz", ".npy", ".txt")


def _suffix(path: Path, known) -> str:
    name = path.name.lower()
    for s in sorted(known, key=len, reverse=True):
        if name.endswith(s):
            return s
    if not path.exists() and not path.is_symlink():
        # (a pattern that matched nothing, ``relaxtune tune data/*`` on an empty folder, or a
        # name mistyped without its suffix had been "unknown file type"; it is no file at all)
        raise _not_a_file(path)
    if path.is_file():
        _known_elsewhere(path, name, known)
        if _saved_tuner(path):
            raise _tuner_given(path, known)
    raise ValueError(f"{path}: unknown file type; give one of {', '.join(known)}")


def _saved_tuner(path: Path) -> bool:
    """Does ``path`` hold a tuner file (:meth:`bandit.Tuner.save`: JSON tagged with its
    format, gzip-compressed or not, whatever its name)?"""
    import gzip
    import json

    from bandit._tuner_persist import FORMAT

    try:
        with open(path, "rb") as f:
            head = f.read(2)
        if not head or head[:1] not in (b"{", b"\x1f", b" ", b"\n", b"\r", b"\t"):
            return False  # neither JSON nor gzip: not worth reading the file
        data = path.read_bytes()
        if head == b"\x1f\x8b":
            data = gzip.decompress(data)
        payload = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, EOFError):  # (gzip.BadGzipFile is an OSError)
        return False
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def _tuner_given(path: Path, known) -> ValueError:
    """The error of a saved tuner file given where a matrix or a right-hand side is read:
    it had been an "unknown file type", of a file the same command reads with ``--resume``."""
    what, plural = (("a matrix", "matrices") if ".npz" in known
                    else ("a right-hand side", "right-hand sides"))
    return ValueError(f"{path}: a saved tuner file (Tuner.save; relaxtune tune writes one as "
                      f"tuner.json), not {what}: draw its run with 'relaxtune plot {path}', "
                      f"or continue it on new systems with 'relaxtune tune MATRIX ... "
                      f"--resume {path}'; {plural} are read from {', '.join(known)}")


def _numpy_shape(path: Path):
    """The shape of the NumPy ``.npy`` array in ``path`` (read from its header only), or
    ``None`` if it is not one."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False).shape
    except Exception:  # not a .npy, or one of objects: the generic message stands
        return None


def _known_elsewhere(path: Path, name: str, known) -> None:
    """Raise the error of a file whose type ``relaxtune tune`` reads, given where it does
    not (a dense ``.npy`` as a matrix, a ``.npz`` as a right-hand side): it had been an
    "unknown file type", of a type the same command reads one argument further."""
    if name.endswith(".npy") and ".npz" in known:
        shape = _numpy_shape(path)
        if shape is None:
            return
        if len(shape) == 1 or (len(shape) == 2 and 1 in shape):
            raise ValueError(f"{path}: a NumPy vector of {max(shape)} entries (.npy), not a "
                             f"matrix: a right-hand side goes in --rhs; matrices are read from "
                             f"{', '.join(known)}")
        what = ("a dense " + " × ".join(map(str, shape)) + " NumPy array (.npy)"
                if len(shape) == 2 else f"a NumPy array of shape {shape} (.npy)")
        raise ValueError(f"{path}: {what}: matrices are read from {', '.join(known)} (sparse "
                         f"files); save it with scipy.sparse.save_npz(path, "
                         f"scipy.sparse.csr_matrix(A)), or as Matrix Market (scipy.io.mmwrite)")
    if name.endswith(".npz") and ".npy" in known:
        raise ValueError(f"{path}: a .npz archive (a matrix file, or np.savez of arrays), not "
                         f"a right-hand side: a system's matrix goes in MATRIX; save each "
                         f"right-hand side as its own file, np.save(path, b) (.npy), and give "
                         f"them with --rhs in order")


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
        raise ValueError(f"{path}: cannot read it as .mtx: "
                         + _bad_entry_line(rest, skipped, width, layout, field, exc)) from None
    if values.size and values.shape[1] != width:
        raise ValueError(
            f"{path}: its entry lines hold {values.shape[1]} numbers each, and a {layout} "
            f"{field} file has {width} (the header says {field}: "
            + ("complex values under a 'real' header would lose their imaginary parts"
               if values.shape[1] > width else "a line is missing its value") + ")")
    if layout == "coordinate" and values.size and values[:, :2].min() < 1:
        raise ValueError(f"{path}: " + _zero_based(rest, skipped))
    if field == "integer" and values.size and not np.all(values[:, -1]
                                                         == np.round(values[:, -1])):
        raise ValueError(f"{path}: an 'integer' file holds non-integer values; write it as "
                         f"'real'")


def _zero_based(rest: bytes, skipped: int) -> str:
    """The first entry line with a row or column index below 1, in the file's terms: a file
    written with 0-based indices (as Python counts) had been refused in scipy's words, "Row
    index out of bounds", which does not say that Matrix Market counts from 1."""
    for number, raw in enumerate(rest.split(b"\n"), skipped + 1):
        fields = raw.split(b"%", 1)[0].split()
        if len(fields) >= 2 and min(float(fields[0]), float(fields[1])) < 1:
            text = raw.decode("utf-8", errors="replace").strip()
            shown = text if len(text) <= 60 else text[:57] + "..."
            return (f"line {number} ({shown!r}) has an index below 1; Matrix Market numbers "
                    f"rows and columns from 1 (written with 0-based indices, as Python "
                    f"counts? add 1 to every index, or write the file with scipy.io.mmwrite)")
    return "an index is below 1; Matrix Market numbers rows and columns from 1"


def _bad_entry_line(rest: bytes, skipped: int, width: int, layout: str, field: str,
                    exc: Exception) -> str:
    """The first entry line NumPy's strict reader refused, said in the file's terms: its
    line number in the file, its text and what is wrong with it.  NumPy's own message
    counts rows from the first entry line and advises ``usecols``, an option the user of
    ``relaxtune tune`` does not have; a last line cut short (a file copied or written while
    its writer was still at work) is said to be one."""
    lines = rest.split(b"\n")
    count = f"{width} number{'s' if width != 1 else ''} a line for a {layout} {field} file"
    for number, raw in enumerate(lines, skipped + 1):
        text = raw.split(b"%", 1)[0].decode("utf-8", errors="replace").strip()
        if not text:
            continue
        fields = text.split()
        shown = text if len(text) <= 60 else text[:57] + "..."
        try:
            [float(f) for f in fields]
        except ValueError:
            return (f"an entry is not a number as Matrix Market writes them (line {number}, "
                    f"{shown!r}): a decimal point, not a comma, an exponent with e or E, not "
                    f"Fortran's D, and {count}")
        if len(fields) != width:
            last = not any(r.split(b"%", 1)[0].strip() for r in lines[number - skipped:])
            cut = ("; it is the file's last line and ends without a newline: the file looks "
                   "cut short (copied or read while it was still being written?)"
                   if last and len(fields) < width and not rest.endswith(b"\n") else "")
            return (f"line {number} ({shown!r}) holds {len(fields)} "
                    f"number{'s' if len(fields) != 1 else ''}, and a {layout} {field} file "
                    f"has {width} a line{cut}")
    return (f"an entry is not a number as Matrix Market writes them ({exc}): {count}")


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
        # looked up on experiments.user_files at each call: a replacement set there
        # (a test counting the strict passes) reaches this read
        from .user_files import _check_numbers

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
        if (path / "tuner.json").is_file() and _saved_tuner(path / "tuner.json"):
            raise ValueError(f"{path}: a relaxtune tune folder, not matrices: draw its run "
                             f"with 'relaxtune plot {path}', or continue its tuner on new "
                             f"systems with 'relaxtune tune MATRIX ... --resume "
                             f"{path / 'tuner.json'}'")
        raise ValueError(f"{path}: is a folder; give its files in order (e.g. "
                         f"{path / '*.mtx'})")
    kind = _suffix(path, MATRIX_SUFFIXES)
    if not path.is_file():
        raise _not_a_file(path)
    try:
        info = None if kind == ".npz" else _mm(scipy.io.mminfo, path, kind)
        if info is not None and info[4] == "pattern":
            # scipy reads a pattern as ones: a sparsity pattern, not the user's system
            raise ValueError(f"{path}: a Matrix Market pattern only (no values); the "
                             f"systems need their numbers")
        if info is not None:
            _check_header(path, *info[:4])
            _checked_numbers(path, info[3], info[4])
        M = _load_npz(path) if kind == ".npz" else _mm(scipy.io.mmread, path, kind)
        if info is not None and info[3] == "coordinate" and info[5] != "general":
            _one_triangle(path, info[5])
    except ValueError as exc:
        if str(exc).startswith(f"{path}: ") or "both sides" in str(exc):
            raise
        raise _unreadable(path, kind, exc) from None
    except Exception as exc:  # scipy's readers raise many kinds for a damaged file
        raise _unreadable(path, kind, exc) from None
    if not sp.issparse(M):
        M = sp.csr_matrix(np.atleast_2d(M))
    if np.iscomplexobj(M.data):
        if np.any(M.data.imag):  # (NaN included)
            raise ValueError(f"{path}: complex values with non-zero imaginary parts; the "
                             f"solvers take real matrices (a complex file whose imaginary "
                             f"parts are all exactly zero is read as real)")
        M = M.real  # a real matrix written as complex: the same numbers
    if M.dtype == np.bool_:
        # a boolean sparse matrix is a sparsity pattern (every stored entry reads as 1, a
        # -1 of the user's system as +1), as a Matrix Market pattern file is
        raise ValueError(f"{path}: boolean values, a sparsity pattern only; the systems need "
                         f"their numbers")
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"{path}: the matrix must be square and non-empty, got "
                         f"{'x'.join(map(str, M.shape))}")
    return sp.csr_matrix(M, dtype=np.float64)


def _mm(read, path: Path, kind: str):
    """``read`` (scipy's ``mminfo`` or ``mmread``) of a Matrix Market file.  scipy
    decompresses a name ending in ``.gz`` only, in lower case: a ``.MTX.GZ`` file, taken as
    ``.mtx.gz`` here, had been read as text and refused as "Missing banner"."""
    if kind == ".mtx.gz" and not path.name.endswith(".gz"):
        import gzip

        with gzip.open(path, "rb") as f:
            return read(f)
    return read(path)


def _unreadable(path, kind, exc) -> ValueError:
    """The error of a file its reader failed on: the reader's own words, and a byte-order
    mark at its start, or a compression its name does not say, if there is one."""
    text = str(exc)
    other = _not_numpy(path, kind)
    if other:
        return ValueError(f"{path}: cannot read it as {kind}: {other}")
    if kind == ".npy" and "Object arrays cannot be loaded" in text:
        # np.save of a list NumPy kept as Python objects (integers beyond int64, mixed
        # types): NumPy's words named allow_pickle, which relaxtune does not offer
        return ValueError(f"{path}: an array of Python objects (np.save of a list NumPy could "
                          f"not make numbers of: integers beyond the 64-bit range, or mixed "
                          f"types), which relaxtune does not unpickle; save it as numbers, "
                          f"np.save(path, np.asarray(b, dtype=float))")
    if kind.startswith(".mtx") and isinstance(exc, OverflowError) and "Integer" in text:
        return ValueError(f"{path}: cannot read it as {kind}: {text.rstrip('.')} — an "
                          f"'integer' Matrix Market file holds 64-bit integers; write its "
                          f"numbers under a 'real' header (and scale them if they are beyond "
                          f"about 1.8e308)")
    return ValueError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {exc})"
                      f"{_bom_note(path, kind)}{_gzip_note(path, kind)}")


#: The first bytes of the NumPy files: ``.npz`` is a zip archive (its local-file or, when
#: empty, end-of-archive header), ``.npy`` NumPy's own header.
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_START = b"\x93NUMPY"


def _not_numpy(path: Path, kind: str) -> str:
    """What a ``.npz`` or ``.npy`` file is when it is not one (empty, the other kind, or
    something else), or ``""``.  NumPy's reader takes any file that starts neither as a zip
    nor as a ``.npy`` for a pickle, and its refusal had been passed on as the file's
    problem: "This file contains pickled (object) data. If you trust the file you can load
    it unsafely using the `allow_pickle=` keyword argument", advice relaxtune does not
    offer, for a file that is no pickle (a text file, a file cut off at 0 bytes)."""
    if kind not in (".npz", ".npy"):
        return ""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return ""
    writer = ("scipy.sparse.save_npz writes a zip archive" if kind == ".npz"
              else "np.save writes a file that starts with NumPy's header")
    if not head:
        return f"the file is empty (0 bytes; {writer}): was it written in full?"
    if kind == ".npz" and head.startswith(_ZIP_STARTS):
        return ""
    if kind == ".npy" and head.startswith(_NPY_START):
        return ""
    if kind == ".npz" and head.startswith(_NPY_START):
        return ("a NumPy .npy array (np.save), not a .npz archive: a matrix file is written "
                "with scipy.sparse.save_npz(path, scipy.sparse.csr_matrix(A))")
    if kind == ".npy" and head.startswith(_ZIP_STARTS):
        return ("a zip archive (a .npz: np.savez or scipy.sparse.save_npz), not a .npy "
                "array: save a right-hand side with np.save(path, b)")
    text = head.startswith((b"%%Matrix", b"%%matrix")) and "a Matrix Market file (name it .mtx)"
    return f"not a {kind} file ({writer}; this one does not start as one{': ' + text if text else ''})"


def _gzip_note(path: Path, kind: str) -> str:
    """What to do when a Matrix Market file's name and its compression disagree (gzip's
    magic bytes under ``.mtx``, plain text under ``.mtx.gz``), or ``""``."""
    if not kind.startswith(".mtx"):
        return ""
    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
    except OSError:
        return ""
    if gz and kind == ".mtx":
        return f"; the file is gzip-compressed: name it {path.name}.gz (relaxtune reads .mtx.gz)"
    if not gz and kind == ".mtx.gz":
        return (f"; the file is not gzip-compressed: name it without .gz, or compress it "
                f"(gzip)")
    return ""


def _ragged_txt(path):
    """The numbers of a text file whose lines hold different counts of them (a vector
    written a few numbers a line with a shorter last line, as Fortran's list-directed output
    does), in order, or ``None`` if some entry is not a number.  NumPy's reader takes only
    a table of equal rows, and had refused such a file ("the number of columns changed")."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        return np.array([float(f) for line in text.splitlines()
                         for f in line.split("#", 1)[0].split()], dtype=np.float64)
    except (OSError, ValueError):
        return None


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
    sparse_file = False
    other = _not_numpy(path, kind)  # np.load would take a zip named .npy for a .npz
    if other:
        raise ValueError(f"{path}: cannot read it as {kind}: {other}")
    try:
        if kind == ".npy":
            v = np.load(path, allow_pickle=False)
        elif kind == ".txt":
            # (utf-8-sig: a byte-order mark, as Windows editors write, had been refused as
            # "could not convert string '\ufeff1.0' to float64")
            v = np.loadtxt(path, dtype=np.float64, ndmin=1, encoding="utf-8-sig")
        else:
            info = _mm(scipy.io.mminfo, path, kind)
            _checked_numbers(path, info[3], info[4])
            v = _mm(scipy.io.mmread, path, kind)
            sparse_file = sp.issparse(v)
            v = v.toarray() if sparse_file else np.asarray(v)
    except ValueError as exc:
        if str(exc).startswith(f"{path}: "):
            raise
        if kind != ".txt":
            raise _unreadable(path, kind, exc) from None
        v = _ragged_txt(path)  # lines of unequal counts of numbers: read in order
        if v is None:  # the first bad line in the file's terms, not NumPy's words
            from ._user_files_contexts import _contexts_problem

            raise ValueError(f"{path}: cannot read it as .txt: "
                             f"{_contexts_problem(path, exc)}; a right-hand side's .txt "
                             f"file holds numbers separated by spaces or line breaks, "
                             f"'#' starting a comment") from None
    except Exception as exc:
        raise _unreadable(path, kind, exc) from None
    v = np.asarray(v)
    if v.ndim == 2 and 1 in v.shape:
        v = v.ravel()
    if v.ndim == 2 and v.shape == (n, n) and n > 1 and sparse_file:
        # a sparse square matrix, most likely a system's matrix given as a right-hand side
        # (MATRIX and --rhs swapped): it had been told to split its "144 right-hand sides"
        raise ValueError(f"{path}: a sparse {n} × {n} matrix (a Matrix Market coordinate "
                         f"file), not a right-hand side: a system's matrix goes in MATRIX, its "
                         f"right-hand side (a vector of {n} entries) in --rhs")
    if v.ndim == 2 and n in v.shape:  # several right-hand sides in one file
        k = v.shape[1] if v.shape[0] == n else v.shape[0]
        raise ValueError(f"{path}: {k} right-hand sides of {n} entries in one file (shape "
                         f"{v.shape}); relaxtune tune takes one right-hand side per file: "
                         f"save each column as its own file and give them in order "
                         f"(--rhs b1.npy b2.npy ...; one matrix is solved for each)")
    if v.ndim != 1 or v.size != n:
        raise ValueError(f"{path}: a vector of {n} entries was expected (the size of its "
                         f"matrix), got shape {v.shape}")
    if np.iscomplexobj(v) and not np.any(v.imag):  # (NaN is not zero)
        v = v.real  # a real vector saved as complex: the same numbers
    if np.iscomplexobj(v) or not np.issubdtype(v.dtype, np.number):
        raise ValueError(f"{path}: the right-hand side must be real numbers, got {v.dtype}"
                         + (" with non-zero imaginary parts (a complex file whose imaginary "
                            "parts are all exactly zero is read as real)"
                            if np.iscomplexobj(v) else ""))
    v = v.astype(np.float64)
    if not np.all(np.isfinite(v)):
        bad = int(np.sum(~np.isfinite(v)))
        first = int(np.argmax(~np.isfinite(v)))
        # a number written beyond the double range (1e400, or an integer of 400 digits) reads
        # as Inf: the file holds no Inf, and had been said to
        note = ("" if np.isnan(v[first]) else
                "; a number beyond double precision's range (such as 1e400) reads as Inf")
        raise ValueError(f"{path}: {bad} {'entry is' if bad == 1 else 'entries are'} not "
                         f"finite (NaN or Inf), the first at entry {first + 1}{note}")
    from solvers._checks import check_vector_norm

    try:  # a norm beyond the double range (entries near 1e308): refused before any solve
        check_vector_norm(v, n, "b", copy=False)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return v

