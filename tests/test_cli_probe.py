"""The ``relaxtune`` command line run as a new user would: output paths that are not plain
files, two runs sharing a results folder, a results folder of another subcommand given to
``plot``, sizes out of range and progress bars in a log file."""
import json
import os
import stat

import pytest

from experiments.results import write_json


def test_json_into_a_named_pipe_writes_into_it_and_keeps_it(tmp_path):
    """``--json`` naming a device or a named pipe (``/dev/stdout``, ``/dev/null``, a FIFO a
    reader waits on) is written into; the atomic rename had replaced the device itself with a
    regular file (as root, ``--json /dev/null`` had destroyed /dev/null)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the writer can open it
    try:
        write_json(fifo, {"study": "learning", "T": 3})
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        assert json.loads(os.read(reader, 1 << 16)) == {"study": "learning", "T": 3}
    finally:
        os.close(reader)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]  # no temporary left
