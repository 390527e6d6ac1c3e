"""``relaxtune bench NAME [OPTIONS]``: dispatch to the benchmark scripts."""
from __future__ import annotations

import importlib

from .cli_common import EXIT_USAGE, UsageError


BENCHES = {"kernels": "experiments.bench_kernels", "bandit": "experiments.bench_bandit",
           "petsc": "experiments.bench_petsc", "pcg": "experiments.bench_pcg",
           "regret": "experiments.bench_regret", "tuner": "experiments.bench_tuner",
           "overhead": "experiments.bench_overhead",
           "learners": "experiments.bench_learners", "percall": "experiments.bench_percall",
           "refit": "experiments.bench_refit"}


def _bench(which: str, argv) -> int:
    try:
        mod = importlib.import_module(BENCHES[which])
    except ImportError as exc:
        raise UsageError(f"bench {which}: cannot import {BENCHES[which]} ({exc})") from None
    try:
        status = mod.main(list(argv))
    except SystemExit as exc:  # a benchmark's parser: its one-line error is already printed
        if isinstance(exc.code, str):  # SystemExit("message"): a refusal not yet printed
            raise UsageError(f"bench {which}: {exc.code}") from None
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    # an exit status, or None or the run's records (a finished run)
    return status if isinstance(status, int) and not isinstance(status, bool) else 0
