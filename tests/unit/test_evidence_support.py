"""Shared pieces of the evidence-bundle tests (no tests here): a fixed key, a scan result with a
commit and a CI context, a small recorded raw-output folder, and byte flipping."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from compliance.errors import ConfigError
from compliance.evidence.signing import Signer, load_signer
from compliance.evidence.verify import VerifyReport, verify_bundle
from compliance.model import CiContext, RunContext, ScanResult

#: RFC 8032 section 7.1, TEST 1 and TEST 2 secret keys: fixed keys, deterministic signatures.
SEED_A = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
SEED_B = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def private_pem(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def signer(seed: bytes = SEED_A) -> Signer:
    return load_signer(private_pem(seed), "test key")


def with_context(result: ScanResult) -> ScanResult:
    """The recorded examples result as if scanned at a commit, in a GitHub Actions run."""
    ci = CiContext(
        provider="github",
        run_id="42",
        run_url="https://github.com/o/r/actions/runs/42",
        actor="octocat",
        event="push",
        ref="refs/heads/main",
    )
    return dataclasses.replace(
        result, commit=COMMIT, context=RunContext(branch="main", dirty=False, ci=ci)
    )


def make_raw_dir(root: Path) -> Path:
    """What ProcessRunner(record_dir=...) leaves: `<tool>/<n>.json|.stdout|.stderr`."""
    for tool, argv, stdout in (
        ("bandit", ["bandit", "-f", "json", "-q", "app.py"], '{"results": []}\n'),
        ("pip-audit", ["python", "-m", "compliance.scanners.pip_audit.worker"], '{"deps": []}\n'),
    ):
        folder = root / tool
        folder.mkdir(parents=True)
        meta = {"tool": tool, "argv": argv, "returncode": 0, "duration_s": 0.5, "error": None}
        (folder / "1.json").write_text(json.dumps(meta, indent=2) + "\n")
        (folder / "1.stdout").write_text(stdout)
        (folder / "1.stderr").write_text("")
    return root


def flip(path: Path, offset: int) -> None:
    """Change one bit of one byte (offset may be negative, from the end)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def failures(path: Path, key: bytes | None, **kwargs: object) -> tuple[VerifyReport | None, str]:
    """The report and the text of every problem (or of the ConfigError raised)."""
    try:
        report = verify_bundle(path, key, **kwargs)  # type: ignore[arg-type]
    except ConfigError as error:
        return None, "\n".join(error.lines())
    return report, "\n".join(str(p) for p in report.problems)
