"""The work model of the solvers (:class:`WorkModel`, :func:`work_model`): the deterministic
cost of a solve in matrix-pass equivalents, counted from their kernels.  Imported from
:mod:`solvers.precond` (and :mod:`solvers`), where they are documented.
"""
from __future__ import annotations

import math
from time import perf_counter
from dataclasses import dataclass

import numpy as np

from . import _kernels_ssor as KS
from ._operator import prepare
from .precond import preconditioner


@dataclass(frozen=True)
class WorkModel:
    """Deterministic cost of one solve in matrix-pass equivalents (``nnz(A)`` multiply–adds).

    ``total(iterations) = setup + fixed + iterations · per_iteration``.  ``setup`` is the work
    of the latest set-up (charge it only to the solve that built it); ``fixed`` covers the
    initial residual, the first preconditioner application and the final true-residual check.

    Examples
    --------
    >>> import solvers
    >>> w = solvers.work_model("sor", solvers.gallery.laplacian_2d(10))
    >>> w.setup, round(w.per_iteration, 3)     # 460 entries: a sweep, and ‖r‖ for the test
    (0.0, 2.478)
    >>> w.total(10) == w.setup + w.fixed + 10 * w.per_iteration
    True
    """

    setup: float
    per_iteration: float
    fixed: float

    def total(self, iterations: int, *, setup: bool = True) -> float:
        """Work of a solve with ``iterations`` iterations (``setup=False``: a reused one)."""
        return (self.setup if setup else 0.0) + self.fixed + iterations * self.per_iteration


def work_model(method: str, A, pc=None) -> WorkModel:
    """Work of the solvers' iterations, counted from their kernels.

    With ``N = nnz(A)``, ``n`` unknowns, ``N_L``/``N_U`` the strictly lower/upper entries,
    in multiply–adds (divide by ``N`` for matrix-pass equivalents):

    ============  ======================================  ==================================
    method        per iteration                           fixed per solve
    ============  ======================================  ==================================
    ``cg``        ``N + 5n``                              ``2(N + n)``
    ``pcg``       ``N + 6n + apply`` (``jacobi``: ``n``;  ``2(N + n) + apply``
                  ``ic0``: ``2(N_L + n)``; ``amg``: the
                  cycle, see :class:`AMG`)
    ``ssor_pcg``  ``2N_U + N_L + 14n`` (Eisenstat form)   ``2N + 2N_U + N_L + 7n``
                  (ω < 1/2: ``N + N_L + N_U + 9n``,       (ω < 1/2: ``2N + N_L + N_U + 6n``)
                  the plain form)
    ``sor``       ``N + N_U + 5n`` (sweep and residual)   ``N + n``
    ============  ======================================  ==================================

    ``pcg`` with ``pc="none"`` is ``cg`` and with ``pc="ssor"`` is ``ssor_pcg``.  For a
    5-point stencil (``N ≈ 5n``) an iteration of cg, Jacobi-PCG, IC(0)-PCG and SSOR-PCG costs
    2.0, 2.4, 3.4 and 4.0.

    Parameters
    ----------
    method : {"cg", "pcg", "ssor_pcg", "sor"}
    A : matrix or CSROperator
    pc : Preconditioner, str or dict, optional
        For ``method="pcg"``: a preconditioner (set up for ``A`` here if it is not built yet;
        ``setup`` is the work of its latest set-up).  For ``method="ssor_pcg"``: its SSOR
        preconditioner, for the ω (``ssor_pcg`` runs the plain form below ω = 1/2, see
        :func:`solvers.ssor_pcg`); without it the Eisenstat form's figures.

    Examples
    --------
    >>> from solvers import gallery
    >>> A = gallery.laplacian_2d(100)
    >>> [round(work_model(m, A, pc).per_iteration, 2) for m, pc in (("cg", None), ("pcg", "ic0"))]
    [2.01, 3.41]
    """
    op = prepare(A)
    N, n = float(op.nnz), float(op.n)
    if method == "cg":
        return WorkModel(0.0, (N + 5 * n) / N, 2 * (N + n) / N)
    if method in ("ssor_pcg", "sor"):
        (lp, _, _, lnear), (up, _, _, unear) = op.split_triangles()
        NL = float(lp[-1]) + float(np.count_nonzero(lnear))
        NU = float(up[-1]) + float(np.count_nonzero(unear))
        if method == "sor":
            return WorkModel(0.0, (N + NU + 5 * n) / N, (N + n) / N)
        omega = None
        if pc is not None and method == "ssor_pcg":
            pc = preconditioner(pc)
            if pc.name != "ssor":
                raise ValueError(f"work_model('ssor_pcg', A, pc): pc must be an SSOR "
                                 f"preconditioner (its ω), got {pc.label!r}")
            omega = pc.omega
        if omega is not None and omega < KS.EISENSTAT_MIN_OMEGA:
            # ssor_pcg_plain_solve: product and pᵀAp, update and ‖r‖², the two solves with
            # their scalings, rᵀz and the direction; start and end: two residuals, one solve
            return WorkModel(0.0, (N + NL + NU + 9 * n) / N, (2 * N + NL + NU + 6 * n) / N)
        return WorkModel(0.0, (2 * NU + NL + 14 * n) / N, (2 * N + 2 * NU + NL + 7 * n) / N)
    if method != "pcg":
        raise ValueError(f"method must be 'cg', 'pcg', 'ssor_pcg' or 'sor', got {method!r}")
    pc = preconditioner("none" if pc is None else pc)
    if pc.name == "none":
        return work_model("cg", op)
    if pc.name == "ssor":
        return work_model("ssor_pcg", op, pc)
    if not pc.built:
        pc.setup(op)
    a = pc.apply_mults(op)
    return WorkModel(pc.setup_work, (N + 6 * n + a) / N, (2 * (N + n) + a) / N)


#: the compiled families of :func:`iteration_ratio`: CG with no preconditioner, Jacobi's,
#: IC(0)'s, and SSOR-PCG (Eisenstat form, the reference)
COMPILED_FAMILIES = ("cg", "jacobi", "ic0", "ssor")

#: per compiled family: (seconds per entry, seconds per row) of one iteration of its kernel
#: on this machine, measured once per process (:func:`iteration_clock`)
_ITERATION_CLOCK = {}
#: :func:`iteration_clock` times solves of these iteration counts (their slope is an
#: iteration's clock), the least of this many interleaved rounds, on the 3-D 7-point and
#: 27-point Laplacians of a cube of this side (6.4 and 20 entries a row)
_CLOCK_ITERATIONS = (3, 13)
_CLOCK_REPEATS = 7
_CLOCK_SIDE = 12


def _laplacian_3d(m, points):
    """The 7- or 27-point Laplacian on an ``m × m × m`` grid (6 or 26 on the diagonal, -1
    off it, 1 more on the diagonal for 27: positive definite), as a scipy CSR array."""
    import scipy.sparse as sp

    if points == 7:
        L = sp.diags_array([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)],
                           offsets=[-1, 0, 1])
        eye = sp.eye_array(m)
        return sp.csr_array(sp.kron(sp.kron(L, eye), eye) + sp.kron(sp.kron(eye, L), eye)
                            + sp.kron(sp.kron(eye, eye), L))
    T = sp.diags_array([np.ones(m - 1), np.ones(m), np.ones(m - 1)], offsets=[-1, 0, 1])
    A = sp.csr_array(-sp.kron(sp.kron(T, T), T))
    A.setdiag(27.0)
    return sp.csr_array(A)


def _family_run(family, op, b, maxiter, pcs):
    from ._api import cg, pcg, ssor_pcg

    if family == "ssor":
        return ssor_pcg(op, b, 1.5, rtol=1e-300, maxiter=maxiter)
    if family == "cg":
        return cg(op, b, rtol=1e-300, maxiter=maxiter)
    return pcg(op, b, pcs[family], rtol=1e-300, maxiter=maxiter)


def _measure_clock():
    """(seconds per entry, seconds per row) of an iteration of each compiled family, from
    its slope on two matrices of different entries a row (0, 0 where the clock read none)."""
    lo, hi = _CLOCK_ITERATIONS
    slopes = {f: [] for f in COMPILED_FAMILIES}
    sizes = []
    for A in (_laplacian_3d(_CLOCK_SIDE, 7), _laplacian_3d(_CLOCK_SIDE, 27)):
        op = prepare(A)
        b = np.ones(op.n)
        pcs = {f: preconditioner(f).setup(op) for f in ("jacobi", "ic0")}
        best = {}
        for _ in range(_CLOCK_REPEATS):  # interleaved: a busy core slows each alike
            for f in COMPILED_FAMILIES:
                for k in (lo, hi):
                    t0 = perf_counter()
                    res = _family_run(f, op, b, k, pcs)
                    sec = perf_counter() - t0
                    if (f, k) not in best or sec < best[(f, k)][0]:
                        best[(f, k)] = (sec, res.iterations)
        for f in COMPILED_FAMILIES:
            (t1, i1), (t2, i2) = best[(f, lo)], best[(f, hi)]
            slopes[f].append((t2 - t1) / (i2 - i1) if i2 > i1 else 0.0)
        sizes.append((float(op.nnz), float(op.n)))
    return {f: _fit_clock(t, sizes) for f, t in slopes.items()}


def _fit_clock(slopes, sizes):
    """``(seconds per entry, seconds per row)`` through two slopes (seconds an iteration) on
    two matrices of ``sizes`` ``(entries, rows)``; a term the noise makes negative is
    dropped and the other fitted alone (least squares); ``(0, 0)`` if none is positive.

    Examples
    --------
    >>> _fit_clock((10.0, 40.0), ((4.0, 1.0), (19.0, 1.0)))  # 2 an entry, 2 a row
    (2.0, 2.0)
    >>> _fit_clock((10.0, 5.0), ((4.0, 1.0), (19.0, 1.0)))  # dearer on fewer entries
    (0.0, 7.5)
    """
    (t1, t2), ((N1, n1), (N2, n2)) = slopes, sizes
    det = N1 * n2 - N2 * n1
    entry, row = (t1 * n2 - t2 * n1) / det, (N1 * t2 - N2 * t1) / det
    if entry < 0:
        entry, row = 0.0, (t1 * n1 + t2 * n2) / (n1 * n1 + n2 * n2)
    elif row < 0:
        entry, row = (t1 * N1 + t2 * N2) / (N1 * N1 + N2 * N2), 0.0
    ok = entry >= 0 and row >= 0 and 0 < entry + row < math.inf
    return (float(entry), float(row)) if ok else (0.0, 0.0)


def iteration_clock(family):
    """``(seconds per entry, seconds per row)`` of one iteration of a compiled family's kernel
    on this machine (``family`` in :data:`COMPILED_FAMILIES`), measured once per process.

    An iteration on ``n`` rows and ``N`` entries is modelled as taking
    ``entry·N + row·n`` seconds; both terms are read from the family's slope (seconds per
    iteration between solves of two iteration counts, the least of a few interleaved
    rounds) on two small matrices of different entries a row: the 3-D 7-point and 27-point
    Laplacians of a 12³ cube (1 728 unknowns, 6.4 and 20 entries a row; 20–40 ms in all).  The families
    differ less in their products (a pass over the entries) than in their vector work (a
    pass over the rows each): plain CG's and Jacobi-CG's separate vector updates cost more
    per counted multiply–add than SSOR-PCG's fused Eisenstat sweep, so per unit of
    :func:`work_model` work their iterations cost 1.0–2.0 × SSOR-PCG's, most on the
    matrices of fewest entries a row.  ``(0, 0)`` if the clock read nothing.

    Examples
    --------
    >>> entry, row = iteration_clock("cg")
    >>> entry >= 0 and row >= 0 and entry + row > 0
    True
    """
    if family not in COMPILED_FAMILIES:
        raise ValueError(f"family must be one of {COMPILED_FAMILIES}, got {family!r}")
    if not _ITERATION_CLOCK:
        _ITERATION_CLOCK.update(_measure_clock())
    return _ITERATION_CLOCK[family]


def iteration_ratio(family, A) -> float:
    """The clock of one iteration of a compiled family on ``A`` over SSOR-PCG's (Eisenstat
    form), from :func:`iteration_clock`'s per-entry and per-row seconds: what the compiled
    kernels' seconds per unit of SSOR-PCG's work convert into the family's seconds per
    iteration before it has run, times SSOR-PCG's work per iteration on ``A``
    (:meth:`bandit.armset.ArmSet.rate`).  0 if the clock read nothing.

    Examples
    --------
    >>> from solvers import gallery
    >>> iteration_ratio("ssor", gallery.laplacian_2d(30))
    1.0
    >>> 0.2 < iteration_ratio("ic0", gallery.laplacian_2d(30)) < 5
    True
    """
    op = prepare(A)
    e, r = iteration_clock(family)
    es, rs = iteration_clock("ssor")
    ref = es * op.nnz + rs * op.n
    if family == "ssor":
        return 1.0 if ref > 0 else 0.0
    own = e * op.nnz + r * op.n
    return own / ref if ref > 0 and own > 0 else 0.0
