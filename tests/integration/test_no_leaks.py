"""No secret a scanner found leaves the scan in full: not in the evidence bundle (whose raw
scanner output quotes what the tools found), not in any report, not on stdout or stderr.

The real scan plants a hard-coded password, an AWS key id and secret key, a GitHub token,
a private key block, a JWT signing key and an environment default in a small repository;
bandit, semgrep and checkov find them; the evidence bundle, a report in every registered
format, stdout and stderr are then searched for every secret and every 8-character stretch
of it. The hand-made cases below pin down how the raw output is masked
(compliance.evidence.redaction).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.evidence.bundle import standard_reports, write_bundle
from compliance.evidence.verify import verify_bundle
from compliance.findings import mask
from compliance.model import (
    Finding,
    FindingKind,
    Fingerprint,
    Location,
    RuleId,
    ServiceName,
    Severity,
)
from compliance.reporting import REGISTRY

from factories import scan_result

PASSWORD = "hunter2-Tr0ub4dor-Qx"
AWS_KEY_ID = "AKIAQ3EGRVS7TXMPL4ZD"
AWS_SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY9"
GITHUB_TOKEN = "ghp_Zq3RtY7uVw9xK2mN4pL6sD8fG0hJ1kA5bC3e"
KEY_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0IzW7yWR7QkrmBL7jTKEn5u9qKhbwKfBstIsbMY2Zkp18gnTxKqz",
)
JWT_KEY = "s3cr3t-Jwt-Signing-K3y-Vq"
ENV_DEFAULT = "Zebra-Quartz-Default-77"
SECRETS = (PASSWORD, AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, *KEY_BODY, JWT_KEY, ENV_DEFAULT)

SETTINGS = f'''import os

import jwt
import requests

AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"
GITHUB_TOKEN = "{GITHUB_TOKEN}"
DB_PASSWORD = "{PASSWORD}"
SIGNING_KEY_SECRET = """-----BEGIN RSA PRIVATE KEY-----
{KEY_BODY[0]}
{KEY_BODY[1]}
-----END RSA PRIVATE KEY-----"""
API_URL = os.environ.get("API_PASSWORD", "{ENV_DEFAULT}")


def login(user):
    password = "{PASSWORD}"
    return requests.post("https://example.test/login", data={{"u": user, "p": password}}, timeout=5)


def token(claims):
    return jwt.encode(claims, "{JWT_KEY}", algorithm="HS256")
'''

TERRAFORM = f'''provider "aws" {{
  region     = "eu-west-1"
  access_key = "{AWS_KEY_ID}"
  secret_key = "{AWS_SECRET}"
}}
'''


def fragments(secret: str, width: int = 8) -> list[str]:
    return [secret[i : i + width] for i in range(len(secret) - width + 1)]


def leaks(text: str) -> list[str]:
    return [f for secret in SECRETS for f in fragments(secret) if f in text]


def compliance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


@pytest.mark.integration
def test_a_real_scan_leaks_no_secret_anywhere(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "infra").mkdir()
    (repo / "app" / "settings.py").write_text(SETTINGS, encoding="utf-8")
    (repo / "infra" / "main.tf").write_text(TERRAFORM, encoding="utf-8")
    keys = compliance("evidence", "keygen", "-o", str(tmp_path / "ci"), cwd=tmp_path)
    assert keys.returncode == 0, keys.stderr
    out = tmp_path / "out"
    out.mkdir()
    evidence = tmp_path / "evidence"
    args = ["scan", str(repo), "--evidence", str(evidence), "--sign-key", str(tmp_path / "ci.key")]
    args += [a for s in ("bandit", "semgrep", "checkov") for a in ("--scanner", s)]
    for fmt in REGISTRY:
        args += ["-o", f"{fmt}={out / ('report.' + fmt)}"]
    done = compliance(*args, "--format", "json", "--no-cache", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # high-severity secrets: the gate fails

    data = json.loads(done.stdout)
    assert {s["name"]: s["status"] for s in data["scanners"]} == dict.fromkeys(
        ("bandit", "semgrep", "checkov"), "ok"
    )
    flagged = {(f["tool"], f["rule_id"]) for f in data["findings"]}
    # The scanners did see the secrets: otherwise this test proves nothing.
    assert {("bandit", "B105"), ("semgrep", "jwt-hardcoded-secret")} <= flagged
    assert {("semgrep", "hardcoded-credential-default"), ("checkov", "CKV_AWS_41")} <= flagged

    # ... and their raw output quoted them: masked, as context.json records.
    context = json.loads((evidence / "context.json").read_text(encoding="utf-8"))
    redaction = context["redaction"]
    assert redaction["files_checked"] == len(list((evidence / "raw").rglob("*.*")))
    assert redaction["masked"].get("raw/bandit/1.stdout", 0) >= 5, redaction
    bandit_raw = (evidence / "raw" / "bandit" / "1.stdout").read_text(encoding="utf-8")
    for secret in (PASSWORD, AWS_KEY_ID, GITHUB_TOKEN):
        assert mask(secret) in bandit_raw
    assert "-----BEGIN RSA PRIVATE KEY-----" not in bandit_raw
    json.loads(bandit_raw)  # still the tool's JSON

    texts = {"stdout": done.stdout, "stderr": done.stderr}
    texts |= {f"-o {p.name}": p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}
    texts |= {
        f"bundle {p.relative_to(evidence)}": p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(evidence.rglob("*"))
        if p.is_file()
    }
    assert len([n for n in texts if n.startswith("-o ")]) >= len(REGISTRY)
    assert any(n.startswith("bundle raw/checkov/") for n in texts)
    found = {name: leaks(text) for name, text in texts.items()}
    assert not {name: hits for name, hits in found.items() if hits}

    verify = compliance(
        "evidence", "verify", str(evidence), "--key", str(tmp_path / "ci.pub"), cwd=tmp_path
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


# --- how the raw output is masked (hand-made results, no scanner) ---------------------------

SECRET_LITERAL = "plain-Literal-Vq92-xyz"  # no token format, no secret-sounding name


def secret_finding(snippet: str, message: str) -> Finding:
    return Finding(
        fingerprint=Fingerprint("0" * 31 + "1"),
        service=ServiceName("repo"),
        tool="semgrep",
        rule_id=RuleId("db-connect-literal"),
        title="credential in the source",
        message=message,
        severity=Severity.HIGH,
        kind=FindingKind.CODE,
        location=Location("app/db.py", 3, 3),
        cwe=("CWE-798",),
        snippet=snippet,
    )


def bundle_of(tmp_path: Path, findings: tuple[Finding, ...], raw: dict[str, bytes]) -> Path:
    record = tmp_path / "record"
    for name, content in raw.items():
        (record / name).parent.mkdir(parents=True, exist_ok=True)
        (record / name).write_bytes(content)
    result = scan_result(findings=findings)
    target = tmp_path / "bundle"
    write_bundle(target, result, reports=standard_reports(result), raw_dir=record, signer=None)
    return target


def test_literals_of_a_flagged_line_are_masked_in_every_tool_output(tmp_path: Path) -> None:
    """The result holds the flagged line redacted; a raw line that redacts to it gives the
    secret, which is then masked in every raw file, wherever it occurs as a word."""
    line = f'conn = connect("orders", "{SECRET_LITERAL}")'
    finding = secret_finding('conn = connect("***", "pl***")', "a literal credential")
    bandit = {
        "results": [{"code": f"2 import db\n3 {line}\n4 \n", "issue_text": "x"}],
        "password": "no secret here",
    }
    raw = {
        "bandit/1.stdout": json.dumps(bandit, indent=2).encode(),
        "semgrep/1.stderr": f"retrying with {SECRET_LITERAL} ...\n".encode(),
        "semgrep/1.stdout": b'{"results": [], "note": "nothing \\u00e9"}',
        "semgrep/1.json": b'{"tool": "semgrep", "argv": ["semgrep"], "returncode": 0}\n',
        "git/1.stdout": b"\xff\xfe not UTF-8 \x00 kept byte for byte",
    }
    bundle = bundle_of(tmp_path, (finding,), raw)

    masked = json.loads((bundle / "raw/bandit/1.stdout").read_text(encoding="utf-8"))
    assert masked["results"][0]["code"] == '2 import db\n3 conn = connect("***", "pl***")\n4 \n'
    assert masked["password"] == "no secret here"  # keys and other values untouched
    stderr = (bundle / "raw/semgrep/1.stderr").read_text(encoding="utf-8")
    assert stderr == "retrying with pl*** ...\n"
    for name in ("semgrep/1.stdout", "semgrep/1.json", "git/1.stdout"):
        assert (bundle / "raw" / name).read_bytes() == raw[name], name

    context = json.loads((bundle / "context.json").read_text(encoding="utf-8"))
    assert context["redaction"] == {
        "raw": "secrets masked",
        "files_checked": 5,
        "values": 2,  # "orders" and the credential: every literal of a flagged line
        "masked": {"raw/bandit/1.stdout": 2, "raw/semgrep/1.stderr": 1},
    }
    for path in bundle.rglob("*"):
        if path.is_file():
            assert SECRET_LITERAL.encode() not in path.read_bytes(), path
    assert verify_bundle(bundle, None, allow_unsigned=True).ok


def test_tokens_and_assigned_secrets_are_masked_without_any_finding(tmp_path: Path) -> None:
    """Well-known token formats and values assigned to secret-sounding names are masked in
    raw output even when no finding of the result points at them (a tool's stderr, a line
    of context around another finding)."""
    pem = "-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    text = f"api_key = '{PASSWORD}'\nuser {GITHUB_TOKEN} pushed\n{pem}\n"
    raw = {
        "checkov/1.stderr": text.encode(),
        "checkov/1.stdout": json.dumps({"log": text, "key": AWS_KEY_ID}).encode(),
    }
    bundle = bundle_of(tmp_path, (), raw)
    for name in raw:
        content = (bundle / "raw" / name).read_text(encoding="utf-8")
        for secret in (PASSWORD, GITHUB_TOKEN, AWS_KEY_ID, "MIIBVgIBADANBgkq"):
            assert secret not in content, (name, secret)
    stdout = json.loads((bundle / "raw/checkov/1.stdout").read_text(encoding="utf-8"))
    assert stdout["key"] == "AK***"
    assert stdout["log"].startswith("api_key = 'hu***'\nuser gh*** pushed\n--***")


def test_masking_is_deterministic(tmp_path: Path) -> None:
    raw = {"bandit/1.stdout": json.dumps({"issue_text": f"token = '{GITHUB_TOKEN}'"}).encode()}
    first = bundle_of(tmp_path / "a", (), raw)
    second = bundle_of(tmp_path / "b", (), raw)
    assert (first / "manifest.json").read_bytes() == (second / "manifest.json").read_bytes()
