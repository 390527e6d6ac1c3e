"""The solvers' kernels flush subnormal results to zero (``solvers._fpmode``).

A cooling fin's early time steps (``I + r L`` with a small ``r``) have solutions that decay
geometrically away from the heater, and SSOR's, IC(0)'s and SOR's triangular sweeps carried
that tail through the subnormal range: a solve left dozens of subnormal entries in ``x``
(each operation on one costs a microcode assist on x86), and the next solve from there paid
for them again.  Checked here against IEEE arithmetic (the same solve with the flush off)
and against scipy's direct solve: the same iteration counts bit for bit, iterates that differ
by less than ``2⁻¹⁰²²``, the caller's floating-point mode untouched, and the systems outside
the flush's scale run as before.
"""
import platform

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import solvers
from solvers import _fpmode, gallery

TINY = np.finfo(float).tiny  # 2**-1022, the smallest normal number
x86 = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                         reason="the flush is x86-64's MXCSR")


def fin_steps(steps=6):
    """The systems of the first steps of the fin (ny = 2, n = 256), each from the direct
    solve of the step before: ``(A, b, x0)``."""
    from experiments._problems_fin import AdaptiveFin2D

    sim = AdaptiveFin2D(2)
    u, out = sim.initial(), []
    for k in range(steps):
        A, b, _ = sim.system(k, u)
        out.append((A, b, u))
        u = spla.spsolve(A.tocsc(), b)
    return out


SOLVES = {
    "cg": lambda A, b, x0: solvers.cg(A, b, x0=x0),
    "ssor_pcg": lambda A, b, x0: solvers.ssor_pcg(A, b, 1.5, x0=x0),
    "sor": lambda A, b, x0: solvers.sor(A, b, 1.5, x0=x0),
    "jacobi": lambda A, b, x0: solvers.pcg(A, b, "jacobi", x0=x0),
    "ic0": lambda A, b, x0: solvers.pcg(A, b, "ic0", x0=x0),
}


def subnormal_entries(x):
    a = np.abs(x)
    return int(np.count_nonzero((a > 0.0) & (a < TINY)))


@x86
@pytest.mark.parametrize("name", ["ssor_pcg", "sor", "ic0"])
def test_sweeps_leave_no_subnormal_entries_in_x(name):
    # (IEEE arithmetic leaves 8-10 in every step's x: 48-56 in all)
    found = sum(subnormal_entries(SOLVES[name](A, b, x0).x) for A, b, x0 in fin_steps())
    assert found == 0


@x86
@pytest.mark.parametrize("name", sorted(SOLVES))
def test_same_iterations_and_iterates_as_ieee_and_scipy(name, monkeypatch):
    for A, b, x0 in fin_steps():
        res = SOLVES[name](A, b, x0)
        monkeypatch.setattr(_fpmode, "FLUSH_SUBNORMALS", False)
        ieee = SOLVES[name](A, b, x0)
        monkeypatch.setattr(_fpmode, "FLUSH_SUBNORMALS", True)
        assert res.converged and ieee.converged
        assert res.iterations == ieee.iterations
        assert np.max(np.abs(res.x - ieee.x)) < TINY * 8
        assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)
        np.testing.assert_allclose(res.x, spla.spsolve(A.tocsc(), b), rtol=1e-6, atol=1e-12)


def control(mode):
    return int(mode) & ~0x3F  # MXCSR without its sticky exception flags


@x86
def test_the_callers_mode_is_restored_after_every_solve():
    before = control(_fpmode.mode())
    A, b, x0 = fin_steps(3)[-1]
    for solve in SOLVES.values():
        solve(A, b, x0)
        assert control(_fpmode.mode()) == before
        assert np.float64(TINY) / 2.0 > 0.0  # gradual underflow as before, outside
    # and after a failed solve (a breakdown on an indefinite matrix)
    M = sp.csr_array(sp.diags_array([1.0, -1.0, 1.0]))
    res = solvers.cg(M, np.ones(3))
    assert not res.converged and control(_fpmode.mode()) == before


@x86
def test_systems_outside_the_scale_run_in_ieee_arithmetic(monkeypatch):
    calls = []
    real = _fpmode._flush_on
    monkeypatch.setattr(_fpmode, "_flush_on", lambda: calls.append(1) or real())
    L = gallery.laplacian_2d(6)
    b = np.ones(36)
    solvers.cg(L, b)
    assert calls == [1]  # an ordinary system: flushed
    for A, kw in ((L * 2.0 ** -403, {}),                       # its diagonal too small
                  (L * 2.0 ** 402, {}),                        # its entries too large
                  (sp.csr_array(sp.diags_array([1e-308, 1.0, 2.0])), {}),
                  (L, {"rtol": 1e-300})):                      # a tolerance below rounding
        calls.clear()
        n = A.shape[0]
        solvers.cg(A, np.ones(n), **kw)
        solvers.ssor_pcg(A, np.ones(n), 1.2, **kw)
        assert calls == []
    calls.clear()
    solvers.ssor_pcg(L, b, 2.0 ** -101)  # an ω that scales every update below 2**-100
    solvers.pcg(L, b, "amg")  # a preconditioner whose solve runs Python code
    assert calls == []


@x86
def test_a_configuration_tuners_runs_are_flushed(monkeypatch):
    # the Tuner's checked runs (solvers._api.run_checked) reach the same kernels' calls: plain
    # CG after SSOR-PCG on the fin's step reads no subnormal start and leaves none
    import bandit

    calls = []
    real = _fpmode._flush_on
    monkeypatch.setattr(_fpmode, "_flush_on", lambda: calls.append(1) or real())
    arms = bandit.config_grid((1.5,), ("none",))
    tuner = bandit.Tuner(bandit.FixedArm(arms, arm=0), cost="time", guard=None)
    x = None
    for k, (A, b, x0) in enumerate(fin_steps()):
        if k == 3:
            tuner.policy.arm = 1  # plain CG from here on, from SSOR-PCG's state
        res = tuner.solve(A, b, x0=x0 if x is None else x)
        x = res.x
        assert res.converged and subnormal_entries(x) == 0
        assert np.linalg.norm(b - A @ x) <= 1e-8 * np.linalg.norm(b)
    assert tuner.arm_labels[1] == "cg" and len(calls) >= 6
