"""The Tuner and experiments.plots are put together from modules of their own
(bandit/_tuner_*.py, experiments/_plots_*.py): the layout, not the numbers."""
import pickle
import pickletools

import numpy as np

import bandit
from bandit import FixedArm, Tuner
from solvers import gallery


def test_no_part_of_the_tuner_shadows_another():
    # each method of the Tuner is defined in one place: a name defined in two of its parts
    # would be the first one's in the MRO, silently
    parts = Tuner.__mro__[1:-1]
    assert all(p.__module__.startswith("bandit._tuner_") for p in parts)
    where = {}
    for part in (Tuner,) + parts:
        for name in vars(part):
            if name.startswith("__") and name.endswith("__"):
                continue
            where.setdefault(name, []).append(part.__name__)
    twice = {name: owners for name, owners in where.items() if len(owners) > 1}
    assert twice == {}


def test_a_tuner_pickle_names_no_part_of_the_class():
    # a pickle names the Tuner by bandit.tuner.Tuner only, so pickles stay readable however
    # its methods are laid out over modules
    A = gallery.laplacian_2d(5)
    t = Tuner(FixedArm([1.2, 1.5]), solver="sor")
    t.solve(A, np.ones(25))
    names = [arg for op, arg, _ in pickletools.genops(pickle.dumps(t))
             if op.name in ("GLOBAL", "STACK_GLOBAL", "SHORT_BINUNICODE", "BINUNICODE")
             and isinstance(arg, str) and "bandit." in arg]
    assert "bandit.tuner" in names
    assert not [n for n in names if n.startswith("bandit._tuner_")]


def test_the_public_paths_of_moved_names_still_import():
    import experiments.plots as plots

    from bandit.tuner import (AUTO_CONTEXT_STEPS, AUTO_CONTEXTS, GUARD_DTOL,  # noqa: F401
                              _COLD_ITERATIONS, _takes_prior)
    for name in plots.__all__:
        assert getattr(plots, name) is not None
    for name in ("history", "to_csv", "regret", "summary", "audits", "audit_seconds", "save",
                 "load", "fallback_order", "progress", "callback", "decide", "tell", "solve"):
        assert hasattr(bandit.Tuner, name), name
