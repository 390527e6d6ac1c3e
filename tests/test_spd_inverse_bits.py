"""``bandit._kernels_ridge.spd_inverse``: the same bits as the textbook loops, and vectorised.

The change test's forgetting step (:meth:`bandit.JointCB._forget`, twice an inverse of the
120 × 120 ``P`` of the default configuration learner at every detected change) and the
context's rescaling (``refit``) invert with it.  Its loops run over many entries at once,
each with its own running sum in the textbook order, so every entry must be the same number,
bit for bit, as the entry-by-entry loops below (the learner's plays depend on it), and its
sums must vectorise (what the reordering is for: an untimed check on the compiled code).
"""
from __future__ import annotations

import platform
import re

import numba
import numpy as np
import pytest

from bandit._kernels_ridge import spd_inverse
from experiments.bench_refit import spd_inverse_textbook


# the entry-by-entry Cholesky inverse (the kernel before its loops were reordered), kept with
# the benchmark that times the two side by side (``relaxtune bench refit``); not cached, so it
# is compiled with the test
_textbook = spd_inverse_textbook.py_func
_textbook_jit = spd_inverse_textbook


def _cases(seed, count, dmax):
    rng = np.random.default_rng(seed)
    for n in range(count):
        d = int(rng.integers(1, dmax + 1))
        X = rng.standard_normal((d + int(rng.integers(0, 5)), d)) * 10.0 ** rng.uniform(-3, 3, d)
        M = X.T @ X
        if n % 3 == 1:  # not symmetric: the two triangles averaged
            M = M + 1e-3 * rng.standard_normal((d, d))
        if n % 5 == 2 and d > 2:  # singular: a lifted pivot
            M[:, 0] = M[0, :] = 0.0
        if n % 7 == 3:  # negative definite: every pivot lifted
            M = -M
        yield M


def _same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


@pytest.mark.parametrize("seed", [0, 1])
def test_small_matrices_match_the_python_loops_bit_for_bit(seed):
    for M in _cases(seed, 40, 12):
        with np.errstate(all="ignore"):  # (a lifted pivot's 1/tiny: NumPy's scalars warn)
            expected = _textbook(M)
        assert _same_bits(spd_inverse(M), expected), M.shape


def test_the_learners_sizes_match_the_textbook_loops_bit_for_bit():
    for M in _cases(2, 60, 130):
        assert _same_bits(spd_inverse(M), _textbook_jit(M)), M.shape


def test_a_learners_P_after_a_heat3d_like_run_matches_bit_for_bit():
    """A ridge ``P`` grown by rank-one updates (as the default configuration learner's), and
    its inverse inverted again, as :meth:`bandit.JointCB._forget` does."""
    import bandit

    pol = bandit.default_policy(None, [{"method": "ssor_pcg", "omega": w} for w in
                                       (1.0, 1.2, 1.4, 1.6, 1.8)] + [{"method": "cg"}],
                                context_bounds=(-2.0, 1.0), seed=0)
    rng = np.random.default_rng(0)
    for t in range(80):
        c = float(rng.uniform(-2.0, 1.0))
        k = pol.select(c)
        pol.update(k, float(1.0 + 0.1 * k + 0.3 * c + 0.05 * rng.random()), c)
    P = pol.P.copy()
    A = spd_inverse(P)
    assert _same_bits(A, _textbook_jit(P))
    A *= 0.25
    assert _same_bits(spd_inverse(A), _textbook_jit(A))


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="reads x86 assembly")
@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no compiled code to read")
def test_its_sums_vectorise():
    """The reordered loops' point: packed multiplies and adds (``v?mulpd``/``v?addpd`` or
    their subtract and fused forms are absent from the entry-by-entry loops' product phase).
    A fresh, uncached compilation of the kernel's own Python, so its assembly can be read."""
    fresh = numba.njit(spd_inverse.py_func)
    fresh(np.eye(3))
    asm = "\n".join(fresh.inspect_asm().values())
    # the product's running sums, s[j] += a * Li[k, j]: a packed add must be there
    assert re.search(r"\bv?addpd\b", asm), "the product phase's sums do not vectorise"
    assert re.search(r"\bv?subpd\b", asm), "the factor's and inverse's sums do not vectorise"
    # and no fused multiply-add: each term rounds as the textbook loops round it
    assert not re.search(r"\bvf(n?m(add|sub))\d*[ps]d\b", asm)
