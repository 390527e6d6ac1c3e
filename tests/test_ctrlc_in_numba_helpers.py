"""Ctrl-C handled inside Numba's own Python helpers during a kernel's look for signals.

A signal's handler runs at the first step of Python code after the signal arrives; inside a
kernel's ``look_for_signals`` that was once ``numba.core.serialize._numba_unpickle`` (the
object-mode block's helper), whose exception the compiled code did not pass on: the solve
failed with ``SystemError: <built-in method look_for_signals ...> returned a result with an
exception set`` and the ``KeyboardInterrupt`` as its cause (seen in the Ctrl-C tests, one run
in about twenty under load).  Every solver wrapper now raises the ``KeyboardInterrupt``
itself.  The kernels are replaced here by functions that fail as the compiled call did, so the
race is not needed to test the wrappers; the floating-point mode the wrapper set for the
kernel is restored as after any other exception."""
import types

import numpy as np
import pytest

import solvers
from solvers import _api, _fpmode, _precond_builtin
from solvers import gallery

A = gallery.laplacian_2d(12)
B = np.ones(144)


def _failing(cause):
    def kernel(*args, **kwargs):
        try:
            raise cause
        except BaseException as exc:
            raise SystemError("<built-in method look_for_signals of _dynfunc._Closure "
                              "object> returned a result with an exception set") from exc
    return kernel


#: per solver: the module that calls its kernel, the name it calls the kernels' module by,
#: the kernel, and the solve
CASES = {
    "sor": (_api, "K", "sor_solve", lambda: solvers.sor(A, B, 1.5)),
    "ssor_pcg": (_api, "KS", "ssor_pcg_solve", lambda: solvers.ssor_pcg(A, B, 1.5)),
    "ssor_pcg small omega": (_api, "KP", "ssor_pcg_plain_solve",
                             lambda: solvers.ssor_pcg(A, B, 0.2)),
    "cg": (_api, "K", "cg_solve", lambda: solvers.cg(A, B)),
    "jacobi": (_precond_builtin, "KP", "jacobi_pcg_solve",
               lambda: solvers.pcg(A, B, {"pc": "jacobi"})),
    "ic0": (_precond_builtin, "KP", "ic0_pcg_solve", lambda: solvers.pcg(A, B, {"pc": "ic0"})),
}


def _replace(monkeypatch, caller, alias, kernel, cause):
    """The kernel as ``caller`` reaches it (``alias.kernel``) made to fail as the compiled call
    did, on a copy of the kernels' module (the module itself, and every other caller of it,
    left alone)."""
    kernels = types.SimpleNamespace(**vars(getattr(caller, alias)))
    setattr(kernels, kernel, _failing(cause))
    monkeypatch.setattr(caller, alias, kernels)


@pytest.mark.parametrize("name", list(CASES))
def test_ctrl_c_in_numbas_helpers_leaves_the_solve_as_keyboard_interrupt(name, monkeypatch):
    caller, alias, kernel, solve = CASES[name]
    solve()  # (the wrapper's own first-call work done before the kernel is replaced)
    _replace(monkeypatch, caller, alias, kernel, KeyboardInterrupt())
    before = _fpmode.mode()
    with pytest.raises(KeyboardInterrupt) as info:
        solve()
    assert type(info.value) is KeyboardInterrupt
    assert _fpmode.mode() == before


@pytest.mark.parametrize("name", ["sor", "cg", "ic0"])
def test_any_other_system_error_is_left_as_it_is(name, monkeypatch):
    caller, alias, kernel, solve = CASES[name]
    solve()
    _replace(monkeypatch, caller, alias, kernel, ValueError("a bug"))
    with pytest.raises(SystemError, match="returned a result with an exception set"):
        solve()


def test_the_command_lines_sigterm_is_passed_on_as_itself(monkeypatch):
    class Terminated(KeyboardInterrupt):  # (experiments.cli_common.Terminated's kind)
        pass

    _replace(monkeypatch, _api, "K", "cg_solve", Terminated())
    with pytest.raises(Terminated):
        solvers.cg(A, B)
