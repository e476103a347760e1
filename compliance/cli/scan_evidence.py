"""`compliance scan --evidence DIR` and `--ledger PATH|URL`: everything is checked before the
scan starts (the key, the target, the ledger), so a ten-minute scan never ends in "cannot
write"; the bundle and the ledger entry are written after it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from compliance.cli import clock
from compliance.cli.output import require_folder
from compliance.errors import UsageError
from compliance.model import ScanResult
from compliance.reporting import RenderOptions

# The evidence, signing and ledger modules are imported when a bundle or a ledger record is
# asked for: a plain scan (a pre-commit hook) does not pay for them.
if TYPE_CHECKING:
    from compliance.evidence.archive import ArchiveFormat
    from compliance.evidence.bundle import BundleInfo
    from compliance.evidence.signing import Signer


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    target: Path
    archive: ArchiveFormat | None
    signer: Signer | None


def prepare_evidence(
    target: Path | None, archive: str | None, sign_key: Path | None
) -> EvidenceRequest | None:
    """Check the bundle's target and read the signing key, before anything runs."""
    if target is None:
        if archive is not None or sign_key is not None:
            raise UsageError("--archive and --sign-key need --evidence DIR")
        return None
    from compliance.cli.evidence.bundle import read_signing_key  # noqa: PLC0415 - lazy
    from compliance.evidence.bundle import (  # noqa: PLC0415 - lazy
        bundle_target,
        check_bundle_target,
    )

    fmt = cast("ArchiveFormat | None", archive)
    final = bundle_target(target, fmt)
    require_folder(final, f"--evidence {target}")
    check_bundle_target(final, fmt, force=False)
    return EvidenceRequest(target, fmt, read_signing_key(sign_key, dict(os.environ)))


def check_ledger(location: str | None) -> None:
    """Open (and create) the ledger now: an unreachable server fails before the scan."""
    if location is not None:
        from compliance.evidence.ledger.store import open_ledger  # noqa: PLC0415 - lazy

        open_ledger(location, create=True).close()


@contextlib.contextmanager
def record_dir(request: EvidenceRequest | None) -> Iterator[Path | None]:
    """A temporary folder for the scanners' raw output when a bundle is wanted."""
    if request is None:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="compliance-raw-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def finish_evidence(
    result: ScanResult,
    request: EvidenceRequest | None,
    raw: Path | None,
    options: RenderOptions,
) -> BundleInfo | None:
    if request is None:
        return None
    from compliance.cli.evidence.bundle import UNSIGNED_WARNING  # noqa: PLC0415 - lazy
    from compliance.evidence.assessors import load_rule_scanners  # noqa: PLC0415 - lazy
    from compliance.evidence.bundle import standard_reports, write_bundle  # noqa: PLC0415 - lazy

    info = write_bundle(
        request.target,
        result,
        reports=standard_reports(result, options),
        raw_dir=raw,
        signer=request.signer,
        archive=request.archive,
        rule_scanners=load_rule_scanners(result),
    )
    signed = f"signed with key {info.keyid}" if info.signed else "UNSIGNED"
    click.echo(f"evidence: wrote {info.path} ({info.files} files, {signed})", err=True)
    if not info.signed:
        click.echo(UNSIGNED_WARNING, err=True)
    return info


def record_to_ledger(location: str | None, result: ScanResult, info: BundleInfo | None) -> None:
    if location is None:
        return
    from compliance.evidence.ledger.records import record_from_result  # noqa: PLC0415 - lazy
    from compliance.evidence.ledger.store import open_ledger  # noqa: PLC0415 - lazy

    record = record_from_result(result, bundle_digest=info.manifest_sha256 if info else None)
    with contextlib.closing(open_ledger(location, create=True)) as ledger:
        ledger.append(record, clock.utc_now())
        click.echo(f"ledger: recorded this run in {ledger.location}", err=True)
