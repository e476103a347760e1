"""Application code: SDK clients and endpoints with region literals, found by semgrep with our
residency rule pack (policies/residency/semgrep/), run like the semgrep scanner runs: offline
(`--metrics=off --disable-version-check`), files passed explicitly, `--disable-nosem` (a
`# nosemgrep` aimed at the semgrep scanner must not hide where data goes: residency has its
own exceptions).

Only Python files that mention a cloud SDK or endpoint are handed to semgrep, so a repository
without any costs nothing. Each rule focuses on the literal and prints it as its message
(semgrep OSS does not print metavariables), so the region is read from the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import ScannerFailure
from compliance.model import Skip
from compliance.residency.endpoints import ENDPOINT_HINTS, endpoint_location
from compliance.residency.placement import Placement, Resolved, Role
from compliance.residency.regions import Provider, RegionTables
from compliance.scanners.process import ProcessRunner, find_executable
from compliance.scanners.semgrep_run import Batch, parse_envelope, run_batches, scan_command
from compliance.scanners.source import SnippetReader

NAME = "residency"
SEMGREP = "semgrep"
#: Starts every message about semgrep's run.
_PREFIX = f"{NAME}: "
#: A Python file without one of these cannot create a cloud client or name an endpoint.
MARKERS = tuple(
    m.encode()
    for m in ("boto3", "botocore", "aioboto3", "google.cloud", "vertexai", "azure", *ENDPOINT_HINTS)
)
_ENDPOINT_RULE = "cloud-endpoint"


def candidate_files(root: Path, python_files: Sequence[str]) -> list[str]:
    """The Python files that mention a cloud SDK or endpoint."""
    out = []
    for rel in python_files:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if any(marker in data for marker in MARKERS):
            out.append(rel)
    return out


def rules_dir(policy_dir: Path | None) -> Path:
    if policy_dir is None:
        raise ScannerFailure("residency: no policy folder configured")
    rules = policy_dir / "residency" / "semgrep"
    if not rules.is_dir() or not any(rules.glob("*.y*ml")):
        raise ScannerFailure(f"residency: no semgrep rules found in {rules}")
    return rules


def semgrep_executable(executables: dict[str, str]) -> str:
    exe = find_executable(SEMGREP, executables.get(SEMGREP))
    if exe is None:
        raise ScannerFailure(
            "residency: semgrep is not installed (needed for the code checks)",
            hint="pip install semgrep",
        )
    return exe


@dataclass(frozen=True, slots=True)
class CodeRun:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]
    version: str | None
    commands: tuple[tuple[str, ...], ...]
    raw_outputs: tuple[bytes, ...]


def run_code_rules(
    root: Path,
    files: Sequence[str],
    *,
    proc: ProcessRunner,
    exe: str,
    rules: Path,
    jobs: int,
    timeout_s: float,
    tables: RegionTables,
) -> CodeRun:
    base = scan_command(exe, rules, jobs)
    batches = run_batches(
        proc, base, files, tool=NAME, timeout_s=timeout_s, cwd=root, prefix=_PREFIX
    )
    return parse_batches(batches, root, tables, base)


def parse_batches(
    batches: Iterable[Batch], root: Path, tables: RegionTables, base: Sequence[str]
) -> CodeRun:
    """The placements of semgrep's runs."""
    placements: list[Placement] = []
    skipped: list[Skip] = []
    commands: list[tuple[str, ...]] = []
    raws: list[bytes] = []
    version: str | None = None
    for batch in batches:
        parsed = parse_code_output(batch.stdout, root, tables)
        placements += parsed.placements
        skipped += parsed.skipped
        version = version or parsed.version
        commands.append((*base, f"<{batch.files} Python files that use a cloud SDK>"))
        raws.append(batch.stdout)
    return CodeRun(tuple(placements), tuple(skipped), version, tuple(commands), tuple(raws))


@dataclass(frozen=True, slots=True)
class ParsedCode:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]
    version: str | None


def parse_code_output(stdout: bytes, root: Path, tables: RegionTables) -> ParsedCode:
    """Parse `semgrep --json` of our residency rules. Pure but for reading matched lines."""
    envelope = parse_envelope(stdout, prefix=_PREFIX)
    skipped = tuple(
        Skip(e.path, f"semgrep could not analyse it: {e.message.strip()[:200]}", NAME)
        for e in envelope.file_errors
    )
    reader = SnippetReader(root)
    placements = [p for item in envelope.results if (p := _placement(item, reader, tables))]
    return ParsedCode(tuple(placements), skipped, envelope.version)


def _placement(item: Any, reader: SnippetReader, tables: RegionTables) -> Placement | None:
    if not isinstance(item, dict):
        raise ScannerFailure("residency: semgrep result is not an object")
    try:
        rule = str(item["check_id"]).rsplit(".", 1)[-1]
        path = str(item["path"]).removeprefix("./")
        line = int(item["start"]["line"])
        extra = item.get("extra") or {}
        value = str(extra["message"]).strip()
    except (KeyError, TypeError, ValueError) as exc:
        raise ScannerFailure(f"residency: semgrep result lacks a usable field: {exc}") from None
    raw_metadata = extra.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    source = str(metadata.get("source") or rule)
    snippet = reader.read(path, line, line)
    if rule == _ENDPOINT_RULE:
        found = endpoint_location(value, tables)
        if found is None:
            return None  # a global endpoint, or no region in the host
        return Placement(
            address=f"endpoint {value}",
            role=Role.CLIENT,
            provider=found.provider,
            region=Resolved(found.id, f"{source}: {value}"),
            path=path,
            line=line,
            note="the code talks to this regional endpoint",
            snippet=snippet,
        )
    try:
        provider = Provider(str(metadata.get("provider")))
    except ValueError:
        raise ScannerFailure(f"residency: rule {rule} names no provider in its metadata") from None
    return Placement(
        address=f"{rule} {value}",
        role=Role.CLIENT,
        provider=provider,
        region=Resolved(value, source),
        path=path,
        line=line,
        note="the client stores or sends data in this region",
        snippet=snippet,
    )
