"""The scan pipeline: config -> inventory -> services -> scanners -> findings -> controls
-> verdict.

The clock, tool versions and environment facts enter here, once, and are recorded in the
ScanResult; everything downstream is a pure function of that value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from compliance import __version__
from compliance.config import RepoConfig, bundled_controls_dir, bundled_policy_dir, load_config
from compliance.errors import ConfigError, Problem, UsageError
from compliance.findings import finalize
from compliance.gating import evaluate_threshold
from compliance.inventory import Inventory, build_inventory
from compliance.mapping import evaluate_controls, map_findings
from compliance.model import REPO_SERVICE, ScanResult, Service, Severity, Skip, ToolInfo
from compliance.policy.mapping_rules import load_control_policy
from compliance.scanners.interface import ScanContext, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.registry import REGISTRY
from compliance.scanners.runner import Progress, run_scanners
from compliance.services import attributor, discover_services, load_codeowners, repo_service


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything a scan needs, already parsed from the command line."""

    root: Path
    config_path: Path | None = None
    advisory_db: Path | None = None
    fail_on: Severity | None = None
    scanners: tuple[str, ...] | None = None
    timeout_s: float | None = None
    jobs: int = 2
    policy_dir: Path | None = None
    #: The catalogues and mapping rules (controls/); the bundled ones when None.
    controls_dir: Path | None = None
    available_binaries: frozenset[str] = frozenset()
    executables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The repository as understood before any scanner runs (also used by `services`)."""

    root: Path
    config: RepoConfig
    config_file: Path | None
    inventory: Inventory
    services: tuple[Service, ...]
    skipped: tuple[Skip, ...]


def prepare(root: Path, config_path: Path | None = None) -> Prepared:
    if not root.exists():
        raise UsageError(f"path does not exist: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}", hint="pass the repository's root folder")
    root = root.resolve()
    config, config_file = load_config(root, config_path)
    inventory = build_inventory(root, exclude=config.scan.exclude)
    discovery = discover_services(root, config, inventory)
    return Prepared(
        root,
        config,
        config_file,
        inventory,
        discovery.services,
        inventory.skipped + discovery.skipped,
    )


def run_scan(
    options: ScanOptions,
    *,
    progress: Progress,
    clock: Callable[[], datetime],
    proc: ProcessRunner | None = None,
) -> ScanResult:
    started_at = clock()
    prepared = prepare(options.root, options.config_path)
    # A broken catalogue or mapping rule fails here, before any scanner runs (exit 3).
    policy = load_control_policy(options.controls_dir or bundled_controls_dir())
    config = prepared.config
    names = _select_scanners(options.scanners, config)
    settings = ScanSettings(
        timeout_s=options.timeout_s or config.scan.timeout_s,
        advisory_db=_advisory_db(options, prepared),
        jobs=max(1, options.jobs),
        policy_dir=options.policy_dir or bundled_policy_dir(),
        executables=dict(options.executables),
        available_binaries=options.available_binaries,
    )
    ctx = ScanContext(prepared.root, prepared.inventory, settings)
    scanners = [REGISTRY[name]() for name in names]
    outcomes = run_scanners(scanners, ctx, proc or ProcessRunner(), progress)

    services = prepared.services
    findings = map_findings(
        finalize((f for o in outcomes for f in o.findings), attributor(services)), policy.rules
    )
    if any(f.service == REPO_SERVICE for f in findings):
        services = (*services, repo_service(load_codeowners(prepared.root)))
    runs = tuple(o.run for o in outcomes)
    controls = evaluate_controls(policy.catalogue, policy.rules, findings, runs)
    skipped = tuple(
        sorted(
            {*prepared.skipped, *(s for o in outcomes for s in o.skipped)},
            key=lambda s: (s.path, s.tool or "", s.reason),
        )
    )
    fail_on = options.fail_on or Severity.parse(config.scan.fail_on)
    verdict = evaluate_threshold(findings, runs, fail_on)
    return ScanResult(
        tool=ToolInfo("compliance", __version__),
        root=prepared.root.name or str(prepared.root),
        started_at=started_at,
        finished_at=clock(),
        scanners=runs,
        services=services,
        findings=findings,
        skipped=skipped,
        verdict=verdict,
        controls=controls,
    )


def _select_scanners(requested: tuple[str, ...] | None, config: RepoConfig) -> list[str]:
    if requested:
        return [n for n in REGISTRY if n in requested]
    if config.scan.scanners is not None:
        unknown = [n for n in config.scan.scanners if n not in REGISTRY]
        if unknown:
            raise ConfigError(
                [
                    Problem("compliance.yaml", "scan.scanners", f"unknown scanner {n!r}")
                    for n in unknown
                ],
                hint=f"known scanners: {', '.join(REGISTRY)}",
            )
        if not config.scan.scanners:
            raise ConfigError(
                [Problem("compliance.yaml", "scan.scanners", "lists no scanner: nothing to run")]
            )
        return [n for n in REGISTRY if n in config.scan.scanners]
    return list(REGISTRY)


def _advisory_db(options: ScanOptions, prepared: Prepared) -> Path | None:
    if options.advisory_db is not None:
        if not options.advisory_db.is_dir():
            raise UsageError(f"--advisory-db: not a folder: {options.advisory_db}")
        return options.advisory_db.resolve()
    configured = prepared.config.scan.advisory_db
    if configured is None:
        return None
    base = prepared.config_file.parent if prepared.config_file else prepared.root
    path = (base / configured).resolve()
    if not path.is_dir():
        name = prepared.config_file.name if prepared.config_file else "compliance.yaml"
        raise ConfigError([Problem(name, "scan.advisory_db", f"not a folder: {configured}")])
    return path
