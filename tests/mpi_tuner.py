"""Launched by tests/test_petsc_mpi.py as ``mpiexec -n 2 python tests/mpi_tuner.py OUTDIR``.

Each rank writes ``OUTDIR/rank<r>.json`` with what it saw; the test compares the ranks.
1. A Tuner (Tsallis-INF over ω, SSOR-PCG, backend="petsc") on the heat2d study assembled as a
   distributed PETSc Mat: decisions, history and the state file must be the same on every rank /
   written once.
2. Replicated scipy input converted to a distributed Mat on COMM_WORLD; a distributed heat2d
   system gathered whole on every rank.
3. A guarded Tuner on a nonsymmetric matrix where most arms diverge: the same fallback chain
   on every rank; input refused on one rank only is refused on every rank, and so is a
   context that differs between the ranks.
4. PCEISENSTAT on a distributed Mat is refused with a ValueError on every rank.
5. The solvers called directly with input that differs between the ranks (a setting refused
   on one rank only, a different cap, different values of A or b): a ValueError on every
   rank naming what differs, never a rank left waiting; the next solve works.
6. The default learner's theory prior from the distributed Mat (a collective spectral
   estimate): the same prior as from the whole matrix on one process.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import bandit._tuner_persist as tuner_mod  # noqa: E402 (where the tuner file is written)
import solvers  # noqa: E402
from experiments.heat2d_petsc import Heat2DPetsc  # noqa: E402

def main(out):
    comm = PETSc.COMM_WORLD
    rank, size = comm.getRank(), comm.getSize()
    report = {"rank": rank, "size": size}

    # count state-file writes on this rank
    writes = []
    _orig_write = tuner_mod._write_loadable


    def counting_write(path, payload):
        writes.append(str(path))
        return _orig_write(path, payload)


    tuner_mod._write_loadable = counting_write

    # 1. Tuner on a distributed heat2d matrix ------------------------------------------------------
    sim = Heat2DPetsc(nx=24, steps=16, t_end=0.2)
    assert sim.A.getType() in ("mpiaij", "seqaij")
    report["mat_type"] = sim.A.getType()
    report["local_rows"] = sim.rend - sim.rstart
    policy = bandit.TsallisINF([1.0, 1.4, 1.8, 1.95], seed=rank + 11)  # different seeds on purpose
    tuner = bandit.Tuner(policy, solver="ssor_pcg", rtol=1e-8, backend="petsc", guard=None,
                         audit_budget=1.0, audit_seed=rank + 3)  # rank 0's audits rule
    residuals = []


    def check(k, res):
        residuals.append(res.relative_residual)


    u = sim.run(tuner.solve, callback=check)
    h = tuner.history
    report["arms"] = np.asarray(h["arm"]).tolist()
    report["iterations"] = np.asarray(h["iterations"]).tolist()
    report["seconds"] = np.asarray(h["seconds"]).tolist()
    report["converged"] = np.asarray(h["converged"]).tolist()
    report["relative_residuals"] = residuals
    report["audits"] = {k: np.asarray(v).tolist() for k, v in tuner.audits.items()
                        if k not in ("seconds", "value")}
    report["p"] = np.asarray(h["p"]).tolist()
    report["u_norm"] = float(u.norm())
    state = os.path.join(out, "tuner.json")
    tuner.save(state)
    report["writes"] = list(writes)
    loaded = bandit.Tuner.load(state)
    report["loaded_arms"] = np.asarray(loaded.history["arm"]).tolist()

    # 1b. rounds whose start already meets the stopping rule (a system again, from its own
    # solution): not told, not audited, the audit schedule passed on alike on every rank
    M2 = solvers.petsc.to_petsc_mat(solvers.gallery.laplacian_2d(12))
    zt = bandit.Tuner(bandit.TsallisINF([1.0, 1.4, 1.8], seed=rank + 5), solver="ssor_pcg",
                      backend="petsc", guard=None, audit_budget=1.0, audit_seed=rank + 7)
    for i in range(12):
        b2 = np.cos(np.arange(144) * (i + 1) * 0.1)
        x2 = zt.solve(M2, b2).x
        zt.solve(M2, b2, x0=x2)
    hz = zt.history
    report["zero"] = {"arms": hz["arm"].tolist(), "iterations": hz["iterations"].tolist(),
                      "audited": np.asarray(zt.audits["round"]).tolist(),
                      "told": int(zt.policy.t)}

    # 2. replicated scipy input, distributed solve -------------------------------------------------
    A = solvers.gallery.laplacian_2d(20)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    res = solvers.ssor_pcg(A, b, 1.5, backend="petsc")
    report["scipy_input"] = {"converged": res.converged, "iterations": res.iterations,
                             "true_residual": float(np.linalg.norm(b - A @ res.x) / np.linalg.norm(b)),
                             "x_head": res.x[:3].tolist(), "ranks": res.info["ranks"]}

    # 2b. every solver kind (and the reversed-numbering "paper" order) on the distributed Mat
    M = solvers.petsc.to_petsc_mat(A)
    kinds = {}
    for name, kw in (("sor", {"omega": 1.7}), ("cg", {}), ("ssor_pcg", {"omega": 1.5}),
                     ("ssor_pcg_paper", {"omega": 1.5, "order": "paper"})):
        fn = solvers.SOLVERS[name.replace("_paper", "")]
        r = fn(M, b, backend="petsc", **kw)
        kinds[name] = {"converged": r.converged, "iterations": r.iterations,
                       "true_residual": float(np.linalg.norm(b - A @ r.x) / np.linalg.norm(b))}
    report["kinds"] = kinds

    # 2c. a distributed heat2d system gathered whole on every rank (the direct baseline's input)
    from experiments.heat_study import _gather_system
    from experiments.problems import Heat2D

    ref = Heat2D(nx=24, steps=16, t_end=0.2)
    sim2 = Heat2DPetsc(nx=24, steps=16, t_end=0.2)
    A_ref, b_ref, _ = ref.system(5, ref.initial())
    A_all, b_all = _gather_system(*sim2.system(5, sim2.initial())[:2])
    report["gathered"] = {"matrix": float(abs(A_all - A_ref).max()),
                          "rhs": float(np.abs(b_all - b_ref).max()), "shape": list(A_all.shape)}

    # 3. guarded fallback on a nonsymmetric matrix (SOR diverges for ω >= 1.15): rank 0
    # decides the arm and the fallback order, every rank runs the same chain
    import scipy.sparse as sp

    block = np.array([[1.0, 0.8], [-0.8, 1.0]])
    off = 0.05 * np.ones(79)
    B = sp.csr_array(sp.kron(sp.eye(40), block) + sp.diags([off, off], [-1, 1]))
    M = solvers.petsc.to_petsc_mat(B)
    guarded = bandit.Tuner(bandit.TsallisINF(np.linspace(1.0, 1.95, 20), seed=rank + 3),
                           solver="sor", backend="petsc")
    attempts, true_res = [], []
    for t in range(12):
        bt = np.random.default_rng(t).standard_normal(80)  # the same on every rank
        r = guarded.solve(M, bt)
        attempts.append([a["arm"] for a in r.info.get("attempts", [])])
        true_res.append(float(np.linalg.norm(bt - B @ r.x) / np.linalg.norm(bt)))
    gh = guarded.history
    report["guard"] = {"arms": gh["arm"].tolist(), "converged": gh["converged"].tolist(),
                       "fallback": gh["fallback_arm"].tolist(), "attempts": attempts,
                       "true_residuals": true_res, "cost": gh["cost"].tolist()}
    # input refused on one rank only: refused on every rank, nothing changed, nothing hangs
    bad = np.ones(80)
    if rank == 1:
        bad[0] = np.nan
    state = json.dumps(guarded.policy.state_dict())
    try:
        guarded.solve(M, bad)
        report["refused"] = None
    except ValueError as exc:
        report["refused"] = str(exc)
    report["unchanged"] = (json.dumps(guarded.policy.state_dict()) == state
                           and len(guarded.history["arm"]) == 12)
    # a context refused on one rank only, with scipy input (which the Tuner turns into a
    # distributed Mat, a collective step): refused on every rank before that step; contexts
    # that differ between the ranks are refused too (every rank's policy is told the same)
    ctx_tuner = bandit.Tuner(bandit.ChebCB([1.0, 1.1], context_bounds=(0, 1), seed=0),
                             solver="sor", backend="petsc")
    ctx = {}
    for name, c in (("nan", 0.5 if rank == 0 else float("nan")),
                    ("differ", 0.5 if rank == 0 else 0.25)):
        try:
            ctx_tuner.solve(B, np.ones(80), context=c)
            ctx[name] = None
        except ValueError as exc:
            ctx[name] = str(exc)
    ctx["after"] = bool(ctx_tuner.solve(B, np.ones(80), context=0.5).converged)
    ctx["rounds"] = len(ctx_tuner.history["arm"])
    report["context"] = ctx

    # 4. PCEISENSTAT on a distributed Mat: PETSc has no diagonal-block product for the
    # ranks' blocks, so the configuration is refused (a ValueError on every rank, as for the
    # Tuner's arm check) instead of failing inside KSPSolve; the KSPs that remain still solve
    eis = {}
    try:
        solvers.ssor_pcg(A, b, 1.4, backend="petsc", options={"pc_type": "eisenstat"})
        eis["solve"] = None
    except ValueError as exc:
        eis["solve"] = str(exc)
    try:
        bandit.Tuner(bandit.TsallisINF([{"pc_type": "eisenstat", "omega": 1.4}, 1.2], seed=0),
                     solver="ssor_pcg", backend="petsc")
        eis["tuner"] = None
    except ValueError as exc:
        eis["tuner"] = str(exc)
    after = solvers.ssor_pcg(A, b, 1.4, backend="petsc")
    eis["after"] = bool(after.converged)
    report["eisenstat"] = eis
    # a factorisation preconditioner (ICC, ILU) has no parallel version in PETSc itself: the
    # refusal says what to write instead, and that (block Jacobi with it inside) solves
    try:
        solvers.cg(A, b, backend="petsc", options={"pc_type": "icc"})
        report["icc"] = None
    except ValueError as exc:
        report["icc"] = str(exc)
    r = solvers.cg(A, b, backend="petsc", options={"pc_type": "bjacobi", "sub_pc_type": "icc"})
    report["bjacobi_icc"] = {"converged": r.converged,
                             "true_residual": float(np.linalg.norm(b - A @ r.x)
                                                    / np.linalg.norm(b))}

    # 5. input that differs between the ranks, given to the solvers directly
    one = rank == 1
    A2 = A * 2.0 if one else A
    b2 = b.copy()
    b2[-1] += one
    cases = {
        "omega": lambda: solvers.sor(A, b, 2.5 if one else 1.5, backend="petsc"),
        "options": lambda: solvers.cg(A, b, backend="petsc",
                                      options={"pc_tpye" if one else "pc_type": "jacobi"}),
        "maxiter": lambda: solvers.cg(A, b, maxiter=1000 if one else 5, backend="petsc"),
        "kind": lambda: (solvers.ssor_pcg(A, b, 1.5, backend="petsc") if one
                         else solvers.cg(A, b, backend="petsc")),
        "A": lambda: solvers.cg(A2, b, backend="petsc"),
        "b": lambda: solvers.cg(A, b2, backend="petsc"),
        "prepare": lambda: solvers.prepare(A2, backend="petsc"),
    }
    differ = {}
    for name, call in cases.items():
        try:
            call()
            differ[name] = None
        except ValueError as exc:
            differ[name] = str(exc)
    after = solvers.ssor_pcg(A, b, 1.4, backend="petsc")
    differ["after"] = bool(after.converged)
    report["differ"] = differ

    # 6. the default learner's theory prior from a distributed Mat: the spectral estimate is
    # collective (every rank runs it), rank 0's policy takes its prior from it
    from solvers.spectral import estimate_spectrum

    ML = solvers.petsc.to_petsc_mat(solvers.gallery.laplacian_2d(20))
    est = estimate_spectrum(ML)
    report["spectrum"] = [est.mu_min, est.mu_max, est.steps]
    primed = bandit.Tuner(solver="sor", rtol=1e-8, backend="petsc")
    ones = ML.createVecLeft()
    ones.set(1.0)
    first = primed.solve(ML, ones, context=0.0)
    curve = getattr(primed.policy, "prior_curve", None)
    report["prior"] = {"curve": None if curve is None else np.asarray(curve).tolist(),
                       "arms": list(primed.policy.arms), "first_arm": int(first.arm),
                       "converged": bool(first.converged)}

    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main(sys.argv[1])
