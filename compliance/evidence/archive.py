"""Bundles as one file: deterministic .tar.gz and .zip, and extraction that trusts nothing.

Writing: entries sorted by path under one top-level folder, every timestamp the scan's end
(UTC, whole seconds), uid/gid 0 with no owner names, mode 0644 for files and 0755 for
folders, no gzip file name or time: the same folder gives the same bytes.

Reading: an archive handed to `verify` may be hostile. Only regular files and folders are
accepted; an absolute path, a `..`, a link, a device or a FIFO, a path listed twice,
too many members or too many bytes (counted as they are read, not as the headers claim)
is refused before anything lands outside a fresh temporary folder. A truncated or corrupt
archive is an error, never a partial bundle.
"""

from __future__ import annotations

import gzip
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Literal

from compliance.evidence.manifest import bundle_files, is_safe_path

ArchiveFormat = Literal["tar.gz", "zip"]
SUFFIXES: dict[ArchiveFormat, str] = {"tar.gz": ".tar.gz", "zip": ".zip"}

_FILE_MODE = 0o644
_DIR_MODE = 0o755
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=timezone.utc)
_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What `extract` accepts: members, bytes per member, bytes in all."""

    max_members: int = 100_000
    max_member_bytes: int = 2 * 1024**3
    max_total_bytes: int = 8 * 1024**3


class ArchiveError(ValueError):
    """The archive is corrupt, truncated, hostile or too large; the message says which."""


def archive_kind(path: Path) -> ArchiveFormat | None:
    """What a file is, from its first bytes (gzip or zip), else None."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    return None


# --- writing --------------------------------------------------------------------------------


def write_archive(
    folder: Path, target: Path, kind: ArchiveFormat, *, top: str, mtime: datetime
) -> None:
    """Write every file under `folder` into `target`, below the folder name `top`."""
    files = bundle_files(folder)
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    entries = sorted([(d, True) for d in ["", *dirs]] + [(f, False) for f in files])
    stamp = max(mtime.astimezone(timezone.utc), _ZIP_EPOCH).replace(microsecond=0)
    names = [(f"{top}/{path}" if path else top, path, is_dir) for path, is_dir in entries]
    if kind == "tar.gz":
        _write_tar(folder, target, names, int(stamp.timestamp()))
    else:
        _write_zip(folder, target, names, stamp)


def _write_tar(folder: Path, target: Path, names: list[tuple[str, str, bool]], mtime: int) -> None:
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, path, is_dir in names:
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if is_dir:
                info.type = tarfile.DIRTYPE
                info.mode = _DIR_MODE
                tar.addfile(info)
                continue
            source = folder / path
            info.size = source.stat().st_size
            info.mode = _FILE_MODE
            with source.open("rb") as handle:
                tar.addfile(info, handle)


def _write_zip(
    folder: Path, target: Path, names: list[tuple[str, str, bool]], stamp: datetime
) -> None:
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path, is_dir in names:
            info = zipfile.ZipInfo(name + "/" if is_dir else name, date_time=date_time)
            info.create_system = 3  # unix, so the mode bits mean the same everywhere
            if is_dir:
                info.external_attr = ((stat.S_IFDIR | _DIR_MODE) << 16) | 0x10
                archive.writestr(info, b"")
                continue
            info.external_attr = (stat.S_IFREG | _FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            source = folder / path
            size = source.stat().st_size
            with (
                source.open("rb") as handle,
                archive.open(info, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as out,
            ):
                for block in iter(lambda: handle.read(_BLOCK), b""):
                    out.write(block)


# --- reading --------------------------------------------------------------------------------


_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile)


def extract(archive: Path, kind: ArchiveFormat, dest: Path, limits: ArchiveLimits) -> None:
    """Extract `archive` into the empty folder `dest`; ArchiveError when it is not safe.

    OSError from reading the archive itself propagates (the caller reports it as an
    environment problem); a corrupt or truncated stream is an ArchiveError.
    """
    budget = _Budget(limits)
    try:
        if kind == "tar.gz":
            _extract_tar(archive, dest, budget)
        else:
            _extract_zip(archive, dest, budget)
    except ArchiveError:
        raise
    except _CORRUPT as exc:
        raise ArchiveError(f"corrupt or truncated archive ({_describe(exc)})") from None
    except (NotImplementedError, RuntimeError, ValueError) as exc:
        # a zip compression method we do not read, an encrypted member, a bad header field
        raise ArchiveError(f"unreadable archive ({_describe(exc)})") from None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Budget:
    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.members = 0
        self.total = 0
        self.seen: set[str] = set()

    def member(self, name: str) -> str | None:
        """The member's path inside the bundle, checked (None for the archive's own root
        folder, `./`); ArchiveError if refused."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveError(f"more than {self.limits.max_members} members: refused")
        path = name
        while path.startswith("./"):  # `tar -C bundle -czf b.tar.gz .` writes ./manifest.json
            path = path[2:]
        path = path.rstrip("/")
        if path in ("", "."):
            return None
        if not is_safe_path(path):
            raise ArchiveError(f"member {name!r} is not a path inside the bundle: refused")
        if path in self.seen:
            raise ArchiveError(f"member {name!r} appears twice: refused")
        self.seen.add(path)
        return path

    def copy(self, source: IO[bytes], target: Path, name: str) -> None:
        written = 0
        with target.open("xb") as out:
            for block in iter(lambda: source.read(_BLOCK), b""):
                written += len(block)
                self.total += len(block)
                if written > self.limits.max_member_bytes:
                    raise ArchiveError(
                        f"member {name!r} is larger than {self.limits.max_member_bytes} bytes: "
                        "refused"
                    )
                if self.total > self.limits.max_total_bytes:
                    raise ArchiveError(
                        f"the archive holds more than {self.limits.max_total_bytes} bytes: refused"
                    )
                out.write(block)


def _place(dest: Path, path: str, *, is_dir: bool) -> Path:
    """The member's target under `dest`, with its parent folders made; ArchiveError when a
    file and a folder would share a path."""
    target = dest.joinpath(*path.split("/"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            target.mkdir(exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ArchiveError(f"member {path!r} is both a file and a folder: refused") from None
    if not is_dir and target.exists():
        raise ArchiveError(f"member {path!r} is both a file and a folder: refused")
    return target


def _extract_tar(archive: Path, dest: Path, budget: _Budget) -> None:
    with tarfile.open(archive, mode="r:gz") as tar:
        for info in _tar_members(tar):
            path = budget.member(info.name)
            if path is None and info.isdir():
                continue
            if path is None:
                raise ArchiveError(f"member {info.name!r} is not a path inside the bundle: refused")
            if info.isdir():
                _place(dest, path, is_dir=True)
                continue
            if not info.isreg():
                kind = "link" if info.issym() or info.islnk() else "special file"
                raise ArchiveError(f"member {info.name!r} is a {kind}: refused")
            if info.size > budget.limits.max_member_bytes:
                raise ArchiveError(
                    f"member {info.name!r} is larger than {budget.limits.max_member_bytes} "
                    "bytes: refused"
                )
            handle = tar.extractfile(info)
            if handle is None:  # pragma: no cover - isreg() members always have data
                raise ArchiveError(f"member {info.name!r} has no data")
            with handle:
                budget.copy(handle, _place(dest, path, is_dir=False), info.name)
                if handle.tell() != info.size:  # pragma: no cover - tarfile raises first
                    raise ArchiveError(f"member {info.name!r} is truncated")


def _tar_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Members one by one (never the whole list first: a hostile archive may hold millions)."""
    while True:
        info = tar.next()
        if info is None:
            return
        yield info


def _extract_zip(archive: Path, dest: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = budget.member(info.filename)
            if path is None and info.is_dir():
                continue
            if path is None:
                raise ArchiveError(
                    f"member {info.filename!r} is not a path inside the bundle: refused"
                )
            kind_bits = stat.S_IFMT(info.external_attr >> 16)  # 0: no unix type recorded
            if info.is_dir():
                _place(dest, path, is_dir=True)
                continue
            if kind_bits and kind_bits != stat.S_IFREG:
                kind = "link" if kind_bits == stat.S_IFLNK else "special file"
                raise ArchiveError(f"member {info.filename!r} is a {kind}: refused")
            if info.file_size > budget.limits.max_member_bytes:
                raise ArchiveError(
                    f"member {info.filename!r} is larger than "
                    f"{budget.limits.max_member_bytes} bytes: refused"
                )
            with zf.open(info) as handle:
                budget.copy(handle, _place(dest, path, is_dir=False), info.filename)
