"""The JSON the adapter and its worker process exchange, as pydantic models.

The request is ours and strict; the report is read back leniently (unknown keys ignored)
but every field we use is validated, so a garbled report is an error, not an empty result.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from compliance.model import Severity


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RequestedDependency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str


class WorkerRequest(BaseModel):
    """What to audit and against what: a local advisory folder, or OSV online."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dependencies: tuple[RequestedDependency, ...]
    advisory_db: str | None = None
    timeout_s: float = 30.0
    #: Online mode only: the OSV query endpoint (tests point it at a local server).
    osv_url: str | None = None
    #: Online mode only: pip-audit's HTTP cache (the adapter gives a throw-away folder).
    cache_dir: str | None = None


class Vulnerability(_Lenient):
    id: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    fix_versions: tuple[str, ...] = ()
    severity: Severity
    severity_basis: str = ""
    published: str | None = None
    cwe: tuple[str, ...] = ()
    help_url: str | None = None


class DependencyResult(_Lenient):
    name: str
    version: str
    vulns: tuple[Vulnerability, ...] = ()


class NotAudited(_Lenient):
    name: str
    version: str
    reason: str


class WorkerReport(_Lenient):
    pip_audit_version: str
    service: str
    #: The local database's identity (path, layout, files, records read, newest
    #: `modified`), or None online.
    advisory_db: dict[str, Any] | None = None
    results: tuple[DependencyResult, ...]
    not_audited: tuple[NotAudited, ...] = ()
