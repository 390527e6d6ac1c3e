"""Online learners for solver parameters (costs minimised) and the Tuner that applies them."""
from ._base import Policy, arm_omega
from .baselines import FixedArm, UniformRandom
from .tsallis import TsallisINF, TsallisINFCB, tsallis_probabilities

POLICIES = {
    "fixed": FixedArm,
    "uniform": UniformRandom,
    "tsallis_inf": TsallisINF,
    "tsallis_inf_cb": TsallisINFCB,
}
from .regret import Regret, best_fixed_arm, regret
from .simulate import simulate
from .squarecb import ChebCB, ChebLCB, SplineCB, SquareCB

POLICIES.update({"squarecb": SquareCB, "chebcb": ChebCB, "cheblcb": ChebLCB, "splinecb": SplineCB})
from .smooth import SmoothIGW

POLICIES["smooth_igw"] = SmoothIGW
