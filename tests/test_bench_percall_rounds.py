"""``bench_percall --rounds``: the configuration learner's own round timed alone, warm and
cache-cold, beside a baseline checkout's; ``--cold`` with ``--parts``."""
from pathlib import Path

import numpy as np
import pytest

from experiments import bench_percall

ROOT = Path(__file__).resolve().parents[1]


def test_rounds_times_select_and_update_warm_and_cold_beside_the_baseline(capsys):
    out = bench_percall.main(["--rounds", "10", "--sequence", "heat2d", "--nx", "8",
                              "--samples", "12", "--cold", "1", "--baseline", str(ROOT)])
    assert list(out) == ["this checkout", "baseline"]
    for rec in out.values():
        for part in ("select", "update", "round"):
            for mode in ("warm", "cold"):
                v = np.array(rec[part][mode])
                assert v.size == 10 and (v > 0).all()
        assert np.allclose(np.array(rec["round"]["warm"]),
                           np.array(rec["select"]["warm"]) + np.array(rec["update"]["warm"]))
    text = capsys.readouterr().out
    assert "1.0 MB written before each call" in text
    assert sum(1 for ln in text.splitlines() if ln.strip().startswith(("select", "update"))) == 4


@pytest.mark.parametrize("argv, message", [
    (["--cold", "4"], "--cold is an option of --parts or --rounds"),
    (["--parts", "--cold", "-1"], "--cold is an option of --parts or --rounds"),
    (["--rounds", "5"], "--rounds must be >= 10"),
    (["--rounds", "10", "--parts"], "--rounds and --parts are two benchmarks"),
    (["--rounds", "10", "--cold", "0"], "--cold must be > 0 with --rounds"),
])
def test_bad_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        bench_percall.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_parts_cold_evicts_before_every_tuner_call(monkeypatch):
    calls = []
    monkeypatch.setattr(bench_percall, "evict", lambda junk: calls.append(junk.nbytes))
    recs = bench_percall.run_parts("heat2d", 8, steps=4, warmup=0, cold=1)
    assert len(calls) == 4 * len(recs) and set(calls) == {2 ** 20}
