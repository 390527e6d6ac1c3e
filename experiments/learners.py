"""Which learners each study runs, their labels, and how they are built from ``bandit``.

The studies name learners by their :data:`bandit.POLICIES` key; this module adds the
paper's per-study settings (context interval, bins, Chebyshev degree) so they live in one
place and the command line only passes names.
"""
from __future__ import annotations

import inspect

import numpy as np

__all__ = ["LABELS", "BASELINES", "VECTOR_LEARNERS", "learner_names", "make_learner", "label",
           "fixed_method", "fixed_omega", "derive_seed", "uses_vector_context"]

#: Display names of methods in tables and plots (unknown names are shown as they are).
LABELS = {
    "tsallis_inf": "Tsallis-INF",
    "tsallis_inf_cb": "Tsallis-INF-CB",
    "chebcb": "ChebCB",
    "cheblcb": "ChebLCB (ours)",
    "jointcb": "JointCB (ours)",
    "familycb": "FamilyCB (ours)",
    "splinecb": "SplineCB (ours)",
    "squarecb": "SquareCB vector context (ours)",
    "smooth_igw": "smooth IGW (ours)",
    "young": "instance-optimal (Young ω*)",
    "grid_min": "instance-optimal (grid min)",
    "golden": "instance-optimal (golden section)",
    "best_fixed": "best fixed ω",
    "cg": "plain CG",
    "direct": "direct (splu)",
}
#: Registry entries that are baselines, not learners.
BASELINES = ("fixed", "uniform")


def label(name: str) -> str:
    """Display name of a method key (``fixed_1.6`` → ``fixed ω=1.6``).

    Examples
    --------
    >>> label("fixed_1.6"), label("tsallis_inf")
    ('fixed ω=1.6', 'Tsallis-INF')
    """
    omega = fixed_omega(name)
    if omega is not None:
        return f"fixed ω={omega:g}"
    return LABELS.get(name, name)


def fixed_method(omega: float) -> str:
    """Method key of the baseline that keeps ω fixed (``1.6`` → ``"fixed_1.6"``).

    Examples
    --------
    >>> fixed_method(1.75), fixed_omega(fixed_method(1.75)), fixed_omega("chebcb")
    ('fixed_1.75', 1.75, None)
    """
    return f"{_FIXED}{float(omega):g}"


def fixed_omega(name: str):
    """ω of a :func:`fixed_method` key, else None."""
    if not name.startswith(_FIXED):
        return None
    try:
        return float(name[len(_FIXED):])
    except ValueError:
        return None


_FIXED = "fixed_"


def learner_names(contextual: bool | None = None) -> list[str]:
    """Learners in :data:`bandit.POLICIES` (baselines excluded), optionally by kind.

    Parameters
    ----------
    contextual : bool or None
        ``True``: only contextual ones; ``False``: only non-contextual; ``None``: all.
    """
    import bandit

    out = []
    for name, cls in bandit.POLICIES.items():
        if name in BASELINES:
            continue
        if contextual is None or bool(getattr(cls, "contextual", False)) == contextual:
            out.append(name)
    return out


#: Learners the studies give a vector context (every contextual learner accepts one; the
#: studies give the others the paper's scalar context).
VECTOR_LEARNERS = ("squarecb",)


def uses_vector_context(name: str) -> bool:
    """Whether the studies give this learner a feature vector (:data:`VECTOR_LEARNERS`)."""
    return name in VECTOR_LEARNERS


def make_learner(name: str, arms, *, seed: int, context_bounds=None, bins: int | None = None,
                 cheb_m: int = 6, vector_bounds=None):
    """Build ``bandit.POLICIES[name]`` with the study's settings.

    Scalar-context learners get ``context_bounds`` (and ``bins`` if they take it; ChebCB gets
    ``m = cheb_m``); a vector-context learner (:data:`VECTOR_LEARNERS`) gets
    ``context_dim = len(vector_bounds)`` and those per-coordinate bounds; context-free learners
    get only ``arms`` and ``seed``.  Other constructor defaults are the bandit package's.

    Parameters
    ----------
    name : str
        Registry key.
    arms : sequence
        The ω grid.
    seed : int
        The learner's own seed.
    context_bounds : (float, float), optional
        Interval of the scalar context.
    bins : int, optional
        Bins of Tsallis-INF-CB.
    cheb_m : int
        Number of Chebyshev features of ChebCB (paper: m = 6).
    vector_bounds : sequence of (float, float), optional
        Box of the vector context.

    Examples
    --------
    >>> p = make_learner("tsallis_inf", [1.0, 1.5], seed=0, bins=5)
    >>> type(p).__name__
    'TsallisINF'
    """
    import bandit

    cls = bandit.POLICIES.get(name)
    if cls is None:
        return bandit.make_policy(name, arms)  # (raises, naming the known learners)
    params = inspect.signature(cls).parameters
    kwargs, bounds = {}, None
    if getattr(cls, "contextual", False):
        if uses_vector_context(name):
            if vector_bounds is None:
                raise ValueError(f"{name} takes a vector context: pass vector_bounds")
            kwargs["context_dim"] = len(vector_bounds)
            bounds = [tuple(b) for b in vector_bounds]
        elif "context_bounds" in params:
            if context_bounds is None:
                raise ValueError(f"{name} takes a scalar context: pass context_bounds")
            bounds = tuple(context_bounds)
        if "bins" in params and bins is not None:
            kwargs["bins"] = int(bins)
        if cls.__name__ == "ChebCB":
            kwargs["m"] = int(cheb_m)
    return bandit.make_policy(name, list(map(float, arms)), seed=int(seed),
                              context_bounds=bounds, **kwargs)


def derive_seed(*keys: int) -> int:
    """A 32-bit seed from integer keys (e.g. ``(seed, trial, method)``), stable across runs.

    Examples
    --------
    >>> derive_seed(0, 1, 2) == derive_seed(0, 1, 2) != derive_seed(0, 1, 3)
    True
    """
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])
