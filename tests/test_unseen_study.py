"""The unseen study's reading of a run (experiments._unseen_study.diagnose) on hand-made
arrays whose answers are worked out by hand, and one tiny study end to end."""
import numpy as np
import pytest

from experiments._unseen_study import diagnose, main


def _arrays():
    # two configurations over 4 steps, contexts 0..3; "a" cheap on the low contexts, "b" on
    # the high ones; two rounds, the second of "b" missing (pruned): medians are round 0's
    labels = ["ssor_pcg ω=1.00", "cg+ic0"]
    a = np.array([[1.0, 1.0, 4.0, 4.0], [1.0, 1.0, 4.0, 4.0]])
    b = np.array([[3.0, 3.0, 2.0, 2.0], [np.nan] * 4])
    return {"cpu/ssor_pcg ω=1.00": a, "cpu/cg+ic0": b,
            "cpu/learner": np.array([[1.5, 1.0, 2.0, 2.5], [1.0, 1.0, 4.0, 2.0]]),
            "arms/learner": np.array([[0, 0, 1, 1], [0, 0, 0, 1]]),
            "cpu/omega_learner": np.array([[1.0, 1.0, 4.0, 4.0]] * 2),
            "arms/omega_learner": np.zeros((2, 4), dtype=int),
            "contexts": np.array([3.0, 2.0, 1.0, 0.0]), "labels": np.array(labels)}, labels


def test_diagnose_bins_oracle_and_choices_by_hand():
    arrays, labels = _arrays()
    d = diagnose(arrays, labels, [1.0], bins=2)
    # totals: a = 10, b = 10 → the first (a) is best fixed; low-context bin = steps 2, 3
    assert d["best_fixed"] == "ssor_pcg ω=1.00"
    low, high = d["bins"]
    assert low["context"] == [0.0, 1.0] and low["best"] == "cg+ic0"
    assert low["best_seconds"] == 4.0 and low["best_fixed_seconds"] == 8.0
    assert high["best"] == "ssor_pcg ω=1.00" and high["best_seconds"] == 2.0
    assert d["oracle"]["per_bin_vs_best_fixed"] == pytest.approx(6 / 10)
    assert d["oracle"]["per_step_vs_best_fixed"] == pytest.approx(6 / 10)
    # learner: round 0 arms cost 1+1+2+2 = 6 as fixed and took 7; round 1: 1+1+4+2 = 8, 8
    c = d["choices"]["learner"]
    assert c["arms_as_fixed_vs_best_fixed"] == pytest.approx(7 / 10)
    assert c["calls_vs_arms_as_fixed"] == pytest.approx(7.5 / 7)
    assert low["learner"]["arms"] == {"cg+ic0": 0.75, "ssor_pcg ω=1.00": 0.25}
    assert low["omega_learner"]["arms"] == {"ω=1.00": 1.0}
    assert d["choices"]["omega_learner"]["arms_as_fixed_vs_best_fixed"] == pytest.approx(1.0)


def test_choices_on_a_configuration_stopped_early_are_a_bound_not_a_figure():
    """A learner's steps on a configuration whose fixed run was stopped before them have no
    fixed seconds: they were left out of the sum as if free, and the choice read below the
    per-step oracle (0.840 × the best fixed on a run of biharm2d whose learner drew IC(0)-CG,
    stopped as a fixed configuration at step 17, on 21 later steps).  Now they are counted
    and the figure is printed as a bound."""
    from experiments._unseen_study import format_diagnosis

    arrays, labels = _arrays()
    arrays["cpu/cg+ic0"] = np.array([[3.0, 3.0, np.nan, np.nan], [np.nan] * 4])  # stopped
    arrays["cpu/learner"] = np.array([[1.5, 1.0, 4.5, 4.5]])
    arrays["arms/learner"] = np.array([[0, 0, 1, 1]])
    d = diagnose(arrays, labels, [1.0], bins=2)
    c = d["choices"]["learner"]
    assert c["unpriced_steps"] == 2
    assert c["arms_as_fixed_vs_best_fixed"] == pytest.approx(2 / 10)  # only what is priced
    text = format_diagnosis(d, "ctx")
    assert "learner: its arms' fixed-configuration seconds / best fixed ≥ 0.200" in text
    assert "2 steps a round on configurations whose fixed run was stopped" in text
    # every step priced: no bound, no note
    full, labels = _arrays()
    assert "≥" not in format_diagnosis(diagnose(full, labels, [1.0], bins=2), "c")


def test_tiny_study_writes_and_reads_back(tmp_path, capsys):
    assert main(["--sequences", "rgg", "--size", "60", "--seeds", "1", "--out",
                 str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert (tmp_path / "rgg" / "rounds_rgg_n60.npz").exists()
    assert main(["--read", str(tmp_path / "rgg")]) == 0
    again = capsys.readouterr().out
    key = [line for line in first.splitlines() if line.startswith("best fixed:")]
    assert key and key[0] in again


@pytest.mark.parametrize("kind, size", [("convdiff2d", 6), ("inclusion3d", 4), ("fem2d", 5)])
def test_new_sequences_run_through_the_study_at_a_tiny_size(kind, size, tmp_path, capsys):
    """Each new sequence end to end (every fixed configuration and the default learners, one
    round), written and read back; the SOR sequence's fixed ω and learner are SOR's."""
    import json

    assert main(["--sequences", kind, "--size", str(size), "--seeds", "1", "--out",
                 str(tmp_path)]) == 0
    first = capsys.readouterr().out
    summary = json.loads((tmp_path / kind / "summary.json").read_text())
    (name, seq), = summary["sequences"].items()
    assert seq["methods"]["learner"]["all_converged"]
    fixed = [m for m in seq["methods"].values() if m["kind"] == "fixed"]
    if kind == "convdiff2d":
        import bandit

        assert len(fixed) == len(bandit.DEFAULT_ARMS) and "omega_learner" not in seq["methods"]
        assert seq["best_fixed"].startswith("sor ω=") and "Gauss–Seidel" in first
    else:
        assert "omega_learner" in seq["methods"] and "cg" in seq["methods"]
    assert main(["--read", str(tmp_path / kind)]) == 0
    key = [line for line in first.splitlines() if line.startswith("best fixed:")]
    assert key and key[0] in capsys.readouterr().out


@pytest.mark.parametrize("extra, named", [
    (["--compare", "default@family"], "--compare applies"),
    (["--anchors", "splu"], "--anchors applies"),
    (["--compare", "default", "--anchors", "splu"], "--compare and --anchors apply")])
@pytest.mark.parametrize("sequences", [["convdiff2d"], ["rgg", "convdiff2d"], []])
def test_options_a_sor_sequence_would_ignore_are_refused(extra, named, sequences, capsys,
                                                        monkeypatch):
    # run_sor_study takes neither --compare nor --anchors: they had been dropped silently
    # (the default --sequences include convdiff2d)
    import experiments._unseen_study as study
    import experiments.precond_study as precond

    def ran(*args, **kwargs):
        raise AssertionError("a study ran")

    monkeypatch.setattr(study, "run_sor_study", ran)
    monkeypatch.setattr(precond, "run_precond_study", ran)
    argv = (["--sequences", *sequences] if sequences else []) + ["--size", "6"] + extra
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert named in err and "convdiff2d" in err
    if sequences:
        assert "leave convdiff2d out" in err and "(it is in them by default) or run it" in err
    else:  # every sequence: both SOR ones named
        assert "leave convdiff2d, rotconv2d out" in err and "they are in them" in err


def test_compare_still_runs_beside_an_spd_sequence(capsys):
    assert main(["--sequences", "rgg", "--size", "60", "--seeds", "1", "--compare",
                 "default"]) == 0
    assert "configuration learner (default, " in capsys.readouterr().out
