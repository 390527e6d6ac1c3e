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

import numbers
from dataclasses import dataclass

import numpy as np

from solvers._petsc_options import (OMEGA_OPTION, PREFIXES, SYMMETRIC_PCS,
                                    SYMMETRIC_SWEEP_OPTION)
from solvers._petsc_options import PCS as PCS_PETSC
from solvers.precond import _check_reuse
from solvers.precond import omega_text  # two decimals unless more tell ω apart

__all__ = ["Config", "parse_arm", "on_ranks", "config_grid", "arm_kwargs", "METHODS", "PCS",
           "PETSC_PCS", "PETSC_SYMMETRIC_PCS", "COSTS"]

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
_CONFIG_KEYS = ("method", "pc", "omega", "reuse")
# solve keywords the Tuner sets itself (an arm may not set them)
_TUNER_KEYS = frozenset({"x0", "rtol", "atol", "maxiter", "backend", "dtol"})


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


def _misspelt(keys, known) -> str:
    """``"; did you mean 'omega' for 'omgea'?"`` for the ``keys`` close to a ``known`` name
    (a misspelt key had been reported only by what it left missing), else ``""``: the end
    of a refusal's message."""
    import difflib

    pairs = [(k, m[0]) for k in sorted(map(str, keys)) if k not in known
             for m in [difflib.get_close_matches(k, list(known), n=1, cutoff=0.6)] if m]
    return ("; did you mean " + ", ".join(f"{m!r} for {k!r}" for k, m in pairs) + "?"
            if pairs else "")


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
            return f"{self.method} ω={omega_text(self.omega)}{extra}"
        if self.pc in (None, "none") and not knobs:
            return "cg"
        if self.backend == "petsc":
            knobs.pop("pc_type", None)
            om = "" if self.omega is None else f" ω={omega_text(self.omega)}"
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
        knobs = dict(self.knobs)
        # a PETSc preconditioner named by its pc_type (not one of the solvers' names) keeps it
        by_type = self.backend == "petsc" and self.method == "cg" and (
            PETSC_PCS.get(self.pc) != knobs.get("pc_type"))
        if self.method == "cg" and not by_type:
            out["pc"] = self.pc or "none"
        if self.omega is not None and not (self.backend == "petsc" and self.method == "cg"):
            out["omega"] = self.omega
        if self.reuse:
            out["reuse"] = self.reuse
        if self.backend == "petsc":
            if not by_type:
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
            return _petsc_call(self)
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
        # reuse is the Tuner's key, not a PETSc option: PETSc would call it misspelt
        opts = dict(arm)
        _petsc_reuse(_reuse(opts.pop("reuse", 0), where), where)
        return _petsc_config(solver, opts, where, omega_key=True)
    om = arm.get("omega", arm.get(OMEGA_OPTION))
    rest = {k: v for k, v in arm.items() if k not in ("omega", OMEGA_OPTION)}
    if solver == "cg":
        if rest:
            raise ValueError(f"{where} is not valid for cg: cg takes no settings "
                             f"{sorted(rest)}; for a preconditioner give the arm a method, "
                             f"e.g. {{'method': 'cg', 'pc': 'jacobi'}}"
                             f"{_misspelt(rest, _CONFIG_KEYS)}")
        return Config("cg", "none", None, 0, (), backend)
    allowed = {"order"} if solver == "ssor_pcg" else set()
    if om is None:
        typo = _misspelt(rest, {"omega", *allowed, *_CONFIG_KEYS})
        if typo:
            raise ValueError(f"{where} has unknown setting(s) {sorted(map(str, rest))}, "
                             f"and {solver} needs omega{typo}")
        raise ValueError(f"{where} has no omega, which {solver} needs; for another "
                         f"configuration give the arm a method, e.g. "
                         f"{{'method': 'cg', 'pc': 'jacobi'}}")
    return Config(solver, None, _omega(om, where, solver), 0, _knobs(rest, allowed, solver, where),
                  backend)


def _knobs(rest, allowed, what, where) -> tuple:
    unknown = sorted(set(rest) - allowed)
    if unknown:
        known = f"; it takes {sorted(allowed)}" if allowed else ""
        raise ValueError(f"{where} is not valid for {what}: unknown setting(s) {unknown}"
                         f"{known} (PETSc options need backend='petsc')"
                         f"{_misspelt(unknown, allowed | set(_CONFIG_KEYS))}")
    if "order" in rest:
        from solvers import SSOR_ORDERS

        if rest["order"] not in SSOR_ORDERS:
            raise ValueError(f"{where}: order must be one of {SSOR_ORDERS}, got "
                             f"{rest['order']!r}")
        if rest["order"] == "paper":  # the default, said explicitly: the same arm
            rest = {k: v for k, v in rest.items() if k != "order"}
    return tuple(sorted(rest.items()))


def _reuse(value, where) -> int:
    # the preconditioners' own check and bound (solvers.precond.MAX_REUSE), for every arm: a
    # PETSc or SSOR arm is refused by its range first, then for having nothing to keep
    return _check_reuse(value.item() if isinstance(value, np.generic) else value,
                        f"{where}: reuse")


def _no_omega(arm, pc, where) -> None:
    """Refuse ``omega`` in a ``cg`` arm (other than one of PETSc's ``pc_type``), on either
    backend."""
    if "omega" in arm:
        raise ValueError(f"{where}: omega belongs to SOR and SSOR; cg with "
                         f"pc={'none' if pc is None else pc!r} takes none")


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
    if backend == "petsc":
        return _petsc_cg_config(arm, pc, rest, reuse, where)
    _no_omega(arm, pc, where)
    pc = "none" if pc is None else pc
    petsc = sorted(k for k in rest if k.startswith(PREFIXES))
    if petsc:
        raise ValueError(f"{where}: {petsc} are PETSc options, which need backend='petsc' "
                         f"(on the Numba backend name the preconditioner with pc, one of "
                         f"{list(PCS)})")
    if pc not in PCS:
        raise ValueError(f"{where}: unknown preconditioner {pc!r}; known: {list(PCS)}")
    if pc == "none" and (rest or reuse):
        raise ValueError(f"{where}: cg with pc='none' takes no settings "
                         f"{sorted(rest) + (['reuse'] if reuse else [])}"
                         f"{_misspelt(rest, _CONFIG_KEYS)}")
    from solvers import PRECONDITIONERS, preconditioner

    defaults = PRECONDITIONERS[pc]().settings()
    unknown = sorted(set(rest) - set(defaults))
    if unknown:
        takes = f"{sorted(defaults)} and reuse" if defaults else "only reuse"
        raise ValueError(f"{where}: unknown setting(s) {unknown} for pc={pc!r}, which takes "
                         f"{takes}{_misspelt(unknown, {*defaults, *_CONFIG_KEYS})}")
    try:
        preconditioner(pc, **rest, reuse=reuse)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    # a default said explicitly is the same arm (same label, family and set-up)
    rest = {k: v for k, v in rest.items() if not v == defaults[k]}
    return Config("cg", pc, None, reuse, tuple(sorted(rest.items())), backend)


def _omega_list(values, name) -> list:
    """``values`` as a list of floats, or a ``ValueError`` naming ``name``: a string or a
    lone number is not a sequence of ω (``"1.2"`` would be read character by character)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of numbers (ω), got {values!r}"
                         + (f" (one ω: [{values!r}])" if not isinstance(values, (str, bytes))
                            else ""))
    out = []
    for w in values:
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Real):
            raise ValueError(f"{name} must be a sequence of numbers (ω), got the entry {w!r}")
        out.append(float(w))
    return out


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

    Raises
    ------
    ValueError
        Naming the problem: an ω list that is not a sequence of numbers, a ``reuse`` value
        that is not a non-negative integer, ``amg`` keys that are not AMG settings
        (``method``, ``pc``, ``omega``, ``reuse``), an invalid arm, or the same arm twice.

    Examples
    --------
    >>> config_grid([1.5], ["jacobi", "amg"], reuse=[0, 20])
    [{'method': 'ssor_pcg', 'omega': 1.5}, {'method': 'cg', 'pc': 'jacobi'}, {'method': 'cg', 'pc': 'amg'}, {'method': 'cg', 'pc': 'amg', 'reuse': 20}]
    """
    if isinstance(pcs, str):
        raise ValueError(f"pcs must be a sequence of preconditioner names, got {pcs!r} "
                         f"(one preconditioner: [{pcs!r}])")
    if isinstance(reuse, dict):
        unknown = [k for k in reuse if k not in PCS]  # others may name pcs not in this grid
        if unknown:
            raise ValueError(f"reuse names {', '.join(map(repr, unknown))}, which is not a "
                             f"preconditioner (known: {list(PCS)})")
    elif isinstance(reuse, (str, bytes)) or not hasattr(reuse, "__iter__"):
        raise ValueError(f"reuse must be a sequence of integers or a dict {{pc: integers}}, "
                         f"got {reuse!r}")
    owned = sorted(set(amg or ()) & set(_CONFIG_KEYS))
    if owned:  # they would turn every AMG arm into another, or the reuse values into one
        raise ValueError(f"amg holds the settings of the AMG arms (solvers.AMG's), not "
                         f"{owned}" + ("; give set-up reuse as reuse={'amg': [...]}"
                                       if "reuse" in owned else ""))
    out = [{"method": "ssor_pcg", "omega": w} for w in _omega_list(omegas, "omegas")]
    for pc in pcs:
        if pc == "ssor":
            raise ValueError("SSOR-PCG arms come from omegas, not pcs")
        values = reuse.get(pc, (0,)) if isinstance(reuse, dict) else (
            reuse if pc in ("ic0", "amg") else (0,))
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"reuse of {pc!r} must be a sequence of integers, got {values!r}")
        for r in values:
            r = _reuse(r, f"reuse of {pc!r}")  # 2.7 or "3" is no count of rounds
            arm = {"method": "cg", "pc": pc}
            if r:
                arm["reuse"] = r
            if pc == "amg" and amg:
                arm.update(amg)
            out.append(arm)
    out += [{"method": "sor", "omega": w} for w in _omega_list(sor_omegas, "sor_omegas")]
    seen = {}
    for i, arm in enumerate(out):
        c = parse_arm(arm, index=i)  # every arm valid before anyone runs it
        if c in seen:  # the learner would split its plays between two equal arms
            raise ValueError(f"config_grid would make arm {seen[c]} ({c.label}) twice (arm "
                             f"{i}): a value repeated in omegas, pcs, reuse or sor_omegas")
        seen[c] = i
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


# the PETSc half (bandit/_arms_petsc.py) makes Configs with the checks above: imported once
# they exist (importing bandit imports this module first)
from ._arms_petsc import (_petsc_call, _petsc_cg_config, _petsc_config,  # noqa: E402
                          _petsc_extra, _petsc_reuse, on_ranks)
