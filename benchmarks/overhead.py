"""Orchestration overhead outside the scanners, for 10,000 findings.

Times what `compliance scan` does besides waiting for the tools: the inventory walk,
service discovery, normalisation (redaction, fingerprints, attribution), mapping to
controls, the gate, and rendering JSON and the terminal report, on a generated repository
with 10,000 synthetic findings spread over its files. Prints the median of --runs runs per stage.

    python benchmarks/overhead.py REPO [--findings 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from compliance.config import bundled_controls_dir, bundled_policy_dir, load_config
from compliance.findings import finalize
from compliance.gating import apply_waivers, evaluate_gate
from compliance.inventory import build_inventory
from compliance.mapping import evaluate_controls, map_findings
from compliance.model import (
    FindingKind,
    Location,
    RawFinding,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Severity,
    ToolInfo,
)
from compliance.policy.gate import load_gate
from compliance.policy.mapping_rules import load_control_policy
from compliance.policy.waivers import Waivers
from compliance.reporting.interface import RenderOptions
from compliance.reporting.json import JsonRenderer
from compliance.reporting.terminal import TerminalRenderer
from compliance.services import attributor, discover_services

SEVERITIES = list(Severity)


def synthetic_findings(files: tuple[str, ...], count: int) -> list[RawFinding]:
    out = []
    for i in range(count):
        path = files[i % len(files)]
        out.append(
            RawFinding(
                tool=("bandit", "semgrep", "checkov", "pip-audit")[i % 4],
                rule_id=RuleId(f"R{i % 97}"),
                title="synthetic finding",
                message=f"problem {i}: password = 'hunter{i}' found near call_{i}()",
                severity=SEVERITIES[i % len(SEVERITIES)],
                kind=FindingKind.SECRET if i % 13 == 0 else FindingKind.CODE,
                location=Location(path, i % 400 + 1, i % 400 + 2),
                snippet=f"value_{i % 50} = call_{i}(token='abc{i}def')",
            )
        )
    return out


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    samples = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    root = args.repo.resolve()
    config, _ = load_config(root)

    t_inv, inventory = timed(lambda: build_inventory(root), args.runs)
    t_svc, discovery = timed(lambda: discover_services(root, config, inventory), args.runs)
    raws = synthetic_findings(inventory.all_files, args.findings)
    attribute = attributor(discovery.services)
    t_fin, findings = timed(lambda: finalize(raws, attribute), args.runs)
    runs = tuple(
        ScannerRun(name, ScannerStatus.OK, "1", 1.0)
        for name in ("bandit", "semgrep", "pip-audit", "checkov")
    )
    t_policy, policy = timed(lambda: load_control_policy(bundled_controls_dir()), args.runs)
    t_map, findings = timed(lambda: map_findings(findings, policy.rules), args.runs)
    gate = load_gate(bundled_policy_dir() / "gate.yaml", "gate.yaml", policy.catalogue)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t_waive, (findings, _) = timed(
        lambda: apply_waivers(findings, Waivers(None), now.date()), args.runs
    )
    t_controls, controls = timed(
        lambda: evaluate_controls(policy.catalogue, policy.rules, findings, runs), args.runs
    )
    t_gate, verdict = timed(
        lambda: evaluate_gate(findings, runs, controls, discovery.services, gate), args.runs
    )
    result = ScanResult(
        ToolInfo("compliance", "bench"),
        root.name,
        now,
        now,
        runs,
        discovery.services,
        findings,
        inventory.skipped,
        verdict,
        controls=controls,
    )
    t_json, _ = timed(lambda: JsonRenderer().render(result, RenderOptions()), args.runs)
    t_term, _ = timed(lambda: TerminalRenderer().render(result, RenderOptions()), args.runs)
    total = (
        t_inv + t_svc + t_fin + t_policy + t_map + t_waive + t_controls + t_gate + t_json + t_term
    )
    print(f"repo: {root} ({len(inventory.all_files)} files), findings: {len(findings)}")
    for name, value in (
        ("inventory walk", t_inv),
        ("service discovery", t_svc),
        ("normalise (redact, fingerprint, attribute)", t_fin),
        ("load catalogues and mapping rules", t_policy),
        ("map findings to controls", t_map),
        ("apply waivers", t_waive),
        ("evaluate control results", t_controls),
        ("gate", t_gate),
        ("render json", t_json),
        ("render terminal", t_term),
        ("total", total),
    ):
        print(f"  {name:<45} {value * 1000:8.1f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
