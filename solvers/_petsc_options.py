"""The PETSc option vocabulary of the solvers, without importing petsc4py.

Which PETSc options a solve of each method may take, and which of them carry ω, live here so
that callers that validate settings before any solve (the configuration arms of
:class:`bandit.Tuner`) need not know PETSc's option names or import PETSc.

Examples
--------
>>> settings_omega({"pc_type": "sor", "pc_sor_omega": 1.2}), settings_omega({"pc_type": "gamg"})
(1.2, None)
>>> check_options("cg", {"pc_type": "sor"}, omega=1.5)["pc_sor_omega"]
1.5
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["OMEGA_OPTION", "SYMMETRIC_SWEEP_OPTION", "PCS", "SYMMETRIC_PCS", "SWEEP_OPTIONS",
           "PREFIXES", "ARGUMENT_OPTIONS", "DIAGONAL_SHIFT", "settings_omega", "check_options",
           "refuse_owned", "check_cg_preconditioner", "option_text", "diagonal_shift",
           "check_shift_method", "sub_options"]

#: Not a PETSc option: CG's preconditioner is built from ``A + s·diag(A)`` (a separate
#: preconditioning matrix, ``KSPSetOperators(A, P)``) instead of ``A`` — IC(0) with a fixed
#: relative diagonal shift, which PETSc's ICC cannot express (its shifts apply only on a
#: non-positive pivot).  Taken out of the options before PETSc reads them.
DIAGONAL_SHIFT = "relaxtune_diagonal_shift"

#: The PETSc option that sets ω of PCSOR.
OMEGA_OPTION = "pc_sor_omega"
#: The solvers' preconditioner names and their PETSc ``pc_type``.
PCS = {"none": "none", "jacobi": "jacobi", "ic0": "icc", "amg": "gamg"}
#: PETSc ``pc_type`` values accepted for CG: symmetric positive definite preconditioners as
#: PETSc sets them up (``sor`` is given a symmetric sweep; ``asm`` needs ``pc_asm_type: basic``).
SYMMETRIC_PCS = ("none", "jacobi", "pbjacobi", "bjacobi", "icc", "ilu", "cholesky", "lu",
                 "gamg", "ml", "hypre", "mg", "eisenstat", "sor", "asm")
#: The PETSc option of PCSOR's symmetric sweep on each rank's rows (SSOR-PCG's sweep).
SYMMETRIC_SWEEP_OPTION = "pc_sor_local_symmetric"
#: Options that only describe the SOR sweep a method already runs (not shown in labels).
SWEEP_OPTIONS = (OMEGA_OPTION, SYMMETRIC_SWEEP_OPTION)
#: Option prefixes that mark a settings key as a PETSc option.
PREFIXES = ("pc_", "ksp_", "mg_", "sub_")
# options the method decides (the KSP and the unpreconditioned residual norm)
_OWNED = frozenset({"ksp_type", "ksp_norm_type"})
#: Options every solve sets itself from its arguments (a value given as an option would be
#: replaced without a word), and the argument that sets each.
ARGUMENT_OPTIONS = {"ksp_rtol": "rtol", "ksp_atol": "atol", "ksp_max_it": "maxiter",
                    "ksp_divtol": "dtol", "ksp_initial_guess_nonzero": "x0"}
_NONSYMMETRIC_SWEEPS = ("sor_forward", "sor_backward", "sor_local_forward", "sor_local_backward")


def settings_omega(settings: dict):
    """ω a settings dict stands for: its ``omega`` or its PETSc ``pc_sor_omega`` (else None)."""
    for key in ("omega", OMEGA_OPTION):
        if key in settings:
            return float(settings[key])
    return None


def option_text(key, value, where: str = "options") -> str:
    """The text PETSc reads for the value of option ``key``: ``""`` for None (a flag),
    ``"true"``/``"false"`` for a bool, a number's shortest round-trip form, a string as it is.

    NumPy scalars are numbers like any other (``np.float64(0.02)`` had reached PETSc as the
    text ``"np.float64(0.02)"``, its NumPy 2 repr, and was refused as "no numeric value");
    anything else (a list, an array, a dict) is refused by name: PETSc reads an array option
    as one string of comma-separated entries.

    >>> import numpy as np
    >>> [option_text("k", v) for v in (None, True, np.float64(0.02), np.int64(3), "0.1,0.05")]
    ['', 'true', '0.02', '3', '0.1,0.05']
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, str):
        return value
    hint = ""
    if isinstance(value, (list, tuple, np.ndarray)):
        entries = ",".join(str(v) for v in np.ravel(np.asarray(value, dtype=object)))
        hint = f"; for an array option give its entries as one string, e.g. {entries!r}"
    raise ValueError(f"{where}: the value of PETSc option {key!r} must be a number, a "
                     f"string, True/False or None, got {type(value).__name__} {value!r}"
                     + hint)


def diagonal_shift(opts, where: str = "options") -> float:
    """The :data:`DIAGONAL_SHIFT` of an option dict (0 without one): a finite number >= 0,
    else ``ValueError`` naming it.

    >>> diagonal_shift({"pc_type": "icc", DIAGONAL_SHIFT: "0.25"}), diagonal_shift({})
    (0.25, 0.0)
    """
    if not opts or DIAGONAL_SHIFT not in opts:
        return 0.0
    raw = opts[DIAGONAL_SHIFT]
    try:
        shift = float(raw) if isinstance(raw, (str, numbers.Real)) and not isinstance(
            raw, (bool, np.bool_)) else math.nan
    except ValueError:
        shift = math.nan
    if not 0.0 <= shift < math.inf:
        raise ValueError(f"{where}: {DIAGONAL_SHIFT} (the preconditioner of A + s·diag(A)) "
                         f"must be a finite number >= 0, got {raw!r}")
    return shift


def sub_options(opts: dict) -> dict:
    """The options of a preconditioner of the whole matrix as the sub-preconditioner of
    each rank's block (``bjacobi``/``asm``): ``pc_type`` and every other ``pc_*`` option
    prefixed ``sub_`` — an IC(0) arm's ``pc_factor_shift_type`` included, which a hint
    naming only ``sub_pc_type`` had dropped (PETSc's sub-ICC then shifts by default) —
    and :data:`DIAGONAL_SHIFT` kept as it is (it shapes the preconditioning matrix whose
    blocks are factorised).

    >>> sub_options({"pc_type": "icc", "pc_factor_shift_type": "none"})
    {'pc_type': 'bjacobi', 'sub_pc_type': 'icc', 'sub_pc_factor_shift_type': 'none'}
    """
    out = {"pc_type": "bjacobi"}
    if "pc_type" in opts:
        out["sub_pc_type"] = opts["pc_type"]
    for key, value in opts.items():
        out[key if key == DIAGONAL_SHIFT or not key.startswith("pc_") else "sub_" + key] = value
    return out


def check_options(method: str, opts: dict, where: str = "options", *, omega=None) -> dict:
    """Check the PETSc options a solve of ``method`` would receive; return them completed.

    ``opts`` holds PETSc options only (ω taken out of ``omega`` or ``pc_sor_omega``, checked,
    and passed as ``omega``; a ``pc_sor_omega`` may stay).  ``sor`` and ``ssor_pcg`` run PETSc's SOR (``pc_type``
    ``sor`` or ``eisenstat``; ``ssor_pcg`` with a symmetric sweep); ``cg`` needs one fixed
    symmetric positive definite preconditioner (no inner Krylov or tolerance-driven solve, a
    symmetric multigrid cycle, inner PCs held to the same rules), and ``pc_type: sor`` gets ω
    as ``pc_sor_omega`` and a symmetric sweep said explicitly.  Errors are ``ValueError`` starting with ``where``.
    """
    opts = dict(opts)
    for key, value in opts.items():
        option_text(key, value, where)
    refuse_owned(method, opts, where)
    pc_type = str(opts.get("pc_type", "sor" if method != "cg" else "none"))
    if method in ("sor", "ssor_pcg"):
        check_shift_method(method, opts, where)
        if pc_type not in ("sor", "eisenstat"):
            raise ValueError(f"{where}: {method} runs PETSc's SOR (pc_type 'sor' or "
                             f"'eisenstat'), not pc_type={pc_type!r}; "
                             f"{_instead(pc_type, opts)}")
        if omega is None:
            raise ValueError(f"{where} has no omega, which {method} needs (omega or "
                             f"{OMEGA_OPTION}); for another configuration give the arm a "
                             f"method, e.g. {{'method': 'cg', 'pc': 'jacobi'}}")
        if method == "ssor_pcg":
            _symmetric_sweeps(opts, where)
        return opts
    check_cg_preconditioner(opts, where)
    if pc_type == "sor":
        if omega is not None:
            opts[OMEGA_OPTION] = omega
        if not any(opts.get(k) in (True, "true", "1", 1) for k in
                   ("pc_sor_symmetric", SYMMETRIC_SWEEP_OPTION)):
            opts[SYMMETRIC_SWEEP_OPTION] = "true"  # say it, rather than rely on the default
    elif omega is not None:
        raise ValueError(f"{where}: omega belongs to pc_type 'sor', not {pc_type!r}")
    opts.setdefault("pc_type", pc_type)
    return opts


def check_shift_method(method: str, opts, where: str = "options") -> None:
    """Refuse a :data:`DIAGONAL_SHIFT` for ``method`` other than CG (SOR and SSOR sweep
    ``A`` itself).

    >>> check_shift_method("sor", {DIAGONAL_SHIFT: 0.5})
    Traceback (most recent call last):
    ...
    ValueError: options: relaxtune_diagonal_shift builds CG's preconditioner from A + s·diag(A); sor sweeps A itself and takes none
    """
    if opts and DIAGONAL_SHIFT in opts:
        raise ValueError(f"{where}: {DIAGONAL_SHIFT} builds CG's preconditioner from "
                         f"A + s·diag(A); {method} sweeps A itself and takes none")


def check_cg_preconditioner(opts: dict, where: str = "options") -> None:
    """Refuse PETSc options that do not make one fixed symmetric positive definite
    preconditioner, which CG's short recurrence needs: a ``pc_type`` not known to be
    symmetric, a non-symmetric SOR sweep, an inner Krylov or tolerance-driven solve, a
    multigrid cycle that is not symmetric (PETSc's own or hypre's BoomerAMG: see
    :func:`_hypre`), an inner PC breaking these rules.

    >>> check_cg_preconditioner({"pc_type": "gamg", "pc_mg_type": "kaskade"})
    Traceback (most recent call last):
    ...
    ValueError: options: pc_mg_type: kaskade is a multigrid cycle that is not symmetric (no smoothing on the way up, or a nested cycle), and CG needs a symmetric preconditioner; use multiplicative or additive
    """
    pc_type = str(opts.get("pc_type", "none"))
    if pc_type not in SYMMETRIC_PCS:
        raise ValueError(f"{where}: pc_type {pc_type!r} is not known to be a symmetric "
                         f"preconditioner, which CG needs; known: {list(SYMMETRIC_PCS)}")
    _symmetric_sweeps(opts, where)
    _fixed_operator(opts, where)
    _hypre(opts, where)
    diagonal_shift(opts, where)


def _instead(pc_type: str, opts: dict) -> str:
    """What to write for CG with PETSc's ``pc_type``: a configuration arm when the solvers
    have a name for it, else the options dict as an arm of a Tuner with ``solver='cg'``."""
    names = {v: k for k, v in PCS.items()}
    if pc_type in names and opts.keys() <= {"pc_type"}:
        return (f"for another preconditioner give the arm a method, e.g. "
                f"{{'method': 'cg', 'pc': {names[pc_type]!r}}}")
    return (f"for CG with pc_type={pc_type!r}, use this dict as an arm of a Tuner with "
            f"solver='cg'")


def refuse_owned(method: str, opts, where: str = "options") -> None:
    """Refuse PETSc options that a solve of ``method`` sets itself: the KSP and its residual
    norm (the method's), and the tolerances, cap and warm start (its arguments'), which every
    solve sets again — an option would be replaced without a word.

    >>> refuse_owned("cg", {"ksp_max_it": 5})
    Traceback (most recent call last):
    ...
    ValueError: options sets ['ksp_max_it'], which the solve sets from its own argument maxiter on every call: pass maxiter= instead
    """
    bad = sorted(_OWNED.intersection(opts))
    if bad:
        raise ValueError(f"{where} sets {bad}, which the method decides ({method}: "
                         f"unpreconditioned residual norm, the project's stopping rule)")
    bad = sorted(ARGUMENT_OPTIONS.keys() & set(opts))
    if bad:
        args = [ARGUMENT_OPTIONS[k] for k in bad]
        raise ValueError(f"{where} sets {bad}, which the solve sets from its own "
                         f"argument{'s' if len(bad) > 1 else ''} {', '.join(args)} on every "
                         f"call: pass {'=, '.join(args)}= instead")


#: Inner KSPs a preconditioner of CG may run: ``preonly`` (one application of the inner PC)
#: everywhere; on multigrid levels also Richardson and Chebyshev, which PCMG runs for a fixed
#: number of steps without a convergence test (a fixed polynomial in the level's PC).
_FIXED_KSPS = ("preonly",)
_FIXED_SMOOTHER_KSPS = ("preonly", "richardson", "chebyshev")
#: Multigrid cycles that are symmetric (with the same smoother before and after).
_SYMMETRIC_MG_TYPES = ("multiplicative", "additive")


def _fixed_operator(opts, where):
    """Refuse CG preconditioner options that make ``M⁻¹`` change from one application to the
    next or lose its symmetry: an inner Krylov solve (or any inner solve run to a tolerance),
    a one-sided multigrid cycle, distinct pre- and post-smoothers, an inner PC that is not
    symmetric.  CG's short recurrence assumes one fixed symmetric positive definite M⁻¹."""
    for k, v in opts.items():
        v = str(v).lower()
        if k.endswith("ksp_type") and "esteig" not in k:
            # an inner KSP (the outer one, ksp_type, is the method's; an eigenvalue estimate's
            # KSP runs in the set-up only and leaves the operator fixed)
            allowed = _FIXED_SMOOTHER_KSPS if k.startswith("mg_levels") else _FIXED_KSPS
            if v not in allowed:
                raise ValueError(
                    f"{where}: {k}: {v} makes the preconditioner an inner solve that changes "
                    f"with every vector (a nonlinear M⁻¹), and CG needs one fixed symmetric "
                    f"positive definite preconditioner; use {' or '.join(allowed)} there "
                    f"(for an inner Krylov solve use another method than CG)")
        elif k.endswith("pc_type"):
            if v not in SYMMETRIC_PCS:
                raise ValueError(f"{where}: {k} {v!r} is not known to be a symmetric "
                                 f"preconditioner, which CG needs inside its preconditioner "
                                 f"too; known: {list(SYMMETRIC_PCS)}")
            asm = k[:-len("pc_type")] + "pc_asm_type"
            if v == "asm" and str(opts.get(asm, "")).lower() != "basic":
                raise ValueError(f"{where}: PETSc's default ASM (restricted) is not "
                                 f"symmetric, which CG needs; with CG set {asm}: basic")
        elif k.endswith("pc_mg_type") and v not in _SYMMETRIC_MG_TYPES:
            raise ValueError(f"{where}: {k}: {v} is a multigrid cycle that is not symmetric "
                             f"(no smoothing on the way up, or a nested cycle), and CG needs a "
                             f"symmetric preconditioner; use {' or '.join(_SYMMETRIC_MG_TYPES)}")
        elif k.endswith("pc_mg_distinct_smoothup") and v not in ("false", "0", "no"):
            raise ValueError(f"{where}: {k} lets the smoother after the coarse correction "
                             f"differ from the one before it, so the cycle is not symmetric, "
                             f"which CG needs; leave it out (one smoother, both ways)")


def _symmetric_sweeps(opts, where):
    for k, v in opts.items():
        if k.endswith(_NONSYMMETRIC_SWEEPS) and str(v).lower() not in ("false", "0", "no"):
            raise ValueError(f"{where}: {k} makes a non-symmetric SOR sweep, which CG cannot "
                             f"use (it needs a symmetric preconditioner); leave it out for "
                             f"PETSc's symmetric sweep")


# -- hypre (pc_type hypre): BoomerAMG's cycle, ParaSails' symmetry, hypre's ILUs -------------
#: ``pc_hypre_type`` values that can be symmetric positive definite (ParaSails only with
#: ``pc_hypre_parasails_sym: SPD``; AMS and ADS are symmetric cycles).  Pilut (ILUT), Euclid
#: and hypre's ILU are incomplete LU factorisations, pilut's and ILUT's dropping row by row.
_HYPRE_TYPES = ("boomeramg", "parasails", "ams", "ads")
#: BoomerAMG smoothers (PETSc's names for ``pc_hypre_boomeramg_relax_type_*``, compared in
#: lower case) that are symmetric operators themselves.
_RELAX_SYMMETRIC = ("jacobi", "symmetric-sor/jacobi", "l1scaled-sor/jacobi",
                    "gaussian-elimination", "chebyshev", "fcf-jacobi", "l1scaled-jacobi")
#: One-directional sweeps and the sweep in the other direction (their adjoint): a cycle is
#: symmetric with one of them before the coarse correction and its reverse after it.
_RELAX_REVERSE = {"sor/jacobi": "backward-sor/jacobi", "backward-sor/jacobi": "sor/jacobi",
                  "l1-gauss-seidel": "backward-l1-gauss-seidel",
                  "backward-l1-gauss-seidel": "l1-gauss-seidel"}
#: One-directional sweeps without a reverse in BoomerAMG's list.
_RELAX_ONE_WAY = ("sequential-gauss-seidel", "seqboundary-gauss-seidel")
#: PETSc's defaults: a symmetric hybrid sweep down and up, Gaussian elimination at the bottom,
#: one sweep each way.
_RELAX_DEFAULT, _RELAX_COARSE_DEFAULT = "symmetric-sor/jacobi", "gaussian-elimination"
_HYPRE_KNOWN = _RELAX_SYMMETRIC + tuple(_RELAX_REVERSE) + _RELAX_ONE_WAY + ("cg",)
#: BoomerAMG's complex smoothers (``pc_hypre_boomeramg_smooth_type``) known to be symmetric:
#: hypre's multiplicative Schwarz sweeps its domains forward and then backward.
_SMOOTH_SYMMETRIC = ("schwarz-smoothers",)
#: BoomerAMG settings CG needs left at 0, and why (``{b}``: the options' prefix).
_HYPRE_ZERO = (
    ("tol", "stops BoomerAMG's cycles at a tolerance, which makes the preconditioner an "
            "operator that changes with every vector, and CG needs one fixed symmetric positive "
            "definite preconditioner; leave it at 0 (a fixed number of cycles, {b}max_iter)"),
    ("restriction_type", "(AIR) restricts with another operator than the transpose of the "
                         "interpolation, so the cycle is not symmetric, and CG needs a symmetric "
                         "preconditioner; leave it at 0"),
)


def _hypre(opts, where):
    """Refuse hypre preconditioners that are not one fixed symmetric operator, for every
    options prefix that has hypre options or ``pc_type: hypre`` (the outer PC, or an inner
    one such as ``sub_pc_type``).

    A multigrid V- or W-cycle ``x = B b`` is symmetric when the smoothing after the coarse
    correction is the adjoint of the smoothing before it and the coarse solve is symmetric:
    the same symmetric smoother (Jacobi, symmetric hybrid Gauss–Seidel, Chebyshev, ...) as many
    times each way, or a forward sweep down and the backward sweep up.  BoomerAMG's CG
    smoother, or a tolerance per application (``pc_hypre_boomeramg_tol`` > 0), makes it change
    with the vector; AIR restriction (``pc_hypre_boomeramg_restriction_type``) is not the
    transpose of the interpolation.  PETSc's own source marks the l1 Gauss–Seidel sweeps
    non-symmetric and CG non-stationary, and its manual asks for ``tol`` 0 for a fixed number
    of cycles.
    """
    low = {k: str(v).strip().lower() for k, v in opts.items()}
    prefixes = {k[:k.index("pc_hypre_")] for k in opts if "pc_hypre_" in k}
    prefixes |= {k[:-len("pc_type")] for k, v in low.items()
                 if k.endswith("pc_type") and v == "hypre"}
    for p in sorted(prefixes):
        _hypre_prefix(opts, low, p, where)


def _hypre_prefix(opts, low, p, where):
    key = f"{p}pc_hypre_type"
    kind = low.get(key, "boomeramg")
    if kind not in _HYPRE_TYPES:
        raise ValueError(
            f"{where}: {key} {opts[key]!r} is not known to be a symmetric preconditioner, "
            f"which CG needs (pilut, euclid and ilu are incomplete LU factorisations; pilut "
            f"drops entries row by row); known: boomeramg, parasails (with "
            f"{p}pc_hypre_parasails_sym: SPD), ams, ads — or pc_type icc")
    if kind == "parasails":
        sym = f"{p}pc_hypre_parasails_sym"
        if low.get(sym, "nonsymmetric") != "spd":
            said = f"is {opts[sym]!r}" if sym in opts else "is not set (default nonsymmetric)"
            raise ValueError(
                f"{where}: {sym} {said}: ParaSails then builds an approximate inverse that is "
                f"not symmetric, and CG needs a symmetric preconditioner; set {sym}: SPD")
    if kind != "boomeramg":
        return
    b = f"{p}pc_hypre_boomeramg_"
    for part in ("all", "down", "up", "coarse"):
        k = f"{b}relax_type_{part}"
        if k not in low:
            continue
        if low[k] == "cg":
            raise ValueError(
                f"{where}: {k}: {opts[k]} smooths with CG iterations, which makes the "
                f"preconditioner an operator that changes with every vector (a nonlinear "
                f"M⁻¹), and CG needs one fixed symmetric positive definite preconditioner; use "
                f"a stationary smoother such as symmetric-SOR/Jacobi")
        if low[k] not in _HYPRE_KNOWN:
            raise ValueError(f"{where}: {k} {opts[k]!r} is not known to CG's check of "
                             f"BoomerAMG's smoothers; known: {list(_HYPRE_KNOWN)}")

    def setting(part, default):  # the value in force and the option that set it
        for k in (f"{b}{part}", f"{b}{part.rsplit('_', 1)[0]}_all"):
            if k in low:
                return low[k], k
        return default, None

    k = f"{b}relax_type_coarse"  # (relax_type_all leaves the coarsest level to Gaussian
    if low.get(k, _RELAX_COARSE_DEFAULT) not in _RELAX_SYMMETRIC:  # elimination)
        raise ValueError(
            f"{where}: {k}: {opts[k]} is a one-directional sweep on the coarsest level, so "
            f"the coarse correction is not symmetric, and CG needs a symmetric "
            f"preconditioner; use Gaussian-elimination (the default) or a symmetric smoother "
            f"({', '.join(_RELAX_SYMMETRIC)})")
    down, kd = setting("relax_type_down", _RELAX_DEFAULT)
    up, ku = setting("relax_type_up", _RELAX_DEFAULT)
    if up != _RELAX_REVERSE.get(down, down if down in _RELAX_SYMMETRIC else None):
        raise ValueError(
            f"{where}: {_said(opts, kd, ku)} BoomerAMG to smooth with "
            f"{_shown(opts, kd, 'symmetric-SOR/Jacobi')} before the coarse correction and "
            f"{_shown(opts, ku, 'symmetric-SOR/Jacobi')} after it: the cycle is not "
            f"symmetric, and CG needs a symmetric "
            f"preconditioner; use the same symmetric smoother both ways (e.g. "
            f"symmetric-SOR/Jacobi, the default) or a sweep down and its reverse up "
            f"(SOR/Jacobi down with backward-SOR/Jacobi up, l1-Gauss-Seidel down with "
            f"backward-l1-Gauss-Seidel up)")
    nd, kd = setting("grid_sweeps_down", "1")
    nu, ku = setting("grid_sweeps_up", "1")
    if nd != nu and _number(nd) != _number(nu):
        raise ValueError(
            f"{where}: {_said(opts, kd, ku)} BoomerAMG to {_shown(opts, kd, 1)} sweep(s) before "
            f"the coarse correction and {_shown(opts, ku, 1)} after it: the cycle is not "
            f"symmetric, and CG needs a symmetric preconditioner; use {b}grid_sweeps_all")
    for name, why in _HYPRE_ZERO:
        k = f"{b}{name}"
        if k in low and _number(low[k]) != 0.0:
            raise ValueError(f"{where}: {k}: {opts[k]} {why.format(b=b)}")
    k = f"{b}smooth_type"
    if k in low and low[k] not in _SMOOTH_SYMMETRIC:
        raise ValueError(
            f"{where}: {k} {opts[k]!r} is a smoother not known to be symmetric (an incomplete "
            f"LU or an approximate inverse built without symmetry), applied the same way "
            f"before and after the coarse correction, and CG needs a symmetric "
            f"preconditioner; known: Schwarz-smoothers, or leave it out")


def _said(opts, *keys):
    """``"a sets"`` / ``"a and b set"``: the options (of ``keys``, None for a default) that
    set what a message is about."""
    named = sorted({k for k in keys if k is not None})
    return f"{' and '.join(named)} {'sets' if len(named) == 1 else 'set'}"


def _shown(opts, key, default):
    """The value of ``key`` as the user wrote it, or ``default`` said to be PETSc's."""
    return opts[key] if key is not None else f"{default} (the default)"


def _number(text):
    """``text`` as a float, or ``None`` if it is not one (PETSc will name the bad value)."""
    try:
        return float(text)
    except ValueError:
        return None
