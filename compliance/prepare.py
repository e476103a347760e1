"""A scan before any scanner runs: its options, the repository as understood (config,
inventory, services), and every policy it applies, loaded and validated together (a broken
one is exit 3 before anything runs). Used by the pipeline and by the commands that read
policies without scanning (`policy validate`, `residency map`, `baseline create`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from compliance.changes import ChangeSet
from compliance.config import (
    RepoConfig,
    bundled_controls_dir,
    bundled_policy_dir,
    load_config,
    repo_cache_dir,
)
from compliance.errors import ConfigError, Problem, UsageError
from compliance.inputs import folder_files
from compliance.inventory import Inventory, build_inventory
from compliance.model import (
    REPO_SERVICE,
    CiContext,
    GateMode,
    Service,
    Severity,
    Skip,
)
from compliance.policy.baseline import Baseline, load_baseline
from compliance.policy.files import display_path
from compliance.policy.gate import DEFAULT_GATE_PATH, GatePolicy, load_gate
from compliance.policy.mapping_rules import ControlPolicy, load_control_policy
from compliance.policy.waivers import DEFAULT_WAIVERS_PATH, Waivers, load_waivers
from compliance.residency.policy import (
    ResidencyPolicy,
    load_residency_policy,
    residency_policy_path,
)
from compliance.scanners.registry import REGISTRY
from compliance.services import discover_services


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
    #: Policy files named on the command line (they win over the config and the defaults).
    gate_path: Path | None = None
    waivers_path: Path | None = None
    #: A baseline named on the command line: compare with it, and gate on new findings only.
    baseline_path: Path | None = None
    #: `compliance baseline create`: scan everything as it is, without any baseline.
    ignore_baseline: bool = False
    #: Keep every scanner command's argv, exit code, stdout and stderr here (for evidence).
    record_dir: Path | None = None
    #: The CI run, read from the environment by the CLI.
    ci: CiContext | None = None
    #: Changed-files mode (pre-commit, --staged, --changed-since): what changed.
    changes: ChangeSet | None = None
    #: The result cache: off with `no_cache`; its folder (default: the config's cache.dir).
    no_cache: bool = False
    cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """The repository as understood before any scanner runs (also used by `services`)."""

    root: Path
    config: RepoConfig
    config_file: Path | None
    inventory: Inventory
    services: tuple[Service, ...]
    skipped: tuple[Skip, ...]


def prepare(
    root: Path, config_path: Path | None = None, *, cache_dir: Path | None = None
) -> Prepared:
    if not root.exists():
        raise UsageError(f"path does not exist: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}", hint="pass the repository's root folder")
    root = root.resolve()
    config, config_file = load_config(root, config_path)
    # The result cache is never scanned (it can live inside the repository).
    cache = cache_dir.resolve() if cache_dir else repo_cache_dir(config, root, config_file)
    inside = cache.relative_to(root).as_posix() if cache.is_relative_to(root) else None
    exclude = (*config.scan.exclude, *([inside] if inside and inside != "." else []))
    inventory = build_inventory(root, exclude=exclude)
    discovery = discover_services(root, config, inventory)
    return Prepared(
        root,
        config,
        config_file,
        inventory,
        discovery.services,
        inventory.skipped + discovery.skipped,
    )


@dataclass(frozen=True, slots=True)
class Policies:
    """Every policy a scan applies, validated together before any scanner runs."""

    controls: ControlPolicy
    gate: GatePolicy
    waivers: Waivers
    baseline: Baseline | None
    #: Where the baseline lives (the command line's, else the gate's `baseline`), if anywhere.
    baseline_path: Path | None
    #: (kind, path, display) of every policy file applied, for the result's `inputs`.
    files: tuple[tuple[str, Path, str], ...] = ()


def load_policies(prepared: Prepared, options: ScanOptions, today: date) -> Policies:
    """Load the catalogues, mapping rules, gate, waivers and baseline: every problem of every
    file is reported together (exit 3), and nothing is applied unless everything loads."""
    problems: list[Problem] = []

    def attempt(load: Callable[[], object]) -> object:
        try:
            return load()
        except ConfigError as error:
            problems.extend(error.problems)
            return None

    controls = attempt(lambda: load_control_policy(options.controls_dir or bundled_controls_dir()))
    if problems:  # the gate's control ids are checked against the catalogue
        raise ConfigError(problems)
    assert isinstance(controls, ControlPolicy)
    gate = load_gate_policy(prepared, options, controls)
    waivers = attempt(lambda: _load_waivers(prepared, options, gate, today))
    baseline_path, baseline = None, None
    if not options.ignore_baseline:
        baseline_path = _baseline_path(prepared, options, gate)
        if baseline_path is not None:
            display = display_path(baseline_path, prepared.root)
            baseline = attempt(lambda: load_baseline(baseline_path, display))
        elif gate.mode is GateMode.NEW_ONLY:
            problems.append(
                Problem(
                    gate.source,
                    "mode",
                    "new-only needs a baseline: set `baseline` or pass --baseline",
                )
            )
    problems += _unknown_services(prepared.services, gate, waivers)
    # The residency policy and its region tables: a bad region or rule is exit 3 here, before
    # any scanner runs (the residency scanner loads the same file again).
    attempt(lambda: load_residency(prepared, options))
    # The threat library and the per-service threat models: a malformed model or an unknown
    # threat id is exit 3 here, before any scanner runs (the threatmodel scanner reloads them).
    attempt(lambda: load_threatmodel_files(prepared, options, controls))
    if problems:
        raise ConfigError(problems)
    assert isinstance(waivers, Waivers)
    assert baseline is None or isinstance(baseline, Baseline)
    files = _policy_files(prepared, options, waivers, baseline_path)
    return Policies(controls, gate, waivers, baseline, baseline_path, files)


def _policy_files(
    prepared: Prepared, options: ScanOptions, waivers: Waivers, baseline: Path | None
) -> tuple[tuple[str, Path, str], ...]:
    """(kind, path, display) of every policy and data file this scan applies."""
    files: list[tuple[str, Path, str]] = []
    if prepared.config_file is not None:
        files.append(
            ("config", prepared.config_file, display_path(prepared.config_file, prepared.root))
        )
    controls_dir = options.controls_dir or bundled_controls_dir()
    bundled = controls_dir.resolve() == bundled_controls_dir().resolve()
    for path in folder_files(controls_dir):
        relative = path.relative_to(controls_dir).as_posix()
        kind = "mapping-rules" if relative.startswith("mappings/") else "catalogue"
        if relative.endswith("README.md"):
            continue
        files.append((kind, path, f"(bundled) controls/{relative}" if bundled else str(path)))
    files.append(("gate", *gate_file(prepared, options)))
    if waivers.source is not None:
        waiver_path = options.waivers_path or _policy_path(
            prepared, None, prepared.config.policy.waivers, "policy.waivers", DEFAULT_WAIVERS_PATH
        )
        if waiver_path is not None:
            files.append(("waivers", waiver_path, waivers.source))
    if baseline is not None:
        files.append(("baseline", baseline, display_path(baseline, prepared.root)))
    residency = residency_file(prepared)
    if residency is not None:
        files.append(("residency-policy", *residency))
    return tuple(files)


def residency_file(prepared: Prepared) -> tuple[Path, str] | None:
    """The residency policy's file and display name (the config's `residency.policy`, else
    policies/residency.yaml), or None: no policy, nothing for the residency scanner to check."""
    config = prepared.config_file
    path = residency_policy_path(
        prepared.root,
        prepared.config,
        config.parent if config is not None else None,
        display_path(config, prepared.root) if config is not None else "compliance.yaml",
    )
    return None if path is None else (path, display_path(path, prepared.root))


def load_residency(prepared: Prepared, options: ScanOptions) -> ResidencyPolicy | None:
    """The residency policy, validated against the region tables and the services."""
    found = residency_file(prepared)
    if found is None:
        return None
    return load_residency_policy(
        found[0],
        found[1],
        policy_dir=options.policy_dir or bundled_policy_dir(),
        services=[s.name for s in prepared.services],
    )


def load_threatmodel_files(
    prepared: Prepared, options: ScanOptions, controls: ControlPolicy, *, planned: bool = False
) -> None:
    """Validate the threat library and model files when the threatmodel scanner will run.
    A changed-files scan runs it only when its plan turns out to be a full scan: the
    pipeline calls this again then, with `planned`."""
    if options.changes is not None and not planned:
        return
    if "threatmodel" in select_scanners(options.scanners, prepared.config):
        # Imported here: the detectors cost a pre-commit scan 30 ms it does not need.
        from compliance.threatmodel.workflow import load_threat_models  # noqa: PLC0415 - lazy

        load_threat_models(prepared.root, prepared.config, controls.catalogue)


def gate_file(prepared: Prepared, options: ScanOptions) -> tuple[Path, str]:
    """The gate's file and display name: --gate, else the config's `policy.gate`, else the
    repository's policies/gate.yaml, else the bundled default."""
    path = _policy_path(
        prepared, options.gate_path, prepared.config.policy.gate, "policy.gate", DEFAULT_GATE_PATH
    )
    if path is None:
        return bundled_policy_dir() / "gate.yaml", "(bundled) policies/gate.yaml"
    return path, display_path(path, prepared.root)


def load_gate_policy(
    prepared: Prepared, options: ScanOptions, controls: ControlPolicy
) -> GatePolicy:
    path, display = gate_file(prepared, options)
    gate = load_gate(path, display, controls.catalogue)
    if options.baseline_path is not None:
        gate = replace(gate, mode=GateMode.NEW_ONLY)
    return gate


def _load_waivers(
    prepared: Prepared, options: ScanOptions, gate: GatePolicy, today: date
) -> Waivers:
    path = _policy_path(
        prepared,
        options.waivers_path,
        prepared.config.policy.waivers,
        "policy.waivers",
        DEFAULT_WAIVERS_PATH,
    )
    if path is None:
        return Waivers(None)
    display = display_path(path, prepared.root)
    return load_waivers(path, display, today=today, max_days=gate.waiver_max_days)


def _policy_path(
    prepared: Prepared, given: Path | None, configured: str | None, key: str, default: str
) -> Path | None:
    if given is not None:
        return given
    if configured is not None:
        base = prepared.config_file.parent if prepared.config_file else prepared.root
        path = base / configured
        if not path.is_file():
            name = (
                display_path(prepared.config_file, prepared.root)
                if prepared.config_file
                else "compliance.yaml"
            )
            raise ConfigError([Problem(name, key, f"no such file: {configured}")])
        return path
    candidate = prepared.root / default
    return candidate if candidate.is_file() else None


def _baseline_path(prepared: Prepared, options: ScanOptions, gate: GatePolicy) -> Path | None:
    if options.baseline_path is not None:
        return options.baseline_path
    if gate.baseline is None:
        return None
    path = prepared.root / gate.baseline
    if not path.is_file():
        raise ConfigError(
            [Problem(gate.source, "baseline", f"no such file: {gate.baseline}")],
            hint="create it with `compliance baseline create`",
        )
    return path


def default_baseline_path(prepared: Prepared, options: ScanOptions) -> Path:
    """Where `compliance baseline create` writes: the gate's `baseline`, else
    .compliance/baseline.json under the root."""
    controls = load_control_policy(options.controls_dir or bundled_controls_dir())
    gate = load_gate_policy(prepared, options, controls)
    return prepared.root / (gate.baseline or ".compliance/baseline.json")


def _unknown_services(
    services: tuple[Service, ...], gate: GatePolicy, waivers: object
) -> list[Problem]:
    """A service name that matches no service is a typo that would silently not apply."""
    names = [s.name for s in services] + [REPO_SERVICE]
    known = ", ".join(s.name for s in services) or "none"
    problems = []
    for override in gate.overrides:
        for i, pattern in enumerate(override.services):
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                problems.append(
                    Problem(
                        gate.source,
                        f"{override.key}.service[{i}]",
                        f"matches no service: {pattern!r} (services: {known})",
                    )
                )
    if isinstance(waivers, Waivers) and waivers.source is not None:
        for waiver in waivers.waivers:
            if waiver.service is not None and waiver.service not in names:
                problems.append(
                    Problem(
                        waivers.source,
                        f"waivers[{waiver.index}].service",
                        f"unknown service {waiver.service!r} (services: {known})",
                    )
                )
    return problems


def select_scanners(
    requested: tuple[str, ...] | None,
    config: RepoConfig,
    known: Collection[str] | None = None,
) -> list[str]:
    """The scanners to run, in registry order: --scanner, else the config's, else all
    `known` (the registry's, unless the pipeline names its own)."""
    known = list(REGISTRY if known is None else known)
    if requested:
        return [n for n in known if n in requested]
    if config.scan.scanners is not None:
        unknown = [n for n in config.scan.scanners if n not in known]
        if unknown:
            raise ConfigError(
                [
                    Problem("compliance.yaml", "scan.scanners", f"unknown scanner {n!r}")
                    for n in unknown
                ],
                hint=f"known scanners: {', '.join(known)}",
            )
        if not config.scan.scanners:
            raise ConfigError(
                [Problem("compliance.yaml", "scan.scanners", "lists no scanner: nothing to run")]
            )
        return [n for n in known if n in config.scan.scanners]
    return known
