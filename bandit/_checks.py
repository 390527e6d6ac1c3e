"""Checks of a learner's arguments, shared by every policy: positive scales, flags, choices,
context intervals and scalar contexts, and the arm list (ω values or setting dicts, with the
warning for an arm given twice); the ω an arm stands for."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from solvers._petsc_options import settings_omega

__all__ = ["arm_omega", "scalar_context", "check_bounds", "check_positive", "check_nonnegative",
           "check_choice", "check_not_flag", "count_of", "RepeatedArmWarning"]


def arm_omega(arm):
    """ω an arm stands for: the float itself, or a dict's ``omega``/``pc_sor_omega`` (else None).

    Examples
    --------
    >>> arm_omega(1.4), arm_omega({"pc_type": "sor", "pc_sor_omega": 1.2}), arm_omega({"x": 1})
    (1.4, 1.2, None)
    """
    if isinstance(arm, dict):
        return settings_omega(arm)
    try:
        return float(arm)
    except (TypeError, ValueError):
        # a learner built over the arms (bandit.default_policy's families) reads their ω
        # before its own check of the list: a complex, None or nested list had stopped there
        # with float()'s TypeError, which names no arm
        raise ValueError(f"arm {arm!r} is neither a finite number (ω) nor a dict of "
                         f"settings") from None


def scalar_context(context, bounds):
    """A finite scalar context clipped into ``bounds = (a, b)`` (documented clipping, no error).

    Examples
    --------
    >>> scalar_context(2.5, (0.0, 1.0)), scalar_context([0.25], (0.0, 1.0))
    (1.0, 0.25)
    """
    if isinstance(context, float):  # the common case (also np.float64), no array round trip
        c = context
    else:
        arr = np.asarray(context, dtype=float)
        if arr.size != 1:
            raise ValueError(f"context must be a scalar, got shape {arr.shape}")
        c = float(arr.reshape(-1)[0])
    if not math.isfinite(c):
        raise ValueError(f"context must be finite, got {context!r}")
    return min(max(c, bounds[0]), bounds[1])



def count_of(k, noun) -> str:
    """``k`` things in a message, singular for one: ``"1 run"``, ``"3 runs"``.

    Examples
    --------
    >>> count_of(1, "run"), count_of(3, "system")
    ('1 run', '3 systems')
    """
    return f"{k} {noun}{'' if k == 1 else 's'}"


def check_positive(**values) -> None:
    """Each keyword must be a finite number > 0 (a constructor's scales and rates).

    Examples
    --------
    >>> check_positive(ridge=1.0, gamma=0)
    Traceback (most recent call last):
    ...
    ValueError: gamma must be a positive number, got 0
    >>> check_positive(prior_shift=True)  # a flag is not a scale (it had read as 1.0)
    Traceback (most recent call last):
    ...
    ValueError: prior_shift must be a positive number, got True
    """
    for name, v in values.items():
        # numbers.Real: NumPy's integers too (np.int64 is no int); a bool is no scale
        if not (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def check_not_flag(**values) -> None:
    """Each keyword meant as a number (a count, a seed, a rate) must not be a bool.

    ``True`` is an ``int`` to Python (and ``numpy.bool_`` converts to one), so a flag given
    where a number is meant would silently read as 1 or 0; it is refused by name instead.

    Examples
    --------
    >>> check_not_flag(m=6, seed=None)
    >>> check_not_flag(beta=True)
    Traceback (most recent call last):
    ...
    ValueError: beta must be a number, got True
    """
    for name, v in values.items():
        if isinstance(v, (bool, np.bool_)):
            raise ValueError(f"{name} must be a number, got {v!r}")


def check_nonnegative(name: str, value) -> None:
    """``value`` must be a finite number >= 0 (not a bool: see :func:`check_not_flag`)."""
    check_not_flag(**{name: value})
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")


def check_choice(name: str, value, choices: tuple) -> None:
    """``value`` must be one of ``choices`` (named in the message)."""
    if value not in choices:
        known = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be {known}, got {value!r}")


def check_bounds(bounds):
    """Validate a context interval ``(a, b)`` with ``a < b``; return it as floats."""
    try:
        a, b = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"context_bounds must be a pair (a, b), got {bounds!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"context_bounds must be finite with a < b, got {bounds!r}")
    return a, b


def _check_flag(value, name):
    """A bool (NumPy's included) or raise ``ValueError`` naming the parameter."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def arm_sequence(arms) -> list:
    """``arms`` as a list, refusing what ``list()`` would take apart into other arms: a string
    or bytes (its characters, or byte values such as 49 and 50 for ``b"12"``), a single dict
    (its keys), an unordered set (arm indices would not be reproducible) and an array of
    another number of dimensions than one (its rows)."""
    if isinstance(arms, (str, bytes, bytearray)):
        raise ValueError(f"arms must be a sequence of ω values or setting dicts, got the "
                         f"{type(arms).__name__} {arms!r}: give numbers, e.g. [1.2, 1.5]")
    if isinstance(arms, dict):
        raise ValueError(f"arms must be a sequence of ω values or setting dicts, got one dict "
                         f"{arms!r}: give a list of them, e.g. [{arms!r}]")
    if isinstance(arms, (set, frozenset)):
        raise ValueError("arms must be an ordered sequence of ω values or setting dicts, got a "
                         "set: an arm is named by its index, so give a list (e.g. sorted(arms))")
    if isinstance(arms, np.ndarray) and arms.ndim != 1:
        raise ValueError(f"arms must be a sequence of ω values or setting dicts, got an array "
                         f"of shape {arms.shape}: give a 1-D array (e.g. arms.ravel())")
    return list(arms)


#: The most arms a policy takes.  JointCB, the default learner, keeps a table over every pair
#: of arms (its exploration's neighbourhoods, and a float temporary of 8 bytes a pair while it
#: builds them): 20 000 ω had taken 100 s to construct and 50 s a solve (3.2 GB), 100 000
#: would need 80 GB; 4096 ω take about 3 s to construct.
MAX_ARMS = 4096


def _check_arms(arms):
    arms = arm_sequence(arms)
    if not arms:
        raise ValueError("arms must be a non-empty sequence of ω values or setting dicts")
    if len(arms) > MAX_ARMS:
        raise ValueError(
            f"arms holds {len(arms)} arms, more than the {MAX_ARMS} a policy takes: the default "
            f"learner keeps a table over every pair of arms ({8 * len(arms) ** 2 / 1e9:.3g} GB "
            f"at this size: 20 000 arms took 100 s to construct and 50 s a solve); give a grid "
            f"of a few dozen ω (the default has 20, e.g. np.linspace(1.0, 1.95, 20))")
    out = []
    for a in arms:
        if isinstance(a, dict):
            out.append(dict(a))
        elif isinstance(a, numbers.Real) and not isinstance(a, bool) and math.isfinite(a):
            out.append(float(a))
        else:
            raise ValueError(f"arm {a!r} is neither a finite number (ω) nor a dict of settings")
    _warn_repeated(out)
    return out


class RepeatedArmWarning(UserWarning):
    """An arm list holds the same ω, or the same configuration (whatever the order of its
    keys), twice.

    Every policy accepts such a list and warns once, at the caller's line: a learner treats
    the copies as two arms, so that setting gets twice the exploration and twice the weight
    in a model shared by the arms.  Two copies are what an A/A comparison wants (how far two
    identical arms' costs and counts drift apart); the Tuner labels them apart
    (``"1.5 [0]"``, ``"cg+jacobi [2]"``).  Silence it with
    ``warnings.simplefilter("ignore", bandit.RepeatedArmWarning)``.

    Examples
    --------
    >>> import warnings, bandit
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     p = bandit.FixedArm([1.5, 1.2, 1.5])
    >>> p.n_arms, caught[0].category.__name__
    (3, 'RepeatedArmWarning')
    """


def _warn_repeated(arms):
    """Warn once per list about arms given twice (:class:`RepeatedArmWarning`, which says
    why they are accepted); dicts compare whatever the order of their keys."""
    seen, pairs = {}, []
    for i, a in enumerate(arms):
        key = ("c", repr(sorted(a.items(), key=lambda kv: str(kv[0])))) if isinstance(
            a, dict) else ("w", a)
        if key in seen:
            pairs.append((seen[key], i, a))
        else:
            seen[key] = i
    if pairs:
        first, second, _ = pairs[0]
        a = arms[first]
        what = f"ω = {a:g}" if isinstance(a, float) else f"the settings {a}"
        more = f" (and {count_of(len(pairs) - 1, 'more repeat')})" if len(pairs) > 1 else ""
        warnings.warn(
            f"arms {first} and {second} are the same ({what}){more}: the learner treats them "
            f"as two arms, which doubles that setting's share of the exploration and its "
            f"weight in the model; give each setting once, unless the copies are meant (an "
            f"A/A comparison)", RepeatedArmWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside this package: a warning then points at
    the user's line, however deep the policy classes nest their constructors."""
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(
            os.path.abspath(frame.f_code.co_filename)) == here:
        frame, level = frame.f_back, level + 1
    return level

