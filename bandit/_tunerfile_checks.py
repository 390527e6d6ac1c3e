"""The small checks every part of a tuner file's reader uses (:mod:`bandit._tunerfile`): the
exception naming one problem, JSON value types, decoding, a random generator's state."""
from __future__ import annotations

import math

import numpy as np

from ._jsonable import from_jsonable


class _Bad(Exception):
    """A problem with one part of the file (the caller adds the file name)."""


def _is_int(v) -> bool:
    return type(v) is int  # JSON integers; bool is not an int here


def _is_real(v) -> bool:
    return type(v) in (int, float)


def _need(cond, msg):
    if not cond:
        raise _Bad(msg)


def _decode(obj, where):
    try:
        return from_jsonable(obj)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # (1e999 in an int array)
        raise _Bad(f"{where}: malformed encoded value ({exc})") from None


def _number(v):
    return _is_real(v) and math.isfinite(v)


def _describe(v):
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape} and dtype {v.dtype}"
    return f"{type(v).__name__} {v!r}"


def _rng_state(state, where, kind=None):
    """A bit-generator state that numpy accepts (checked on a throwaway generator) and keeps
    as written: numpy truncates a float or a bool where its state holds an integer (``0.5``
    read as 0, ``true`` as 1) and masks an integer too wide for its word, so such a file
    had loaded with another generator than the one saved, without a word."""
    _need(isinstance(state, dict), f"{where} must be a bit-generator state object")
    bg = (kind or type(np.random.default_rng().bit_generator))()
    bad = _not_integers(state, where)
    _need(bad is None, f"{where} is not a valid {type(bg).__name__} state ({bad})")
    try:
        bg.state = state
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _Bad(f"{where} is not a valid {type(bg).__name__} state ({exc})") from None
    _need(state.get("has_uint32", 0) in (0, 1),
          f"{where} is not a valid {type(bg).__name__} state (has_uint32 must be 0 or 1, got "
          f"{state.get('has_uint32')!r})")
    _need(bg.state == state, f"{where} is not a valid {type(bg).__name__} state (numpy "
                             f"reads it back as another state: a number out of range)")


def _not_integers(node, where):
    """The first entry of a generator state that is neither an integer nor the generator's
    name (a string), said as ``where.key: value``; ``None`` if there is none."""
    for key, v in node.items():
        if isinstance(v, dict):
            bad = _not_integers(v, f"{where}.{key}")
            if bad is not None:
                return bad
        elif not (_is_int(v) or (key == "bit_generator" and isinstance(v, str))):
            return f"{where}.{key} must be an integer, got {type(v).__name__} {v!r}"
    return None
