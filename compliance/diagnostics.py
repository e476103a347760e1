"""`compliance doctor`: is every scanner present, which version, and does it run offline?

Each scanner is asked for its version and then run for real on a tiny repository written to
a temporary folder, with the same adapter and flags a scan uses. A scanner that needs the
network (pip-audit without a local advisory database) shows up here, not in CI.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compliance.config import bundled_policy_dir
from compliance.errors import ScannerFailure
from compliance.inventory import build_inventory
from compliance.scanners.interface import NothingToScan, ScanContext, Scanner, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.registry import REGISTRY

SMOKE_TIMEOUT_S = 120.0

_SMOKE_REPO = {
    "app/main.py": (
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    ),
    "app/requirements.txt": "requests==2.31.0\n",
    "app/Dockerfile": 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n',
    # residency: a policy and an SDK client to check against it (its semgrep run included)
    "app/storage.py": 'import boto3\n\nclient = boto3.client("s3", region_name="us-east-1")\n',
    "policies/residency.yaml": (
        "version: 1\nrules:\n  - id: smoke\n    services: ['*']\n    allowed: {aws: [eu]}\n"
    ),
}


@dataclass(frozen=True, slots=True)
class ScannerHealth:
    name: str
    version: str | None
    present: bool
    offline: bool
    detail: str

    @property
    def healthy(self) -> bool:
        return self.present and self.offline


@dataclass(frozen=True, slots=True)
class Health:
    scanners: tuple[ScannerHealth, ...]
    optional_binaries: tuple[tuple[str, bool], ...]

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.scanners)


def check_health(
    *,
    advisory_db: Path | None,
    available_binaries: frozenset[str],
    optional_binaries: tuple[str, ...],
    proc: ProcessRunner | None = None,
    on_result: Callable[[ScannerHealth], None] | None = None,
) -> Health:
    runner = proc or ProcessRunner()
    results = []
    with tempfile.TemporaryDirectory(prefix="compliance-doctor-") as tmp:
        root = Path(tmp)
        for rel, text in _SMOKE_REPO.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        settings = ScanSettings(
            timeout_s=SMOKE_TIMEOUT_S,
            advisory_db=advisory_db,
            jobs=1,
            policy_dir=bundled_policy_dir(),
            available_binaries=available_binaries,
        )
        ctx = ScanContext(root, build_inventory(root), settings)
        for name, factory in REGISTRY.items():
            health = _check_one(name, factory(), ctx, runner, settings)
            results.append(health)
            if on_result is not None:
                on_result(health)
    return Health(tuple(results), tuple((b, b in available_binaries) for b in optional_binaries))


def _check_one(
    name: str, scanner: Scanner, ctx: ScanContext, proc: ProcessRunner, settings: ScanSettings
) -> ScannerHealth:
    try:
        version = scanner.version(proc, settings)
    except ScannerFailure as failure:
        return ScannerHealth(name, None, False, False, failure.message)
    try:
        output = scanner.run(ctx, proc)
    except NothingToScan as nothing:
        return ScannerHealth(name, version, True, False, f"smoke test did not run: {nothing}")
    except ScannerFailure as failure:
        return ScannerHealth(name, version, True, False, f"offline run failed: {failure.message}")
    return ScannerHealth(
        name,
        version,
        True,
        True,
        f"ran offline on a sample repo: {len(output.findings)} finding(s)",
    )
