"""`compliance evidence verify` on tampered bundles: the verifier reports problems, never
crashes, and never calls a changed bundle good.

A signed bundle is written once (write_bundle, from the recorded examples result); each
example copies it and changes it: manifest.json or the attestation mutated as JSON (or as
bytes), a file changed with the manifest rewritten to match (a consistent forgery: only the
signature can catch it), files deleted, added, replaced by a folder or a symbolic link.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from compliance.evidence.bundle import standard_reports, write_bundle
from compliance.evidence.manifest import ATTESTATION, MANIFEST
from compliance.evidence.signing import Signer, load_signer
from compliance.evidence.verify import VerifyReport, verify_bundle
from compliance.reporting.load import load_result

from .strategies import ASSETS, damaged, documents, dump_json, expect_ours, fuzz_settings, mutated

#: RFC 8032 section 7.1, TEST 1: a fixed key, so the bundle is the same every run.
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PRIVATE = Ed25519PrivateKey.from_private_bytes(SEED)
PUBLIC_PEM = PRIVATE.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def signer() -> Signer:
    pem = PRIVATE.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return load_signer(pem, "fuzz key")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = load_result(ASSETS / "results" / "examples.json", "examples.json")
    target = tmp_path_factory.mktemp("bundle") / "evidence"
    info = write_bundle(
        target, result, reports=standard_reports(result), raw_dir=None, signer=signer()
    )
    assert verify_bundle(info.path, PUBLIC_PEM).ok
    return info.path


@functools.cache
def listed(bundle: Path) -> tuple[str, ...]:
    """Every file of the bundle, relative, sorted (the ones a change can pick)."""
    return tuple(sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()))


def snapshot(root: Path) -> dict[str, Any]:
    """What is in the tree: each file's bytes, each folder, each link's target."""
    found: dict[str, Any] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[relative] = ("link", os.readlink(path))
            elif path.is_dir():
                found[relative] = "folder"
            else:
                found[relative] = path.read_bytes()
    return found


def _json_of(path: Path) -> Any:
    """The JSON in `path`, or None when an earlier change left none there."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def _forge(root: Path, relative: str, data: bytes) -> None:
    """Write `data` to a file and rewrite its manifest entry to match (no re-signing)."""
    (root / relative).write_bytes(data)
    manifest = _json_of(root / MANIFEST)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    for entry in files if isinstance(files, list) else []:
        if isinstance(entry, dict) and entry.get("path") == relative:
            entry["size"] = len(data)
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


CHANGES = (
    "manifest-json",
    "manifest-bytes",
    "attestation-json",
    "statement",
    "forge",
    "flip",
    "delete",
    "add",
    "folder",
    "symlink",
)


@st.composite
def tampering(draw: st.DrawFn, files: tuple[str, ...]) -> list[tuple[str, str]]:
    """One to three changes: (kind, the file it applies to)."""
    count = draw(st.integers(1, 3))
    return [(draw(st.sampled_from(CHANGES)), draw(st.sampled_from(files))) for _ in range(count)]


def _regular(path: Path) -> bool:
    """A regular file, reached through no symbolic link: the only kind a change writes to,
    so that no change ever writes outside the copy of the bundle."""
    return path.is_file() and not any(p.is_symlink() for p in (path, *path.parents))


def apply(root: Path, kind: str, target: str, data: st.DataObject) -> None:
    path = root / target
    manifest = root / MANIFEST
    attestation = root / ATTESTATION
    if kind == "manifest-json" and (_regular(manifest) or not manifest.exists()):
        real = _json_of(manifest) if _regular(manifest) else None
        manifest.write_bytes(data.draw(documents([real], most=3)))
    elif kind == "manifest-bytes" and _regular(manifest):
        manifest.write_bytes(data.draw(damaged(manifest.read_bytes())))
    elif kind == "attestation-json" and _regular(attestation):
        envelope = _json_of(attestation)
        attestation.write_bytes(data.draw(documents([envelope], most=3)))
    elif kind == "statement" and _regular(attestation):
        envelope = _json_of(attestation)
        if isinstance(envelope, dict) and isinstance(envelope.get("payload"), str):
            try:
                statement = json.loads(base64.b64decode(envelope["payload"]))
            except ValueError:
                return
            changed = data.draw(mutated(statement, most=2))
            envelope["payload"] = base64.b64encode(dump_json(changed)).decode()
            attestation.write_text(json.dumps(envelope))
    elif kind == "forge" and _regular(path) and _regular(manifest):
        _forge(root, target, data.draw(damaged(path.read_bytes())))
    elif kind == "flip" and _regular(path) and path.stat().st_size:
        content = bytearray(path.read_bytes())
        content[data.draw(st.integers(0, len(content) - 1))] ^= 0x01
        path.write_bytes(bytes(content))
    elif kind == "delete" and _regular(path):
        path.unlink()
    elif kind == "add":
        extra = root / data.draw(st.sampled_from(["extra.txt", "reports/new.html", ".hidden"]))
        if not extra.exists() and not extra.parent.is_symlink():
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_text("added later\n")
    elif kind == "folder" and _regular(path):
        path.unlink()
        path.mkdir()
        (path / "inside").write_text("x")
    elif kind == "symlink" and _regular(path):
        # Links out of the bundle lead to a file of the test's own temporary folder.
        outside = root.parent / "outside.txt"
        path.unlink()
        path.symlink_to(data.draw(st.sampled_from([str(outside), "../outside.txt", "."])))


@fuzz_settings(scale=0.5)
@given(data=st.data(), keyed=st.booleans(), allow_unsigned=st.booleans())
def test_verify_tampered_bundle(
    bundle: Path,
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    keyed: bool,
    allow_unsigned: bool,
) -> None:
    root = tmp_path_factory.mktemp("tampered", numbered=True) / "evidence"
    shutil.copytree(bundle, root, symlinks=True)
    (root.parent / "outside.txt").write_text("not part of the bundle\n")
    before = snapshot(root)
    for kind, target in data.draw(tampering(listed(bundle))):
        apply(root, kind, target, data)
    after = snapshot(root)
    key = PUBLIC_PEM if keyed else None
    report = expect_ours(
        "evidence verify", lambda: verify_bundle(root, key, allow_unsigned=allow_unsigned)
    )
    # Never an exception: every problem of the bundle is in the report.
    assert isinstance(report, VerifyReport), report
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    if changed - {ATTESTATION}:
        assert not report.ok, f"changed {sorted(changed)} but the bundle verifies"
    for problem in report.problems:
        assert problem.file and problem.message
    shutil.rmtree(root.parent)
