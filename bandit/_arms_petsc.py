"""The PETSc half of :mod:`bandit.arms`: arms whose settings are PETSc options, checked by
the solvers' own option checks (:func:`solvers._petsc_options.check_options`), their labels
and calls, IC(0)'s shift as PETSc's ``pc_factor_shift_type``, and :func:`on_ranks` (an
``ic0`` arm on a Mat distributed over several ranks).  Imported from :mod:`bandit.arms`, where
:func:`on_ranks` is documented.
"""
from __future__ import annotations

import numbers

import numpy as np

from solvers._petsc_options import DIAGONAL_SHIFT, OMEGA_OPTION, SWEEP_OPTIONS, check_options

from .arms import PETSC_PCS, Config, _no_omega, _omega, parse_arm


def on_ranks(config: Config, ranks: int) -> Config:
    """``config`` as it runs on a PETSc Mat distributed over ``ranks`` ranks: an ``ic0`` arm
    (relaxtune's name) becomes block Jacobi with ICC(0) of each rank's block — PETSc has no
    ICC of a distributed Mat, and block Jacobi is what PETSc itself runs in parallel for a
    serial factorisation — labelled as such, since it is another preconditioner than IC(0)
    of the whole matrix (more iterations as the ranks grow).  Every other arm, and every arm
    on one rank, is returned as it is; an arm naming PETSc's ``pc_type`` ``icc`` itself is
    passed as written (and refused on several ranks, naming this block-Jacobi arm).

    >>> c = parse_arm({"method": "cg", "pc": "ic0"}, backend="petsc")
    >>> on_ranks(c, 1) is c, on_ranks(c, 2).label
    (True, 'cg+bjacobi(sub_pc_factor_shift_type=positive_definite, sub_pc_type=icc)')
    """
    if ranks <= 1 or config.backend != "petsc" or config.method != "cg" or config.pc != "ic0":
        return config
    from solvers._petsc_options import sub_options

    opts = config.call()[1]["options"]  # the serial arm's options (its shift said)
    # the arm a user would write for it (equal to it, the same label)
    return parse_arm({"method": "cg", **sub_options(opts)}, backend="petsc")


def _petsc_extra(knobs, method) -> str:
    show = {k: v for k, v in knobs.items() if k not in SWEEP_OPTIONS}
    return "(" + ", ".join(f"{k}={v}" for k, v in show.items()) + ")" if show else ""


def _petsc_call(config):
    """:meth:`bandit.arms.Config.call` of a PETSc arm: the solver and its options database
    entries (IC(0)'s shift said, ω passed apart from the options)."""
    import solvers

    opts = dict(config.knobs) or None
    if config.method == "cg":
        if config.pc == "ic0" and _SHIFT_OPTION not in opts:
            # PETSc's ICC default, said: a breakdown is shifted, as the Numba IC(0)'s
            opts[_SHIFT_OPTION] = _ICC_SHIFT_TYPES["shift"]
        if config.pc == "ic0" and "shift" in opts:  # IC(0) of A + shift·diag(A)
            opts[DIAGONAL_SHIFT] = opts.pop("shift")
        return solvers.cg, {"backend": "petsc", "options": opts}
    if opts:
        opts.pop(OMEGA_OPTION, None)  # ω goes through PCSORSetOmega
    fn = solvers.sor if config.method == "sor" else solvers.ssor_pcg
    return fn, {"omega": config.omega, "backend": "petsc", "options": opts or None}


def _petsc_reuse(reuse, where) -> None:
    """Refuse a set-up reuse on PETSc, where every new matrix sets its preconditioner up."""
    if reuse:
        raise ValueError(f"{where}: reuse applies to the Numba backend's preconditioners "
                         f"(on PETSc every new matrix sets its preconditioner up), so it "
                         f"must be 0 with backend='petsc'")


def _petsc_cg_config(arm, pc, rest, reuse, where) -> Config:
    """The Config of a PETSc ``cg`` configuration arm (``_parse_config`` of
    :func:`bandit.arms.parse_arm`): its preconditioner named by PETSc's ``pc_type`` or by
    relaxtune's ``pc``, checked with the other options."""
    _petsc_reuse(reuse, where)
    if "pc_type" in rest:
        if pc is not None:
            raise ValueError(f"{where}: give the preconditioner once, as pc or as pc_type")
        # a PETSc pc_type names the preconditioner itself (checked with the options); ω
        # (omega or pc_sor_omega) is pc_type sor's, checked and labelled as in an arm of
        # a Tuner with solver="cg"
        opts = dict(rest, **({"omega": arm["omega"]} if "omega" in arm else {}))
        return _petsc_config("cg", opts, where, omega_key=True)
    _no_omega(arm, pc, where)
    pc = "none" if pc is None else pc
    if pc not in PETSC_PCS:
        raise ValueError(f"{where}: unknown preconditioner {pc!r}; known: "
                         f"{sorted(PETSC_PCS)} (or a PETSc pc_type without 'pc')")
    if pc == "ic0" and "pc_factor_levels" in rest:
        # the name promises zero fill; ICC(k) is an arm named by its pc_type, and labelled so
        if str(rest["pc_factor_levels"]).strip() != "0":
            raise ValueError(f"{where}: ic0 is ICC with zero fill, but pc_factor_levels "
                             f"= {rest['pc_factor_levels']!r} asks for more; for ICC(k) "
                             f"write {{'method': 'cg', 'pc_type': 'icc', "
                             f"'pc_factor_levels': k}} (labelled cg+icc(pc_factor_levels=k))")
        rest.pop("pc_factor_levels")  # zero fill said explicitly: the same arm
    if pc == "ic0":
        rest = _petsc_ic0_shift(rest, where)
    return _petsc_config("cg", {**rest, "pc_type": PETSC_PCS[pc]}, where, omega_key=False,
                         pc_name=pc)


#: PETSc's shift of an ICC(0) factor meeting a non-positive pivot, for ``breakdown``
#: ``"shift"`` (PETSc's positive-definite rule, the ICC default, said explicitly) and
#: ``"raise"`` (no shift: the solve reports the breakdown)
_ICC_SHIFT_TYPES = {"shift": "positive_definite", "raise": "none"}
_SHIFT_OPTION = "pc_factor_shift_type"


def _petsc_ic0_shift(rest, where) -> dict:
    """The Numba IC(0) knobs ``shift`` and ``breakdown`` of a PETSc ``ic0`` arm as PETSc's
    ``pc_factor_shift_type`` (they had reached PETSc as unknown options, refused only at the
    first solve).  ``breakdown="shift"`` is PETSc's positive-definite shift (the default,
    pinned by :meth:`Config.call`), ``"raise"`` is no shift; ``shift > 0`` (factorise
    ``A + shift·diag(A)`` from the start) is kept as the knob ``shift``, which
    :meth:`Config.call` passes as a preconditioning matrix of that value
    (:data:`solvers._petsc_options.DIAGONAL_SHIFT`)."""
    rest = dict(rest)
    shift = rest.pop("shift", 0.0)
    if isinstance(shift, (bool, np.bool_)) or not isinstance(shift, numbers.Real) or not (
            0.0 <= shift < np.inf):
        raise ValueError(f"{where}: shift must be a finite number >= 0, got {shift!r}")
    if shift != 0.0:
        # ICC of a preconditioning matrix A + shift·diag(A) (Config.call passes it as the
        # solvers' DIAGONAL_SHIFT): PETSc's own shifts apply only on a non-positive pivot
        rest["shift"] = float(shift)
    if "breakdown" in rest:
        mode = rest.pop("breakdown")
        if mode not in _ICC_SHIFT_TYPES:
            raise ValueError(f"{where}: breakdown must be 'shift' or 'raise', got {mode!r}")
        given = rest.get(_SHIFT_OPTION)
        if given is not None and str(given).lower() != _ICC_SHIFT_TYPES[mode]:
            raise ValueError(f"{where}: breakdown={mode!r} is {_SHIFT_OPTION} "
                             f"{_ICC_SHIFT_TYPES[mode]!r}, but the arm also gives {given!r}")
        rest[_SHIFT_OPTION] = _ICC_SHIFT_TYPES[mode]
    if str(rest.get(_SHIFT_OPTION, "")).lower() == "positive_definite":
        rest.pop(_SHIFT_OPTION)  # the default said explicitly: the same arm
    return rest


def _petsc_config(method, opts, where, *, omega_key, pc_name=None) -> Config:
    """A PETSc arm: ω out of ``omega``/``pc_sor_omega``, the options checked by the solvers
    (:func:`solvers._petsc_options.check_options`), and its Config."""
    om = None
    if omega_key:
        if "omega" in opts and OMEGA_OPTION in opts and float(opts["omega"]) != float(
                opts[OMEGA_OPTION]):
            raise ValueError(f"{where}: omega and {OMEGA_OPTION} disagree")
        raw = opts.pop("omega", opts.get(OMEGA_OPTION))
        om = None if raw is None else _omega(raw, where, method)
    opts = check_options(method, opts, where, omega=om)
    if method in ("sor", "ssor_pcg"):
        return Config(method, None, om, 0, tuple(sorted(opts.items())), "petsc")
    return Config("cg", pc_name or opts["pc_type"], om, 0, tuple(sorted(opts.items())), "petsc")
