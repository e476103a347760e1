"""`compliance evidence bundle | keygen | verify`: exit codes and messages, every time."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli

RESULT = Path(__file__).resolve().parent.parent / "assets" / "results" / "examples.json"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    code, out, err = invoke("evidence", "keygen", "-o", str(tmp_path / "ci"))
    assert code == 0, err
    assert out == ""
    assert "key id " in err
    return tmp_path / "ci.key", tmp_path / "ci.pub"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "record" / "bandit"
    folder.mkdir(parents=True)
    (folder / "1.json").write_text(json.dumps({"tool": "bandit", "argv": ["bandit"]}))
    (folder / "1.stdout").write_text('{"results": []}')
    (folder / "1.stderr").write_text("")
    return folder.parent


def test_the_group_lists_the_commands() -> None:
    code, out, _ = invoke("evidence", "--help")
    assert code == 0
    for name in ("bundle", "keygen", "verify"):
        assert name in out


def test_keygen_refuses_to_overwrite(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, _ = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    before = private.read_bytes()
    code, _, err = invoke("evidence", "keygen", "-o", str(tmp_path / "ci"))
    assert code == 2 and "already exists" in err
    assert private.read_bytes() == before
    code, _, err = invoke("evidence", "keygen")
    assert code == 2 and "Missing option" in err


def test_signed_bundle_round_trip(tmp_path: Path, keys: tuple[Path, Path], raw: Path) -> None:
    private, public = keys
    out = tmp_path / "evidence"
    code, stdout, err = invoke(
        "evidence",
        "bundle",
        str(RESULT),
        "-o",
        str(out),
        "--raw",
        str(raw),
        "--sign-key",
        str(private),
    )
    assert code == 0, err
    assert stdout == ""
    assert "signed with key id" in err and "NOT SIGNED" not in err
    assert (out / "raw" / "bandit" / "1.stdout").is_file()
    assert (out / "attestation.intoto.json").is_file()

    code, stdout, err = invoke("evidence", "verify", str(out), "--key", str(public))
    assert code == 0, err
    assert "files match manifest.json" in stdout and "signature verified: key id" in stdout

    code, stdout, err = invoke("evidence", "verify", str(out))
    assert code == 1
    assert "signature present but NOT checked" in err
    code, stdout, err = invoke("evidence", "verify", str(out), "--allow-unsigned")
    assert code == 0
    assert "signature NOT checked" in stdout and "warning" in err


def test_signing_key_from_the_environment(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    pem = private.read_text()
    code, _, err = invoke(
        "evidence",
        "bundle",
        str(RESULT),
        "-o",
        str(tmp_path / "e"),
        env={"COMPLIANCE_SIGNING_KEY": pem},
    )
    assert code == 0, err
    assert "signed with key id" in err
    code, _, err = invoke("evidence", "verify", str(tmp_path / "e"), "--key", str(public))
    assert code == 0, err

    code, _, err = invoke(
        "evidence",
        "bundle",
        str(RESULT),
        "-o",
        str(tmp_path / "f"),
        env={"COMPLIANCE_SIGNING_KEY": ""},
    )
    assert code == 3 and "$COMPLIANCE_SIGNING_KEY: is set but empty" in err
    code, _, err = invoke(
        "evidence",
        "bundle",
        str(RESULT),
        "-o",
        str(tmp_path / "g"),
        env={
            "COMPLIANCE_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
        },
    )
    assert code == 3 and "$COMPLIANCE_SIGNING_KEY: not a PEM private key" in err
    assert not (tmp_path / "f").exists() and not (tmp_path / "g").exists()


def test_unsigned_bundle_warns_loudly(tmp_path: Path) -> None:
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", str(tmp_path / "e"))
    assert code == 0, err
    assert "UNSIGNED" in err and "THIS BUNDLE IS NOT SIGNED" in err
    code, _, err = invoke("evidence", "verify", str(tmp_path / "e"))
    assert code == 1 and "the bundle is NOT signed" in err
    code, out, err = invoke("evidence", "verify", str(tmp_path / "e"), "--allow-unsigned")
    assert code == 0 and "NOT SIGNED" in out and "warning" in err


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archives(tmp_path: Path, keys: tuple[Path, Path], kind: str) -> None:
    private, public = keys
    code, _, err = invoke(
        "evidence",
        "bundle",
        str(RESULT),
        "-o",
        str(tmp_path / "e"),
        "--archive",
        kind,
        "--sign-key",
        str(private),
    )
    assert code == 0, err
    archive = tmp_path / f"e.{kind}"
    assert archive.is_file() and not (tmp_path / "e").exists()
    code, _, err = invoke("evidence", "verify", str(archive), "--key", str(public))
    assert code == 0, err
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) - 100])
    code, _, err = invoke("evidence", "verify", str(archive), "--key", str(public))
    assert code == 3 and "corrupt or truncated archive" in err


def test_tampering_exits_1_naming_the_file(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    out = tmp_path / "e"
    code, _, err = invoke(
        "evidence", "bundle", str(RESULT), "-o", str(out), "--sign-key", str(private)
    )
    assert code == 0, err
    with (out / "context.json").open("a") as handle:
        handle.write(" ")
    code, stdout, err = invoke("evidence", "verify", str(out), "--key", str(public))
    assert code == 1 and stdout == ""
    assert "does NOT verify (1 problem)" in err and "context.json: changed" in err

    other, other_pub = tmp_path / "other.key", tmp_path / "other.pub"
    code, _, _ = invoke("evidence", "keygen", "-o", str(tmp_path / "other"))
    assert code == 0 and other.is_file()
    (out / "context.json").write_bytes((out / "context.json").read_bytes()[:-1])
    code, _, err = invoke("evidence", "verify", str(out), "--key", str(other_pub))
    assert code == 1 and "does not verify with the given key" in err


def test_malformed_bundle_exits_3(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    out = tmp_path / "e"
    code, _, err = invoke(
        "evidence", "bundle", str(RESULT), "-o", str(out), "--sign-key", str(private)
    )
    assert code == 0, err
    (out / "attestation.intoto.json").write_text('{"payloadType": 1}')
    code, _, err = invoke("evidence", "verify", str(out), "--key", str(public))
    assert code == 3 and "attestation.intoto.json: not a DSSE envelope: payloadType" in err
    (out / "manifest.json").write_text("{")
    code, _, err = invoke("evidence", "verify", str(out), "--key", str(public))
    assert code == 3 and "manifest.json: invalid JSON" in err


def test_bad_keys_for_verify(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, _ = keys
    out = tmp_path / "e"
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", str(out))
    assert code == 0, err
    code, _, err = invoke("evidence", "verify", str(out), "--key", str(tmp_path / "missing.pub"))
    assert code == 2 and "--key" in err and "no such file" in err
    code, _, err = invoke("evidence", "verify", str(out), "--key", str(private))
    assert code == 3 and "is a private key" in err
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("hello")
    code, _, err = invoke("evidence", "verify", str(out), "--key", str(garbage))
    assert code == 3 and "not a PEM public key" in err
    code, _, err = invoke("evidence", "verify", str(tmp_path / "nope"))
    assert code == 2 and "no such file or folder" in err


def test_bad_inputs_for_bundle(
    tmp_path: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keys
    out = str(tmp_path / "e")
    code, _, err = invoke("evidence", "bundle", str(tmp_path / "none.json"), "-o", out)
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, _, err = invoke("evidence", "bundle", str(bad), "-o", out)
    assert code == 3 and "invalid JSON" in err
    code, _, err = invoke(
        "evidence", "bundle", str(RESULT), "-o", out, "--sign-key", str(tmp_path / "no.key")
    )
    assert code == 2 and "--sign-key" in err and "no such file" in err
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", out, "--sign-key", str(public))
    assert code == 3 and "is a public key; signing needs the private key" in err
    code, _, err = invoke(
        "evidence", "bundle", str(RESULT), "-o", out, "--raw", str(tmp_path / "x")
    )
    assert code == 2 and "--raw" in err
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", str(tmp_path / "no" / "e"))
    assert code == 2 and "does not exist" in err
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", out, "--archive", "rar")
    assert code == 2
    assert not (tmp_path / "e").exists()

    original = Path.read_bytes

    def unreadable(self: Path) -> bytes:
        if self == private:
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", out, "--sign-key", str(private))
    assert code == 4 and "cannot read the key: Permission denied" in err
    assert not (tmp_path / "e").exists()


def test_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "e"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", str(out))
    assert code == 2 and "already exists" in err and "--force" in err
    assert (out / "keep.txt").read_text() == "mine"
    code, _, err = invoke("evidence", "bundle", str(RESULT), "-o", str(out), "--force")
    assert code == 0, err
    assert not (out / "keep.txt").exists() and (out / "manifest.json").is_file()
