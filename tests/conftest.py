"""The suite's own process initialises PETSc as the library does (``solvers.petsc``: PETSc
leaves signals to Python), before a test module's ``from petsc4py import PETSc`` would
initialise it with PETSc's own handlers; the first initialisation wins, and with PETSc's
handlers a write to a closed pipe anywhere in the suite aborted the whole run (exit 59)."""
try:
    import solvers.petsc  # noqa: F401
except ImportError:  # petsc4py not installed: the PETSc tests say so themselves
    pass

import sys

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Figures a test's plotting call left open are closed after it (pyplot keeps every
    figure it made until closed; the suite warned of more than 20 open)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
