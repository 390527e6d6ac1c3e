"""Every name a module exports in ``__all__`` exists (``from module import *`` works)."""
import importlib
import pkgutil

import pytest

import bandit
import experiments
import solvers

MODULES = sorted({f"{pkg.__name__}.{m.name}" for pkg in (bandit, solvers, experiments)
                  for m in pkgutil.iter_modules(pkg.__path__)}
                 | {"bandit", "solvers", "experiments"})
# modules that need an optional component to import at all
OPTIONAL = {"solvers._petsc_ksp", "solvers._petsc_options", "solvers.petsc", "bandit.mpi",
            "experiments.heat2d_petsc"}


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_exists(name):
    try:
        module = importlib.import_module(name)
    except ImportError:
        if name in OPTIONAL:
            pytest.skip(f"{name} needs an optional component")
        raise
    missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what the module does not define: {missing}"
    assert len(set(getattr(module, "__all__", ()))) == len(getattr(module, "__all__", ()))
