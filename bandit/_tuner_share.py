"""One learner per Tuner: a Tuner made with a policy object takes it over, and a Tuner whose
policy another Tuner has taken since refuses to solve.

Two Tuners sharing one policy (``p = ChebCB(...)``; ``Tuner(p)`` for the pressure solves and
``Tuner(p)`` for the velocity solves) had taught one learner both sequences' costs without a
word: each tuner's choices followed the other's systems (on a Laplacian and a shifted one,
the shifted systems cost 4.7 times what they cost with a learner of their own), and the
learner's state matched neither history (a file saved from either held a policy told twice
its rounds).  The documented way to continue a learner with other settings,
``Tuner(loaded.policy, ...)``, keeps working: the new Tuner takes the learner over, and only
the old one, if asked to solve again, is refused.

The holder is kept here, by the policy's identity, and nothing is written on the policy: a
learner may replace its own attributes wholesale (``JointCB.retell``; every MPI rank's copy of
rank 0's learner), and its saved state, pickle and every attribute must stay the learner's
alone (the same on every rank).  The check of every solve is one dictionary look-up.
"""
from __future__ import annotations

import weakref

#: id(policy) -> the token of the Tuner that holds it (removed when the policy is collected)
HOLDERS: dict = {}


def take_policy(tuner) -> None:
    """Make ``tuner`` the holder of its policy (at construction, and in a copy or unpickled
    tuner, whose policy is its own new object)."""
    policy = tuner.policy
    key = id(policy)
    token = object()
    tuner.__dict__["_token"] = token
    if key not in HOLDERS:
        try:  # (an id is reused once its object is gone: its entry goes with it)
            weakref.finalize(policy, HOLDERS.pop, key, None)
        except TypeError:  # a policy without weak references: its entry stays
            pass
    HOLDERS[key] = token


def still_held(tuner) -> bool:
    """Whether ``tuner`` still holds its policy (no Tuner was made with it since)."""
    return HOLDERS.get(id(tuner._policy)) is tuner.__dict__.get("_token")


def policy_taken(tuner) -> RuntimeError:
    """The refusal of a Tuner whose policy another Tuner holds now."""
    name = type(tuner.policy).__name__
    return RuntimeError(
        f"this Tuner's policy (the {name} object it was made with) has since been given to "
        f"another Tuner, which holds it now: two Tuners sharing one learner would teach it "
        f"both their systems' costs (each one's choices would follow the other's systems) "
        f"and its state would match neither history; nothing was solved or changed. Give "
        f"each Tuner a learner of its own (a new one, or copy.deepcopy(policy)), or solve "
        f"with the Tuner made later")
