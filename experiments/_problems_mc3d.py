"""The 3-D random-coefficient diffusion problems (:mod:`experiments.problems`): a Monte Carlo
batch of steady problems whose matrices share one pattern."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import scipy.sparse as sp

__all__ = ["DiffusionMC3D"]


def _gaussian_field(rng: np.random.Generator, m: int, corr: float) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field on an ``m³`` cell grid of the unit cube.

    White noise filtered in Fourier space by a Gaussian kernel of correlation length ``corr``
    (periodic, then normalised to unit sample variance): cheap, smooth, and enough to make
    each sample a different heterogeneous medium.
    """
    k = np.fft.fftfreq(m, d=1.0 / m) * 2.0 * np.pi  # wavenumbers of the unit cube
    K2 = k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2
    spectrum = np.exp(-0.25 * K2 * corr**2)
    g = np.real(np.fft.ifftn(np.fft.fftn(rng.standard_normal((m, m, m))) * spectrum))
    g -= g.mean()
    sd = g.std()
    return g / sd if sd > 0 else g


class DiffusionMC3D:
    """Monte Carlo sequence of steady 3-D diffusion problems ``−∇·(a ∇u) = 1``, ``u = 0`` on ∂Ω.

    Cell-centred finite volumes on an ``m × m × m`` grid of the unit cube (``n = m³``,
    7-point stencil, natural order with x fastest).  Sample ``t`` draws a log-normal
    coefficient ``a_t = exp(σ_t g_t)`` with ``g_t`` a unit-variance Gaussian random field of
    correlation length ``corr`` and ``σ_t`` uniform in ``sigma_range``; faces get the harmonic
    mean of their two cells (boundary faces ``2 a`` of the cell, a Dirichlet wall half a cell
    away).  Rows are scaled by ``h²`` so ``A_t = h⁻² ·`` (flux matrix) is SPD, an M-matrix, and
    shares one sparsity pattern across samples: the situation of a user who re-assembles a
    new scipy matrix each sample.  The context is ``σ_t`` (larger σ: higher contrast, worse
    conditioning, SOR's best ω closer to 2).

    Parameters
    ----------
    m : int, default 24
        Cells per side (``n = m³``; 24 gives n = 13 824).
    samples : int, default 100
        Length of the sequence.
    sigma_range : (float, float), default (0.25, 2.5)
        Range of the log-coefficient's standard deviation.
    corr : float, default 0.1
        Correlation length of the log-coefficient field.
    seed : int or None
        Seed of the sequence (the fields and σ's are drawn lazily per sample from
        ``(seed, t)``, so ``seq[t]`` is the same whatever order samples are visited in).

    Examples
    --------
    >>> seq = DiffusionMC3D(m=6, samples=3, seed=0)
    >>> A, b, sigma = seq[0]
    >>> A.shape, A.nnz, bool(abs(A - A.T).max() < 1e-12), 0.25 <= sigma <= 2.5
    ((216, 216), 1296, True, True)
    >>> bool(np.all(np.linalg.eigvalsh(A.toarray()) > 0))
    True
    >>> A2 = seq[1][0]
    >>> bool(np.array_equal(A.indices, A2.indices)), bool(np.allclose(A.data, A2.data))
    (True, False)
    """

    def __init__(self, m: int = 24, samples: int = 100, *, sigma_range=(0.25, 2.5),
                 corr: float = 0.1, seed=None):
        if int(m) != m or m < 2:
            raise ValueError(f"m must be an integer >= 2, got {m!r}")
        if int(samples) != samples or samples < 1:
            raise ValueError(f"samples must be a positive integer, got {samples!r}")
        lo, hi = (float(v) for v in sigma_range)
        if not (0.0 <= lo <= hi and np.isfinite(hi)):
            raise ValueError(f"sigma_range must be (lo, hi) with 0 <= lo <= hi, got {sigma_range!r}")
        if not (corr > 0 and np.isfinite(corr)):
            raise ValueError(f"corr must be a positive number, got {corr!r}")
        self.m, self.samples = int(m), int(samples)
        self.n = self.m ** 3
        self.h = 1.0 / self.m
        self.sigma_range, self.corr = (lo, hi), float(corr)
        self.seed = seed
        self.b = np.ones(self.n)  # f = 1, times h² after the row scaling
        self._assemble_pattern()

    @property
    def context_bounds(self) -> tuple[float, float]:
        """Interval of the context σ (the sigma range)."""
        return self.sigma_range

    def _assemble_pattern(self):
        m, n = self.m, self.n
        idx = np.arange(n).reshape(m, m, m)  # idx[z, y, x]
        pairs = []
        for axis in range(3):  # interior faces along each axis: (cell, neighbour)
            lo = np.take(idx, np.arange(m - 1), axis=axis).ravel()
            hi = np.take(idx, np.arange(1, m), axis=axis).ravel()
            pairs.append((lo, hi))
        self._faces = (np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
        # number of boundary faces of each cell (Dirichlet walls)
        walls = np.zeros((m, m, m))
        for axis in range(3):
            for end in (0, m - 1):
                sl = [slice(None)] * 3
                sl[axis] = end
                walls[tuple(sl)] += 1
        self._walls = walls.ravel()
        lo, hi = self._faces
        rows = np.concatenate([np.arange(n), lo, hi])
        cols = np.concatenate([np.arange(n), hi, lo])
        # canonical CSR of the pattern; `order` maps (diag, lo-hi, hi-lo) entries to data slots
        key = rows.astype(np.int64) * n + cols
        order = np.argsort(key, kind="stable")
        self._slot = np.empty_like(order)
        self._slot[order] = np.arange(order.size)
        self._indices = cols[order].astype(np.int32)
        self._indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))).astype(np.int32)

    def sigma(self, t: int) -> float:
        """σ_t, the context of sample ``t``."""
        return float(self._rng(t).uniform(*self.sigma_range))

    def _rng(self, t: int) -> np.random.Generator:
        return np.random.default_rng([0 if self.seed is None else int(self.seed), int(t)])

    def coefficient(self, t: int) -> np.ndarray:
        """Cell values of ``a_t`` (length ``n``, natural order)."""
        rng = self._rng(t)
        sigma = rng.uniform(*self.sigma_range)
        return np.exp(sigma * _gaussian_field(rng, self.m, self.corr)).ravel()

    def matrix(self, t: int) -> sp.csr_matrix:
        """``A_t`` as a new scipy CSR matrix on the shared pattern (sorted indices)."""
        a = self.coefficient(t)
        lo, hi = self._faces
        face = 2.0 * a[lo] * a[hi] / (a[lo] + a[hi])  # harmonic mean
        diag = 2.0 * a * self._walls
        np.add.at(diag, lo, face)
        np.add.at(diag, hi, face)
        vals = np.concatenate([diag, -face, -face]) / self.h**2
        data = np.empty(vals.size)
        data[self._slot] = vals
        return sp.csr_matrix((data, self._indices.copy(), self._indptr.copy()),
                             shape=(self.n, self.n))

    def __len__(self) -> int:
        return self.samples

    def __getitem__(self, t: int):
        """``(A_t, b, σ_t)``."""
        if not -self.samples <= t < self.samples:
            raise IndexError(f"sample {t} outside 0..{self.samples - 1}")
        t = t % self.samples
        return self.matrix(t), self.b.copy(), self.sigma(t)

    def __iter__(self) -> Iterator:
        for t in range(self.samples):
            yield self[t]

