"""No secret a scanner found is ever printed in full, in any format.

A fake AWS access key, a fake AWS secret key and a password are planted in a small
repository; the real bandit and semgrep find them; every registered format is written and
grepped for the secrets (and for any 8-character stretch of them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.reporting import REGISTRY

pytestmark = pytest.mark.integration

ACCESS_KEY = "AKIAQ3EGRVS7TXMPL4ZD"
SECRET_KEY = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY9"
PASSWORD = "Tr0ub4dor-and-3-horses"
SECRETS = (ACCESS_KEY, SECRET_KEY, PASSWORD)

SOURCE = f'''import boto3
import requests

AWS_ACCESS_KEY_ID = "{ACCESS_KEY}"
AWS_SECRET_ACCESS_KEY = "{SECRET_KEY}"
DB_PASSWORD = "{PASSWORD}"


def client():
    return boto3.client(
        "s3", aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=AWS_SECRET_ACCESS_KEY
    )


def login(user):
    password = "{PASSWORD}"
    form = {{"u": user, "p": password}}
    return requests.post("https://example.test/login", data=form, verify=False)
'''


def fragments(secret: str, width: int = 8) -> list[str]:
    return [secret[i : i + width] for i in range(len(secret) - width + 1)]


def test_no_format_prints_a_planted_secret(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "settings.py").write_text(SOURCE)
    out = tmp_path / "out"
    out.mkdir()
    args = ["scan", str(repo), "-q", "--scanner", "bandit", "--scanner", "semgrep"]
    for fmt in REGISTRY:
        args += ["-o", f"{fmt}={out / ('report.' + fmt)}"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    data = json.loads(result.stdout)
    assert {s["name"]: s["status"] for s in data["scanners"]} == {"bandit": "ok", "semgrep": "ok"}
    secret_findings = [
        f for f in data["findings"] if f["kind"] == "secret" or "CWE-798" in f["cwe"]
    ]
    assert secret_findings, "the planted secrets were not found: the test proves nothing"

    texts = {"stdout": result.stdout + result.stderr}
    texts |= {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}
    assert len(texts) == len(REGISTRY) + 1
    for name, text in texts.items():
        for secret in SECRETS:
            leaked = [f for f in fragments(secret) if f in text]
            assert not leaked, f"{name} shows part of a planted secret: {leaked[:3]}"
