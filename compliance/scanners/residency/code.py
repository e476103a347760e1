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

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import ScannerFailure
from compliance.model import Skip
from compliance.residency.endpoints import ENDPOINT_HINTS, endpoint_location
from compliance.residency.placement import Placement, Resolved, Role
from compliance.residency.regions import Provider, RegionTables
from compliance.scanners.process import (
    Completed,
    ProcessRunner,
    arg_cost,
    argv_budget,
    describe_exit,
    find_executable,
)
from compliance.scanners.source import SnippetReader

NAME = "residency"
SEMGREP = "semgrep"
OFFLINE_FLAGS = ("--metrics=off", "--disable-version-check", "--disable-nosem")
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
    base = [exe, "scan", "--config", str(rules), "--json", *OFFLINE_FLAGS, "--quiet"]
    base += ["--jobs", str(max(1, jobs))]
    placements: list[Placement] = []
    skipped: list[Skip] = []
    commands: list[tuple[str, ...]] = []
    raws: list[bytes] = []
    version: str | None = None
    for chunk in _chunks(files, argv_budget() - sum(arg_cost(a) for a in base)):
        done = proc.run([*base, "--", *chunk], tool=NAME, timeout_s=timeout_s, cwd=root)
        parsed = parse_code_output(_checked(done), root, tables)
        placements += parsed.placements
        skipped += parsed.skipped
        version = version or parsed.version
        commands.append((*base, f"<{len(chunk)} Python files that use a cloud SDK>"))
        raws.append(done.stdout)
    return CodeRun(tuple(placements), tuple(skipped), version, tuple(commands), tuple(raws))


def _chunks(files: Sequence[str], budget: int) -> list[list[str]]:
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
    if not done.stdout.strip():
        raise ScannerFailure(
            f"residency: semgrep printed nothing ({describe_exit(done.returncode)}): "
            f"{done.stderr_tail() or 'no error output'}"
        )
    if done.returncode not in (0, 1):
        raise ScannerFailure(
            f"residency: semgrep failed ({describe_exit(done.returncode)}): "
            f"{done.stderr_tail() or 'no detail'}"
        )
    return done.stdout


@dataclass(frozen=True, slots=True)
class ParsedCode:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]
    version: str | None


def parse_code_output(stdout: bytes, root: Path, tables: RegionTables) -> ParsedCode:
    """Parse `semgrep --json` of our residency rules. Pure but for reading matched lines."""
    try:
        data = json.loads(stdout)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScannerFailure(f"residency: semgrep printed output that is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ScannerFailure("residency: semgrep printed JSON without a 'results' list")
    skipped: list[Skip] = []
    for error in data.get("errors") or []:
        if not isinstance(error, dict):
            raise ScannerFailure("residency: semgrep printed an error entry that is not an object")
        level = str(error.get("level", "error")).lower()
        path = error.get("path")
        message = str(error.get("message") or error.get("type") or "unknown error").strip()
        if level == "error" or not path:
            raise ScannerFailure(f"residency: semgrep reported an error: {message[:400]}")
        skipped.append(Skip(str(path), f"semgrep could not analyse it: {message[:200]}", NAME))
    reader = SnippetReader(root)
    placements = [p for item in data["results"] if (p := _placement(item, reader, tables))]
    version = data.get("version")
    return ParsedCode(tuple(placements), tuple(skipped), str(version) if version else None)


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
