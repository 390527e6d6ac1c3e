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


# -- hypre (BoomerAMG, ParaSails, ...) under CG ----------------------------------------------
# This PETSc build may have no hypre: the refusals are made from the options alone, when the
# arm is made, before PETSc is asked for anything.
H = "pc_hypre_boomeramg_"


@pytest.mark.parametrize("options, named, why", [
    ({H + "relax_type_all": "SOR/Jacobi"}, H + "relax_type_all", "not symmetric"),
    ({H + "relax_type_all": "l1-Gauss-Seidel"}, H + "relax_type_all", "not symmetric"),
    ({H + "relax_type_all": "backward-SOR/Jacobi"}, H + "relax_type_all", "not symmetric"),
    ({H + "relax_type_down": "SOR/Jacobi"}, H + "relax_type_down", "not symmetric"),
    ({H + "relax_type_up": "seqboundary-Gauss-Seidel"}, H + "relax_type_up", "not symmetric"),
    ({H + "relax_type_down": "Jacobi"}, H + "relax_type_down", "not symmetric"),
    ({H + "relax_type_down": "SOR/Jacobi", H + "relax_type_up": "SOR/Jacobi"},
     H + "relax_type_up", "not symmetric"),
    ({H + "relax_type_coarse": "SOR/Jacobi"}, H + "relax_type_coarse", "not symmetric"),
    ({H + "relax_type_all": "CG"}, H + "relax_type_all", "changes with every vector"),
    ({H + "relax_type_up": "no-such-smoother"}, H + "relax_type_up", "not known"),
    ({H + "grid_sweeps_down": 2}, H + "grid_sweeps_down", "not symmetric"),
    ({H + "grid_sweeps_all": 2, H + "grid_sweeps_up": 3}, H + "grid_sweeps_up",
     "not symmetric"),
    ({H + "tol": 1e-3, H + "max_iter": 4}, H + "tol", "changes with every vector"),
    ({H + "restriction_type": 1}, H + "restriction_type", "not symmetric"),
    ({H + "smooth_type": "Pilut"}, H + "smooth_type", "not known to be symmetric"),
    ({"pc_hypre_type": "pilut"}, "pc_hypre_type", "not known to be a symmetric"),
    ({"pc_hypre_type": "euclid"}, "pc_hypre_type", "not known to be a symmetric"),
    ({"pc_hypre_type": "parasails"}, "pc_hypre_parasails_sym", "not symmetric"),
    ({"pc_hypre_type": "parasails", "pc_hypre_parasails_sym": "nonsymmetric"},
     "pc_hypre_parasails_sym", "not symmetric"),
])
def test_cg_arm_with_a_non_symmetric_hypre_preconditioner_is_refused(options, named, why):
    """BoomerAMG with a one-directional smoother both ways (or different smoothers or sweep
    counts before and after the coarse correction), a non-symmetric coarse relaxation, a CG
    smoother or a tolerance per application, AIR restriction, a non-symmetric complex
    smoother, and hypre's ILU-type preconditioners are refused for CG when the arm is made,
    naming the option (they had been accepted as CG arms)."""
    arm = {"method": "cg", "pc_type": "hypre", **options}
    with pytest.raises(ValueError, match="CG") as info:
        parse_arm(arm, backend="petsc", index=0)
    assert named in str(info.value) and why in str(info.value)
    with pytest.raises(ValueError, match=named):  # a settings dict of a Tuner, solver="cg"
        bandit.Tuner(bandit.FixedArm([{"pc_type": "hypre", **options}]), solver="cg",
                     backend="petsc")
    # inside another preconditioner (here each block of block Jacobi) the same
    inner = {"pc_type": "bjacobi", "sub_pc_type": "hypre",
             **{"sub_" + k: v for k, v in options.items()}}
    with pytest.raises(ValueError, match="sub_" + named):
        parse_arm({"method": "cg", **inner}, backend="petsc", index=0)


@pytest.mark.parametrize("options", [
    {},  # PETSc's default: symmetric-SOR/Jacobi both ways, Gaussian elimination at the bottom
    {H + "relax_type_all": "symmetric-SOR/Jacobi"},
    {H + "relax_type_all": "Chebyshev", H + "grid_sweeps_all": 2},
    {H + "relax_type_all": "l1scaled-SOR/Jacobi", H + "relax_type_coarse": "Jacobi"},
    {H + "relax_type_down": "SOR/Jacobi", H + "relax_type_up": "backward-SOR/Jacobi"},
    {H + "relax_type_down": "l1-Gauss-Seidel", H + "relax_type_up": "backward-l1-Gauss-Seidel",
     H + "grid_sweeps_down": 2, H + "grid_sweeps_up": 2},
    {H + "relax_type_all": "sor/jacobi", H + "relax_type_up": "BACKWARD-SOR/JACOBI"},
    {H + "max_iter": 2, H + "tol": 0.0, H + "cycle_type": "W"},
    {"pc_hypre_type": "parasails", "pc_hypre_parasails_sym": "SPD"},
])
def test_symmetric_hypre_arms_are_accepted(options):
    c = parse_arm({"method": "cg", "pc_type": "hypre", **options}, backend="petsc")
    assert c.label.startswith("cg+hypre")


def _cycle(A, P, down, up, nu_down=1, nu_up=1, coarse="exact"):
    """The two-grid cycle ``b -> x`` (zero initial guess) as a dense matrix: ``nu_down``
    sweeps of ``down``, the coarse correction with ``P`` (exact, or one forward Gauss–Seidel
    sweep on the Galerkin coarse matrix), ``nu_up`` sweeps of ``up``."""
    def sweep(kind, M, x, b):
        D, L, U = np.diag(np.diag(M)), np.tril(M, -1), np.triu(M, 1)
        fwd = lambda x: x + np.linalg.solve(D + L, b - M @ x)  # noqa: E731
        bwd = lambda x: x + np.linalg.solve(D + U, b - M @ x)  # noqa: E731
        return {"forward": fwd, "backward": bwd, "symmetric": lambda x: bwd(fwd(x)),
                "jacobi": lambda x: x + 0.7 * (b - M @ x) / np.diag(M)}[kind](x)

    Ac = P.T @ A @ P
    out = np.empty_like(A)
    for j in range(A.shape[0]):
        b = np.eye(A.shape[0])[j]
        x = np.zeros_like(b)
        for _ in range(nu_down):
            x = sweep(down, A, x, b)
        rc = P.T @ (b - A @ x)
        x = x + P @ (np.linalg.solve(Ac, rc) if coarse == "exact"
                     else sweep("forward", Ac, np.zeros_like(rc), rc))
        for _ in range(nu_up):
            x = sweep(up, A, x, b)
        out[:, j] = x
    return out


# BoomerAMG's names of the smoothers above (on one rank the hybrid sweeps are Gauss-Seidel)
_NAMES = {"forward": "SOR/Jacobi", "backward": "backward-SOR/Jacobi",
          "symmetric": "symmetric-SOR/Jacobi", "jacobi": "Jacobi"}


@pytest.mark.parametrize("down, up, nu_down, nu_up, coarse", [
    ("symmetric", "symmetric", 1, 1, "exact"),
    ("forward", "backward", 1, 1, "exact"),
    ("forward", "backward", 2, 2, "exact"),
    ("jacobi", "jacobi", 2, 2, "exact"),
    ("forward", "forward", 1, 1, "exact"),
    ("backward", "backward", 1, 1, "exact"),
    ("jacobi", "symmetric", 1, 1, "exact"),
    ("symmetric", "symmetric", 2, 1, "exact"),
    ("symmetric", "symmetric", 1, 1, "forward"),
])
def test_the_rule_is_the_symmetry_of_the_cycle(down, up, nu_down, nu_up, coarse):
    """The premise, in dense linear algebra: a two-grid cycle on the 1-D Laplacian is a
    symmetric operator exactly when the rule accepts its smoothers, sweep counts and coarse
    relaxation (the post-smoother the reverse of the pre-smoother, as many sweeps each way,
    a symmetric coarse solve)."""
    n = 9
    A = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    P = np.zeros((n, 4))
    for j in range(4):  # linear interpolation from the odd points
        P[2 * j:2 * j + 3, j] = (0.5, 1.0, 0.5)
    B = _cycle(A, P, down, up, nu_down, nu_up, coarse)
    symmetric = np.allclose(B, B.T, atol=1e-12)
    opts = {"pc_type": "hypre", H + "relax_type_down": _NAMES[down],
            H + "relax_type_up": _NAMES[up], H + "grid_sweeps_down": nu_down,
            H + "grid_sweeps_up": nu_up}
    if coarse != "exact":
        opts[H + "relax_type_coarse"] = _NAMES[coarse]
    try:
        parse_arm({"method": "cg", **opts}, backend="petsc")
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == symmetric
