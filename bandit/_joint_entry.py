"""The compiled round of :class:`bandit.JointCB` called past Numba's dispatcher.

A call of a Numba function goes through its dispatcher: the type of every argument is worked
out (19 for the draw, 24 for the update), the compiled version for those types looked up, and
only then the compiled code's own entry point called, which unboxes the arguments.  After a
solve has pushed the dispatcher's code and tables out of the caches that walk costs 2.5–3 µs
of the draw's 16 µs (cache-cold; 0.3 µs warm), 2–6 µs of the update's.  The entry point alone
unboxes each array as the version it belongs to expects, *without* checking its element type
or layout (only its item size), so it may be handed only arrays of the types it was chosen
for.

:func:`call` does that safely: the first call of a kernel for a learner goes through the
dispatcher, which picks the compiled version for the arguments' types, and that version's
entry point is kept *with the very array objects it was picked for* (an array object keeps
its element type and layout for life; the learner's own arrays are never made read-only).
Later calls with the same objects (``is``) call the entry point directly; any other object —
a model re-allocated by the change test's forgetting, a widened context range, a loaded
state, a user's assignment — goes through the dispatcher again and is remembered in turn.
The scalar arguments need no such care: each is converted as the version's type says (a
float from any real number, a flag from any truth value), and the rounds that take this path
have checked their types already.  The kept objects live here, per learner (by ``id``,
dropped when the learner is collected), never on the learner itself: they are per process,
and a learner's attributes are the same on every MPI rank and in every saved file or pickle.
A kernel replaced on :mod:`bandit.joint` (tests count the compiled calls so) is called as it
is, every time.

The numbers are the dispatcher's, bit for bit: the same compiled code on the same arguments.
"""
from __future__ import annotations

import weakref

import numpy as np
from numba.core.dispatcher import Dispatcher

__all__ = ["DECIDE", "TELL", "call"]

#: id(learner) -> (the kernel, its entry point, the array objects it was chosen for): the
#: draw's (joint_decide) and the update's (joint_tell)
DECIDE: dict = {}
TELL: dict = {}


def _drop(key):
    DECIDE.pop(key, None)
    TELL.pop(key, None)


def call(store, policy, fn, args, arrays):
    """``fn(*args)`` through Numba's dispatcher, keeping in ``store`` (:data:`DECIDE` or
    :data:`TELL`) its compiled entry point for the array objects ``arrays`` (those of
    ``args``, in order) for ``policy``'s next calls; a ``fn`` that is not a Numba dispatcher
    (a test's wrapper) is called and nothing kept."""
    out = fn(*args)
    if not isinstance(fn, Dispatcher):
        return out
    cres = fn.overloads.get(tuple(fn.typeof_pyval(a) for a in args))
    if cres is None or not all(type(a) is np.ndarray for a in arrays):
        return out
    key = id(policy)
    if key not in DECIDE and key not in TELL:
        # dropped with the learner, before its id can be another object's
        weakref.finalize(policy, _drop, key)
    store[key] = (fn, cres.entry_point, tuple(arrays))
    return out
