"""Generate policies/checkov/checks.yaml: our severity and category for every checkov check.

checkov OSS reports no severity (only its paid platform does), and its own categories are
inconsistent (the CloudFormation variant of "S3 bucket allows public READ" is filed under
LOGGING). So `compliance` ships its own table, regenerated whenever checkov is upgraded:

    python scripts/gen_checkov_checks.py > policies/checkov/checks.yaml

It imports checkov's check registries for the frameworks we run (terraform, cloudformation,
kubernetes, dockerfile, github_actions; helm and kustomize reuse the kubernetes checks),
including the graph checks (CKV2_*) that checkov loads from YAML/JSON, and assigns:

category, first rule that matches:
  1. CATEGORY_OVERRIDES by check id;
  2. the id family: CKV_K8S_* -> kubernetes, CKV_GHA_* -> supply-chain;
  3. keywords in the check name, in this order: secrets (hard-coded credentials),
     networking exposure (public, 0.0.0.0/0, anonymous, internet), encryption, logging,
     backup, iam, networking;
  4. checkov's own category (LOGGING -> logging, ENCRYPTION -> encryption, ...; anything
     else, e.g. GENERAL_SECURITY or CONVENTION, -> general).

severity, first rule that matches:
  1. SEVERITY_OVERRIDES by check id (well-known critical, high and low checks);
  2. CRITICAL_PATTERNS: admin ports open to the world, public bucket ACLs, hard-coded secrets;
  3. MEDIUM_PATTERNS: exposure wording that is defence in depth or usually intended (egress
     to anywhere, port 80, "block public access" settings);
  3b. HIGH_PATTERNS: public/anonymous exposure, privileged or host-namespace containers,
     privilege escalation, wildcards, disabled certificate or signature validation;
  4. LOW_PATTERNS: hygiene (descriptions, tags, labels, health checks, probes, resource
     limits, customer-managed instead of provider-managed keys, multi-AZ, deletion protection);
  5. the default of the category: secrets high; networking, iam, encryption, backup,
     kubernetes, supply-chain and general medium; logging low.
An id that checkov uses in several frameworks with different meanings gets the most severe
of its severities (fail closed).

HIGH is the default gate threshold, so a check is HIGH only when a failure is exploitable on
its own; everything that is defence in depth stays MEDIUM or LOW.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import get_args

from checkov.cloudformation.checks.resource.registry import cfn_registry
from checkov.common.checks_infra.registry import get_graph_checks_registry
from checkov.dockerfile.registry import registry as dockerfile_registry
from checkov.github_actions.checks.registry import registry as gha_registry
from checkov.kubernetes.checks.resource.registry import registry as k8s_registry
from checkov.terraform.checks.data.registry import data_registry
from checkov.terraform.checks.module.registry import module_registry
from checkov.terraform.checks.provider.registry import provider_registry
from checkov.terraform.checks.resource.registry import resource_registry
from checkov.version import version as CHECKOV_VERSION

from compliance.model import Severity
from compliance.scanners.checkov.table import CATEGORIES, Framework

FRAMEWORKS: tuple[str, ...] = get_args(Framework)
SEVERITY_ORDER = tuple(s.value for s in Severity)

SEVERITY_OVERRIDES: dict[str, str] = {
    # critical: exploitable from the internet as written
    "CKV_AWS_17": "critical",  # RDS publicly accessible
    "CKV_AWS_20": "critical",  # S3 ACL allows public READ
    "CKV_AWS_57": "critical",  # S3 ACL allows public WRITE
    "CKV_GCP_28": "critical",  # Cloud Storage bucket anonymously or publicly accessible
    "CKV_AZURE_34": "critical",  # blob container public access level not private
    "CKV_AZURE_11": "critical",  # SQL database open to 0.0.0.0/0
    "CKV_AWS_87": "high",  # Redshift publicly accessible
    # high: GitHub Actions supply chain
    "CKV2_GHA_1": "high",  # top-level permissions write-all
    "CKV_GHA_1": "high",  # ACTIONS_ALLOW_UNSECURE_COMMANDS
    "CKV_GHA_2": "high",  # shell injection in run commands (untrusted ${{ }} input)
    "CKV_GHA_3": "high",  # curl with secrets
    "CKV_GHA_4": "high",  # netcat to an IP address (reverse shell pattern)
    "CKV_GHA_5": "low",  # no cosign signature
    "CKV_GHA_6": "low",  # no cosign SBOM attestation
    "CKV_GHA_7": "low",  # workflow_dispatch inputs (SLSA build parameter rule)
    # kubernetes
    "CKV_K8S_16": "high",  # privileged container
    "CKV_K8S_17": "high",  # hostPID
    "CKV_K8S_18": "high",  # hostIPC
    "CKV_K8S_19": "high",  # hostNetwork
    "CKV_K8S_20": "high",  # allowPrivilegeEscalation
    "CKV_K8S_23": "high",  # root containers
    "CKV_K8S_27": "high",  # docker socket mounted
    "CKV_K8S_39": "high",  # CAP_SYS_ADMIN
    "CKV_K8S_14": "medium",  # image tag latest or blank
    "CKV_K8S_43": "low",  # image without digest
    "CKV_K8S_35": "low",  # secrets as env vars rather than files
    "CKV_K8S_21": "low",  # default namespace
    # dockerfile
    "CKV_DOCKER_1": "medium",  # port 22 exposed
    "CKV_DOCKER_2": "low",  # no HEALTHCHECK
    "CKV_DOCKER_3": "medium",  # no user created
    "CKV_DOCKER_4": "medium",  # ADD instead of COPY (remote fetch, archive extraction)
    "CKV_DOCKER_5": "low",  # update alone
    "CKV_DOCKER_6": "low",  # MAINTAINER
    "CKV_DOCKER_7": "medium",  # base image :latest
    "CKV_DOCKER_8": "medium",  # last USER root
    "CKV_DOCKER_9": "low",  # apt instead of apt-get
    "CKV_DOCKER_10": "low",  # relative WORKDIR
    "CKV_DOCKER_11": "low",  # FROM alias not unique
    "CKV2_DOCKER_1": "medium",  # sudo
    "CKV2_DOCKER_17": "medium",  # chpasswd
}

CATEGORY_OVERRIDES: dict[str, str] = {
    "CKV2_GHA_1": "iam",
    "CKV_DOCKER_1": "networking",
    "CKV_DOCKER_2": "general",
    "CKV_DOCKER_3": "iam",
    "CKV_DOCKER_4": "supply-chain",
    "CKV_DOCKER_5": "general",
    "CKV_DOCKER_6": "general",
    "CKV_DOCKER_7": "supply-chain",
    "CKV_DOCKER_8": "iam",
    "CKV_DOCKER_9": "general",
    "CKV_DOCKER_10": "general",
    "CKV_DOCKER_11": "general",
    "CKV2_DOCKER_1": "iam",
    "CKV2_DOCKER_17": "secrets",
}

#: CWEs recorded only where the weakness is unambiguous (most checks have none).
CWE_BY_ID: dict[str, tuple[str, ...]] = {
    "CKV_GHA_2": ("CWE-78",),
    "CKV_K8S_16": ("CWE-250",),
    "CKV_DOCKER_7": ("CWE-829",),
    "CKV_K8S_14": ("CWE-829",),
}
CWE_PATTERNS = (
    (r"hard[- ]?coded", ("CWE-798",)),
    (r"certificate validation isn't disabled", ("CWE-295",)),
    (r"untrusted or missing|force-yes", ("CWE-494",)),
)

_ADMIN_PORT_OPEN = r"(ingress|inbound) from 0\.0\.0\.0.{0,12}(to )?port (22|3389|-1)\b"
CRITICAL_PATTERNS = (
    _ADMIN_PORT_OPEN,
    r"hard[- ]?coded",
    r"public (read|write) access",
)
#: Checked before HIGH_PATTERNS: exposure wording that is defence in depth or usually intended.
MEDIUM_PATTERNS = (
    r"egress|outbound|default route|port 80\b",
    r"block public|public access block|public access prevention|public endpoint disabled",
    r"domain name does not include wildcards|prevent secrets is enabled",
)
HIGH_PATTERNS = (
    r"open to the world|\b(is|are) not public\b|public network access",
    r"publicly|anonymous|public access|public endpoint|exposed publicly|not set to public",
    r"0\.0\.0\.0|::/0|any ip",
    r"privileged|privilege escalation|escalate|host (process id|ipc|network) namespace",
    r"cap_sys_admin|docker daemon socket|root containers",
    r"wildcard|full administrative|admin(istrative)? privileges|without constraints",
    r"certificate validation isn't disabled|untrusted or missing|force-yes",
    r"anonymous-auth|alwaysallow|insecure-bind|insecure-port",
)
LOW_PATTERNS = (
    r"\bdescription\b|\btags?\b|\blabels?\b|maintainer",
    r"health ?check|liveness|readiness|probe",
    r"(cpu|memory) (requests|limits)",
    r"\bcmk\b|customer[- ]managed (key|cmk)|kms key|cmek|\bcsek\b",
    r"multi-?az|deletion protection|termination protection",
    r"x-ray|tracing|insights|\bcosign\b",
    r"image pull policy|high uid",
)
CATEGORY_DEFAULT_SEVERITY = {
    "secrets": "high",
    "networking": "medium",
    "iam": "medium",
    "encryption": "medium",
    "backup": "medium",
    "kubernetes": "medium",
    "supply-chain": "medium",
    "general": "medium",
    "logging": "low",
}
CATEGORY_KEYWORDS = (
    ("secrets", r"hard[- ]?coded|plain ?text (password|secret)|secrets? exists?\b"),
    ("networking", r"publicly|public access|\bnot public\b|anonymous|0\.0\.0\.0|internet|exposed"),
    (
        "encryption",
        r"encrypt|\bkms\b|\bcmk\b|customer[- ]managed key|\btls\b|\bssl\b|https|cipher"
        r"|in transit|at rest|certificate",
    ),
    (
        "logging",
        r"\blog(s|ging|ged)?\b|audit|trail|monitor|tracing|x-ray|alarm|insights|diagnostic",
    ),
    (
        "backup",
        r"backup|versioning|point[- ]in[- ]time|snapshot|retention|multi-?az|deletion protection"
        r"|replication|recovery|geo-redundant",
    ),
    (
        "iam",
        r"\biam\b|polic(y|ies)|\broles?\b|permission|privilege|admin|authenticat|\bmfa\b"
        r"|password|access key|identity|\brbac\b|\busers?\b",
    ),
    (
        "networking",
        r"public|ingress|egress|\bports?\b|security group|\bvpc\b|subnet|firewall|\bwaf\b"
        r"|network|\bip\b|cidr|endpoint|\bdns\b",
    ),
)
CHECKOV_CATEGORY = {
    "LOGGING": "logging",
    "ENCRYPTION": "encryption",
    "NETWORKING": "networking",
    "IAM": "iam",
    "BACKUP_AND_RECOVERY": "backup",
    "SECRETS": "secrets",
    "KUBERNETES": "kubernetes",
    "SUPPLY_CHAIN": "supply-chain",
}


@dataclass(frozen=True)
class CheckInfo:
    check_id: str
    name: str
    framework: str
    checkov_categories: tuple[str, ...]


def iter_checks(frameworks: Iterable[str]) -> Iterator[CheckInfo]:
    """Every check checkov would run for `frameworks`, from its registries (as `--list` does)."""
    python_registries = {
        "terraform": (resource_registry, data_registry, provider_registry, module_registry),
        "cloudformation": (cfn_registry,),
        "kubernetes": (k8s_registry,),
        "dockerfile": (dockerfile_registry,),
        "github_actions": (gha_registry,),
    }
    for framework in frameworks:
        for registry in python_registries[framework]:
            for _entity, check in registry.all_checks():
                categories = tuple(c.name for c in check.categories)
                yield CheckInfo(check.id, check.name, framework, categories)
        graph_registry = get_graph_checks_registry(framework)
        graph_registry.load_checks()
        for graph_check in graph_registry.checks:
            category = str(graph_check.category or "").upper()
            yield CheckInfo(graph_check.id, graph_check.name, framework, (category,))


def _matches(patterns: Iterable[str], text: str) -> bool:
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


def category_of(check: CheckInfo) -> str:
    if check.check_id in CATEGORY_OVERRIDES:
        return CATEGORY_OVERRIDES[check.check_id]
    if re.match(r"CKV2?_K8S_", check.check_id):
        return "kubernetes"
    if re.match(r"CKV2?_GHA_", check.check_id):
        return "supply-chain"
    if re.match(r"CKV2_DOCKER_", check.check_id):
        return "supply-chain"
    for category, pattern in CATEGORY_KEYWORDS:
        if re.search(pattern, check.name, re.IGNORECASE):
            return category
    for checkov_category in check.checkov_categories:
        if checkov_category in CHECKOV_CATEGORY:
            return CHECKOV_CATEGORY[checkov_category]
    return "general"


def severity_of(check: CheckInfo, category: str) -> str:
    if check.check_id in SEVERITY_OVERRIDES:
        return SEVERITY_OVERRIDES[check.check_id]
    if _matches(CRITICAL_PATTERNS, check.name):
        return "critical"
    if _matches(MEDIUM_PATTERNS, check.name):
        return "medium"
    if _matches(HIGH_PATTERNS, check.name):
        return "high"
    if _matches(LOW_PATTERNS, check.name):
        return "low"
    return CATEGORY_DEFAULT_SEVERITY[category]


def build_table(checks: Iterable[CheckInfo]) -> dict[str, dict[str, object]]:
    """One entry per check id; ids shared by frameworks keep the first name, worst severity."""
    table: dict[str, dict[str, object]] = {}
    for check in checks:
        category = category_of(check)
        severity = severity_of(check, category)
        entry = table.get(check.check_id)
        if entry is None:
            table[check.check_id] = {
                "severity": severity,
                "category": category,
                "title": " ".join(check.name.split()),
                "frameworks": [check.framework],
            }
            continue
        frameworks = entry["frameworks"]
        assert isinstance(frameworks, list)
        if check.framework not in frameworks:
            frameworks.append(check.framework)
        current = str(entry["severity"])
        if SEVERITY_ORDER.index(severity) > SEVERITY_ORDER.index(current):
            entry["severity"] = severity
    return table


def cwe_of(check_id: str, name: str) -> tuple[str, ...]:
    if check_id in CWE_BY_ID:
        return CWE_BY_ID[check_id]
    for pattern, cwe in CWE_PATTERNS:
        if re.search(pattern, name, re.IGNORECASE):
            return cwe
    return ()


def _id_key(check_id: str) -> tuple[str, int, str]:
    match = re.fullmatch(r"(CKV2?_[A-Z0-9]+)_(\d+)", check_id)
    if match is None:
        return (check_id, 0, check_id)
    return (match.group(1), int(match.group(2)), check_id)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render(table: dict[str, dict[str, object]], version: str) -> str:
    lines = [
        "# Severity and category of every checkov check, for compliance's checkov adapter.",
        f"# Generated from checkov {version} by scripts/gen_checkov_checks.py; do not edit:",
        "#   python scripts/gen_checkov_checks.py > policies/checkov/checks.yaml",
        "# The rules (category keywords, severity patterns, curated overrides) are documented",
        "# in that script. checkov OSS reports no severity; these are ours.",
        f"# Frameworks: {', '.join(FRAMEWORKS)} (helm and kustomize use the kubernetes ids).",
        "",
        f'checkov_version: "{version}"',
        "checks:",
    ]
    for check_id in sorted(table, key=_id_key):
        entry = table[check_id]
        frameworks = entry["frameworks"]
        assert isinstance(frameworks, list)
        parts = [
            f"severity: {entry['severity']}",
            f"category: {entry['category']}",
            f"title: {_quote(str(entry['title']))}",
            f"frameworks: [{', '.join(sorted(frameworks))}]",
        ]
        cwe = cwe_of(check_id, str(entry["title"]))
        if cwe:
            parts.append(f"cwe: [{', '.join(cwe)}]")
        lines.append(f"  {check_id}: {{{', '.join(parts)}}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats", action="store_true", help="print counts to stderr")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # checkov logs while loading its graph checks
    table = build_table(iter_checks(FRAMEWORKS))
    sys.stdout.write(render(table, CHECKOV_VERSION))
    if args.stats:
        for framework in FRAMEWORKS:
            ids = [i for i, e in table.items() if framework in e["frameworks"]]  # type: ignore[operator]
            sys.stderr.write(f"{framework}: {len(ids)}\n")
        for severity in SEVERITY_ORDER:
            count = sum(1 for e in table.values() if e["severity"] == severity)
            sys.stderr.write(f"{severity}: {count}\n")
        for category in CATEGORIES:
            count = sum(1 for e in table.values() if e["category"] == category)
            sys.stderr.write(f"{category}: {count}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
