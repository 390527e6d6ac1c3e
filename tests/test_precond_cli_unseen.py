"""``relaxtune precond --sequences`` takes the unseen study's SPD sequences, each at the one
size the study measured (its docs page's commands and tables); the nonsymmetric one (SOR only)
is not among its choices."""
import pytest

import experiments.precond_study as ps
from experiments._unseen_study import SIZES, SOR_SEQUENCES
from experiments.cli import main


class _Stop(BaseException):  # (the CLI turns an Exception into a message)
    pass


@pytest.mark.parametrize("kind", sorted(set(SIZES) - set(SOR_SEQUENCES)))
def test_each_unseen_sequence_runs_at_its_study_size(kind, monkeypatch, tmp_path):
    seen = {}

    def run(*, sequences, **kw):
        seen["sequences"] = sequences
        raise _Stop

    monkeypatch.setattr(ps, "run_precond_study", run)
    with pytest.raises(_Stop):
        main(["precond", "--sequences", kind, "--nx", "50", "--m", "10", "--seeds", "1",
              "--no-plots", "--quiet", "--out", str(tmp_path / "r")])
    # --nx and --m are heat2d's and mc3d's sizes: they do not resize these sequences
    assert seen["sequences"] == [(kind, SIZES[kind])]


def test_an_unknown_sequence_is_a_usage_error(capsys):
    assert main(["precond", "--sequences", "aniso3d"]) != 0
    assert "invalid choice: 'aniso3d'" in capsys.readouterr().err
    assert main(["precond", "--sequences", "convdiff2d"]) != 0  # CG configurations: SPD only
    assert "invalid choice: 'convdiff2d'" in capsys.readouterr().err
    assert main(["precond", "--sequences", "rotconv2d"]) != 0  # nonsymmetric too
    assert "invalid choice: 'rotconv2d'" in capsys.readouterr().err
