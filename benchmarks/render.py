"""Rendering a large result in every format: time per format, total, and peak memory.

Builds one realistic result of --findings synthetic findings (4 tools, 24 services, mapped
to controls by the real mapping rules, a tenth of them waived, inline-suppressed or
baselined), then renders it in every registered format --runs times and prints the median
per format, the sum of the medians, and the process's peak RSS (ru_maxrss). The target
(issue 4): 50,000 findings in every format in under 10 s in total and 500 MB.

    python benchmarks/render.py [--findings 50000] [--runs 3] [--json OUT]
    /usr/bin/time -v python benchmarks/render.py       # peak RSS from a public tool too
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from compliance.config import bundled_controls_dir, bundled_policy_dir
from compliance.findings import finalize
from compliance.gating import evaluate_gate
from compliance.mapping import evaluate_controls, map_findings
from compliance.model import (
    BaselineState,
    FindingKind,
    Location,
    RawFinding,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Service,
    ServiceName,
    ServiceSource,
    Severity,
    Suppression,
    SuppressionKind,
    ToolInfo,
)
from compliance.policy.gate import load_gate
from compliance.policy.mapping_rules import load_control_policy
from compliance.reporting import REGISTRY, RenderOptions
from compliance.reporting.interface import MultiFileRenderer

TOOLS = {
    "bandit": ("B602", "B608", "B105", "B324", "B201"),
    "semgrep": ("sql-built-by-string-formatting", "tls-verification-disabled", "logging-secret"),
    "checkov": ("CKV_AWS_20", "CKV_K8S_20", "CKV_DOCKER_2", "CKV2_GHA_1"),
    "pip-audit": ("PYSEC-2023-74",),
}
KINDS = {
    "bandit": FindingKind.CODE,
    "semgrep": FindingKind.CODE,
    "checkov": FindingKind.IAC_MISCONFIGURATION,
    "pip-audit": FindingKind.DEPENDENCY_VULNERABILITY,
}


def synthetic_result(count: int) -> ScanResult:
    services = tuple(
        Service(
            ServiceName(f"svc-{i:02d}"),
            f"services/svc-{i:02d}",
            f"@team-{i % 5}",
            ServiceSource.CONFIG,
            None,
            ("pii",) if i % 3 == 0 else (),
        )
        for i in range(24)
    )
    severities = list(Severity)
    raws = []
    tools = list(TOOLS)
    for i in range(count):
        tool = tools[i % len(tools)]
        rules = TOOLS[tool]
        service = services[i % len(services)]
        raws.append(
            RawFinding(
                tool=tool,
                rule_id=RuleId(rules[i % len(rules)]),
                title=f"synthetic {tool} finding",
                message=f"Problem {i}: user input reaches a dangerous call <b>{i}</b> | here",
                severity=severities[i % len(severities)],
                kind=KINDS[tool],
                location=Location(f"{service.path}/module_{i % 400}.py", i % 300 + 1, i % 300 + 3),
                cwe=("CWE-78",) if tool == "bandit" else (),
                snippet=f"result_{i} = subprocess.call(cmd_{i}, shell=True)  # line {i}",
                category="injection" if tool == "semgrep" else None,
            )
        )
    by_path = {s.path: s.name for s in services}
    findings = finalize(raws, lambda path: by_path[path.rsplit("/", 1)[0]])
    policy = load_control_policy(bundled_controls_dir())
    findings = map_findings(findings, policy.rules)
    kinds = (SuppressionKind.WAIVED, SuppressionKind.INLINE, SuppressionKind.BASELINED)
    findings = tuple(
        replace(
            f,
            suppression=Suppression(kinds[i % 3], f"synthetic justification {i}"),
            baseline=BaselineState.UNCHANGED,
        )
        if i % 10 == 0
        else replace(f, baseline=BaselineState.NEW)
        for i, f in enumerate(findings)
    )
    runs = tuple(ScannerRun(t, ScannerStatus.OK, "1.0", 12.5, findings=count // 4) for t in TOOLS)
    controls = evaluate_controls(policy.catalogue, policy.rules, findings, runs)
    gate = load_gate(bundled_policy_dir() / "gate.yaml", "policies/gate.yaml", policy.catalogue)
    verdict = evaluate_gate(findings, runs, controls, services, gate)
    now = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    return ScanResult(
        ToolInfo("compliance", "bench"),
        "bench",
        now,
        now,
        runs,
        services,
        findings,
        (),
        verdict,
        controls=controls,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    start = time.perf_counter()
    result = synthetic_result(args.findings)
    build = time.perf_counter() - start
    options = RenderOptions(link_base="https://github.com/acme/shop/blob/0123abc/")
    figures: dict[str, dict[str, float]] = {}
    for name, renderer in REGISTRY.items():
        samples, size = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            if isinstance(renderer, MultiFileRenderer):
                size = sum(len(t) for t in renderer.render_files(result, options))
            else:
                size = len(renderer.render(result, options))
            samples.append(time.perf_counter() - t0)
        figures[name] = {"median_s": statistics.median(samples), "chars": size}
    total = sum(f["median_s"] for f in figures.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.findings} findings (result built in {build:.2f} s), median of {args.runs}:")
    for name, f in figures.items():
        print(f"  {name:<28} {f['median_s']:7.3f} s  {f['chars'] / 1e6:8.2f} M chars")
    print(f"  {'total':<28} {total:7.3f} s")
    print(f"  peak RSS {peak_mb:.0f} MB")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "findings": args.findings,
                    "runs": args.runs,
                    "formats": figures,
                    "total_s": total,
                    "peak_rss_mb": round(peak_mb),
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
