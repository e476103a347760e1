"""Checks for the semgrep rule pack in policies/semgrep.

Plain tests validate the rule metadata and the test annotations without running semgrep.
Tests marked ``integration`` run semgrep itself (``semgrep --test`` over tests/semgrep and an
offline validation of the rule files).

``semgrep scan --validate`` is not used: it always downloads the ``p/semgrep-rule-lints`` pack
from the semgrep registry, which is unreachable offline. A strict scan with the rule pack parses
every rule (YAML schema, pattern syntax, regexes) and fails on any rule error, which is the
offline equivalent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = REPO_ROOT / "policies" / "semgrep"
SEMGREP_TESTS_DIR = REPO_ROOT / "tests" / "semgrep"
README = RULES_DIR / "README.md"

# Flags every semgrep call needs on an offline machine (the version check alone stalls ~97 s).
OFFLINE_FLAGS = ["--metrics=off", "--disable-version-check"]
SEMGREP_TIMEOUT_S = 120

MIN_RULES = 24
MIN_POSITIVES_PER_RULE = 2
MIN_NEGATIVES_PER_RULE = 1

# our severity scale -> the semgrep severity a rule must declare for it
SEMGREP_SEVERITY_FOR = {
    "critical": "ERROR",
    "high": "ERROR",
    "medium": "WARNING",
    "low": "INFO",
    "info": "INFO",
}
CONFIDENCES = {"high", "medium", "low"}
CATEGORIES = {
    "tls",
    "injection",
    "ssrf",
    "auth",
    "web-config",
    "secrets",
    "logging",
    "crypto",
    "residency",
    "files",
    "deserialization",
    "redirect",
}
PATTERN_KEYS = {"pattern", "patterns", "pattern-either", "pattern-regex"}
KEBAB_CASE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CWE_ID = re.compile(r"^CWE-\d+$")
ANNOTATION = re.compile(r"#\s*(ruleid|ok|todoruleid|todook)\s*:\s*(.+?)\s*$")


def _rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yaml")) + sorted(RULES_DIR.glob("*.yml"))


def _load_rules() -> list[tuple[Path, dict[str, Any]]]:
    rules: list[tuple[Path, dict[str, Any]]] = []
    for path in _rule_files():
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(document, dict), f"{path.name}: top level must be a mapping"
        assert isinstance(document.get("rules"), list), f"{path.name}: missing 'rules' list"
        rules.extend((path, rule) for rule in document["rules"])
    return rules


def _annotations(path: Path) -> dict[str, Counter[str]]:
    """Map rule id -> Counter of annotation kinds ('ruleid', 'ok', ...) found in a test file."""
    found: dict[str, Counter[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ANNOTATION.search(line)
        if match is None:
            continue
        kind, ids = match.groups()
        for rule_id in (part.strip() for part in ids.split(",")):
            found.setdefault(rule_id, Counter())[kind] += 1
    return found


def _test_file_for(rule_file: Path) -> Path:
    return SEMGREP_TESTS_DIR / f"{rule_file.stem}.py"


def _semgrep_executable() -> str:
    candidate = Path(sys.executable).parent / "semgrep"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    on_path = shutil.which("semgrep")
    if on_path:
        return on_path
    pytest.fail("semgrep executable not found next to the Python interpreter or on PATH")


def _run_semgrep(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off")
    return subprocess.run(
        [_semgrep_executable(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SEMGREP_TIMEOUT_S,
        check=False,
    )


def _parse_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        pytest.fail(
            f"semgrep did not print a JSON object (exit {proc.returncode}).\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
    return report


# --------------------------------------------------------------------------- plain tests


def test_rule_pack_has_enough_rules_with_unique_kebab_case_ids() -> None:
    rules = _load_rules()
    ids = [rule.get("id") for _, rule in rules]
    assert len(ids) >= MIN_RULES, f"expected at least {MIN_RULES} rules, found {len(ids)}"
    duplicates = sorted(str(rule_id) for rule_id, n in Counter(ids).items() if n > 1)
    assert not duplicates, f"duplicate rule ids: {duplicates}"
    for rule_id in ids:
        assert isinstance(rule_id, str), f"rule id is not a string: {rule_id!r}"
        assert KEBAB_CASE.match(rule_id), f"rule id is not kebab-case: {rule_id!r}"
        assert "." not in rule_id


def test_rule_files_are_kebab_case_and_have_a_semgrep_test_file() -> None:
    files = _rule_files()
    assert files, f"no rule files in {RULES_DIR}"
    for path in files:
        assert KEBAB_CASE.match(path.stem), f"rule file name not kebab-case: {path.name}"
        assert _test_file_for(path).is_file(), f"missing semgrep test file for {path.name}"


@pytest.mark.parametrize(
    ("rule_file", "rule"),
    [pytest.param(path, rule, id=str(rule.get("id"))) for path, rule in _load_rules()],
)
def test_rule_metadata(rule_file: Path, rule: dict[str, Any]) -> None:
    where = f"{rule_file.name}:{rule.get('id')}"
    message = rule.get("message")
    assert isinstance(message, str), f"{where}: missing message"
    assert message.strip(), f"{where}: empty message"
    assert rule.get("languages") == ["python"], f"{where}: languages must be [python]"
    if rule.get("mode") == "taint":
        assert rule.get("pattern-sources"), f"{where}: taint rule without pattern-sources"
        assert rule.get("pattern-sinks"), f"{where}: taint rule without pattern-sinks"
    else:
        assert PATTERN_KEYS & rule.keys(), f"{where}: no pattern"

    meta = rule.get("metadata")
    assert isinstance(meta, dict), f"{where}: missing metadata"
    assert meta.get("severity") in SEMGREP_SEVERITY_FOR, f"{where}: metadata.severity"
    expected_semgrep_severity = SEMGREP_SEVERITY_FOR[meta["severity"]]
    assert rule.get("severity") == expected_semgrep_severity, (
        f"{where}: severity must be {expected_semgrep_severity} for {meta['severity']}"
    )
    assert meta.get("confidence") in CONFIDENCES, f"{where}: metadata.confidence"
    assert meta.get("category") in CATEGORIES, f"{where}: metadata.category"
    cwe = meta.get("cwe")
    assert isinstance(cwe, list), f"{where}: metadata.cwe must be a list"
    assert cwe, f"{where}: metadata.cwe is empty"
    for entry in cwe:
        assert CWE_ID.match(str(entry)), f"{where}: bad CWE {entry!r}"
    overlap = meta.get("bandit_overlap")
    assert isinstance(overlap, str), f"{where}: metadata.bandit_overlap missing"
    assert overlap.strip(), f"{where}: metadata.bandit_overlap is empty"
    references = meta.get("references")
    assert isinstance(references, list), f"{where}: metadata.references must be a list"
    assert references, f"{where}: metadata.references is empty"
    for url in references:
        assert str(url).startswith("https://"), f"{where}: bad reference URL {url!r}"


def test_every_rule_has_positive_and_negative_annotations_in_its_test_file() -> None:
    problems = []
    rules = _load_rules()
    for rule_file in _rule_files():
        test_file = _test_file_for(rule_file)
        annotations = _annotations(test_file) if test_file.is_file() else {}
        rule_ids = {rule["id"] for path, rule in rules if path == rule_file}
        for rule_id in sorted(rule_ids):
            counts = annotations.get(rule_id, Counter())
            if counts["ruleid"] < MIN_POSITIVES_PER_RULE:
                problems.append(f"{rule_id}: {counts['ruleid']} 'ruleid:' annotations")
            if counts["ok"] < MIN_NEGATIVES_PER_RULE:
                problems.append(f"{rule_id}: {counts['ok']} 'ok:' annotations")
        unknown = sorted(set(annotations) - rule_ids)
        if unknown:
            problems.append(f"{test_file.name}: annotations for unknown rules {unknown}")
    assert not problems, "\n".join(problems)


def test_readme_documents_every_rule() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [rule["id"] for _, rule in _load_rules() if f"`{rule['id']}`" not in text]
    assert not missing, f"rules missing from {README.name}: {missing}"


# --------------------------------------------------------------------------- semgrep runs


@pytest.mark.integration
def test_semgrep_rule_tests_pass() -> None:
    proc = _run_semgrep(
        "--test",
        *OFFLINE_FLAGS,
        "--json",
        "--config",
        str(RULES_DIR.relative_to(REPO_ROOT)),
        str(SEMGREP_TESTS_DIR.relative_to(REPO_ROOT)),
    )
    report = _parse_json(proc)
    assert not report["config_missing_tests"], report["config_missing_tests"]
    assert not report["config_with_errors"], report["config_with_errors"]
    assert "rule validation failed" not in proc.stderr, proc.stderr[-3000:]

    checks: dict[str, dict[str, Any]] = {}
    for config_result in report["results"].values():
        checks.update(config_result["checks"])

    failures = []
    for rule_id, check in sorted(checks.items()):
        if not check["passed"] or check.get("errors"):
            failures.append(f"{rule_id}: {json.dumps(check['matches'])} {check.get('errors')}")
        expected = [line for m in check["matches"].values() for line in m["expected_lines"]]
        if not expected:
            failures.append(f"{rule_id}: no 'ruleid:' expectations were tested")
    assert not failures, "semgrep --test failures:\n" + "\n".join(failures)

    all_ids = {rule["id"] for _, rule in _load_rules()}
    assert set(checks) == all_ids, f"untested rules: {sorted(all_ids - set(checks))}"
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.integration
def test_semgrep_accepts_rule_pack(tmp_path: Path) -> None:
    target = tmp_path / "empty.py"
    target.write_text("", encoding="utf-8")
    proc = _run_semgrep(
        "scan",
        *OFFLINE_FLAGS,
        "--strict",
        "--json",
        "--config",
        str(RULES_DIR),
        str(target),
    )
    report = _parse_json(proc)
    assert report["errors"] == [], json.dumps(report["errors"], indent=2)[:3000]
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.integration
def test_django_debug_rule_is_limited_to_settings_modules(tmp_path: Path) -> None:
    # The shared test file is a settings module, so the "not a settings module" case lives here.
    (tmp_path / "settings.py").write_text(
        'DEBUG = True\nINSTALLED_APPS = ["django.contrib.auth"]\n', encoding="utf-8"
    )
    (tmp_path / "flags.py").write_text("DEBUG = True\n", encoding="utf-8")
    proc = _run_semgrep(
        "scan",
        *OFFLINE_FLAGS,
        "--json",
        "--config",
        str(RULES_DIR / "web-config.yaml"),
        str(tmp_path),
        cwd=tmp_path,
    )
    report = _parse_json(proc)
    hits = {
        (Path(result["path"]).name, result["start"]["line"])
        for result in report["results"]
        if result["check_id"].rsplit(".", 1)[-1] == "django-debug-enabled"
    }
    assert hits == {("settings.py", 1)}


@pytest.mark.integration
def test_semgrep_core_cli_agrees_with_the_python_cli() -> None:
    # compliance runs `semgrep scan --experimental` (semgrep-core's own CLI, ~2 s less
    # start-up); `semgrep --test` above checks the annotations with the Python CLI. Over
    # every rule's test file, the residency code rules and the demo, both must report the
    # same results, field for field (rule ids aside: the Python CLI prefixes the folder).
    files = [
        *sorted(p.relative_to(REPO_ROOT).as_posix() for p in SEMGREP_TESTS_DIR.glob("*.py")),
        *sorted(
            p.relative_to(REPO_ROOT).as_posix()
            for p in (REPO_ROOT / "examples" / "services").rglob("*.py")
        ),
    ]
    packs = ["--config", str(RULES_DIR), "--config", str(REPO_ROOT / "policies/residency/semgrep")]
    common = [*OFFLINE_FLAGS, "--json", "--disable-nosem", *packs, "--", *files]

    def results(*engine: str) -> list[str]:
        proc = _run_semgrep("scan", *engine, *common)
        report = _parse_json(proc)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert report["errors"] == [], json.dumps(report["errors"], indent=2)[:3000]
        out = []
        for item in report["results"]:
            item["check_id"] = item["check_id"].rsplit(".", 1)[-1]
            out.append(json.dumps(item, sort_keys=True))
        return sorted(out)

    python_cli = results()
    assert len(python_cli) >= MIN_RULES * MIN_POSITIVES_PER_RULE
    assert results("--experimental") == python_cli
