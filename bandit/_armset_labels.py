"""The labels of the arms of :class:`bandit.armset.ArmSet`: a bare ω arm's label at 12
significant digits (``"1.55"``, not linspace's ``"1.5499999999999998"``), and labels made
unique where two arms' labels round alike.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from solvers.precond import omega_text


def _short_label(arm) -> str:
    """Label of a bare ω arm: ``"1.55"`` rather than linspace's ``"1.5499999999999998"``."""
    return f"{arm:.12g}" if isinstance(arm, (float, np.floating)) else str(arm)


def _unique(labels, configs):
    """Labels made unique: more digits of ω where two round alike, then the arm index."""
    # counted once (a count per label was quadratic: 7 s for a grid of 10 000 ω)
    seen = Counter(labels)
    out = list(labels)
    for i, lab in enumerate(labels):
        if seen[lab] > 1 and configs is not None and configs[i].omega is not None:
            out[i] = lab.replace(f"ω={omega_text(configs[i].omega)}",
                                 f"ω={configs[i].omega:.12g}")
    again = Counter(out)
    return [f"{lab} [{i}]" if again[lab] > 1 else lab for i, lab in enumerate(out)]
