"""``Tuner.save`` where the file cannot be written — a file in the place of the folder, a
read-only file system, a full disk — says so of the path it was given (not of its temporary
file), keeps the errno, and leaves an existing file as it was; the file it writes when it
can is read back by ``Tuner.load`` to the same history."""
import errno
import os

import numpy as np
import pytest

import bandit
from bandit import _persist
from solvers import gallery


@pytest.fixture
def tuner():
    t = bandit.Tuner([1.2, 1.5], solver="sor")
    A = gallery.laplacian_2d(5)
    for _ in range(3):
        t.solve(A, np.ones(25))
    return t


def test_a_file_where_the_folder_should_be(tuner, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match=f"cannot save to {tmp_path}/f/t.json: "
                                                  f"{tmp_path}/f is a file, not a folder"):
        tuner.save(tmp_path / "f" / "t.json")


def test_read_only_file_system_names_the_path(tuner, tmp_path, monkeypatch):
    # what os.open raises in a folder of a file system mounted read-only (EROFS): the
    # message had been "[Errno 30] Read-only file system: '<folder>/.t.json.<host>...tmp'"
    real = os.open

    def open_(path, flags, *a):
        if str(path).endswith(".tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real(path, flags, *a)

    monkeypatch.setattr(_persist.os, "open", open_)
    path = tmp_path / "t.json"
    with pytest.raises(OSError) as info:
        tuner.save(path)
    assert str(info.value) == (f"cannot save to {path}: cannot create a file in folder "
                               f"{tmp_path} (Read-only file system)")
    assert info.value.errno == errno.EROFS and ".tmp" not in str(info.value)


def test_full_disk_names_the_path_and_keeps_the_old_file(tuner, tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    tuner.save(path)
    before = path.read_bytes()
    tuner.solve(gallery.laplacian_2d(5), np.ones(25))

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_persist, "_write_all", full)
    with pytest.raises(OSError) as info:
        tuner.save(path)
    assert str(info.value) == (f"cannot save to {path}: No space left on device; the file is "
                               "unchanged")
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["t.json"]
    # the file kept is the earlier run's: 3 rounds, the history as it was then
    assert bandit.Tuner.load(path).history["iterations"].tolist() == \
        tuner.history["iterations"][:3].tolist()
