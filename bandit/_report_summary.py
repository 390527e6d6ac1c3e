"""The summary of a :class:`bandit.Tuner`'s run (part of :mod:`bandit.report`, importable from
there): :meth:`bandit.Tuner.summary`, its totals, counts, audits' cost and regret in one dict."""
from __future__ import annotations

import numpy as np

from ._report_costs import audit_cost
from ._report_history import history
from ._report_regret import fallback_counts, regret
from ._tuner_own import summary as own_summary


def summary(tuner) -> dict:
    """:meth:`bandit.Tuner.summary`."""
    h = history(tuner)
    T = len(h["arm"])
    K = tuner.policy.n_arms
    counts = np.bincount(h["arm"], minlength=K) if T else np.zeros(K, dtype=np.int64)
    conv = int(h["converged"].sum())
    ran, finished = fallback_counts(h)
    out = {"rounds": T, "cost": tuner.cost,
           "total_iterations": int(h["iterations"].sum()),
           "total_seconds": float(h["seconds"].sum()),
           "all_converged": conv == T, "converged": conv, "not_converged": T - conv,
           "censored": int(h["censored"].sum()),
           # solves whose fallback chain ran, and those an arm of the chain finished;
           # "fallbacks" is the older name of the first (regret()'s "fallbacks" is the second)
           "fallback_ran": ran, "fallback_finished": finished, "fallbacks": ran,
           "arm_counts": {lab: int(n) for lab, n in zip(tuner.arm_labels, counts)},
           "audits": audit_cost(tuner),
           # the tuner's own time outside the solver's runs and the audits (_tuner_own)
           "tuner": own_summary(tuner)}
    auto = getattr(tuner, "auto_context", None)
    if auto is not None:  # what the automatic contexts cost (their estimates, this process)
        from .tuner import AUTO_CONTEXT_STEPS

        out["auto_context"] = {"kind": auto, "steps": AUTO_CONTEXT_STEPS,
                               "seconds": float(getattr(tuner, "_context_seconds", 0.0)),
                               "products": int(getattr(tuner, "_context_products", 0))}
    if T:
        rep = regret(tuner)
        out["regret"] = rep.as_dict()
    else:
        out["regret"] = {"method": "no rounds yet"}
    return out
