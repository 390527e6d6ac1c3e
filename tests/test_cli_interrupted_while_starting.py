"""Ctrl-C while the ``relaxtune`` command is still importing (NumPy, SciPy, Numba, the
kernels): one line, ``relaxtune: interrupted: stopped``, and exit status 130, as for a run
interrupted later; it had printed a traceback through the imports.  A program importing the
package keeps Python's own Ctrl-C."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what pip writes as the console script (setup.cfg: relaxtune = experiments.cli:main)
SCRIPT = "import sys\nfrom experiments.cli import main\nif __name__ == '__main__':\n" \
         "    sys.exit(main())\n"


def _terminal_ctrl_c():
    """A child's Ctrl-C as a terminal's foreground job has it, whatever this process
    inherited (a job started in the background by a non-interactive shell ignores SIGINT,
    and Python then installs no handler of its own)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_the_package_imports(proc, limit=120.0):
    """Wait until the child's imports of the package are under way: NumPy's compiled core
    mapped into it (``experiments`` installs its Ctrl-C handler before anything imports
    NumPy).  A fixed delay alone is not that on a loaded machine: there the signal came
    while Python itself was still starting (a fatal error in its ``site`` import)."""
    maps = Path(f"/proc/{proc.pid}/maps")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if "/numpy/" in maps.read_text():
                return
        except OSError:  # (no /proc: the fixed delay alone)
            return
        time.sleep(0.005)


@pytest.mark.parametrize("delay", [0.25, 0.6])
def test_ctrl_c_during_the_imports_is_one_line_and_130(tmp_path, delay):
    script = tmp_path / "relaxtune"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), "learning", "--T", "5", "--trials",
                             "1", "--no-plots", "--quiet", "--out", str(tmp_path / "r")],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_terminal_ctrl_c)
    _wait_for_the_package_imports(proc)
    time.sleep(delay)  # Python is up; the imports take half a second to a second
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # during the imports "stopped"; on a machine whose imports are done by then (a warm
    # cache), the run's own line: one line and 130 either way, never a traceback
    assert err in ("relaxtune: interrupted: stopped\n",
                   "relaxtune: interrupted: no trial had finished, nothing was saved\n")
    assert proc.returncode == 130


def test_importing_the_package_keeps_pythons_ctrl_c():
    code = ("import signal, experiments.cli; "
            "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, preexec_fn=_terminal_ctrl_c)
    assert out.stdout == "True\n", out.stderr
