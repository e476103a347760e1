"""`compliance evidence bundle | keygen | verify`: signed evidence bundles for auditors.

Exit codes (docs/evidence.md): 0 written / intact; 1 the bundle does not verify; 2 usage
(a path that does not exist, an output that would overwrite something); 3 malformed input
(a key file that is not an Ed25519 PEM key, a result, manifest, envelope or archive that
cannot be parsed); 4 environment (a file that cannot be read or written).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import click

from compliance.errors import ConfigError, EnvironmentFailure, Problem, UsageError
from compliance.evidence.archive import SUFFIXES, ArchiveFormat
from compliance.evidence.assessors import load_rule_scanners
from compliance.evidence.bundle import missing_standard_reports, standard_reports, write_bundle
from compliance.evidence.signing import SIGNING_KEY_ENV, Signer, load_signer, write_key_pair
from compliance.evidence.verify import SignatureState, VerificationFailed, verify_bundle
from compliance.reporting.load import load_result

UNSIGNED_WARNING = (
    "warning: THIS BUNDLE IS NOT SIGNED: anyone can alter it and rewrite its manifest, so it "
    f"proves nothing on its own. Sign it with --sign-key FILE or ${SIGNING_KEY_ENV}."
)


def read_signing_key(path: Path | None, env: dict[str, str]) -> Signer | None:
    """The signing key from `--sign-key FILE`, else from $COMPLIANCE_SIGNING_KEY (PEM text),
    else None. A variable that is set but empty is an error, not an unsigned bundle: it is
    what a CI secret that failed to reach the job looks like."""
    if path is not None:
        return load_signer(_read_key_file(path, "--sign-key"), str(path))
    if SIGNING_KEY_ENV not in env:
        return None
    value = env[SIGNING_KEY_ENV]
    if not value.strip():
        raise ConfigError(
            [Problem(f"${SIGNING_KEY_ENV}", "", "is set but empty")],
            hint="the CI secret did not reach this job; unset the variable to write an "
            "unsigned bundle deliberately",
        )
    return load_signer(value.encode("utf-8"), f"${SIGNING_KEY_ENV}")


def _read_key_file(path: Path, option: str) -> bytes:
    if not path.exists():
        raise UsageError(f"{option} {path}: no such file")
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder, expected a PEM key file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EnvironmentFailure(
            f"{option} {path}: cannot read the key: {exc.strerror}",
            hint="check the file's permissions",
        ) from None


@dataclass(frozen=True, slots=True)
class BundleOptions:
    result_path: Path
    output: Path
    raw_dir: Path | None
    sign_key: Path | None
    archive: ArchiveFormat | None
    force: bool


@click.command("bundle")
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="The bundle folder (or, with --archive, the archive file).",
)
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path),
    help="The scanners' recorded raw output (<tool>/<n>.json|.stdout|.stderr) to include.",
)
@click.option(
    "--sign-key",
    type=click.Path(path_type=Path),
    help=f"Ed25519 private key (PEM) to sign with; default ${SIGNING_KEY_ENV} (PEM text).",
)
@click.option(
    "--archive",
    type=click.Choice(list(SUFFIXES)),
    help="Write one .tar.gz or .zip file instead of a folder.",
)
@click.option("--force", is_flag=True, help="Replace an existing bundle at the output path.")
def bundle(
    result_path: Path,
    output: Path,
    raw_dir: Path | None,
    sign_key: Path | None,
    archive: str | None,
    force: bool,
) -> None:
    """Write the evidence bundle of a saved JSON result.

    The bundle holds the result, its SARIF and HTML reports, the raw scanner output, the
    run's context, a per-control index and a manifest of SHA-256 digests, signed (in-toto
    attestation in a DSSE envelope) when a key is given. It is built beside the output and
    renamed into place, so a failure never leaves half a bundle. Exit 0 when written.
    """
    options = BundleOptions(
        result_path=result_path,
        output=output,
        raw_dir=raw_dir,
        sign_key=sign_key,
        archive=cast(ArchiveFormat | None, archive),
        force=force,
    )
    if not options.result_path.is_file():
        raise UsageError(f"no such file: {options.result_path}")
    if options.raw_dir is not None and not options.raw_dir.is_dir():
        raise UsageError(f"--raw {options.raw_dir}: no such folder")
    signer = read_signing_key(options.sign_key, dict(os.environ))
    result = load_result(options.result_path, str(options.result_path))
    for fmt in missing_standard_reports():
        click.echo(
            f"note: this build has no {fmt} renderer: the bundle has no {fmt} report", err=True
        )
    info = write_bundle(
        options.output,
        result,
        reports=standard_reports(result),
        raw_dir=options.raw_dir,
        signer=signer,
        archive=options.archive,
        force=options.force,
        rule_scanners=load_rule_scanners(result),
    )
    signed = f"signed with key id {info.keyid}" if info.signed else "UNSIGNED"
    click.echo(f"wrote evidence bundle {info.path}: {info.files} files, {signed}", err=True)
    if not info.signed:
        click.echo(UNSIGNED_WARNING, err=True)


@click.command("keygen")
@click.option(
    "-o",
    "--output",
    "prefix",
    required=True,
    type=click.Path(path_type=Path),
    metavar="PREFIX",
    help="Write PREFIX.key (private, mode 0600) and PREFIX.pub.",
)
def keygen(prefix: Path) -> None:
    """Make an Ed25519 key pair for signing evidence bundles. Never overwrites a key.

    Keep PREFIX.key secret (a CI secret, passed as $COMPLIANCE_SIGNING_KEY or
    --sign-key); give PREFIX.pub to whoever verifies the bundles.
    """
    pair = write_key_pair(prefix)
    click.echo(f"wrote {pair.private_path} (private, mode 0600) and {pair.public_path}", err=True)
    click.echo(f"key id {pair.keyid}", err=True)


@click.command("verify")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path),
    metavar="PUBKEY",
    help="The signer's Ed25519 public key (PEM), to check the signature.",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept a bundle whose signature is absent or not checked (no --key): integrity only.",
)
def verify(bundle_path: Path, key_path: Path | None, allow_unsigned: bool) -> None:
    """Check an evidence bundle (folder, .tar.gz or .zip): every file against the manifest,
    the manifest and commit against the signed attestation, the signature against --key.

    Exit 0 when intact and signed by the key; 1 when anything differs or the signature is
    missing, unchecked (no --key) or wrong; 3 when a part cannot be parsed.
    """
    key = _read_key_file(key_path, "--key") if key_path is not None else None
    report = verify_bundle(
        bundle_path, key, allow_unsigned=allow_unsigned, key_source=str(key_path)
    )
    if not report.ok:
        raise VerificationFailed(report)
    click.echo(f"evidence bundle {report.bundle}: {report.files} files match manifest.json")
    commit = report.commit or "(no commit recorded)"
    click.echo(f"scan of commit {commit}, finished {report.finished_at or '(unknown)'}")
    match report.signature:
        case SignatureState.VERIFIED:
            click.echo(f"signature verified: key id {report.keyid}")
        case SignatureState.NOT_CHECKED:
            click.echo("signature NOT checked (no --key): authenticity not established")
            click.echo(
                "warning: integrity only; pass --key PUBKEY to check who signed it", err=True
            )
        case SignatureState.UNSIGNED:
            click.echo("NOT SIGNED: integrity only, against a manifest anyone could rewrite")
            click.echo("warning: the bundle is not signed; it proves nothing on its own", err=True)
        case SignatureState.INVALID:  # pragma: no cover - always a problem, raised above
            raise VerificationFailed(report)
