"""``relaxtune plot``: the per-round arrays of a results folder checked against its summary
before anything is drawn.

A rounds file cut or edited by hand (a key removed, an array shortened, numbers turned into
text) had been drawn anyway — a learner left out of a figure, curves of different lengths side
by side, text plotted as numbers — or failed inside Matplotlib with a message naming no key.
:func:`check_parts` refuses such a file in one line that names the file, the key and what is
wrong with it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .cli_common import UsageError

__all__ = ["check_parts"]

#: arrays with one value per round (and trial), beside the per-method ones
_PER_ROUND = ("contexts", "young_omega", "golden_omega")


def _member(key: str) -> str:
    """The key as the NPZ file spells it (``iter/chebcb`` is stored as ``iter__chebcb``)."""
    from .results import _npz_name

    return _npz_name(key)


def check_parts(results: Path, summary: dict, arrays: dict) -> None:
    """Check every part's arrays (``arrays`` as ``relaxtune plot`` read them: one dict, or
    ``{nx: dict}`` for heat2d, ``{sequence: dict}`` for the preconditioner study).

    Raises
    ------
    UsageError
        Naming the NPZ file and its key: a key the summary's methods need is missing, an
        array holds no real numbers, its shape does not match the others' (trials × rounds,
        rounds × arms), or its values cannot be what it records (a negative iteration count,
        an arm index outside the ω grid).
    """
    study = summary.get("study")
    learners = summary["params"].get("learners") or []
    if not (isinstance(learners, (list, tuple)) and all(isinstance(m, str) for m in learners)):
        learners = []  # a malformed list: the figures' own reading says what is wrong
    if study == "precond":
        for name, arr in arrays.items():
            seq = summary["sequences"].get(name, {})
            _check(Path(results) / f"rounds_{name}.npz", arr, seq.get("methods", {}), [],
                   precond=True)
    elif summary.get("sizes"):
        for nx, arr in arrays.items():
            methods = summary["sizes"].get(str(nx), {}).get("methods", {})
            _check(Path(results) / f"rounds_nx{nx}.npz", arr, methods, learners)
    else:
        _check(Path(results) / "rounds.npz", arrays, summary.get("methods", {}), learners,
               contexts=study in ("learning", "contextual"))


#: the per-method arrays with one value per trial and round (heat2d's sampled baselines,
#: ``sampled_cg_iterations/<learner>``, have one per sampled step)
_ROUND_KINDS = ("iter", "sec", "arms", "replay", "cpu", "work")


def _check(path: Path, arr: dict, methods: dict, learners: list, *, precond: bool = False,
           contexts: bool = False) -> None:
    def refuse(key, what):
        raise UsageError(f"{path}: {_member(key)!r} {what} (cut or edited by hand?)")

    def missing(key, why):
        raise UsageError(f"{path}: no {_member(key)!r} ({why}; cut or edited by hand?)")

    for key, a in arr.items():
        if key == "labels" and precond:
            if a.dtype.kind != "U" or a.ndim != 1:
                refuse(key, f"holds {a.dtype} values of shape {a.shape}, not a list of names")
            continue
        if a.dtype.kind not in "iuf":
            refuse(key, f"holds {a.dtype} values, not real numbers")
    for m, entry in (methods.items() if isinstance(methods, dict) else ()):
        if isinstance(entry, dict) and ("sampled" in entry or "extrapolated" in entry):
            continue  # a baseline run on some steps only: its own arrays (heat2d)
        if f"iter/{m}" not in arr:
            missing(f"iter/{m}", f"the iterations of {m!r}, a method of summary.json")
    per_method = [k for k in arr if k.partition("/")[0] in _ROUND_KINDS and "/" in k]
    if not per_method:
        return
    ref = next((k for k in per_method if k.startswith("iter/")), per_method[0])
    shape = arr[ref].shape
    if len(shape) != 2:
        refuse(ref, f"has shape {shape}, not (trials, rounds)")
    T = shape[1]
    trials = max(arr[k].shape[0] for k in per_method if arr[k].ndim == 2)
    if T == 0 or shape[0] == 0:
        refuse(ref, f"has shape {shape}: no rounds")
    learned = set(learners)

    def learner(key):
        kind, _, m = key.partition("/")
        return m in learned or kind in ("arms", "replay")

    # a learner runs every trial; the other methods share one row count: every trial's, or
    # one (heat2d's fixed ω, grid minimum and CG run once: the figures take the mean over
    # the rows)
    rows = max((arr[k].shape[0] for k in per_method if arr[k].ndim == 2 and not learner(k)),
               default=trials)
    rows = trials if rows == trials else 1
    for key in per_method:
        s = arr[key].shape
        want = trials if learner(key) else rows
        if s != (want, T):
            refuse(key, f"has shape {s}, not {(want, T)} (" + (
                "trials" if want == trials else "a method run once") + ", rounds)")
    for key in _PER_ROUND:
        if key in arr:
            s = arr[key].shape
            if not (s[:2] == (trials, T) or s[:1] == (T,)):
                refuse(key, f"has shape {s}, not ({T},) or ({trials}, {T}) (one value per "
                            "round)")
    for key in per_method:
        kind, _, m = key.partition("/")
        a = arr[key]
        if kind in ("iter", "replay") and not precond and np.any(a < 0):
            refuse(key, f"holds a negative iteration count ({a[a < 0].flat[0]:g})")
        if kind in ("iter", "replay") and m in learners and not np.all(np.isfinite(a)):
            refuse(key, "holds NaN or infinite iteration counts of a learner")
    if precond:  # (its arms index its labels; -1 iterations marks a configuration not run)
        return
    if "C" not in arr:
        if contexts:  # the offset studies always solve the whole grid
            missing("C", "every arm's iterations on every round, for the regret and ω map")
        return
    C = arr["C"]
    if not (C.ndim == 3 and C.shape[:2] == (trials, T) or C.ndim == 2 and C.shape[0] == T):
        refuse("C", f"has shape {C.shape}, not ({T}, arms) or ({trials}, {T}, arms)")
    K = C.shape[-1]
    if "S" in arr and arr["S"].shape != C.shape:
        refuse("S", f"has shape {arr['S'].shape}, not {C.shape} as 'C'")
    if "omegas" not in arr:
        missing("omegas", "the ω of the grid, one per column of 'C'")
    om = arr["omegas"]
    if om.shape != (K,):
        refuse("omegas", f"has shape {om.shape} but 'C' has {K} columns, one per ω")
    if not np.all(np.isfinite(om)):
        refuse("omegas", "holds NaN or infinite ω")
    if contexts and "contexts" not in arr:
        missing("contexts", "each round's context, the ω map's axis")
    for m in learners:
        key = f"arms/{m}"
        if key not in arr:
            missing(key, f"the arms learner {m!r} played, drawn on the ω map")
        a = arr[key]
        if a.dtype.kind not in "iu":
            refuse(key, f"holds {a.dtype} values, not arm indices")
        if a.size and (a.min() < 0 or a.max() >= K):
            refuse(key, f"holds arm index {a.min() if a.min() < 0 else a.max()}, outside "
                        f"the grid's 0..{K - 1}")
