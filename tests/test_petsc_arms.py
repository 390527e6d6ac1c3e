"""PETSc CG arms: only fixed symmetric positive definite preconditioners, labelled truthfully.

CG's short recurrence needs the same symmetric operator M⁻¹ every iteration.  A multigrid
whose smoothers are Krylov solves (GMRES, CG: a different operator for every vector), an
inner solve run to a tolerance, a one-sided multigrid cycle (kaskade, full) or restricted
ASM inside the preconditioner breaks that; such arms are refused when the Tuner is
constructed, naming the option.  ``pc: ic0`` is ICC with zero fill: other levels of fill are
refused under that name (``pc_type: icc`` labels them).
"""
import numpy as np
import pytest

import bandit
import solvers
from bandit.arms import parse_arm
from solvers import gallery

pytestmark = pytest.mark.petsc


@pytest.mark.parametrize("arm, named, why", [
    ({"method": "cg", "pc": "amg", "mg_levels_ksp_type": "gmres"}, "mg_levels_ksp_type",
     "changes with every vector"),
    ({"method": "cg", "pc_type": "gamg", "mg_levels_2_ksp_type": "cg"}, "mg_levels_2_ksp_type",
     "changes with every vector"),
    ({"method": "cg", "pc_type": "gamg", "mg_coarse_ksp_type": "richardson"},
     "mg_coarse_ksp_type", "changes with every vector"),
    ({"method": "cg", "pc_type": "bjacobi", "sub_ksp_type": "richardson"}, "sub_ksp_type",
     "changes with every vector"),
    ({"method": "cg", "pc_type": "mg", "pc_mg_type": "kaskade"}, "pc_mg_type", "not symmetric"),
    ({"method": "cg", "pc_type": "gamg", "pc_mg_type": "full"}, "pc_mg_type", "not symmetric"),
    ({"method": "cg", "pc_type": "gamg", "pc_mg_distinct_smoothup": "true"},
     "pc_mg_distinct_smoothup", "not symmetric"),
    ({"method": "cg", "pc_type": "gamg", "mg_levels_pc_type": "asm"}, "mg_levels_pc_asm_type",
     "not symmetric"),
    ({"method": "cg", "pc_type": "bjacobi", "sub_pc_type": "kaczmarz"}, "sub_pc_type",
     "not known to be a symmetric"),
])
def test_cg_arm_with_a_preconditioner_that_is_not_a_fixed_spd_operator_is_refused(arm, named,
                                                                                  why):
    with pytest.raises(ValueError, match="CG") as info:
        parse_arm(arm, backend="petsc", index=0)
    assert named in str(info.value) and why in str(info.value)
    # the same through a Tuner (a settings dict of solver="cg"), before any solve
    settings = {k: v for k, v in arm.items() if k != "method"}
    if "pc" not in settings:
        with pytest.raises(ValueError, match=named):
            bandit.Tuner(bandit.FixedArm([settings]), solver="cg", backend="petsc")


def test_kaskade_under_cg_is_what_the_refusal_prevents():
    """The premise of the refusal, on a KSP built here with petsc4py alone: PETSc's kaskade
    multigrid under CG does not converge on the model Laplacian, where the symmetric V-cycle
    takes a handful of iterations."""
    from petsc4py import PETSc

    A = gallery.laplacian_2d(20)
    M = PETSc.Mat().createAIJ(A.shape, csr=(A.indptr, A.indices, A.data), comm=PETSc.COMM_SELF)
    b, x = M.createVecs()
    b.set(1.0)
    its = {}
    for mg_type in ("multiplicative", "kaskade"):
        ksp = PETSc.KSP().create(comm=PETSc.COMM_SELF)
        ksp.setOperators(M)
        ksp.setType("cg")
        ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
        ksp.getPC().setType("gamg")
        ksp.getPC().setMGType(getattr(PETSc.PC.MGType, mg_type.upper()))
        ksp.setTolerances(rtol=1e-8, max_it=500)
        x.set(0.0)
        ksp.solve(b, x)
        its[mg_type] = (ksp.getIterationNumber(), ksp.getConvergedReason() > 0)
        ksp.destroy()
    assert its["multiplicative"][1] and its["multiplicative"][0] < 20
    assert its["kaskade"] == (500, False)


@pytest.mark.parametrize("options, named", [
    ({"pc_type": "gamg", "pc_mg_type": "kaskade"}, "pc_mg_type"),
    ({"pc_type": "gamg", "mg_levels_ksp_type": "gmres"}, "mg_levels_ksp_type"),
    ({"pc_type": "kaczmarz"}, "pc_type 'kaczmarz'"),
])
def test_a_direct_petsc_cg_solve_refuses_them_too(options, named):
    """``solvers.cg(..., backend="petsc", options=...)`` builds its KSP with the same rules
    (it had run kaskade for every iteration of its cap and reported not converged)."""
    A, b = gallery.laplacian_2d(10), np.ones(100)
    with pytest.raises(ValueError, match="CG") as info:
        solvers.cg(A, b, backend="petsc", options=options)
    assert str(info.value).startswith(f"options: {named}")
    assert solvers.cg(A, b, backend="petsc", options={"pc_type": "gamg"}).converged


@pytest.mark.parametrize("arm, label", [
    ({"method": "cg", "pc": "amg", "mg_levels_ksp_type": "chebyshev"},
     "cg+amg(mg_levels_ksp_type=chebyshev)"),
    ({"method": "cg", "pc_type": "gamg", "mg_levels_ksp_type": "richardson",
      "mg_levels_pc_type": "sor"}, "cg+gamg(mg_levels_ksp_type=richardson, "
                                   "mg_levels_pc_type=sor)"),
    ({"method": "cg", "pc_type": "gamg", "pc_mg_type": "additive"},
     "cg+gamg(pc_mg_type=additive)"),
    ({"method": "cg", "pc_type": "gamg", "pc_mg_cycle_type": "w"}, "cg+gamg(pc_mg_cycle_type=w)"),
    # a Krylov run that estimates eigenvalues in the set-up leaves the operator fixed
    ({"method": "cg", "pc_type": "gamg", "pc_gamg_esteig_ksp_type": "cg"},
     "cg+gamg(pc_gamg_esteig_ksp_type=cg)"),
    ({"method": "cg", "pc_type": "gamg", "mg_levels_pc_type": "asm",
      "mg_levels_pc_asm_type": "basic"},
     "cg+gamg(mg_levels_pc_asm_type=basic, mg_levels_pc_type=asm)"),
    ({"method": "cg", "pc_type": "bjacobi", "sub_pc_type": "icc", "sub_ksp_type": "preonly"},
     "cg+bjacobi(sub_ksp_type=preonly, sub_pc_type=icc)"),
])
def test_fixed_symmetric_multigrid_and_block_arms_are_accepted_and_converge(arm, label):
    c = parse_arm(arm, backend="petsc")
    assert c.label == label
    A, b = gallery.laplacian_2d(16), np.ones(256)
    fn, kw = c.call()
    res = fn(A, b, rtol=1e-8, **kw)
    assert res.converged
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)


def test_ic0_means_zero_fill():
    """``pc: ic0`` runs PETSc's ICC(0); ICC(1) under that name was mislabelled."""
    with pytest.raises(ValueError, match=r"ic0 is ICC with zero fill.*pc_factor_levels"):
        parse_arm({"method": "cg", "pc": "ic0", "pc_factor_levels": 1}, backend="petsc")
    # zero fill said explicitly: the same arm as plain ic0
    assert parse_arm({"method": "cg", "pc": "ic0", "pc_factor_levels": 0}, backend="petsc") \
        == parse_arm({"method": "cg", "pc": "ic0"}, backend="petsc")
    # ICC(1) named by its pc_type is labelled as what it is, and runs it: fewer iterations
    # than ICC(0) on the model Laplacian
    c1 = parse_arm({"method": "cg", "pc_type": "icc", "pc_factor_levels": 1}, backend="petsc")
    assert c1.label == "cg+icc(pc_factor_levels=1)"
    A, b = gallery.laplacian_2d(20), np.ones(400)
    fn, kw = c1.call()
    fn0, kw0 = parse_arm({"method": "cg", "pc": "ic0"}, backend="petsc").call()
    its1, its0 = fn(A, b, **kw).iterations, fn0(A, b, **kw0).iterations
    assert its1 < its0
    tuner = bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "ic0"},
                                          {"method": "cg", "pc_type": "icc",
                                           "pc_factor_levels": 1}]), backend="petsc")
    assert tuner.arm_labels == ["cg+ic0", "cg+icc(pc_factor_levels=1)"]
