"""The human summary: counts per service and severity, the worst findings, how scanners ran.

Everything that came from the scanned repository (paths, messages, snippets) is shown as
plain text with control characters escaped, so a hostile file name cannot drive the terminal.
"""

from __future__ import annotations

import io
import re
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from compliance.model import (
    ControlStatus,
    GateMode,
    ScannerStatus,
    ScanResult,
    Severity,
    WaiverState,
)
from compliance.reporting.interface import RenderOptions

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

# C0 but tab (a newline would start a line a hostile file name writes), DEL, C1, and the
# bidi marks and overrides of "Trojan Source".
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_STATUS_STYLE = {
    ScannerStatus.OK: "green",
    ScannerStatus.ERROR: "bold red",
    ScannerStatus.SKIPPED: "dim",
}
MAX_SKIPPED_SHOWN = 10


def safe(text: str) -> str:
    """Escape control characters (ANSI sequences, newlines, bidi overrides) in untrusted text."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _plain(text: str | None, style: str = "") -> Text:
    return Text(safe(text or ""), style=style)


class TerminalRenderer:
    name = "terminal"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            force_terminal=options.color,
            no_color=not options.color,
            color_system="standard" if options.color else None,
            width=options.width,
            highlight=False,
            emoji=False,
        )
        console.print(_plain(f"compliance {result.tool.version}: scan of {result.root}", "bold"))
        if result.scope is not None:
            files = len(result.scope.files)
            console.print(
                _plain(
                    f"Changed files only: {files} file(s) from {result.scope.source}; "
                    "the full scan in CI covers the rest",
                    "bold",
                )
            )
        console.print(_scanners_table(result))
        for run in result.scanner_errors:
            console.print(_plain(f"error: scanner {run.name} failed: {run.error}", "bold red"))
        console.print(_counts_table(result))
        if result.findings:
            _findings_list(console, result, options.max_findings, options.width)
        if result.skipped:
            console.print(_plain(f"Skipped {len(result.skipped)} item(s):", "bold"))
            for skip in result.skipped[:MAX_SKIPPED_SHOWN]:
                tool = f" [{skip.tool}]" if skip.tool else ""
                console.print(_plain(f"  {skip.path}{tool}: {skip.reason}"))
            if len(result.skipped) > MAX_SKIPPED_SHOWN:
                rest = len(result.skipped) - MAX_SKIPPED_SHOWN
                console.print(_plain(f"  … and {rest} more (see --format json)", "dim"))
        for line in _controls_lines(result):
            console.print(line)
        for line in _suppression_lines(result):
            console.print(line)
        for line in _verdict(result):
            console.print(line)
        return buffer.getvalue()


def _scanners_table(result: ScanResult) -> Table:
    table = Table(title="Scanners", title_justify="left", show_edge=False)
    for column in ("scanner", "status", "version", "time", "findings"):
        table.add_column(column, justify="right" if column in ("time", "findings") else "left")
    for run in result.scanners:
        table.add_row(
            run.name,
            Text(run.status.value, style=_STATUS_STYLE[run.status]),
            _plain(run.version or "-"),
            f"{run.duration_s:.1f}s",
            str(run.findings) if run.status is ScannerStatus.OK else "-",
        )
    return table


def _counts_table(result: ScanResult) -> Table:
    severities = list(reversed(Severity))
    table = Table(title="Findings per service", title_justify="left", show_edge=False)
    table.add_column("service")
    table.add_column("owner")
    for severity in severities:
        table.add_column(severity.value, justify="right", style=_SEVERITY_STYLE[severity])
    table.add_column("total", justify="right")
    counts: dict[str, dict[Severity, int]] = {}
    for finding in result.findings:
        row = counts.setdefault(finding.service, {})
        row[finding.severity] = row.get(finding.severity, 0) + 1
    for service in result.services:
        row = counts.get(service.name, {})
        table.add_row(
            _plain(service.name),
            _plain(service.owner or "-"),
            *(str(row.get(s, 0)) for s in severities),
            str(sum(row.values())),
        )
    return table


def _findings_list(console: Console, result: ScanResult, limit: int, width: int) -> None:
    """Two lines per open finding: where and what, then the first line of the message.

    Suppressed findings (inline, waived, baselined) are counted below, not listed here.
    """
    open_findings = [f for f in result.findings if f.suppression is None]
    if not open_findings:
        return
    shown = open_findings[:limit]
    console.print(Text(f"Worst open findings ({len(shown)} of {len(open_findings)})", style="bold"))
    for finding in shown:
        line = f":{finding.location.start_line}" if finding.location.start_line else ""
        head = Text("  ")
        head.append(f"{finding.severity.value.upper():<8}", style=_SEVERITY_STYLE[finding.severity])
        head.append(f" {finding.tool:<9} ")
        head.append(safe(finding.rule_id), style="bold")
        head.append(f"  {safe(finding.location.path)}{line}")
        head.append(f"  [{safe(finding.service)}]", style="dim")
        console.print(head, overflow="fold")
        detail = _first_line(finding.title if finding.package else finding.message, width - 12)
        console.print(Text("           " + safe(detail), style="dim"), overflow="ellipsis")


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


_CONTROL_STYLE = {
    ControlStatus.PASSED: "green",
    ControlStatus.FAILED: "bold red",
    ControlStatus.NOT_ASSESSED: "yellow",
    ControlStatus.MANUAL: "dim",
}
_FRAMEWORK_LABEL = {"iso27001": "ISO 27001", "soc2": "SOC 2"}


def _controls_lines(result: ScanResult) -> list[Text]:
    """One line per framework: how many controls passed, failed, were not assessed, manual."""
    counts: dict[str, dict[ControlStatus, int]] = {}
    for control in result.controls:
        row = counts.setdefault(control.framework, {})
        row[control.status] = row.get(control.status, 0) + 1
    lines = []
    for framework, row in counts.items():
        line = Text(f"Controls {_FRAMEWORK_LABEL.get(framework, framework)}: ", style="bold")
        for index, status in enumerate(ControlStatus):
            line.append(", " if index else "")
            line.append(f"{row.get(status, 0)} {status.value}", style=_CONTROL_STYLE[status])
        lines.append(line)
    return lines


def _suppression_lines(result: ScanResult) -> list[Text]:
    """What did not count, and waivers an owner must act on (expired, stale)."""
    counts = result.verdict.counts
    lines = []
    parts = [f"{counts.open} open"]
    if result.baseline is not None:
        parts.append(f"{counts.new} new")
        parts.append(f"{counts.baselined or counts.unchanged} in the baseline")
    parts += [f"{counts.waived} waived", f"{counts.suppressed} suppressed inline"]
    lines.append(Text(f"Findings: {counts.total} total: " + ", ".join(parts), style="bold"))
    if result.baseline is not None and result.baseline.absent:
        lines.append(
            _plain(
                f"  {result.baseline.absent} of {result.baseline.entries} baseline entries "
                f"no longer found ({result.baseline.source}): recreate it to lock in the fixes",
                "dim",
            )
        )
    for waiver in result.waivers:
        match waiver.state:
            case WaiverState.EXPIRED:
                covered = len(waiver.findings)
                lines.append(
                    _plain(
                        f"  waiver {waiver.id} expired on {waiver.expires.isoformat()} "
                        f"(owner {waiver.owner}): {covered} finding(s) it covered count again",
                        "yellow",
                    )
                )
            case WaiverState.STALE:
                lines.append(
                    _plain(
                        f"  waiver {waiver.id} matches no finding ({waiver.scope}): remove it",
                        "dim",
                    )
                )
            case WaiverState.ACTIVE:
                pass
            case _ as unreachable:
                assert_never(unreachable)
    return lines


def _verdict(result: ScanResult) -> list[Text]:
    verdict = result.verdict
    mode = " new-only" if verdict.mode is GateMode.NEW_ONLY else ""
    if verdict.passed:
        return [Text(f"PASSED (fail-on {verdict.fail_on.value}{mode})", style="bold green")]
    lines = [Text(f"FAILED (fail-on {verdict.fail_on.value}{mode}):", style="bold red")]
    for reason in verdict.reasons:
        lines.append(_plain(f"  {reason.policy} {reason.rule}: {reason.message}", "red"))
    return lines
