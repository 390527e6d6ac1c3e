"""Algebraic multigrid as a CG preconditioner: one pyamg smoothed-aggregation cycle.

:class:`AMG` builds pyamg's hierarchy for a matrix and applies one cycle as ``M⁻¹``; its set-up
is priced before it is built (:meth:`AMG.setup_price`), so a learner can tell what a first try
will cost.  The class and its public constants are also importable from :mod:`solvers.precond` (name
``"amg"`` there) and :mod:`solvers`.
"""
from __future__ import annotations

import math
import numbers
import time
from time import process_time as _process_time

import numpy as np
import scipy.sparse as sp

from .precond import Preconditioner, SetupError


#: AMG smoothers (symmetric, so the cycle is a symmetric preconditioner): name → pyamg spec
AMG_SMOOTHERS = {
    "gauss_seidel": ("gauss_seidel", {"sweep": "symmetric"}),
    "jacobi": ("jacobi", {"omega": 4.0 / 3.0}),
    "chebyshev": ("chebyshev", {"degree": 3}),
}
#: multiply–adds of one smoothing step as a multiple of nnz(A_level) (symmetric Gauss–Seidel
#: sweeps forward and back)
_SMOOTHER_PASSES = {"gauss_seidel": 2, "jacobi": 1, "chebyshev": 3}
AMG_STRENGTHS = ("symmetric", "classical", "evolution", "none")
AMG_PROLONGATION = ("jacobi", "energy", "none")
AMG_CYCLES = ("V", "W")
#: set-up estimate: pyamg's spectral radius estimate is an Arnoldi process of 15 steps with full
#: orthogonalisation, restarted until within 1 % (about 2 runs on the model problems)
_ARNOLDI_STEPS, _ARNOLDI_RUNS = 15, 2
#: passes over a level's matrix for strength (1), aggregation (2) and the copies and scalings
#: around the prolongation smoother (2); on the finest level, 4 symmetric Gauss–Seidel
#: iterations improve the near-null-space candidate (8 passes)
_AMG_LEVEL_PASSES, _AMG_CANDIDATE_PASSES = 5, 8
#: side of the 3-D Poisson cube (its 7-point Laplacian) on which :meth:`AMG.setup_price`
#: measures pyamg's set-up seconds per product with the matrix, once per process
AMG_CALIBRATION_SIDE = 16
#: :meth:`AMG.setup_price` is within this factor of a set-up's clock, above or below (measured
#: on 24 matrices, 2-D and 3-D, 10³ to 1.6·10⁵ unknowns: 0.41–3.4 × the set-up,
#: ``docs/preconditioners.md``), so the price over it is a lower bound of the set-up
AMG_PRICE_FACTOR = 4.0


class AMG(Preconditioner):
    """One cycle of pyamg's smoothed aggregation (``smoothed_aggregation_solver``) as ``M⁻¹``.

    Parameters
    ----------
    strength : {"symmetric", "classical", "evolution", "none"}, default "symmetric"
        Strength-of-connection measure.
    theta : float, default 0.0
        Strength threshold (``symmetric`` and ``classical`` only).
    smooth : {"jacobi", "energy", "none"}, default "jacobi"
        Prolongation smoother (``"none"``: plain aggregation).
    smoother : {"gauss_seidel", "jacobi", "chebyshev"}, default "gauss_seidel"
        Pre- and post-smoother: symmetric Gauss–Seidel, weighted Jacobi (ω = 4/3 over the
        spectral radius of ``D⁻¹A``) or a degree-3 Chebyshev polynomial.  All are symmetric,
        so the cycle is a symmetric positive definite preconditioner.
    sweeps : int, default 1
        Smoothing steps before and after the coarse correction (at most :attr:`MAX_SWEEPS`).
    max_coarse : int, default 10
        Coarsest level size (solved by a dense pseudo-inverse, computed in the set-up; a
        coarsest level of more than :attr:`MAX_COARSEST` unknowns is refused).
    max_levels : int, default 10
    cycle : {"V", "W"}, default "V"
    reuse : int, default 0
        See :class:`Preconditioner`: a hierarchy kept for later matrices still applies the
        cycle of the matrix it was built for, which is SPD.

    Notes
    -----
    The cycle is pyamg's own recursion (``MultilevelSolver``), called without the two residual
    norms that ``aspreconditioner()`` computes per application.  pyamg's spectral radius
    estimates start from a random vector; it is drawn with the fixed seed :attr:`SEED`, so a
    set-up is reproducible (numpy's global random state is restored afterwards).

    One application costs (in multiply–adds) per level ``ℓ`` visited: ``2·sweeps·s·nnz(A_ℓ)`` for smoothing (``s`` = 2
    for symmetric Gauss–Seidel, 1 for Jacobi, 3 for Chebyshev), ``nnz(A_ℓ)`` for the residual,
    ``nnz(P_ℓ) + nnz(R_ℓ)`` for the transfers and ``n_c²`` for the coarsest solve.  The set-up
    work is an estimate from the hierarchy, per level: 5 passes over its matrix (strength,
    aggregation, scalings), the multiply–adds of the Galerkin products ``A_ℓ P_ℓ`` and
    ``P_ℓᵀ (A_ℓ P_ℓ)`` (from the row lengths, ignoring merged duplicates), and for each
    spectral radius estimate pyamg makes (prolongation smoothing; Jacobi and Chebyshev
    smoothers; evolution strength) two runs of a 15-step Arnoldi process,
    ``2(15·nnz(A_ℓ) + 270·n_ℓ)``; plus 8 passes on the finest level (candidate improvement)
    and ``n_c³`` (coarse pseudo-inverse).  It counts arithmetic only: pyamg's set-up is Python
    and scipy code whose wall-clock is several times that count (see the benchmark in
    ``docs/preconditioners.md``).

    Examples
    --------
    >>> from solvers import gallery, pcg
    >>> A, b = gallery.laplacian_2d(40), np.ones(1600)
    >>> res = pcg(A, b, AMG())
    >>> res.converged, res.iterations <= 12, res.info["amg_levels"] >= 2
    (True, True, True)
    """

    name = "amg"
    #: seed of the random start vectors of pyamg's spectral radius estimates (see _build)
    SEED = 0
    #: the largest coarsest level a set-up accepts: its dense pseudo-inverse costs ``n_c³``
    #: and ``8 n_c²`` bytes (measured here: 1.2 s at n_c = 900, 20 s at 1 600; at 10⁵ it
    #: would need 80 GB)
    MAX_COARSEST = 2000
    #: most smoothing steps a cycle may take before and after its coarse correction: a cycle
    #: gains nothing from hundreds (pyamg's default is 1), and a slip such as
    #: ``sweeps=10**20`` would otherwise run the first cycle for ever
    MAX_SWEEPS = 100

    def __init__(self, strength="symmetric", theta=0.0, smooth="jacobi",
                 smoother="gauss_seidel", sweeps=1, max_coarse=10, max_levels=10, cycle="V",
                 *, reuse=0):
        super().__init__(reuse=reuse)
        _pyamg()  # a missing optional dependency is an error at construction
        if strength not in AMG_STRENGTHS:
            raise ValueError(f"strength must be one of {AMG_STRENGTHS}, got {strength!r}")
        if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not 0 <= theta < 1:
            raise ValueError(f"theta must be a number in [0, 1), got {theta!r}")
        if theta and strength not in ("symmetric", "classical"):
            raise ValueError(f"theta applies to strength 'symmetric' or 'classical', not "
                             f"{strength!r}")
        if smooth not in AMG_PROLONGATION:
            raise ValueError(f"smooth must be one of {AMG_PROLONGATION}, got {smooth!r}")
        if smoother not in AMG_SMOOTHERS:
            raise ValueError(f"smoother must be one of {tuple(AMG_SMOOTHERS)} (symmetric, so "
                             f"that the cycle suits CG), got {smoother!r}")
        for name, value, low in (("sweeps", sweeps, 1), ("max_coarse", max_coarse, 1),
                                 ("max_levels", max_levels, 1)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if sweeps > self.MAX_SWEEPS:
            raise ValueError(f"sweeps must be at most {self.MAX_SWEEPS} (smoothing steps before "
                             f"and after each coarse correction), got {sweeps!r}")
        if cycle not in AMG_CYCLES:
            raise ValueError(f"cycle must be one of {AMG_CYCLES} (cycles that are symmetric "
                             f"preconditioners), got {cycle!r}")
        self.strength, self.theta, self.smooth = strength, float(theta), smooth
        self.smoother, self.sweeps, self.cycle = smoother, int(sweeps), cycle
        self.max_coarse, self.max_levels = int(max_coarse), int(max_levels)
        self._ml = None

    def settings(self):
        return {"strength": self.strength, "theta": self.theta, "smooth": self.smooth,
                "smoother": self.smoother, "sweeps": self.sweeps,
                "max_coarse": self.max_coarse, "max_levels": self.max_levels,
                "cycle": self.cycle}

    def _pyamg_kwargs(self):
        strength = self.strength if self.strength != "none" else None
        if self.strength in ("symmetric", "classical"):
            strength = (self.strength, {"theta": self.theta})
        name, opts = AMG_SMOOTHERS[self.smoother]
        smoother = (name, {**opts, "iterations": self.sweeps})
        return {"strength": strength, "smooth": None if self.smooth == "none" else self.smooth,
                "presmoother": smoother, "postsmoother": smoother,
                "max_coarse": self.max_coarse, "max_levels": self.max_levels}

    def _build(self, op):
        pyamg = _pyamg()
        # pyamg estimates spectral radii from a random start vector drawn from numpy's global
        # generator: draw it from a fixed seed so a hierarchy is reproducible, and give the
        # caller's global random state back
        state = np.random.get_state()
        np.random.seed(self.SEED)
        try:
            # the finest level keeps the matrix it is given: a copy of the values, since
            # op.data may be the caller's own array (an operator refreshed with
            # overwrite=True shares A.data), which a kept hierarchy must not follow
            csr = op.matrix
            finest = sp.csr_array((csr.data.copy(), csr.indices, csr.indptr), shape=csr.shape)
            ml = pyamg.smoothed_aggregation_solver(finest, **self._pyamg_kwargs())
        finally:
            np.random.set_state(state)
        for lev in ml.levels:  # scalar coarse levels come as 1 × 1 BSR: pyamg's BSR
            for name in ("A", "P", "R"):  # Gauss-Seidel took twice the CSR one (measured)
                M = getattr(lev, name, None)
                if M is not None and M.format == "bsr" and M.blocksize == (1, 1):
                    setattr(lev, name, M.tocsr())
        coarsest = ml.levels[-1].A
        n_c = coarsest.shape[0]
        if n_c > self.MAX_COARSEST:  # (a set-up kept from before stays as it was)
            raise SetupError(
                f"amg: the coarsest level has {n_c} unknowns (max_levels={self.max_levels}, "
                f"max_coarse={self.max_coarse}); its dense pseudo-inverse would cost "
                f"{n_c}³ operations and {8 * n_c * n_c / 1e9:.3g} GB, more than the "
                f"{self.MAX_COARSEST} unknowns AMG accepts: allow more levels or a smaller "
                f"max_coarse")
        # pyamg computes the coarse pseudo-inverse at the first cycle: here, so that the
        # set-up's seconds include it (it had been charged to the first iteration)
        ml.coarse_solver(coarsest, np.zeros(n_c))
        self._ml = ml
        self._levels = len(ml.levels)
        cycle = getattr(ml, "_MultilevelSolver__solve", None)
        if cycle is None:  # a future pyamg without the private recursion: its public operator
            M = ml.aspreconditioner(cycle=self.cycle)
            self._cycle = lambda r, z: z.__setitem__(slice(None), M @ r)
        elif self._levels == 1:
            self._cycle = lambda r, z: z.__setitem__(slice(None),
                                                     ml.coarse_solver(ml.levels[0].A, r))
        else:
            def run(r, z, _cycle=cycle, _kind=self.cycle):
                z[:] = 0.0
                _cycle(0, z, r, _kind)
            self._cycle = run
        return self._setup_mults(op) / op.nnz

    def _visits(self):
        """Times each level is smoothed in one cycle, and how many coarsest solves."""
        L = len(self._ml.levels)
        visits = [1] * max(L - 1, 0)
        if self.cycle == "W":
            for lvl in range(1, L - 1):
                visits[lvl] = 2 * visits[lvl - 1]
        return visits, (visits[-1] if visits else 1)

    def apply_mults(self, op):
        if self._ml is None:
            raise RuntimeError("amg: not set up yet (its work depends on the hierarchy)")
        levels = self._ml.levels
        visits, coarse = self._visits()
        s = 2 * self.sweeps * _SMOOTHER_PASSES[self.smoother]
        total = 0.0
        for lvl, v in enumerate(visits):
            lev = levels[lvl]
            total += v * ((s + 1) * lev.A.nnz + lev.P.nnz + lev.R.nnz + 2 * lev.A.shape[0])
        nc = levels[-1].A.shape[0]
        return total + coarse * nc * nc

    def setup_clock_floor(self, op, passes: float) -> float:
        """A lower bound, in seconds on this machine, of the wall-clock of a set-up on ``op``
        that counts at least ``passes`` matrix passes: pyamg's fixed cost of a set-up with
        these settings (timed once per process on the smallest 3-D Poisson matrix of at least
        27 unknowns and more than ``max_coarse``, where the arithmetic is negligible; left out
        for a matrix with fewer entries) plus ``passes`` times the clock of one scipy product with
        ``op``'s matrix beyond a product's fixed cost (the best of three of each).

        pyamg's set-up runs scipy and compiled pyamg routines whose passes each cost at least
        such a product, plus Python work per level that the small set-up already contains;
        measured, the bound is a twentieth to about half of the set-up's clock (see
        ``docs/preconditioners.md``).  0 when ``op`` is small enough to be the coarsest level
        itself.  Used by the Tuner's guard to refuse a first set-up that cannot pay.

        Examples
        --------
        >>> from solvers import gallery, prepare
        >>> op = prepare(gallery.laplacian_2d(40))
        >>> amg = AMG()
        >>> floor = amg.setup_clock_floor(op, 200.0)
        >>> _ = amg.setup(op)
        >>> 0 < floor < amg.setup_seconds
        True
        """
        if op.n <= self.max_coarse:
            return 0.0
        setup, product = self._fixed(op)
        return setup + max(0.0, _best_product_seconds(op.matrix) - product) * passes

    def _fixed(self, op):
        """(pyamg's fixed cost of a set-up — 0 for a matrix with fewer entries than the one
        it is timed on, whose set-up may cost less —, a product's fixed cost), timed once
        per process (:meth:`_fixed_clock`)."""
        key = self._settings_key()
        fixed = _AMG_FIXED_CLOCK.get(key)
        if fixed is None:
            with _calibrating():
                fixed = _AMG_FIXED_CLOCK[key] = self._fixed_clock()
        setup, product, nnz = fixed
        return (0.0 if op.nnz < nnz else setup), product

    def setup_price(self, op) -> float:
        """A prediction, in seconds on this machine, of the wall-clock of a set-up on ``op``
        before it is built: pyamg's fixed cost of a set-up with these settings (as in
        :meth:`setup_clock_floor`) plus the clock of one scipy product with ``op``'s matrix
        (beyond a product's fixed cost) times the set-up's *product equivalents*, measured
        once per process on the 3-D Poisson cube of side :data:`AMG_CALIBRATION_SIDE`
        (the set-up's seconds beyond the fixed cost over one product's).

        Where :meth:`setup_clock_floor` counts the first level's passes only, this counts
        what pyamg really spends per entry of the matrix — every level, Python work per
        level, the Galerkin products — on a matrix of the same kind of sparsity as the
        study's.  Measured on 2-D and 3-D Laplacians, the 3-D random-coefficient Monte Carlo
        matrices and the Crank–Nicolson heat matrices from 2 500 to 160 000 unknowns
        (``docs/preconditioners.md``), the prediction is within a factor
        :data:`AMG_PRICE_FACTOR` of the set-up's clock, above or below.  0 when ``op`` is
        small enough to be the coarsest level itself.  The Tuner's guard takes this price
        over :data:`AMG_PRICE_FACTOR` as a lower bound of a set-up not yet measured.

        Examples
        --------
        >>> from solvers import gallery, prepare
        >>> op = prepare(gallery.laplacian_2d(60))
        >>> amg = AMG()
        >>> amg.setup_price(op) > amg.setup_clock_floor(op, 0.0) > 0
        True
        """
        if op.n <= self.max_coarse:
            return 0.0
        key = self._settings_key()
        setup, product = self._fixed(op)
        passes = _AMG_PRODUCT_EQUIVALENTS.get(key)
        if passes is None:
            with _calibrating():
                passes = _AMG_PRODUCT_EQUIVALENTS[key] = self._product_equivalents(
                    _AMG_FIXED_CLOCK[key][0], product)
        return setup + max(0.0, _best_product_seconds(op.matrix) - product) * passes

    def iteration_price(self) -> float:
        """What one CG iteration preconditioned by this cycle costs on this machine before
        any was run: the multiply–adds of SSOR-PCG's compiled kernel that take as long, per
        row of the matrix (an iteration on ``n`` rows and ``N`` entries costs
        ``price·n / N`` of its units of work).  Measured once per process (per settings and
        cycle) on the hierarchy of the 3-D Poisson cube of side :data:`AMG_CALIBRATION_SIDE`,
        against SSOR-PCG on the same matrix.

        pyamg's cycle is Python and numpy code around compiled smoothers: its clock follows
        the rows of the levels (vector operations, allocations, a call per level and step)
        more than the entries its work model counts, and per counted unit of work it costs
        2–7 × SSOR-PCG's compiled iteration on the study's matrices, a price that the
        compiled kernels' runs cannot tell.  Priced per row, an iteration was predicted
        within 0.69–1.18 × its clock on 2-D and 3-D Laplacians, 27-point stencils, the
        study's heat, Monte Carlo, anisotropic and elasticity matrices
        (``docs/studies/precond_rules.md``).  The Tuner's guard converts a never-run AMG
        family's iteration at this price (:meth:`bandit.armset.ArmSet.rate`).

        The cycle is timed alone (the least of :data:`_CALIBRATION_REPEATS`), the rest of a
        PCG iteration (a product with the matrix, six vector updates) counted at the
        compiled kernel's clock per multiply–add, itself the slope of SSOR-PCG solves of two
        iteration counts (the least of as many pairs, interleaved with the cycles): short
        runs, so that a busy core's preemption misses some, without a solve's fixed costs.

        Examples
        --------
        >>> AMG().iteration_price() > 20
        True
        """
        key = self._settings_key() + (self.cycle,)
        price = _AMG_ITERATION_PRICE.get(key)
        if price is None:
            with _calibrating():
                price = _AMG_ITERATION_PRICE[key] = self._iteration_clock()
        return price

    def _iteration_clock(self) -> float:
        """The price of :meth:`iteration_price`, measured (0 if the clock read nothing)."""
        from ._api import ssor_pcg
        from ._operator import prepare
        from ._precond_work import work_model

        op = prepare(_poisson_cube(AMG_CALIBRATION_SIDE))
        b, z = np.ones(op.n), np.empty(op.n)
        try:
            amg = AMG(**self.settings()).setup(op)
        except SetupError:
            # settings that build no hierarchy on the cube (one level of 4 096 unknowns) are
            # refused at their own set-up too: their price is the default cycle's, whose
            # Python per level and row it shares (the guard only needs an order of size, and
            # asking for a price must never raise where a set-up failure is a failed try)
            if self.settings() == AMG(cycle=self.cycle).settings():
                raise
            return AMG(cycle=self.cycle).iteration_price()
        lo, hi = _CALIBRATION_ITERATIONS
        cycle, best = math.inf, {}
        for _ in range(_CALIBRATION_REPEATS):
            t0 = time.perf_counter()
            amg._apply_into(b, z)
            cycle = min(cycle, time.perf_counter() - t0)
            for k in (lo, hi):
                t0 = time.perf_counter()
                res = ssor_pcg(op, b, _CALIBRATION_OMEGA, rtol=1e-300, maxiter=k)
                sec = time.perf_counter() - t0
                if k not in best or sec < best[k][0]:
                    best[k] = (sec, res.iterations)
        (t1, i1), (t2, i2) = best[lo], best[hi]
        ssor = work_model("ssor_pcg", op, {"pc": "ssor", "omega": _CALIBRATION_OMEGA})
        per_madd = (t2 - t1) / (i2 - i1) / (ssor.per_iteration * op.nnz) if i2 > i1 else 0.0
        if not per_madd > 0:
            return 0.0
        # the cycle, and the rest of a PCG iteration (a product, 6 vector updates) compiled
        price = cycle / per_madd / op.n + (op.nnz + 6 * op.n) / op.n
        return price if price < math.inf else 0.0

    def _settings_key(self):
        return (self.strength, self.theta, self.smooth, self.smoother, self.sweeps,
                self.max_coarse, self.max_levels)

    def _product_equivalents(self, fixed, product):
        """Seconds of a set-up on the calibration cube beyond ``fixed`` (pyamg's fixed cost),
        in products with its matrix beyond ``product`` (a product's fixed cost); the best of
        three set-ups."""
        T = _poisson_cube(AMG_CALIBRATION_SIDE)
        per = _best_product_seconds(T) - product
        return max(self._best_setup_seconds(T) - fixed, 0.0) / per if per > 0 else 0.0

    def _best_setup_seconds(self, T):
        """The best of three clocks of pyamg's set-up on the scipy matrix ``T`` (its spectral
        radius estimates seeded as in :meth:`_build`, the caller's random state restored)."""
        pyamg = _pyamg()
        state = np.random.get_state()
        np.random.seed(self.SEED)
        try:
            best = math.inf
            for _ in range(3):
                t0 = time.perf_counter()
                pyamg.smoothed_aggregation_solver(T, **self._pyamg_kwargs())
                best = min(best, time.perf_counter() - t0)
        finally:
            np.random.set_state(state)
        return best

    def _fixed_clock(self):
        """(seconds of a set-up, seconds of a product, entries) on the smallest 3-D Poisson
        matrix with more unknowns than ``max_coarse`` and at least 27 (a hierarchy of two
        levels or more, as on any matrix the floor is asked about)."""
        side = 3
        while side ** 3 <= self.max_coarse:
            side += 1
        T = _poisson_cube(side)
        return self._best_setup_seconds(T), _best_product_seconds(T), T.nnz

    def _setup_mults(self, op):
        """Estimated multiply–adds of the set-up (see the class Notes)."""
        levels = self._ml.levels
        total = _AMG_CANDIDATE_PASSES * levels[0].A.nnz
        for lev in levels[:-1]:
            A, P = lev.A, lev.P
            N, n = A.nnz, A.shape[0]
            arnoldi = _ARNOLDI_RUNS * (_ARNOLDI_STEPS * N +
                                       (_ARNOLDI_STEPS * (_ARNOLDI_STEPS + 1) + 30) * n)
            total += _AMG_LEVEL_PASSES * N
            prow = np.diff(P.indptr).astype(np.float64)
            arow = np.diff(A.indptr).astype(np.float64)  # = column counts (A symmetric)
            ap = float(arow @ prow)  # A P
            # rows of A P hold at most the sum of the P rows they combine
            pap = float(prow @ (A.astype(bool).astype(np.float64) @ prow))  # Pᵀ (A P)
            total += ap + pap
            if self.smooth != "none":  # spectral radius of D⁻¹A, the product A T
                total += arnoldi + N
            if self.smooth == "energy":  # a few CG steps on P (pyamg: 4), each a product
                total += 4 * ap
            if self.strength == "evolution":  # a spectral radius and a product A·A at least
                total += arnoldi + float(arow @ arow)
            if self.smoother in ("jacobi", "chebyshev"):  # their own spectral radius
                total += arnoldi + N
        nc = levels[-1].A.shape[0]
        return total + float(nc) ** 3

    def apply(self, r, out=None):
        r, out = self._require_built(r, out)
        if out.flags.c_contiguous:
            self._cycle(r, out)
        else:  # pyamg's smoothers take contiguous vectors only (a column of a 2-D array)
            z = np.empty(out.size)
            self._cycle(r, z)
            out[:] = z
        return out

    def _apply_into(self, r, z):
        self._cycle(r, z)

    def _info(self):
        ml = self._ml
        return {"amg_levels": self._levels,
                "amg_operator_complexity": float(ml.operator_complexity()) if ml else math.nan}


def calibration_seconds() -> float:
    """CPU seconds (``time.process_time``) this process has spent so far on the
    once-per-process calibrations of this module — pyamg's fixed set-up clock
    (:meth:`AMG.setup_clock_floor`), a set-up's product equivalents (:meth:`AMG.setup_price`)
    and a cycle's iteration price (:meth:`AMG.iteration_price`), per settings.

    They are the process's, paid once by whichever caller asks first: a caller that charges
    its own CPU time to a budget (a Tuner's auditor pricing an AMG audit) leaves them out.

    Examples
    --------
    >>> before = calibration_seconds()
    >>> _ = AMG(theta=0.07).iteration_price()    # settings not timed yet in this process
    >>> calibration_seconds() > before
    True
    """
    return _CALIBRATION_CPU[0]


class _calibrating:
    """Adds the CPU time of its block to :func:`calibration_seconds` (the outermost block
    only: one calibration may ask for another).  The clock is bound at import: a test that
    puts another clock in this module's ``time`` for the calibrations' readings leaves the
    count alone (and the depth, counted only once the clock is read, never sticks)."""

    _depth = 0

    def __enter__(self):
        self._cpu = _process_time()
        _calibrating._depth += 1

    def __exit__(self, *exc):
        _calibrating._depth -= 1
        if not _calibrating._depth:
            _CALIBRATION_CPU[0] += _process_time() - self._cpu


_CALIBRATION_CPU = [0.0]
#: per AMG settings: (seconds of a set-up, seconds of a product, entries) on a small matrix
_AMG_FIXED_CLOCK = {}
#: per AMG settings: a set-up's seconds beyond its fixed cost, in products with the matrix
#: (measured on the calibration cube, :meth:`AMG.setup_price`)
_AMG_PRODUCT_EQUIVALENTS = {}

#: per AMG settings and cycle: an AMG-PCG iteration's clock in multiply-adds of SSOR-PCG's
#: compiled kernel per row of the matrix (:meth:`AMG.iteration_price`)
_AMG_ITERATION_PRICE = {}
#: :meth:`AMG.iteration_price` times this many single cycles on the calibration cube (about
#: 0.3 ms each) and as many pairs of SSOR-PCG solves of these iteration counts (their slope is
#: the compiled kernel's clock per multiply-add), keeping the least of each: short runs, so
#: that a busy core's preemption misses some
_CALIBRATION_ITERATIONS = (5, 25)
_CALIBRATION_REPEATS = 9
_CALIBRATION_OMEGA = 1.5


def _poisson_cube(m):
    """The 7-point Laplacian on an m × m × m grid, as a scipy CSR array."""
    import scipy.sparse as sp

    L = sp.diags_array([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], offsets=[-1, 0, 1])
    eye = sp.eye_array(m)
    A = (sp.kron(sp.kron(L, eye), eye) + sp.kron(sp.kron(eye, L), eye)
         + sp.kron(sp.kron(eye, eye), L))
    return sp.csr_array(A)


def _best_product_seconds(M) -> float:
    """The best of three clocks of ``M @ x`` (a scipy sparse matrix)."""
    x = np.ones(M.shape[1])
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        M @ x
        best = min(best, time.perf_counter() - t0)
    return best


def _pyamg():
    try:
        import pyamg
    except ImportError as exc:  # an optional dependency
        from ._extras import install_hint

        raise ImportError(f"pc='amg' needs pyamg: {install_hint('amg')}") from exc
    return pyamg
