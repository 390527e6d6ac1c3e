"""Input checks shared by every solver: the matrix (any scipy format, dense, its indices and
values), right-hand sides and starts, ω, tolerances and scalars.

Each check raises ``ValueError`` or ``TypeError`` naming what is wrong (the shape, the first
non-finite entry, an index out of range, ω outside (0, 2), ...) before any kernel runs; the
kernels index without bounds checks, so nothing unchecked reaches them.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

from . import _kernels_prep as _prep
from ._result import SolveResult

__all__ = ["check_vector", "check_vector_norm", "check_rhs", "check_rhs_start", "check_omega",
           "check_tolerances", "check_dtol", "check_unscaled", "scalar", "MAX_ITER"]

_EMPTY_VALUES = np.empty(0)


def _to_csr(A):
    if sp.issparse(A):
        M = A
    elif isinstance(A, np.ndarray) or isinstance(A, (list, tuple)):
        M = _as_array(A, "A")
        if M.ndim != 2:
            raise ValueError(f"A must be a 2-D matrix, got an array of shape {M.shape}")
    else:
        # a PETSc matrix (or the PETSc backend's operator) is known by its module: petsc4py
        # is an optional extra, not imported to make this message
        petsc = type(A).__module__.startswith(("petsc4py", "solvers.petsc"))
        from scipy.sparse.linalg import LinearOperator  # on this error path only

        if isinstance(A, LinearOperator):
            raise TypeError(
                f"A is a scipy LinearOperator ({type(A).__name__}), which only multiplies: the "
                "solvers read the matrix entries (SOR and SSOR sweep over its rows, the "
                "preconditioners factor it); pass the sparse matrix itself (for "
                "aslinearoperator(M), M)")
        raise TypeError(
            f"A must be a scipy sparse matrix, a dense numpy array or a CSROperator, "
            f"not {type(A).__name__}" + ("; for a PETSc matrix pass backend='petsc'"
                                         if petsc else ""))
    shape = M.shape
    if len(shape) != 2:  # scipy's sparse arrays may be 1-D (and COO n-D)
        raise ValueError(f"A must be a 2-D matrix, got a sparse array of shape {shape}")
    if shape[0] != shape[1]:
        raise ValueError(f"A must be square, got shape {shape}")
    if shape[0] == 0:
        raise ValueError("A is empty (shape (0, 0))")
    if M.dtype.kind == "c" and _imaginary_zero(M):
        # a real system held as complex: exactly the same numbers (LIL and DOK as
        # coordinates, checked below; their own .real converts them to CSR unchecked)
        M = (M.tocoo() if sp.issparse(M) and M.format in ("lil", "dok") else M).real
    _check_dtype(M.dtype, "A", M)
    if sp.issparse(M) and M.format == "dia":
        _check_diagonals(M)
    if sp.issparse(M) and M.format in ("csr", "csc", "bsr", "dia"):
        M = _native(M)
    if sp.issparse(M) and M.format in ("csr", "csc", "bsr"):
        _check_compressed(M)
        if M.format == "csr":
            return M  # CSROperator copies what it keeps and sorts only if needed
    elif sp.issparse(M) and M.format in ("coo", "lil", "dok"):
        # LIL's conversion to CSR copies its column lists unchecked (its own methods check
        # them, lists changed directly are not): LIL and DOK are checked as coordinates
        fmt = M.format.upper()
        if M.format != "coo":
            try:
                M = M.tocoo()
            except ValueError as exc:  # scipy's check of the coordinates it made
                raise ValueError(f"A is not a valid {fmt} matrix: {exc}") from None
        _check_coordinates(M, fmt)
    return sp.csr_array(M, dtype=np.float64)


def _native(M):
    """``M`` (CSR, CSC, BSR or DIA) itself, or a new matrix of its format on copies of its
    arrays in the machine's byte order when some are not (big-endian arrays read from a file,
    which scipy's constructors of these formats keep): the compiled checks and scipy's own
    conversions take native arrays only."""
    arrays = (M.data, M.offsets) if M.format == "dia" else (M.data, M.indices, M.indptr)
    if all(a.dtype.isnative for a in arrays):
        return M
    arrays = tuple(a.astype(a.dtype.newbyteorder("=")) for a in arrays)
    array = {"csr": sp.csr_array, "csc": sp.csc_array, "bsr": sp.bsr_array,
             "dia": sp.dia_array}[M.format]
    return array(arrays, shape=M.shape)


def _check_compressed(M):
    """Raise ``ValueError`` unless the index arrays of the CSR, CSC or BSR matrix ``M``
    describe a matrix of its shape.

    scipy's constructors check only their lengths (the rest is ``check_format(full_check=True)``,
    which may rewrite the caller's arrays), and the kernels index without bounds checks: a
    column index out of range read or wrote outside the vectors (a segmentation fault at best),
    and an index beyond 2³² would wrap in 32-bit index arrays.  One compiled pass over each
    array (:func:`_kernels_prep.compressed_problem`).
    """
    # values assigned after construction are not checked by scipy either: a 2-D data of CSR
    # had reached the kernels (a Numba typing error), a 4-D one of BSR scipy's blocksize
    if np.ndim(M.data) != (3 if M.format == "bsr" else 1):
        raise ValueError(f"A is not a valid {M.format.upper()} matrix: data has shape "
                         f"{np.shape(M.data)}, expected " + ("(blocks, r, c)" if M.format == "bsr"
                                                              else "a vector"))
    if M.format == "bsr":  # block rows and block columns
        (r, c), kind = M.blocksize, "block column"
        major, minor = M.shape[0] // r, M.shape[1] // c
    else:
        kind, (major, minor) = (("column", M.shape) if M.format == "csr"
                                else ("row", M.shape[::-1]))
    indptr, indices = np.asarray(M.indptr), np.asarray(M.indices)
    where = f"A is not a valid {M.format.upper()} matrix"
    if indptr.ndim != 1 or indptr.size != major + 1 or indptr.dtype.kind not in "iu":
        raise ValueError(f"{where}: indptr has shape {indptr.shape} and dtype {indptr.dtype}, "
                         f"expected ({major + 1},) of integers")
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise ValueError(f"{where}: indices has shape {indices.shape} and dtype "
                         f"{indices.dtype}, expected ({indices.size},) of integers")
    problem, at, value = _prep.compressed_problem(indptr, indices, minor)
    if problem == 1:
        raise ValueError(f"{where}: indptr starts at {value}, not 0" if at == 0 else
                         f"{where}: indptr decreases at position {at} ({indptr[at - 1]} then "
                         f"{value})")
    # entries of data: values, or blocks of a BSR matrix (as indptr counts them)
    stored = np.shape(M.data)[0] if M.format == "bsr" else np.size(M.data)
    if problem == 2 or (problem == 0 and int(indptr[-1]) > stored):
        raise ValueError(f"{where}: indptr ends at {int(indptr[-1])}, beyond its "
                         f"{min(indices.size, stored)} entries")
    if problem == 3:
        raise ValueError(f"{where}: {kind} index {value} out of range for shape {M.shape}")


def _check_diagonals(M):
    """Raise ``ValueError`` unless the DIA matrix ``M`` holds one row of ``data`` per entry of
    ``offsets`` (arrays assigned after construction are not checked by scipy: a 1-D ``data``
    had made its conversion fail with an ``IndexError``)."""
    data, offsets = np.asarray(M.data), np.asarray(M.offsets)
    if offsets.ndim != 1 or data.ndim != 2 or data.shape[0] != offsets.size:
        raise ValueError(f"A is not a valid DIA matrix: data has shape {data.shape} and "
                         f"offsets {offsets.shape}, expected (k, m) and (k,)")


def _check_coordinates(M, fmt="COO"):
    """Raise ``ValueError`` unless the row and column arrays of the COO matrix ``M`` are
    integer vectors as long as its values, within its shape.

    scipy's constructor checks them, but arrays assigned afterwards (``M.row = ...``) are not,
    and its conversion to CSR writes at ``indptr[row]`` without bounds checks: a row ``n``
    (1-based numbering) wrote outside the arrays.  A min and a max per array.
    """
    where = f"A is not a valid {fmt} matrix"
    data = np.asarray(M.data)
    for kind, name, coord, size in (("row", "row", M.row, M.shape[0]),
                                    ("column", "col", M.col, M.shape[1])):
        coord = np.asarray(coord)
        if coord.ndim != 1 or coord.dtype.kind not in "iu":
            raise ValueError(f"{where}: {name} has shape {coord.shape} and dtype "
                             f"{coord.dtype}, expected a vector of integers")
        if coord.size != data.size:
            raise ValueError(f"{where}: {name} has {coord.size} entries, data {data.size}")
        if coord.size:
            low, high = int(coord.min()), int(coord.max())
            if low < 0 or high >= size:
                raise ValueError(f"{where}: {kind} index {low if low < 0 else high} out of "
                                 f"range for shape {M.shape}")


def _as_array(value, name: str) -> np.ndarray:
    """``np.asarray(value)``, with NumPy's refusal of nested lists of unequal lengths (rows
    of a matrix or entries of a vector that are sequences of other lengths) named as the
    argument's problem: NumPy's own message names neither the argument nor a row; a masked
    array with masked entries is refused (``np.asarray`` would pass the values under the
    mask, which a mask usually says are missing)."""
    if isinstance(value, np.ma.MaskedArray):
        _check_unmasked(value, name)
    try:
        return np.asarray(value)
    except ValueError:
        raise ValueError(f"{name} cannot be read as an array of numbers: it is a nested "
                         f"sequence of unequal lengths ({type(value).__name__} whose entries "
                         f"are sequences of different sizes, or mix numbers and "
                         f"sequences)") from None


def _check_unmasked(value, name: str,
                    reader: str = "the solvers read every entry, and would use the values "
                                  "under the mask") -> None:
    """Raise ``ValueError`` if the masked array ``value`` has masked entries (a mask of
    ``False`` only, or none, leaves an ordinary array); ``reader`` says what would read the
    values under the mask."""
    mask = np.ma.getmaskarray(value)
    count = int(np.count_nonzero(mask))
    if count:
        first = np.unravel_index(int(np.argmax(mask.ravel())), mask.shape)
        where = first[0] if len(first) == 1 else tuple(int(i) for i in first)
        raise ValueError(
            f"{name} is a masked array with {count} masked entr{'y' if count == 1 else 'ies'} "
            f"(the first at index {where}): {reader}; fill them ({name}.filled(value)) or, if "
            f"the values under the mask are meant, pass {name}.data")


def _check_dtype(dtype, name, values=None):
    if dtype.kind == "b":  # True/False entries are no numbers to solve with (a mask, likely)
        raise ValueError(f"{name} is boolean ({dtype}); relaxtune solves with real numbers: "
                         f"convert it with {name}.astype(float) if its True entries mean 1.0")
    if dtype.kind == "c":
        raise ValueError(f"{name} is complex ({dtype}); relaxtune solves real systems only"
                         f"{_real_hint(values, name)}")
    if dtype.kind == "O":  # Python objects: numbers of mixed types, None, strings, ...
        raise ValueError(f"{name} must have a real numeric dtype, got object (Python objects: "
                         f"a list mixing numbers with None or other types, Fractions, "
                         f"Decimals, a sympy matrix...); if its entries are all real numbers "
                         f"convert it with np.asarray({name}, dtype=float)")
    if dtype.kind not in "iuf":
        raise ValueError(f"{name} must have a real numeric dtype, got {dtype}")


def _shape_of(v):
    """The shape of an array, a sparse matrix, a nested list or a PETSc object (``None`` when
    it has none): for :func:`swapped_arguments`, on an error path only."""
    try:
        if hasattr(v, "getSize") and not hasattr(v, "shape"):  # PETSc Vec (n) or Mat (m, n)
            if not v:  # destroyed: any call on its null handle would kill the process
                return None
            size = v.getSize()
            return tuple(size) if isinstance(size, tuple) else (int(size),)
        shape = getattr(v, "shape", None)
        if shape is None and isinstance(v, (list, tuple)):
            shape = np.shape(v)
        return None if shape is None else tuple(int(k) for k in shape)
    except Exception:  # noqa: BLE001 - an object that does not say: no hint
        return None


def swapped_arguments(A, b, call: str):
    """A ``ValueError`` asking whether ``A`` and ``b`` were swapped when ``A`` has the shape of
    a vector (``(n,)``, ``(n, 1)`` or ``(1, n)``) and ``b`` that of an ``n × n`` matrix, else
    ``None``; ``call`` names the function as the user wrote it.  For the error path of a
    refused ``A``: ``solve(b, A)`` had been told that ``A`` must be a 2-D matrix, which says
    nothing of the cause.

    Examples
    --------
    >>> str(swapped_arguments(np.ones(3), np.eye(3), "sor(A, b, omega)"))[:50]
    'did you swap A and b? A has shape (3,), a vector, '
    >>> swapped_arguments(np.eye(3), np.ones(3), "sor(A, b, omega)") is None
    True
    """
    sa, sb = _shape_of(A), _shape_of(b)
    if sa is None or sb is None or len(sb) != 2 or sb[0] != sb[1]:
        return None
    n = sb[0]
    if not (sa == (n,) or sa in ((n, 1), (1, n))):
        return None
    return ValueError(f"did you swap A and b? A has shape {sa}, a vector, and b {sb}, a "
                      f"matrix: {call} takes the matrix first, then the right-hand side")


def _imaginary_zero(values) -> bool:
    """Whether the complex array or sparse matrix ``values`` has every imaginary part exactly
    zero (a real system built in complex arithmetic, read from a ``complex`` file, or an
    FFT's output): such input is solved as the real system it is, ``values.real``, with
    nothing lost.  A NaN imaginary part is not zero.  One pass over the values."""
    try:
        if sp.issparse(values):  # (LIL's data are lists, DOK's a dict: their coordinates)
            values = (values.tocoo() if values.format in ("lil", "dok") else values).data
        return not np.any(np.asarray(values).imag)  # (NaN counts as non-zero)
    except Exception:  # an object that does not give its values: refused as complex
        return False


def _real_hint(values, name: str) -> str:
    """What a refused complex array holds: its largest imaginary part, and its first non-zero
    one (every caller passes complex input with an exactly zero imaginary part on as real,
    :func:`_imaginary_zero`), or ``""``: one pass over the values, on the refusal's path
    only."""
    if values is None:
        return ""
    try:
        if sp.issparse(values):
            values = values.tocoo()
            imag, where = np.asarray(values.data).imag, (values.row, values.col)
        else:
            imag = np.asarray(values).imag
            where = None
        bad = np.flatnonzero(imag.ravel() != 0)  # (NaN included)
        if not bad.size:
            return ""
        k = int(bad[0])
        if where is not None:
            at = f"({int(where[0][k])}, {int(where[1][k])})"
        else:
            at = np.unravel_index(k, imag.shape)
            at = str(int(at[0])) if len(at) == 1 else str(tuple(int(i) for i in at))
        with np.errstate(invalid="ignore"):
            top = float(np.nanmax(np.abs(imag))) if not np.all(np.isnan(imag.ravel()[bad])) \
                else math.nan
        top = "NaN" if math.isnan(top) else f"{top:.3g}"
        return (f" ({bad.size} entr{'y' if bad.size == 1 else 'ies'} with a non-zero "
                f"imaginary part, the first at index {at}, the largest {top} in "
                f"magnitude; complex input whose imaginary parts are all exactly zero is "
                f"solved as real)")
    except Exception:  # an object that does not give its values: the refusal stands
        return ""


def check_vector(v, n: int, name: str) -> np.ndarray:
    """Return ``v`` as a new contiguous float64 vector of length ``n`` or raise ``ValueError``.

    The same pass as :func:`check_vector_norm`, without the norm: a vector whose sum of
    squares is 0 (a zero start) or out of range is not passed over again for it."""
    return _checked(v, n, name, True)[0]


# A sum of squares in [2^-900, inf) lost nothing to underflow (a square below 2^-1074 is at
# most 2^-174 of it) and did not overflow.
_SUMSQ_LO = 2.0 ** -900


def check_vector_norm(v, n: int, name: str, copy: bool = True) -> tuple[np.ndarray, float]:
    """:func:`check_vector` and the vector's 2-norm, from the same pass (copy, finite check,
    sum of squares in one Numba call: a solve at a few hundred unknowns takes tens of µs).

    With ``copy=False`` a vector that already is a contiguous float64 array of length ``n``
    is returned itself (checked and normed, not copied): for callers that only read it.

    The norm is exact in floating point for any finite vector: when the plain sum of squares
    overflows (entries beyond about 1e154) or may have lost terms to underflow, it is
    recomputed with scaling (``_kernels_prep.scaled_norm``).

    Examples
    --------
    >>> check_vector_norm(np.full(4, 1e200), 4, "b")[1], check_vector_norm([3e-170, 4e-170], 2, "b")[1]
    (2e+200, 5e-170)
    """
    out, sumsq = _checked(v, n, name, copy)
    if _SUMSQ_LO <= sumsq < math.inf:  # no overflow, no loss to underflow
        return out, math.sqrt(sumsq)
    return out, _scaled_norm(out, name)


def _checked(v, n: int, name: str, copy: bool) -> tuple[np.ndarray, float]:
    """``(vector, Σ v²)`` of :func:`check_vector_norm`: the checks, the copy and the plain
    sum of squares in one compiled pass."""
    if type(v) is np.ndarray:
        arr = v
    elif sp.issparse(v):  # np.asarray would make it a 0-d array of dtype object
        raise ValueError(f"{name} is a scipy sparse {type(v).__name__} of shape {v.shape}: the "
                         f"solvers take a dense vector of shape ({n},) (or a column of shape "
                         f"({n}, 1)); pass {name}.toarray().ravel()")
    elif v is None:  # np.asarray(None) is an object array: "got object" said nothing useful
        raise ValueError(f"{name} is None; the solvers take a vector of shape ({n},)")
    elif isinstance(v, SolveResult):  # `x = tuner.solve(...)` then `x0=x`: an object array
        raise ValueError(f"{name} is a SolveResult (what a solve returns), not a vector: pass "
                         f"its solution, {name}=result.x")
    else:
        arr = _as_array(v, name)
        if arr.dtype.kind == "O" and arr.ndim == 0:
            _not_a_vector(v, n, name)
    if arr.dtype != np.float64:
        if arr.dtype.kind == "O":
            _python_ints(arr, name)
        elif arr.dtype.kind == "c" and _imaginary_zero(arr):
            arr = arr.real  # (a real vector held as complex: exactly the same numbers)
        _check_dtype(arr.dtype, name, arr)
        arr = arr.astype(np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:  # a column, as scipy takes it
        arr = arr.ravel()
    elif arr.ndim == 2 and arr.shape[0] == 1 and arr.size == n:  # (scipy refuses a row too)
        # (a np.matrix keeps two dimensions through .ravel(): the advice had not worked)
        flat = (f"np.asarray({name}).ravel()" if isinstance(v, np.matrix)
                else f"{name}.ravel()")
        raise ValueError(f"{name} has shape {arr.shape}, a row: the solvers take a vector of "
                         f"shape ({n},) or a column of shape ({n}, 1), as scipy does; pass "
                         f"{flat}")
    elif arr.ndim == 2 and arr.shape[0] == n and arr.shape[1] > 1:
        raise ValueError(f"{name} has shape {arr.shape}: {arr.shape[1]} columns, while the "
                         f"solvers take one system at a time (as scipy's cg does); solve for "
                         f"each column {name}[:, j] in turn")
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} has shape {np.shape(v)}, expected ({n},) to match A ({n}x{n})")
    if copy or not arr.flags.c_contiguous:
        out = np.empty(n)
        nonfinite, sumsq = _prep.copy_finite(arr, out)
    else:
        out = arr
        nonfinite, sumsq = _prep.finite_sumsq(arr)
    if nonfinite:
        raise ValueError(f"{name} contains NaN or Inf "
                         f"({nonfinite} entr{'y' if nonfinite == 1 else 'ies'})")
    return out, sumsq


def _python_ints(arr: np.ndarray, name: str) -> None:
    """Refuse, saying so, an object array of Python integers (with floats, maybe) that NumPy
    kept as objects because some integer is beyond int64 (``[2**70] * n``, ``10**400``):
    they had met the hint for Python objects of mixed types, and its advice,
    ``np.asarray(b, dtype=float)``, raises ``OverflowError`` on an integer beyond the
    double range.  Anything else is left to :func:`_check_dtype`."""
    values = arr.ravel().tolist()
    if not values or not all(type(v) in (int, float) for v in values):
        return
    big = max((abs(v) for v in values if type(v) is int), default=0)
    if big < 2 ** 63:  # (not why NumPy kept objects)
        return
    if big < 2 ** 1024:  # within the double range
        raise ValueError(f"{name} holds Python integers beyond the int64 range (the largest "
                         f"in magnitude {float(big):.3e}), which NumPy keeps as Python "
                         f"objects; relaxtune solves in double precision: convert it with "
                         f"np.asarray({name}, dtype=float) (16 significant digits kept)")
    raise ValueError(f"{name} holds Python integers beyond the double range (the largest in "
                     f"magnitude has {len(str(big))} digits, about 1e{len(str(big)) - 1}; "
                     f"doubles end at 1.8e308), which relaxtune's double-precision solvers "
                     f"cannot hold, nor np.asarray({name}, dtype=float): scale the system "
                     f"(divide b, and A if needed, by a power of ten) before solving")


def _not_a_vector(v, n: int, name: str):
    """Refuse an object NumPy makes a 0-d object array of: a generator or another iterator,
    a set, a dict, ... (they had met the hint for a list of Python objects, to convert with
    ``np.asarray(b, dtype=float)``, which fails on them too)."""
    import collections.abc as abc

    kind = type(v).__name__
    if isinstance(v, abc.Iterator):
        fix = (f"it is an iterator ({kind}), which NumPy does not read as an array: pass "
               f"np.fromiter({name}, dtype=float) or a list")
    elif isinstance(v, abc.Set):
        fix = f"a {kind} has no order; pass a list or an array in the order of A's rows"
    elif isinstance(v, abc.Mapping):
        fix = (f"NumPy reads a {kind} as one object, not as entries; pass a list or an array "
               f"in the order of A's rows")
    else:
        fix = f"a {kind} is no array of numbers"
    raise ValueError(f"{name} must be a vector of shape ({n},) (an array, a list or a column "
                     f"of shape ({n}, 1)): {fix}")


def _rhs_norm(b, x0, n: int, out):
    """``‖b‖`` when ``b`` is a finite contiguous float64 vector of length ``n`` and ``x0``
    ``None`` or a finite float64 vector of that length (copied into ``out`` unless ``out`` is
    empty), in one compiled call; ``None`` for anything else (the caller's checks then name
    the problem)."""
    if (type(b) is np.ndarray and b.dtype == np.float64 and b.ndim == 1 and b.size == n
            and b.flags.c_contiguous
            and (x0 is None or (type(x0) is np.ndarray and x0.dtype == np.float64
                                and x0.ndim == 1 and x0.size == n))):
        bad_b, sumsq, bad_x = _prep.check_rhs(b, _EMPTY_VALUES if x0 is None else x0, out)
        if not (bad_b or bad_x):
            if _SUMSQ_LO <= sumsq < math.inf:  # no overflow, no loss to underflow
                return math.sqrt(sumsq)
            return _scaled_norm(b, "b")
    return None


def _scaled_norm(v, name: str) -> float:
    """The 2-norm of a finite vector whose plain sum of squares overflowed or underflowed,
    computed scaled; a norm beyond the double range itself (entries near 1e308: ``n = 64``
    entries of 1e308 have ``‖v‖ = 8e308``) is refused.  Its ``inf`` had made the tolerance
    ``rtol·‖b‖`` infinite, and a solve from ``x0 = 0`` returned 0 after 0 iterations as
    converged (a Tuner recorded it as already solved)."""
    norm = float(_prep.scaled_norm(v))
    if norm == math.inf:
        raise norm_overflow(name, float(np.abs(v).max()), v.size)
    return norm


def norm_overflow(name: str, largest: float, size: int) -> ValueError:
    """The refusal of a finite vector whose 2-norm is beyond the double range (both
    backends)."""
    return ValueError(f"{name} is too large: its norm ‖{name}‖ overflows double precision "
                      f"(largest |{name}_i| = {largest:.3e}, {size} entries), so the stopping "
                      f"rule ‖b − A x‖ <= rtol·‖b‖ cannot be evaluated; rescale the system "
                      f"(e.g. divide {name} by 1e10: the solution scales with it)")


def check_rhs(b, x0, n: int):
    """``(b, ‖b‖, x0)`` for a solve of ``n`` unknowns: ``b`` a finite contiguous float64
    vector (the caller's array itself when it is one, else a copy), ``x0`` ``None`` or a
    finite float64 vector of length ``n`` (the caller's array itself when it is one: a solve
    starts from a copy of it); else the ``ValueError`` of :func:`check_vector`.

    The checks of both vectors and ``b``'s sum of squares are one compiled call.

    Examples
    --------
    >>> b, norm, x0 = check_rhs(np.array([3.0, 4.0]), None, 2)
    >>> norm, x0
    (5.0, None)
    """
    norm = _rhs_norm(b, x0, n, _EMPTY_VALUES)
    if norm is not None:
        return b, norm, x0
    b, b_norm = check_vector_norm(b, n, "b", copy=False)  # the message for anything else
    return b, b_norm, None if x0 is None else check_vector(x0, n, "x0")


def check_rhs_start(b, x0, n: int, copy: bool = True):
    """``(b, ‖b‖, x0, x)``: :func:`check_rhs` and, when ``x0`` is given and ``copy``, ``x``
    a new copy of it made in the same compiled pass (else ``None``) — a solve's start vector
    for the cost of reading ``x0`` once (the Tuner's hot path).

    Examples
    --------
    >>> x0 = np.array([1.0, 2.0])
    >>> b, norm, same, x = check_rhs_start(np.array([3.0, 4.0]), x0, 2)
    >>> norm, same is x0, x is x0, x.tolist()
    (5.0, True, False, [1.0, 2.0])
    """
    if not copy or x0 is None:
        return (*check_rhs(b, x0, n), None)
    x = np.empty(n)
    norm = _rhs_norm(b, x0, n, x)
    if norm is not None:
        return b, norm, x0, x
    b, b_norm, x0 = check_rhs(b, x0, n)  # the message for anything else
    return b, b_norm, x0, None if x0 is None else x0.copy()


def check_omega(omega) -> float:
    """Return ``omega`` as float if it lies in the open interval (0, 2), else raise (a 0-d
    array of a real dtype is the number it holds)."""
    if type(omega) is float and 0.0 < omega < 2.0:  # the common case, without ABC checks
        return omega
    omega = scalar(omega)  # np.array(1.5) is a number, as it is for rtol and maxiter
    if not isinstance(omega, numbers.Real) or isinstance(omega, (bool, np.bool_)):
        raise ValueError(f"omega must be a real number in (0, 2), got {omega!r}")
    w = float(omega)
    if not 0.0 < w < 2.0:  # NaN fails too
        raise ValueError(f"omega must lie in the open interval (0, 2), got {omega!r}")
    return w


def check_dtol(dtol) -> float:
    """Return the divergence tolerance ``dtol`` (> 1, ``inf`` allowed) as a float, else raise.

    Examples
    --------
    >>> check_dtol(1e4), check_dtol(float("inf"))
    (10000.0, inf)
    """
    if type(dtol) is float and 1.0 < dtol:  # the common case
        return dtol
    dtol = scalar(dtol)
    if not isinstance(dtol, numbers.Real) or isinstance(dtol, (bool, np.bool_)):
        raise ValueError(f"dtol must be a number > 1, got {dtol!r}")
    d = float(dtol)
    if not d > 1.0:  # NaN fails too
        raise ValueError(f"dtol must be > 1 (the residual growth that means divergence), got {dtol!r}")
    return d


#: The largest iteration cap the Numba kernels accept (their counters are 64-bit integers).
MAX_ITER = int(np.iinfo(np.int64).max)


def scalar(value):
    """The number a 0-d NumPy array of a real dtype holds (``np.array(1e-6)`` is a scalar,
    as ``np.float64(1e-6)`` is); anything else as it is."""
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "fiu":
        return value[()]
    return value


def _real(value, name: str) -> float:
    """``value`` as a float if it is a real number (numpy scalars and 0-d arrays included,
    bools and strings not), else ``ValueError`` naming the parameter."""
    if type(value) is float:
        return value
    value = scalar(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise ValueError(f"{name} must be a real number, got {value!r}")


def check_rtol_below_one(rtol: float) -> None:
    """Refuse ``rtol >= 1``: from ``x0 = 0``, ``‖b − A x0‖ <= rtol·‖b‖`` would already hold,
    so the solve would return ``x0`` unchanged (the solvers' and the Tuner's check)."""
    if rtol >= 1.0:
        raise ValueError(f"rtol must be a number in [0, 1) (0 only with atol > 0), got {rtol!r}: "
                         f"with rtol >= 1 a solve from x0 = 0 counts as already solved and "
                         f"returns x0 unchanged")


def check_tolerances(rtol, atol, maxiter, max_iter: int = MAX_ITER) -> tuple[float, float, int]:
    """Validate the stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` and the cap.

    ``rtol`` and ``atol`` must be finite real numbers >= 0, not both 0, and ``rtol`` below 1
    (from ``x0 = 0`` a larger one holds before any iteration); ``maxiter`` an integer
    in ``[0, max_iter]`` (numpy integers and 0-d arrays are accepted; bools, floats and
    strings are not).

    Examples
    --------
    >>> check_tolerances(np.float32(0.5), 0, np.int64(7))
    (0.5, 0.0, 7)
    >>> check_tolerances("1e-8", 0.0, 10)
    Traceback (most recent call last):
    ...
    ValueError: rtol must be a real number, got '1e-8'
    """
    rtol, atol = _real(rtol, "rtol"), _real(atol, "atol")
    if type(maxiter) is not int:
        maxiter = scalar(maxiter)
    if not (0.0 <= rtol < math.inf and 0.0 <= atol < math.inf):  # NaN fails too
        raise ValueError(f"rtol and atol must be finite and >= 0, got rtol={rtol}, atol={atol}")
    check_rtol_below_one(rtol)
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol cannot both be 0: the stopping rule could never hold")
    if type(maxiter) is not int and (isinstance(maxiter, (bool, np.bool_))
                                     or not isinstance(maxiter, numbers.Integral)):
        raise ValueError(f"maxiter must be a non-negative integer, got {maxiter!r}")
    if maxiter < 0:
        raise ValueError(f"maxiter must be a non-negative integer, got {maxiter!r}")
    if maxiter > max_iter:
        raise ValueError(f"maxiter must be at most {max_iter} (the solver's integer range), "
                         f"got {maxiter!r}")
    return rtol, atol, int(maxiter)


def check_unscaled(actual: float, converged: bool, rnorm: float, scale: int, b_norm: float,
                   rtol: float, atol: float, shift: int = 0) -> float:
    """The residual norm to report, in the caller's units, after a solve of the system
    scaled so that ``x`` is ``2^scale`` times the caller's and ``A``, ``b`` ``2^(scale −
    shift)`` times (``shift``: the power of two a matrix near the double range was scaled
    down by; a right-hand side too large or small to solve as given), from ``actual``, the
    caller's ``‖b − A x‖`` of the ``x`` returned.  ``rnorm`` is the solve's own norm;
    ``b_norm`` and ``atol`` are the caller's.

    A failed solve reports ``actual``; a converged one its own norm unscaled, unless undoing
    the scaling lost the tolerance (entries of ``x`` underflow), which is an error whose
    norms are the caller's.
    """
    own = math.ldexp(rnorm, shift - scale)
    if not converged:
        return actual
    tol = max(rtol * b_norm, atol)
    if not actual <= max(tol, own) * (1.0 + 1e-6):
        # an infinite residual of a finite x: entries of A x (a_ii x_i near 1e308) overflow,
        # where the system was scaled down; it had been said to underflow
        why = ("entries of x underflow" if math.isfinite(actual) else
               "entries of A x overflow, though x itself is finite")
        how = (f"b and x by 2^{scale}" if not shift else
               f"A by 2^{-shift}, b by 2^{scale - shift}, x by 2^{scale}")
        raise ValueError(
            f"the solution of this system cannot be represented in double precision to the "
            f"tolerance (‖b − A x‖ = {actual:.3e} > {tol:.3e} = max(rtol·‖b‖, atol) once the "
            f"solve's scaling ({how}) is undone: {why}); rescale A or b")
    return own
