"""The learner's dense kernels against the textbook loops they replaced, side by side.

Run under the shared lock, pinned to one core::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_refit

Two kernels of :mod:`bandit._kernels_ridge` are timed against references written here, which
compute the same numbers, bit for bit, in the order the kernels used before their loops were
reordered (``tests/test_refit_bits.py`` and ``tests/test_spd_inverse_bits.py`` check the bits):

* ``refit`` — the model re-expressed when a context widens the learnt range (``S G Sᵀ`` summed
  over ``S``'s non-zero entries) against :func:`refit_every_term` (every product summed); on
  the default ω learner's own widening (ten rounds of a context drifting from −3 by 0.05, then
  a context of 10), so ``S`` is that learner's, a Kronecker product with few non-zeros a row;
* ``spd_inverse`` — the Cholesky inverse of the change test's forgetting step and of ``refit``
  (sums over contiguous rows, vectorised) against :func:`spd_inverse_textbook` (each entry's
  sum one chain), on the default configuration learner's ``P`` (120 × 120 on the default grid).

Each pair is timed in one process, interleaved (the order alternating pair by pair), after a
call of each; printed: the medians with the 10th–90th percentiles and the median of the pairs'
ratios (kernel / reference) with its percentiles, and the CPU.
"""
from __future__ import annotations

import time

import numba
import numpy as np

from bandit._kernels_ridge import refit, spd_inverse

from ._bench import machine_header
from ._bench_cli import BenchParser

__all__ = ["refit_every_term", "spd_inverse_textbook", "refit_case", "inverse_case",
           "pairs", "main"]


def _spd_inverse_textbook(M):
    """The entry-by-entry Cholesky inverse: each sum one chain, its terms in index order
    (the order of :func:`bandit._kernels_ridge.spd_inverse` before its loops were reordered;
    a pivot below ``1e-14`` of the largest diagonal entry lifted to it, as there)."""
    d = M.shape[0]
    L = np.zeros((d, d))
    top = 0.0
    for i in range(d):
        top = max(top, abs(M[i, i]))
    floor = 1e-14 * max(top, 1e-300)
    for j in range(d):
        s = 0.5 * (M[j, j] + M[j, j])
        for k in range(j):
            s -= L[j, k] * L[j, k]
        L[j, j] = np.sqrt(s if s > floor else floor)
        for i in range(j + 1, d):
            s = 0.5 * (M[i, j] + M[j, i])
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / L[j, j]
    Li = np.zeros((d, d))
    for j in range(d):
        Li[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, d):
            s = 0.0
            for k in range(j, i):
                s -= L[i, k] * Li[k, j]
            Li[i, j] = s / L[i, i]
    out = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            s = 0.0
            for k in range(j, d):
                s += Li[k, i] * Li[k, j]
            out[i, j] = s
            out[j, i] = s
    return out


#: the reference compiled on first use (no cache: compiled with whoever imports it)
spd_inverse_textbook = numba.njit(_spd_inverse_textbook)


@numba.njit
def refit_every_term(P, theta, S, pen):
    """``refit`` with every product of ``S G Sᵀ`` summed, zeros of ``S`` included: returns
    ``(P_new, θ_new)`` for ``A = P⁻¹``, ``b = A θ``, ``G = A − pen``,
    ``A_new = S G Sᵀ + pen``, ``P_new = A_new⁻¹``, ``θ_new = P_new S b``."""
    d = P.shape[0]
    A = spd_inverse(P)
    b = A @ theta
    G = A - pen
    SG = np.zeros((d, d))
    for i in range(d):
        for k in range(d):
            s = S[i, k]
            if s != 0.0:
                for j in range(d):
                    SG[i, j] += s * G[k, j]
    An = pen.copy()
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for k in range(d):
                acc += SG[i, k] * S[j, k]
            An[i, j] += acc
    Pn = spd_inverse(An)
    Sb = np.zeros(d)
    for i in range(d):
        for k in range(d):
            Sb[i] += S[i, k] * b[k]
    th = np.zeros(d)
    for i in range(d):
        for k in range(d):
            th[i] += Pn[i, k] * Sb[k]
    return Pn, th


def refit_case(arms: int = 20):
    """The default ω learner's own widening: ``(P, θ, S, pen)`` as
    the learner hands them to ``refit`` after ten rounds of a context drifting from
    −3 by 0.05 and a context of 10 (far beyond the range seen).

    >>> P, theta, S, pen = refit_case(10)
    >>> bool(P.shape == S.shape == pen.shape and np.count_nonzero(S) < 0.2 * S.size)
    True
    """
    import bandit

    p = bandit.default_policy(None, np.linspace(1.0, 1.9, arms), seed=0)
    for t in range(10):
        c = -3.0 + 0.05 * t
        p.update(p.select(context=c), 20.0 + t, context=c)
    P, theta = p.P.copy(), p.theta.copy()
    _, S = p.features.observe(10.0)
    if S is None:
        raise RuntimeError("the context of 10 did not widen the learner's range")
    Sf = np.ascontiguousarray(np.kron(S, np.eye(p._X.shape[1])))
    pen = np.ascontiguousarray(np.diag(p._penalty_diag()))
    return P, theta, Sf, pen


def inverse_case(seed: int = 0):
    """The default configuration learner's ``P`` after 80 rounds of synthetic costs at
    contexts in (−2, 1) (the matrix the change test's forgetting step inverts).

    >>> inverse_case().shape[0] > 1
    True
    """
    import bandit

    pol = bandit.default_policy(None, bandit.config_grid(), context_bounds=(-2.0, 1.0),
                                seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(80):
        c = float(rng.uniform(-2.0, 1.0))
        k = pol.select(c)
        pol.update(k, float(1.0 + 0.1 * k + 0.3 * c + 0.05 * rng.random()), c)
    return np.ascontiguousarray(pol.P)


def pairs(new, ref, args, count: int):
    """Time ``new(*args)`` and ``ref(*args)`` ``count`` times each, interleaved (the order
    alternating pair by pair) after one untimed call of each; returns two arrays of seconds."""
    new(*args)
    ref(*args)
    a, b = np.empty(count), np.empty(count)
    for r in range(count):
        for f, out in (((new, a), (ref, b)) if r % 2 else ((ref, b), (new, a))):
            t0 = time.perf_counter()
            f(*args)
            out[r] = time.perf_counter() - t0
    return a, b


def _row(name, a, b):
    us = lambda x: "%.0f [%.0f, %.0f]" % (np.median(x) * 1e6, *np.percentile(x, [10, 90]) * 1e6)
    ratio = a / b
    return "| %s | %s | %s | %.2f [%.2f, %.2f] |" % (
        name, us(a), us(b), np.median(ratio), *np.percentile(ratio, [10, 90]))


def main(argv=None) -> int:
    """Print the side-by-side table; ``--pairs N`` pairs of each (default 31)."""
    ap = BenchParser("refit", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--pairs", type=int, default=31, help="timed pairs of each kernel (≥ 3)")
    ap.add_argument("--arms", type=int, default=20,
                    help="the ω learner's arms for refit's case (default 20)")
    args = ap.parse_args(argv)
    if args.pairs < 3:
        ap.error(f"--pairs must be at least 3, got {args.pairs}")
    if args.arms < 2:
        ap.error(f"--arms must be at least 2, got {args.arms}")
    case = refit_case(args.arms)
    M = inverse_case()
    print(machine_header())
    print(f"refit: d = {case[0].shape[0]}, {np.count_nonzero(case[2]) / case[2].shape[0]:.1f} "
          f"non-zeros a row of S; spd_inverse: d = {M.shape[0]}; {args.pairs} pairs each\n")
    print("| kernel | this code, µs (p10, p90) | reference, µs | ratio of pairs (p10, p90) |")
    print("|---|---:|---:|---:|")
    print(_row("refit", *pairs(refit, refit_every_term, case, args.pairs)))
    print(_row("spd_inverse", *pairs(spd_inverse, spd_inverse_textbook, (M,), args.pairs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
