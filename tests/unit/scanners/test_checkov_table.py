from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from compliance.config import bundled_policy_dir
from compliance.errors import ConfigError
from compliance.model import Severity
from compliance.scanners.checkov import load_check_table
from compliance.scanners.checkov.table import CATEGORIES

TABLE = bundled_policy_dir() / "checkov" / "checks.yaml"
REPO = Path(__file__).resolve().parents[3]
FRAMEWORKS = ("terraform", "cloudformation", "kubernetes", "dockerfile", "github_actions")


def test_the_shipped_table_loads() -> None:
    table = load_check_table(TABLE)
    assert re.fullmatch(r"\d+\.\d+\.\d+", table.checkov_version)
    assert len(table.checks) > 1000
    for check_id, policy in table.checks.items():
        assert re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", check_id)
        assert policy.category in CATEGORIES
        assert policy.title.strip() == policy.title
        assert policy.frameworks, check_id
        assert all(re.fullmatch(r"CWE-\d+", c) for c in policy.cwe)
    per_framework = Counter(fw for p in table.checks.values() for fw in p.frameworks)
    assert set(per_framework) == set(FRAMEWORKS)
    assert {p.severity for p in table.checks.values()} >= {
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
    }


def test_the_repo_copy_is_the_shipped_one() -> None:
    assert (REPO / "policies" / "checkov" / "checks.yaml").read_bytes() == TABLE.read_bytes()


def test_header_says_how_it_was_generated() -> None:
    head = TABLE.read_text(encoding="utf-8")[:1000]
    version = load_check_table(TABLE).checkov_version
    assert f"checkov {version}" in head
    assert "python scripts/gen_checkov_checks.py > policies/checkov/checks.yaml" in head


@pytest.mark.parametrize(
    ("check_id", "severity", "category"),
    [
        ("CKV_AWS_20", Severity.CRITICAL, "networking"),  # public S3 READ ACL
        ("CKV_AWS_24", Severity.CRITICAL, "networking"),  # 0.0.0.0/0 to port 22
        ("CKV_AWS_25", Severity.CRITICAL, "networking"),  # 0.0.0.0/0 to port 3389
        ("CKV_AWS_17", Severity.CRITICAL, "networking"),  # RDS publicly accessible
        ("CKV_AWS_41", Severity.CRITICAL, "secrets"),  # hard-coded provider credentials
        ("CKV_AWS_45", Severity.CRITICAL, "secrets"),  # hard-coded secrets in Lambda env
        ("CKV_K8S_16", Severity.HIGH, "kubernetes"),  # privileged container
        ("CKV_K8S_17", Severity.HIGH, "kubernetes"),  # hostPID
        ("CKV_K8S_19", Severity.HIGH, "kubernetes"),  # hostNetwork
        ("CKV2_GHA_1", Severity.HIGH, "iam"),  # write-all permissions
        ("CKV_GHA_2", Severity.HIGH, "supply-chain"),  # shell injection
        ("CKV_DOCKER_7", Severity.MEDIUM, "supply-chain"),  # image :latest
        ("CKV_DOCKER_2", Severity.LOW, "general"),  # no HEALTHCHECK
        ("CKV_AWS_23", Severity.LOW, "networking"),  # security group without description
        ("CKV_K8S_8", Severity.LOW, "kubernetes"),  # liveness probe
    ],
)
def test_curated_severities(check_id: str, severity: Severity, category: str) -> None:
    policy = load_check_table(TABLE).checks[check_id]
    assert (policy.severity, policy.category) == (severity, category)


def test_hard_coded_secrets_carry_cwe_798() -> None:
    table = load_check_table(TABLE)
    hard_coded = [p for p in table.checks.values() if re.search(r"hard[- ]?coded", p.title, re.I)]
    assert hard_coded
    assert all(p.cwe == ("CWE-798",) for p in hard_coded)


def test_unknown_check_is_medium_general() -> None:
    policy = load_check_table(TABLE).policy("CKV_FUTURE_1")
    assert (policy.severity, policy.category) == (Severity.MEDIUM, "general")


def test_loaded_once_per_path() -> None:
    assert load_check_table(TABLE) is load_check_table(TABLE)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_ENTRY = '{severity: high, category: networking, title: "t", frameworks: [terraform]}'


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        (
            'checkov_version: "1"\nchecks:\n'
            "  CKV_AWS_20: {severity: severe, category: iam, title: t}",
            "checks.CKV_AWS_20.severity",
            "Input should be",
        ),
        (
            'checkov_version: "1"\nchecks:\n  CKV_AWS_20: {severity: high, category: iam, title: t,'
            " colour: red}",
            "checks.CKV_AWS_20.colour",
            "unknown key",
        ),
        (
            'checkov_version: "1"\nchecks:\n'
            "  CKV_AWS_20: {severity: high, category: money, title: t}",
            "checks.CKV_AWS_20.category",
            "Input should be",
        ),
        (
            f'checkov_version: "1"\nchecks:\n  aws-20: {GOOD_ENTRY}',
            "checks.aws-20",
            "should match pattern",
        ),
        (
            'checkov_version: "1"\nchecks:\n  CKV_AWS_20: {severity: high, category: iam, title: t,'
            " cwe: [798]}",
            "checks.CKV_AWS_20.cwe[0]",
            "",
        ),
        (
            'checkov_version: "1"\nchecks:\n  CKV_AWS_20: {severity: high, category: iam}',
            "checks.CKV_AWS_20.title",
            "Field required",
        ),
        (f"checks:\n  CKV_AWS_20: {GOOD_ENTRY}", "checkov_version", "Field required"),
    ],
    ids=["severity", "unknown-key", "category", "bad-id", "cwe", "missing-title", "no-version"],
)
def test_malformed_table_names_the_key(
    tmp_path: Path, body: str, location: str, message: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_check_table(path)
    problems = caught.value.problems
    assert any(p.location.startswith(location) and message in p.message for p in problems), [
        str(p) for p in problems
    ]
    assert all(p.file == str(path) for p in problems)


@pytest.mark.parametrize(
    "body", ["checks: [unclosed", "- just\n- a list\n", ""], ids=["yaml", "list", "empty"]
)
def test_unreadable_table_is_a_config_error(tmp_path: Path, body: str) -> None:
    with pytest.raises(ConfigError):
        load_check_table(_write(tmp_path, body))


def test_missing_table_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid configuration") as caught:
        load_check_table(tmp_path / "nope.yaml")
    assert "cannot read" in str(caught.value.problems[0])


def test_table_is_plain_yaml() -> None:
    # Anything reading the table (e.g. control mapping by category) needs only a YAML parser.
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    assert set(data) == {"checkov_version", "checks"}
