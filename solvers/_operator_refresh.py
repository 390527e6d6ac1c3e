"""How a prepared operator takes a re-assembled matrix's values (:class:`OperatorRefresh`, a
part of :class:`solvers._operator.CSROperator`): the pattern compared, every value checked,
placed into the split triangles now or when a solver first asks for them, in one compiled
call (:mod:`solvers._kernels_prep`)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels_prep as _prep

_CSR_TYPES = (sp.csr_matrix, sp.csr_array)


class OperatorRefresh:
    """The refresh of :class:`solvers._operator.CSROperator` (its methods, kept apart: what
    :func:`solvers._operator.prepare` with ``like=`` and the Tuner's working copy run on
    every call)."""

    def _fits(self, A) -> bool:
        """Whether ``A`` is a scipy CSR matrix of this operator's shape and number of entries
        with real values and index arrays in the machine's byte order: a candidate for a
        refresh (which compares the pattern itself, entry by entry)."""
        return (type(A) in _CSR_TYPES and A.shape == self.shape
                and A.data.dtype.kind in "iuf" and A.data.ndim == 1
                and A.indices.dtype.isnative and A.indptr.dtype.isnative
                and A.data.size == self.nnz and A.indices.size == self.nnz
                and A.indptr.size == self.n + 1)

    def _values_pattern(self):
        """Where each entry's value goes in the value buffer (``[far lower | far upper |
        a_{i,i−1} | a_{i,i+1} | diagonal | 0]``), the mirrors of the far upper entries in it
        (the final 0 where not stored) and the far lower entries without a stored mirror;
        once per pattern."""
        pattern = self._pattern.get("values")
        if pattern is None:
            split = self.split_pattern()
            lk, uk, lnear_k, unear_k = split.lk, split.uk, split.lnear_k, split.unear_k
            n, nl, nu = self.n, lk.size, uk.size
            slot = np.empty(self.nnz, dtype=self.indices.dtype)
            slot[lk] = np.arange(nl)
            slot[uk] = nl + np.arange(nu)
            for base, where in ((nl + nu, lnear_k), (nl + nu + n, unear_k)):
                rows = np.flatnonzero(where >= 0)
                slot[where[rows]] = base + rows
            rows = np.flatnonzero(self.has_diagonal)
            slot[self.diag_ptr[rows]] = nl + nu + 2 * n + rows
            mirror = self._mirror()
            lpos = np.full(self.nnz, -1, dtype=np.int64)
            lpos[lk] = np.arange(nl)
            mu = mirror[uk]
            zero = nl + nu + 3 * n  # a slot no entry goes to: stays 0
            umirror = np.where(mu >= 0, lpos[np.maximum(mu, 0)], zero).astype(slot.dtype)
            lonely = np.flatnonzero(mirror[lk] < 0).astype(slot.dtype)
            pattern = self._pattern["values"] = (slot, umirror, lonely, nl, nu)
        return pattern

    def _refresh(self, A, alias: bool) -> bool:
        """Take ``A``'s values into this operator if ``A`` (which :meth:`_fits`) has exactly
        its pattern; ``False``, this operator unchanged, if not.  Updated: the value buffer
        (reused if this operator has one), ``data`` (``A.data`` itself when ``alias`` and it
        is float64, else a copy), the inverse diagonal, and every value check cached.  Raises
        on non-finite entries (this operator is then unusable)."""
        slot, umirror, lonely, nl, nu = self._values_pattern()
        n = self.n
        values, inv = self._values, self._inv_diagonal
        if values is None:  # no entry writes the slots of unstored entries: they stay 0
            values = np.zeros(nl + nu + 3 * n + 1)
        if values is not self._values or inv is None:
            inv = np.empty(n)
        src = A.data
        if src.dtype != np.float64 or not src.flags.c_contiguous:
            src = np.ascontiguousarray(src, dtype=np.float64)
            alias = True  # a copy of our own already
        return self._fill(A, src if alias else None, src, values, inv)

    def _fill(self, A, data, src, values, inv) -> bool:
        """The compiled refresh of :meth:`_refresh` into ``values`` and ``inv`` from ``src``
        (``A.data`` as float64); ``data`` becomes this operator's ``data`` (``None``: a copy
        of ``src``)."""
        slot, umirror, lonely, nl, nu = self._pattern["values"]
        # the buffer and the inverse diagonal hold this operator's checked values (its last
        # refresh or preparation raised nothing): values equal to them bit for bit are not
        # placed and checked again — their checks' results are kept (_adopt)
        kept = getattr(self, "_checks", None) if (
            self._invalid is None and values is self._values and not self._stale
            and inv is self._inv_diagonal) else None
        checks = _prep.refresh_values_kept(A.indptr, A.indices, src, self.indptr, self.indices,
                                           slot, values, umirror, lonely, inv, kept is not None)
        if checks[0]:
            return False  # the pattern differs: nothing was written
        if checks[1]:
            self._invalid = "its refresh was refused (non-finite entries); it holds no matrix"
            self._checks = None
            raise _nonfinite(checks[1], A.indptr, A.indices, src)
        # values equal to the last ones bit for bit: what was made of them holds (the copy
        # scaled down, SOR's mirror values, the reversed operator, the PETSc Mat; the scipy
        # matrix only on the same data array — it shares it)
        kept_caches = self._value_caches(data) if checks[2] and kept is not None else None
        self._reset_value_caches()
        if kept_caches is not None:
            self._restore_value_caches(kept_caches)
        self.values_version += 1
        self._invalid = None
        self._split_asked = False
        self.data = src.copy() if data is None else data
        self._adopt(values, inv, kept if checks[2] else checks[3:])
        return True

    def _refresh_in_place(self, A) -> bool:
        """``prepare(A, like=self, overwrite=True) is self``, for a loop's working copy: take
        the values of ``A`` — a scipy CSR matrix on exactly this operator's pattern, compared
        entry by entry — into this operator's own buffers, with every check of
        :func:`prepare`; ``False`` (nothing written, no error) for any other ``A``, or when
        this operator may not be refreshed in place (not made with ``overwrite=True``).

        The same compiled call as :func:`prepare` (:func:`_kernels_prep.refresh_values`),
        without its dispatch and with the common case's tests merged: at 10⁴ unknowns a solve
        takes a few hundred microseconds, and every Python step of the call shows.  When no
        solver has asked for the split triangles since the last refresh (a loop solving with
        CG or Jacobi-PCG), the values are checked without being placed in them
        (:meth:`_check_csr`: at n = 10⁴ 30–40 % less than the placing refresh) and
        :meth:`split_triangles` places them if a solver asks later; otherwise they are placed
        with the checks, in one call (placing them later costs as much warm, 20 % more with
        the matrix out of the L2 cache: docs/benchmarks.md).  Raises
        ``ValueError`` on non-finite entries (this operator is then unusable until its next
        successful refresh).

        Examples
        --------
        >>> from solvers import gallery, prepare
        >>> op = prepare(gallery.crank_nicolson_2d(8, 0.01), overwrite=True)
        >>> B = gallery.crank_nicolson_2d(8, 0.02)
        >>> op._refresh_in_place(B), op._refresh_in_place(gallery.laplacian_2d(3))
        (True, False)
        """
        layout = self._layout
        data = A.data if type(A) in _CSR_TYPES else None
        if (layout is not None and data is not None and self._scratch
                and layout[0] is self._values and self._inv_diagonal is not None
                and data.dtype == np.float64 and data.ndim == 1 and data.size == self.nnz
                and data.flags.c_contiguous and A.shape == self.shape
                and A.indices.size == self.nnz and A.indptr.size == self.n + 1
                and A.indices.dtype.isnative and A.indptr.dtype.isnative):
            checks = self._checks
            if not self._split_asked and (checks is not None and self._invalid is None
                                          and self.diagonal is layout[1]):
                return self._check_csr(A, data, layout)
            if (checks is None or self._invalid is not None or self._split is not layout[2]
                    or self.diagonal is not layout[1]):
                return self._fill(A, data, data, layout[0], self._inv_diagonal)
            # the loop's usual call: the buffer and the inverse diagonal hold this operator's
            # checked values and views (_adopt). What _fill and _adopt do, without their
            # steps that undo and redo each other (the caches reset, then set again): in the
            # Tuner's call, after a solve has pushed this code and these objects out of the
            # caches, every Python step costs several times its warm time
            inv = self._inv_diagonal
            slot, umirror, lonely = self._pattern["values"][:3]
            out = _prep.refresh_values_kept(A.indptr, A.indices, data, self.indptr,
                                            self.indices, slot, layout[0], umirror, lonely,
                                            inv, True)
            if out[0]:
                return False  # the pattern differs: nothing was written
            if out[1]:
                self._invalid = ("its refresh was refused (non-finite entries); it holds no "
                                 "matrix")
                self._checks = None
                raise _nonfinite(out[1], A.indptr, A.indices, data)
            if not out[2]:
                self._sor_mirror = self._matrix = self._reversed = self._derived = None
                self._flush = self._down = None
            elif data is not self.data:  # the same values: only the scipy matrix, which
                self._matrix = None  # shares the data array, is made anew
            self.values_version += 1
            self._split_asked = False
            self.data = data
            if not out[2]:  # new values: their checks' results (else the kept ones stand)
                checks = self._checks = out[3:]
            amax, worst = checks[0], checks[1]
            self._diag_check = checks[2:6]
            self._symmetry = worst / amax if amax > 0.0 else 0.0
            if worst == 0.0 and isinstance(self._pattern.get("sor_mirror"), np.ndarray):
                self._sor_mirror = layout[2][0][2]  # exactly symmetric: the far lower values
            return True
        return self._scratch and self._fits(A) and self._refresh(A, alias=True)

    def _check_csr(self, A, data, layout) -> bool:
        """:meth:`_refresh_in_place` of a working copy whose split triangles nothing has
        asked for since its last refresh (a loop solving with CG or Jacobi-PCG, which read
        ``A``'s CSR arrays and the diagonal): every check of :func:`prepare` read off ``A``'s values
        (:func:`_kernels_prep.check_values`) without placing them in the split triangles —
        the buffer's diagonal and the inverse diagonal are written, its triangles are stale
        until :meth:`split_triangles` places them (once, when a solver first asks)."""
        pairs = self._pattern.get("pairs")
        if pairs is None:
            mirror = self._mirror()
            own = np.arange(self.nnz)
            pairs = self._pattern["pairs"] = (
                np.where(mirror >= 0, mirror, own).astype(self.indices.dtype),
                own[mirror < 0].astype(self.indices.dtype))
        out = _prep.check_values(A.indptr, A.indices, data, self.indptr, self.indices,
                                 pairs[0], pairs[1], self.diag_ptr, self.has_diagonal,
                                 layout[1], self._inv_diagonal)
        if out[0]:
            return False  # the pattern differs: nothing was written
        if out[1]:
            self._invalid = "its refresh was refused (non-finite entries); it holds no matrix"
            self._checks = None
            raise _nonfinite(out[1], A.indptr, A.indices, data)
        self._sor_mirror = self._matrix = self._reversed = self._derived = None
        self._flush = self._down = self._split = None
        self._stale = True
        self.values_version += 1
        self.data = data
        checks = self._checks = out[2:]
        amax, worst = checks[0], checks[1]
        self._diag_check = checks[2:6]
        self._symmetry = worst / amax if amax > 0.0 else 0.0
        return True

    def _adopt(self, values, inv, checks):
        """Use the value buffer ``values`` and inverse diagonal ``inv`` that
        :func:`_kernels_prep.refresh_values` filled, and the checks it returned: the
        diagonal and the split triangles become views of the buffer (made once per buffer)."""
        layout = self._layout
        if layout is None or layout[0] is not values:
            slot, umirror, lonely, nl, nu = self._values_pattern()
            n, split = self.n, self._pattern["split"]
            d = nl + nu + 2 * n
            layout = self._layout = (
                values, values[d:d + n],
                ((split.lp, split.li, values[:nl], values[nl + nu:nl + nu + n]),
                 (split.up, split.ui, values[nl:nl + nu], values[nl + nu + n:d])))
        self._values, self.diagonal, self._split = layout
        self._inv_diagonal = inv
        self._stale = False
        # (max |a_ij|, max |a_ij − a_ji|, the diagonal's problems, its entries below
        # _prep.SMALL_DIAGONAL) of these values, which a refresh with the same values keeps
        # (_fill)
        self._checks = checks
        amax, worst = checks[0], checks[1]
        self._diag_check = tuple(checks[2:6])
        self._symmetry = worst / amax if amax > 0.0 else 0.0
        if worst == 0.0 and isinstance(self._pattern.get("sor_mirror"), np.ndarray):
            self._sor_mirror = layout[2][0][2]  # exactly symmetric: the far lower values


def _nonfinite(count, indptr, indices, data) -> ValueError:
    """The error for ``count`` non-finite entries of the CSR matrix ``(indptr, indices,
    data)``, locating the first (a NaN from an assembly bug is found by its row and column)."""
    k = int(np.flatnonzero(~np.isfinite(data[:int(indptr[-1])]))[0])
    row = int(np.searchsorted(indptr, k, side="right")) - 1
    return ValueError(f"A contains NaN or Inf ({count} non-finite "
                      f"entr{'y' if count == 1 else 'ies'}); the first is "
                      f"a[{row}, {int(indices[k])}] = {data[k]}")
