"""The preconditioner study's warm-up: no timed call of a learner loads a kernel."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_warm_up_loads_the_kernel_a_fall_back_reads_the_learners_predictions_with():
    # a guarded solve whose attempt failed after two arms converged orders its fall-back by
    # the learner's predictions of every arm (Tuner.fallback_order -> JointCB.predict), the
    # one call of the prediction kernel from Python: loaded from numba's cache there, it
    # took 9 ms inside a timed call of mc3d.  In a fresh process (this one may have it
    # already), after the warm-up the kernel holds the signature such a call needs, and a
    # learner's prediction adds none
    script = textwrap.dedent("""
        import bandit
        from bandit import _kernels
        from experiments import precond_study as ps
        grid = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "jacobi"}]
        ps._warm_up([ps.make_sequence("mc3d", 4, samples=2)], grid, [1.2, 1.5], "default",
                    (), 50, {"rtol": 1e-8, "maxiter": 1000})
        before = list(_kernels.joint_scores.signatures)
        p = bandit.default_policy(None, ps.default_grid(), seed=1)
        p.update(0, 3.0, 0.7)
        p.update(4, 2.0, 1.3)
        p.predict(0.9)
        print(len(before), len(_kernels.joint_scores.signatures))
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]
