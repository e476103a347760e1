"""Signing keys, DSSE envelopes and in-toto Statements for evidence bundles.

- Keys are Ed25519 (the `cryptography` package), in PEM: PKCS#8 for the private key,
  SubjectPublicKeyInfo for the public one. A key's id is the SHA-256 (lowercase hex) of its
  public key's DER SubjectPublicKeyInfo, so anyone holding the `.pub` file can compute it.
- The envelope is DSSE v1 (github.com/secure-systems-lab/dsse, protocol.md and
  envelope.md): the signature covers `PAE(UTF8(payloadType), payload)`, never the JSON
  around it; `keyid` is a hint only and never decides anything.
- The payload is an in-toto Statement v1 (github.com/in-toto/attestation, spec/v1):
  `payloadType` is `application/vnd.in-toto+json`, the subjects are the bundle's manifest
  (sha256) and the scanned commit (gitCommit), the predicate type is ours
  (docs/evidence.md, "The attestation").

Key material comes in as bytes: only the CLI reads files named on the command line or the
environment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from compliance.errors import ConfigError, EnvironmentFailure, Problem, UsageError

#: DSSE payloadType of an in-toto Statement (in-toto attestation spec v1, envelope.md).
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: Our predicate: what an evidence bundle attests (docs/evidence.md).
PREDICATE_TYPE = "https://compliance.dev/evidence/v1"
#: The environment variable that may hold the signing key's PEM text (read by the CLI).
SIGNING_KEY_ENV = "COMPLIANCE_SIGNING_KEY"

_GIT_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_KEY_HINT = "make a key pair with `compliance evidence keygen -o PREFIX`"


# --- keys ---------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True, slots=True)
class Signer:
    """An Ed25519 private key that signs DSSE envelopes."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def keyid(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def load_signer(pem: bytes, source: str) -> Signer:
    """The Ed25519 private key in `pem` (PKCS#8 or OpenSSH PEM); ConfigError naming `source`
    (a file name, or `$COMPLIANCE_SIGNING_KEY`) when it is not one."""
    text = pem.strip()
    if not text:
        raise ConfigError([Problem(source, "", "is empty, expected a PEM private key")])
    if b"PUBLIC KEY-----" in text and b"PRIVATE KEY-----" not in text:
        raise ConfigError(
            [Problem(source, "", "is a public key; signing needs the private key")],
            hint="pass the PREFIX.key file that `compliance evidence keygen` wrote",
        )
    if b"ENCRYPTED" in text:
        raise ConfigError(
            [Problem(source, "", "is an encrypted private key, which is not supported")],
            hint="keep the key unencrypted in a CI secret; " + _KEY_HINT,
        )
    try:
        if text.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            key: object = serialization.load_ssh_private_key(text, password=None)
        else:
            key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = str(exc).split("\n")[0] or type(exc).__name__
        raise ConfigError(
            [Problem(source, "", f"not a PEM private key ({reason})")], hint=_KEY_HINT
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(
            [Problem(source, "", f"is {_algorithm(key)} key; evidence is signed with Ed25519")],
            hint=_KEY_HINT,
        )
    return Signer(key)


def load_public_key(pem: bytes, source: str) -> Ed25519PublicKey:
    """The Ed25519 public key in `pem` (SubjectPublicKeyInfo PEM); ConfigError otherwise."""
    text = pem.strip()
    if b"PRIVATE KEY-----" in text:
        raise ConfigError(
            [Problem(source, "", "is a private key; verification takes the public key")],
            hint="pass the PREFIX.pub file (and keep PREFIX.key secret)",
        )
    try:
        key: object = serialization.load_pem_public_key(text)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = str(exc).split("\n")[0] or type(exc).__name__
        raise ConfigError(
            [Problem(source, "", f"not a PEM public key ({reason})")],
            hint="pass the PREFIX.pub file that `compliance evidence keygen` wrote",
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(
            [Problem(source, "", f"is {_algorithm(key)} key; bundles are signed with Ed25519")]
        )
    return key


def _algorithm(key: object) -> str:
    kinds = (
        ((rsa.RSAPrivateKey, rsa.RSAPublicKey), "an RSA"),
        ((ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey), "an ECDSA"),
        ((dsa.DSAPrivateKey, dsa.DSAPublicKey), "a DSA"),
        ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "an Ed448"),
    )
    for types, name in kinds:
        if isinstance(key, types):
            return name
    return "another kind of"


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_path: Path
    public_path: Path
    keyid: str


def write_key_pair(prefix: Path) -> KeyPair:
    """A new Ed25519 key pair in PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub.

    Refuses to overwrite either file (UsageError) and never leaves one without the other.
    """
    private_path = prefix.with_name(prefix.name + ".key")
    public_path = prefix.with_name(prefix.name + ".pub")
    folder = prefix.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {private_path}: folder {folder} does not exist")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise UsageError(
                f"{path} already exists: a key is never overwritten",
                hint="choose another -o PREFIX, or remove the old pair first",
            )
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(private_path, private, 0o600)
    try:
        _write_new(public_path, public_pem(key.public_key()), 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return KeyPair(private_path, public_path, key_id(key.public_key()))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` (never an existing one, never through a symlink) with `mode`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise UsageError(f"{path} already exists: a key is never overwritten") from None
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # whatever the umask
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror}") from None


# --- DSSE ---------------------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`,
    lengths in bytes as ASCII decimal without leading zeros."""
    encoded = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(encoded), encoded, len(payload), payload)


def sign_envelope(payload: bytes, signer: Signer, payload_type: str = PAYLOAD_TYPE) -> str:
    """The DSSE JSON envelope of `payload`, signed by `signer`, as the text of a file."""
    signature = signer.sign(pae(payload_type, payload))
    envelope = {
        "payloadType": payload_type,
        "payload": base64.standard_b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": signer.keyid, "sig": base64.standard_b64encode(signature).decode("ascii")}
        ],
    }
    return json.dumps(envelope, indent=2) + "\n"


@dataclass(frozen=True, slots=True)
class EnvelopeSignature:
    keyid: str | None
    sig: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded DSSE envelope. Nothing in it is trusted until `verify_envelope` says so."""

    payload_type: str
    payload: bytes
    signatures: tuple[EnvelopeSignature, ...]


class MalformedEnvelope(ValueError):
    """The envelope is not a DSSE JSON envelope; the message says where."""


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64 (DSSE: verifiers MUST accept either), strictly."""
    data = text.encode("ascii", errors="strict")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error:
        return base64.b64decode(data, altchars=b"-_", validate=True)


def parse_envelope(text: bytes) -> Envelope:
    """Decode a DSSE JSON envelope; MalformedEnvelope naming the key that is wrong."""
    try:
        raw = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedEnvelope("not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise MalformedEnvelope(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError):
        raise MalformedEnvelope("invalid JSON") from None
    if not isinstance(raw, dict):
        raise MalformedEnvelope("expected a JSON object (a DSSE envelope)")
    payload_type = raw.get("payloadType")
    if not isinstance(payload_type, str):
        raise MalformedEnvelope("payloadType: missing or not a string")
    payload = _b64_field(raw.get("payload"), "payload")
    signatures = raw.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise MalformedEnvelope("signatures: missing, not a list, or empty")
    parsed = []
    for index, entry in enumerate(signatures):
        where = f"signatures[{index}]"
        if not isinstance(entry, dict):
            raise MalformedEnvelope(f"{where}: expected an object")
        keyid = entry.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise MalformedEnvelope(f"{where}.keyid: not a string")
        parsed.append(
            EnvelopeSignature(keyid or None, _b64_field(entry.get("sig"), f"{where}.sig"))
        )
    return Envelope(payload_type, payload, tuple(parsed))


def _b64_field(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedEnvelope(f"{where}: missing or not a string")
    try:
        return b64decode(value)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedEnvelope(f"{where}: not valid base64") from None


def verify_envelope(envelope: Envelope, public_key: Ed25519PublicKey) -> bool:
    """Whether some signature of `envelope` verifies with `public_key` over the PAE.

    Every signature is tried: `keyid` is an unauthenticated hint (DSSE), so it neither
    accepts nor rejects a signature.
    """
    message = pae(envelope.payload_type, envelope.payload)
    for signature in envelope.signatures:
        try:
            public_key.verify(signature.sig, message)
        except InvalidSignature:
            continue
        return True
    return False


# --- in-toto Statement ----------------------------------------------------------------------


def git_commit_digest(commit: str | None) -> str | None:
    """The commit as a DigestSet `gitCommit` value (40 or 64 lowercase hex), or None."""
    if commit is None:
        return None
    value = commit.strip().lower()
    return value if _GIT_SHA.match(value) else None


def statement(
    *,
    manifest_name: str,
    manifest_sha256: str,
    commit: str | None,
    annotations: Mapping[str, Any],
    predicate: Mapping[str, Any],
) -> bytes:
    """The serialized in-toto Statement v1 for a bundle (compact JSON, UTF-8)."""
    subject: list[dict[str, Any]] = [{"name": manifest_name, "digest": {"sha256": manifest_sha256}}]
    digest = git_commit_digest(commit)
    if digest is not None:
        subject.append(
            {"name": "commit", "digest": {"gitCommit": digest}, "annotations": dict(annotations)}
        )
    document = {
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def subject_digests(subjects: Sequence[Any], algorithm: str) -> list[tuple[str | None, str]]:
    """(name, value) of every well-formed subject with a digest of `algorithm`."""
    found = []
    for entry in subjects:
        if not isinstance(entry, dict):
            continue
        digest = entry.get("digest")
        name = entry.get("name")
        if isinstance(digest, dict) and isinstance(digest.get(algorithm), str):
            found.append((name if isinstance(name, str) else None, digest[algorithm]))
    return found
