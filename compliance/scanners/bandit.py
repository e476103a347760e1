"""bandit: Python code issues.

Oddities this adapter owns:
- bandit exits 1 when it finds issues; we pass `--exit-zero`, so any other non-zero exit is
  a crash.
- bandit parses with the interpreter it runs on: a file using newer syntax lands in the
  JSON's `errors` list while the exit code stays 0. Those files are reported as skipped,
  never as clean.
- bandit is single-threaded: large file lists are split into shards run side by side.
- Its `code` field carries context lines with number prefixes; we read the flagged lines
  from the file instead, so the snippet (and the fingerprint) is only the offending code.
- `# nosec` comments: bandit honours them by tokenizing every file (a fifth of its time on a
  large repository) and drops what they silence without a trace. We run it with
  `--ignore-nosec` and apply its rule ourselves (a nosec comment on the flagged line or the
  first commented line of the node's range; bare silences every test, otherwise the listed
  ids or names), so each silenced finding is reported as suppressed, with the comment.
- Its messages can quote the secret it found ("Possible hardcoded password: 'hunter2'"):
  secret findings are marked as such so they are redacted downstream.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
from compliance.scanners.keys import FileDigests, tool_identity
from compliance.scanners.perfile import FileResults
from compliance.scanners.process import (
    Completed,
    ProcessRunner,
    arg_cost,
    argv_budget,
    describe_exit,
    find_executable,
)
from compliance.scanners.source import SnippetReader

NAME = "bandit"
#: Below this many files one bandit process is faster than several (start-up costs ~0.4 s).
SHARD_MIN_FILES = 200

_SECRET_TESTS = frozenset({"B105", "B106", "B107"})
_SEVERITY = {
    "LOW": Severity.LOW,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "UNDEFINED": Severity.INFO,
}
_CONFIDENCE = {"LOW": Confidence.LOW, "MEDIUM": Confidence.MEDIUM, "HIGH": Confidence.HIGH}


class BanditScanner:
    name = NAME
    description = "Python code issues (bandit)"

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        exe = _executable(settings)
        done = proc.run([exe, "--version"], tool=NAME, timeout_s=60)
        if done.returncode != 0:
            raise ScannerFailure(f"bandit --version failed ({describe_exit(done.returncode)})")
        first = done.stdout.decode("utf-8", errors="replace").strip().splitlines()
        if not first or not first[0].startswith("bandit "):
            raise ScannerFailure("bandit --version printed something unexpected")
        return first[0].split()[1]

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        files = ctx.inventory.python_files
        if not files:
            raise NothingToScan("no Python files")
        exe = _executable(ctx.settings)
        head = [exe, "-f", "json", "-q", "--exit-zero", "--ignore-nosec"]
        identity, version = tool_identity(exe, NAME)
        cached = FileResults(
            NAME,
            cache_key(identity, *head[1:]),
            ctx.cache,
            ctx.cache_reads,
            ctx.digests or FileDigests(ctx.root),
        )
        todo = cached.lookup(files)
        shards = shard(todo, ctx.settings.jobs, root=ctx.root) if todo else []
        # bandit's JSON does not carry its version. When bandit is installed beside us, its
        # package metadata is the answer; otherwise ask it, alongside the shards.
        with ThreadPoolExecutor(max_workers=len(shards) + 1) as pool:
            version_job = None if version else pool.submit(self.version, proc, ctx.settings)
            done = list(
                pool.map(
                    lambda argv: proc.run(
                        argv, tool=NAME, timeout_s=ctx.settings.timeout_s, cwd=ctx.root
                    ),
                    [[*head, *s] for s in shards],
                )
            )
            version = version or (version_job.result() if version_job else None)
        for completed, names in zip(done, shards, strict=True):
            cached.add_document(_document(_checked(completed)), names, _path_of)
        # Cached and fresh slices are parsed together, as one run's output would be.
        parsed = parse_bandit_output(cached.document(files), ctx.root)
        return ScannerOutput(
            findings=parsed.findings,
            version=version,
            commands=((*head, f"<{len(files)} Python files>"),),
            skipped=parsed.skipped,
            raw_outputs=tuple(c.stdout for c in done),
        )


def _document(stdout: bytes) -> dict[str, Any]:
    """bandit's JSON document with its `results` and `errors` lists (ScannerFailure if not)."""
    try:
        data = json.loads(stdout)
    # ValueError: not JSON, not UTF-8, or an integer of more than 4,300 digits.
    except (ValueError, RecursionError) as exc:
        raise ScannerFailure(f"bandit printed output that is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ScannerFailure("bandit printed JSON without a 'results' list")
    if not isinstance(data.get("errors", []), list):
        raise ScannerFailure("bandit printed JSON whose 'errors' is not a list")
    return data


def _path_of(item: Any) -> str | None:
    name = item.get("filename") if isinstance(item, dict) else None
    return _relative(name) if isinstance(name, str) else None


def _executable(settings: ScanSettings) -> str:
    exe = find_executable(NAME, settings.executables.get(NAME))
    if exe is None:
        raise ScannerFailure("bandit is not installed", hint="pip install bandit")
    return exe


def _checked(done: Completed) -> bytes:
    if done.returncode != 0:
        detail = done.stderr_tail() or "no output"
        raise ScannerFailure(f"bandit crashed ({describe_exit(done.returncode)}): {detail}")
    if not done.stdout.strip():
        raise ScannerFailure("bandit exited 0 but printed nothing")
    return done.stdout


def shard(files: Sequence[str], jobs: int, *, root: Path) -> list[list[str]]:
    """Split files into balanced shards by size (largest first, onto the lightest shard)."""
    count = max(1, jobs) if len(files) >= SHARD_MIN_FILES else 1
    total = sum(arg_cost(f) for f in files)
    count = max(count, -(-total // argv_budget()))
    sizes = {f: _size(root / f) for f in files}
    buckets: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for name in sorted(files, key=lambda f: (-sizes[f], f)):
        lightest = loads.index(min(loads))
        buckets[lightest].append(name)
        loads[lightest] += sizes[name] + 1
    return [sorted(b) for b in buckets if b]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass(frozen=True, slots=True)
class ParsedBandit:
    findings: tuple[RawFinding, ...]
    skipped: tuple[Skip, ...]


def parse_bandit_output(stdout: bytes, root: Path) -> ParsedBandit:
    """Parse bandit's JSON. Unexpected shapes are a ScannerFailure, never an empty result."""
    data = _document(stdout)
    errors = data.get("errors", [])
    reader = SnippetReader(root)
    nosec = NosecIndex(reader)
    findings = [nosec.apply(_finding(item, reader), item) for item in data["results"]]
    skipped = [
        Skip(
            _relative(str(e.get("filename", "?"))),
            f"bandit could not parse it: {e.get('reason', 'unknown error')}",
            tool=NAME,
        )
        for e in errors
        if isinstance(e, dict)
    ]
    return ParsedBandit(tuple(findings), tuple(skipped))


def _finding(item: Any, reader: SnippetReader) -> RawFinding:
    if not isinstance(item, dict):
        raise ScannerFailure("bandit result is not an object")
    try:
        test_id = str(item["test_id"])
        path = _relative(str(item["filename"]))
        line = int(item["line_number"])
        line_range = [int(n) for n in item.get("line_range") or [line]]
        severity = _SEVERITY[str(item["issue_severity"]).upper()]
        text = str(item["issue_text"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ScannerFailure(f"bandit result lacks a usable field: {exc}") from None
    cwe_info = item.get("issue_cwe")
    cwe: tuple[str, ...] = ()
    if isinstance(cwe_info, dict) and isinstance(cwe_info.get("id"), int) and cwe_info["id"] > 0:
        cwe = (f"CWE-{cwe_info['id']}",)
    start, end = min(line_range), max(line_range)
    return RawFinding(
        tool=NAME,
        rule_id=RuleId(test_id),
        title=str(item.get("test_name", test_id)).replace("_", " "),
        message=text,
        severity=severity,
        kind=FindingKind.SECRET if test_id in _SECRET_TESTS else FindingKind.CODE,
        location=Location(path, start, end),
        confidence=_CONFIDENCE.get(str(item.get("issue_confidence", "")).upper()),
        cwe=cwe,
        snippet=reader.read(path, start, end),
        help_url=str(item["more_info"]) if item.get("more_info") else None,
    )


#: bandit's own patterns (bandit/core/manager.py).
_NOSEC_COMMENT = re.compile(r"#\s*nosec:?\s*(?P<tests>[^#]+)?#?")
_NOSEC_TESTS = re.compile(r"(?:(B\d+|[a-z\d_]+),?)+", re.IGNORECASE)


class NosecIndex:
    """The `# nosec` comments of the files findings are in, found as bandit finds them."""

    def __init__(self, reader: SnippetReader) -> None:
        self._reader = reader
        self._comments: dict[str, dict[int, frozenset[str]]] = {}

    def apply(self, finding: RawFinding, item: dict[str, Any]) -> RawFinding:
        """The finding, marked suppressed when a nosec comment silences its test."""
        comments = self._file_comments(finding.location.path)
        if not comments:
            return finding
        line = int(item.get("line_number") or 0)
        line_range = [int(n) for n in item.get("line_range") or [line]]
        on_line = comments.get(line)
        in_range = next((comments[n] for n in line_range if n in comments), None)
        if on_line is None and in_range is None:
            return finding
        tests = (on_line or frozenset()) | (in_range or frozenset())
        name = str(item.get("test_name", "")).lower()
        if tests and finding.rule_id.upper() not in tests and name not in tests:
            return finding
        where = line if on_line is not None else next(n for n in line_range if n in comments)
        listed = f" {', '.join(sorted(tests))}" if tests else ""
        reason = f"`# nosec{listed}` on line {where} (bandit inline suppression)"
        return replace(finding, suppression=Suppression(SuppressionKind.INLINE, reason))

    def _file_comments(self, path: str) -> dict[int, frozenset[str]]:
        if path not in self._comments:
            self._comments[path] = self._scan(path)
        return self._comments[path]

    def _scan(self, path: str) -> dict[int, frozenset[str]]:
        lines = self._reader.lines(path)
        if not lines or not any("nosec" in line for line in lines):
            return {}
        found: dict[int, frozenset[str]] = {}
        source = io.StringIO("\n".join(lines) + "\n")
        try:
            for token in tokenize.generate_tokens(source.readline):
                if token.type == tokenize.COMMENT:
                    match = _NOSEC_COMMENT.search(token.string)
                    if match:
                        found[token.start[0]] = _nosec_tests(match.group("tests"))
        except (tokenize.TokenError, SyntaxError):
            return found
        return found


def _nosec_tests(text: str | None) -> frozenset[str]:
    """Test ids upper-cased, test names lower-cased; empty means every test."""
    if not text:
        return frozenset()
    tests = set()
    for match in _NOSEC_TESTS.finditer(text):
        for raw in match.group(0).split(","):
            part = raw.strip()
            if part:
                tests.add(part.upper() if re.fullmatch(r"[Bb]\d+", part) else part.lower())
    return frozenset(tests)


def _relative(filename: str) -> str:
    return filename.removeprefix("./")
