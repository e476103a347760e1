"""The bundle's layout and its manifest: every file with its size and SHA-256.

The manifest lists every file of the bundle except itself and the attestation (which signs
the manifest's digest), sorted by path (byte order of the UTF-8 POSIX path), and says
whether the bundle is signed. docs/evidence.md describes each file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.errors import validation_problems

FORMAT = "compliance-evidence-bundle"
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
#: One DSSE envelope holding the in-toto Statement (signed bundles only).
ATTESTATION = "attestation.intoto.json"
#: Written into unsigned bundles only, so nobody mistakes one for a signed bundle.
UNSIGNED_NOTICE = "UNSIGNED.txt"
RESULT = "result.json"
CONTEXT = "context.json"
CONTROLS_JSON = "controls/index.json"
CONTROLS_HTML = "controls/index.html"
REPORTS_DIR = "reports"
RAW_DIR = "raw"

#: Files outside the manifest, by design.
UNLISTED = frozenset({MANIFEST, ATTESTATION})

_SHA256_HEX = r"^[0-9a-f]{64}$"


@dataclass(frozen=True, slots=True, order=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    signed: bool
    files: tuple[ManifestEntry, ...]
    generator: str

    def render(self) -> str:
        """The manifest file's text: one file per line, so a diff shows what changed."""
        head = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generator": self.generator,
            "signed": self.signed,
        }
        lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in head.items()]
        entries = ",\n".join(
            "    "
            + json.dumps({"path": e.path, "size": e.size, "sha256": e.sha256}, ensure_ascii=False)
            for e in self.files
        )
        lines.append(f'  "files": [\n{entries}\n  ]' if entries else '  "files": []')
        return "{\n" + ",\n".join(lines) + "\n}\n"


def sha256_file(path: Path) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def bundle_files(root: Path) -> list[str]:
    """Every regular file under `root` as a POSIX path relative to it, sorted."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            found.append((Path(folder) / name).relative_to(root).as_posix())
    return sorted(found)


def build_manifest(root: Path, paths: Iterable[str], *, signed: bool, generator: str) -> Manifest:
    entries = []
    for relative in sorted(paths):
        size, digest = sha256_file(root / relative)
        entries.append(ManifestEntry(relative, size, digest))
    return Manifest(signed=signed, files=tuple(entries), generator=generator)


def is_safe_path(path: str) -> bool:
    """A relative POSIX path inside the bundle: no absolute path, no `..`, no `.`, no
    empty part, no backslash or control character."""
    if not path or path.startswith("/") or "\\" in path:
        return False
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Entry(_Strict):
    path: str = Field(min_length=1)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256_HEX)


class _Manifest(_Strict):
    format: Literal["compliance-evidence-bundle"]
    version: Literal[1]
    generator: str
    signed: bool
    files: list[_Entry]


class MalformedManifest(ValueError):
    """The manifest cannot be read; `problems` says where (`key path: message`)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in `data`; MalformedManifest naming each key that is wrong."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedManifest(["not valid UTF-8"]) from None
    except json.JSONDecodeError as exc:
        raise MalformedManifest(
            [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    except (ValueError, RecursionError):
        raise MalformedManifest(["invalid JSON"]) from None
    if not isinstance(raw, dict):
        raise MalformedManifest(["expected a JSON object"])
    try:
        parsed = _Manifest.model_validate(raw)
    except ValidationError as exc:
        raise MalformedManifest(
            [f"{p.location}: {p.message}" for p in validation_problems(exc, MANIFEST)]
        ) from None
    problems = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.files):
        if not is_safe_path(entry.path):
            problems.append(f"files[{index}].path: {entry.path!r} is not a path inside the bundle")
        elif entry.path in UNLISTED:
            problems.append(f"files[{index}].path: {entry.path} cannot list itself")
        elif entry.path in seen:
            problems.append(f"files[{index}].path: {entry.path} is listed twice")
        seen.add(entry.path)
    if problems:
        raise MalformedManifest(problems)
    files = tuple(ManifestEntry(e.path, e.size, e.sha256) for e in parsed.files)
    return Manifest(signed=parsed.signed, files=files, generator=parsed.generator)
