"""`compliance threatmodel init|check|render|review`: per-service threat models.

Exit codes: 0 done (check: every service has a current, reviewed model with no open high
risk), 1 check failed, 2 usage (unknown service, a model whose facts are out of date for a
review), 3 invalid model or library file (naming the file and the key).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from compliance.cli import clock
from compliance.cli.output import write_atomic
from compliance.config import bundled_controls_dir
from compliance.errors import ComplianceError, ExitCode, UsageError
from compliance.policy.catalogue import load_catalogue
from compliance.prepare import prepare
from compliance.threatmodel.check import Failure
from compliance.threatmodel.render import FORMATS, render
from compliance.threatmodel.workflow import (
    Planned,
    Workspace,
    build_views,
    evaluate,
    open_workspace,
    plan_init,
    plan_review,
)

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="Config file."
)


@click.group()
def threatmodel() -> None:
    """Threat models per service: generated from the code and infrastructure, reviewed in
    the repository (threatmodels/<service>.yaml), checked in CI."""


@threatmodel.command("init")
@click.argument("service", required=False)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@_CONFIG
def init(service: str | None, path: Path | None, config_path: Path | None) -> None:
    """Write or update threatmodels/SERVICE.yaml (every service without SERVICE) in the
    repository at PATH: the detected facts and the applicable STRIDE threats as a checklist.

    Re-running it adds new facts and threats and keeps what people wrote (statuses, owners,
    expiries, notes, evidence, manual facts, the review). A single argument that is a folder
    and not a service name is the PATH.
    """
    name, root = _target(service, path)
    workspace = _open(root, config_path)
    planned = plan_init(workspace, name, clock.utc_now().date())
    for item in planned:
        _write(item)
        click.echo(_describe(item), err=True)
    if not planned:
        click.echo("threat models are up to date: nothing to write", err=True)


@threatmodel.command("check")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_CONFIG
def check(path: Path, fmt: str, config_path: Path | None) -> None:
    """Check every service's threat model: present, reviewed within the allowed age, facts
    unchanged since the review, no high-risk threat open or accepted without an owner and an
    expiry, no model for a service that is gone. Exit 1 when any check fails."""
    workspace = _open(path, config_path)
    today = clock.utc_now().date()
    failures = evaluate(workspace, today)
    if fmt == "json":
        click.echo(json.dumps(_as_data(workspace, failures), indent=2))
    else:
        _print(workspace, failures)
    if failures:
        services = len({f.service for f in failures})
        click.echo(f"{len(failures)} check(s) failed for {services} service(s)", err=True)
        raise click.exceptions.Exit(int(ExitCode.GATE_FAILED))
    click.echo(
        f"all {len(workspace.services)} service(s) have current, reviewed threat models", err=True
    )


@threatmodel.command("render")
@click.argument("service", required=False)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE.")
@_CONFIG
def render_command(
    service: str | None,
    path: Path | None,
    fmt: str,
    output: Path | None,
    config_path: Path | None,
) -> None:
    """Render the checklist of SERVICE (every service without it), with its facts and a
    data-flow diagram (Mermaid in Markdown, inline SVG in HTML), grouped by STRIDE category.
    A service without a model file shows the draft `init` would write."""
    name, root = _target(service, path)
    workspace = _open(root, config_path)
    text = render(build_views(workspace, name, clock.utc_now().date()), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    click.echo(f"wrote {output}", err=True)


@threatmodel.command("review")
@click.argument("service")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--reviewer", required=True, help="Who reviewed the model (name or e-mail).")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day of the review [default: today].",
)
@_CONFIG
def review(
    service: str, path: Path, reviewer: str, on: datetime | None, config_path: Path | None
) -> None:
    """Record that SERVICE's threat model was reviewed: the reviewer, the date and the
    fingerprint of the facts it describes (refused while the file's facts are out of date)."""
    day = on.date() if on is not None else clock.utc_now().date()
    if not reviewer.strip():
        raise UsageError("--reviewer must name who reviewed the model")
    workspace = _open(path, config_path)
    planned = plan_review(workspace, service, reviewer.strip(), day)
    _write(planned)
    click.echo(f"recorded the review of {service} by {reviewer.strip()} on {day}", err=True)


def _open(root: Path, config_path: Path | None) -> Workspace:
    prepared = prepare(root, config_path)
    return open_workspace(
        prepared.root,
        prepared.config,
        prepared.inventory,
        prepared.services,
        config_file=prepared.config_file,
        catalogue=load_catalogue(bundled_controls_dir()),
    )


def _target(first: str | None, second: Path | None) -> tuple[str | None, Path]:
    """`[SERVICE] [PATH]`: one argument naming a folder (and no service of the repository in
    the current folder) is the PATH."""
    if second is not None or first is None:
        return first, second or Path()
    candidate = Path(first)
    if not candidate.is_dir():
        return first, Path()
    if "/" in first or first in (".", ".."):
        return None, candidate
    try:
        names = {s.name for s in prepare(Path()).services}
    except ComplianceError:
        names = set()
    return (first, Path()) if first in names else (None, candidate)


def _write(item: Planned) -> None:
    item.path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(item.path, item.text)


def _describe(item: Planned) -> str:
    merged = item.merged
    if merged is None:
        return f"wrote {item.display}"
    model = merged.model
    if item.created:
        return (
            f"created {item.display}: {len(model.facts)} facts, {len(model.threats)} threats "
            "to review (all open)"
        )
    parts = []
    for label, ids in (
        ("new facts", merged.new_facts),
        ("facts gone", merged.gone_facts),
        ("new threats", merged.new_threats),
        ("threats dropped", merged.dropped_threats),
        ("threats kept though no longer indicated", merged.orphaned_threats),
    ):
        if ids:
            parts.append(
                f"{len(ids)} {label} ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})"
            )
    return f"updated {item.display}: " + ("; ".join(parts) or "refreshed facts and threats")


def _print(workspace: Workspace, failures: tuple[Failure, ...]) -> None:
    failing = {f.service for f in failures}
    for service in workspace.services:
        if service.name not in failing:
            loaded = workspace.models.models[service.name]
            click.echo(
                f"ok    {service.name}: {loaded.display}, reviewed by "
                f"{loaded.model.review.reviewer} on {loaded.model.review.reviewed_on}"
            )
    for failure in failures:
        where = f"{failure.path}:{failure.line}" if failure.line else failure.path
        click.echo(f"FAIL  {failure.service} [{failure.severity.value}] {failure.title}")
        click.echo(f"      {where}: {failure.message}")


def _as_data(workspace: Workspace, failures: tuple[Failure, ...]) -> dict[str, object]:
    return {
        "services": [
            {
                "name": s.name,
                "model": workspace.models.display_for(s.name)
                if s.name in workspace.models.models
                else None,
                "passed": not any(f.service == s.name for f in failures),
            }
            for s in workspace.services
        ],
        "failures": [
            {
                "service": f.service,
                "check": f.check.rule_id,
                "kind": f.check.kind.value,
                "severity": f.severity.value,
                "path": f.path,
                "line": f.line,
                "threat": f.threat.id if f.threat is not None else None,
                "title": f.title,
                "message": f.message,
            }
            for f in failures
        ],
    }
