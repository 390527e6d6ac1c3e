"""Could a solve read the user's CSR arrays directly?  The solvers' kernels on the split
layout against the same kernels on the plain CSR arrays, per iteration, and what the refresh
of a working copy costs per call (``python -m experiments.bench_layout``).

A tuned call on a freshly assembled matrix refreshes the Tuner's prepared operator: it
compares the pattern, checks the values and scatters them into the split layout (``[far
lower | far upper | a_{i,i−1} | a_{i,i+1} | diagonal]``, ``_kernels_prep.refresh_values``),
then checks the symmetric pairs and the diagonal.  Kernels that read ``data``/``indices``/
``indptr`` as the user passed them, with per-pattern arrays locating the diagonal and the
nearest neighbours, would need no scatter — only the pattern check and checks fused into the
solve's own passes.  That pays only if such kernels are about as fast per iteration as the
split ones.  The first table answers that, with kernels written here for the purpose (the
same algorithms, term for term and in the same order, so the same iterates: the benchmark
checks that both give bit-identical ``x``):

* **SSOR-PCG**: the solver's kernel (``_kernels_ssor.ssor_pcg_solve``) against the same passes
  reading full CSR rows: far lower entries from ``indptr[i]`` to the position of
  ``a_{i,i−1}``, far upper entries from after ``a_{i,i+1}`` to ``indptr[i+1]``, the near
  coefficients and the diagonal read from ``data`` by position (per-pattern arrays), ``1/a_ii``
  in a pass of its own on every solve;
* **SOR**: the sweep with its exact in-sweep residual (``_kernels._sor_sweep``, the sweep an
  SOR solve makes whenever it tests exactly) against the same on full CSR rows;
* **CG**: ``_kernels.cg_solve`` (it reads plain CSR already) on the operator's unsigned index
  copies against the user's own ``int32`` arrays — what a direct path would read.

Per-iteration time = (T(k₂) − T(k₁)) / (k₂ − k₁) from solves capped at ``k₁`` and ``k₂``
iterations, all six in one round in a random order (process CPU time); the median and
inter-quartile range of the per-round ratios over the rounds.

The second table times the parts of the refresh per call, each alone, right after an
SSOR-PCG solve on another operator and a fresh ``A.copy()`` (as in a loop): the whole
compiled refresh, its pattern compare, its scatter and its last loop (symmetric pairs,
diagonal), the check of ``b`` and ``x0`` (with the copy of ``x0``), and one streaming read
of the new CSR arrays, ``b`` and ``x0``.
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numba
import numpy as np

from solvers._kernels import BREAKDOWN, CONVERGED, DIVERGED, MAXITER, _sor_sweep, residual
from solvers._kernels_prep import ABS_BITS, INF_BITS, finish_values

U1 = np.uintp(1)
CONTRACT = {"contract"}

__all__ = ["plain_pattern", "ssor_pcg_plain", "sor_exact_plain", "measure", "main"]


def plain_pattern(op):
    """Per-pattern arrays of the plain-CSR kernels: ``(dptr, lend, lnk, ustart, unk)`` —
    the diagonal's position, the end of the far lower entries, the position of ``a_{i,i−1}``
    (−1: none), the start of the far upper entries, the position of ``a_{i,i+1}`` (−1)."""
    split = op.split_pattern()
    dptr = op.diag_ptr.astype(np.int64)
    lnk = split.lnear_k.astype(np.int64)
    unk = split.unear_k.astype(np.int64)
    lend = np.where(lnk >= 0, lnk, dptr).astype(np.uintp)
    ustart = np.where(unk >= 0, unk + 1, dptr + 1).astype(np.uintp)
    return dptr.astype(np.uintp), lend, lnk, ustart, unk


@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _near(data, pos):
    return data[np.uintp(pos)] if pos >= 0 else 0.0


@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _row_dot(indices, data, st, en, v):
    """``Σ_{st ≤ k < en} data[k] · v[indices[k]]``, summed from the first term as the
    solvers' kernels sum."""
    s = 0.0
    if en > st:
        s = data[st] * v[np.uintp(indices[st])]
        for k in range(st + U1, en):
            s += data[k] * v[np.uintp(indices[k])]
    return s


@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _lower(indptr, indices, data, lend, lnk, inv_diag, omega, i, rhs, v, prev):
    inv = inv_diag[i]
    s = _row_dot(indices, data, np.uintp(indptr[i]), lend[i], v)
    return (inv * rhs - (omega * inv) * s) - (omega * inv * _near(data, lnk[i])) * prev


@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _upper(indptr, indices, data, ustart, unk, inv_diag, omega, i, rhs, v, prev):
    inv = inv_diag[i]
    s = _row_dot(indices, data, ustart[i], np.uintp(indptr[i + 1]), v)
    return (inv * rhs - (omega * inv) * s) - (omega * inv * _near(data, unk[i])) * prev


@numba.njit(cache=True)
def invert_diagonal(data, dptr, inv_diag):
    """``1/a_ii`` gathered from ``data``; returns how many are zero (the per-call pass a
    direct path needs instead of the refresh)."""
    bad = 0
    for i in range(dptr.size):
        d = data[dptr[i]]
        inv_diag[i] = 1.0 / d if d != 0.0 else 0.0
        bad += d == 0.0
    return bad


@numba.njit(cache=True, fastmath=CONTRACT)
def _start(indptr, indices, data, ustart, unk, inv_diag, omega, x, b, rb):
    acc = 0.0
    prev = 0.0
    for i in range(b.size - 1, -1, -1):
        s = b[i]
        for k in range(np.uintp(indptr[i]), np.uintp(indptr[i + 1])):
            s -= data[k] * x[np.uintp(indices[k])]
        acc += s * s
        prev = _upper(indptr, indices, data, ustart, unk, inv_diag, omega, i, s, rb, prev)
        rb[i] = prev
    return np.sqrt(acc)


@numba.njit(cache=True, fastmath=CONTRACT)
def _backward(indptr, indices, data, ustart, unk, inv_diag, omega, rhs, v):
    prev = 0.0
    for i in range(rhs.size - 1, -1, -1):
        prev = _upper(indptr, indices, data, ustart, unk, inv_diag, omega, i, rhs[i], v, prev)
        v[i] = prev


@numba.njit(cache=True, fastmath=CONTRACT)
def _product(indptr, indices, data, dptr, ustart, unk, inv_diag, omega, c, beta, rb, p, t,
             p_new, t_new, g, q):
    shift = 2.0 - omega
    inv_omega = 1.0 / omega
    prev = 0.0
    rnext = 0.0
    pq = 0.0
    acc = 0.0
    for i in range(rb.size - 1, -1, -1):
        di = data[dptr[i]]
        ri = rb[i]
        pi = c * di * ri + beta * p[i]
        p_new[i] = pi
        ti = g[i] + beta * t[i]
        t_new[i] = ti
        rhs = pi - shift * di * ti
        st = ustart[i]
        en = np.uintp(indptr[i + 1])
        inv = inv_diag[i]
        near = _near(data, unk[i])
        s = 0.0
        sr = near * rnext
        if en > st:
            a = data[st]
            j = np.uintp(indices[st])
            s = a * g[j]
            sr += a * rb[j]
            for k in range(st + U1, en):
                a = data[k]
                j = np.uintp(indices[k])
                s += a * g[j]
                sr += a * rb[j]
        prev = (inv * rhs - (omega * inv) * s) - (omega * inv * near) * prev
        g[i] = prev
        qi = (ti + prev) * inv_omega
        q[i] = qi
        pq += pi * qi
        wr = di * ri + omega * sr
        acc += wr * wr
        rnext = ri
    return pq, acc


@numba.njit(cache=True, fastmath=CONTRACT)
def _update(indptr, indices, data, dptr, lend, lnk, inv_diag, omega, c, alpha, x, t, rb, q, g):
    rz = 0.0
    prev = 0.0
    for i in range(rb.size):
        x[i] += alpha * t[i]
        ri = rb[i] - alpha * q[i]
        rb[i] = ri
        zi = c * data[dptr[i]] * ri
        rz += zi * ri
        prev = _lower(indptr, indices, data, lend, lnk, inv_diag, omega, i, zi, g, prev)
        g[i] = prev
    return rz


@numba.njit(cache=True, fastmath=CONTRACT)
def ssor_pcg_plain(indptr, indices, data, dptr, lend, lnk, ustart, unk, inv_diag, omega, x, b,
                   tol, maxiter, dtol, work):
    """``_kernels_ssor.ssor_pcg_solve`` on the plain CSR arrays (same iterates); the caller
    fills ``inv_diag`` (:func:`invert_diagonal`)."""
    c = omega * (2.0 - omega)
    rb = work[0]
    rnorm = _start(indptr, indices, data, ustart, unk, inv_diag, omega, x, b, rb)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED
    limit = dtol * rnorm
    r = work[1]
    p = work[2]
    t = work[3]
    p_new = work[4]
    t_new = work[5]
    g = work[6]
    q = work[7]
    p[:] = 0.0
    t[:] = 0.0
    q[:] = 0.0
    rz = _update(indptr, indices, data, dptr, lend, lnk, inv_diag, omega, c, 0.0, x, t, rb, q, g)
    rz_old = rz
    beta = 0.0
    status = MAXITER
    it = 0
    test = False
    while True:
        pq, acc = _product(indptr, indices, data, dptr, ustart, unk, inv_diag, omega, c, beta,
                           rb, p, t, p_new, t_new, g, q)
        if test:
            rnorm = np.sqrt(acc)
            if rnorm <= tol:
                rnorm = residual(indptr, indices, data, x, b, r)
                if rnorm <= tol:
                    return it, rnorm, CONVERGED
                _backward(indptr, indices, data, ustart, unk, inv_diag, omega, r, rb)
                rz = _update(indptr, indices, data, dptr, lend, lnk, inv_diag, omega, c, 0.0, x,
                             t, rb, q, g)
                if not rz > 0.0:
                    status = BREAKDOWN
                    break
                beta = rz / rz_old
                test = False
                continue
            elif not rnorm <= limit:
                status = DIVERGED
                break
            if not rz > 0.0:
                status = BREAKDOWN
                break
        if it >= maxiter:
            break
        if not pq > 0.0:
            status = BREAKDOWN
            break
        p, p_new = p_new, p
        t, t_new = t_new, t
        alpha = rz / pq
        rz_new = _update(indptr, indices, data, dptr, lend, lnk, inv_diag, omega, c, alpha, x, t,
                         rb, q, g)
        it += 1
        beta = rz_new / rz
        rz_old = rz
        rz = rz_new
        test = True
    return it, rnorm, status


@numba.njit(cache=True, fastmath=CONTRACT)
def sor_exact_plain(indptr, indices, data, dptr, lend, lnk, ustart, unk, inv_diag, finish, ring,
                    x, b, omega, sweeps):
    """``sweeps`` of ``_kernels._sor_sweep`` (the sweep with the exact in-sweep residual) on
    the plain CSR arrays, same iterates and the same residual; returns the last ``‖r‖²``."""
    n = b.size
    mask = np.uintp(ring.size - 1)
    theta = (1.0 - omega) / omega
    acc = 0.0
    for _ in range(sweeps):
        acc = 0.0
        p = 0
        prev = 0.0
        for i in range(n):
            w = omega * inv_diag[i]
            s = b[i]
            if i + 1 < n:
                s -= _near(data, unk[i]) * x[i + 1]
            for k in range(ustart[i], np.uintp(indptr[i + 1])):
                s -= data[k] * x[np.uintp(indices[k])]
            st = np.uintp(indptr[i])
            en = lend[i]
            if en > st:
                s -= data[st] * x[np.uintp(indices[st])]
                for k in range(st + U1, en):
                    s -= data[k] * x[np.uintp(indices[k])]
            xo = x[i]
            xn = ((1.0 - omega) * xo + w * s) - (w * _near(data, lnk[i])) * prev
            x[i] = xn
            prev = xn
            ring[np.uintp(i) & mask] = xn - xo
            while p <= i and finish[p] <= i:
                r = theta * data[dptr[p]] * ring[np.uintp(p) & mask]
                if p + 1 < n:
                    r -= _near(data, unk[p]) * ring[np.uintp(p + 1) & mask]
                for k in range(ustart[p], np.uintp(indptr[p + 1])):
                    r -= data[k] * ring[np.uintp(indices[k]) & mask]
                acc += r * r
                p += 1
    return acc


@numba.njit(cache=True)
def sor_exact_split(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish, ring, x, b,
                    omega, sweeps):
    """``sweeps`` of the solver's ``_kernels._sor_sweep`` in one compiled loop."""
    acc = 0.0
    for _ in range(sweeps):
        acc = _sor_sweep(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish, ring, x,
                         b, omega)
    return acc


def _cpu(fn):
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def measure(A, b, omega=1.7, *, k1=5, k2=25, rounds=15, seed=0, index="own"):
    """Per-iteration times (s) of SSOR-PCG and of SOR's sweep, split vs plain, paired rounds.

    ``index``: ``"own"`` — the plain kernels read the operator's unsigned index arrays;
    ``"user"`` — the scipy matrix's own ``int32`` arrays and ``data`` (what a direct path
    would read).  Returns a dict of arrays (one entry per round) and the iteration check.
    """
    import solvers
    from solvers import _kernels as K, _kernels_ssor as KS

    op = solvers.prepare(A)
    (lp, li, ld, lnear), (up, ui, ud, unear) = op.split_triangles()
    diag, inv_split = op.diagonal, op.inv_diagonal
    dptr, lend, lnk, ustart, unk = plain_pattern(op)
    if index == "user":
        indptr, indices, data = A.indptr, A.indices, np.ascontiguousarray(A.data, np.float64)
    else:
        indptr, indices, data = op.indptr, op.indices, op.data
    n = op.n
    work_s = np.empty((KS.WORK_VECTORS, n))
    work_p = np.empty((KS.WORK_VECTORS, n))
    inv = np.empty(n)
    tol = 1e-300  # never met: every solve runs to its cap

    def split_pcg(k):
        x = np.zeros(n)
        return KS.ssor_pcg_solve(op.indptr, op.indices, op.data, lp, li, ld, lnear, up, ui, ud,
                                 unear, diag, inv_split, omega, x, b, tol, k, math.inf, work_s)

    def plain_pcg(k):
        x = np.zeros(n)
        invert_diagonal(data, dptr, inv)
        return ssor_pcg_plain(indptr, indices, data, dptr, lend, lnk, ustart, unk, inv, omega,
                              x, b, tol, k, math.inf, work_p)

    finish, ring = op.sor_finish(), op.ring()

    def split_sor(k):
        x = np.zeros(n)
        ring[:] = 0.0
        sor_exact_split(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_split, finish, ring, x,
                        b, omega, k)
        return x

    def plain_sor(k):
        x = np.zeros(n)
        ring[:] = 0.0
        invert_diagonal(data, dptr, inv)
        sor_exact_plain(indptr, indices, data, dptr, lend, lnk, ustart, unk, inv, finish, ring,
                        x, b, omega, k)
        return x

    work_c = np.empty((K.CG_WORK_VECTORS, n))

    def own_cg(k):
        x = np.zeros(n)
        return K.cg_solve(op.indptr, op.indices, op.data, x, b, tol, k, math.inf, work_c)

    def user_cg(k):
        x = np.zeros(n)
        return K.cg_solve(indptr, indices, data, x, b, tol, k, math.inf, work_c)

    # same iterates: a real solve to rtol 1e-8 by both, and the same sweeps
    tol8 = 1e-8 * float(np.linalg.norm(b))
    xs, xp = np.zeros(n), np.zeros(n)
    rs = KS.ssor_pcg_solve(op.indptr, op.indices, op.data, lp, li, ld, lnear, up, ui, ud, unear,
                           diag, inv_split, omega, xs, b, tol8, 10_000, math.inf, work_s)
    invert_diagonal(data, dptr, inv)
    rp = ssor_pcg_plain(indptr, indices, data, dptr, lend, lnk, ustart, unk, inv, omega, xp, b,
                        tol8, 10_000, math.inf, work_p)
    same = (rs[0] == rp[0] and rs[2] == rp[2] and np.array_equal(xs, xp)
            and np.array_equal(split_sor(7), plain_sor(7)))
    rng = np.random.default_rng(seed)
    same = same and np.array_equal(own_cg(9)[:2], user_cg(9)[:2])
    fns = {"pcg split": split_pcg, "pcg plain": plain_pcg, "sor split": split_sor,
           "sor plain": plain_sor, "cg split": own_cg, "cg plain": user_cg}
    out = {name: [] for name in fns}
    for _ in range(rounds):
        times = {}
        jobs = [(name, k) for name in fns for k in (k1, k2)]
        for j in rng.permutation(len(jobs)):
            name, k = jobs[j]
            times[name, k] = _cpu(lambda: fns[name](k))
        for name in fns:
            out[name].append((times[name, k2] - times[name, k1]) / (k2 - k1))
    return {name: np.array(v) for name, v in out.items()}, {"iterations": int(rs[0]),
                                                            "same": bool(same)}


@numba.njit(cache=True)
def refresh_compare(new_indptr, new_indices, src, indptr, indices):
    """The first loop of ``_kernels_prep.refresh_values``: pattern compare and value bits."""
    diff = np.int64(0)
    for i in range(indptr.size):
        diff |= np.int64(new_indptr[i]) ^ np.int64(indptr[i])
    bits = src.view(np.uint64)
    nonfinite = 0
    top = np.uint64(0)
    for k in range(indices.size):
        diff |= np.int64(new_indices[k]) ^ np.int64(indices[k])
        u = bits[k] & ABS_BITS
        nonfinite += u >= INF_BITS
        top = max(top, u)
    return diff, nonfinite, top


@numba.njit(cache=True)
def refresh_scatter(src, slot, values):
    """The second loop of ``_kernels_prep.refresh_values``: the values into the buffer."""
    for k in range(src.size):
        values[slot[k]] = src[k]


@numba.njit(cache=True)
def refresh_finish(values, umirror, lonely, inv, nl, nu):
    """The last part of ``_kernels_prep.refresh_values``: symmetric pairs, the diagonal."""
    n = inv.size
    return finish_values(values[nl + nu + 2 * n:nl + nu + 3 * n], values[nl + nu:nl + nu + n],
                         values[nl + nu + n:nl + nu + 2 * n], values[nl:nl + nu], values,
                         umirror, lonely, inv)


def refresh_parts(A, b, x0, *, rounds=15, seed=0):
    """Per-call times (s) of the parts of the refresh of a working copy by a fresh copy of
    ``A`` (``A.copy()`` just before, as a loop's assembly), each timed after an SSOR-PCG solve
    on another operator (the solve's arrays in cache, as in a loop): the whole compiled
    refresh, its three loops separately, the check of ``b`` and ``x0``, and one streaming read
    of the new CSR arrays, ``b`` and ``x0`` (the floor of any complete check)."""
    import solvers
    from solvers import _kernels_prep as P
    from solvers._checks import check_rhs_start

    from .bench_kernels import stream_csr

    op = solvers.prepare(A, overwrite=True)
    op.split_triangles()
    other = solvers.prepare(A)
    slot, umirror, lonely, nl, nu = op._values_pattern()
    values, inv = op._values, op.inv_diagonal
    x0v = b if x0 is None else x0
    parts = {
        "refresh": lambda B: P.refresh_values(B.indptr, B.indices, B.data, op.indptr,
                                              op.indices, slot, values, umirror, lonely, inv),
        "compare": lambda B: refresh_compare(B.indptr, B.indices, B.data, op.indptr,
                                             op.indices),
        "scatter": lambda B: refresh_scatter(B.data, slot, values),
        "finish": lambda B: refresh_finish(values, umirror, lonely, inv, nl, nu),
        "b, x0": lambda B: check_rhs_start(b, x0v, op.n),
        "read": lambda B: stream_csr(B.indptr, B.indices, B.data, b, x0v),
    }
    for fn in parts.values():
        fn(A.copy())
    rng = np.random.default_rng(seed)
    out = {name: [] for name in parts}
    names = list(parts)
    for _ in range(rounds):
        for j in rng.permutation(len(names)):
            solvers.ssor_pcg(other, b, 1.7, x0=x0, maxiter=5)
            B = A.copy()
            fn = parts[names[j]]
            out[names[j]].append(_cpu(lambda: fn(B)))
    return {name: np.array(v) for name, v in out.items()}


def _q(v):
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return med, q1, q3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.bench_layout",
        description="Could a solve read the user's CSR arrays directly? The solvers' kernels "
                    "on the split layout against the same kernels on plain CSR rows, per "
                    "iteration (medians and quartiles of paired rounds), and the parts of the "
                    "refresh of a working copy per call.")
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6],
                    help="approximate numbers of unknowns (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=15,
                    help="paired rounds per size (default %(default)s)")
    ap.add_argument("--index", choices=("own", "user"), default="user",
                    help="arrays the plain-CSR kernels read: the prepared operator's own "
                         "unsigned index copies and values, or the scipy matrix's own int32 "
                         "arrays and data, as a direct path would (default %(default)s)")
    args = ap.parse_args(argv)
    from experiments.bench_tuner import make_systems

    from . import _bench as B

    print(B.machine_header())
    print("| problem | n | SSOR-PCG µs/it | plain / split | SOR µs/sweep | plain / split "
          "| CG µs/it | user / own | same iterates |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for problem in ("heat2d", "mc3d"):
        for size in args.sizes:
            systems, meta = make_systems(problem, size, 1)
            A, b, _ = systems[0]
            k2 = 25 if size < 5e5 else 12
            res, chk = measure(A, b, rounds=args.rounds, k1=3, k2=k2, index=args.index)
            cells = []
            for kind in ("pcg", "sor", "cg"):
                s, p = res[f"{kind} split"], res[f"{kind} plain"]
                m, _, _ = _q(s)
                r, q1, q3 = _q(p / s)
                cells += [f"{m * 1e6:.1f}", f"{r:.3f} [{q1:.3f}–{q3:.3f}]"]
            print(f"| {problem} | {meta['n']:,} | " + " | ".join(cells)
                  + f" | {'yes' if chk['same'] else 'NO'} |", flush=True)
    print()
    print("Per call, after a solve (µs, median): the refresh of the working copy and its loops")
    print("| problem | n | nnz | refresh | compare | scatter | finish | b, x0 | read |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for problem in ("heat2d", "mc3d"):
        for size in args.sizes:
            systems, meta = make_systems(problem, size, 1)
            A, b, x0 = systems[0]
            parts = refresh_parts(A, b, x0, rounds=args.rounds)
            cells = [f"{np.median(parts[k]) * 1e6:.0f}" for k in parts]
            print(f"| {problem} | {meta['n']:,} | {meta['nnz']:,} | " + " | ".join(cells) + " |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
