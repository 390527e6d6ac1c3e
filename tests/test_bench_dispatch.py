"""``experiments.bench_dispatch``: the variants it times and its input checks."""
from __future__ import annotations

import numpy as np
import pytest

from experiments import bench_dispatch


def test_every_variant_timed_cold_and_hot():
    res = bench_dispatch.run(rounds=3)
    assert list(res) == ["11 arrays + 8 scalars", "tuple of the 11", "tuple of 7 float 1-D",
                         "StructRef of the 11", "2 buffers", "scalars only"]
    for cold, hot in res.values():
        assert cold.shape == hot.shape == (3,)
        assert np.all(np.isfinite(cold)) and np.all(cold > 0) and np.all(hot > 0)


def test_rounds_below_one_refused(capsys):
    with pytest.raises(SystemExit):
        bench_dispatch.main(["--rounds", "0"])
    assert "--rounds must be at least 1, got 0" in capsys.readouterr().err
