"""``plot_run``, ``run_data`` and ``draw_run`` given the wrong thing (the history dict, a
file's path, too few Axes, a file where the figures' folder should be): an error that says
what to pass, never numpy's IndexError or "[Errno 17] File exists"."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bandit  # noqa: E402
from experiments.plots import draw_run, plot_run, run_data  # noqa: E402
from solvers import gallery  # noqa: E402


@pytest.fixture(scope="module")
def small_tuner():
    t = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    for i in range(3):
        t.solve(gallery.shifted_laplacian_2d(4, 0.1 * (i + 1)), np.ones(16), context=i)
    return t


def test_plot_run_names_what_it_takes(small_tuner, tmp_path):
    t = small_tuner
    # each had been a raw KeyError / AttributeError / IndexError
    with pytest.raises(ValueError, match="looks like tuner.history: pass the tuner itself"):
        plot_run(t.history)
    with pytest.raises(TypeError, match=r"got str: for a saved tuner file, pass "
                                        r"bandit\.Tuner\.load\(path\)"):
        plot_run(str(tmp_path / "tuner.json"))
    with pytest.raises(TypeError, match="takes a bandit.Tuner .* got NoneType"):
        run_data(None)
    fig, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="axes must hold 4 Axes, got 3"):
        plot_run(t, axes=axes)
    plt.close("all")


def test_draw_run_into_a_file_says_so(small_tuner, tmp_path):
    blocker = tmp_path / "figures"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "sub"):
        # had been "[Errno 17] File exists: '.../figures'"
        with pytest.raises(NotADirectoryError, match=f"{blocker} is a file, not a folder"):
            draw_run(small_tuner, out)
    paths = draw_run(small_tuner, tmp_path / "new" / "figs", "run_")
    assert sorted(p.name for p in paths) == sorted(
        f"run_{n}.{e}" for n in ("cost", "regret", "arms") for e in ("png", "pdf"))
