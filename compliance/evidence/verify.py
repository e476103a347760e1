"""Checking an evidence bundle: every byte against the manifest, the manifest against the
signed attestation, the attestation against the public key, the commit against the result.

A bundle is a folder, a .tar.gz or a .zip (recognised by their first bytes). An archive is
extracted into a fresh temporary folder first, refusing anything hostile (see
compliance.evidence.archive). Every problem is collected and named precisely (the file,
what was expected, what was found); nothing is repaired and nothing is written.

Without a public key nothing proves who made the bundle, so `verify_bundle` counts that as
a problem unless `allow_unsigned` says integrity alone is enough (docs/evidence.md).
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from compliance.errors import ComplianceError, EnvironmentFailure, ExitCode, UsageError
from compliance.evidence import signing
from compliance.evidence.archive import ArchiveError, ArchiveLimits, archive_kind, extract
from compliance.evidence.manifest import (
    ATTESTATION,
    MANIFEST,
    RESULT,
    UNLISTED,
    MalformedManifest,
    Manifest,
    parse_manifest,
    sha256_file,
)


class SignatureState(enum.Enum):
    VERIFIED = "verified"  # signed, and a signature verifies with the given key
    NOT_CHECKED = "not-checked"  # signed, but no key was given
    UNSIGNED = "unsigned"  # the manifest says unsigned and there is no attestation
    INVALID = "invalid"  # missing, unusable, or not made with the given key


@dataclass(frozen=True, slots=True)
class BundleProblem:
    """One reason the bundle does not verify. `malformed`: a part cannot even be read."""

    file: str
    message: str
    malformed: bool = False

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    bundle: str
    files: int = 0
    signature: SignatureState = SignatureState.INVALID
    keyid: str | None = None
    commit: str | None = None
    finished_at: str | None = None
    problems: tuple[BundleProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def malformed(self) -> bool:
        return any(p.malformed for p in self.problems)


class VerificationFailed(ComplianceError):
    """The bundle does not verify: exit 1, like a failed gate (the check said no), or 3 when
    some part of it cannot even be parsed (a malformed manifest, envelope or archive)."""

    exit_code = ExitCode.GATE_FAILED

    def __init__(self, report: VerifyReport) -> None:
        count = len(report.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"evidence bundle {report.bundle} does NOT verify ({count} {noun})",
            hint="do not rely on this bundle; obtain the original from where the scan stored it",
        )
        self.report = report
        if report.malformed:
            self.exit_code = ExitCode.INVALID_CONFIG

    def lines(self) -> list[str]:
        return [self.message, *(f"  {p}" for p in self.report.problems)]


def verify_bundle(
    path: Path,
    public_key: bytes | None,
    *,
    allow_unsigned: bool = False,
    key_source: str = "public key",
    limits: ArchiveLimits | None = None,
) -> VerifyReport:
    """Check the bundle at `path` (folder or archive) with `public_key` (PEM), if any.

    Raises only for the caller's inputs: UsageError when `path` does not exist, ConfigError
    when the key is not an Ed25519 public key, EnvironmentFailure when a file cannot be
    read. Everything wrong with the bundle itself is a problem in the report.
    """
    display = str(path)
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    key = signing.load_public_key(public_key, key_source) if public_key is not None else None
    checker = _Checker(display, key, allow_unsigned)
    if path.is_dir():
        return checker.check(path)
    try:
        kind = archive_kind(path)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot read {path}: {exc.strerror}") from None
    if kind is None:
        return checker.fail(
            display, "not an evidence bundle: expected a folder, a .tar.gz or a .zip"
        )
    with tempfile.TemporaryDirectory(prefix="compliance-verify-") as scratch:
        dest = Path(scratch) / "bundle"
        dest.mkdir()
        try:
            extract(path, kind, dest, limits or ArchiveLimits())
        except ArchiveError as exc:
            return checker.fail(display, str(exc))
        except OSError as exc:
            raise EnvironmentFailure(f"cannot read {path}: {exc.strerror or exc}") from None
        return checker.check(_archive_root(dest))


def _archive_root(dest: Path) -> Path:
    """The bundle inside an extracted archive: its top, or its one top-level folder."""
    if (dest / MANIFEST).exists():
        return dest
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return dest


class _Checker:
    def __init__(self, display: str, key: Ed25519PublicKey | None, allow_unsigned: bool) -> None:
        self.display = display
        self.key = key
        self.allow_unsigned = allow_unsigned
        self.problems: list[BundleProblem] = []

    def problem(self, file: str, message: str, *, malformed: bool = False) -> None:
        self.problems.append(BundleProblem(file, message, malformed))

    def fail(self, file: str, message: str) -> VerifyReport:
        self.problem(file, message, malformed=True)
        return VerifyReport(self.display, problems=tuple(self.problems))

    def check(self, root: Path) -> VerifyReport:
        manifest_path = root / MANIFEST
        if not manifest_path.is_file() or manifest_path.is_symlink():
            return self.fail(MANIFEST, "missing: this is not an evidence bundle")
        manifest_bytes = _read(manifest_path)
        try:
            manifest = parse_manifest(manifest_bytes)
        except MalformedManifest as exc:
            for message in exc.problems:
                self.problem(MANIFEST, message, malformed=True)
            return VerifyReport(self.display, problems=tuple(self.problems))
        intact = self._check_files(root, manifest)
        result = self._read_result(root, manifest, intact)
        commit = _string(result, "commit")
        signature, keyid = self._check_attestation(
            root,
            manifest,
            signing_input=manifest_bytes,
            commit=commit,
            result_ok=result is not None,
        )
        finished = _string(result, "finished_at")
        return VerifyReport(
            bundle=self.display,
            files=len(manifest.files),
            signature=signature,
            keyid=keyid,
            commit=commit,
            finished_at=finished,
            problems=tuple(self.problems),
        )

    # -- files --------------------------------------------------------------------------

    def _check_files(self, root: Path, manifest: Manifest) -> set[str]:
        """Compare the tree with the manifest; the paths whose bytes match."""
        present = self._walk(root)
        intact = set()
        for entry in manifest.files:
            if entry.path not in present:
                self.problem(entry.path, "missing (listed in manifest.json)")
                continue
            try:
                size, digest = sha256_file(root / entry.path)
            except OSError as exc:
                raise EnvironmentFailure(f"cannot read {entry.path}: {exc.strerror}") from None
            if size != entry.size:
                self.problem(
                    entry.path,
                    f"changed: manifest.json says {entry.size} bytes with sha256 {entry.sha256}, "
                    f"found {size} bytes with sha256 {digest}",
                )
            elif digest != entry.sha256:
                self.problem(
                    entry.path,
                    f"changed: sha256 differs: manifest.json says {entry.sha256}, found {digest}",
                )
            if size == entry.size and digest == entry.sha256:
                intact.add(entry.path)
        listed = {e.path for e in manifest.files}
        for path in sorted(present - listed - UNLISTED):
            self.problem(path, "not listed in manifest.json (added after the bundle was made?)")
        return intact

    def _walk(self, root: Path) -> set[str]:
        """Every regular file under `root`; anything else is a problem."""
        found = set()
        for folder, dirs, names in os.walk(root):
            base = Path(folder)
            for name in list(dirs):
                if (base / name).is_symlink():
                    dirs.remove(name)
                    relative = (base / name).relative_to(root).as_posix()
                    self.problem(relative, "is a symbolic link; a bundle holds regular files only")
            for name in names:
                path = base / name
                relative = path.relative_to(root).as_posix()
                mode = path.lstat().st_mode
                if stat.S_ISREG(mode):
                    found.add(relative)
                else:
                    what = "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
                    self.problem(relative, f"is {what}; a bundle holds regular files only")
        return found

    def _read_result(
        self, root: Path, manifest: Manifest, intact: set[str]
    ) -> dict[str, Any] | None:
        """result.json, read only when its bytes match the manifest."""
        if RESULT not in {e.path for e in manifest.files}:
            self.problem(
                RESULT, "not in the manifest: a bundle always holds its result", malformed=True
            )
            return None
        if RESULT not in intact:
            return None  # already reported
        try:
            raw = json.loads(_read(root / RESULT).decode("utf-8"))
        except (ValueError, RecursionError):
            self.problem(RESULT, "not valid JSON", malformed=True)
            return None
        if not isinstance(raw, dict) or "commit" not in raw:
            self.problem(RESULT, "not a JSON result (no commit key)", malformed=True)
            return None
        if raw["commit"] is not None and not isinstance(raw["commit"], str):
            self.problem(RESULT, "commit: not a string", malformed=True)
            return None
        return raw

    # -- attestation ----------------------------------------------------------------------

    def _check_attestation(
        self,
        root: Path,
        manifest: Manifest,
        *,
        signing_input: bytes,
        commit: str | None,
        result_ok: bool,
    ) -> tuple[SignatureState, str | None]:
        path = root / ATTESTATION
        exists = path.exists() or path.is_symlink()
        if not manifest.signed:
            if exists:
                self.problem(
                    ATTESTATION, "present, though manifest.json says the bundle is unsigned"
                )
                return SignatureState.INVALID, None
            if self.key is not None:
                self.problem(
                    MANIFEST,
                    'the bundle is NOT signed ("signed": false), but a key was given to check '
                    "its signature",
                )
            elif not self.allow_unsigned:
                self.problem(
                    MANIFEST,
                    "the bundle is NOT signed: its hashes only prove it matches its own "
                    "manifest, which anyone can rewrite (accept that with --allow-unsigned)",
                )
            return SignatureState.UNSIGNED, None
        if not exists:
            self.problem(ATTESTATION, "missing, though manifest.json says the bundle is signed")
            return SignatureState.INVALID, None
        if path.is_symlink() or not path.is_file():
            self.problem(ATTESTATION, "is not a regular file")
            return SignatureState.INVALID, None
        try:
            envelope = signing.parse_envelope(_read(path))
        except signing.MalformedEnvelope as exc:
            self.problem(ATTESTATION, f"not a DSSE envelope: {exc}", malformed=True)
            return SignatureState.INVALID, None
        hints = sorted({s.keyid for s in envelope.signatures if s.keyid})
        if envelope.payload_type != signing.PAYLOAD_TYPE:
            self.problem(
                ATTESTATION,
                f"payloadType is {envelope.payload_type!r}, expected {signing.PAYLOAD_TYPE!r}",
                malformed=True,
            )
            return SignatureState.INVALID, hints[0] if hints else None
        if self.key is None:
            state, keyid = SignatureState.NOT_CHECKED, (hints[0] if hints else None)
            if not self.allow_unsigned:
                self.problem(
                    ATTESTATION,
                    "signature present but NOT checked: pass --key PUBKEY to establish who "
                    "signed the bundle (or --allow-unsigned to check its integrity only)",
                )
        else:
            keyid = signing.key_id(self.key)
            # A keyid may narrow the keys tried (DSSE); it never makes a signature valid.
            usable = [s for s in envelope.signatures if s.keyid in (None, keyid)]
            narrowed = signing.Envelope(envelope.payload_type, envelope.payload, tuple(usable))
            if not signing.verify_envelope(narrowed, self.key):
                named = ", ".join(hints) if hints else "none"
                self.problem(
                    ATTESTATION,
                    f"the signature does not verify with the given key (key id {keyid}; "
                    f"the envelope names key id {named}): wrong key, or the attestation "
                    "was altered",
                )
                return SignatureState.INVALID, keyid
            state = SignatureState.VERIFIED
        self._check_statement(envelope.payload, signing_input, commit, result_ok)
        return state, keyid

    def _check_statement(
        self, payload: bytes, manifest_bytes: bytes, commit: str | None, result_ok: bool
    ) -> None:
        try:
            statement = json.loads(payload.decode("utf-8"))
        except (ValueError, RecursionError):
            self.problem(ATTESTATION, "the payload is not a JSON in-toto Statement", malformed=True)
            return
        if not isinstance(statement, dict):
            self.problem(ATTESTATION, "the payload is not a JSON object", malformed=True)
            return
        wrong = []
        if statement.get("_type") != signing.STATEMENT_TYPE:
            wrong.append(
                f"_type is {statement.get('_type')!r}, expected {signing.STATEMENT_TYPE!r}"
            )
        if statement.get("predicateType") != signing.PREDICATE_TYPE:
            wrong.append(
                f"predicateType is {statement.get('predicateType')!r}, "
                f"expected {signing.PREDICATE_TYPE!r}"
            )
        subjects = statement.get("subject")
        if not isinstance(subjects, list) or not subjects:
            wrong.append("subject: missing or empty")
            subjects = []
        for message in wrong:
            self.problem(ATTESTATION, f"statement {message}", malformed=True)
        if wrong:
            return
        actual = _sha256_bytes(manifest_bytes)
        signed = [v for n, v in signing.subject_digests(subjects, "sha256") if n == MANIFEST]
        if not signed:
            self.problem(
                ATTESTATION, "the statement has no subject for manifest.json", malformed=True
            )
        elif actual not in signed:
            self.problem(
                MANIFEST,
                f"sha256 differs from the attested one: the attestation signs {signed[0]}, "
                f"found {actual} (manifest.json was altered after signing)",
            )
        if not result_ok:
            return  # result.json is already reported
        expected = signing.git_commit_digest(commit)
        attested = [v.lower() for _n, v in signing.subject_digests(subjects, "gitCommit")]
        if expected is None and attested:
            self.problem(
                RESULT,
                f"has no git commit ({json.dumps(commit)}), but the attestation names commit "
                f"{attested[0]}",
            )
        elif expected is not None and not attested:
            self.problem(
                ATTESTATION,
                f"names no commit, but result.json is of commit {expected}",
            )
        elif expected is not None and expected not in attested:
            self.problem(
                RESULT,
                f"commit {expected} differs from the attested commit {attested[0]}",
            )


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EnvironmentFailure(f"cannot read {path}: {exc.strerror}") from None


def _string(data: dict[str, Any] | None, key: str) -> str | None:
    value = data.get(key) if data is not None else None
    return value if isinstance(value, str) else None
