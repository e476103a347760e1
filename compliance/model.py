"""The normalised, immutable values that flow through the pipeline.

Nothing here imports anything else of ours, and nothing here does I/O: every later stage
(mapping, gating, reporting, evidence) sees only these types, never raw scanner output.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from functools import total_ordering
from typing import NewType

ServiceName = NewType("ServiceName", str)
Fingerprint = NewType("Fingerprint", str)
RuleId = NewType("RuleId", str)

#: The pseudo-service that owns every path no declared service owns.
REPO_SERVICE = ServiceName("(repo)")

#: Version of the JSON result schema (docs/result.schema.json). Bump the minor for additions,
#: the major for anything a consumer could trip over.
SCHEMA_VERSION = "2.3"


@total_ordering
class Severity(enum.Enum):
    """One ordered severity scale for every tool. Compare with <, never as strings."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __hash__(self) -> int:
        return hash(self.value)

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a severity name case-insensitively; raises ValueError naming the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {choices})") from None


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


@total_ordering
class Confidence(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Confidence):
            return NotImplemented
        order = list(Confidence)
        return order.index(self) < order.index(other)

    def __hash__(self) -> int:
        return hash(self.value)


class FindingKind(enum.Enum):
    """What sort of problem a finding is; mapping rules select on it."""

    CODE = "code"
    SECRET = "secret"  # noqa: S105 - a kind of finding, not a password
    DEPENDENCY_VULNERABILITY = "dependency-vulnerability"
    DEPENDENCY_NOT_AUDITED = "dependency-not-audited"
    IAC_MISCONFIGURATION = "iac-misconfiguration"
    #: Data stored or sent outside the regions its classification allows.
    RESIDENCY_VIOLATION = "residency-violation"
    #: A region that cannot be resolved statically: never reported as compliant.
    RESIDENCY_UNRESOLVED = "residency-unresolved"
    #: A service without a threat model, or a model for a service that no longer exists.
    THREAT_MODEL_MISSING = "threat-model-missing"
    #: A model whose review is too old, or whose facts changed since the review.
    THREAT_MODEL_STALE = "threat-model-stale"
    #: A high-risk threat left open, or accepted without an owner and expiry.
    THREAT_MODEL_OPEN_THREAT = "threat-model-open-threat"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding sits: a POSIX path relative to the repo root and a line range."""

    path: str
    start_line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True, slots=True)
class Package:
    """The dependency a dependency finding is about."""

    name: str
    version: str | None
    fixed_versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


class SuppressionKind(enum.Enum):
    INLINE = "inline"
    WAIVED = "waived"
    BASELINED = "baselined"


class BaselineState(enum.Enum):
    """A finding against the baseline (SARIF's `baselineState` terms)."""

    NEW = "new"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding does not count against the gate, with the justification an auditor reads."""

    kind: SuppressionKind
    justification: str


@dataclass(frozen=True, slots=True)
class RawFinding:
    """What a scanner adapter reports, before attribution and fingerprinting.

    `snippet` is the offending source (already redacted if it may hold a secret) and
    `resource` an IaC resource address or a dependency pin; the fingerprint uses them.
    """

    tool: str
    rule_id: RuleId
    title: str
    message: str
    severity: Severity
    kind: FindingKind
    location: Location
    confidence: Confidence | None = None
    cwe: tuple[str, ...] = ()
    snippet: str | None = None
    resource: str | None = None
    package: Package | None = None
    help_url: str | None = None
    #: The rule's family for mapping rules: our semgrep `metadata.category`, our checkov
    #: table's category (networking, encryption, logging, ...), "dependency" for pip-audit.
    category: str | None = None
    #: Set when the tool's own inline suppression (`# nosec`, `# nosemgrep`,
    #: `checkov:skip=`) silenced this finding: reported and counted, never gated.
    suppression: Suppression | None = None
    #: The owning service when the adapter knows it better than the path does (a Terraform
    #: resource outside every service folder, tied to a service by its `service` tag);
    #: None: the service that owns the path.
    service: ServiceName | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A normalised finding: a RawFinding attributed to a service, with a stable identity."""

    fingerprint: Fingerprint
    service: ServiceName
    tool: str
    rule_id: RuleId
    title: str
    message: str
    severity: Severity
    kind: FindingKind
    location: Location
    confidence: Confidence | None = None
    cwe: tuple[str, ...] = ()
    snippet: str | None = None
    resource: str | None = None
    package: Package | None = None
    help_url: str | None = None
    category: str | None = None
    suppression: Suppression | None = None
    #: Control ids (both frameworks) this finding bears on, from the mapping rules.
    controls: tuple[str, ...] = ()
    #: Against the baseline, when the scan has one; None without a baseline.
    baseline: BaselineState | None = None

    def sort_key(self) -> tuple[int, str, str, int, str, str]:
        """Worst first, then service, path, line, rule: the order of every report."""
        return (
            -self.severity.rank,
            self.service,
            self.location.path,
            self.location.start_line or 0,
            self.rule_id,
            self.fingerprint,
        )


class ServiceSource(enum.Enum):
    """Where a service's definition came from."""

    CONFIG = "config"
    CATALOG_INFO = "catalog-info"
    DETECTED = "detected"
    REPO = "repo"


@dataclass(frozen=True, slots=True)
class Service:
    """A microservice: a name, the folder it owns (POSIX, relative; "" is the root), an owner."""

    name: ServiceName
    path: str
    owner: str | None
    source: ServiceSource
    description: str | None = None
    data_classification: tuple[str, ...] = ()


class ScannerStatus(enum.Enum):
    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Skip:
    """An input that was not scanned, and why (never silently dropped)."""

    path: str
    reason: str
    tool: str | None = None


@dataclass(frozen=True, slots=True)
class ScannerRun:
    """How one scanner ran: its status, version, duration and, on error, why."""

    name: str
    status: ScannerStatus
    version: str | None
    duration_s: float
    error: str | None = None
    commands: tuple[tuple[str, ...], ...] = ()
    findings: int = 0


class GateMode(enum.Enum):
    """`all`: every open finding counts; `new-only`: findings in the baseline do not."""

    ALL = "all"
    NEW_ONLY = "new-only"


@dataclass(frozen=True, slots=True)
class GateFailure:
    """One reason the gate failed: the policy file and rule that failed, and on what.

    `policy` is the gate file's display path, or "(built-in)" for the rules no policy can
    switch off (a scanner error, nothing checked); `rule` is the key path in that file
    (`fail_on`, `overrides[1]`, `limits[0]`) or the built-in rule's name.
    """

    policy: str
    rule: str
    message: str
    findings: tuple[Fingerprint, ...] = ()


@dataclass(frozen=True, slots=True)
class VerdictCounts:
    """How the findings divide up. `open` + `suppressed` + `waived` + `baselined` == `total`.

    `new`/`unchanged` say how many are absent from / present in the baseline (all are new
    without one); `baselined` counts those the baseline suppressed (gate mode new-only).
    """

    total: int = 0
    open: int = 0
    failing: int = 0
    new: int = 0
    unchanged: int = 0
    baselined: int = 0
    waived: int = 0
    suppressed: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer. `reasons` says which rule of which policy failed, and on what."""

    passed: bool
    fail_on: Severity
    reasons: tuple[GateFailure, ...] = ()
    failing: tuple[Fingerprint, ...] = ()
    mode: GateMode = GateMode.ALL
    counts: VerdictCounts = VerdictCounts()


class WaiverState(enum.Enum):
    """What a waiver did in this scan."""

    ACTIVE = "active"  # in force and matched findings: they are reported as waived
    EXPIRED = "expired"  # past its expiry: suppresses nothing; its findings count again
    STALE = "stale"  # in force but matched nothing: remove it


@dataclass(frozen=True, slots=True)
class WaiverStatus:
    """One waiver as this scan applied it. `findings` are those it matched (for an expired
    waiver: those it would have suppressed)."""

    id: str
    state: WaiverState
    scope: str
    reason: str
    owner: str
    approver: str
    expires: date
    source: str
    ticket: str | None = None
    findings: tuple[Fingerprint, ...] = ()


@dataclass(frozen=True, slots=True)
class BaselineSummary:
    """The baseline this scan was compared with."""

    source: str
    entries: int
    #: Baseline entries some finding of this scan matched / matched none (fixed or moved).
    matched: int
    absent: int


class ControlStatus(enum.Enum):
    """What one scan shows about one control (see compliance.mapping for the rules)."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ASSESSED = "not-assessed"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class ControlResult:
    """One catalogue control as this scan leaves it.

    `framework` and `automation` are the catalogue's values (`iso27001`/`soc2`,
    `automated`/`partial`/`manual`); `findings` are the open findings that fail it; `rules`
    are the mapping rules that bear on it; `reason` says why it is not passed, or notes the
    suppressed findings that did not count.
    """

    framework: str
    id: str
    title: str
    automation: str
    status: ControlStatus
    findings: tuple[Fingerprint, ...] = ()
    rules: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file (or folder) that decided this scan's outcome, with its digest: the config,
    catalogues, mapping rules, gate, waivers, baseline, rule packs, advisory database.

    `sha256` is the file's; for a folder (the advisory database) a digest over its files'
    relative paths and digests. `detail` says more where it helps (advisories, newest date).
    """

    kind: str
    path: str
    sha256: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CiContext:
    """The CI run a scan happened in, as the CI system names it."""

    provider: str  # github, gitlab, jenkins
    run_id: str | None = None
    run_url: str | None = None
    actor: str | None = None
    event: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class RunContext:
    """Where and on what a scan ran: the branch, whether the working tree had uncommitted
    changes (None: unknown, e.g. no git), and the CI run when there was one."""

    branch: str | None = None
    dirty: bool | None = None
    ci: CiContext | None = None


@dataclass(frozen=True, slots=True)
class ToolInfo:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class ScanScope:
    """A scan of part of the repository: which files, chosen how ("staged changes")."""

    source: str
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Everything one scan produced. Renderers are pure functions of this value."""

    tool: ToolInfo
    root: str
    started_at: datetime
    finished_at: datetime
    scanners: tuple[ScannerRun, ...]
    services: tuple[Service, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skip, ...]
    verdict: Verdict
    schema_version: str = SCHEMA_VERSION
    commit: str | None = None
    #: Set when only changed files were scanned (pre-commit, --changed-since): the verdict
    #: is about those files only.
    scope: ScanScope | None = None
    #: One result per catalogue control, sorted by framework then natural id.
    controls: tuple[ControlResult, ...] = ()
    #: Every waiver of the waiver policy with what it did (sorted by id).
    waivers: tuple[WaiverStatus, ...] = ()
    baseline: BaselineSummary | None = None
    #: The policy and data files the scan used, with their digests (sorted by kind, path).
    inputs: tuple[InputFile, ...] = ()
    context: RunContext = RunContext()

    @property
    def scanner_errors(self) -> tuple[ScannerRun, ...]:
        return tuple(s for s in self.scanners if s.status is ScannerStatus.ERROR)
