"""The solvers and a Tuner run under ``NUMBA_DISABLE_JIT=1`` (kernels as plain Python, as for
debugging or coverage), with the same iteration counts as compiled.

The subnormal flush (``solvers._fpmode``) switches the processor's mode with LLVM intrinsics,
which cannot run as Python: every solve had raised ``NotImplementedError: <intrinsic
_stmxcsr> is not usable in pure-python`` from deep inside ``_fpmode`` (a plain ``sor`` call,
``Tuner(...)``, ``Tuner.load``).  Without compiled kernels the mode is left as it is.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import bandit
import solvers

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, numpy as np, scipy.sparse as sp, bandit, solvers
T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(12, 12), format="csr")
b = np.linspace(1.0, 2.0, 12)
out = {"sor": solvers.sor(T, b, omega=1.5).iterations,
       "ssor_pcg": solvers.ssor_pcg(T, b, omega=1.3).iterations,
       "cg": solvers.cg(T, b).iterations}
tuner = bandit.Tuner([1.0, 1.5], solver="sor", seed=0)
out["tuner"] = [int(tuner.solve(T * (1 + k / 4), b).iterations) for k in range(3)]
print(json.dumps(out))
"""


def _compiled():
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(12, 12), format="csr")
    b = np.linspace(1.0, 2.0, 12)
    out = {"sor": solvers.sor(T, b, omega=1.5).iterations,
           "ssor_pcg": solvers.ssor_pcg(T, b, omega=1.3).iterations,
           "cg": solvers.cg(T, b).iterations}
    tuner = bandit.Tuner([1.0, 1.5], solver="sor", seed=0)
    out["tuner"] = [int(tuner.solve(T * (1 + k / 4), b).iterations) for k in range(3)]
    return out


def test_solvers_and_tuner_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "NotImplementedError" not in proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == _compiled()
