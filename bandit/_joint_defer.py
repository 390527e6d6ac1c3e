"""A :class:`~bandit.JointCB` round's update deferred to the next draw, invisible to every reader.

The update of a round on the one-call path (:meth:`bandit.JointCB.update`) is kept, not
run, and the next draw runs it in the same compiled call before deciding
(:func:`bandit._kernels.joint_tell_decide`): one dispatch instead of two, and the draw reads
the model the update has just written rather than one the solve in between has evicted.

While a round waits, the learner's class is a subclass of its own (:func:`waiting_class`)
whose every attribute read, write or deletion first tells the round — so a summary, a
save, a pickle or a copy, an MPI replica check, or a user reading any attribute (through
the Tuner or a reference of their own) sees the learner told, as it would be without the
deferral.  Only ``select`` does not tell it first: the draw tells it in its own call.  A
:class:`~bandit.Tuner` reads the learner's type, not its attributes, to know a round waits
(:func:`waiting_state`).  The learner's numbers are the same as without the deferral, bit
for bit; only when its compiled calls run differs.
"""
from __future__ import annotations

#: JointCB subclass -> its waiting class
_WAITING: dict = {}

def _getattribute(self, name):
    if name == "select":  # (the draw tells the round in its own compiled call)
        return object.__getattribute__(self, name)
    tell_waiting(self)
    return object.__getattribute__(self, name)


def _setattr(self, name, value):
    tell_waiting(self)
    object.__setattr__(self, name, value)


def _delattr(self, name):
    tell_waiting(self)
    object.__delattr__(self, name)


def waiting_class(cls):
    """``cls`` with a round waiting: the same name and members, every attribute access
    telling the round first (made once per class)."""
    waiting = _WAITING.get(cls)
    if waiting is None:
        waiting = type(cls.__name__, (cls,), {
            "__getattribute__": _getattribute, "__setattr__": _setattr,
            "__delattr__": _delattr, "_told_base": cls, "__module__": cls.__module__,
            "__qualname__": cls.__qualname__})
        _WAITING[cls] = waiting
    return waiting


def restore(policy):
    """Back to the learner's own class; returns the waiting round (None if there is none)."""
    base = type(policy)._told_base
    if base is not None:
        object.__setattr__(policy, "__class__", base)
    return policy.__dict__.get("_told")


def rewait(policy):
    """A round whose telling was interrupted before it reached the model waits again."""
    if "_told" in policy.__dict__:
        object.__setattr__(policy, "__class__", waiting_class(type(policy)))


def tell_waiting(policy) -> None:
    """Tell ``policy`` its waiting round, if it has one (any reader's first step)."""
    told = restore(policy)
    if told is None:
        return
    try:
        policy._tell_now(*told, waiting=True)
    finally:
        rewait(policy)  # (interrupted before the compiled call: the round waits again)


def waiting_state(policy):
    """``(policy._draw_state(), policy.t)`` of a learner whose round waits, as they will be
    once it is told, without telling it (a :class:`~bandit.Tuner`'s solve reads them before
    the draw): the deterministic draw's state, no distribution; one round more."""
    return ((None, None), False), object.__getattribute__(policy, "__dict__")["t"] + 1
