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
- `# nosemgrep` / `# nosem` comments: semgrep OSS drops what they silence without a trace.
  We run it with `--disable-nosem` and apply semgrep-core's own rule (src/reporting/
  Nosemgrep.ml) ourselves, so each silenced finding is reported as suppressed, with the
  comment (see NosemIndex).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
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
    Suppression,
    SuppressionKind,
)
from compliance.scanners.cache import cache_key
from compliance.scanners.interface import (
    NothingToScan,
    ScanContext,
    ScannerOutput,
    ScanSettings,
)
from compliance.scanners.keys import FileDigests, folder_digest, tool_identity
from compliance.scanners.perfile import FileResults
from compliance.scanners.process import ProcessRunner, describe_exit, find_executable
from compliance.scanners.semgrep_run import (
    ENGINE,
    OFFLINE_FLAGS,
    parse_envelope,
    run_batches,
    scan_command,
)
from compliance.scanners.source import SnippetReader

NAME = "semgrep"
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
            [_executable(settings), *ENGINE, "--version", *OFFLINE_FLAGS], tool=NAME, timeout_s=120
        )
        text = done.stdout.decode("utf-8", errors="replace").strip()
        if done.returncode != 0 or not text:
            raise ScannerFailure(f"semgrep --version failed ({describe_exit(done.returncode)})")
        return text.splitlines()[-1].strip()

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        files = ctx.inventory.python_files
        if not files:
            raise NothingToScan("no Python files")
        # Every finding comes back, `# nosemgrep` or not: NosemIndex marks the silenced ones.
        exe = _executable(ctx.settings)
        rules = rules_dir(ctx.settings)
        base = scan_command(exe, rules, ctx.settings.jobs)
        identity, version = tool_identity(exe, NAME)
        # The key: every option but the executable (its identity is hashed) and the job
        # count (the results do not depend on it).
        options = scan_command("semgrep", rules, 1)[1:]
        cached = FileResults(
            NAME,
            cache_key(identity, folder_digest(rules), *options),
            ctx.cache,
            ctx.cache_reads,
            ctx.digests or FileDigests(ctx.root),
        )
        todo = cached.lookup(files)
        raws: list[bytes] = []
        if todo:
            batches = run_batches(
                proc,
                base,
                todo,
                tool=NAME,
                timeout_s=ctx.settings.timeout_s,
                cwd=ctx.root,
                detail_from_json=True,
            )
            for batch in batches:
                envelope = parse_envelope(batch.stdout)  # a run-wide error fails here
                version = version or envelope.version
                cached.add_document(json.loads(batch.stdout), batch.names, _path_of)
                raws.append(batch.stdout)
        elif version is None:
            version = self.version(proc, ctx.settings)
        # Cached and fresh slices are parsed together, as one run's output would be.
        parsed = parse_semgrep_output(cached.document(files, version=version), ctx.root)
        return ScannerOutput(
            findings=parsed.findings,
            version=parsed.version,
            commands=((*base, f"<{len(files)} Python files>"),),
            skipped=parsed.skipped,
            raw_outputs=tuple(raws),
        )


def _path_of(item: Any) -> str | None:
    path = item.get("path") if isinstance(item, dict) else None
    return path.removeprefix("./") if isinstance(path, str) else None


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


@dataclass(frozen=True, slots=True)
class ParsedSemgrep:
    findings: tuple[RawFinding, ...]
    skipped: tuple[Skip, ...]
    version: str | None


def parse_semgrep_output(stdout: bytes, root: Path) -> ParsedSemgrep:
    """Parse `semgrep --json`. A shape we do not understand is a failure, never a pass."""
    envelope = parse_envelope(stdout)
    skipped = tuple(
        Skip(e.path, f"semgrep could not analyse it: {e.kind or e.message}", tool=NAME)
        for e in envelope.file_errors
    )
    reader = SnippetReader(root)
    nosem = NosemIndex(reader)
    findings = tuple(nosem.apply(*_finding(item, reader)) for item in envelope.results)
    return ParsedSemgrep(findings, skipped, envelope.version)


def _finding(item: Any, reader: SnippetReader) -> tuple[RawFinding, str]:
    """The finding and semgrep's full rule id (`policies.semgrep.rule-id`)."""
    if not isinstance(item, dict):
        raise ScannerFailure("semgrep result is not an object")
    try:
        check_id = str(item["check_id"])
        path = str(item["path"]).removeprefix("./")
        start = int(item["start"]["line"])
        end = int(item["end"]["line"])
        extra = item.get("extra") or {}
        if not isinstance(extra, dict):
            raise ScannerFailure("semgrep result's 'extra' is not an object")
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
    finding = RawFinding(
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
    return finding, check_id


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


#: semgrep-core's patterns (src/reporting/Nosemgrep.ml), with PCRE's caseless ASCII matching.
#: `ids` takes the rest of the line: each comma-separated part's first word is a rule id.
_RULE_IDS = r"(?:[:=]\s?(?P<ids>(?:[^,\s](?:[,\s]+)?)+))?"
#: Anywhere on the finding's first line, even inside a string; the space is required.
_NOSEM_INLINE = re.compile(r" (?P<kw>nosem(?:grep)?)" + _RULE_IDS, re.IGNORECASE | re.ASCII)
#: Alone on the line before it: no letter or digit ahead of it.
_NOSEM_PREVIOUS_LINE = re.compile(
    r"^[^a-zA-Z0-9]* *(?P<kw>nosem(?:grep)?)" + _RULE_IDS, re.IGNORECASE | re.ASCII
)
#: semgrep's Rule_ID.validate: an id that fails it silences nothing.
_VALID_RULE_ID = re.compile(r"[a-zA-Z0-9._-]*", re.ASCII)


@dataclass(frozen=True, slots=True)
class _Nosem:
    """One `nosemgrep` occurrence: where, as written, the ids it lists (None: every rule)."""

    line: int
    directive: str
    ids: tuple[str, ...] | None
    reason: str

    def silences(self, check_id: str) -> bool:
        """Rule_ID.ends_with: the full id, or a suffix of it that starts after a dot."""
        return any(
            _VALID_RULE_ID.fullmatch(i) is not None
            and (check_id == i or check_id.endswith("." + i))
            for i in self.ids or ()
        )

    def justification(self) -> str:
        text = f"`{self.directive}` on line {self.line} (semgrep inline suppression)"
        return f"{text}: {self.reason}" if self.reason else text


class NosemIndex:
    """Marks the findings a `# nosemgrep` comment silences, as semgrep-core decides it.

    semgrep looks at two lines: the finding's first line (` nosem` anywhere, after a space)
    and the line before it (only when nothing alphanumeric precedes the comment). A bare
    comment silences every rule. With ids (`: a, b` or `=a`), only a rule whose full id
    equals one, or ends with "." plus one, is silenced, case-sensitively; when the two lines
    hold both bare and listed comments, only the listed ids count. Text after the first word
    of each id is free text, reported as the reason.
    """

    def __init__(self, reader: SnippetReader) -> None:
        self._reader = reader

    def apply(self, finding: RawFinding, check_id: str) -> RawFinding:
        """The finding, marked suppressed when a nosemgrep comment silences `check_id`."""
        start = finding.location.start_line
        lines = self._reader.lines(finding.location.path)
        if not lines or start is None or not 1 <= start <= len(lines):
            return finding
        found = _nosems(_NOSEM_INLINE, lines[start - 1], start)
        if start >= 2:
            found += _nosems(_NOSEM_PREVIOUS_LINE, lines[start - 2], start - 1)
        listed = [n for n in found if n.ids is not None]
        if listed:
            by = next((n for n in listed if n.silences(check_id)), None)
        else:
            by = found[0] if found else None
        if by is None:
            return finding
        suppression = Suppression(SuppressionKind.INLINE, by.justification())
        return replace(finding, suppression=suppression)


def _nosems(pattern: re.Pattern[str], text: str, line: int) -> list[_Nosem]:
    if "nosem" not in text.lower():
        return []
    return [_nosem(match, text, line) for match in pattern.finditer(text)]


def _nosem(match: re.Match[str], text: str, line: int) -> _Nosem:
    # semgrep does not look for a comment marker: " nosem" inside a string counts too (and
    # then what follows it is code, not a reason).
    comment = text[: match.start("kw")].rstrip().endswith("#")
    marker = "# " if comment else ""
    raw_ids = match.group("ids")
    if raw_ids is None:
        # Bare: what follows is the reason ("- reviewed"); a word run on ("nosemaphore")
        # is quoted whole.
        word = re.match(r"\w*", text[match.end("kw") :], re.ASCII)
        tail = word.group(0) if word else ""
        rest = text[match.end("kw") + len(tail) :] if comment else ""
        reason = rest.strip().lstrip("-:;,=").strip()
        return _Nosem(line, f"{marker}{match.group('kw')}{tail}", None, reason)
    ids: list[str] = []
    free: list[str] = []
    for part in raw_ids.split(","):
        first, _, rest = part.strip(" ").partition(" ")
        ids.append(first.strip('"'))
        free.append(rest.strip())
    listed = ", ".join(i for i in ids if i)
    reason = " ".join(" ".join(free).split())
    return _Nosem(line, f"{marker}{match.group('kw')}: {listed}", tuple(ids), reason)
