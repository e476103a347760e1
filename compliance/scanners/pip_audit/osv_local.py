"""A local OSV advisory database, served to pip-audit as one of its `VulnerabilityService`s.

Two layouts are read:
- the PyPA advisory database: `vulns/<package>/<ID>.yaml` (or the `vulns` folder itself).
  Only the folders of the packages asked about are read (names PEP 503 normalised on both
  sides), so a query costs milliseconds however large the database is;
- OSV's PyPI export: a flat folder of `<ID>.json` (or YAML) records, read once and indexed.

A file that cannot be read or is not an OSV record is an `AdvisoryError` naming it, never a
silent skip: a skipped advisory would look like a clean dependency.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from packaging.version import Version
from pip_audit._service.interface import (
    VulnerabilityID,
    VulnerabilityResult,
    VulnerabilityService,
)

from compliance import yamlsafe
from compliance.scanners.pip_audit.advisory import Advisory, AdvisoryError, parse_advisory
from compliance.scanners.pip_audit.requirement import PackageName, normalise_name

_SUFFIXES = (".yaml", ".yml", ".json")
_BaseLoader: Any = yamlsafe.SAFE_LOADER


class _StringLoader(_BaseLoader):  # type: ignore[misc]
    """YAML with every scalar a string (except null and booleans): `1.10` stays "1.10",
    a timestamp stays text. Versions must never pass through float()."""


_StringLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def load_record(path: Path, display: str) -> Advisory:
    """Read and parse one advisory file; AdvisoryError naming `display` on any problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdvisoryError(display, f"cannot read: {exc.strerror or exc}") from None
    try:
        doc = _decode(data, json_format=path.suffix == ".json")
    except (ValueError, yaml.YAMLError) as exc:
        raise AdvisoryError(display, f"not valid {path.suffix[1:].upper()}: {exc}") from None
    except RecursionError:  # JSON nested past the stack (YAML's nesting has its limit)
        raise AdvisoryError(
            display, f"not valid {path.suffix[1:].upper()}: nested too deeply"
        ) from None
    return parse_advisory(doc, display)


def _decode(data: bytes, *, json_format: bool) -> object:
    if json_format:
        return json.loads(data)
    return yamlsafe.safe_load(data, loader=_StringLoader)


@dataclass(frozen=True, slots=True)
class DbIdentity:
    """What the evidence records about the database a run used."""

    path: str
    layout: str
    files: int
    records_read: int
    newest_modified: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "layout": self.layout,
            "files": self.files,
            "records_read": self.records_read,
            "newest_modified": self.newest_modified,
        }


class AdvisoryDb:
    """Advisories by package, read on demand from one of the two layouts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        if not root.is_dir():
            raise AdvisoryError(str(root), "advisory database folder not found")
        vulns = root / "vulns"
        base = vulns if vulns.is_dir() else root
        flat = sorted(p for p in _files(base) if p.suffix in _SUFFIXES)
        self.layout = "flat" if flat and base is root else "per-package"
        self._folders: dict[PackageName, list[Path]] = {}
        #: Flat layout: the files not yet read (all of them are read at the first query).
        self._unread: list[Path] = flat if self.layout == "flat" else []
        self._files = len(self._unread)
        if self.layout == "per-package":
            for folder in sorted(p for p in _dirs(base) if not p.name.startswith(".")):
                self._folders.setdefault(normalise_name(folder.name), []).append(folder)
                self._files += sum(1 for p in _files(folder) if p.suffix in _SUFFIXES)
        if self._files == 0:
            raise AdvisoryError(str(root), "no OSV advisory files (*.yaml, *.json) found")
        self._by_package: dict[PackageName, tuple[Advisory, ...]] = {}
        self._read: list[Advisory] = []

    def advisories_for(self, name: str) -> tuple[Advisory, ...]:
        """Every advisory (withdrawn ones included) with an entry for `name`."""
        key = normalise_name(name)
        if self.layout == "flat":
            self._load_flat()
            return self._by_package.get(key, ())
        if key not in self._by_package:
            self._by_package[key] = tuple(
                self._record(path)
                for folder in self._folders.get(key, [])
                for path in sorted(_files(folder))
                if path.suffix in _SUFFIXES
            )
        return self._by_package[key]

    def _load_flat(self) -> None:
        unread, self._unread = self._unread, []
        index: dict[PackageName, list[Advisory]] = {}
        for path in unread:
            record = self._record(path)
            for name in sorted({a.name for a in record.affected}):
                index.setdefault(name, []).append(record)
        for name, records in index.items():
            self._by_package[name] = (*self._by_package.get(name, ()), *records)

    def _record(self, path: Path) -> Advisory:
        record = load_record(path, path.relative_to(self.root).as_posix())
        self._read.append(record)
        return record

    def identity(self) -> DbIdentity:
        dates = [r.modified for r in self._read if r.modified is not None]
        newest = max(dates).isoformat().replace("+00:00", "Z") if dates else None
        return DbIdentity(str(self.root), self.layout, self._files, len(self._read), newest)


def _files(folder: Path) -> Iterable[Path]:
    with os.scandir(folder) as entries:
        return [Path(e.path) for e in entries if e.is_file(follow_symlinks=False)]


def _dirs(folder: Path) -> Iterable[Path]:
    with os.scandir(folder) as entries:
        return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]


class LocalOsvService(VulnerabilityService):  # type: ignore[misc]
    """pip-audit's `VulnerabilityService` over an `AdvisoryDb`.

    Results carry the record's own id (PYSEC-…, GHSA-…), not pip-audit's preferred alias;
    `matched` keeps each matching record so the caller can read its severity and CWEs.
    """

    def __init__(self, db: AdvisoryDb) -> None:
        self.db = db
        self.matched: dict[str, Advisory] = {}

    def query(self, spec: Any) -> tuple[Any, list[Any]]:
        if spec.is_skipped():
            return spec, []
        name = normalise_name(str(spec.name))
        version: Version = spec.version
        results: list[Any] = []
        for advisory in self.db.advisories_for(name):
            if not advisory.affects(name, version):
                continue
            self.matched[advisory.id] = advisory
            results.append(to_result(advisory, name, version))
        return spec, results


def to_result(advisory: Advisory, name: PackageName, version: Version) -> Any:
    """The pip-audit `VulnerabilityResult` for one matching advisory."""
    return VulnerabilityResult(
        id=VulnerabilityID(advisory.id),
        description=advisory.description.replace("\n", " "),
        fix_versions=list(advisory.fixed_versions(name, version)),
        aliases={VulnerabilityID(a) for a in advisory.aliases if a != advisory.id},
        published=_naive_utc(advisory.published),
    )


def _naive_utc(moment: datetime | None) -> datetime | None:
    """pip-audit's own timestamps are naive UTC; match them."""
    return None if moment is None else moment.replace(tzinfo=None)
