"""``relaxtune tune`` with a context for a learner that takes none (Tsallis-INF,
SmoothIGW): the learner ignored it, and ``--auto-context`` still paid its 10 Lanczos steps a
system, counted in the run's cost (2 systems: 33 iterations against 23 without).  Now a usage
error naming the learner and the option, before anything is solved or written."""
import numpy as np
import pytest
import scipy.io as sio
import scipy.sparse as sp

from experiments.cli import main
from solvers import gallery


@pytest.mark.parametrize("learner, option", [("tsallis_inf", ["--auto-context"]),
                                             ("smooth_igw", ["--contexts", "ctx.txt"])])
def test_a_context_for_a_learner_that_takes_none_is_refused(learner, option, tmp_path,
                                                            monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    A = sp.csr_matrix(gallery.laplacian_2d(6))
    for k in range(2):
        sio.mmwrite(f"A{k}.mtx", A * (1 + k))
    np.savetxt("ctx.txt", [1.0, 2.0])
    code = main(["tune", "A0.mtx", "A1.mtx", "--learner", learner, *option, "--out", "out",
                 "--quiet", "--no-plots"])
    err = capsys.readouterr().err
    assert code == 2 and f"--learner {learner}" in err and "takes no context" in err
    assert option[0] in err
    assert not (tmp_path / "out" / "tuner.json").exists()
    # the default learner takes the same options
    assert main(["tune", "A0.mtx", "A1.mtx", *option, "--out", "ok", "--quiet",
                 "--no-plots"]) == 0
