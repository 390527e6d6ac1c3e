"""The library installed and run on a machine that is not ours.

Each test simulates one condition of another machine (a read-only installation, an
unwritable home, a non-UTF-8 locale, ...) in a subprocess, so the test process itself is
unaffected.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code, *, env=None, cwd=None, timeout=300):
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=full, cwd=cwd, timeout=timeout)


# Numba caches a kernel in $NUMBA_CACHE_DIR, the source's __pycache__ or ~/.cache/numba, each
# only if it can write there.  This patch makes every folder outside WRITABLE unwritable, as
# for a read-only installation run with a read-only (or missing) home; root ignores chmod, so
# the test cannot rely on file modes.
_READ_ONLY = """
import os, tempfile
import numba.core.caching as caching

WRITABLE = os.environ.get("WRITABLE") or None
_orig = caching._CacheLocator.ensure_cache_path

def ensure_cache_path(self):
    path = os.path.realpath(self.get_cache_path())
    if WRITABLE is None or not path.startswith(os.path.realpath(WRITABLE) + os.sep):
        raise PermissionError(13, "Permission denied", path)
    return _orig(self)

caching._CacheLocator.ensure_cache_path = ensure_cache_path
"""


def test_read_only_install_caches_kernels_in_the_temporary_directory(tmp_path):
    # `import solvers` had failed with "cannot cache function '_row': no locator available":
    # Numba refuses to define a cache=True function it has nowhere to cache
    code = _READ_ONLY + """
import numpy as np
import numba
import solvers, bandit, experiments
from solvers import _kernels
r = solvers.sor(solvers.prepare(solvers.gallery.laplacian_2d(3)), np.ones(9), 1.0, maxiter=1)
print(numba.config.CACHE_DIR)
print(os.environ["NUMBA_CACHE_DIR"])
print(_kernels.residual_norm._cache._cache_path)
"""
    out = _run(code, env={"WRITABLE": str(tmp_path), "TMPDIR": str(tmp_path),
                          "NUMBA_CACHE_DIR": None})
    assert out.returncode == 0, out.stderr
    folder = tmp_path / f"relaxtune-numba-{os.getuid()}"
    cache_dir, env_dir, kernel_dir = out.stdout.split()
    assert cache_dir == env_dir == str(folder)
    assert Path(kernel_dir).parent == folder
    assert list(folder.rglob("*.nbi")), "the kernels used by the solve were not cached"
    assert folder.stat().st_mode & 0o077 == 0  # private to the user


def test_nothing_writable_is_a_clear_import_error(tmp_path):
    out = _run(_READ_ONLY + "import solvers\n",
               env={"WRITABLE": None, "TMPDIR": str(tmp_path), "NUMBA_CACHE_DIR": None})
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: Numba cannot cache relaxtune's compiled kernels")
    assert "NUMBA_CACHE_DIR" in last


def test_a_writable_installation_keeps_numbas_own_choice(tmp_path):
    # nothing to do when Numba can cache: the user's settings stay as they are
    out = _run("import numba, os, solvers, bandit\n"
               "print(repr(numba.config.CACHE_DIR), os.environ.get('NUMBA_CACHE_DIR'))\n",
               env={"NUMBA_CACHE_DIR": None, "TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["''", "None"]
    assert not list(tmp_path.iterdir())


def test_a_terminal_that_is_not_utf8_gets_the_table_in_ascii(tmp_path):
    # LANG=en_US.ISO-8859-1: the table's first "fixed ω=..." had raised UnicodeEncodeError
    # after the study had run
    out = subprocess.run([sys.executable, "-m", "experiments.cli", "learning", "--T", "20",
                          "--trials", "1", "--learners", "tsallis_inf", "--no-plots",
                          "--out", str(tmp_path / "run")], capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT),
                              "PYTHONIOENCODING": "latin-1"}, timeout=300)
    assert out.returncode == 0, out.stderr.decode("latin-1")
    table = out.stdout.decode("latin-1")
    assert "fixed omega=1.4" in table and "ω" not in table
    assert "best fixed omega" in table


def test_transliteration_of_the_symbols_used():
    from experiments import cli  # noqa: F401 - registers the error handler

    text = "fixed ω=1.4, κ≈3·10², Λ ≤ 2 µs ✓"
    assert text.encode("ascii", "relaxtune.ascii") == b"fixed omega=1.4, kappa~3*10^2, Lambda <= 2 us ?"
    assert text.encode("latin-1", "relaxtune.ascii").decode("latin-1") == (
        "fixed omega=1.4, kappa~3·10², Lambda <= 2 µs ?")  # latin-1 has ·, ² and µ


@pytest.mark.parametrize("backend", ["nosuch", "TkAgg"])
def test_figures_whatever_mplbackend_says(tmp_path, backend):
    # figures are drawn with Agg; MPLBACKEND=nosuch had failed matplotlib's import and every
    # figure with it (`relaxtune plot` blamed the results folder), an interactive backend with
    # no display must not open or need a window
    code = """
    import sys
    import numpy as np
    import bandit
    from solvers import gallery
    from experiments.plots import plot_run
    A = gallery.laplacian_2d(6)
    tuner = bandit.Tuner(bandit.FixedArm([1.0, 1.5]), solver="sor")
    for k in range(4):
        tuner.solve(A, np.ones(36) * (k + 1))
    plot_run(tuner)[0].figure.savefig(sys.argv[1])
    import matplotlib
    print(matplotlib.get_backend())
    """
    png = tmp_path / "run.png"
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(png)],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": backend,
                              "DISPLAY": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1].lower() == "agg"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_workers_at_most_the_usable_cpus(monkeypatch):
    # `relaxtune demo` (--jobs 2) under `taskset -c 0` had run two workers on one CPU, each
    # timing the other's time slices
    from experiments import offset_study

    monkeypatch.setattr(offset_study.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert offset_study.usable_cpus() == 1
    pids = offset_study.run_parallel(_pid, [0, 1], jobs=2, progress=False)
    assert pids == [os.getpid()] * 2  # in this process, one after the other

    monkeypatch.setattr(offset_study.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(offset_study, "CGROUP_ROOT", "/nonexistent")  # nor a CPU quota
    pids = offset_study.run_parallel(_pid, [0, 1], jobs=2, progress=False)
    assert os.getpid() not in pids  # two workers when two CPUs are usable


def _pid(_):
    return os.getpid()


# The oldest release of each dependency that has what the library calls (the suite was run
# with exactly these, and with NumPy 1.24, Numba 0.59, Matplotlib 3.7, tqdm 4.60): with
# SciPy 1.11, the declared bound, `gallery.laplacian_2d` (sparse.diags_array, SciPy 1.13) and
# `gallery.random_spd` (sparse.random_array(rng=...), SciPy 1.15) had failed; pyamg 5.0 fails
# on SciPy >= 1.14 (bsr_matrix.H), pyamg 5.2 and 5.3 on the matrices `prepare` makes (their
# compiled strength-of-connection takes 32-bit indices only).
OLDEST = {"numpy": "1.24", "scipy": "1.15", "numba": "0.59", "matplotlib": "3.7", "tqdm": "4.60",
          "pyamg": "5.4"}


def _lower_bounds():
    import configparser
    import re

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = cfg["options"]["install_requires"].split()
    lines += cfg["options.extras_require"]["amg"].split()
    bounds = {}
    for req in lines:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", req)
        assert m, f"{req}: give every dependency a lower bound (name>=version)"
        bounds[m.group(1).lower()] = m.group(2)
    return bounds


def test_declared_lower_bounds_have_what_the_library_calls():
    def v(text):
        return tuple(int(p) for p in text.split("."))

    bounds = _lower_bounds()
    for name, oldest in OLDEST.items():
        assert v(bounds[name]) >= v(oldest), f"{name}>={bounds[name]}: needs >= {oldest}"
    assert set(bounds) == set(OLDEST)  # a new dependency: check its oldest usable version


def test_the_apis_behind_the_bounds_are_the_ones_called():
    # keeps OLDEST honest: the calls that set the SciPy bound are still made
    import inspect

    import scipy.sparse as sp

    src = (ROOT / "solvers" / "gallery.py").read_text(encoding="utf-8")
    assert "sp.diags_array(" in src and "rng=" in src
    assert "rng" in inspect.signature(sp.random_array).parameters


def test_saving_into_a_folder_that_is_not_writable_names_the_folder(tmp_path, monkeypatch):
    # the error had named the hidden temporary file (.t.json.host.pid.hex.tmp) the save writes
    # first; root ignores file modes, so the refusal of the folder is simulated
    import numpy as np

    import bandit
    from bandit import _persist
    from solvers import gallery

    real_open = os.open

    def refuse(path, flags, *args):
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    tuner = bandit.Tuner(solver="cg")
    tuner.solve(gallery.laplacian_2d(4), np.ones(16))
    monkeypatch.setattr(_persist.os, "open", refuse)
    with pytest.raises(PermissionError, match=r"t\.json: folder .* is not writable$"):
        tuner.save(tmp_path / "t.json")
    monkeypatch.undo()
    assert not list(tmp_path.iterdir())


def test_a_taken_cache_folder_name_is_not_followed(tmp_path):
    # in a shared temporary directory, relaxtune-numba-<uid> may be someone else's link
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / f"relaxtune-numba-{os.getuid()}").symlink_to(elsewhere)
    out = _run(_READ_ONLY + "import numba, solvers\nprint(numba.config.CACHE_DIR)\n",
               env={"WRITABLE": str(tmp_path), "TMPDIR": str(tmp_path), "NUMBA_CACHE_DIR": None})
    assert out.returncode == 0, out.stderr
    folder = Path(out.stdout.strip())
    assert folder.parent == tmp_path and folder.name.startswith("relaxtune-numba-")
    assert not folder.is_symlink() and not list(elsewhere.iterdir())
    assert not folder.exists()  # a process's own folder is removed at exit


def test_every_help_under_python_oo():
    # python -OO (PYTHONOPTIMIZE=2) strips docstrings: the parser had built its description
    # from the module's, and every command failed with an AttributeError
    code = """
    import contextlib, io, sys
    from experiments import cli
    assert cli.__doc__ is None
    for argv in [["--help"]] + [[c, "--help"] for c in ("learning", "contextual", "heat2d", "demo",
                 "precond", "plot")] + [["bench", b, "--help"] for b in cli.BENCHES]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                status = cli.main(argv)
            except SystemExit as exc:  # a benchmark's own parser exits after its help
                status = exc.code
        assert status == 0 and "usage:" in out.getvalue(), (argv, status)
    print("ok")
    """
    out = _run(code, env={"PYTHONOPTIMIZE": "2"})
    assert out.returncode == 0 and out.stdout.split() == ["ok"], out.stderr[-2000:]


def test_help_has_no_rest_quotes():
    import contextlib
    import io

    from experiments import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--help"]) == 0
    assert "The relaxtune command line." in out.getvalue() and "``" not in out.getvalue()


def test_results_compare_by_value():
    # the generated __eq__ compared x with ==: ValueError (truth value of an array is
    # ambiguous) for equal but distinct x, and on Python >= 3.13 for the very same x
    import numpy as np

    from solvers import SolveResult, cg, gallery

    r = cg(gallery.laplacian_2d(4), np.ones(16))
    assert r == r.replace(x=r.x.copy(), info=dict(r.info))
    assert r == r.replace()  # shares x: the case Python 3.13 had refused
    assert r != r.replace(x=r.x + np.where(np.arange(16) == 3, 1.0, 0.0))
    assert r != r.replace(x=r.x[:8])
    assert r != r.replace(iterations=r.iterations + 1)
    assert r.replace(info={"a": np.ones(2)}) == r.replace(info={"a": np.ones(2)})
    assert r.replace(info={"a": np.ones(2)}) != r.replace(info={"a": np.zeros(2)})
    nan = r.replace(x=np.full(16, np.nan), converged=False)
    assert nan == nan.replace(x=np.full(16, np.nan))  # a failed solve equals its copy
    assert (r == "result") is False
    with pytest.raises(TypeError):
        hash(r)
    assert isinstance(r, SolveResult)


def test_a_program_with_pyplot_keeps_its_backend():
    # a notebook (inline backend) or a script that chose its backend: plot_run had switched
    # it to Agg for the rest of the program
    code = """
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    mine = plt.figure()
    import numpy as np
    import bandit
    from solvers import gallery
    from experiments.plots import plot_run
    tuner = bandit.Tuner(bandit.FixedArm([1.0, 1.5]), solver="sor")
    for k in range(3):
        tuner.solve(gallery.laplacian_2d(5), np.ones(25))
    ax = plot_run(tuner)[0]
    print(matplotlib.get_backend(), plt.fignum_exists(mine.number), ax.figure is plt.gcf())
    """
    out = _run(code, env={"MPLBACKEND": None})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "True", "True"]


def test_a_petsc_tuner_without_petsc4py_names_the_extra():
    # a machine without the petsc extra: Tuner(backend="petsc") had raised a bare
    # "No module named 'petsc4py'"; the solvers name what to install
    code = """
    import sys
    sys.modules["petsc4py"] = None  # as if not installed
    import bandit
    try:
        bandit.Tuner(solver="ssor_pcg", backend="petsc")
    except ImportError as exc:
        print(exc)
    """
    out = _run(code)
    assert out.returncode == 0, out.stderr
    from solvers._extras import install_hint

    assert out.stdout.strip() == ("backend='petsc' needs petsc4py and mpi4py: "
                                  + install_hint("petsc"))


def test_saving_over_a_file_where_permissions_cannot_be_set(tmp_path, monkeypatch):
    # vfat and some network mounts refuse chmod: keeping an old file's mode is best effort,
    # and the save over it had failed with PermissionError
    import numpy as np

    import bandit
    from bandit import _persist
    from solvers import gallery

    tuner = bandit.Tuner(solver="cg")
    tuner.solve(gallery.laplacian_2d(4), np.ones(16))
    path = tmp_path / "t.json"
    tuner.save(path)
    tuner.solve(gallery.laplacian_2d(4), np.ones(16))

    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(_persist.os, "fchmod", refuse)
    monkeypatch.setattr(_persist.os, "fchown", refuse)
    tuner.save(path)
    assert len(bandit.Tuner.load(path).history["iterations"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_the_source_distribution_carries_what_its_tests_read(tmp_path):
    # the tests read docs/ (the pages' links, the command-line page, the docs' standalone
    # check): an sdist without it failed its own suite; the Makefile is how the docs say to
    # run them
    import shutil
    import tarfile

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "_build", "generated",
        "results", ".hypothesis", ".benchmarks", ".pytest_cache", "*.nbi", "*.nbc"))
    code = "from setuptools import build_meta as b; print(b.build_sdist(%r))" % str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    with tarfile.open(tmp_path / out.stdout.split()[-1]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"Makefile", "README.md", "docs/index.md", "docs/conf.py", "docs/install.md",
            "tests/test_docs.py", "solvers/_jitcache.py"} <= names
    assert not any("__pycache__" in n or n.startswith("docs/_build") for n in names)
