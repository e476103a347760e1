"""`compliance policy validate`: check policy files without scanning anything.

Given a repository folder, it checks everything a scan of it would load (config, catalogues,
mapping rules, gate, waivers, baseline); given one file, it recognises what the file is from
its content (or is told) and checks that. Every problem of every file is reported at once as
a ConfigError (exit 3); on success each file gets a one-line summary, and the warnings an
owner should act on (expired waivers) are returned too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from compliance.config import bundled_controls_dir, bundled_policy_dir, load_config, parse_config
from compliance.errors import ConfigError, Problem, UsageError
from compliance.policy.baseline import parse_baseline
from compliance.policy.catalogue import load_catalogue
from compliance.policy.files import display_path, read_json, read_yaml
from compliance.policy.gate import DEFAULT_WAIVER_MAX_DAYS, parse_gate
from compliance.policy.mapping_rules import ControlPolicy, load_control_policy
from compliance.policy.waivers import Waivers, parse_waivers
from compliance.prepare import ScanOptions, load_policies, load_residency, prepare
from compliance.residency.policy import ResidencyPolicy, parse_residency_policy, region_tables
from compliance.soa import (
    DEFAULT_SOA_PATH,
    Applicability,
    load_applicability,
    parse_applicability,
)

#: Waivers that expire within this many days are flagged so their owners can act in time.
EXPIRY_WARNING_DAYS = 30


class Kind(enum.Enum):
    CONFIG = "config"
    CONTROLS = "controls"
    GATE = "gate"
    WAIVERS = "waivers"
    BASELINE = "baseline"
    APPLICABILITY = "applicability"
    RESIDENCY = "residency"


@dataclass(frozen=True, slots=True)
class Checked:
    """One file (or folder) that validated, what it holds, and what its owner should know."""

    path: str
    kind: Kind
    summary: str
    warnings: tuple[str, ...] = field(default=())


def validate_repository(root: Path, options: ScanOptions, today: date) -> list[Checked]:
    """Everything `compliance scan ROOT` would load, checked together."""
    prepared = prepare(root, options.config_path)
    policies = load_policies(prepared, options, today)
    checked = []
    if prepared.config_file is not None:
        display = display_path(prepared.config_file, prepared.root)
        checked.append(
            Checked(display, Kind.CONFIG, f"{len(prepared.config.services)} service(s) declared")
        )
    controls_dir = options.controls_dir or bundled_controls_dir()
    checked.append(_controls_checked(controls_dir, policies.controls))
    gate = policies.gate
    checked.append(
        Checked(
            gate.source,
            Kind.GATE,
            f"fail_on {gate.fail_on.value}, mode {gate.mode.value}, "
            f"{len(gate.overrides)} override(s), {len(gate.limits)} limit(s)",
        )
    )
    if policies.waivers.source is not None:
        checked.append(_waivers_checked(policies.waivers, today))
    residency = load_residency(prepared, options)
    if residency is not None:
        checked.append(_residency_checked(residency, today))
    soa_path = prepared.root / DEFAULT_SOA_PATH
    if soa_path.is_file():
        display = display_path(soa_path, prepared.root)
        applicability = load_applicability(soa_path, display, policies.controls.catalogue)
        checked.append(_applicability_checked(applicability))
    if policies.baseline is not None:
        checked.append(
            Checked(
                policies.baseline.source,
                Kind.BASELINE,
                f"{policies.baseline.entries} baselined finding(s)",
            )
        )
    return checked


def validate_file(path: Path, kind: Kind | None, today: date, root: Path | None) -> Checked:
    """One policy file, of the given kind or recognised from its content."""
    display = display_path(path, root)
    if path.is_dir():
        if kind not in (None, Kind.CONTROLS):
            raise UsageError(f"{display} is a folder; only a controls folder can be checked so")
        return _controls_checked(path, load_control_policy(path))
    if path.suffix == ".toml":  # only the config lives in TOML ([tool.compliance])
        config, _ = load_config(path.parent, path)
        return Checked(display, Kind.CONFIG, f"{len(config.services)} service(s) declared")
    raw = read_json(path, display) if path.suffix == ".json" else read_yaml(path, display)
    kind = kind or _recognise(raw, path, display)
    match kind:
        case Kind.CONFIG:
            config = parse_config(raw, display)
            return Checked(display, kind, f"{len(config.services)} service(s) declared")
        case Kind.CONTROLS:
            raise UsageError(f"{display}: pass the controls folder (with mappings/), not a file")
        case Kind.GATE:
            catalogue = load_catalogue(bundled_controls_dir())
            gate = parse_gate(raw, display, catalogue)
            return Checked(
                display,
                kind,
                f"fail_on {gate.fail_on.value}, mode {gate.mode.value}, "
                f"{len(gate.overrides)} override(s), {len(gate.limits)} limit(s)",
            )
        case Kind.WAIVERS:
            waivers = parse_waivers(raw, display, today=today, max_days=DEFAULT_WAIVER_MAX_DAYS)
            return _waivers_checked(waivers, today)
        case Kind.BASELINE:
            baseline = parse_baseline(raw, display)
            return Checked(display, kind, f"{baseline.entries} baselined finding(s)")
        case Kind.APPLICABILITY:
            catalogue = load_catalogue(bundled_controls_dir())
            return _applicability_checked(parse_applicability(raw, display, catalogue))
        case Kind.RESIDENCY:
            tables = region_tables(bundled_policy_dir())
            return _residency_checked(parse_residency_policy(raw, display, tables), today)
    raise AssertionError(kind)  # pragma: no cover - every Kind is handled above


def _recognise(raw: Any, path: Path, display: str) -> Kind:
    if path.name in ("compliance.yaml", "compliance.yml", "pyproject.toml"):
        return Kind.CONFIG
    if isinstance(raw, dict):
        if "waivers" in raw and "fail_on" not in raw:
            return Kind.WAIVERS
        if "fail_on" in raw:
            return Kind.GATE
        if "findings" in raw:
            return Kind.BASELINE
        if "exclusions" in raw:
            return Kind.APPLICABILITY
        rules = raw.get("rules")
        if isinstance(rules, list) and any(isinstance(r, dict) and "allowed" in r for r in rules):
            return Kind.RESIDENCY
        if "services" in raw or "scan" in raw or "policy" in raw:
            return Kind.CONFIG
    raise ConfigError(
        [
            Problem(
                display, "", "not a policy file this tool knows (config, gate, waivers, baseline)"
            )
        ],
        hint="say which with --kind",
    )


def _applicability_checked(applicability: Applicability) -> Checked:
    return Checked(
        applicability.source or "",
        Kind.APPLICABILITY,
        f"{len(applicability.exclusions)} control(s) excluded from the SoA",
    )


def _controls_checked(folder: Path, policy: ControlPolicy) -> Checked:
    counts: dict[str, int] = {}
    for control in policy.catalogue.controls:
        counts[control.framework.value] = counts.get(control.framework.value, 0) + 1
    frameworks = ", ".join(f"{n} {name}" for name, n in counts.items())
    bundled = folder.resolve() == bundled_controls_dir().resolve()
    return Checked(
        "(bundled) controls" if bundled else str(folder),
        Kind.CONTROLS,
        f"{frameworks} controls, {len(policy.rules.rules)} mapping rule(s)",
    )


def _residency_checked(policy: ResidencyPolicy, today: date) -> Checked:
    """The residency policy, with its expired and soon-expiring exceptions as warnings."""
    warnings = []
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    for exception in policy.exceptions:
        if not exception.in_force(today):
            warnings.append(
                f"residency exception {exception.id} expired on "
                f"{exception.expires.isoformat()}: it suppresses nothing (owner "
                f"{exception.owner}); renew it with a new approval or remove it"
            )
        elif exception.expires <= soon:
            warnings.append(
                f"residency exception {exception.id} expires on "
                f"{exception.expires.isoformat()} (owner {exception.owner})"
            )
    return Checked(
        policy.source,
        Kind.RESIDENCY,
        f"{len(policy.rules)} rule(s), {len(policy.exceptions)} exception(s)",
        tuple(warnings),
    )


def _waivers_checked(waivers: Waivers, today: date) -> Checked:
    warnings = []
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    for waiver in waivers.waivers:
        if not waiver.in_force(today):
            warnings.append(
                f"waiver {waiver.id} expired on {waiver.expires.isoformat()}: it suppresses "
                f"nothing (owner {waiver.owner}); renew it with a new approval or remove it"
            )
        elif waiver.expires <= soon:
            warnings.append(
                f"waiver {waiver.id} expires on {waiver.expires.isoformat()} (owner {waiver.owner})"
            )
    active = sum(1 for w in waivers.waivers if w.in_force(today))
    return Checked(
        waivers.source or "",
        Kind.WAIVERS,
        f"{len(waivers.waivers)} waiver(s), {active} in force",
        tuple(warnings),
    )
