"""Packaging, worker processes and clear errors: small defects found by using the library."""
import configparser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")


def _setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


# === the licence ==============================================================================
def test_the_licence_file_is_the_bsd_3_clause_text_setup_cfg_declares():
    cfg = _setup_cfg()
    assert cfg["metadata"]["license"] == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License\n")
    assert "Copyright (c) 2026, the relaxtune developers" in text
    # the three clauses, and no fourth (the advertising clause of the 4-clause licence)
    assert re.findall(r"^(\d)\. ", text, re.M) == ["1", "2", "3"]
    assert "Neither the name of the copyright holder nor the names of its" in text
    assert "advertising" not in text
    assert "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\"" in text


def test_the_source_and_wheel_distributions_carry_the_licence(tmp_path):
    # setup.cfg declared BSD-3-Clause but no licence text was shipped with either
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "_build", "generated",
        "results", ".hypothesis", ".benchmarks", ".pytest_cache", "*.nbi", "*.nbc"))
    built = []
    for kind in ("sdist", "wheel"):  # one process each: a second build in the same one
        # finds the first one's state and puts its file elsewhere
        code = f"import sys; from setuptools import build_meta as b; print(b.build_{kind}(sys.argv[1]))"
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=src,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        built.append(out.stdout.split()[-1])
    sdist_name, wheel_name = built
    licence = (ROOT / "LICENSE").read_bytes()

    with tarfile.open(tmp_path / sdist_name) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
        assert tar.extractfile(members["LICENSE"]).read() == licence
        pkg_info = tar.extractfile(members["PKG-INFO"]).read().decode()
    assert "License-File: LICENSE" in pkg_info.splitlines()

    with zipfile.ZipFile(tmp_path / wheel_name) as whl:
        info = [n for n in whl.namelist() if n.split("/")[0].endswith(".dist-info")]
        shipped = [n for n in info if n.rsplit("/", 1)[-1] == "LICENSE"]
        assert len(shipped) == 1 and whl.read(shipped[0]) == licence
        metadata = whl.read(next(n for n in info if n.endswith("/METADATA"))).decode()
    assert "License-File: LICENSE" in metadata.splitlines()


# === the test extra ===========================================================================
# module each distribution of the test extra provides (what the suite would import or use)
_MODULE = {"pytest": "pytest", "hypothesis": "hypothesis", "pyamg": "pyamg", "sphinx": "sphinx",
           "setuptools": "setuptools", "pytest-benchmark": "pytest_benchmark"}


def test_every_package_of_the_test_extra_is_used_by_the_suite():
    # pytest-benchmark was installed by `pip install '.[test]'` but no test used it
    reqs = _setup_cfg()["options.extras_require"]["test"].split()
    names = [re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] for r in reqs]
    assert "pytest" in names
    # what the suite runs: the tests, and the documentation extension a test imports
    files = [*(ROOT / "tests").glob("*.py"), *(ROOT / "docs" / "_ext").glob("*.py")]
    files.remove(Path(__file__).resolve())
    sources = "\n".join(p.read_text(encoding="utf-8") for p in files)
    for name in names:
        if name == "pytest":
            continue
        module = _MODULE.get(name, name.replace("-", "_"))
        assert re.search(rf"^\s*(import|from) {module}\b|importorskip\(\"{module}\"\)|"
                         rf"[\"']from {module}\b|\bimport {module}\b", sources, re.M), name


# === reading a history CSV that is not there ==================================================
def test_read_csv_of_a_missing_file_or_a_folder_names_the_problem(tmp_path):
    # a missing file had raised a bare FileNotFoundError ("[Errno 2] ..."), unlike Tuner.load
    import bandit
    from bandit.report import read_csv

    missing = tmp_path / "no.csv"
    with pytest.raises(ValueError, match=f"^{re.escape(str(missing))}: no such file$"):
        read_csv(missing)
    with pytest.raises(bandit.TunerFileError, match=f"^{re.escape(str(missing))}: no such file$"):
        bandit.Tuner.load(missing)  # the same words as the tuner's own files
    with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path))}: is a folder, not a "
                                         "relaxtune history$"):
        read_csv(tmp_path)
    with pytest.raises(ValueError, match="empty path"):
        read_csv("")
    if os.geteuid() != 0:  # root reads any file
        locked = tmp_path / "locked.csv"
        locked.write_text("arm\n")
        locked.chmod(0)
        with pytest.raises(ValueError, match=f"{re.escape(str(locked))}: cannot read"):
            read_csv(locked)


# === the worker cap honours a cgroup v2 CPU quota =============================================
def _pid(_):
    return os.getpid()


def _fake_cgroup(tmp_path, limits, membership="0::/\n"):
    """A cgroup v2 tree under ``tmp_path``: ``limits`` maps a folder ("" for the root) to the
    text of its ``cpu.max``."""
    root = tmp_path / "cgroup"
    for folder, text in limits.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "cpu.max").write_text(text)
    root.mkdir(exist_ok=True)
    (tmp_path / "self_cgroup").write_text(membership)
    return root, tmp_path / "self_cgroup"


@pytest.mark.parametrize("limits, membership, want", [
    ({}, "0::/\n", None),                                      # no cpu.max: no quota
    ({"": "max 100000\n"}, "0::/\n", None),                    # "max": unlimited
    ({"": "200000 100000\n"}, "0::/\n", 2.0),                  # a container, --cpus 2
    ({"": "50000 100000\n"}, "0::/\n", 0.5),
    # on a host: this process's cgroup and its ancestors, the smallest quota applies
    ({"a": "300000 100000\n", "a/b": "max 100000\n", "a/b/c": "150000 100000\n"},
     "12:cpu:/ignored\n0::/a/b/c\n", 1.5),
    ({"a": "100000 100000\n", "a/b": "400000 100000\n"}, "0::/a/b\n", 1.0),
    ({"x": "100000 100000\n"}, "0::/a\n", None),               # another cgroup's quota
    ({"": "garbage\n"}, "0::/\n", None),                        # unreadable: ignored
    ({"": "100000 0\n"}, "0::/\n", None),
])
def test_cgroup_cpu_quota_reads_cpu_max_of_this_process_and_its_ancestors(
        tmp_path, limits, membership, want):
    from experiments.offset_study import cgroup_cpu_quota

    root, member = _fake_cgroup(tmp_path, limits, membership)
    assert cgroup_cpu_quota(root, member) == want


def test_a_cgroup_quota_below_the_affinity_caps_the_workers(tmp_path, monkeypatch):
    # in a container given 1 CPU's worth of time on a 2-CPU machine (docker --cpus 1) the
    # affinity still lists both CPUs: two workers would each be throttled half the time
    from experiments import offset_study

    monkeypatch.setattr(offset_study.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for text, cpus in [("100000 100000", 1), ("199999 100000", 1), ("50000 100000", 1),
                       ("200000 100000", 2), ("800000 100000", 2), ("max 100000", 2)]:
        root, member = _fake_cgroup(tmp_path / text.replace(" ", "_"), {"": text})
        monkeypatch.setattr(offset_study, "CGROUP_ROOT", str(root))
        monkeypatch.setattr(offset_study, "PROC_CGROUP", str(member))
        assert offset_study.usable_cpus() == cpus, text

    root, member = _fake_cgroup(tmp_path / "one", {"": "100000 100000"})
    monkeypatch.setattr(offset_study, "CGROUP_ROOT", str(root))
    monkeypatch.setattr(offset_study, "PROC_CGROUP", str(member))
    pids = offset_study.run_parallel(_pid, [0, 1], jobs=2, progress=False)
    assert pids == [os.getpid()] * 2  # in this process, one after the other


# === relaxtune plot: a figure that fails is not a layout problem ==============================
@pytest.fixture(scope="module")
def results_folder(tmp_path_factory):
    from experiments.cli import main

    out = tmp_path_factory.mktemp("plot") / "r"
    assert main(["learning", "--T", "15", "--trials", "1", "--learners", "tsallis_inf",
                 "--quiet", "--no-plots", "--out", str(out)]) == 0
    return out


def _copy(folder, tmp_path):
    dst = tmp_path / "r"
    shutil.copytree(folder, dst)
    return dst


def test_plot_names_the_figure_matplotlib_could_not_draw(results_folder, tmp_path, monkeypatch,
                                                         capsys):
    # any error while drawing had been reported as "its summary.json or per-round arrays do
    # not have the layout this relaxtune draws"
    from experiments import plots
    from experiments.cli import main

    out = _copy(results_folder, tmp_path)

    def broken(data, ax=None, **kw):
        raise ValueError("cannot draw this")

    monkeypatch.setattr(plots, "plot_omega_map", broken)
    assert main(["plot", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (f"relaxtune: error: FigureError: drawing {out}/figures/omega_map.png failed "
                   f"(ValueError: cannot draw this) (rerun with --debug for the traceback)\n")
    # the figures before it were drawn, and its file was not
    assert (out / "figures" / "cumulative.png").is_file()
    assert not (out / "figures" / "omega_map.png").exists()


def test_plot_names_the_figure_file_it_cannot_write(results_folder, tmp_path, capsys):
    from experiments.cli import main

    out = _copy(results_folder, tmp_path)
    (out / "figures" / "regret.pdf").mkdir(parents=True)  # a folder where a figure goes
    assert main(["plot", str(out)]) == 2
    assert capsys.readouterr().err == (f"relaxtune: error: cannot write "
                                       f"{out}/figures/regret.pdf (Is a directory)\n")


def test_plot_still_reports_a_layout_problem_as_such_with_nothing_drawn(results_folder, tmp_path,
                                                                        capsys):
    import json

    from experiments.cli import main

    out = _copy(results_folder, tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    summary["params"]["learners"] = 5  # read by the regret figure, after the cumulative one
    (out / "summary.json").write_text(json.dumps(summary))
    assert main(["plot", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"relaxtune: error: {out}: its summary.json or per-round arrays do not have the layout "
        f"this relaxtune draws (TypeError: 'int' object is not iterable); written by another "
        f"version, or edited?\n")
    # every figure's data is read first: nothing drawn, and no empty folder left behind
    assert not (out / "figures").exists()


def test_plot_of_a_tuner_file_names_the_figure_file_it_cannot_write(tmp_path, capsys):
    import numpy as np

    import bandit
    from experiments.cli import main
    from solvers import gallery

    tuner = bandit.Tuner(solver="cg")
    for k in range(3):
        tuner.solve(gallery.laplacian_2d(4), np.ones(16) * (k + 1))
    tuner.save(tmp_path / "t.json")
    (tmp_path / "t_cost.png").mkdir()
    assert main(["plot", str(tmp_path / "t.json")]) == 2
    assert capsys.readouterr().err == (f"relaxtune: error: cannot write {tmp_path}/t_cost.png "
                                       f"(Is a directory)\n")


def test_plot_from_a_subprocess_prints_one_line_and_no_traceback(results_folder, tmp_path):
    out = _copy(results_folder, tmp_path)
    (out / "figures" / "cumulative.png").mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "plot", str(out)], env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == f"relaxtune: error: cannot write {out}/figures/cumulative.png (Is a directory)\n"


# === worker processes are never forked from the (possibly threaded) study process =============
def _square_and_pid(x):
    return x * x, os.getpid()


def test_run_parallel_never_forks_this_process(monkeypatch):
    # the workers had been forked from this process after tqdm's monitor thread started (a
    # child forked while another thread holds a lock can hang; Python >= 3.12 warns)
    import threading

    from experiments import offset_study

    monkeypatch.setattr(offset_study.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(offset_study, "CGROUP_ROOT", "/nonexistent")

    def no_fork():
        raise AssertionError("os.fork() called in the study's process")

    monkeypatch.setattr(os, "fork", no_fork)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)  # this process has threads
    busy.start()
    try:
        out = offset_study.run_parallel(_square_and_pid, list(range(7)), jobs=2, progress=True)
    finally:
        stop.set()
    assert [r for r, _ in out] == [x * x for x in range(7)]  # in the tasks' order
    pids = {p for _, p in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # in (at most two) workers
