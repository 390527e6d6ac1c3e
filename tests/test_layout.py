"""The Tuner, experiments.plots and the modules cut after them (bandit._base, bandit._tunerfile,
solvers.petsc, experiments.problems) are put together from modules of their own
(bandit/_tuner_*.py, experiments/_plots_*.py, ...): the layout, not the numbers."""
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


# modules cut into private parts, each public module first: (module, its parts)
SPLIT = [("bandit._base", ("bandit._checks", "bandit._jsonable")),
         ("bandit._tunerfile", ("bandit._tunerfile_checks", "bandit._tunerfile_policy",
                                "bandit._tunerfile_rows")),
         ("solvers.petsc", ("solvers._petsc_run", "solvers._petsc_scale")),
         ("experiments.problems", ("experiments._problems_checks", "experiments._problems_mc3d",
                                   "experiments._problems_fem", "experiments._problems_elasticity"))]
# the names other modules, tests, pickles or tuner files reach through the old path
MOVED = {"bandit._base": ("arm_omega", "scalar_context", "check_bounds", "check_positive",
                          "check_nonnegative", "check_choice", "count_of", "RepeatedArmWarning",
                          "_check_arms", "_check_flag", "to_jsonable", "from_jsonable"),
         "bandit._tunerfile": ("check_policy_state", "TunerFileError"),
         "experiments.problems": ("DiffusionMC3D", "disk_mesh", "p1_matrices", "FEMHeat2D",
                                  "elasticity_2d", "PlaneElasticity", "_integer", "_positive")}


def _defined(module):
    import importlib
    import inspect

    mod = importlib.import_module(module)
    return {name for name, obj in vars(mod).items()
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module}


def test_a_cut_module_and_its_parts_define_each_name_once():
    # a pure move leaves no copy behind: a function defined in the module and in a part would
    # be two versions of one thing, the module's import of the part's silently shadowed
    for module, parts in SPLIT:
        where = {}
        for m in (module, *parts):
            for name in _defined(m):
                where.setdefault(name, []).append(m)
        assert {n: ms for n, ms in where.items() if len(ms) > 1} == {}, module


def test_the_old_paths_of_moved_names_are_the_moved_objects():
    import importlib

    for module, names in MOVED.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            home = importlib.import_module(obj.__module__)
            assert getattr(home, name) is obj, (module, name)


def test_a_pickle_naming_the_old_module_of_a_moved_class_loads():
    # an object pickled before the cut names experiments.problems (or bandit._base): written
    # here as the old pickle was (protocol 0 names the class as 'c<module>\n<name>'), it loads
    # as the moved class with the same data
    import warnings

    from experiments import problems

    objs = [problems.DiffusionMC3D(m=3, samples=2, seed=1),
            problems.FEMHeat2D(h=0.4, steps=2, seed=0),
            problems.PlaneElasticity(2, m=3, seed=0)]
    for obj in objs:
        new = pickle.dumps(obj, protocol=0)
        here = f"c{type(obj).__module__}\n{type(obj).__name__}\n".encode()
        assert here in new
        old = new.replace(here, f"cexperiments.problems\n{type(obj).__name__}\n".encode())
        back = pickle.loads(old)
        assert type(back) is type(obj)
        assert pickle.dumps(back, protocol=0) == new  # the same state, array for array
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FixedArm([1.5, 1.5])
    w = caught[0].message
    new = pickle.dumps(w, protocol=0)
    old = new.replace(b"cbandit._checks\nRepeatedArmWarning\n",
                      b"cbandit._base\nRepeatedArmWarning\n")
    assert old != new
    assert isinstance(pickle.loads(old), bandit.RepeatedArmWarning)
