"""Strict JSON for policy states and tuner files: nested dicts, lists, arrays and NumPy
scalars to JSON-safe Python objects and back, non-finite floats tagged."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["to_jsonable", "from_jsonable"]


_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
#: Types of JSON values that :func:`to_jsonable` and :func:`from_jsonable` keep as they are.
_SCALARS = {int, float, bool, str, type(None)}


def to_jsonable(obj):
    """Turn nested dicts/lists/ndarrays/NumPy scalars into strict-JSON-safe Python objects.

    Strict JSON has no NaN or infinity: a non-finite float becomes ``{"__float__": "nan"}``
    (``"inf"``, ``"-inf"``), which :func:`from_jsonable` turns back into the float.

    Examples
    --------
    >>> to_jsonable({"a": np.array([1.0, np.inf]), "b": float("nan")})
    {'a': {'__ndarray__': [1.0, {'__float__': 'inf'}], 'dtype': 'float64', 'shape': [2]}, 'b': {'__float__': 'nan'}}
    >>> from_jsonable(to_jsonable([np.nan]))[0]
    nan
    """
    if isinstance(obj, np.ndarray):
        values = obj.tolist()
        if obj.dtype.kind in "fc" and not np.isfinite(obj).all():
            values = to_jsonable(values)
        return {"__ndarray__": values, "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        # a list of plain JSON scalars (a history column, 10^4 values and more in a tuner
        # file): copied whole, its non-finite floats found in one numpy test and tagged
        types = set(map(type, obj))
        if types <= _SCALARS and float not in types:
            return list(obj)
        if types <= {int, float}:
            try:
                bad = np.flatnonzero(~np.isfinite(np.array(obj, dtype=np.float64)))
            except OverflowError:  # an integer beyond the float range: kept below
                bad = None
            if bad is not None:
                out = list(obj)
                for i in bad.tolist():
                    out[i] = {"__float__": repr(out[i])}
                return out
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": repr(obj)}  # 'nan', 'inf' or '-inf'
    return obj


#: The JSON types an encoded array's entries may have, by the kind of its dtype (a float
#: array's non-finite entries are tagged objects, checked when they are decoded).
_ENTRY_TYPES = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float, dict)}
_KIND_NAMES = {"b": "true or false", "i": "an integer", "u": "an integer", "f": "a number"}


def _bad_entry(values, ok, at=()):
    """The index and value of the first entry of the nested lists ``values`` whose type is
    not one of ``ok`` (None if every one is)."""
    if not isinstance(values, list):
        return (at, values) if type(values) not in ok else None
    if set(map(type, values)) <= set(ok):  # (one pass for a flat list, the common case)
        return None
    for i, v in enumerate(values):
        found = _bad_entry(v, ok, (*at, i))
        if found is not None:
            return found
    return None


def _check_entries(values, dtype) -> None:
    """Refuse an entry NumPy would convert into another value without a word: ``true`` in a
    float or integer array (read as 1.0), ``1.5`` in an integer array (read as 1), ``2`` in
    a boolean one (read as true), a string of digits anywhere (``"1.5"`` read as 1.5)."""
    kind = np.dtype(dtype).kind
    ok = _ENTRY_TYPES.get(kind)
    if ok is None:
        return
    found = _bad_entry(values, ok)
    if found is not None:
        at, v = found
        raise ValueError(f"entry {list(at)} of a {np.dtype(dtype)} array is {v!r}, not "
                         f"{_KIND_NAMES[kind]}")


def from_jsonable(obj):
    """Inverse of :func:`to_jsonable`.

    Raises
    ------
    ValueError
        For an array entry of another type than its dtype's (``true`` in a float array),
        naming the entry, or an unknown non-finite float tag.
    """
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            values = obj["__ndarray__"]
            _check_entries(values, obj["dtype"])
            try:
                arr = np.array(values, dtype=obj["dtype"])
            except (TypeError, ValueError):  # tagged non-finite floats inside
                arr = np.array(from_jsonable(values), dtype=obj["dtype"])
            return arr.reshape(obj["shape"])
        if obj.keys() == {"__float__"}:
            if obj["__float__"] not in _NONFINITE:
                raise ValueError(f"unknown non-finite float tag {obj['__float__']!r}")
            return _NONFINITE[obj["__float__"]]
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        if set(map(type, obj)) <= _SCALARS:  # nothing tagged inside (a history column)
            return list(obj)
        return [from_jsonable(v) for v in obj]
    return obj

