"""semgrep: our own Python rule pack (policies/semgrep/), run offline.

Oddities this adapter owns:
- Without `--disable-version-check` semgrep waits ~97 s for the network before any work;
  `--metrics=off` keeps it from phoning home. No registry config is ever used.
- Given a folder, semgrep silently skips tests/, build/ and .gitignored paths; we pass the
  files explicitly, so what is scanned is what the inventory says.
- Its JSON prints "requires login" where the matched lines should be: we read the lines
  from the file.
- Rule ids come back prefixed with the config folder ("policies.semgrep.rule-id"): we keep
  the last dotted part (our rule ids contain no dots).
- Per-file problems (a file that does not parse) are `errors` of level "warn" with exit 0:
  they become skipped items. Exit 2 or errors of level "error" mean the run is not trusted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import ScannerFailure
from compliance.model import (
    Confidence,
    FindingKind,
    Location,
    RawFinding,
    RuleId,
    Severity,
    Skip,
)
from compliance.scanners.interface import (
    NothingToScan,
    ScanContext,
    ScannerOutput,
    ScanSettings,
)
from compliance.scanners.process import (
    Completed,
    ProcessRunner,
    arg_cost,
    argv_budget,
    describe_exit,
    find_executable,
)
from compliance.scanners.source import SnippetReader

NAME = "semgrep"
OFFLINE_FLAGS = ("--metrics=off", "--disable-version-check")
#: semgrep's own severities, used only when a rule lacks our `metadata.severity`.
_SEMGREP_SEVERITY = {
    "ERROR": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}
_CONFIDENCE = {"LOW": Confidence.LOW, "MEDIUM": Confidence.MEDIUM, "HIGH": Confidence.HIGH}


class SemgrepScanner:
    name = NAME
    description = "Python code patterns from our own rule pack (semgrep)"

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        done = proc.run(
            [_executable(settings), "--version", *OFFLINE_FLAGS], tool=NAME, timeout_s=120
        )
        text = done.stdout.decode("utf-8", errors="replace").strip()
        if done.returncode != 0 or not text:
            raise ScannerFailure(f"semgrep --version failed ({describe_exit(done.returncode)})")
        return text.splitlines()[-1].strip()

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        files = ctx.inventory.python_files
        if not files:
            raise NothingToScan("no Python files")
        rules = rules_dir(ctx.settings)
        exe = _executable(ctx.settings)
        base = [
            exe,
            "scan",
            "--config",
            str(rules),
            "--json",
            *OFFLINE_FLAGS,
            "--quiet",
            "--jobs",
            str(max(1, ctx.settings.jobs)),
        ]
        findings: list[RawFinding] = []
        skipped: list[Skip] = []
        commands: list[tuple[str, ...]] = []
        raws: list[bytes] = []
        version: str | None = None
        for chunk in _chunks(files, argv_budget() - sum(arg_cost(a) for a in base)):
            done = proc.run(
                [*base, "--", *chunk],
                tool=NAME,
                timeout_s=ctx.settings.timeout_s,
                cwd=ctx.root,
            )
            parsed = parse_semgrep_output(_checked(done), ctx.root)
            findings.extend(parsed.findings)
            skipped.extend(parsed.skipped)
            version = version or parsed.version
            commands.append((*base, f"<{len(chunk)} of {len(files)} Python files>"))
            raws.append(done.stdout)
        return ScannerOutput(
            findings=tuple(findings),
            version=version,
            commands=tuple(commands),
            skipped=tuple(skipped),
            raw_outputs=tuple(raws),
        )


def rules_dir(settings: ScanSettings) -> Path:
    if settings.policy_dir is None:
        raise ScannerFailure("semgrep: no policy folder configured")
    rules = settings.policy_dir / "semgrep"
    if not rules.is_dir() or not any(rules.glob("*.y*ml")):
        raise ScannerFailure(f"semgrep: no rules found in {rules}")
    return rules


def _executable(settings: ScanSettings) -> str:
    exe = find_executable(NAME, settings.executables.get(NAME))
    if exe is None:
        raise ScannerFailure("semgrep is not installed", hint="pip install semgrep")
    return exe


def _chunks(files: Sequence[str], budget: int) -> list[list[str]]:
    """As few command lines as the kernel allows (each semgrep start costs about a second)."""
    chunks: list[list[str]] = [[]]
    size = 0
    for name in files:
        if chunks[-1] and size + arg_cost(name) > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(name)
        size += arg_cost(name)
    return chunks


def _checked(done: Completed) -> bytes:
    # 0: ran (findings or not); 1: findings with --error (not used). Anything else failed,
    # but semgrep still prints JSON with the reason, which parse_semgrep_output reports.
    if not done.stdout.strip():
        raise ScannerFailure(
            f"semgrep printed nothing ({describe_exit(done.returncode)}): "
            f"{done.stderr_tail() or 'no error output'}"
        )
    if done.returncode not in (0, 1):
        detail = _error_summary(done.stdout) or done.stderr_tail() or "no detail"
        raise ScannerFailure(f"semgrep failed ({describe_exit(done.returncode)}): {detail}")
    return done.stdout


def _error_summary(stdout: bytes) -> str | None:
    try:
        data = json.loads(stdout)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("message") or first.get("type") or "")[:400]
    return None


@dataclass(frozen=True, slots=True)
class ParsedSemgrep:
    findings: tuple[RawFinding, ...]
    skipped: tuple[Skip, ...]
    version: str | None


def parse_semgrep_output(stdout: bytes, root: Path) -> ParsedSemgrep:
    """Parse `semgrep --json`. A shape we do not understand is a failure, never a pass."""
    try:
        data = json.loads(stdout)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScannerFailure(f"semgrep printed output that is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ScannerFailure("semgrep printed JSON without a 'results' list")
    skipped: list[Skip] = []
    for error in data.get("errors") or []:
        if not isinstance(error, dict):
            raise ScannerFailure("semgrep printed an error entry that is not an object")
        level = str(error.get("level", "error")).lower()
        path = error.get("path")
        message = str(error.get("message") or error.get("type") or "unknown error")
        if level == "error" or not path:
            raise ScannerFailure(f"semgrep reported an error: {message.strip()[:400]}")
        kind = error.get("type")
        reason = kind[0] if isinstance(kind, list) and kind else kind
        skipped.append(
            Skip(str(path), f"semgrep could not analyse it: {reason or message}", tool=NAME)
        )
    reader = SnippetReader(root)
    findings = tuple(_finding(item, reader) for item in data["results"])
    version = data.get("version")
    return ParsedSemgrep(findings, tuple(skipped), str(version) if version else None)


def _finding(item: Any, reader: SnippetReader) -> RawFinding:
    if not isinstance(item, dict):
        raise ScannerFailure("semgrep result is not an object")
    try:
        check_id = str(item["check_id"])
        path = str(item["path"]).removeprefix("./")
        start = int(item["start"]["line"])
        end = int(item["end"]["line"])
        extra = item.get("extra") or {}
        message = str(extra.get("message", "")).strip()
    except (KeyError, TypeError, ValueError) as exc:
        raise ScannerFailure(f"semgrep result lacks a usable field: {exc}") from None
    metadata = extra.get("metadata") or {}
    if not isinstance(metadata, dict):
        metadata = {}
    rule_id = check_id.rsplit(".", 1)[-1]
    severity = _severity(metadata.get("severity"), extra.get("severity"))
    confidence = _CONFIDENCE.get(str(metadata.get("confidence", "")).upper())
    cwe = tuple(_cwe_ids(metadata.get("cwe")))
    category = str(metadata.get("category", ""))
    references = metadata.get("references")
    help_url = references[0] if isinstance(references, list) and references else None
    return RawFinding(
        tool=NAME,
        rule_id=RuleId(rule_id),
        title=rule_id.replace("-", " "),
        message=message,
        severity=severity,
        category=category or None,
        kind=FindingKind.SECRET if category == "secrets" else FindingKind.CODE,
        location=Location(path, start, end),
        confidence=confidence,
        cwe=cwe,
        snippet=reader.read(path, start, end),
        help_url=str(help_url) if help_url else None,
    )


def _severity(ours: object, semgreps: object) -> Severity:
    if isinstance(ours, str):
        try:
            return Severity.parse(ours)
        except ValueError:
            pass
    return _SEMGREP_SEVERITY.get(str(semgreps).upper(), Severity.MEDIUM)


def _cwe_ids(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    ids = []
    for item in items:
        head = str(item).split(":", 1)[0].strip().upper()
        if head.startswith("CWE-") and head[4:].isdigit():
            ids.append(head)
    return ids
