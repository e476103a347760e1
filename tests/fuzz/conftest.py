"""The fuzz suite's hypothesis profile, and the count of inputs each parser was given.

Deterministic by default (`derandomize`, no example database): CI runs the same inputs every
time, so a failure is never a flake and the run's cost is fixed. `FUZZ_EXAMPLES` raises the
examples per test and `FUZZ_RANDOM=1` draws new inputs each run (benchmarks/fuzz.py does
both); `FUZZ_COUNTS_DIR` asks every test process to write its counts there as JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from .strategies import ACCEPTED, TRIED

settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = os.environ.get("FUZZ_COUNTS_DIR")
    if not folder or not TRIED:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = Path(folder) / f"counts-{worker}-{os.getpid()}.json"
    counts = {name: {"tried": TRIED[name], "accepted": ACCEPTED[name]} for name in sorted(TRIED)}
    path.write_text(json.dumps(counts, indent=1) + "\n", encoding="utf-8")
