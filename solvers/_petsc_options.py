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

__all__ = ["OMEGA_OPTION", "SYMMETRIC_SWEEP_OPTION", "PCS", "SYMMETRIC_PCS", "SWEEP_OPTIONS",
           "PREFIXES", "ARGUMENT_OPTIONS", "settings_omega", "check_options", "refuse_owned",
           "check_cg_preconditioner"]

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
    refuse_owned(method, opts, where)
    pc_type = str(opts.get("pc_type", "sor" if method != "cg" else "none"))
    if method in ("sor", "ssor_pcg"):
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


def check_cg_preconditioner(opts: dict, where: str = "options") -> None:
    """Refuse PETSc options that do not make one fixed symmetric positive definite
    preconditioner, which CG's short recurrence needs: a ``pc_type`` not known to be
    symmetric, a non-symmetric SOR sweep, an inner Krylov or tolerance-driven solve, a
    multigrid cycle that is not symmetric, an inner PC breaking these rules.

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
