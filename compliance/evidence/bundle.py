"""Writing an evidence bundle: the result, its reports, the raw scanner output (the secrets
it quotes masked: compliance.evidence.redaction), the run's context, a per-control index, a
manifest of SHA-256 digests and, with a key, a signed in-toto attestation over the manifest
and the commit (docs/evidence.md).

`write_bundle` builds everything in a temporary folder beside the target and renames it
into place at the end (or packs it into a .tar.gz/.zip written the same way), so an
interrupted or failed run never leaves half a bundle. It does not render reports itself:
callers pass the rendered texts (`standard_reports` renders the usual ones), so this module
needs no renderer. Nothing here reads the clock: every time recorded is the scan's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance import __version__
from compliance.errors import EnvironmentFailure, InternalError, UsageError
from compliance.evidence import signing
from compliance.evidence.archive import SUFFIXES, ArchiveFormat, write_archive
from compliance.evidence.context import build_context, build_predicate
from compliance.evidence.index import (
    build_index,
    fingerprints_in,
    render_index_html,
    render_index_json,
)
from compliance.evidence.manifest import (
    ATTESTATION,
    CONTEXT,
    CONTROLS_HTML,
    CONTROLS_JSON,
    MANIFEST,
    RAW_DIR,
    REPORTS_DIR,
    RESULT,
    UNSIGNED_NOTICE,
    build_manifest,
    bundle_files,
    sha256_file,
)
from compliance.evidence.redaction import RawMasking, SecretMasker
from compliance.model import ScanResult
from compliance.reporting import REGISTRY, RenderOptions
from compliance.reporting.interface import MultiFileRenderer

#: The reports `standard_reports` renders, by bundle file name, and their renderer.
STANDARD_REPORTS = {RESULT: "json", "report.sarif": "sarif", "report.html": "html"}

_REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

UNSIGNED_TEXT = """\
THIS EVIDENCE BUNDLE IS NOT SIGNED.

Its manifest.json records the SHA-256 of every file, which detects accidental damage, but
anyone who alters a file can rewrite the manifest too: nothing here proves who made this
bundle or that it is unchanged since the scan. Do not rely on it as audit evidence on its
own. Ask for a bundle signed with the organisation's key and check it with:

    compliance evidence verify BUNDLE --key KEY.pub
"""


def standard_reports(
    result: ScanResult, options: RenderOptions | None = None
) -> dict[str, tuple[str, ...]]:
    """The JSON result, SARIF (all its parts) and HTML report of `result`, by file name,
    rendered through the reporting registry. A format this build has no renderer for is
    left out (`missing_standard_reports` names it); the JSON result never is."""
    options = options or RenderOptions()
    reports: dict[str, tuple[str, ...]] = {}
    for name, fmt in STANDARD_REPORTS.items():
        renderer = REGISTRY.get(fmt)
        if renderer is None:
            if name == RESULT:
                raise InternalError("no json renderer registered")
            continue
        if isinstance(renderer, MultiFileRenderer):
            reports[name] = renderer.render_files(result, options)
        else:
            reports[name] = (renderer.render(result, options),)
    return reports


def missing_standard_reports() -> tuple[str, ...]:
    """The standard report formats this build cannot render."""
    return tuple(fmt for fmt in STANDARD_REPORTS.values() if fmt not in REGISTRY)


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What `write_bundle` wrote."""

    path: Path
    files: int
    signed: bool
    keyid: str | None
    manifest_sha256: str
    archive: ArchiveFormat | None
    #: secrets masked in the raw scanner output (context.json `redaction`)
    masking: RawMasking = field(default_factory=RawMasking)


class BundleExists(UsageError):
    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"{path} already exists and is {what}: an evidence bundle is never merged into "
            "or written over existing files",
            hint="choose another output path, or replace it deliberately (--force)",
        )


def bundle_target(target: Path, archive: ArchiveFormat | None) -> Path:
    """Where a bundle for `target` lands: the folder itself, or the archive file with its
    suffix (`evidence` -> `evidence.tar.gz`; `.tgz` is kept as it is)."""
    if archive is None:
        return target
    suffix = SUFFIXES[archive]
    if target.name.endswith(suffix) or (archive == "tar.gz" and target.name.endswith(".tgz")):
        return target
    return target.with_name(target.name + suffix)


def write_bundle(
    target: Path,
    result: ScanResult,
    *,
    reports: Mapping[str, tuple[str, ...]],
    raw_dir: Path | None,
    signer: signing.Signer | None,
    archive: ArchiveFormat | None = None,
    force: bool = False,
    rule_scanners: Mapping[str, Sequence[str]] | None = None,
) -> BundleInfo:
    """Write the evidence bundle of `result` to `target` (a folder), or to one archive file
    (`bundle_target(target, archive)`).

    `reports` maps a file name to the texts of its parts (`report.sarif` split in three
    gives `reports/report.sarif`, `report.2.sarif`, `report.3.sarif`); `result.json`, the
    JSON result of this very `result`, is required and goes at the top. `raw_dir` is a
    ProcessRunner record folder (`<tool>/<n>.json|.stdout|.stderr`), copied under `raw/`
    with every secret of `result`'s findings masked (`BundleInfo.masking` says how many).
    `rule_scanners` (mapping rule id -> scanners) lets the control index name the scanners
    that assess a control that has no finding.

    Refuses (BundleExists) a target that exists, unless it is an empty folder or `force`.
    """
    _check_reports(result, reports)
    final = bundle_target(target, archive)
    folder = final.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {final}: folder {folder} does not exist")
    check_bundle_target(final, archive, force=force)
    if raw_dir is not None and not raw_dir.is_dir():
        raise UsageError(f"raw scanner output: not a folder: {raw_dir}")

    stem = final.name.removesuffix(SUFFIXES[archive]) if archive else final.name
    if archive == "tar.gz":
        stem = stem.removesuffix(".tgz")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=folder))
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {final}: {exc.strerror}") from None
    try:
        content = staging / (stem or "evidence")
        content.mkdir(mode=0o755)
        info = _build(content, result, reports, raw_dir, signer, rule_scanners)
        if archive is None:
            _make_public(content)
            _move_into_place(content, final, force=force)
        else:
            packed = staging / "archive"
            write_archive(content, packed, archive, top=content.name, mtime=result.finished_at)
            packed.chmod(0o644 & ~_umask())
            packed.replace(final)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write the evidence bundle {final}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BundleInfo(
        path=final,
        files=info[0],
        signed=signer is not None,
        keyid=signer.keyid if signer else None,
        manifest_sha256=info[1],
        archive=archive,
        masking=info[2],
    )


def _check_reports(result: ScanResult, reports: Mapping[str, tuple[str, ...]]) -> None:
    if RESULT not in reports or len(reports[RESULT]) != 1:
        raise InternalError("an evidence bundle needs exactly one result.json text")
    for name, texts in reports.items():
        if not _REPORT_NAME.match(name) or not texts:
            raise InternalError(f"bad report for the evidence bundle: {name!r}")
    try:
        commit = json.loads(reports[RESULT][0]).get("commit")
    except (ValueError, AttributeError):
        raise InternalError("result.json for the evidence bundle is not a JSON result") from None
    if commit != result.commit:
        raise InternalError("result.json for the evidence bundle is of another result")


def check_bundle_target(final: Path, archive: ArchiveFormat | None, *, force: bool) -> None:
    if final.is_symlink():
        raise BundleExists(final, "a symbolic link")
    if not final.exists():
        return
    if final.is_dir():
        if archive is not None:
            raise BundleExists(final, "a folder")
        if not force and any(final.iterdir()):
            raise BundleExists(final, "a folder that is not empty")
        return
    if archive is None or not force:
        raise BundleExists(final, "a file")


def _move_into_place(content: Path, final: Path, *, force: bool) -> None:
    """Rename the finished folder to `final`; an old bundle there (with `force`, or an empty
    folder) is moved aside first and removed only once the new one is in place."""
    if not final.exists():
        content.rename(final)
        return
    if final.is_dir() and not any(final.iterdir()):
        final.rmdir()
        content.rename(final)
        return
    assert force
    aside = content.parent / "previous"
    final.rename(aside)
    try:
        content.rename(final)
    except BaseException:
        aside.rename(final)
        raise
    # `aside` is inside the staging folder: removed with it.


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_public(content: Path) -> None:
    """mkdtemp makes 0700 folders; give the bundle the modes the umask allows."""
    mode = 0o755 & ~_umask()
    for folder, dirs, _files in os.walk(content):
        for name in dirs:
            (Path(folder) / name).chmod(mode)
    content.chmod(mode)


def _build(
    content: Path,
    result: ScanResult,
    reports: Mapping[str, tuple[str, ...]],
    raw_dir: Path | None,
    signer: signing.Signer | None,
    rule_scanners: Mapping[str, Sequence[str]] | None,
) -> tuple[int, str, RawMasking]:
    """Write every file into `content`; (files in the manifest, manifest sha256, what
    masking did to the raw output)."""
    report_paths: dict[str, str] = {}  # bundle path -> text
    for name, texts in reports.items():
        for part, text in enumerate(texts, start=1):
            path = RESULT if name == RESULT else f"{REPORTS_DIR}/{_part_name(name, part)}"
            report_paths[path] = text
    for path, text in report_paths.items():
        _write(content, path, text)
    report_fingerprints = {p: fingerprints_in(t) for p, t in report_paths.items()}

    raw_files, masking = (
        _copy_raw(raw_dir, content / RAW_DIR, result) if raw_dir is not None else ([], RawMasking())
    )
    by_tool: dict[str, list[str]] = {}
    for path in raw_files:
        by_tool.setdefault(path.split("/")[1], []).append(path)

    context = build_context(result, content, raw_files, report_paths, masking)
    _write(content, CONTEXT, _json(context))
    index = build_index(
        result,
        report_files=report_fingerprints,
        raw_files=by_tool,
        rule_scanners=rule_scanners,
        signed=signer is not None,
    )
    _write(content, CONTROLS_JSON, render_index_json(index))
    _write(content, CONTROLS_HTML, render_index_html(index))
    if signer is None:
        _write(content, UNSIGNED_NOTICE, UNSIGNED_TEXT)

    manifest = build_manifest(
        content,
        bundle_files(content),
        signed=signer is not None,
        generator=f"compliance {__version__}",
    )
    _write(content, MANIFEST, manifest.render())
    _size, manifest_sha256 = sha256_file(content / MANIFEST)
    if signer is not None:
        payload = signing.statement(
            manifest_name=MANIFEST,
            manifest_sha256=manifest_sha256,
            commit=result.commit,
            annotations={"branch": result.context.branch, "dirty": result.context.dirty},
            predicate=build_predicate(result, content, len(manifest.files)),
        )
        _write(content, ATTESTATION, signing.sign_envelope(payload, signer))
    return len(manifest.files), manifest_sha256, masking


def _part_name(name: str, index: int) -> str:
    """report.sarif, report.2.sarif, report.3.sarif ... (as `-o FORMAT=PATH` names parts)."""
    if index == 1:
        return name
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{index}.{suffix}" if dot and stem else f"{name}.{index}"


def _write(content: Path, path: str, text: str) -> None:
    target = content.joinpath(*path.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _raw_sources(raw_dir: Path) -> list[tuple[Path, str]]:
    """The record folder's regular files, (source, path relative to it), sorted by the
    latter; anything else in it is an error."""
    sources = []
    for folder, dirs, names in os.walk(raw_dir):
        base = Path(folder)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                raise EnvironmentFailure(f"raw scanner output: {base / name} is a symbolic link")
        for name in sorted(names):
            source = base / name
            if source.is_symlink() or not source.is_file():
                raise EnvironmentFailure(f"raw scanner output: {source} is not a regular file")
            relative = source.relative_to(raw_dir).as_posix()
            if "/" not in relative:
                raise EnvironmentFailure(
                    f"raw scanner output: {source} is not in a tool's folder (<tool>/<n>.json)"
                )
            sources.append((source, relative))
    return sorted(sources, key=lambda pair: pair[1])


def _read_raw(source: Path) -> str:
    """A raw file's text; bytes that are not UTF-8 survive the round trip unchanged."""
    try:
        return source.read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot read {source}: {exc.strerror}") from None


def _copy_raw(raw_dir: Path, dest: Path, result: ScanResult) -> tuple[list[str], RawMasking]:
    """Copy the record folder's files under `dest` with the secrets of `result`'s findings
    masked (compliance.evidence.redaction): every file is read once to collect the secret
    values, then again to write it masked."""
    sources = _raw_sources(raw_dir)
    masker = SecretMasker(result)
    for source, _relative in sources:
        masker.collect(_read_raw(source))
    copied = []
    masked: dict[str, int] = {}
    for source, relative in sources:
        text, count = masker.mask(_read_raw(source))
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        path = f"{RAW_DIR}/{relative}"
        copied.append(path)
        if count:
            masked[path] = count
    return copied, RawMasking(files=len(copied), values=masker.values, masked=masked)
