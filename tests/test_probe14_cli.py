"""``relaxtune`` on a user's own files and options, as a demanding user would run it: each
refusal is one line that names the option and the value refused, with status 2."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def relaxtune(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, named", [
    (["--rounds", "2"], "--rounds must be >= 3, got 2"),
    (["--overhead-rounds", "0"], "--overhead-rounds must be >= 1, got 0"),
    (["--sizes", "-5"], "--sizes must be grid sides >= 2, got -5"),
    (["--solve-sizes", "8", "1"], "--solve-sizes must be grid sides >= 2, got 1"),
    (["--overhead-sizes", "-3"], "--overhead-sizes must be grid sides >= 2, got -3"),
])
def test_bench_petsc_names_the_option_it_refuses(args, named):
    # it had printed one message listing every rule ("--rounds must be >= 3, --target > 0,
    # --overhead-rounds >= 1, sizes >= 2") whichever option was wrong, and no value
    p = relaxtune("bench", "petsc", *args)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("relaxtune: error:")
    assert named in lines[0] and "Traceback" not in p.stderr
