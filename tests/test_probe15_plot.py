"""``relaxtune plot`` on a results folder whose rounds file was cut or edited by hand: one line
naming the file and the key (status 2), nothing drawn — never a figure with a learner
silently left out, curves of different lengths, text drawn as numbers, or a traceback."""
import shutil

import numpy as np
import pytest

from experiments.cli import main


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    learning, heat = base / "learning", base / "heat"
    assert main(["learning", "--T", "30", "--trials", "2", "--learners", "tsallis_inf",
                 "--no-plots", "--quiet", "--out", str(learning)]) == 0
    assert main(["heat2d", "--nx", "10", "--steps", "20", "--trials", "1", "--methods",
                 "chebcb", "--no-plots", "--quiet", "--out", str(heat)]) == 0
    return {"learning": (learning, "rounds.npz"), "heat": (heat, "rounds_nx10.npz")}


def _set(key, f):
    return lambda d: d.__setitem__(key, f(d[key]))


CASES = {  # name: (folder, edit of the arrays, the NPZ key the error must name)
    "learner's iterations removed": ("learning", lambda d: d.pop("iter__tsallis_inf"),
                                     "iter__tsallis_inf"),
    "learner's arms removed": ("learning", lambda d: d.pop("arms__tsallis_inf"),
                               "arms__tsallis_inf"),
    "cost matrix removed": ("learning", lambda d: d.pop("C"), "'C'"),
    "a fixed ω's seconds cut short": ("learning", _set("sec__fixed_1", lambda a: a[:, :10]),
                                      "sec__fixed_1"),
    "learner's iterations cut short": ("learning", _set("iter__tsallis_inf",
                                                        lambda a: a[:, :20]),
                                       "iter__tsallis_inf"),
    "contexts cut short": ("learning", _set("contexts", lambda a: a[:, :3]), "contexts"),
    "one trial of two": ("learning", _set("arms__tsallis_inf", lambda a: a[:1]),
                         "arms__tsallis_inf"),
    "iterations as text": ("learning", _set("iter__tsallis_inf", lambda a: a.astype(str)),
                           "iter__tsallis_inf"),
    "seconds as complex": ("learning", _set("sec__tsallis_inf", lambda a: a.astype(complex)),
                           "sec__tsallis_inf"),
    "iterations as booleans": ("learning", _set("iter__fixed_1.2", lambda a: a > 40),
                               "iter__fixed_1.2"),
    "arms as floats": ("learning", _set("arms__tsallis_inf", lambda a: a + 0.5),
                       "arms__tsallis_inf"),
    "arm index beyond the grid": ("learning", _set("arms__tsallis_inf", lambda a: a + 100),
                                  "arms__tsallis_inf"),
    "negative arm index": ("learning", _set("arms__tsallis_inf", lambda a: -a - 1),
                           "arms__tsallis_inf"),
    "negative iterations": ("learning", _set("iter__fixed_1.4", lambda a: -a),
                            "iter__fixed_1.4"),
    "learner's iterations NaN": ("learning", _set("iter__tsallis_inf",
                                                  lambda a: np.full(a.shape, np.nan)),
                                 "iter__tsallis_inf"),
    "ω grid cut short": ("learning", _set("omegas", lambda a: a[:5]), "omegas"),
    "no rounds": ("learning", lambda d: [d.__setitem__(k, v[..., :0]) for k, v in
                                         list(d.items()) if k != "omegas"], "no rounds"),
    "heat2d: cost matrix cut short": ("heat", _set("C", lambda a: a[:5]), "'C'"),
    "heat2d: replay cut short": ("heat", _set("replay__chebcb", lambda a: a[:, :5]),
                                 "replay__chebcb"),
    "heat2d: CG's iterations removed": ("heat", lambda d: d.pop("iter__cg"), "iter__cg"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_edited_rounds_file_is_refused_by_its_key(case, folders, tmp_path, capsys):
    which, edit, named = CASES[case]
    src, npz = folders[which]
    dst = tmp_path / "run"
    shutil.copytree(src, dst)
    with np.load(dst / npz) as z:
        arrays = {k: z[k] for k in z.files}
    edit(arrays)
    np.savez(dst / npz, **arrays)
    capsys.readouterr()
    assert main(["plot", str(dst)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("relaxtune: error: "), err
    assert str(dst / npz) in lines[0] and named in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert not (dst / "figures").exists() or not any((dst / "figures").iterdir())


@pytest.mark.parametrize("which, figures", [("learning", 6), ("heat", 6)])
def test_the_files_as_written_are_drawn(which, figures, folders, tmp_path, capsys):
    src, _ = folders[which]
    dst = tmp_path / "run"
    shutil.copytree(src, dst)
    assert main(["plot", str(dst)]) == 0
    assert len(list((dst / "figures").iterdir())) == figures
