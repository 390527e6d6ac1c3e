"""The sequences of ``relaxtune bench learners`` (part of :mod:`experiments.bench_learners`,
importable from there): how each is built and what is reported of it (:class:`Case`), the
registered cases (:data:`CASES`) and the short and long suites."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    """One benchmark sequence: how to build it and what to report.

    ``kind`` is ``"samples"`` (independent systems ``seq[t] = (A, b, context)``, solved from
    zero) or ``"loop"`` (a time loop ``sim.system(t, u) -> (A, b, context)`` along a reference
    trajectory).
    """

    name: str
    solver: str
    kind: str
    T: int
    horizons: tuple
    seeds: tuple
    hint: tuple  # context interval the sequence documents (the "user bounds" of a run)
    description: str
    learner_seeds: int = 1
    seed_T: dict = field(default_factory=dict)  # sequence seed -> its own length (else T)
    params: dict = field(default_factory=dict)  # generator sizes (tests shrink them)

    def length(self, seed) -> int:
        return int(self.seed_T.get(seed, self.T))

    def build(self, seed, T=None):
        """The sequence object of ``seed`` with (at least) ``T`` systems."""
        from . import problems

        T = self.length(seed) if T is None else int(T)
        n, q = self.name, self.params
        if n.startswith("mc3d"):
            return problems.DiffusionMC3D(m=q.get("m", 24), samples=T, seed=seed)
        if n.startswith("offset_"):
            variance = n.split("_")[1]
            return problems.OffsetLaplacianSequence(T, variance, seed=seed)
        if n.startswith("heat2d"):
            return problems.Heat2D(nx=q.get("nx", 100), steps=T, t_end=q.get("t_end", 5.0))
        if n == "elast":
            return problems.PlaneElasticity(T, m=q.get("m", 8), seed=seed)
        if n == "fem":
            return problems.FEMHeat2D(h=q.get("h", 0.02), steps=T, t_end=q.get("t_end", 6.0),
                                      seed=seed)
        raise ValueError(f"unknown case {n!r}")


def _study_seeds(trials):
    """Sequence seeds of ``relaxtune contextual --seed 0``'s trials (same cost matrices)."""
    from .learners import derive_seed

    return tuple(derive_seed(0, i) for i in range(trials))


#: The context interval of the ``elast`` case, whose context (λ = 10) is constant: the range
#: of λ/μ a user would document (Poisson's ratio 0.25 to 0.495), containing it.
ELAST_CONTEXT_BOUNDS = (1.0, 100.0)


def _cases():
    from .problems import OFFSET_CONTEXT_BOUNDS

    return {c.name: c for c in (
        Case("mc3d", "sor", "samples", 100, (100,), (0, 1, 2, 3, 4), (0.25, 2.5),
             "SOR, 3-D random-coefficient diffusion Monte Carlo (m = 24, n = 13 824), context σ",
             learner_seeds=2),
        Case("mc3d16", "sor", "samples", 1000, (100, 1000), (0, 1, 2, 3, 4), (0.25, 2.5),
             "SOR, the same Monte Carlo on a 16³ grid (n = 4 096), 1000 samples, context σ",
             learner_seeds=2, params={"m": 16}),
        Case("offset_high", "sor", "samples", 500, (100, 500), (11, 12, 13, 14, 15),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian (high variance), context c",
             learner_seeds=2),
        Case("offset_low", "sor", "samples", 500, (100, 500), (11, 12, 13, 14, 15),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian (low variance), context c",
             learner_seeds=2),
        # the context λ is constant (one matrix, 200 right-hand sides): the documented
        # interval is the range a user would give for λ/μ (Poisson's ratio 0.25 to 0.495),
        # not the degenerate (10, 10), which the learners that take bounds refused
        Case("elast", "sor", "samples", 200, (50, 200), (0, 1, 2, 3, 4), ELAST_CONTEXT_BOUNDS,
             "SOR, plane linear elasticity in block order (8 × 8 grid, n = 128, λ = 10, "
             "μ = 1), 200 right-hand sides, constant context λ: Young's theory puts the best "
             "ω at 1.65, the best fixed ω is 1.45", learner_seeds=1),
        Case("heat2d", "ssor_pcg", "loop", 1000, (1000,), (0,), (0.0, 10.0),
             "SSOR-PCG, heat2d nx = 100, 1000 steps on [0, 5], context κ", learner_seeds=5),
        Case("fem", "ssor_pcg", "loop", 600, (600,), (0, 1, 2, 3, 4), (0.1, 10.0),
             "SSOR-PCG, P1 FEM heat loop on an unstructured disk mesh (n ≈ 7 700), context κ",
             learner_seeds=2),
        Case("heat2d_5000", "ssor_pcg", "loop", 5000, (5000,), (0,), (0.0, 10.0),
             "SSOR-PCG, heat2d nx = 100, 5000 steps (the paper's protocol), context κ",
             learner_seeds=3),
        Case("offset_high_5000", "sor", "samples", 5000, (5000,), _study_seeds(5),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian high variance, T = 5000 (the "
             "contextual study's 5 trials)"),
        Case("offset_low_5000", "sor", "samples", 5000, (5000,), _study_seeds(5),
             OFFSET_CONTEXT_BOUNDS, "SOR, offset Laplacian low variance, T = 5000 (the "
             "contextual study's 5 trials)"),
    )}


CASES = _cases()
#: The short-horizon suite (default of ``relaxtune bench learners``).
SHORT = ("mc3d", "mc3d16", "offset_high", "offset_low", "elast", "heat2d", "fem")
#: The long runs (``--long``).
LONG = ("heat2d_5000", "offset_high_5000", "offset_low_5000")
