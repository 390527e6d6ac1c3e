"""Configuration arms: what one solve of a :class:`bandit.Tuner` arm runs, and what it costs.

An arm is a float (ω of the Tuner's ``solver``), a dict of that solver's settings, or a
*configuration* dict that names its own method and preconditioner::

    {"method": "ssor_pcg", "omega": 1.4}                 SSOR-preconditioned CG
    {"method": "sor", "omega": 1.8}                      SOR
    {"method": "cg", "pc": "none" | "jacobi" | "ic0"}    CG, plain or preconditioned
    {"method": "cg", "pc": "amg", "reuse": 20, "cycle": "W"}   with pyamg knobs and set-up reuse

:func:`parse_arm` turns any of them into a :class:`Config` (validated, with a readable
:attr:`Config.label` such as ``"ssor_pcg ω=1.40"`` or ``"cg+amg reuse=20"``);
:func:`config_grid` makes a list of configuration arms; :class:`ArmSet` is what a Tuner holds:
one runnable call per arm (one preconditioner object per arm, kept across solves), set-up reuse
counted in Tuner rounds, the costs ``"iterations"``, ``"time"`` and ``"work"``, and the
conversion of a guard budget in cost units into each arm's iteration cap.

With ``backend="petsc"`` the same vocabulary maps to PETSc preconditioners (``jacobi``,
``ic0`` → ICC(0), ``amg`` → GAMG) and any other keys are PETSc options; a plain dict of PETSc
options (``{"pc_type": "gamg"}``) is an arm of the Tuner's ``solver`` as before.

Examples
--------
>>> parse_arm({"method": "cg", "pc": "amg", "reuse": 20}).label
'cg+amg reuse=20'
>>> parse_arm(1.4, "ssor_pcg").label
'ssor_pcg ω=1.40'
>>> [parse_arm(a).label for a in config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"])]
['ssor_pcg ω=1.20', 'ssor_pcg ω=1.60', 'cg+jacobi', 'cg+ic0']
"""
from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass

import numpy as np

from solvers._petsc_options import (OMEGA_OPTION, PREFIXES, SWEEP_OPTIONS, SYMMETRIC_PCS,
                                    SYMMETRIC_SWEEP_OPTION, check_options)
from solvers._petsc_options import PCS as PCS_PETSC

__all__ = ["Config", "parse_arm", "config_grid", "ArmSet", "arm_kwargs", "METHODS", "PCS", "PETSC_PCS",
           "PETSC_SYMMETRIC_PCS", "COSTS"]

#: Methods an arm can name.
METHODS = ("sor", "ssor_pcg", "cg")
#: Preconditioners of ``method="cg"`` on the Numba backend (``"ssor"`` is method ``ssor_pcg``).
PCS = ("none", "jacobi", "ic0", "amg")
#: The same names on the PETSc backend (``pc_type``).
PETSC_PCS = PCS_PETSC
#: PETSc ``pc_type`` values accepted for CG (symmetric positive definite as PETSc sets them up).
PETSC_SYMMETRIC_PCS = SYMMETRIC_PCS
#: What a Tuner can minimise.
COSTS = ("iterations", "time", "work", "timed_work")
# a family's fitted seconds ``a + b·work`` are used once it has this many solves
_FIT_MIN = 5

_CONFIG_KEYS = ("method", "pc", "omega", "reuse")
# solve keywords the Tuner sets itself (an arm may not set them)
_TUNER_KEYS = frozenset({"x0", "rtol", "atol", "maxiter", "backend", "dtol"})
# how conservative each kind of arm is (smaller first; see ArmSet.safety_order)
_SAFETY = {("cg", "jacobi"): 0, ("cg", "none"): 1, ("ssor_pcg", None): 2, ("cg", "ic0"): 3,
           ("cg", "icc"): 3, ("cg", "amg"): 4, ("cg", "gamg"): 4, ("sor", None): 6}


def _omega(value, where, method) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: omega must be a number in (0, 2), got {value!r}")
    w = float(value)
    if not 0.0 < w < 2.0:  # NaN fails too
        raise ValueError(f"{where}: omega must lie in the open interval (0, 2) for {method}, "
                         f"got {value!r}")
    return w


def _plain(value):
    """A JSON-plain copy of a setting value (NumPy scalars as Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Config:
    """One solver configuration: method, preconditioner, ω, set-up reuse and other settings.

    Parameters
    ----------
    method : {"sor", "ssor_pcg", "cg"}
    pc : str or None
        ``None`` for ``sor`` and ``ssor_pcg``; for ``cg`` a name of :data:`PCS` (Numba) or a
        PETSc ``pc_type`` (PETSc).
    omega : float or None
        ω of ``sor`` and ``ssor_pcg`` (and of PETSc's ``pc_type: sor``).
    reuse : int
        Set-up reuse (Numba ``cg`` with ``jacobi``, ``ic0`` or ``amg``): the set-up of round
        ``t`` serves the rounds up to ``t + reuse``.
    knobs : tuple of (name, value)
        Other settings, sorted: the preconditioner's keyword arguments (Numba; e.g. AMG's
        ``cycle``, SSOR-PCG's ``order``) or PETSc options (PETSc).
    backend : {"numba", "petsc"}

    Examples
    --------
    >>> c = Config("cg", "amg", reuse=20, knobs=(("cycle", "W"),))
    >>> c.label, c.settings()
    ('cg+amg(cycle=W) reuse=20', {'method': 'cg', 'pc': 'amg', 'reuse': 20, 'cycle': 'W'})
    """

    method: str
    pc: str | None = None
    omega: float | None = None
    reuse: int = 0
    knobs: tuple = ()
    backend: str = "numba"

    @property
    def label(self) -> str:
        """Readable name: ``"ssor_pcg ω=1.40"``, ``"cg+ic0"``, ``"cg+amg reuse=20"``, ``"cg"``."""
        knobs = dict(self.knobs)
        if self.method in ("sor", "ssor_pcg"):
            order = knobs.pop("order", "paper")
            extra = "" if order == "paper" or self.backend == "petsc" else f"({order})"
            if self.backend == "petsc":
                if knobs.get("pc_type") == "sor":
                    knobs.pop("pc_type")
                extra = _petsc_extra(knobs, self.method)
            return f"{self.method} ω={self.omega:.2f}{extra}"
        if self.pc in (None, "none") and not knobs:
            return "cg"
        if self.backend == "petsc":
            knobs.pop("pc_type", None)
            om = "" if self.omega is None else f" ω={self.omega:.2f}"
            return f"cg+{self.pc}{_petsc_extra(knobs, self.method)}{om}"
        return "cg+" + self.preconditioner().label

    @property
    def family(self) -> tuple:
        """Everything but ω (and SSOR's sweep order, which costs the same per iteration): arms
        of one family have comparable iteration counts."""
        knobs = tuple(kv for kv in self.knobs if not (kv[0] == "order" or (
            self.backend == "petsc" and kv[0] == OMEGA_OPTION)))
        return (self.method, self.pc, self.reuse, knobs, self.backend)

    @property
    def setup_key(self):
        """Arms with equal keys build the same preconditioner (they differ only in reuse);
        ``None`` for arms with nothing to set up (or whose set-up PETSc does inside the solve)."""
        if self.backend != "numba" or self.method != "cg" or self.pc in (None, "none"):
            return None
        return (self.pc, self.knobs)

    def settings(self) -> dict:
        """The configuration as an arm dict (``parse_arm(c.settings()) == c``)."""
        out = {"method": self.method}
        if self.method == "cg":
            out["pc"] = self.pc or "none"
        if self.omega is not None and not (self.backend == "petsc" and self.method == "cg"):
            out["omega"] = self.omega
        if self.reuse:
            out["reuse"] = self.reuse
        knobs = dict(self.knobs)
        if self.backend == "petsc":
            knobs.pop("pc_type", None)
            if self.method in ("sor", "ssor_pcg"):
                knobs.pop(SYMMETRIC_SWEEP_OPTION, None)
        out.update(knobs)
        return out

    def preconditioner(self):
        """A new, un-built :class:`solvers.Preconditioner` of a Numba ``cg`` arm (else None)."""
        if self.backend != "numba" or self.method != "cg" or self.pc in (None, "none"):
            return None
        from solvers import preconditioner

        return preconditioner(self.pc, **dict(self.knobs), reuse=self.reuse)

    def call(self):
        """``(function, keyword arguments)`` of one solve, without ``x0``, tolerances and caps:
        ``function(A, b, x0=..., rtol=..., maxiter=..., **kwargs)``.  A Numba ``cg`` arm with
        a preconditioner gets a new preconditioner object here; keep the pair to keep its
        set-up across solves.

        Examples
        --------
        >>> import numpy as np
        >>> from solvers import gallery
        >>> fn, kw = parse_arm({"method": "cg", "pc": "ic0"}).call()
        >>> fn(gallery.laplacian_2d(10), np.ones(100), **kw).info["pc"]
        'ic0'
        """
        import solvers

        if self.backend == "petsc":
            opts = dict(self.knobs) or None
            if self.method == "cg":
                return solvers.cg, {"backend": "petsc", "options": opts}
            if opts:
                opts.pop(OMEGA_OPTION, None)  # ω goes through PCSORSetOmega
            fn = solvers.sor if self.method == "sor" else solvers.ssor_pcg
            return fn, {"omega": self.omega, "backend": "petsc", "options": opts or None}
        if self.method == "sor":
            return solvers.sor, {"omega": self.omega}
        if self.method == "ssor_pcg":
            return solvers.ssor_pcg, {"omega": self.omega, **dict(self.knobs)}
        if self.pc in (None, "none"):
            return solvers.cg, {}
        return solvers.pcg, {"pc": self.preconditioner()}

    @property
    def requirements(self) -> tuple:
        """What ``A`` must satisfy: ``("diagonal",)``, ``("symmetric",)`` or both, with
        ``"positive"`` when the diagonal must be positive."""
        if self.method == "sor":
            return ("diagonal",)
        if self.method == "ssor_pcg" or (self.pc not in (None, "none")
                                         and self.backend == "numba"):
            return ("diagonal", "positive", "symmetric")
        return ("symmetric",)


def _petsc_extra(knobs, method) -> str:
    show = {k: v for k, v in knobs.items() if k not in SWEEP_OPTIONS}
    return "(" + ", ".join(f"{k}={v}" for k, v in show.items()) + ")" if show else ""


def _is_config_dict(arm) -> bool:
    return isinstance(arm, dict) and ("method" in arm or "pc" in arm)


def parse_arm(arm, solver="ssor_pcg", backend="numba", *, index=None) -> Config:
    """The :class:`Config` an arm stands for, validated; ``ValueError`` naming the problem.

    Parameters
    ----------
    arm : float or dict
        A float is ω of ``solver``; a dict with ``"method"`` or ``"pc"`` is a configuration
        (keys ``method``, ``pc``, ``omega``, ``reuse`` and the preconditioner's settings, or
        PETSc options with ``backend="petsc"``); any other dict holds settings of ``solver``
        (``omega``, SSOR-PCG's ``order``; PETSc options with ``backend="petsc"``).
    solver : {"ssor_pcg", "sor", "cg"}
        Method of float arms and of dicts without ``"method"``.
    backend : {"numba", "petsc"}
    index : int, optional
        Position in the arm list, used in messages.

    Examples
    --------
    >>> parse_arm({"method": "cg", "pc": "ssor", "omega": 1.4})   # = SSOR-PCG
    Config(method='ssor_pcg', pc=None, omega=1.4, reuse=0, knobs=(), backend='numba')
    >>> parse_arm({"pc_type": "sor", "pc_sor_omega": 1.2}, "cg", "petsc").label
    'cg+sor ω=1.20'
    >>> parse_arm({"method": "ssor_pcg"})
    Traceback (most recent call last):
    ...
    ValueError: arm {'method': 'ssor_pcg'}: ssor_pcg needs omega (a number in (0, 2))
    """
    where = f"arm {arm!r}" if index is None else f"arm {index} ({arm!r})"
    if backend not in ("numba", "petsc"):
        raise ValueError(f"backend must be 'numba' or 'petsc', got {backend!r}")
    if isinstance(arm, dict):
        arm = {str(k).lstrip("-") if backend == "petsc" else k: _plain(v) for k, v in arm.items()}
        owned = sorted(_TUNER_KEYS & arm.keys())
        if owned:
            raise ValueError(f"{where} sets {owned}, which the Tuner sets for every solve")
        if _is_config_dict(arm):
            return _parse_config(arm, backend, where)
        return _parse_settings(arm, solver, backend, where)
    if isinstance(arm, (bool, np.bool_)) or not isinstance(arm, numbers.Real):
        raise ValueError(f"{where} is neither a number (ω) nor a dict of settings")
    if solver not in METHODS:
        raise ValueError(f"unknown solver {solver!r}; known: {sorted(METHODS)}")
    if solver == "cg":  # plain CG takes no ω: a float arm of "cg" is plain CG
        return Config("cg", "none", None, 0, (), backend)
    return Config(solver, None, _omega(arm, where, solver), 0, (), backend)


def _parse_settings(arm, solver, backend, where) -> Config:
    """A dict of the Tuner's ``solver``'s own settings (no ``method``)."""
    if solver not in METHODS:
        raise ValueError(f"unknown solver {solver!r}; known: {sorted(METHODS)}")
    if backend == "petsc":
        return _petsc_config(solver, dict(arm), where, omega_key=True)
    om = arm.get("omega", arm.get(OMEGA_OPTION))
    rest = {k: v for k, v in arm.items() if k not in ("omega", OMEGA_OPTION)}
    if solver == "cg":
        if rest:
            raise ValueError(f"{where} is not valid for cg: cg takes no settings "
                             f"{sorted(rest)}; for a preconditioner give the arm a method, "
                             f"e.g. {{'method': 'cg', 'pc': 'jacobi'}}")
        return Config("cg", "none", None, 0, (), backend)
    if om is None:
        raise ValueError(f"{where} has no omega, which {solver} needs; for another "
                         f"configuration give the arm a method, e.g. "
                         f"{{'method': 'cg', 'pc': 'jacobi'}}")
    allowed = {"order"} if solver == "ssor_pcg" else set()
    return Config(solver, None, _omega(om, where, solver), 0, _knobs(rest, allowed, solver, where),
                  backend)


def _knobs(rest, allowed, what, where) -> tuple:
    unknown = sorted(set(rest) - allowed)
    if unknown:
        known = f"; it takes {sorted(allowed)}" if allowed else ""
        raise ValueError(f"{where} is not valid for {what}: unknown setting(s) {unknown}"
                         f"{known} (PETSc options need backend='petsc')")
    if "order" in rest:
        from solvers import SSOR_ORDERS

        if rest["order"] not in SSOR_ORDERS:
            raise ValueError(f"{where}: order must be one of {SSOR_ORDERS}, got "
                             f"{rest['order']!r}")
    return tuple(sorted(rest.items()))


def _reuse(value, where) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{where}: reuse must be a non-negative integer (rounds that may keep "
                         f"a set-up), got {value!r}")
    return int(value)


def _parse_config(arm, backend, where) -> Config:
    method = arm.get("method", "cg")
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {METHODS}, got {method!r}")
    pc = arm.get("pc", "ssor" if method == "ssor_pcg" else None)
    if pc is not None and not isinstance(pc, str):
        raise ValueError(f"{where}: pc must be a preconditioner name, got {pc!r}")
    if method == "cg" and pc == "ssor":
        method = "ssor_pcg"
    reuse = _reuse(arm.get("reuse", 0), where)
    rest = {k: v for k, v in arm.items() if k not in _CONFIG_KEYS}
    if method in ("sor", "ssor_pcg"):
        if pc not in (None, "ssor" if method == "ssor_pcg" else None):
            raise ValueError(f"{where}: method {method!r} has its own preconditioner; for "
                             f"pc={pc!r} use method 'cg'")
        if reuse:
            raise ValueError(f"{where}: {method} has no set-up to keep (it uses the current "
                             f"matrix), so reuse must be 0")
        if "omega" not in arm:
            raise ValueError(f"{where}: {method} needs omega (a number in (0, 2))")
        om = _omega(arm["omega"], where, method)
        if backend == "petsc":
            return _petsc_config(method, {**rest, "omega": om}, where, omega_key=True)
        allowed = {"order"} if method == "ssor_pcg" else set()
        return Config(method, None, om, 0, _knobs(rest, allowed, method, where), backend)
    # method "cg"
    pc = "none" if pc is None else pc
    if "omega" in arm:
        raise ValueError(f"{where}: omega belongs to SOR and SSOR; cg with pc={pc!r} takes none")
    if backend == "petsc":
        if reuse:
            raise ValueError(f"{where}: reuse applies to the Numba backend's preconditioners "
                             f"(on PETSc every new matrix sets its preconditioner up), so it "
                             f"must be 0 with backend='petsc'")
        if "pc_type" in rest:
            raise ValueError(f"{where}: give the preconditioner once, as pc or as pc_type")
        if pc not in PETSC_PCS:
            raise ValueError(f"{where}: unknown preconditioner {pc!r}; known: "
                             f"{sorted(PETSC_PCS)} (or a PETSc pc_type without 'pc')")
        return _petsc_config("cg", {**rest, "pc_type": PETSC_PCS[pc]}, where, omega_key=False,
                             pc_name=pc)
    petsc = sorted(k for k in rest if k.startswith(PREFIXES))
    if petsc:
        raise ValueError(f"{where}: {petsc} are PETSc options, which need backend='petsc' "
                         f"(on the Numba backend name the preconditioner with pc, one of "
                         f"{list(PCS)})")
    if pc not in PCS:
        raise ValueError(f"{where}: unknown preconditioner {pc!r}; known: {list(PCS)}")
    if pc == "none" and (rest or reuse):
        raise ValueError(f"{where}: cg with pc='none' takes no settings "
                         f"{sorted(rest) + (['reuse'] if reuse else [])}")
    from solvers import preconditioner

    try:
        preconditioner(pc, **rest, reuse=reuse)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    return Config("cg", pc, None, reuse, tuple(sorted(rest.items())), backend)


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


def config_grid(omegas=(1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9), pcs=("none", "jacobi", "ic0", "amg"),
                reuse=(0,), *, sor_omegas=(), amg=None) -> list:
    """A list of configuration arms: SSOR-PCG over ``omegas``, CG with each of ``pcs`` (each
    preconditioner with a set-up once per ``reuse`` value), SOR over ``sor_omegas``.

    Parameters
    ----------
    omegas : sequence of float
        ω of the SSOR-PCG arms.
    pcs : sequence of str
        CG preconditioners (:data:`PCS`).
    reuse : sequence of int, or dict
        Set-up reuse values of ``ic0`` and ``amg`` (Jacobi's set-up is one pass over the
        diagonal: it gets reuse 0 only), or ``{pc: values}`` per preconditioner.
    sor_omegas : sequence of float
        ω of the SOR arms (none by default: on SPD systems SSOR-PCG beats SOR).
    amg : dict, optional
        pyamg knobs for every AMG arm (``solvers.AMG``'s settings).

    Examples
    --------
    >>> config_grid([1.5], ["jacobi", "amg"], reuse=[0, 20])
    [{'method': 'ssor_pcg', 'omega': 1.5}, {'method': 'cg', 'pc': 'jacobi'}, {'method': 'cg', 'pc': 'amg'}, {'method': 'cg', 'pc': 'amg', 'reuse': 20}]
    """
    out = [{"method": "ssor_pcg", "omega": float(w)} for w in omegas]
    for pc in pcs:
        if pc == "ssor":
            raise ValueError("SSOR-PCG arms come from omegas, not pcs")
        values = reuse.get(pc, (0,)) if isinstance(reuse, dict) else (
            reuse if pc in ("ic0", "amg") else (0,))
        for r in values:
            arm = {"method": "cg", "pc": pc}
            if r:
                arm["reuse"] = int(r)
            if pc == "amg" and amg:
                arm.update(amg)
            out.append(arm)
    out += [{"method": "sor", "omega": float(w)} for w in sor_omegas]
    for i, arm in enumerate(out):
        parse_arm(arm, index=i)  # every arm valid before anyone runs it
    return out


def arm_kwargs(arm, solver="sor", backend="numba") -> dict:
    """Solver keyword arguments of an ω arm or a settings dict of ``solver`` (the arms of a
    custom solver function; configuration arms make their own calls, :meth:`Config.call`).

    A float is ``omega``.  A dict gives ``omega`` (or PETSc's ``pc_sor_omega``) as ``omega``
    and passes its other keys as keyword arguments, or, with ``backend="petsc"``, as the
    ``options`` database entries.  Plain CG takes no ``omega``.

    Examples
    --------
    >>> arm_kwargs(1.4)
    {'omega': 1.4}
    >>> arm_kwargs({"pc_type": "sor", "pc_sor_omega": 1.2}, "ssor_pcg", "petsc")
    {'omega': 1.2, 'options': {'pc_type': 'sor', 'pc_sor_omega': 1.2}}
    """
    from ._base import arm_omega

    om = arm_omega(arm)
    kw = {} if om is None or solver == "cg" else {"omega": om}
    if isinstance(arm, dict):
        rest = {k: v for k, v in arm.items() if k != "omega"}
        if backend == "petsc":
            if rest:
                kw["options"] = rest
        else:
            kw.update({k: v for k, v in rest.items() if k != OMEGA_OPTION})
    return kw


def _short_label(arm) -> str:
    """Label of a bare ω arm: ``"1.55"`` rather than linspace's ``"1.5499999999999998"``."""
    return f"{arm:.12g}" if isinstance(arm, (float, np.floating)) else str(arm)


def _unique(labels, configs):
    """Labels made unique: more digits of ω where two round alike, then the arm index."""
    out = list(labels)
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1 and configs is not None and configs[i].omega is not None:
            out[i] = lab.replace(f"ω={configs[i].omega:.2f}", f"ω={configs[i].omega:.12g}")
    twice = {lab for lab in out if out.count(lab) > 1}
    return [f"{lab} [{i}]" if lab in twice else lab for i, lab in enumerate(out)]


class _RequirementCheck:
    """What every arm needs of a prepared operator (a diagonal, a positive one, symmetry),
    naming the solver in its messages; a class, not a closure, so a Tuner pickles."""

    def __init__(self, name, diagonal, positive, symmetric):
        self.name, self.diagonal, self.positive, self.symmetric = (name, diagonal, positive,
                                                                   symmetric)

    def __call__(self, op):
        if self.diagonal:
            op.require_diagonal(self.name, positive=self.positive)
        if self.symmetric:
            op.require_symmetric(self.name)


class ArmSet:
    """The arms of a :class:`bandit.Tuner` as runnable configurations, with their costs.

    Holds one :class:`Config` and one call (solver function, keyword arguments, and for a
    Numba ``cg`` arm with a preconditioner its own preconditioner object) per arm, the
    running estimates behind the guard's budget, and the set-up reuse clock.

    *Reuse is counted in Tuner rounds*: a set-up built in round ``t`` by an arm with
    ``reuse=k`` serves that arm's solves up to round ``t + k`` and is rebuilt after that,
    however often the learner played the arm in between (an arm played rarely would
    otherwise apply a hierarchy built for a matrix hundreds of steps old; counted in rounds,
    an arm's cost depends on the sequence, not on the learner's past choices).

    Parameters
    ----------
    arms : list
        The policy's arms.
    solver : str or callable
        The Tuner's solver: the method of float arms and of settings dicts; a function runs
        every arm through itself (arms passed as keyword arguments, no configurations).
    backend : {"numba", "petsc"}
    cost : {"iterations", "time", "work", "timed_work"}
    """

    def __init__(self, arms, solver, backend="numba", cost="time"):
        self.custom = not isinstance(solver, str)
        self.backend, self.cost = backend, cost
        self.arms = list(arms)
        self.solver_name = solver if isinstance(solver, str) else getattr(
            solver, "__name__", "custom")
        K = len(arms)
        if self.custom:
            self.configs = None
            self.labels = [_short_label(a) for a in arms]
            self.family = [0] * K
        else:
            self.configs = [parse_arm(a, solver, backend, index=i) for i, a in enumerate(arms)]
            full = any(isinstance(a, dict) for a in arms) or len(
                {c.method for c in self.configs}) > 1
            labels = [c.label if full or isinstance(a, dict) else _short_label(a)
                      for a, c in zip(arms, self.configs)]
            self.labels = _unique(labels, self.configs)
            fams = {}
            self.family = [fams.setdefault(c.family, len(fams)) for c in self.configs]
        self.n_families = max(self.family) + 1 if K else 0
        self.heterogeneous = self.n_families > 1
        #: the methods of the arms (what ``A`` is checked for)
        self.methods = sorted({c.method for c in self.configs}) if self.configs else []
        #: whether some arm keeps a preconditioner across solves (then runs are aged)
        self.has_setups = False
        self.round = 0
        self._pcs = [None] * K
        self._built_round = [-1] * K
        self._stale = [False] * K
        # per family: cost units spent by iterations (set-up excluded), iterations
        self._rate = [[0.0, 0] for _ in range(max(self.n_families, 1))]
        self._all = [0.0, 0]  # every run: cost units, iterations
        self._per_work = [0.0, 0.0]  # every run, set-up excluded: seconds, work
        # per family, set-up excluded: n, Σw, Σw², Σs, Σsw (the fit s ≈ a + b·w of timed_work)
        self._fit = [[0, 0.0, 0.0, 0.0, 0.0] for _ in range(max(self.n_families, 1))]
        self._setup = {}  # set-up key -> latest set-up cost (cost units)
        self._models = {}  # (method, pattern) -> WorkModel of sor, ssor_pcg, cg
        self._it_work = {}  # (arm, pattern) -> work of one iteration (model), or None

    # -- persistence ------------------------------------------------------------------------
    def measured_state(self) -> dict:
        """What the runs so far measured (costs per iteration per family, seconds per unit
        of work, the timed-work fits, set-up costs): the guard's budgets and failure costs
        depend on it, so :meth:`bandit.Tuner.save` keeps it.  Set-up costs are listed by the
        first arm with that set-up."""
        keys = [c.setup_key for c in self.configs] if self.configs else []
        setup = [[keys.index(key), float(v)] for key, v in self._setup.items() if key in keys]
        return {"rate": [[float(c), int(n)] for c, n in self._rate],
                "all": [float(self._all[0]), int(self._all[1])],
                "per_work": [float(v) for v in self._per_work],
                "fit": [[int(f[0])] + [float(v) for v in f[1:]] for f in self._fit],
                "setup": sorted(setup)}

    def load_measured(self, state) -> None:
        """Restore :meth:`measured_state` (checked by the tuner file's reader)."""
        self._rate = [[float(c), int(n)] for c, n in state["rate"]]
        self._all = [float(state["all"][0]), int(state["all"][1])]
        self._per_work = [float(v) for v in state["per_work"]]
        self._fit = [[int(f[0])] + [float(v) for v in f[1:]] for f in state["fit"]]
        self._setup = {self.configs[int(k)].setup_key: float(v) for k, v in state["setup"]}

    # -- construction of the calls ---------------------------------------------------------
    def calls(self, solve_fn, common, guard_dtol):
        """Per arm: ``(function, {False: kwargs, True: kwargs with dtol})``; ``common`` holds
        the Tuner's tolerances and backend, ``guard_dtol`` the guarded runs' ``dtol`` (None: a
        function without ``dtol``)."""
        out = []
        for k in range(len(self.labels)):
            if self.custom:
                fn, kw = solve_fn, arm_kwargs(self.arms[k], self.solver_name, self.backend)
            else:
                fn, kw = self.configs[k].call()
                kw.pop("backend", None)
                self._pcs[k] = kw.get("pc")
                self.has_setups = self.has_setups or self._pcs[k] is not None
            plain = {**common, **kw}
            guarded = plain if guard_dtol is None else dict(plain, dtol=guard_dtol)
            out.append((fn, {False: plain, True: guarded}))
        return out

    def requirement_check(self):
        """One function of a prepared operator checking what every arm needs of ``A`` (a
        diagonal, a positive one, symmetry), naming the solver in its messages."""
        needs = {r for c in self.configs or () for r in c.requirements}
        first = self.configs[0] if self.configs else None
        if self.heterogeneous or first is None:
            name = "the arms"
        elif first.method == "cg" and first.pc not in (None, "none") and self.backend == "numba":
            name = f"pcg with pc={first.pc!r}"
        else:
            name = first.method  # the solver's own words
        return _RequirementCheck(name, "diagonal" in needs, "positive" in needs,
                                 "symmetric" in needs)

    def __getstate__(self):
        # a pyamg hierarchy holds a class local to pyamg, which pickle cannot find
        for pc in self._pcs:
            if type(pc).__name__ == "AMG" and pc.built:
                raise TypeError("a Tuner holding an AMG set-up (a pyamg hierarchy) cannot be "
                                "pickled; keep it with Tuner.save and restore it with Tuner.load")
        return self.__dict__

    def safety_order(self) -> list:
        """Arm indices from the most conservative to the least.

        For configuration arms: Jacobi-CG, plain CG (they converge on any SPD system, with
        nothing to set up that could be stale), SSOR-PCG by ``|ω − 1|``, IC(0)-CG, AMG-CG,
        other PETSc preconditioners, then SOR by ω; within each, fresh set-ups before reused
        ones.  ω-only arms keep their solver's order: SOR smallest ω first (under-relaxation
        damps the sweep), SSOR-PCG ω closest to 1; plain CG and custom solvers the list order.
        """
        K = len(self.labels)
        if self.custom:
            return list(range(K))
        keys = []
        for i, c in enumerate(self.configs):
            base = _SAFETY.get((c.method, c.pc if c.method == "cg" else None), 5)
            om = 0.0 if c.omega is None else (c.omega if c.method == "sor" else abs(c.omega - 1))
            keys.append((base, c.reuse > 0, om, i))
        return [k[3] for k in sorted(keys)]

    # -- running --------------------------------------------------------------------------
    def age(self, k) -> None:
        """Before a run of arm ``k``: a set-up older than its ``reuse`` window (in rounds) is
        dropped, so the run builds afresh."""
        pc = self._pcs[k]
        if pc is not None and pc.reuse and self.round - self._built_round[k] > pc.reuse:
            pc.invalidate()
            self._stale[k] = True

    def audit_call(self, k, call):
        """The call of arm ``k`` for an audit: a shallow copy of its preconditioner (sharing
        the set-up it has, aged the same way), so an audit neither builds nor ages the arm's
        own set-up."""
        fn, kw = call
        pc = self._pcs[k]
        if pc is None:
            return fn, kw
        twin = copy.copy(pc)
        if pc.reuse and self.round - self._built_round[k] > pc.reuse:
            twin.invalidate()
        return fn, {g: dict(kw[g], pc=twin) for g in kw}

    def observe(self, k, res) -> None:
        """After a run of arm ``k`` on the user's clock: the set-up clock and the estimates."""
        info = res.info
        setup = 0.0
        if self._pcs[k] is not None:
            if info.get("setup"):
                self._built_round[k] = self.round
                self._stale[k] = False
                key = self.configs[k].setup_key
                setup = info.get("setup_work", 0.0) if self.cost == "work" else info[
                    "setup_seconds"]
                self._setup[key] = setup
            elif info.get("reused") and not res.converged:
                self._stale[k] = True  # the solver rebuilds after a reused set-up failed
        cost = self.cost_of(res)
        its = res.iterations
        self._all[0] += cost
        self._all[1] += its
        row = self._rate[self.family[k]]
        row[0] += cost - setup if cost > setup else 0.0
        row[1] += its
        if self.cost in ("time", "timed_work") and "work" in info:
            sec = res.seconds - info.get("setup_seconds", 0.0)
            work = info["work"] - info.get("setup_work", 0.0)
            pw = self._per_work  # seconds per unit of work (the prior of an unplayed arm)
            pw[0] += sec
            pw[1] += work
            f = self._fit[self.family[k]]
            f[0] += 1
            f[1] += work
            f[2] += work * work
            f[3] += sec
            f[4] += sec * work

    def cost_of(self, res) -> float:
        """The cost of a run in the Tuner's units (``work`` and ``timed_work`` set by
        :meth:`attach_work`)."""
        if self.cost == "time":
            return float(res.seconds)
        if self.cost in ("work", "timed_work"):
            return float(res.info[self.cost])
        return float(res.iterations)

    def timed_work(self, k, res) -> float:
        """The ``timed_work`` cost of a run of arm ``k``: its work priced in seconds by its
        family's fit ``a + b·work`` to the measured seconds of the family's earlier solves
        (least squares; through the origin if the intercept comes out negative), plus the
        measured seconds of a set-up it built; the measured seconds until the family has
        :data:`_FIT_MIN` solves."""
        info = res.info
        n, sw, sww, ss, ssw = self._fit[self.family[k]]
        if n < _FIT_MIN or sw <= 0:
            return float(res.seconds)
        work = info["work"] - info.get("setup_work", 0.0)
        det = n * sww - sw * sw
        a = b = -1.0
        if det > 1e-12 * n * sww:
            b = (n * ssw - sw * ss) / det
            a = (ss - b * sw) / n
        if not (a >= 0.0 and b > 0.0):
            a, b = 0.0, (ssw / sww if sww > 0 else ss / sw)
        return a + b * work + info.get("setup_seconds", 0.0)

    @property
    def needs_work(self) -> bool:
        """Whether runs carry ``info["work"]``: the cost, or (time over several families) the
        prior of an arm's cost per iteration before it has run."""
        return self.backend == "numba" and self.configs is not None and (
            self.cost in ("work", "timed_work") or (self.cost == "time" and self.heterogeneous))

    def attach_work(self, k, res, op) -> None:
        """``res.info["work"]`` for arms whose solver does not report it (``pcg`` does)."""
        if self.configs is None or self.backend != "numba":
            return
        if "work" not in res.info:
            res.info["work"] = self._model(self.configs[k].method, op).total(
                res.iterations) if res.b_norm > 0 else 0.0
        if self.cost == "timed_work":
            res.info["timed_work"] = self.timed_work(k, res)

    def _model(self, method, op):
        key = (method, op.n, op.nnz, id(op.indptr))  # with_values copies share indptr
        model = self._models.get(key)
        if model is None:
            from solvers import work_model

            if len(self._models) > 64:
                self._models.clear()
            model = self._models[key] = work_model(method, op)
        return model

    def iteration_work(self, k, op):
        """Work of one iteration of arm ``k`` on ``op`` from the work model (None where it
        is not known before a set-up: AMG, PETSc, custom solvers)."""
        if self.configs is None or self.backend != "numba" or op is None:
            return None
        key = (k, op.n, op.nnz, id(op.indptr))
        if key in self._it_work:
            return self._it_work[key]
        c, pc = self.configs[k], self._pcs[k]
        if pc is None:
            w = self._model(c.method, op).per_iteration
        elif pc.built or c.pc != "amg":  # Jacobi and IC(0) count without a set-up
            w = (op.nnz + 6 * op.n + pc.apply_mults(op)) / op.nnz
        else:
            return None
        if len(self._it_work) > 256:
            self._it_work.clear()
        self._it_work[key] = w
        return w

    # -- the guard's budget -----------------------------------------------------------------
    def will_setup(self, k, op) -> bool:
        """Whether the next run of arm ``k`` on ``op`` builds its preconditioner (Numba ``cg``
        arms with one; an estimate from this set's own clock)."""
        pc = self._pcs[k]
        if pc is None:
            return False
        if not pc.built or self._stale[k]:
            return True
        if self.round - self._built_round[k] > pc.reuse:
            return True
        return not (pc.reuse > 0 and pc._op.n == op.n and pc._op.nnz == op.nnz)

    def setup_estimate(self, k, op) -> float:
        """Cost of the set-up arm ``k``'s next run would build (0 if none or not yet known)."""
        if not self.will_setup(k, op):
            return 0.0
        return self._setup.get(self.configs[k].setup_key, 0.0)

    def rate(self, k, op=None) -> float:
        """Cost per iteration of arm ``k`` (set-up excluded): measured on its family's runs;
        before any, the work model's figure (``cost="time"``: times the seconds per unit of
        work measured on every run); else every run's average; else NaN."""
        c, n = self._rate[self.family[k]]
        if n > 0 and c > 0:
            return c / n
        w = self.iteration_work(k, op) if self.cost != "iterations" else None
        if w is not None:
            if self.cost == "work":
                return w
            sec, work = self._per_work
            if sec > 0 and work > 0:
                return w * sec / work
        c, n = self._all
        return c / n if n > 0 and c > 0 else math.nan

    def budget(self, k, guard, predicted, op, maxiter) -> int:
        """Iteration cap of an exploratory attempt of arm ``k`` allowed ``guard × predicted``
        cost units (``predicted``: the leader's predicted cost).

        The arm's known set-up cost, shared over the ``reuse + 1`` rounds it serves, is taken
        off the allowance and the rest converted at the arm's cost per iteration (at least one
        iteration).  0 means *do not start*: the set-up alone exceeds the allowance
        (:meth:`setup_estimate` is then a lower bound of what the attempt would have cost).
        """
        if self.cost == "iterations":
            return int(min(maxiter, max(1, math.ceil(guard * predicted))))
        pc = self._pcs[k]
        setup = self.setup_estimate(k, op) if pc is not None and op is not None else 0.0
        share = setup / (1 + pc.reuse) if setup else 0.0
        if share > guard * predicted:
            return 0
        rate = self.rate(k, op)
        if not rate > 0:
            return maxiter
        its = guard * (predicted / rate) if not share else (guard * predicted - share) / rate
        return int(min(maxiter, max(1, math.ceil(its))))

    def failure_cost(self, maxiter, spent, op=None) -> float:
        """What a failed arm is told: at least what any arm converging within ``maxiter``
        could cost — the most expensive arm's ``maxiter`` iterations plus its set-up — and at
        least ``spent`` (the failed round's own cost)."""
        if self.cost == "iterations":
            return float(maxiter)
        worst = 0.0
        for k in range(len(self.labels)):
            rate = self.rate(k, op)
            if rate > 0:
                key = self.configs[k].setup_key if self.configs else None
                worst = max(worst, maxiter * rate + self._setup.get(key, 0.0))
        return max(worst, float(spent))


