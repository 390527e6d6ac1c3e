"""Numba's kernel cache after an edit of a module the kernel imports from.

Numba judges a cached kernel fresh by the source of the file that defines it.  These tests edit
only the *imported* module of a copy of the packages (an editable installation after a
``git pull``) and check, in new processes, that the kernels that use it compile again.
"""
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A kernel module of the copy that reads a constant of solvers._kernels, as the SSOR-PCG and
# PCG kernels read STALL_CHECKS.
_PROBE = '''
import numba

from ._kernels import STALL_CHECKS


@numba.njit(cache=True)
def probe():
    return STALL_CHECKS
'''

# lanczos_scaled (solvers/_kernels_spectral.py) inlines _row of solvers/_kernels.py; with the
# edit below every row reads as empty, so S q = 0 and the first Lanczos coefficient is 0
# instead of the Rayleigh quotient of the start vector q = (1, 1, 1, 1)/2 on the 1-D Laplacian
# tridiag(-1, 2, -1) of order 4: A q = (1, 0, 0, 1)/2, so q^T A q = 0.5.
_ROW = "return np.uintp(indptr[i]), np.uintp(indptr[i + 1])"
_ROW_EMPTY = "return np.uintp(indptr[i]), np.uintp(indptr[i])"

_SCRIPT = """
import numpy as np
import scipy.sparse as sp
import solvers
from solvers import _kernels_probe, _kernels_spectral

M = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(4, 4), format="csr")
alpha, beta = np.zeros(1), np.zeros(1)
_kernels_spectral.lanczos_scaled(M.indptr.astype(np.uint32), M.indices.astype(np.uint32),
                                 M.data, np.ones(4), np.ones(4), 1, alpha, beta,
                                 np.empty(0), np.zeros(0, dtype=np.int64), 1)
solved = None
if SOLVE:  # compiles the SOR kernels too: only where a solve is the point
    solved = solvers.sor(solvers.prepare(M), np.ones(4), 1.0).converged
value = _kernels_probe.probe()
hits = sum(_kernels_probe.probe.stats.cache_hits.values())  # loaded from the cache?
print(value, alpha[0], solved, hits > 0)
"""


def _copy(tmp_path):
    pkg = tmp_path / "pkg"
    for name in ("solvers", "bandit"):
        shutil.copytree(ROOT / name, pkg / name, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "solvers" / "_kernels_probe.py").write_text(_PROBE)
    return pkg


def _edit(pkg, old, new):
    path = pkg / "solvers" / "_kernels.py"
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def _start(pkg, prelude="", solve=False):
    # NUMBA_CACHE_DIR unset: Numba caches in the copy's __pycache__, as in an editable install
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(pkg)
    code = textwrap.dedent(prelude) + f"SOLVE = {solve}\n" + textwrap.dedent(_SCRIPT)
    return subprocess.Popen([sys.executable, "-c", code], cwd=pkg, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run(pkg, prelude="", solve=False):
    p = _start(pkg, prelude, solve)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    probe, alpha, converged, hit = out.split()
    return int(probe), float(alpha), {"True": True, "False": False, "None": None}.get(converged, converged), \
        hit == "True"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """A copy of the packages whose kernels were compiled and cached once."""
    pkg = _copy(tmp_path_factory.mktemp("stale"))
    assert _run(pkg) == (3, pytest.approx(0.5), None, False)
    assert list((pkg / "solvers" / "__pycache__").glob("_kernels_probe.probe-*.nbi"))
    return pkg


def test_a_cached_kernel_is_loaded_when_nothing_changed(compiled):
    # the stamp must not make every process compile again
    assert _run(compiled) == (3, pytest.approx(0.5), None, True)


def test_an_edit_of_an_imported_module_reaches_the_kernels_that_use_it(compiled, tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(compiled, pkg)  # the filled cache comes along
    _edit(pkg, "STALL_CHECKS = 3\n", "STALL_CHECKS = 7\n")
    _edit(pkg, _ROW, _ROW_EMPTY)
    # Numba alone had loaded probe() -> 3 and alpha 0.5 from the cache
    assert _run(pkg) == (7, 0.0, None, False)
    # and the recompiled kernels are cached again for the next process
    assert _run(pkg)[::3] == (7, True)
    # an edit back to the first source is seen too
    _edit(pkg, "STALL_CHECKS = 7\n", "STALL_CHECKS = 3\n")
    _edit(pkg, _ROW_EMPTY, _ROW)
    assert _run(pkg)[:2] == (3, pytest.approx(0.5))


def test_processes_starting_together_after_an_edit_all_work(compiled, tmp_path):
    # pytest-xdist workers or MPI ranks: each finds the stale cache, compiles and writes
    pkg = tmp_path / "pkg"
    shutil.copytree(compiled, pkg)
    _edit(pkg, "STALL_CHECKS = 3\n", "STALL_CHECKS = 5\n")
    procs = [_start(pkg) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert out.split()[:3] == ["5", "0.5", "None"]
    assert _run(pkg)[::3] == (5, True)


def test_a_read_only_copy_imports_and_solves(compiled, tmp_path, monkeypatch):
    # root ignores file modes, so every folder outside the temporary directory (the copy, the
    # home) is made unwritable through Numba's own check of a cache folder, as
    # tests/test_machine.py does; the kernels then go to the temporary directory
    pkg = tmp_path / "pkg"
    shutil.copytree(compiled, pkg)
    _edit(pkg, "STALL_CHECKS = 3\n", "STALL_CHECKS = 4\n")
    prelude = f"""
    import os
    import numba.core.caching as caching
    _orig = caching._CacheLocator.ensure_cache_path

    def ensure_cache_path(self):
        if not os.path.realpath(self.get_cache_path()).startswith({str(tmp_path / "tmp")!r}):
            raise PermissionError(13, "Permission denied", self.get_cache_path())
        return _orig(self)

    caching._CacheLocator.ensure_cache_path = ensure_cache_path
    """
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    before = sorted(p.name for p in (pkg / "solvers" / "__pycache__").iterdir())
    assert _run(pkg, prelude, solve=True)[:3] == (4, pytest.approx(0.5), True)
    assert list(tmp.rglob("*.nbi"))
    # nothing in the package was written, nothing removed
    assert sorted(p.name for p in (pkg / "solvers" / "__pycache__").iterdir()) == before


def test_the_digest_covers_every_module_of_the_kernel_packages():
    from solvers import _jitcache
    numba_users = {p.parent.name for p in ROOT.glob("*/*.py")
                   if "numba.njit" in p.read_text() or "from numba import njit" in p.read_text()}
    # experiments/bench_kernels.py's kernel reads nothing from another module (a benchmark);
    # tests/: this file's probe module
    assert numba_users - {"experiments", "tests"} == set(_jitcache.KERNEL_PACKAGES)
    assert _jitcache.PackageLocator is not None
    # the stamp of a kernel whose own file did not change still follows the others
    from solvers import _kernels_ssor
    stamp = _kernels_ssor._lower_solve._cache._impl.locator.get_source_stamp()
    assert stamp[1] == _jitcache.source_digest()


# Process A stops after writing its fresh index and before its data file (where Numba's save
# writes them in that order); the test starts process B in that window.
_SLOW_DATA = '''
import os, time
from numba.core import caching
_save_data = caching.IndexDataCacheFile._save_data

def _slow(self, name, data):
    if name.startswith("_kernels_probe.probe-"):
        open(os.environ["RELAXTUNE_TEST_SIGNAL"], "w").close()
        time.sleep(float(os.environ["RELAXTUNE_TEST_WAIT"]))
    _save_data(self, name, data)

caching.IndexDataCacheFile._save_data = _slow
'''


def test_a_process_starting_between_an_index_and_its_data_gets_the_fresh_kernel(
        compiled, tmp_path, monkeypatch):
    # Numba numbers a stale kernel's data files from 1 again, so the fresh index of one
    # process named the *old* data file until that process wrote the new one: a process
    # starting then loaded the old machine code (probe() -> 3 after the edit to 5)
    pkg = tmp_path / "pkg"
    shutil.copytree(compiled, pkg)
    _edit(pkg, "STALL_CHECKS = 3\n", "STALL_CHECKS = 5\n")
    signal_file = tmp_path / "index-written"
    monkeypatch.setenv("RELAXTUNE_TEST_SIGNAL", str(signal_file))
    monkeypatch.setenv("RELAXTUNE_TEST_WAIT", "30")
    a = _start(pkg, prelude=_SLOW_DATA)
    try:
        deadline = time.monotonic() + 600
        while not signal_file.exists():
            assert a.poll() is None and time.monotonic() < deadline, a.communicate()[1]
            time.sleep(0.05)
        assert _run(pkg)[0] == 5  # B, while A sleeps between its index and its data
    finally:
        a.kill()
        a.communicate()
    assert _run(pkg)[0] == 5


def test_cache_files_of_another_source_are_removed_after_an_hour(compiled, tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(compiled, pkg)
    cache = pkg / "solvers" / "__pycache__"
    old = sorted(p.name for p in cache.glob("_kernels_probe.probe-*.nb?"))
    assert old
    _edit(pkg, "STALL_CHECKS = 3\n", "STALL_CHECKS = 5\n")
    assert _run(pkg)[0] == 5
    new = sorted(p.name for p in cache.glob("_kernels_probe.probe-*.nb?"))
    fresh = [n for n in new if n not in old]
    assert fresh and set(old) <= set(new)  # kept: written moments ago
    # and the files of a version without the digest in the names
    (cache / "_kernels_probe.probe-7.py311.nbi").write_bytes(b"")
    (cache / "_kernels_probe.probe-7.py311.1.nbc").write_bytes(b"")
    old += ["_kernels_probe.probe-7.py311.nbi", "_kernels_probe.probe-7.py311.1.nbc"]
    for name in old:  # an hour and a minute old
        t = time.time() - 3660
        os.utime(cache / name, (t, t))
    # the next compile (after the next edit) removes them, and keeps the files of minutes ago
    _edit(pkg, "STALL_CHECKS = 5\n", "STALL_CHECKS = 7\n")
    assert _run(pkg)[0] == 7
    last = sorted(p.name for p in cache.glob("_kernels_probe.probe-*.nb?"))
    assert not set(old) & set(last) and set(fresh) < set(last)
