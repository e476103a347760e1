from __future__ import annotations

from dataclasses import replace

import pytest

from compliance.findings import compute_fingerprint, finalize, redact
from compliance.model import (
    REPO_SERVICE,
    FindingKind,
    Location,
    Package,
    RawFinding,
    RuleId,
    ServiceName,
    Severity,
)


def raw(path: str = "svc/a.py", line: int = 10, snippet: str = "os.system(cmd)") -> RawFinding:
    return RawFinding(
        tool="bandit",
        rule_id=RuleId("B605"),
        title="start process with a shell",
        message="Starting a process with a shell",
        severity=Severity.HIGH,
        kind=FindingKind.CODE,
        location=Location(path, line, line),
        snippet=snippet,
    )


def everyone(_: str) -> ServiceName:
    return ServiceName("svc")


def test_fingerprint_ignores_line_numbers_and_whitespace() -> None:
    a = compute_fingerprint(raw(line=10), 0)
    b = compute_fingerprint(raw(line=250, snippet="os.system(  cmd )".replace("  ", " ")), 0)
    assert compute_fingerprint(raw(line=250), 0) == a
    assert b != a  # a different snippet is a different problem
    assert compute_fingerprint(raw(snippet="  os.system(cmd)\n"), 0) == a


@pytest.mark.parametrize(
    "comment",
    [
        "# nosec",
        "# nosec B605",
        "#nosec: B605, B602",
        "# nosemgrep: some-rule (reason, with a comma)",
        "# NOSEM",
        "# checkov:skip=CKV_AWS_20: public website",
    ],
)
def test_an_inline_suppression_comment_does_not_change_the_fingerprint(comment: str) -> None:
    # so a waiver or baseline entry keeps matching after someone adds `# nosec`
    assert compute_fingerprint(raw(snippet=f"os.system(cmd)  {comment}"), 0) == compute_fingerprint(
        raw(), 0
    )
    assert compute_fingerprint(raw(snippet="os.system(cmd)  # other comment"), 0) != (
        compute_fingerprint(raw(), 0)
    )


def test_fingerprint_distinguishes_files_rules_and_occurrences() -> None:
    base = compute_fingerprint(raw(), 0)
    assert compute_fingerprint(raw(path="other/a.py"), 0) != base
    assert compute_fingerprint(replace(raw(), rule_id=RuleId("B602")), 0) != base
    assert compute_fingerprint(raw(), 1) != base


def test_finalize_gives_identical_snippets_in_one_file_distinct_stable_fingerprints() -> None:
    findings = finalize([raw(line=30), raw(line=10)], everyone)
    assert len({f.fingerprint for f in findings}) == 2
    # Moving both down keeps both identities.
    moved = finalize([raw(line=40), raw(line=20)], everyone)
    assert {f.fingerprint for f in moved} == {f.fingerprint for f in findings}


def test_finalize_collapses_exact_duplicates_and_sorts_worst_first() -> None:
    low = replace(raw(path="z.py"), severity=Severity.LOW, rule_id=RuleId("B404"))
    findings = finalize([low, raw(), raw()], everyone)
    assert [f.severity for f in findings] == [Severity.HIGH, Severity.LOW]


def test_dependency_fingerprint_survives_version_bump() -> None:
    def dep(version: str) -> RawFinding:
        return replace(
            raw(path="requirements.txt", snippet=None),
            tool="pip-audit",
            rule_id=RuleId("PYSEC-2023-74"),
            resource=f"requests=={version}",
            package=Package("requests", version),
        )

    assert compute_fingerprint(dep("2.25.1"), 0) == compute_fingerprint(dep("2.26.0"), 0)


def test_redact_masks_known_token_formats_everywhere() -> None:
    text = 'key = "AKIAIOSFODNN7EXAMPLE" and token ghp_abcdefghijklmnopqrstuvwxyz0123456789'
    out = redact(text, secret=False)
    assert "AKIAIOSFODNN7EXAMPLE" not in out
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in out
    assert "***" in out


def test_redact_masks_values_assigned_to_secret_names() -> None:
    out = redact('DB_PASSWORD = "correct-horse-battery"', secret=False)
    assert "correct-horse-battery" not in out
    assert out.startswith("DB_PASSWORD = ")


def test_secret_findings_never_carry_the_secret() -> None:
    secret = RawFinding(
        tool="bandit",
        rule_id=RuleId("B105"),
        title="hardcoded password string",
        message="Possible hardcoded password: 'hunter2-prod'",
        severity=Severity.LOW,
        kind=FindingKind.SECRET,
        location=Location("a.py", 3, 3),
        snippet='conn = connect(pw="hunter2-prod")',
    )
    (finding,) = finalize([secret], everyone)
    assert "hunter2-prod" not in finding.message
    assert finding.snippet is not None
    assert "hunter2-prod" not in finding.snippet
    assert "hunter2-prod" not in finding.fingerprint


def test_attribution_uses_the_callable() -> None:
    (finding,) = finalize([raw(path="services/api/x.py")], lambda p: ServiceName(p.split("/")[1]))
    assert finding.service == "api"


def test_an_adapters_service_overrides_attribution_by_path() -> None:
    tagged = replace(raw(path="infra/s3.tf"), service=ServiceName("worker"))
    found = finalize([tagged, raw(path="infra/other.tf")], lambda p: REPO_SERVICE)
    by_path = {f.location.path: f for f in found}
    assert {p: f.service for p, f in by_path.items()} == {
        "infra/s3.tf": "worker",
        "infra/other.tf": REPO_SERVICE,
    }
    # the service is not part of the identity
    assert by_path["infra/s3.tf"].fingerprint == compute_fingerprint(raw(path="infra/s3.tf"), 0)
