"""Tsallis-INF (Zimmert & Seldin) and its binned-context version Tsallis-INF-CB."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._base import Policy
from .features import _BIG, ContextRange
from ._kernels import tsallis_normaliser

__all__ = ["tsallis_probabilities", "TsallisINF", "TsallisINFCB"]


def _scaled(L, W, low, cost_sum, n_pos, t):
    """Baseline-shifted, scaled loss estimates ``(L − low·W) / s`` of one Tsallis-INF.

    ``L_k = Σ c/p`` and ``W_k = Σ 1/p`` over the rounds with a positive cost ``c`` in which arm
    ``k`` was played (``p``: its probability then), ``low`` the smallest positive cost seen,
    ``cost_sum`` the sum of all ``t`` costs and ``n_pos`` the number of positive ones.
    ``L_k − low·W_k = Σ (c − low)/p`` estimates arm ``k``'s cumulative shifted loss (every
    ``c − low ≥ 0``); ``s = (cost_sum − low·n_pos)/t`` is the running mean of the shifted
    losses.  While every shifted loss is 0 (all costs so far equal, or 0; up to rounding, as
    for equal float timings) the estimates are 0: uniform play, never a 0/0.
    """
    total = cost_sum - low * n_pos
    if not total > 1e-9 * cost_sum:
        return np.zeros_like(L)
    return np.maximum(L - low * W, 0.0) * (t / total)


def tsallis_probabilities(L, eta):
    """1/2-Tsallis-INF distribution ``p_k = 4 / (eta (L_k - x))**2`` with ``sum p = 1``.

    Parameters
    ----------
    L : array_like
        Cumulative importance-weighted loss estimates (costs, minimised).
    eta : float
        Learning rate (``2/sqrt(t)`` at round ``t``).

    Returns
    -------
    ndarray
        Probabilities; the normaliser ``x < min L`` is found by the bracketed Newton iteration
        of :func:`bandit._kernels.tsallis_normaliser`, so this never collapses onto one arm.

    Examples
    --------
    Equal losses give the uniform distribution:

    >>> tsallis_probabilities([3.0, 3.0, 3.0, 3.0], eta=1.0).round(6).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    L = np.ascontiguousarray(L, dtype=np.float64)
    L = L - L.min()  # only differences matter; keeps L - x exact for huge raw losses
    x = tsallis_normaliser(L, float(eta))
    p = 4.0 / (eta * (L - x)) ** 2
    return p / p.sum()  # removes the last rounding error of the root


class TsallisINF(Policy):
    """Adversarial bandit with the 1/2-Tsallis regulariser, costs minimised.

    At round ``t`` (1-based) with ``eta_t = 2/sqrt(t)`` it plays ``p = tsallis_probabilities(
    (L − b W) / s_t, eta_t)``; after a positive cost ``c`` of arm ``k`` it sets
    ``L_k += c / p_k`` and ``W_k += 1 / p_k`` (a zero cost, a solve that did nothing whatever
    the arm, changes neither).

    Cost scaling (losses must be about [0, 1]): ``b`` is the smallest positive cost seen so far,
    so ``L_k − b W_k = Σ (c − b)/p`` estimates arm ``k``'s cumulative loss with the baseline
    subtracted from every past round; each ``c − b ≥ 0``, so no clipping is needed.  The
    baseline is the same for every arm and ``E[W_k]`` is the number of rounds for every ``k``,
    so it changes no expected difference between arms; it removes the part of the cost that no
    ω avoids, which importance weighting (``c/p`` on the played arm only) would turn into pure
    variance.  The estimates are divided by ``s_t``, the running mean of the shifted losses,
    when the distribution is formed.  The paper's code subtracts a constant 1 iteration instead;
    the running minimum also serves ``cost="time"`` and removes far more where every ω costs
    at least ~10 iterations (heat2d at large κ, the offset-Laplacian SOR sequences).  Adding a
    constant to every cost (a fixed per-solve overhead) or multiplying every cost by a
    constant (a change of unit) leaves the distributions unchanged.  Degenerate start: while
    every shifted loss is 0 (all costs so far equal, or 0) every estimate is 0, so the learner
    plays uniformly, never divides by 0, and learns as soon as costs differ (the paper's code
    divides by 0 there and falls back to uniform sampling for good).

    Censored costs (a capped solve) are added as if observed.  Under a :class:`bandit.Tuner`
    with a guard, a stopped exploration is reported as the whole round's cost instead
    (``report_round_cost``): the attempt's capped cost alone would make an arm that had to be
    stopped look no worse than ``guard ×`` the leader, and the importance weights would keep
    paying for it.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    seed : int, optional
        Seed of the sampling generator.

    References
    ----------
    J. Zimmert, Y. Seldin, "Tsallis-INF: An optimal algorithm for stochastic and adversarial
    bandits", JMLR 22 (2021).

    Examples
    --------
    >>> p = TsallisINF([1.0, 1.5, 1.8], seed=0)
    >>> for _ in range(300):
    ...     k = p.select()
    ...     p.update(k, [90, 30, 60][k])
    >>> int(np.argmax(p.probabilities()))
    1
    """

    _state_keys = ("L", "W", "low", "n_pos")
    report_round_cost = True

    def __init__(self, arms, *, seed=None):
        super().__init__(arms, seed=seed)
        self.L = np.zeros(self.n_arms)  # Σ c/p per arm (raw cost units)
        self.W = np.zeros(self.n_arms)  # Σ 1/p per arm (same rounds)
        self.low = 0.0  # baseline: smallest positive cost seen (0: none yet)
        self.n_pos = 0  # rounds with a positive cost

    def scaled_losses(self):
        """The estimates the distribution is formed from: ``(L − low·W) / s_t``."""
        return _scaled(self.L, self.W, self.low, float(self.cost_sums.sum()), self.n_pos, self.t)

    def probabilities(self):
        """Distribution for the next round."""
        return tsallis_probabilities(self.scaled_losses(), 2.0 / math.sqrt(self.t + 1))

    def _select(self, context):
        return self._sample(self.probabilities())

    def _update(self, arm, cost, context, censored):
        p = self.p if self.p is not None else self.probabilities()
        if cost > 0.0:
            self.L[arm] += cost / p[arm]
            self.W[arm] += 1.0 / p[arm]
            self.low = cost if self.n_pos == 0 else min(self.low, cost)
            self.n_pos += 1
        self.p = None  # the next select forms a fresh distribution

    def predict(self, context=None):
        """Self-normalised importance-weighted mean cost per arm, ``L_k / W_k`` — the mean of
        its observed costs weighted by ``1/p`` (NaN for arms never played).

        Not ``L_k / t``: that estimate is unbiased too, but for an arm played a few times
        with a small probability it is usually far below the arm's cost (most rounds add
        nothing), so an arm tried twice looked cheapest and became the guard's leader."""
        return _self_normalised(self.L, self.W, self.counts)


def _self_normalised(L, W, counts):
    """``L / W`` where an arm has a positive cost, 0 where it was played at costs of 0 only,
    NaN where never played."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(W > 0, L / np.where(W > 0, W, 1.0), 0.0)
    return np.where(counts > 0, mean, np.nan)


#: Most per-arm cell entries of Tsallis-INF-CB (``bins^D · K``, each held in a few arrays:
#: about 0.5 GB); a longer context is refused by name rather than exhausting the memory.
MAX_CELL_ENTRIES = 1 << 24
#: The narrowest bin: half of it (what :meth:`_BinGrid._quotient` divides by) is the smallest
#: normal float, so the quotient stays finite; two contexts closer than that share a bin.
_MIN_WIDTH = 2.0 ** -1021


class _BinGrid:
    """Equal-width bins per context coordinate, at most ``bins`` of them, learnt online.

    Coordinate ``d`` has bins ``j = ⌊(x − o_d)/w_d⌋`` of width ``w_d``; the stored ones are
    ``j0_d … j0_d + bins − 1`` (array positions ``j − j0_d``).  With a hint ``[a, b]`` the grid
    starts as the paper's (``o = a``, ``w = (b − a)/bins``, ``b`` itself in the last bin).
    Without, every context shares one bin until a second value is seen; the two values then sit
    at the centres of bins ``⌊bins/2⌋`` apart, the pair centred in the grid.  A context beyond the stored bins shifts them if the
    occupied span allows, else adjacent bins merge pairwise (``w`` doubles, ``j → ⌊j/2⌋``) until
    it fits.  :meth:`locate` returns the cell and the list of moves applied, which the policy
    replays on its per-cell arrays.
    """

    def __init__(self, bins, hint, dim):
        self.bins = bins
        self.range = ContextRange(hint, dim)  # parsing and the hint only
        self.dim = self.range.dim
        if self.range.hint is not None:
            h = self.range.hint
            self._set(h[:, 0].copy(), (h[:, 1] - h[:, 0]) / bins, np.zeros(len(h), np.int64))
        else:
            self.origin = self.width = self.j0 = self.jlo = self.jhi = None

    def _set(self, origin, width, j0):
        self.origin, self.width, self.j0 = origin, width, j0
        self.jlo = np.full(len(origin), np.iinfo(np.int64).max)  # occupied span (none yet)
        self.jhi = np.full(len(origin), np.iinfo(np.int64).min)

    def _quotient(self, x, d):
        """``(x − o)/w`` in halves (no overflow before the division); inf when out of reach."""
        # (Python floats: a quotient that overflows is inf without numpy's warning)
        return (0.5 * float(x) - 0.5 * float(self.origin[d])) / (0.5 * float(self.width[d]))

    def _index(self, x, d):
        if self.width[d] == 0:
            return 0 if x == self.origin[d] else None
        q = self._quotient(x, d)
        if not abs(q) < 2.0 ** 52:
            # far beyond the stored bins (inf where the quotient overflowed: a context 1e10
            # from bins of width 1e-300): locate merges bins until it is in reach
            return math.copysign(math.inf, q)
        j = math.floor(q)
        hint = self.range.hint
        if hint is not None and x == hint[d, 1] and j == self.j0[d] + self.bins:
            j -= 1  # the paper's rule: b belongs to the last bin
        return j

    def locate(self, context):
        """``(cell index tuple, moves)`` for ``context``; ``moves`` are ``(axis, "shift", k)`` or
        ``(axis, "merge", parity)`` to apply to the per-cell arrays first."""
        if isinstance(context, float) and self.dim == 1 and self.width is not None \
                and self.width[0] > 0 and math.isfinite(context):
            # a scalar context in a stored bin: the common case of a Tuner round
            q = self._quotient(context, 0)
            j = math.floor(q) if abs(q) < 2.0 ** 52 else None
            j0 = int(self.j0[0])
            hint = self.range.hint
            if hint is not None and j == j0 + self.bins and context == hint[0, 1]:
                j -= 1
            if j is not None and j0 <= j < j0 + self.bins:
                if j < self.jlo[0]:
                    self.jlo[0] = j
                if j > self.jhi[0]:
                    self.jhi[0] = j
                return (j - j0,), ()
        x = self.range.parse(context)
        if self.dim is None:
            self.dim = self.range.dim
        moves = []
        if self.origin is None:  # first context ever: one bin at it, width unknown
            self._set(x.copy(), np.zeros(x.size), np.zeros(x.size, np.int64))
        cell = []
        for d in range(x.size):
            j = self._index(x[d], d)
            if j is None:  # second distinct value on a point grid: give the grid a width
                x0 = self.origin[d]
                n = max(1, self.bins // 2)  # both values at bin centres, n bins apart
                # at least _MIN_WIDTH: two contexts a few subnormals apart (5e-324 and
                # 1e-323) had made a width of 0 and a TypeError on the next line
                self.width[d] = min(max(2.0 * (abs(0.5 * x[d] - 0.5 * x0) / n), _MIN_WIDTH),
                                    _BIG)
                self.origin[d] = x0 - 0.5 * self.width[d]
                j0_new = (0 if x[d] > x0 else -n) - max(self.bins - n - 1, 0) // 2
                # x0's data sat at position 0; it is absolute bin 0 of the new grid
                moves.append((d, "shift", int(self.j0[d] - j0_new)))
                self.jlo[d] = self.jhi[d] = 0
                self.j0[d] = j0_new
                j = self._index(x[d], d)
            while self.width[d] > 0 and not abs(self._quotient(x[d], d)) < 2.0 ** 52:  # far out: merge
                moves.append((d, "merge", int(self.j0[d] % 2)))
                self.width[d] = min(2.0 * self.width[d], _BIG) if self.width[d] < _BIG else math.inf
                self.j0[d] //= 2
                self.jlo[d], self.jhi[d] = self.jlo[d] // 2, self.jhi[d] // 2
                j = self._index(x[d], d)
            lo, hi = min(self.jlo[d], j), max(self.jhi[d], j)
            while hi - lo + 1 > self.bins:  # merge pairs until the occupied span fits
                parity = int(self.j0[d] % 2)
                moves.append((d, "merge", parity))
                self.width[d] *= 2.0
                self.j0[d] = self.j0[d] // 2
                lo, hi, j = lo // 2, hi // 2, j // 2
                self.jlo[d], self.jhi[d] = self.jlo[d] // 2, self.jhi[d] // 2
            if j < self.j0[d] or j >= self.j0[d] + self.bins:
                j0_new = lo if j < self.j0[d] else hi - self.bins + 1
                moves.append((d, "shift", int(self.j0[d] - j0_new)))
                self.j0[d] = j0_new
            self.jlo[d], self.jhi[d] = lo, hi
            cell.append(int(j - self.j0[d]))
        return tuple(cell), moves

    def peek(self, context):
        """The cell of ``context`` without changing the grid (nearest stored bin), or None."""
        x = self.range.parse(context)
        if self.origin is None:
            return None
        cell = []
        for d in range(x.size):
            j = self._index(x[d], d)
            j = self.j0[d] if j is None else j
            cell.append(int(min(max(j - self.j0[d], 0), self.bins - 1)))
        return tuple(cell)

    def state(self):
        return {k: getattr(self, k) for k in ("dim", "origin", "width", "j0", "jlo", "jhi")}

    def load(self, st):
        self.dim = None if st["dim"] is None else int(st["dim"])
        self.range.dim = self.dim
        for k in ("origin", "width", "j0", "jlo", "jhi"):
            v = st[k]
            setattr(self, k, None if v is None else np.asarray(v, dtype=float if k in
                                                                ("origin", "width") else np.int64))


def _apply_moves(arrays, mins, moves):
    """Replay the grid moves on per-cell arrays (axis ``d`` of each is coordinate ``d``)."""
    for d, kind, k in moves:
        for name, a in arrays.items():
            if kind == "shift":
                out = np.zeros_like(a)
                n = a.shape[d]
                src = [slice(None)] * a.ndim
                dst = [slice(None)] * a.ndim
                if k >= 0:
                    src[d], dst[d] = slice(0, max(n - k, 0)), slice(k, n)
                else:
                    src[d], dst[d] = slice(-k, n), slice(0, max(n + k, 0))
                out[tuple(dst)] = a[tuple(src)]
            else:  # merge pairs: position p (absolute j0 + p) goes to ⌊(j0 + p)/2⌋ − ⌊j0/2⌋
                n = a.shape[d]
                out = np.zeros_like(a)
                for p in range(n):
                    q = (p + k) // 2
                    sl_in = [slice(None)] * a.ndim
                    sl_out = [slice(None)] * a.ndim
                    sl_in[d], sl_out[d] = p, q
                    if name in mins:  # smallest positive value (0 = none)
                        cur, new = out[tuple(sl_out)], a[tuple(sl_in)]
                        out[tuple(sl_out)] = np.where(cur == 0, new,
                                                      np.where(new == 0, cur, np.minimum(cur, new)))
                    else:
                        out[tuple(sl_out)] += a[tuple(sl_in)]
            arrays[name] = out
    return arrays


class TsallisINFCB(Policy):
    """Tsallis-INF-CB: an independent :class:`TsallisINF` per bin of the context.

    Each coordinate of the context is cut into at most ``bins`` equal bins (a cell per
    combination for a vector context).  With ``context_bounds = (a, b)`` the bins start as the
    paper's, ``⌊bins·(c − a)/(b − a)⌋`` (``b`` in the last bin); without, they are learnt from
    the contexts seen.  A context outside the bins extends them, and when more than ``bins``
    would be needed adjacent bins merge pairwise, their Tsallis-INF states adding up (loss
    estimates, weights, rounds and costs; the smaller baseline) — no context is ever clipped
    into a bin it does not belong to.  Each cell keeps its own loss estimates, round counter,
    baseline (smallest positive cost seen in the cell) and loss scale, exactly as
    :class:`TsallisINF`; the generator is shared.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    context_bounds : (float, float) or sequence of (float, float), optional
        Starting interval of each context coordinate (a hint).
    bins : int, default 5
        Bins per coordinate (the paper uses 5 or 6).
    context_dim : int, optional
        Context length (default: from ``context_bounds`` or the first context).
    seed : int, optional
        Seed of the sampling generator.

    Examples
    --------
    >>> p = TsallisINFCB([1.0, 1.8], bins=2, seed=0)
    >>> for i in range(400):
    ...     c = 10.0 * (i % 2)                   # arm 0 is best at c = 0, arm 1 at c = 10
    ...     k = p.select(c)
    ...     p.update(k, 10 + 50 * (k != i % 2), context=c)
    >>> [p.select(0.5), p.select(9.5)]
    [0, 1]
    """

    contextual = True
    _state_keys = ("L", "bin_t", "bin_sums", "bin_counts", "W", "bin_low", "bin_pos", "grid")
    report_round_cost = True
    _MINS = ("bin_low",)

    def __init__(self, arms, context_bounds=None, bins=5, *, context_dim=None, seed=None):
        super().__init__(arms, seed=seed)
        if isinstance(bins, bool) or not (isinstance(bins, numbers.Integral) or
                                          (isinstance(bins, float) and bins.is_integer())) \
                or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        self.bins = int(bins)
        self._grid = _BinGrid(self.bins, context_bounds, context_dim)
        # per-cell arrays, allocated once the context length is known (saved as null before)
        self.L = self.W = self.bin_counts = self.bin_t = self.bin_sums = None
        self.bin_low = self.bin_pos = None
        if self._grid.dim is not None:
            self._allocate()

    def check_context_length(self, D):
        """Raise ``ValueError`` if a context of ``D`` numbers needs too many cells; changes
        nothing."""
        self._check_cells(D)

    def _check_cells(self, D):
        """Refuse a context length whose ``bins^D`` cells (per arm) exceed
        :data:`MAX_CELL_ENTRIES` — before the grid or anything else records it."""
        # bins^64 >= 2^64 already exceeds the limit: a larger power is never computed (2^70
        # context numbers had hung in the power, 10^7 failed to print its digits)
        cells = self.bins ** min(D, 64)
        if cells * self.n_arms > MAX_CELL_ENTRIES:
            digits = D * math.log10(self.bins)
            size = f"{cells:,}" if cells < 10 ** 12 else f"about 10^{int(digits)}"
            raise ValueError(f"TsallisINFCB: a context of {D} numbers needs {self.bins}^{D} = "
                             f"{size} cells of {self.n_arms} arms, more than "
                             f"{MAX_CELL_ENTRIES:,} entries; pass fewer context numbers (those "
                             f"that predict the best arm), or fewer bins")

    def _allocate(self):
        self._check_cells(self._grid.dim)
        shape = (self.bins,) * self._grid.dim
        self.L = np.zeros(shape + (self.n_arms,))
        self.W = np.zeros(shape + (self.n_arms,))  # Σ 1/p per cell and arm
        self.bin_counts = np.zeros(shape + (self.n_arms,), dtype=np.int64)
        self.bin_t = np.zeros(shape, dtype=np.int64)
        self.bin_sums = np.zeros(shape)
        self.bin_low = np.zeros(shape)  # per-cell baseline (smallest positive cost)
        self.bin_pos = np.zeros(shape, dtype=np.int64)  # per-cell rounds with cost > 0

    @property
    def context_bounds(self):
        """The user's starting interval (``None`` when the bins are learnt from scratch)."""
        h = self._grid.range.hint
        if h is None:
            return None
        return tuple(h[0].tolist()) if len(h) == 1 else [tuple(r) for r in h.tolist()]

    @property
    def grid(self):
        """The learnt bin grid (part of the saved state)."""
        return self._grid.state()

    @grid.setter
    def grid(self, st):
        self._grid.load(st)

    def _config(self):
        h = self._grid.range.hint
        return {"context_bounds": None if h is None else h.tolist(), "bins": self.bins,
                "context_dim": self._grid.dim}

    def _check_context(self, context):
        # select/update: the grid may extend or merge; the per-cell arrays follow
        if context is None:
            raise ValueError("TsallisINFCB is contextual: pass context=...")
        if self.L is None and self._grid.dim is None:  # the first context fixes its length
            try:
                D = np.asarray(context, dtype=float).size
            except (TypeError, ValueError):
                D = 0  # not numbers: locate says so
            if D:
                self._check_cells(D)
        cell, moves = self._grid.locate(context)
        if self.L is None:
            self._allocate()
        if moves:
            names = ("L", "W", "bin_counts", "bin_t", "bin_sums", "bin_low", "bin_pos")
            arrays = _apply_moves({k: getattr(self, k) for k in names}, self._MINS, moves)
            for k, v in arrays.items():
                setattr(self, k, v)
        return cell

    def _peek(self, context):
        if context is None:
            raise ValueError("TsallisINFCB is contextual: pass context=...")
        return self._grid.peek(context)

    def probabilities(self, context):
        """Distribution for the next round in the cell of ``context``."""
        i = self._peek(context)
        if i is None:
            return np.full(self.n_arms, 1.0 / self.n_arms)
        return self._probabilities(i)

    def scaled_losses(self, context):
        """The estimates the distribution of ``context``'s cell is formed from."""
        i = self._peek(context)
        return np.zeros(self.n_arms) if i is None else self._scaled_losses(i)

    def _scaled_losses(self, i):
        return _scaled(self.L[i], self.W[i], float(self.bin_low[i]), float(self.bin_sums[i]),
                       int(self.bin_pos[i]), int(self.bin_t[i]))

    def _probabilities(self, i):
        return tsallis_probabilities(self._scaled_losses(i), 2.0 / math.sqrt(self.bin_t[i] + 1))

    def _select(self, i):
        return self._sample(self._probabilities(i))

    def _update(self, arm, cost, i, censored):
        p = self.p if self.p is not None else self._probabilities(i)
        if cost > 0.0:
            self.L[i + (arm,)] += cost / p[arm]
            self.W[i + (arm,)] += 1.0 / p[arm]
            self.bin_low[i] = cost if self.bin_pos[i] == 0 else min(self.bin_low[i], cost)
            self.bin_pos[i] += 1
        self.bin_t[i] += 1
        self.bin_sums[i] += cost
        self.bin_counts[i + (arm,)] += 1
        self.p = None

    def predict(self, context=None):
        """Self-normalised importance-weighted mean cost per arm in the context's cell,
        ``L_k / W_k`` (as :meth:`TsallisINF.predict`; NaN if never played there)."""
        i = self._peek(context)
        if i is None:
            return np.full(self.n_arms, np.nan)
        return _self_normalised(self.L[i], self.W[i], self.bin_counts[i])
