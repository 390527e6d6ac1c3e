"""What passing arguments to a compiled call costs, cold and hot (the configuration learner's
draw has 19 arguments, 11 of them arrays; its update 24, 7 arrays).

Run under the shared lock, pinned to one core::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_dispatch

Empty compiled functions (each reads one number of its first arrays and returns) take the
same scalars as :func:`bandit._kernels.joint_decide` and its arrays in different shapes: the
11 arrays one by one (as it takes them), as one tuple, the 7 float arrays (flattened) as one
homogeneous tuple, as one ``StructRef`` holding the 11, as two flat buffers (one float64, one
int64: the state kept as views of two buffers), and no arrays at all (the dispatcher's floor).
*Cold*: the call right after a pass writing a 32 MiB array and some Python (as a solve pushes
the dispatcher's code and data out of the caches); *hot*: the same call again at once.
The variants run interleaved in a random order every round; medians with the 25th–75th
percentiles, µs a call.
"""
from __future__ import annotations

import time

import numpy as np
from numba import njit, types
from numba.experimental import structref

from ._bench import machine_header

__all__ = ["main", "run"]


@njit
def _args19(c, mid, scale, kind, m, theta, P, X, bonus, cap, near, mu, score, conv, fam, allow,
            sigma, afam, ferr):
    return theta[0] + P[0, 0] + mu[0]


@njit
def _tuple_mixed(c, mid, scale, kind, m, arrs, bonus, cap, sigma):
    return arrs[0][0] + arrs[1][0, 0] + arrs[4][0]


@njit
def _tuple_float(c, mid, scale, kind, m, arrs, bonus, cap, sigma):
    return arrs[0][0] + arrs[1][0] + arrs[2][0]


@njit
def _buffers(c, mid, scale, kind, m, fb, ib, bonus, cap, sigma):
    return fb[0] + ib[0]


@njit
def _scalars(c, mid, scale, kind, m, bonus, cap, sigma):
    return c + mid


@structref.register
class _StateType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


class _State(structref.StructRefProxy):
    pass


structref.define_proxy(_State, _StateType, ["theta", "P", "X", "near", "mu", "score", "conv",
                                            "fam", "allow", "afam", "ferr"])


@njit
def _struct(c, mid, scale, kind, m, s, bonus, cap, sigma):
    return s.theta[0] + s.P[0, 0] + s.mu[0]


def run(rounds=300, K=13, d=120, seed=0):
    """``{variant: (cold µs array, hot µs array)}`` over ``rounds`` interleaved rounds (a
    learner of ``K`` arms and ``d`` features, as the configuration grid's default)."""
    theta, P = np.zeros(d), np.eye(d)
    X, near = np.ones((K, 12)), np.ones((K, K), dtype=bool)
    mu, score = np.zeros(K), np.zeros(K)
    conv, fam = np.zeros(K, dtype=np.int64), np.zeros(0, dtype=np.int64)
    allow, afam, ferr = np.zeros(2), np.zeros(K, dtype=np.int64), np.zeros((2, 1))
    mixed = (theta, P, X, near, mu, score, conv, fam, allow, afam, ferr)
    flat = (theta, P.ravel(), X.ravel(), mu, score, allow, ferr.ravel())
    fb = np.zeros(sum(a.size for a in flat))
    ib = np.zeros(K * K + 3 * K, dtype=np.int64)
    state = _State(*mixed)
    inf = np.inf
    calls = {
        "11 arrays + 8 scalars": lambda: _args19(1.0, 0.5, 0.5, 0, 10, theta, P, X, 0.1, inf,
                                                 near, mu, score, conv, fam, allow, 0.1, afam,
                                                 ferr),
        "tuple of the 11": lambda: _tuple_mixed(1.0, 0.5, 0.5, 0, 10, mixed, 0.1, inf, 0.1),
        "tuple of 7 float 1-D": lambda: _tuple_float(1.0, 0.5, 0.5, 0, 10, flat, 0.1, inf, 0.1),
        "StructRef of the 11": lambda: _struct(1.0, 0.5, 0.5, 0, 10, state, 0.1, inf, 0.1),
        "2 buffers": lambda: _buffers(1.0, 0.5, 0.5, 0, 10, fb, ib, 0.1, inf, 0.1),
        "scalars only": lambda: _scalars(1.0, 0.5, 0.5, 0, 10, 0.1, inf, 0.1),
    }
    for f in calls.values():
        f()
    big = np.ones(4 << 20)
    out = {k: ([], []) for k in calls}
    rng = np.random.default_rng(seed)
    names = list(calls)
    for _ in range(rounds):
        for i in rng.permutation(len(names)):
            name = names[i]
            f = calls[name]
            big += 1.0
            sum(range(20000))
            t0 = time.perf_counter()
            f()
            t1 = time.perf_counter()
            f()
            t2 = time.perf_counter()
            out[name][0].append(t1 - t0)
            out[name][1].append(t2 - t1)
    return {k: (np.array(c) * 1e6, np.array(h) * 1e6) for k, (c, h) in out.items()}


def _cell(x):
    return f"{np.median(x):6.1f} [{np.percentile(x, 25):5.1f}, {np.percentile(x, 75):5.1f}]"


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rounds", type=int, default=300, help="interleaved rounds (default 300)")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error(f"--rounds must be at least 1, got {args.rounds}")
    print(machine_header())
    res = run(args.rounds)
    print(f"{'arguments (µs a call)':24s} {'cold':>22s} {'hot':>22s}")
    for k, (c, h) in res.items():
        print(f"{k:24s} {_cell(c):>22s} {_cell(h):>22s}")


if __name__ == "__main__":
    main()
