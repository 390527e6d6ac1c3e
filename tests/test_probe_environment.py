"""Environments a scientist's script runs in that the other tests do not set up: Ctrl-C while
Numba compiles a kernel for the first time.

Each case runs in a subprocess with its own empty Numba cache, so the kernels are compiled
there and the test process is unaffected.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A Ctrl-C whose handler runs while LLVM hands the compiled code of `analyse_csr` (the first
# kernel of a solve) back to Numba, inside llvmlite's ctypes callback: simulated by raising
# KeyboardInterrupt from that callback once, where a real signal handler would raise it.
_CTRL_C_IN_COMPILATION = """
import numba.core.codegen as codegen

original = codegen.JITCodeLibrary._object_compiled_hook
armed = [True]

def hook(cls, ll_module, buf):
    library = getattr(ll_module, "_CPUCodeLibrary__library", None)
    if armed[0] and getattr(library, "name", None) == "analyse_csr":
        armed[0] = False
        raise KeyboardInterrupt
    return original(ll_module, buf)

codegen.JITCodeLibrary._object_compiled_hook = classmethod(hook)
"""


def _run(code, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_ctrl_c_during_the_first_compilation_is_a_keyboard_interrupt(tmp_path):
    # Python swallows an exception raised inside a ctypes callback: the Ctrl-C was lost, or
    # Numba then raised "RuntimeError: no compiled object yet for <Library 'analyse_csr'>"
    # (and `relaxtune` exited with status 1, an error, instead of 130, interrupted)
    code = _CTRL_C_IN_COMPILATION + """
import numpy as np
import solvers

A, b = solvers.gallery.laplacian_2d(4), np.ones(16)
try:
    solvers.sor(A, b, 1.5)
except KeyboardInterrupt:
    print("KeyboardInterrupt")
r = solvers.sor(A, b, 1.5)  # compiled now: the interrupted compilation left nothing broken
print(r.converged, np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b))
"""
    out = _run(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["KeyboardInterrupt", "True True"], out.stdout
    assert "no compiled object" not in out.stderr and "Exception ignored" not in out.stderr


def test_other_ignored_exceptions_are_reported_as_before(tmp_path):
    # only a KeyboardInterrupt lost inside llvmlite's callbacks is raised again; an exception
    # in a __del__ (a KeyboardInterrupt too) goes to the hook that was there before
    code = """
import sys
seen = []
sys.unraisablehook = lambda u: seen.append(type(u.exc_value).__name__)
import solvers

class Noisy:
    def __init__(self, exc):
        self.exc = exc
    def __del__(self):
        raise self.exc

Noisy(KeyboardInterrupt())
Noisy(ValueError())
print(seen)
"""
    out = _run(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['KeyboardInterrupt', 'ValueError']"
