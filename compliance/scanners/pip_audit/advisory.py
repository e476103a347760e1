"""OSV advisory records: strict parsing, version matching, severity.

Matching follows the OSV schema: a version is affected when it is listed in `versions` or
falls inside an ECOSYSTEM range (events sorted by version: `introduced` opens, `fixed`
closes before, `last_affected` closes after). GIT ranges name commits and are ignored.
An event whose version is not PEP 440 cannot be ordered; we fail closed: an unreadable
`introduced` counts as "0" and an unreadable `fixed`/`last_affected` is dropped, so the
range stays open rather than silently excluding versions.

Severity: the highest CVSS v3 base score among the record's vectors; else the GHSA
`database_specific.severity`; else HIGH, because an advisory without a score is treated
as high (fail closed), never as low.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from packaging.version import InvalidVersion, Version

from compliance.model import Severity
from compliance.scanners.pip_audit.cvss import CvssError, base_score, severity_of_score
from compliance.scanners.pip_audit.requirement import PackageName, normalise_name

_GHSA_SEVERITY = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}
UNSCORED_BASIS = "no severity in the advisory: treated as high (fail closed)"


class AdvisoryError(Exception):
    """An advisory file that cannot be read or is not a valid OSV record."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"malformed advisory {file}: {message}")
        self.file = file


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    #: None for "0" (the start of time) or, fail closed, an unreadable `introduced`.
    version: Version | None


@dataclass(frozen=True, slots=True)
class Affected:
    """One `affected[]` entry of a PyPI advisory."""

    name: PackageName
    ranges: tuple[tuple[Event, ...], ...]
    versions: frozenset[Version]
    raw_versions: frozenset[str]

    def contains(self, version: Version) -> bool:
        if version in self.versions or str(version) in self.raw_versions:
            return True
        return any(_in_range(version, events) for events in self.ranges)

    def fixed_after(self, version: Version) -> set[Version]:
        return {
            e.version
            for events in self.ranges
            for e in events
            if e.kind == "fixed" and e.version is not None and e.version > version
        }


def _in_range(version: Version, events: tuple[Event, ...]) -> bool:
    affected = False
    for event in events:  # sorted when parsed
        at = event.version
        match event.kind:
            case "introduced":
                if at is None or version >= at:
                    affected = True
            case "fixed":
                if at is not None and version >= at:
                    affected = False
            case "last_affected":
                if at is not None and version > at:
                    affected = False
            case _:
                pass  # "limit" only bounds GIT ranges
    return affected


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str | None
    details: str | None
    published: datetime | None
    modified: datetime | None
    withdrawn: bool
    affected: tuple[Affected, ...]
    severity: Severity
    severity_basis: str
    cwe: tuple[str, ...]
    help_url: str
    file: str

    @property
    def description(self) -> str:
        return (self.summary or self.details or "no description").strip()

    def affects(self, name: PackageName, version: Version) -> bool:
        return not self.withdrawn and any(
            a.name == name and a.contains(version) for a in self.affected
        )

    def fixed_versions(self, name: PackageName, version: Version) -> tuple[Version, ...]:
        """The fixes newer than `version`, oldest first."""
        fixes: set[Version] = set()
        for entry in self.affected:
            if entry.name == name:
                fixes |= entry.fixed_after(version)
        return tuple(sorted(fixes))


def parse_timestamp(text: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None if absent or unreadable."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_advisory(doc: object, file: str) -> Advisory:
    """An OSV record as an Advisory; AdvisoryError naming `file` if its shape is wrong."""
    if not isinstance(doc, dict):
        raise AdvisoryError(file, "not a mapping")
    ident = doc.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise AdvisoryError(file, "no `id`")
    affected = _list(doc.get("affected"), "affected", file)
    entries = tuple(
        entry
        for index, item in enumerate(affected)
        if (entry := _affected(item, f"affected[{index}]", file)) is not None
    )
    severity, basis = _severity(doc, affected)
    database = doc.get("database_specific")
    cwe = database.get("cwe_ids") if isinstance(database, dict) else None
    return Advisory(
        id=ident.strip(),
        aliases=tuple(str(a) for a in _list(doc.get("aliases"), "aliases", file)),
        summary=_text(doc.get("summary")),
        details=_text(doc.get("details")),
        published=parse_timestamp(doc.get("published")),
        modified=parse_timestamp(doc.get("modified")),
        withdrawn=doc.get("withdrawn") is not None,
        affected=entries,
        severity=severity,
        severity_basis=basis,
        cwe=tuple(str(c) for c in cwe) if isinstance(cwe, list) else (),
        help_url=_help_url(ident.strip(), doc.get("references")),
        file=file,
    )


def _list(value: object, where: str, file: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryError(file, f"`{where}` is not a list")
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _affected(item: object, where: str, file: str) -> Affected | None:
    """A PyPI `affected` entry; None for other ecosystems."""
    package = item.get("package") if isinstance(item, dict) else None
    if not isinstance(item, dict) or not isinstance(package, dict):
        raise AdvisoryError(file, f"`{where}.package` is missing")
    name, ecosystem = package.get("name"), package.get("ecosystem")
    if not isinstance(name, str) or not isinstance(ecosystem, str):
        raise AdvisoryError(file, f"`{where}.package` needs a name and an ecosystem")
    if ecosystem.split(":", 1)[0] != "PyPI":
        return None
    ranges: list[tuple[Event, ...]] = []
    for index, raw in enumerate(_list(item.get("ranges"), f"{where}.ranges", file)):
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise AdvisoryError(file, f"`{where}.ranges[{index}]` has no type")
        events = _events(raw.get("events"), f"{where}.ranges[{index}].events", file)
        if raw["type"] == "ECOSYSTEM":
            ranges.append(events)
    versions = _list(item.get("versions"), f"{where}.versions", file)
    if not all(isinstance(v, str) for v in versions):
        raise AdvisoryError(file, f"`{where}.versions` holds a non-string")
    return Affected(
        name=normalise_name(name),
        ranges=tuple(ranges),
        versions=frozenset(v for text in versions if (v := _version(text)) is not None),
        raw_versions=frozenset(versions),
    )


def _events(value: object, where: str, file: str) -> tuple[Event, ...]:
    events: list[Event] = []
    for raw in _list(value, where, file):
        if not isinstance(raw, dict) or len(raw) != 1:
            raise AdvisoryError(file, f"`{where}` holds an event that is not one key")
        ((kind, at),) = raw.items()
        if not isinstance(kind, str) or not isinstance(at, str):
            raise AdvisoryError(file, f"`{where}` holds a non-string event {raw!r}")
        version = None if at == "0" else _version(at)
        if version is None and kind != "introduced":
            continue  # unreadable end of a range: keep the range open (fail closed)
        events.append(Event(kind, version))
    # "0" first; at one version an opening event sorts before the events that close.
    return tuple(
        sorted(
            events,
            key=lambda e: (e.version is not None, e.version or Version("0"), _order(e)),
        )
    )


def _order(event: Event) -> int:
    return _EVENT_ORDER.get(event.kind, 9)


@functools.lru_cache(maxsize=65_536)
def _version(text: str) -> Version | None:
    """Parsed once per distinct string: one package's records repeat the same long lists."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _severity(doc: dict[str, Any], affected: Iterable[Any]) -> tuple[Severity, str]:
    vectors = list(_vectors(doc.get("severity")))
    for item in affected:
        if isinstance(item, dict):
            vectors += _vectors(item.get("severity"))
    scored: list[tuple[float, str]] = []
    for vector in vectors:
        try:
            scored.append((base_score(vector), vector))
        except CvssError:
            continue
    if scored:
        score, vector = max(scored)
        return severity_of_score(score), f"{vector} (base score {score:.1f})"
    database = doc.get("database_specific")
    label = database.get("severity") if isinstance(database, dict) else None
    if isinstance(label, str) and label.strip().upper() in _GHSA_SEVERITY:
        return _GHSA_SEVERITY[label.strip().upper()], f"database severity {label.strip()}"
    return Severity.HIGH, UNSCORED_BASIS


def _vectors(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [
        item["score"]
        for item in value
        if isinstance(item, dict)
        and str(item.get("type", "")).startswith("CVSS_V3")
        and isinstance(item.get("score"), str)
    ]


def _help_url(ident: str, references: object) -> str:
    if isinstance(references, list):
        for ref in references:
            if isinstance(ref, dict) and ref.get("type") == "ADVISORY":
                url = ref.get("url")
                if isinstance(url, str) and url.startswith(("https://", "http://")):
                    return url
    return f"https://osv.dev/vulnerability/{ident}"
