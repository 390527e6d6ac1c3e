"""Subnormal results flushed to zero inside the iterative kernels (x86-64's MXCSR ``FTZ`` bit).

A result below ``2⁻¹⁰²²`` in magnitude is *subnormal*, and on x86 processors every operation
that produces one (or reads one) takes a microcode assist of about a hundred cycles instead of
one.  Diffusion with small time steps makes them by the thousand: the solution of
``(I + r L) u = b`` for small ``r`` decays like ``r^d`` with the distance ``d`` from the
forcing, and SSOR's triangular sweeps carry that decay across the whole grid, so its tail
passes through the subnormal range in every sweep.  On the cooling fin of the preconditioner
study (``finadapt``, n = 16 384) an SSOR-PCG solve of an early step took 1.45 ms, 0.65 ms with
those results flushed, and plain CG run from the state SSOR-PCG left (its tail: 180 subnormal
entries) 0.65 ms against 0.40 from its own state — the cost a family switch seemed to have
(``docs/studies/precond_rules.md``).

So the solvers' kernels run with ``FTZ`` set (not ``DAZ``: a subnormal *input*, as in the
user's ``A``, ``b`` or ``x0``, is read as it is) and the caller's mode restored right after
(:func:`flush_on`, :func:`restore`), when the solve is of a scale at which a flushed result
cannot matter (:func:`flush_on`, :func:`flush_safe`): every diagonal entry at least
``2⁻⁴⁰⁰`` and every entry at most ``2⁴⁰⁰`` in magnitude, the tolerance at least ``2⁻⁴⁰⁰``
and ω (SOR, SSOR) at least ``2⁻¹⁰⁰``; ``b`` is already in ``[2⁻¹⁰⁰, 2¹⁰⁰]``
(``solvers._api._scaled``).  A result flushed is then below ``2⁻⁹²²·‖b‖`` and the squares of
the residuals the kernels test stay above ``2⁻⁸⁰⁰``: a change far below the rounding of any
iterate, and the iteration counts are those of IEEE arithmetic.  (Tolerances below the
rounding level, ``rtol = 1e-300``, let the recursive residual itself decay into the subnormal
range: run as before.)  Elsewhere (other processors, or a
system outside that scale) the kernels run in the caller's mode, as before.
"""
from __future__ import annotations

import platform

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: Flush subnormal results to zero in the solvers' kernels where :func:`flush_safe` allows it.
FLUSH_SUBNORMALS = True
#: MXCSR's flush-to-zero bit.
FTZ = np.uint32(0x8000)
#: The largest entry of ``A`` a flushed system may have: within ``[2**-LOG2_SCALE,
#: 2**LOG2_SCALE]``.
LOG2_SCALE = 400
_OMEGA_MIN = 2.0 ** -100
_TOL_MIN = 2.0 ** -LOG2_SCALE
#: whether the mode can be switched: an x86-64 processor, and compiled kernels (under
#: ``NUMBA_DISABLE_JIT=1`` the switches, LLVM intrinsics, cannot run as Python — every solve
#: had raised ``NotImplementedError: <intrinsic _stmxcsr> is not usable in pure-python`` —
#: and the kernels run in the caller's mode)
_X86 = (platform.machine().lower() in ("x86_64", "amd64")
        and not numba.config.DISABLE_JIT)
_PTR = ir.PointerType(ir.IntType(8))


@intrinsic
def _stmxcsr(typingctx):
    def codegen(context, builder, signature, args):
        slot = builder.alloca(ir.IntType(32))
        fn = builder.module.declare_intrinsic("llvm.x86.sse.stmxcsr",
                                              fnty=ir.FunctionType(ir.VoidType(), [_PTR]))
        builder.call(fn, [builder.bitcast(slot, _PTR)])
        return builder.load(slot)
    return types.uint32(), codegen


@intrinsic
def _ldmxcsr(typingctx, value):
    def codegen(context, builder, signature, args):
        slot = builder.alloca(ir.IntType(32))
        builder.store(args[0], slot)
        fn = builder.module.declare_intrinsic("llvm.x86.sse.ldmxcsr",
                                              fnty=ir.FunctionType(ir.VoidType(), [_PTR]))
        builder.call(fn, [builder.bitcast(slot, _PTR)])
        return context.get_dummy_value()
    return types.void(types.uint32), codegen


@numba.njit(cache=True)
def _flush_on():
    old = _stmxcsr()
    _ldmxcsr(old | FTZ)
    return old


@numba.njit(cache=True)
def _restore(old):
    # the FTZ bit as it was; the exception flags the kernel raised are kept (sticky, as in
    # any other computation)
    _ldmxcsr((_stmxcsr() & ~FTZ) | (old & FTZ))


@numba.njit(cache=True)
def mode() -> int:
    """This thread's MXCSR (x86-64 only; what the tests compare before and after a solve)."""
    return _stmxcsr()


def flush_on(op, tol, omega=1.0):
    """Set ``FTZ`` for a kernel's call on ``op`` with (scaled) tolerance ``tol`` and
    relaxation parameter ``omega`` if :func:`flush_safe`; returns the mode to hand to
    :func:`restore` (``None``: nothing was changed)."""
    if not (FLUSH_SUBNORMALS and _X86 and tol >= _TOL_MIN and omega >= _OMEGA_MIN
            ) or not flush_safe(op):
        return None
    return _flush_on()


def restore(old) -> None:
    """Undo :func:`flush_on` (``None``: nothing to undo)."""
    if old is not None:
        _restore(old)


def warm() -> None:
    """Load the two mode switches (with the solver kernels, when a solver is first used:
    ``solvers._api._load_failure_kernel``), leaving the mode as it was."""
    if FLUSH_SUBNORMALS and _X86:
        _restore(_flush_on())


def flush_safe(op) -> bool:
    """Whether results below ``2⁻¹⁰²²`` cannot matter in a solve on ``op``: every diagonal
    entry at least ``2⁻⁴⁰⁰`` (``_kernels_prep.SMALL_DIAGONAL``) and every entry at most
    ``2⁴⁰⁰`` in magnitude.  Read off the operator's value checks, which count those diagonal
    entries in their pass over the diagonal (cached with the values)."""
    ok = getattr(op, "_flush", None)  # (an operator pickled before this attribute)
    if ok is None:
        checks = op._checks
        if checks is not None and len(checks) > 6:
            amax, small = float(checks[0]), checks[6]
        else:  # (not refreshed: a plain prepare's operator, whose checks run lazily)
            from ._kernels_prep import SMALL_DIAGONAL

            amax = float(np.abs(op.data).max()) if op.nnz else 0.0
            small = op.n == 0 or not (op.has_diagonal.all() and float(
                np.abs(op.diagonal).min()) >= SMALL_DIAGONAL)
        ok = op._flush = not small and amax <= 2.0 ** LOG2_SCALE
    return ok
