"""The prepared CSR operator shared by every solver (its input checks: :mod:`solvers._checks`)."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from . import _kernels, _kernels_prep as _prep
from ._checks import _to_csr
from ._operator_refresh import _CSR_TYPES, OperatorRefresh, _nonfinite

#: The solvers scale a matrix whose largest entry is beyond ``2**LOG2_DOWN`` (4.1e180) down
#: by a power of two until it is below (:meth:`CSROperator.scaled_down`).  Below, with ``‖b‖``
#: in ``[2**-100, 2**100]`` (the solvers scale ``b`` into it) and the iterates' residuals
#: within ``dtol`` = 1e12 (2**40) of it, ``‖A p‖ <= (row entries) · 2**600 · 2**140`` and
#: ``pᵀAp <= ‖A‖ ‖p‖² <= 2**32 · 2**600 · 2**280 = 2**912`` stay in range for rows of fewer
#: than 2**32 entries; above, on the 12 × 12 Laplacian times 3.9e307, CG's ``pᵀAp`` had
#: overflowed.
LOG2_DOWN = 600

_EMPTY_INDEX = np.empty(0, dtype=np.int64)
_EMPTY_VALUES = np.empty(0)

__all__ = ["CSROperator", "prepare"]


class SplitPattern(NamedTuple):
    """Index arrays of the split triangles of one sparsity pattern
    (:func:`_kernels_prep.split_pattern`; values in :meth:`CSROperator.split_triangles`)."""

    lp: np.ndarray  #: far lower triangle (j < i − 1): CSR row pointers
    li: np.ndarray  #: ... and column indices
    up: np.ndarray  #: far upper triangle (j > i + 1): CSR row pointers
    ui: np.ndarray  #: ... and column indices
    lk: np.ndarray  #: position in ``data`` of each far lower entry
    uk: np.ndarray  #: position in ``data`` of each far upper entry
    lnear_k: np.ndarray  #: position in ``data`` of ``a_{i,i−1}`` (−1: not stored)
    unear_k: np.ndarray  #: position in ``data`` of ``a_{i,i+1}`` (−1: not stored)
    finish: np.ndarray  #: the last stored column of row ``i``, at least ``i``


class CSROperator(OperatorRefresh):
    """A square sparse matrix converted once into the arrays the kernels need.

    Converting a matrix (to canonical CSR float64, locating the diagonal, checking entries) costs
    several passes over it; a simulation that solves with the same matrix for several ω, or the
    bandit's audit rounds, should pay that once.  Every solver accepts a ``CSROperator`` in place
    of ``A``.

    Parameters
    ----------
    A : scipy sparse matrix/array, dense ndarray or CSROperator
        Square, real, finite.  

    Attributes
    ----------
    indptr, indices, data : ndarray
        Canonical CSR (sorted column indices, duplicates summed, explicit zeros kept) with
        unsigned (uint32, or uint64 for huge matrices) index arrays.
    diag_ptr, has_diagonal : ndarray
        Position of ``a_ii`` in ``data`` for each row, and whether the row stores it.
    diagonal : ndarray
        ``a_ii`` (0 where missing).
    bandwidth : int
        ``max_i (last column of row i − i)``: how far SOR's in-sweep residual lags the sweep.

    Examples
    --------
    >>> from solvers import prepare, sor, gallery
    >>> op = prepare(gallery.laplacian_2d(8))
    >>> op.shape, op.bandwidth
    ((64, 64), 8)
    >>> b = op.matrix @ np.ones(64)
    >>> [sor(op, b, w).iterations for w in (1.0, 1.5)]  # prepared once, solved twice
    [139, 33]
    """

    def __init__(self, A):
        if isinstance(A, CSROperator):
            self.__dict__.update(A.__dict__)
            return
        csr = _to_csr(A)
        n = csr.shape[0]
        self.n = n
        self.shape = (n, n)
        self.nnz = int(csr.nnz)
        # unsigned indices: see solvers/_kernels.py (Numba skips its negative-index test)
        idx_dtype = np.uint32 if max(self.nnz, n) < np.iinfo(np.uint32).max else np.uint64
        for attempt in range(2):
            # entries beyond indptr[-1] (arrays of a preallocated capacity) are no entries:
            # scipy's nnz and products stop there, and they were never checked
            nnz = int(csr.indptr[-1])
            self.indptr = np.array(csr.indptr, dtype=idx_dtype)
            self.indices = np.array(csr.indices[:nnz], dtype=idx_dtype)
            self.data = np.array(csr.data[:nnz], dtype=np.float64)
            self.diag_ptr = np.zeros(n, dtype=idx_dtype)  # meaningful only where has_diagonal
            self.has_diagonal = np.zeros(n, dtype=bool)
            self.diagonal = np.zeros(n)
            canonical, nonfinite, bandwidth = _kernels.analyse_csr(
                self.indptr, self.indices, self.data, self.diag_ptr, self.has_diagonal,
                self.diagonal)
            if nonfinite:
                raise _nonfinite(nonfinite, self.indptr, self.indices, self.data)
            if canonical:
                break
            csr = sp.csr_array(csr, copy=True)
            # scipy skips the sort when the flags say sorted, and they are the caller's to get
            # wrong (a copy may keep them): analyse_csr has just found them false
            csr.has_sorted_indices = False
            csr.sum_duplicates()  # sorts indices and sums duplicates; explicit zeros stay
        else:
            raise AssertionError("a CSR matrix was still not canonical after sum_duplicates")
        self.nnz = int(self.data.size)
        self.bandwidth = int(bandwidth)
        self._ring = None  # depends on the pattern only
        self._pattern = {}  # pattern-only index arrays shared by with_values() copies
        self._invalid = None  # why this operator may not be used (see _refresh)
        self._scratch = False  # made by prepare(..., overwrite=True): the next may overwrite it
        self._values = None  # the value buffer of the split triangles (see _values_pattern)
        self._layout = None  # (that buffer, the diagonal and split triangles in it): _adopt
        self._checks = None  # the checks' results of the values in that buffer: _adopt
        self._stale = False  # whether that buffer's triangles hold older values (_check_csr)
        #: whether split_triangles() was asked for since the values' refresh: the next
        #: in-place refresh places the values only then (_refresh_in_place)
        self._split_asked = False
        #: Bumped by every in-place refresh of the values (``prepare(..., overwrite=True)``):
        #: whoever caches work on these values (a preconditioner's set-up) compares it.
        self.values_version = 0
        self._reset_value_caches()

    #: The power of two a :meth:`scaled_down` copy's values were scaled down by (0: none).
    _shift = 0
    #: (class defaults for operators pickled before them: see __init__)
    _stale = False
    _split_asked = False
    #: ``(k, the copy scaled by 2^-k or None)`` of the current values, or None
    #: (a class default for operators pickled before it): see :meth:`scaled_down`
    _down = None

    def __getstate__(self):
        # the diagonal and the split triangles are views of the value buffer, which a copy
        # (pickle, deepcopy) turns into arrays of their own: the copy's next refresh writes
        # its buffer and must make its views anew
        return dict(self.__dict__, _layout=None, _down=None)

    def __copy__(self):
        # a shallow copy shares the value buffer: an in-place refresh of either would change
        # the other's values behind its caches, so the copy is never refreshed in place
        new = object.__new__(CSROperator)
        new.__dict__.update(self.__getstate__(), _scratch=False)
        return new

    def _value_caches(self, data):
        """What :meth:`_reset_value_caches` drops that values equal bit for bit to the
        current ones (arriving in the array ``data``) keep."""
        return (self._down, self._sor_mirror, self._reversed, self._flush, self._derived,
                self._matrix if data is self.data else None)

    def _restore_value_caches(self, caches):
        (self._down, self._sor_mirror, self._reversed, self._flush, self._derived,
         self._matrix) = caches

    def _reset_value_caches(self):
        self._sor_mirror = None
        self._symmetry = None
        self._matrix = None
        self._reversed = None
        self._inv_diagonal = None
        self._split = None
        self._diag_check = None
        self._flush = None  # see solvers._fpmode.flush_safe
        self._derived = None  # see derived()
        self._down = None  # (k, the copy scaled by 2^-k): see scaled_down()

    def derived(self) -> dict:
        """A dict where other parts of the solvers keep what they build from this operator's
        current values (the PETSc backend: its converted Mat, per communicator); a new, empty
        dict after every change of the values and in every :meth:`with_values` copy."""
        if self._derived is None:
            self._derived = {}
        return self._derived

    def down_shift(self) -> int:
        """The power of two ``k`` by which the solvers scale this matrix down before solving
        (``A / 2**k`` and ``b / 2**k``: the same solution), 0 for every matrix whose largest
        entry is at most ``2**LOG2_DOWN``; see :meth:`scaled_down`.  Read off the value
        checks' ``max |a_ij|`` when they have run (a refresh, the split triangles), else one
        compiled pass over the values without a copy; cached with the values."""
        down = self._down
        if down is None:
            checks = self._checks
            if checks is not None:
                amax = float(checks[0])
            elif _prep.beyond(self.data, 2.0 ** LOG2_DOWN):
                amax = float(np.abs(self.data).max())
            else:
                amax = 0.0  # (at most 2**LOG2_DOWN: not scaled)
            k = max(math.frexp(amax)[1] - LOG2_DOWN, 0) if amax > 2.0 ** LOG2_DOWN else 0
            down = self._down = (k, None)
        return down[0]

    def scaled_down(self) -> "CSROperator":
        """This operator with its values times ``2**-k``, ``k = down_shift()`` (``self`` when
        ``k`` is 0): made once per values (cached with them, dropped by every refresh), on
        the same pattern arrays.

        On entries near the double range (a row's absolute sum beyond ~1e301) the products
        ``A p`` and ``pᵀAp`` of CG overflow, and iterates ``x`` of ``b / A`` lie near the
        bottom of the range; scaled so that ``max |a_ij|`` lies in ``[2**(LOG2_DOWN − 1),
        2**LOG2_DOWN)``, with ``b`` scaled alike, the same system is solved at an ordinary
        scale.  A power of two rounds nothing (an off-diagonal entry more than ``2**1000``
        times smaller than the largest may lose bits as a subnormal number: a change below
        ``2**-1000`` of ``max |a_ij|``).  A diagonal entry that would lose bits so (entries
        spanning more than about ``2**1000``: ``diag(4e307, 1e-300)``) is refused with a
        ``ValueError`` naming it: the copy would hold another matrix — a zero diagonal
        entry where ``A`` has ``1e-300``, which SOR refused as a zero of ``A`` and CG
        stopped as "diverged" on."""
        k = self.down_shift()
        if not k:
            return self
        k, new = self._down
        if new is None:
            new = object.__new__(CSROperator)
            new.__dict__.update(self.__dict__)  # pattern arrays are shared, never written
            new._invalid, new._scratch = None, False
            new._values = new._layout = new._checks = None
            new._reset_value_caches()
            with np.errstate(under="ignore"):
                new.data = np.ldexp(self.data, -k)
                new.diagonal = np.ldexp(self.diagonal, -k)
                lost = np.flatnonzero(np.ldexp(new.diagonal, k) != self.diagonal)
            if lost.size:
                raise _lost_diagonal(self, new, k, lost)
            new._symmetry = self._symmetry  # (a scale's ratio: unchanged)
            new.values_version = 0
            new._shift = k
            self._down = (k, new)
        return new

    def with_values(self, A) -> "CSROperator":
        """Operator for ``A`` reusing this one's sparsity pattern when ``A`` has the same one
        (``prepare(A, like=self)``; this operator is left as it is).

        A simulation that re-assembles the same stencil every step (``A = I − α(t) K``) passes
        a matrix with identical ``indptr``/``indices`` (new arrays are fine): then only the
        value-dependent work is redone, in one compiled call
        (:func:`_kernels_prep.refresh_values`) that compares the pattern entry by entry and
        checks the values, places them in the split triangles and the diagonal, inverts the
        diagonal and checks the symmetry; the pattern's index arrays (mirror index, split
        layout, where each entry goes) are computed once per pattern and shared.  Any other
        input gets a full :func:`prepare`.

        Examples
        --------
        >>> from solvers import gallery
        >>> op = prepare(gallery.crank_nicolson_2d(8, 0.01))
        >>> op2 = op.with_values(gallery.crank_nicolson_2d(8, 0.02))
        >>> op2.indices is op.indices, float(op2.diagonal[0]) > float(op.diagonal[0])
        (True, True)
        """
        if isinstance(A, CSROperator):
            return _usable(A)
        if self._fits(A):
            new = object.__new__(CSROperator)
            new.__dict__.update(self.__dict__)  # pattern arrays are shared, never written
            new._invalid, new._scratch = None, False
            new._values = new._layout = None
            if new._refresh(A, alias=False):
                return new
        return CSROperator(A)

    @property
    def matrix(self) -> sp.csr_array:
        """The operator as a scipy CSR array (built on first use; shares ``data``)."""
        if self._matrix is None:
            self._matrix = sp.csr_array((self.data, self.indices.astype(np.int64),
                                         self.indptr.astype(np.int64)), shape=self.shape)
        return self._matrix

    @property
    def inv_diagonal(self) -> np.ndarray:
        """``1 / a_ii`` (0 where the diagonal is zero, missing or too small to invert), cached: the kernels multiply
        instead of dividing once per row and sweep."""
        if self._inv_diagonal is None:
            inv = np.zeros(self.n)
            np.divide(1.0, self.diagonal, out=inv,
                      where=np.abs(self.diagonal) > _prep.TINY_DIAGONAL)
            self._inv_diagonal = inv
        return self._inv_diagonal

    def split_triangles(self):
        """The strictly lower and upper triangles for the triangular solves (cached):
        ``((lp, li, ld, lnear), (up, ui, ud, unear))``.

        ``lnear[i] = a_{i,i−1}`` and ``unear[i] = a_{i,i+1}`` (0 where not stored) are dense;
        ``(lp, li, ld)`` and ``(up, ui, ud)`` are CSR arrays of the remaining, *far* entries
        (``j < i − 1`` and ``j > i + 1``).  A triangular solve waits on the row just solved, and
        reading that neighbour's coefficient from a dense array saves testing for it in every
        row.  The pattern part is computed once per sparsity pattern and shared by
        :meth:`with_values` copies.

        Examples
        --------
        >>> from solvers import gallery
        >>> (lp, li, ld, lnear), (up, ui, ud, unear) = prepare(gallery.laplacian_2d(3)).split_triangles()
        >>> lnear.tolist(), li.tolist()  # a_{i,i-1}; the far lower entries are a_{i,i-3}
        ([0.0, -1.0, -1.0, 0.0, -1.0, -1.0, 0.0, -1.0, -1.0], [0, 1, 2, 3, 4, 5])
        """
        self._split_asked = True  # (the next in-place refresh places the values with them)
        layout = self._layout
        if self._split is None and self._stale and layout is not None and (
                layout[0] is self._values and layout[1] is self.diagonal
                and self._invalid is None and self._checks is not None):
            # values checked by _check_csr, its diagonal in the buffer: the triangles placed
            _prep.place_values(self.data, self._pattern["values"][0], layout[0])
            self._split, self._stale = layout[2], False
            if self._checks[1] == 0.0 and isinstance(self._pattern.get("sor_mirror"),
                                                     np.ndarray):
                self._sor_mirror = layout[2][0][2]  # exactly symmetric: the far lower values
        if self._split is None:
            # the layout of a refreshed operator (_refresh), which the sweeps read faster than
            # separate arrays: one buffer [far lower | far upper | a_{i,i−1} | a_{i,i+1} |
            # diagonal | 0], filled, checked and the diagonal inverted in one compiled call
            slot, umirror, lonely, nl, nu = self._values_pattern()
            values, inv = np.zeros(nl + nu + 3 * self.n + 1), np.empty(self.n)
            checks = _prep.refresh_values(self.indptr, self.indices, self.data, self.indptr,
                                          self.indices, slot, values, umirror, lonely, inv)
            assert not (checks[0] or checks[1])  # its own pattern; finite (checked by __init__)
            self._adopt(values, inv, checks[2:])
        return self._split

    def split_pattern(self) -> SplitPattern:
        """Index arrays of the split triangles, once per pattern (:func:`_kernels_prep.split_pattern`)."""
        pattern = self._pattern.get("split")
        if pattern is None:
            n, nnz = self.n, self.nnz
            lp, up = np.empty(n + 1, self.indptr.dtype), np.empty(n + 1, self.indptr.dtype)
            li, ui = np.empty(nnz, self.indices.dtype), np.empty(nnz, self.indices.dtype)
            lk, uk = np.empty(nnz, np.int64), np.empty(nnz, np.int64)
            lnear_k, unear_k = np.empty(n, np.int64), np.empty(n, np.int64)
            finish = np.empty(n, self.indices.dtype)
            nl, nu = _prep.split_pattern(self.indptr, self.indices, lp, li, lk, up, ui, uk,
                                         lnear_k, unear_k, finish)
            pattern = SplitPattern(lp, li[:nl].copy(), up, ui[:nu].copy(), lk[:nl].copy(),
                                   uk[:nu].copy(), lnear_k, unear_k, finish)
            self._pattern["split"] = pattern
        return pattern

    def sor_finish(self) -> np.ndarray:
        """``finish[i]``: the last stored column of row ``i``, at least ``i`` — the row after
        whose update SOR's in-sweep residual of row ``i`` is final (pattern only, cached)."""
        return self.split_pattern().finish

    def sor_mirror(self):
        """Values ``a_ij`` of the mirrors of the far lower entries ``a_ji`` (aligned with the
        far lower triangle of :meth:`split_triangles`; 0 where not stored), or ``None`` when some
        far upper entry has no stored mirror (cached).  SOR's cheap lower bound on the residual
        needs them (see ``_kernels.sor_lower_bound``); the pattern part is computed once per
        sparsity pattern.
        """
        if self._sor_mirror is None:
            pattern = self._pattern.get("sor_mirror")
            if pattern is None:
                split = self.split_pattern()
                positions = np.empty(split.lk.size, dtype=np.int64)
                complete = _prep.sor_mirror_pattern(split.lk, split.uk, self._mirror(),
                                                    positions)
                pattern = positions if complete else False
                self._pattern["sor_mirror"] = pattern
            if pattern is False:
                self._sor_mirror = False
            else:
                ld = self.split_triangles()[0][2]
                values = np.empty(pattern.size)
                # symmetric values: the far lower triangle itself (the sweep then reads one
                # array where it would stream two)
                self._sor_mirror = ld if _prep.gather_or_zero(self.data, pattern, values,
                                                               ld) else values
        return self._sor_mirror if self._sor_mirror is not False else None

    def reversed(self) -> "CSROperator":
        """``P A P`` with ``P`` the order-reversing permutation (cached).

        Reversing all three CSR arrays reverses the rows and, within each row, the entries, so
        the mapped columns ``n − 1 − j`` stay sorted.
        """
        if self._reversed is None:
            indptr = np.concatenate(([0], np.cumsum(np.diff(self.indptr.astype(np.int64))[::-1])))
            indices = (self.n - 1) - self.indices[::-1].astype(np.int64)
            rev = CSROperator(sp.csr_array((self.data[::-1], indices, indptr), shape=self.shape))
            rev._symmetry = self._symmetry
            self._reversed = rev
        return self._reversed

    def __repr__(self):
        return f"CSROperator(n={self.n}, nnz={self.nnz}, bandwidth={self.bandwidth})"

    def __matmul__(self, x):
        return self.matrix @ x

    # -- checks run lazily, once, by the solvers that need them --------------------------------
    def require_diagonal(self, solver: str, positive: bool = False) -> None:
        """Raise ``ValueError`` naming the first row whose diagonal SOR/SSOR cannot use."""
        if self._diag_check is None:
            self._diag_check = _prep.diagonal_problems(self.has_diagonal, self.diagonal)
        first_bad, n_bad, first_neg, n_neg = self._diag_check
        if n_bad:
            d = float(self.diagonal[first_bad])
            kind = ("missing" if not self.has_diagonal[first_bad] else "explicit zero"
                    if d == 0.0 else f"a_ii = {d:.3g}, too small to invert: 1/a_ii overflows; "
                    "rescale A")
            raise ValueError(
                f"A has a zero or missing diagonal entry in row {first_bad} ({kind}; {n_bad} "
                f"{'row' if n_bad == 1 else 'rows'} in all); {solver} divides by a_ii")
        if positive and n_neg:
            # a Laplacian assembled with the other sign (negative definite) is a common case
            flip = ("; every diagonal entry is negative: if A is negative definite (an "
                    "operator assembled with the other sign), solve (−A) x = −b"
                    if n_neg == self.n else "")
            raise ValueError(
                f"A has a negative diagonal entry a_ii = {self.diagonal[first_neg]:g} in row "
                f"{first_neg}: A is not symmetric positive definite, as {solver} requires"
                + flip)

    def require(self, solver: str) -> None:
        """Raise ``ValueError`` if ``solver`` (a :data:`solvers.SOLVERS` name) cannot use this
        matrix: a zero or missing diagonal entry (``"sor"``, ``"ssor_pcg"``), a negative one
        (``"ssor_pcg"``), a clearly non-symmetric matrix (``"ssor_pcg"``, ``"cg"``).  The
        checks are cached with the values, so a second call costs a few hundred ns.  A matrix
        the solvers would scale down losing a diagonal entry (:meth:`scaled_down`) is
        refused for every solver."""
        _usable(self)
        down = self._down
        if (down[0] if down is not None else self.down_shift()) and (
                self._down[1] is None):
            self.scaled_down()  # (made here once, or refused)
        if solver in ("sor", "ssor_pcg"):
            self.require_diagonal(solver, positive=solver == "ssor_pcg")
        if solver in ("ssor_pcg", "cg"):
            self.require_symmetric(solver)

    def asymmetry(self) -> float:
        """``max |a_ij − a_ji| / max |a_ij|`` (cached; 0 for a symmetric matrix)."""
        if self._symmetry is None:
            self._symmetry = float(_kernels.asymmetry_from_mirror(self.data, self._mirror()))
        return self._symmetry

    def _mirror(self) -> np.ndarray:
        """Position of ``a_ji`` for every entry ``a_ij`` (−1 if not stored), per pattern."""
        mirror = self._pattern.get("mirror")
        if mirror is None:
            mirror = np.empty(self.nnz, dtype=np.int64)
            _kernels.mirror_positions(self.indptr, self.indices, mirror)
            self._pattern["mirror"] = mirror
        return mirror

    def require_symmetric(self, solver: str, rtol: float = 1e-10) -> None:
        """Raise ``ValueError`` if A is clearly not symmetric."""
        asym = self.asymmetry()
        if asym > rtol:
            hint = self._one_triangle() or (
                # float32 rounding is 6e-8: a_ij and a_ji assembled apart in single precision
                "; an asymmetry this small is usually rounding in the assembly (a_ij and a_ji "
                "computed apart, or in float32): if A is meant to be symmetric, pass "
                "(A + A.T) / 2" if asym <= 1e-6 else "")
            raise ValueError(
                f"A is not symmetric (max |a_ij - a_ji| = {asym:.2e} relative to max |a_ij|)"
                f"{hint}; {solver} needs a symmetric positive definite matrix — use sor for "
                "others")

    def _one_triangle(self) -> str:
        """The hint for a symmetric matrix stored as one triangle (some file formats and
        assembly codes keep only that): which triangle ``A`` holds and how to form the full
        matrix; ``""`` if ``A`` has non-zero entries on both sides of the diagonal."""
        rows = np.repeat(np.arange(self.n), np.diff(self.indptr.astype(np.int64)))
        cols, stored = self.indices.astype(np.int64), self.data != 0.0
        lower, upper = np.any(stored & (cols < rows)), np.any(stored & (cols > rows))
        if lower == upper:
            return ""
        side, full = ("upper", "A + sp.triu(A, 1).T") if upper else ("lower", "A + sp.tril(A, -1).T")
        return (f"; A holds only its {side} triangle (no non-zero entry on the other side of "
                f"the diagonal): if it is a symmetric matrix stored as one triangle, pass the "
                f"full matrix, {full}")

    def ring(self) -> np.ndarray:
        """Scratch space for SOR's lagged in-sweep residual (see ``_kernels.sor_solve``)."""
        if self._ring is None:
            self._ring = np.empty(1 << int(self.bandwidth + 1).bit_length())
        return self._ring

    def workspace(self, rows: int) -> np.ndarray:
        """Scratch space of at least ``rows`` vectors of length ``n`` for the kernels' work
        vectors, kept per sparsity pattern (shared by :meth:`with_values` copies).

        Fresh vectors on every solve are first touched page by page: at n = 10⁶ the eight of
        SSOR-PCG cost about as much as five of its iterations.  Sharing is safe because a
        kernel uses the space only within one compiled call, and the kernels hold the GIL.
        """
        work = self._pattern.get("work")
        if work is None or work.shape[0] < rows:
            work = self._pattern["work"] = np.empty((rows, self.n))
        return work


def prepare(A, *, backend: str = "numba", like=None, overwrite: bool = False, comm=None):
    """Validate and convert ``A`` once for repeated solves; the operator every solver accepts.

    Parameters
    ----------
    A : scipy sparse matrix/array, dense ndarray or a prepared operator
        (with ``backend="petsc"`` also a ``petsc4py.PETSc.Mat``).  An operator of the backend
        is returned unchanged.
    backend : {"numba", "petsc"}
        ``"numba"``: a :class:`CSROperator`; ``"petsc"``: a
        :class:`solvers.petsc.PetscOperator` (an AIJ Mat and its KSPs; see docs/petsc.md).
    like : operator, optional
        An operator of the same backend from an earlier call (a simulation's previous step).
        When ``A`` is a scipy CSR matrix with ``like``'s sparsity pattern — compared entry by
        entry, new index arrays are fine — the pattern work is reused and only the values
        are refreshed, in one compiled call (``CSROperator.with_values``); ``like`` itself
        is left as it is.  Any other ``A`` is prepared afresh (a different pattern is found
        before any value is written, so ``like`` is intact then too, even with
        ``overwrite``).
    overwrite : bool, default False
        With ``like``: refresh ``like`` in place (and return it) instead of allocating new
        value arrays, if ``like`` was itself made by a call with ``overwrite=True`` — never an
        operator prepared otherwise (nor a ``copy.copy`` of one, which shares its values), so
        passing ``overwrite=True`` cannot touch an operator you keep.  Such an operator is a working copy for a loop that keeps only the latest
        one (``op = prepare(A, like=op, overwrite=True)``, as ``bandit.Tuner`` does): at
        n = 10⁶ new value arrays cost about as much as the refresh itself.  It shares
        ``A.data`` (no copy, when float64): valid until ``A`` changes.  If ``A`` is
        refused (non-finite entries), the working copy is left unusable (solvers refuse it);
        it still serves as ``like`` for the next call.
    comm : PETSc communicator, optional
        ``backend="petsc"`` only (default ``PETSc.COMM_WORLD``).

    What a refresh checks on every call (and a fresh preparation too): the pattern, entry by
    entry; finiteness of every value; the diagonal (zero, missing or negative entries are
    counted, for the solvers that need them); the symmetry ``max |a_ij − a_ji| / max |a_ij|``
    over every stored entry, exactly.  Per pattern, once: the canonical order, the mirror
    index and the split layout.  (A working copy refreshed with values equal, bit for bit, to
    those it holds keeps its last refresh's results of the value checks: the same results.)

    Examples
    --------
    >>> from solvers import gallery, ssor_pcg
    >>> op = prepare(gallery.crank_nicolson_2d(8, 0.01), overwrite=True)
    >>> for t in (0.02, 0.03):          # a loop re-assembling the matrix every step
    ...     op = prepare(gallery.crank_nicolson_2d(8, t), like=op, overwrite=True)
    >>> ssor_pcg(op, np.ones(49), 1.5).converged
    True
    """
    if backend == "petsc":
        from ._api import _petsc  # (petsc4py is an optional extra: named, with its install)

        return _petsc().prepare(A, comm=comm, like=like, overwrite=overwrite)
    if backend != "numba":
        raise ValueError(f"backend must be 'numba' or 'petsc', got {backend!r}")
    if comm is not None:
        raise ValueError("comm is a PETSc communicator: only with backend='petsc'")
    if isinstance(A, CSROperator):
        return _usable(A)
    if like is None:
        op = CSROperator(A)
    elif not isinstance(like, CSROperator):
        raise ValueError(f"like must be a CSROperator from an earlier prepare (backend "
                         f"'numba'), got {type(like).__name__}")
    elif overwrite and like._scratch:
        # in place, sharing A.data, when A has like's pattern
        if like._fits(A) and like._refresh(A, alias=True):
            return like
        op = CSROperator(A)  # another pattern or another kind of matrix (like is intact)
    else:
        op = like.with_values(A)
    op._scratch = bool(overwrite)
    return op


def _lost_diagonal(op, copy, k, lost) -> ValueError:
    """The refusal of :meth:`CSROperator.scaled_down` when diagonal entries ``lost`` (rows)
    of ``op`` lose bits in the ``copy`` scaled by ``2**-k``."""
    i = int(lost[0])
    amax = float(np.abs(op.data).max())  # (a refusal: one more pass is no matter)
    return ValueError(lost_diagonal_message(f"max |a_ij| = {amax:.3e}", k, i,
                                            float(op.diagonal[i]), lost.size))


def lost_diagonal_message(largest, k, i, value, count) -> str:
    """The message of a matrix whose copy scaled down by ``2**-k`` loses diagonal entries
    (``count`` of them, the first ``a_ii = value``; ``largest`` says how large its largest
    entry is): both backends."""
    with np.errstate(under="ignore"):
        became = math.ldexp(value, -k)
    return (
        f"A's entries span too much of the double range to be solved: its largest, "
        f"{largest}, is beyond 2^{LOG2_DOWN}, so the solvers solve A / 2^{k} "
        f"and b / 2^{k} (the same solution, at a scale where CG's products do not overflow), "
        f"but there the diagonal entry a[{i}, {i}] = {value:.3e} falls below "
        f"the normal range (a[{i}, {i}] / 2^{k} < 2^-1022: it becomes {became:.3e}; "
        f"{count} diagonal entr{'y' if count == 1 else 'ies'} in all): the scaled matrix "
        "would not be A; scale A's rows and columns (D A D with a diagonal D, solving for "
        "D⁻¹ x) so that its entries span less than 2^1000")


def _usable(op: CSROperator) -> CSROperator:
    if op._invalid:
        raise ValueError(f"this operator cannot be used: {op._invalid}; prepare the matrix "
                         "again")
    return op
