"""pip-audit: known vulnerabilities in the Python dependencies a repository pins.

Oddities this adapter owns:
- pip-audit resolves dependencies by installing them, which a scanner must not do. We parse
  every dependency file ourselves (sources.py), audit only exact pins, and report each
  range, URL, VCS or path requirement as "not audited" rather than guessing a version.
- pip-audit gives no severity. Ours comes from the advisory's CVSS v3 vector, else its
  GHSA rating, else HIGH (fail closed).
- The audit runs in a worker process (worker.py) through ProcessRunner, so a hang is
  killed by the timeout; the worker uses pip-audit's library, over a local OSV folder
  (--advisory-db) or OSV online. A dependency it could not audit fails the scanner:
  "could not ask" is never reported as "no vulnerabilities".
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from compliance.errors import ScannerFailure
from compliance.inventory import MAX_FILE_BYTES
from compliance.model import Skip
from compliance.scanners.cache import cache_key
from compliance.scanners.interface import NothingToScan, ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.keys import FileDigests, code_digest, folder_digest
from compliance.scanners.pip_audit.findings import TOOL, build_findings, check_report
from compliance.scanners.pip_audit.protocol import (
    RequestedDependency,
    WorkerReport,
    WorkerRequest,
)
from compliance.scanners.pip_audit.sources import (
    Pinned,
    Reader,
    Requirement,
    SourceError,
    dedupe,
    file_kind,
    locked_folders,
    parse_dependency_file,
    superseded_by_lock,
)
from compliance.scanners.process import ProcessRunner, describe_exit

WORKER_MODULE = "compliance.scanners.pip_audit.worker"
#: Per-request HTTP timeout of the online OSV service, in seconds.
ONLINE_REQUEST_TIMEOUT_S = 30.0


def pip_audit_version() -> str:
    """pip-audit's version; ScannerFailure if it is not importable here."""
    try:
        found = importlib.util.find_spec("pip_audit") is not None
        version = importlib.metadata.version("pip-audit")
    except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
        found = False
    if not found:
        raise ScannerFailure(
            "pip-audit is not installed in this environment", hint="pip install pip-audit"
        )
    return version


@dataclass(frozen=True, slots=True)
class Collected:
    requirements: tuple[Requirement, ...]
    skipped: tuple[Skip, ...]
    parsed: tuple[str, ...]


class UnreadableFile(Exception):
    """A dependency file that cannot be read (its message says why)."""


def read_text(root: Path, rel: str) -> str:
    """A dependency file's text, only from inside `root`; UnreadableFile says why not."""
    base = root.resolve()
    try:
        path = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise UnreadableFile(f"cannot open: {getattr(exc, 'strerror', None) or exc}") from None
    if not path.is_relative_to(base):
        raise UnreadableFile("resolves outside the repository: not read")
    if not path.is_file():
        raise UnreadableFile("not a regular file")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableFile(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("not UTF-8 text") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None


def _reader(root: Path) -> Reader:
    def read(rel: str) -> str | None:
        try:
            return read_text(root, rel)
        except UnreadableFile:
            return None

    return read


def collect_requirements(
    root: Path, files: tuple[str, ...], *, other_files: tuple[str, ...] = ()
) -> Collected:
    """Parse every dependency file. Locks go first: a folder whose lock parsed (or, in
    changed-files mode, holds a lock among `other_files` that was not asked for) has its
    pyproject.toml left out, because the lock speaks for it."""
    read = _reader(root)
    ordered = sorted(files, key=lambda f: (not _is_lock(f), f))
    unparsed_locks: set[str] = set()
    found: list[Requirement] = []
    skipped: list[Skip] = []
    parsed: list[str] = []
    for rel in ordered:
        if not _is_lock(rel):
            lock_paths = {*parsed, *other_files} - unparsed_locks
            if superseded_by_lock(rel, locked_folders(p for p in lock_paths if _is_lock(p))):
                continue
        try:
            source = parse_dependency_file(rel, read_text(root, rel), read)
        except (UnreadableFile, SourceError) as exc:
            reason = exc.message if isinstance(exc, SourceError) else str(exc)
            skipped.append(Skip(rel, reason, tool=TOOL))
            unparsed_locks.add(rel)
            continue
        parsed.append(rel)
        found += source.requirements
        skipped += [
            Skip(i.file, f"line {i.line}: {i.message}" if i.line else i.message, tool=TOOL)
            for i in source.issues
        ]
    # An include read from two files reports its problems once.
    return Collected(dedupe(found), tuple(dict.fromkeys(skipped)), tuple(parsed))


def _is_lock(rel: str) -> bool:
    kind = file_kind(rel)
    return kind is not None and kind.is_lock


class PipAuditScanner:
    name = TOOL
    description = "Known vulnerabilities in pinned Python dependencies (pip-audit, OSV)"

    def __init__(self, *, osv_url: str | None = None) -> None:
        #: Online mode only: another OSV endpoint (a mirror; tests use a local server).
        self.osv_url = osv_url

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        return pip_audit_version()

    def cache_key(self, ctx: ScanContext) -> str | None:
        """Offline audits only: an online answer changes as advisories are published."""
        database = ctx.settings.advisory_db
        if database is None or not database.is_dir():
            return None
        try:
            version = pip_audit_version()
        except ScannerFailure:
            return None
        digests = ctx.digests or FileDigests(ctx.root)
        every = (ctx.repo_inventory or ctx.inventory).dependency_files
        return cache_key(
            code_digest(),
            TOOL,
            version,
            folder_digest(database),
            digests.key(ctx.inventory.dependency_files),
            *every,
        )

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        files = ctx.inventory.dependency_files
        if not files:
            raise NothingToScan("no dependency files (requirements*.txt, pyproject.toml, locks)")
        version = pip_audit_version()
        database = ctx.settings.advisory_db
        if database is not None and not database.is_dir():
            raise ScannerFailure(
                f"pip-audit: advisory database {database} is not a folder",
                hint="point --advisory-db at a checkout of the PyPA advisory database "
                "or an extracted OSV PyPI export",
            )
        collected = collect_requirements(ctx.root, files, other_files=ctx.inventory.all_files)
        if not collected.parsed and collected.skipped:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in collected.skipped[:5])
            raise ScannerFailure(f"pip-audit: no dependency file could be parsed ({reasons})")
        pinned = [r for r in collected.requirements if isinstance(r, Pinned)]
        pins = sorted({(str(r.name), r.version) for r in pinned})
        if not collected.requirements and not collected.skipped:
            raise NothingToScan("the dependency files declare no third-party dependencies")
        report: WorkerReport | None = None
        commands: tuple[tuple[str, ...], ...] = ()
        raw: tuple[bytes, ...] = ()
        if pins:
            report, stdout = self._audit(ctx, proc, pins)
            check_report(report, pins)
            commands = ((sys.executable, "-m", WORKER_MODULE, "REQUEST.json"),)
            raw = (stdout,)
        return ScannerOutput(
            findings=build_findings(collected.requirements, report),
            version=version,
            commands=commands,
            skipped=collected.skipped,
            raw_outputs=raw,
        )

    def _audit(
        self, ctx: ScanContext, proc: ProcessRunner, pins: list[tuple[str, str]]
    ) -> tuple[WorkerReport, bytes]:
        database = ctx.settings.advisory_db
        with tempfile.TemporaryDirectory(prefix="compliance-pip-audit-") as tmp:
            request = WorkerRequest(
                dependencies=tuple(RequestedDependency(name=n, version=v) for n, v in pins),
                advisory_db=None if database is None else str(database.resolve()),
                timeout_s=min(ONLINE_REQUEST_TIMEOUT_S, ctx.settings.timeout_s),
                osv_url=self.osv_url,
                cache_dir=str(Path(tmp) / "http-cache"),
            )
            path = Path(tmp) / "request.json"
            path.write_text(request.model_dump_json(), encoding="utf-8")
            done = proc.run(
                [sys.executable, "-m", WORKER_MODULE, str(path)],
                tool=TOOL,
                timeout_s=ctx.settings.timeout_s,
            )
        if done.returncode != 0:
            raise ScannerFailure(
                f"pip-audit: the audit worker failed ({describe_exit(done.returncode)}): "
                f"{done.stderr_tail() or 'no error output'}"
            )
        return parse_report(done.stdout), done.stdout


def parse_report(stdout: bytes) -> WorkerReport:
    """The worker's JSON report; ScannerFailure if it is not one."""
    try:
        return WorkerReport.model_validate_json(stdout)
    except ValidationError as exc:
        first = exc.errors()[0]["msg"] if exc.errors() else str(exc)
        raise ScannerFailure(
            f"pip-audit: the audit worker printed output we cannot parse ({first})"
        ) from None
