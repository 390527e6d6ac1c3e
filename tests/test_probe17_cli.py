"""``relaxtune bench percall``'s options of ``--parts`` given without it: they had been
ignored — ``--omega 2.5`` (an ω no SSOR-PCG takes) ran the whole other benchmark and exited
with status 0 — and are now refused by name before anything is measured."""
import pytest


@pytest.mark.parametrize("argv, named", [
    (["--omega", "2.5"], "--omega is an option"),
    (["--sequence", "heat2d"], "--sequence is an option"),
    (["--nx", "50", "--general"], "--nx, --general are options"),
    (["--clock", "thread_time", "--warmup", "5"], "--clock, --warmup are options")])
def test_parts_options_without_parts_are_refused_before_anything_runs(argv, named, capsys,
                                                                     monkeypatch):
    from experiments import bench_percall
    from experiments.cli import main

    def measured(*args, **kwargs):  # what ran before: the benchmark without --parts
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr(bench_percall, "run", measured)
    monkeypatch.setattr(bench_percall, "run_parts", measured)
    assert main(["bench", "percall", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"relaxtune: error: bench percall: {named} of --parts")
    assert captured.err.count("\n") == 1


def test_parts_options_with_parts_still_reach_the_parts(monkeypatch, capsys):
    from experiments import bench_percall
    from experiments.cli import main

    seen = {}

    def parts(kind, size, steps, seed, warmup, omega, clock, general, baseline=None,
              fixed="ssor_pcg", cold=0):
        seen.update(kind=kind, size=size, warmup=warmup, omega=omega, clock=clock,
                    general=general, baseline=baseline, fixed=fixed, cold=cold)
        return {}

    monkeypatch.setattr(bench_percall, "run_parts", parts)
    monkeypatch.setattr(bench_percall, "_print_parts", lambda records: None)
    argv = ["--parts", "--sequence", "heat2d", "--nx", "40", "--omega", "1.8", "--clock",
            "thread_time", "--warmup", "5", "--general"]
    assert main(["bench", "percall", *argv]) == 0
    assert seen == {"kind": "heat2d", "size": 40, "warmup": 5, "omega": 1.8,
                    "clock": "thread_time", "general": True, "baseline": None,
                    "fixed": "ssor_pcg", "cold": 0}
