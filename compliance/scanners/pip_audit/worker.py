"""The audit worker: `python -m compliance.scanners.pip_audit.worker REQUEST.json`.

Runs in its own process (started by the adapter through ProcessRunner, so a hang is killed
by the timeout and a crash is a scanner error). It audits the requested pins with
pip-audit's library: its `Auditor` (which merges results that are aliases of each other)
over our `LocalOsvService` when an advisory folder is given, else pip-audit's `OsvService`
online. It prints one JSON report (protocol.WorkerReport) on stdout.

A dependency pip-audit skipped, or that the service could not answer for, is listed under
`not_audited`; after the first service failure the rest are not tried. Exit codes: 0
report printed, 2 bad request, 3 unusable advisory database.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version
from pip_audit._audit import Auditor
from pip_audit._dependency_source import DependencySource
from pip_audit._service import OsvService
from pip_audit._service.interface import ResolvedDependency, ServiceError, SkippedDependency
from pydantic import ValidationError

from compliance.model import Severity
from compliance.scanners.pip_audit.advisory import (
    UNSCORED_BASIS,
    Advisory,
    AdvisoryError,
    parse_advisory,
)
from compliance.scanners.pip_audit.osv_local import AdvisoryDb, LocalOsvService
from compliance.scanners.pip_audit.protocol import (
    DependencyResult,
    NotAudited,
    RequestedDependency,
    Vulnerability,
    WorkerReport,
    WorkerRequest,
)


class _Pins(DependencySource):  # type: ignore[misc]
    """A pip-audit dependency source over pins we already resolved."""

    def __init__(self, specs: Sequence[Any]) -> None:
        self._specs = specs

    def collect(self) -> Iterator[Any]:
        yield from self._specs

    def fix(self, fix_version: Any) -> None:
        raise NotImplementedError("the worker only audits")


class _Recorder:
    """Wraps pip-audit's HTTP session to keep OSV's full records (severity, CWEs), which
    pip-audit's `VulnerabilityResult` drops."""

    def __init__(self, session: Any, matched: dict[str, Advisory]) -> None:
        self._session = session
        self._matched = matched

    def post(self, **kwargs: Any) -> Any:
        response = self._session.post(**kwargs)
        try:
            vulns = response.json().get("vulns", [])
        except (ValueError, AttributeError):
            return response  # pip-audit reports the bad response itself
        for doc in vulns if isinstance(vulns, list) else []:
            try:
                advisory = parse_advisory(doc, "osv.dev response")
            except AdvisoryError:
                continue  # no metadata: the result is still reported, scored high
            self._matched[advisory.id] = advisory
        return response


def _online(request: WorkerRequest) -> tuple[Any, dict[str, Advisory]]:
    options: dict[str, Any] = {"timeout": max(1, round(request.timeout_s))}
    if request.cache_dir is not None:
        options["cache_dir"] = Path(request.cache_dir)
    if request.osv_url is not None:
        options["osv_url"] = request.osv_url
    service = OsvService(**options)
    matched: dict[str, Advisory] = {}
    service.session = _Recorder(service.session, matched)
    return service, matched


def _spec(dep: RequestedDependency) -> Any:
    try:
        return ResolvedDependency(name=dep.name, version=Version(dep.version))
    except InvalidVersion:
        return SkippedDependency(name=dep.name, skip_reason=f"{dep.version!r} is not PEP 440")


def audit(request: WorkerRequest) -> WorkerReport:
    """Audit every requested pin; AdvisoryError if the local database is unusable."""
    db: AdvisoryDb | None = None
    if request.advisory_db is not None:
        db = AdvisoryDb(Path(request.advisory_db))
        local = LocalOsvService(db)
        service: Any = local
        matched = local.matched
    else:
        service, matched = _online(request)
    auditor = Auditor(service)
    results: list[DependencyResult] = []
    not_audited: list[NotAudited] = []
    failure: str | None = None
    for dep in sorted(set(request.dependencies), key=lambda d: (d.name, d.version)):
        if failure is not None:
            not_audited.append(NotAudited(name=dep.name, version=dep.version, reason=failure))
            continue
        try:
            outcome = _audit_one(auditor, dep, matched)
        except (ServiceError, OSError, ValueError) as exc:  # requests' errors are OSErrors
            failure = f"vulnerability service failed: {type(exc).__name__}: {exc}"
            outcome = NotAudited(name=dep.name, version=dep.version, reason=failure)
        match outcome:
            case DependencyResult():
                results.append(outcome)
            case NotAudited():
                not_audited.append(outcome)
    return WorkerReport(
        pip_audit_version=importlib.metadata.version("pip-audit"),
        service="local-osv" if db is not None else "osv",
        advisory_db=None if db is None else db.identity().as_json(),
        results=tuple(results),
        not_audited=tuple(not_audited),
    )


def _audit_one(
    auditor: Any, dep: RequestedDependency, matched: dict[str, Advisory]
) -> DependencyResult | NotAudited:
    for spec, vulns in auditor.audit(_Pins([_spec(dep)])):
        if spec.is_skipped():
            reason = f"skipped by pip-audit: {spec.skip_reason}"
            return NotAudited(name=dep.name, version=dep.version, reason=reason)
        found = sorted((_vulnerability(v, matched) for v in vulns), key=lambda v: v.id)
        return DependencyResult(name=dep.name, version=dep.version, vulns=tuple(found))
    return NotAudited(name=dep.name, version=dep.version, reason="pip-audit returned nothing")


def _vulnerability(result: Any, matched: dict[str, Advisory]) -> Vulnerability:
    """One pip-audit result, with severity and CWEs from the record(s) behind it.

    pip-audit merges aliases (a PYSEC and a GHSA record for one flaw): we read every merged
    record and keep the worst scored severity. The id is the record's own.
    """
    ids = [str(result.id), *sorted(str(a) for a in result.aliases)]
    records = [matched[i] for i in ids if i in matched]
    scored = [r for r in records if r.severity_basis != UNSCORED_BASIS]
    worst = max(scored, key=lambda r: r.severity.rank) if scored else None
    primary = records[0] if records else None
    ident = primary.id if primary is not None else str(result.id)
    return Vulnerability(
        id=ident,
        aliases=tuple(sorted({*ids} - {ident})),
        description=str(result.description),
        fix_versions=tuple(str(v) for v in sorted(result.fix_versions)),
        severity=worst.severity if worst is not None else Severity.HIGH,
        severity_basis=worst.severity_basis if worst is not None else UNSCORED_BASIS,
        published=_published(primary, result.published),
        cwe=tuple(sorted({c for r in records for c in r.cwe})),
        help_url=primary.help_url if primary else f"https://osv.dev/vulnerability/{ident}",
    )


def _published(record: Advisory | None, fallback: datetime | None) -> str | None:
    moment = record.published if record is not None else fallback
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m compliance.scanners.pip_audit.worker REQUEST.json", file=sys.stderr)
        return 2
    try:
        request = WorkerRequest.model_validate_json(Path(args[0]).read_bytes())
    except (OSError, ValidationError) as exc:
        print(f"error: cannot read request {args[0]}: {exc}", file=sys.stderr)
        return 2
    try:
        report = audit(request)
    except AdvisoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    sys.stdout.buffer.write(report.model_dump_json().encode("utf-8") + b"\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
