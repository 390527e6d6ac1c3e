"""``relaxtune plot`` of a heat2d or demo folder with more than one trial: the learners' arrays
hold one row per trial, the deterministic methods (fixed ω, grid minimum, CG) one row, and the
plot's check of the rounds file refused every such folder — the demo's own results included
("'arms/tsallis_inf' has shape (2, 3), not (1, 3) ... (cut or edited by hand?)")."""
import numpy as np

from experiments.cli import main


def test_a_demo_folder_with_two_trials_is_drawn(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--nx", "4", "--steps", "3", "--out", str(out), "--no-plots",
                 "--quiet"]) == 0
    arrays = np.load(out / "rounds_nx4.npz")
    assert arrays["iter__tsallis_inf"].shape == (2, 3)
    assert arrays["iter__fixed_1"].shape == (1, 3)
    capsys.readouterr()
    assert main(["plot", str(out), "--markdown"]) == 0
    assert "Tsallis-INF" in capsys.readouterr().out
    assert main(["plot", str(out)]) == 0
    assert (out / "figures").is_dir() and any((out / "figures").iterdir())


def test_a_learner_row_count_unlike_the_others_is_still_refused(tmp_path, capsys):
    out = tmp_path / "heat"
    assert main(["heat2d", "--nx", "4", "--steps", "3", "--trials", "3", "--methods",
                 "tsallis_inf", "chebcb", "--out", str(out), "--no-plots", "--quiet"]) == 0
    path = out / "rounds_nx4.npz"
    arrays = dict(np.load(path))
    assert arrays["iter__chebcb"].shape == (3, 3)
    arrays["iter__chebcb"] = arrays["iter__chebcb"][:2]  # cut by hand: 2 of 3 trials
    np.savez(path, **arrays)
    capsys.readouterr()
    assert main(["plot", str(out)]) == 2
    assert "'iter__chebcb' has shape (2, 3), not (3, 3) (trials, rounds)" in capsys.readouterr().err
