"""`compliance controls`: the control catalogues, their mapping rules and their coverage."""

from __future__ import annotations

import difflib
import json
import sys
import textwrap
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from compliance.config import bundled_controls_dir, bundled_policy_dir
from compliance.coverage import CoverageReport, measure_coverage
from compliance.errors import ExitCode, UsageError
from compliance.policy.catalogue import Automation, Control, Framework
from compliance.policy.mapping_rules import ControlPolicy, MappingRule, load_control_policy

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

FRAMEWORKS = [f.value for f in Framework]
WIDTH = 100


def _policy() -> ControlPolicy:
    return load_control_policy(bundled_controls_dir())


@click.group()
def controls() -> None:
    """SOC 2 and ISO/IEC 27001 controls, the rules that map findings to them, coverage."""


@controls.command("list")
@click.option("--framework", type=click.Choice(FRAMEWORKS), help="Only this framework.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def list_controls(framework: str | None, fmt: str) -> None:
    """List the controls with their automation level and how many mapping rules bear on them."""
    policy = _policy()
    chosen = [
        c for c in policy.catalogue.controls if framework is None or c.framework.value == framework
    ]
    if fmt == "json":
        data = [_control_dict(c, policy.rules.for_control(c.id)) for c in chosen]
        click.echo(json.dumps({"controls": data}, indent=2))
        return
    table = Table(show_edge=False)
    for column in ("framework", "id", "automation", "rules", "title"):
        table.add_column(column, justify="right" if column == "rules" else "left")
    for c in chosen:
        rules = policy.rules.for_control(c.id)
        table.add_row(c.framework.value, c.id, c.automation.value, str(len(rules)), Text(c.title))
    Console(highlight=False, width=max(WIDTH, 120)).print(table)


@controls.command("show")
@click.argument("control_id")
def show(control_id: str) -> None:
    """Show a control: title, automation, evidence statement and the mapping rules."""
    policy = _policy()
    control = policy.catalogue.get(control_id)
    if control is None:
        known = [c.id for c in policy.catalogue.controls]
        close = difflib.get_close_matches(control_id, known, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `compliance controls list`"
        raise UsageError(f"unknown control {control_id!r}", hint=hint)
    rules = policy.rules.for_control(control.id)
    click.echo(f"{control.id}  {control.title}")
    click.echo(f"framework:  {control.framework.value} ({control.group}, {control.source})")
    click.echo(f"automation: {control.automation.value}")
    click.echo(_wrap("evidence:   ", control.evidence))
    if not rules:
        click.echo("\nno mapping rule: " + _without_rules(control))
        return
    click.echo(f"\nmapping rules ({len(rules)}):")
    for rule in rules:
        click.echo(f"  {rule.id}  [{rule.source}]")
        click.echo(f"    scanners:  {', '.join(rule.scanners)}")
        if rule.selectors:
            for index, selector in enumerate(rule.selectors):
                label = "selects:   " if index == 0 else "       or: "
                click.echo(_wrap(f"    {label}", selector.describe()))
        else:
            click.echo(f"    evidence:  {rule.evidence.value} (passes when the scan ran)")
        click.echo(_wrap("    rationale: ", rule.rationale))


@controls.command("coverage")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def coverage(fmt: str) -> None:
    """Check that every scanner rule maps to a SOC 2 and an ISO control (exit 0, or 3)."""
    report = measure_coverage(_policy(), bundled_policy_dir())
    if fmt == "json":
        click.echo(json.dumps(_coverage_dict(report), indent=2))
    else:
        _print_coverage(report)
    code = ExitCode.OK if report.complete else ExitCode.INVALID_CONFIG
    click.get_current_context().exit(int(code))


def _print_coverage(report: CoverageReport) -> None:
    table = Table(show_edge=False)
    table.add_column("rules of")
    for column in ("total", "SOC 2", "ISO 27001", "unmapped"):
        table.add_column(column, justify="right")
    table.add_column("source")
    for tool in report.tools:
        table.add_row(
            tool.name,
            str(tool.total),
            str(tool.soc2),
            str(tool.iso27001),
            Text(str(len(tool.unmapped)), style="" if tool.complete else "bold red"),
            tool.source,
        )
    Console(highlight=False, width=WIDTH).print(table)
    for tool in report.tools:
        if tool.total == 0:
            click.echo(f"error: no {tool.name} rules found: coverage cannot be checked")
        if tool.unmapped:
            click.echo(_wrap(f"unmapped {tool.name}: ", ", ".join(tool.unmapped)))
    if report.unmapped_controls:
        click.echo(
            _wrap(
                "note: automated/partial controls without a mapping rule (not assessed): ",
                ", ".join(report.unmapped_controls),
            )
        )
    verdict = "complete" if report.complete else "INCOMPLETE"
    click.echo(f"coverage {verdict}: every rule needs at least one SOC 2 and one ISO control")


def _coverage_dict(report: CoverageReport) -> dict[str, Any]:
    return {
        "complete": report.complete,
        "tools": [
            {
                "name": t.name,
                "source": t.source,
                "total": t.total,
                "soc2": t.soc2,
                "iso27001": t.iso27001,
                "unmapped": list(t.unmapped),
            }
            for t in report.tools
        ],
        "unmapped_controls": list(report.unmapped_controls),
    }


def _control_dict(c: Control, rules: tuple[MappingRule, ...]) -> dict[str, Any]:
    return {
        "framework": c.framework.value,
        "id": c.id,
        "title": c.title,
        "automation": c.automation.value,
        "evidence": c.evidence,
        "rules": [r.id for r in rules],
    }


def _without_rules(control: Control) -> str:
    match control.automation:
        case Automation.MANUAL:
            return "manual control; a person supplies the evidence above."
        case Automation.AUTOMATED | Automation.PARTIAL:
            return "no scan result bears on it yet, so every scan reports it as not assessed."
        case _ as unreachable:
            assert_never(unreachable)


def _wrap(label: str, text: str) -> str:
    return textwrap.fill(
        text, width=WIDTH, initial_indent=label, subsequent_indent=" " * len(label)
    )
