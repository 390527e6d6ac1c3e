"""Online learners for solver parameters (costs minimised) and the Tuner that applies them.

Every policy follows one ask/tell protocol (:class:`Policy`): ``k = p.select(context)``, run
the solver with ``p.arms[k]``, ``p.update(k, cost, context)``.  See ``docs/bandit.md``.

Examples
--------
>>> import numpy as np
>>> from bandit import POLICIES, simulate, regret
>>> C = np.array([[4.0, 3.0, 3.5]] * 300)            # arm 1 always cheapest
>>> arms = simulate(POLICIES["smooth_igw"]([1.0, 1.4, 1.8], seed=0), C)
>>> int(np.bincount(arms).argmax()), bool(regret(C, arms).best_fixed[-1] < 0.1 * 300 * 3)
(1, True)
"""
from solvers._jitcache import ensure_cache_dir as _ensure_cache_dir

_ensure_cache_dir(__file__)  # before any kernel is defined (read-only installs)
from ._base import Policy, RepeatedArmWarning, arm_omega
from ._persist import TunerFileError
from .arms import Config, config_grid, parse_arm
from .baselines import FixedArm, UniformRandom
from .defaults import DEFAULT_ARMS, default_policy
from .family import FamilyCB, arm_families
from .joint import JointCB
from .prior import theory_costs
from .regret import Regret, best_fixed_arm, regret, regret_of_costs
from .simulate import simulate
from .smooth import SmoothIGW
from .squarecb import ChebCB, ChebLCB, SplineCB, SquareCB
from .tsallis import TsallisINF, TsallisINFCB, tsallis_probabilities
from ._tuner_own import TunerCostWarning
from .tuner import Tuner, arm_kwargs

#: Registry name -> policy class (``cls.contextual`` says whether it needs a context).
POLICIES = {
    "fixed": FixedArm,
    "uniform": UniformRandom,
    "tsallis_inf": TsallisINF,
    "tsallis_inf_cb": TsallisINFCB,
    "chebcb": ChebCB,
    "cheblcb": ChebLCB,
    "jointcb": JointCB,
    "familycb": FamilyCB,
    "splinecb": SplineCB,
    "squarecb": SquareCB,
    "smooth_igw": SmoothIGW,
}


def make_policy(name: str, arms, *, seed=None, context_bounds=None, **kwargs) -> Policy:
    """Build ``POLICIES[name]`` over ``arms``.

    A contextual policy gets ``context_bounds`` when given (else it learns the range online);
    a context-free one ignores it.  Other keyword arguments go to the constructor.

    Raises
    ------
    ValueError
        For a name not in :data:`POLICIES` (the message lists the known names).

    Examples
    --------
    >>> type(make_policy("chebcb", [1.0, 1.5], seed=0, context_bounds=(0.0, 1.0))).__name__
    'ChebCB'
    >>> make_policy("tsallis_inf", [1.0, 1.5], context_bounds=(0.0, 1.0)).contextual
    False
    """
    cls = POLICIES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown learner {name!r}; known: {sorted(POLICIES)}")
    if cls.contextual and context_bounds is not None:
        kwargs["context_bounds"] = context_bounds
    return cls(arms, seed=seed, **kwargs)


__all__ = ["Policy", "POLICIES", "make_policy", "default_policy", "DEFAULT_ARMS", "theory_costs", "FixedArm", "UniformRandom", "TsallisINF", "TsallisINFCB",
           "ChebCB", "ChebLCB", "JointCB", "FamilyCB", "arm_families", "SplineCB", "SquareCB", "SmoothIGW",
           "tsallis_probabilities",
           "regret", "regret_of_costs", "Regret", "best_fixed_arm", "simulate", "Tuner", "TunerCostWarning", "TunerFileError",
           "arm_kwargs", "arm_omega", "Config", "config_grid", "parse_arm", "RepeatedArmWarning"]
