"""Ed25519 keys, DSSE (PAE, envelopes, the spec's test vectors) and the in-toto Statement.

Vectors: secure-systems-lab/dsse protocol.md (the PAE example) and testvectors/vectors.json
(Ed25519 keys from RFC 8032 section 7.1 TEST 1), checked here against our implementation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from compliance.errors import ConfigError, UsageError
from compliance.evidence import signing

from .test_evidence_support import SEED_A, SEED_B, private_pem, public_pem

INTOTO = "application/vnd.in-toto+json"
STATEMENT = b'{"_type":"https://in-toto.io/Statement/v1"}'
#: RFC 8032 TEST 1 public key.
PUBLIC_A = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def test_pae_matches_the_protocol_example() -> None:
    assert (
        signing.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters_and_keeps_the_trailing_space() -> None:
    assert signing.pae("application/vnd.exämple+json", b"{}").startswith(
        b"DSSEv1 29 application/vnd.ex\xc3\xa4mple+json 2 "
    )
    assert signing.pae(INTOTO, b"") == b"DSSEv1 28 application/vnd.in-toto+json 0 "


@pytest.mark.parametrize(
    ("payload_type", "payload", "sig"),
    [
        (
            INTOTO,
            STATEMENT,
            "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==",
        ),
        (
            "application/vnd.exämple+json",
            STATEMENT,
            "xmSk/ug66ysT7ayhkCIjhAq42zgZXSsEWuzUaNL7w2eGAdF/NU6/fRXPtmfN+5DNSAs5/i2lUnHjbbjPsu0tAw==",
        ),
        (
            INTOTO,
            b"",
            "gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg==",
        ),
    ],
)
def test_signatures_match_the_dsse_test_vectors(
    payload_type: str, payload: bytes, sig: str
) -> None:
    signer = signing.load_signer(private_pem(SEED_A), "A")
    raw_public = signer.public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert raw_public.hex() == PUBLIC_A
    text = signing.sign_envelope(payload, signer, payload_type)
    envelope = json.loads(text)
    assert envelope["payloadType"] == payload_type
    assert base64.b64decode(envelope["payload"]) == payload
    assert envelope["signatures"] == [{"keyid": signer.keyid, "sig": sig}]
    parsed = signing.parse_envelope(text.encode())
    assert signing.verify_envelope(parsed, signer.public_key)


def test_url_safe_base64_is_accepted() -> None:
    """Vector `url-safe-base64`: verifiers MUST accept either alphabet."""
    envelope = {
        "payload": "-_-_Pj8=",
        "payloadType": INTOTO,
        "signatures": [
            {
                "keyid": "A",
                "sig": "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsG"
                "W886DbWNWcCmX5twLrAw==",
            }
        ],
    }
    parsed = signing.parse_envelope(json.dumps(envelope).encode())
    assert parsed.payload == bytes([0xFB, 0xFF, 0xBF, 0x3E, 0x3F])
    public = signing.load_public_key(public_pem(SEED_A), "A")
    assert signing.verify_envelope(parsed, public)


def test_a_signature_over_another_payload_type_is_rejected() -> None:
    """Vector `payload-type-swapped`: the type is authenticated through the PAE."""
    signer = signing.load_signer(private_pem(SEED_A), "A")
    envelope = json.loads(signing.sign_envelope(STATEMENT, signer))
    envelope["payloadType"] = "application/vnd.example.other+json"
    parsed = signing.parse_envelope(json.dumps(envelope).encode())
    assert not signing.verify_envelope(parsed, signer.public_key)


def test_wrong_key_and_altered_payload_are_rejected() -> None:
    signer = signing.load_signer(private_pem(SEED_A), "A")
    other = signing.load_public_key(public_pem(SEED_B), "B")
    text = signing.sign_envelope(STATEMENT, signer)
    assert not signing.verify_envelope(signing.parse_envelope(text.encode()), other)
    envelope = json.loads(text)
    envelope["payload"] = base64.b64encode(STATEMENT + b" ").decode()
    altered = signing.parse_envelope(json.dumps(envelope).encode())
    assert not signing.verify_envelope(altered, signer.public_key)


def test_key_id_is_the_sha256_of_the_public_key_der() -> None:
    signer = signing.load_signer(private_pem(SEED_A), "A")
    spki_prefix = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo, Ed25519
    expected = hashlib.sha256(spki_prefix + bytes.fromhex(PUBLIC_A)).hexdigest()
    assert signer.keyid == expected
    assert signing.key_id(signing.load_public_key(public_pem(SEED_A), "pub")) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"{", "invalid JSON"),
        (b"\xff", "not valid UTF-8"),
        (b"[]", "expected a JSON object"),
        (b'{"payload": "e30=", "signatures": [{"sig": "AA=="}]}', "payloadType: missing"),
        (b'{"payloadType": "t", "signatures": [{"sig": "AA=="}]}', "payload: missing"),
        (
            b'{"payloadType": "t", "payload": "e30", "signatures": [{"sig": "AA=="}]}',
            "payload: not valid base64",
        ),
        (
            b'{"payloadType": "t", "payload": "e30=", "signatures": ["x"]}',
            "signatures[0]: expected an object",
        ),
        (
            b'{"payloadType": "t", "payload": "e30=", "signatures": [{"sig": "AA==", "keyid": 1}]}',
            "signatures[0].keyid: not a string",
        ),
        (
            b'{"payloadType": "t", "payload": "e30=", "signatures": [{}]}',
            "signatures[0].sig: missing",
        ),
        (
            b'{"payloadType": "t", "payload": "\\u00e9", "signatures": [{"sig": "AA=="}]}',
            "payload: not valid base64",
        ),
    ],
)
def test_malformed_envelopes(text: bytes, message: str) -> None:
    with pytest.raises(
        signing.MalformedEnvelope, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        signing.parse_envelope(text)


def test_statement_follows_in_toto_v1() -> None:
    payload = signing.statement(
        manifest_name="manifest.json",
        manifest_sha256="ab" * 32,
        commit="0123456789ABCDEF0123456789abcdef01234567",
        annotations={"branch": "main", "dirty": True},
        predicate={"x": 1},
    )
    statement = json.loads(payload)
    assert statement == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "manifest.json", "digest": {"sha256": "ab" * 32}},
            {
                "name": "commit",
                "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
                "annotations": {"branch": "main", "dirty": True},
            },
        ],
        "predicateType": "https://compliance.dev/evidence/v1",
        "predicate": {"x": 1},
    }
    for commit in (None, "HEAD", "abc123"):
        only = json.loads(
            signing.statement(
                manifest_name="m", manifest_sha256="00", commit=commit, annotations={}, predicate={}
            )
        )
        assert [s["name"] for s in only["subject"]] == ["m"]


# --- key files -------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    pair = signing.write_key_pair(tmp_path / "ci")
    assert pair.private_path == tmp_path / "ci.key" and pair.public_path == tmp_path / "ci.pub"
    assert stat.S_IMODE(pair.private_path.stat().st_mode) == 0o600
    signer = signing.load_signer(pair.private_path.read_bytes(), "ci.key")
    public = signing.load_public_key(pair.public_path.read_bytes(), "ci.pub")
    assert signer.keyid == signing.key_id(public) == pair.keyid
    assert b"BEGIN PRIVATE KEY" in pair.private_path.read_bytes()  # PKCS#8
    assert b"BEGIN PUBLIC KEY" in pair.public_path.read_bytes()  # SubjectPublicKeyInfo


@pytest.mark.parametrize("existing", ["ci.key", "ci.pub"])
def test_keygen_never_overwrites(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("precious")
    with pytest.raises(UsageError, match="already exists"):
        signing.write_key_pair(tmp_path / "ci")
    assert (tmp_path / existing).read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]


def test_keygen_into_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        signing.write_key_pair(tmp_path / "no" / "ci")


def _problem(error: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(error.value.problems[0])


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"", "k: is empty, expected a PEM private key"),
        (b"garbage", "k: not a PEM private key"),
        (public_pem(SEED_A), "k: is a public key; signing needs the private key"),
        (
            Ed25519PrivateKey.from_private_bytes(SEED_A).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            "k: is an encrypted private key, which is not supported",
        ),
        (
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "k: is an ECDSA key; evidence is signed with Ed25519",
        ),
    ],
    # fixed ids: the encrypted and ECDSA keys are random, and pytest-xdist's workers must
    # collect the same test names
    ids=["empty", "garbage", "public-key", "encrypted", "ecdsa"],
)
def test_bad_private_keys(pem: bytes, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        signing.load_signer(pem, "k")
    assert _problem(error).startswith(message)


def test_openssh_private_keys_are_accepted() -> None:
    openssh = Ed25519PrivateKey.from_private_bytes(SEED_A).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    assert (
        signing.load_signer(openssh, "k").keyid
        == signing.load_signer(private_pem(SEED_A), "k").keyid
    )


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"garbage", "pub: not a PEM public key"),
        (private_pem(SEED_A), "pub: is a private key; verification takes the public key"),
        (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "pub: is an ECDSA key; bundles are signed with Ed25519",
        ),
    ],
    ids=["garbage", "private-key", "ecdsa"],  # fixed: the ECDSA key is random (xdist)
)
def test_bad_public_keys(pem: bytes, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        signing.load_public_key(pem, "pub")
    assert _problem(error).startswith(message)
