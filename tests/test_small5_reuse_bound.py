"""Set-up reuse is bounded: ``reuse`` above ``MAX_REUSE`` (10⁶ later solves) is refused by
name where it is given — a preconditioner, a configuration arm (Numba or PETSc), a grid, a
Tuner's arm list — and the CLI's set-up lag of the precond study by the same bound, while the
bound itself still builds, keeps and rebuilds a set-up as documented."""
import numpy as np
import pytest

import solvers
from bandit import FixedArm, Tuner
from bandit.arms import config_grid, parse_arm
from experiments.cli import main
from solvers import AMG, IC0, Jacobi, gallery, pcg
from solvers.precond import MAX_REUSE

HUGE = 2**70


def test_the_bound_is_documented_and_shared():
    assert MAX_REUSE == 10**6
    assert AMG.MAX_REUSE == IC0.MAX_REUSE == solvers.Preconditioner.MAX_REUSE == MAX_REUSE


@pytest.mark.parametrize("cls", [AMG, IC0, Jacobi])
@pytest.mark.parametrize("reuse", [HUGE, MAX_REUSE + 1, np.int64(MAX_REUSE + 1)])
def test_preconditioners_refuse_reuse_above_the_bound(cls, reuse):
    with pytest.raises(ValueError, match=rf"reuse must be at most {MAX_REUSE}\b.*got {reuse}"):
        cls(reuse=reuse)


@pytest.mark.parametrize("backend", ["numba", "petsc"])
@pytest.mark.parametrize("pc", ["amg", "ic0"])
def test_configuration_arms_refuse_it_at_construction(pc, backend):
    if backend == "petsc":
        pytest.importorskip("petsc4py")
    arm = {"method": "cg", "pc": pc, "reuse": HUGE}
    with pytest.raises(ValueError, match=rf"^arm .*: reuse must be at most {MAX_REUSE}"):
        parse_arm(arm, backend=backend)
    with pytest.raises(ValueError, match=rf"arm 0 .*reuse must be at most {MAX_REUSE}"):
        Tuner(FixedArm([arm, {"method": "cg", "pc": "jacobi"}]), backend=backend)
    with pytest.raises(ValueError, match=rf"reuse of {pc!r}: reuse must be at most"):
        config_grid([1.5], [pc], reuse=[0, HUGE])


def test_the_bound_itself_keeps_and_rebuilds_as_documented():
    assert parse_arm({"method": "cg", "pc": "amg", "reuse": MAX_REUSE}).label == \
        f"cg+amg reuse={MAX_REUSE}"
    A = gallery.laplacian_2d(8)
    b = np.ones(A.shape[0])
    pc = IC0(reuse=MAX_REUSE)
    infos = [pcg(A * (1.0 + 0.01 * t), b, pc).info for t in range(3)]
    assert [i["reused"] for i in infos] == [False, True, True] and pc.setups == 1
    pc.uses = MAX_REUSE  # the window used up: the next new matrix sets up afresh
    assert not pcg(A * 2.0, b, pc).info["reused"] and pc.setups == 2


def test_cli_lag_has_the_same_bound(capsys):
    # (--steps 0 is refused too, after --lag: without the bound nothing runs either)
    assert main(["precond", "--lag", str(HUGE), "--steps", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"argument --lag: must be an integer in 1..{MAX_REUSE + 1}" in err and str(HUGE) in err
