"""The scanner plug-in interface: one Protocol, the context an adapter gets, what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from compliance.config import RepoConfig
from compliance.inventory import Inventory
from compliance.model import RawFinding, Service, Skip
from compliance.scanners.process import ProcessRunner

if TYPE_CHECKING:
    from compliance.scanners.cache import ResultCache
    from compliance.scanners.keys import FileDigests


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """Options that reach the adapters (typed, never a Click context or os.environ)."""

    timeout_s: float = 900.0
    advisory_db: Path | None = None
    jobs: int = 2
    #: Folder of bundled policy data (our semgrep rules, checkov severities).
    policy_dir: Path | None = None
    #: Executable names or paths per tool, for tests and unusual installs.
    executables: dict[str, str] = field(default_factory=dict)
    #: Binaries the environment provides (helm, kustomize); adapters ask, never probe PATH.
    available_binaries: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ScanContext:
    root: Path
    inventory: Inventory
    settings: ScanSettings
    #: The repository's services (with owners and data classification), for the scanners
    #: of our own that reason per service (residency, threat models).
    services: tuple[Service, ...] = ()
    #: The repository config, and the folder its relative paths start from.
    config: RepoConfig = field(default_factory=RepoConfig)
    config_dir: Path | None = None
    #: The scan's date (from the pipeline's clock), for review ages and expiries.
    today: date | None = None
    #: The result cache (None: --no-cache). With `cache_reads` off (an evidence run, whose
    #: bundle must hold this run's tool output) results are written but never read.
    cache: ResultCache | None = None
    cache_reads: bool = True
    #: The whole repository's inventory, when `inventory` is a part of it (changed files,
    #: a shard): cache keys of tools that read beyond their files (Terraform modules) use it.
    repo_inventory: Inventory | None = None
    #: File digests shared by the scanners' cache keys (each file is read once).
    digests: FileDigests | None = None


@dataclass(frozen=True, slots=True)
class ScannerOutput:
    """What an adapter hands back: findings, inputs it skipped, and how it ran."""

    findings: tuple[RawFinding, ...]
    version: str | None
    commands: tuple[tuple[str, ...], ...] = ()
    skipped: tuple[Skip, ...] = ()
    #: The tool's raw output, per command, for the evidence bundle.
    raw_outputs: tuple[bytes, ...] = ()


class NothingToScan(Exception):
    """Raised by an adapter when the repo holds no input for it: status `skipped`."""


class Scanner(Protocol):
    """One adapter per tool. `run` may raise ScannerFailure (fail closed) or NothingToScan."""

    name: str
    #: What the tool covers, for `doctor` and the terminal summary.
    description: str

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        """The tool's version; raises ScannerFailure when the tool is missing or broken."""
        ...

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        """Run the tool over the context's inventory and parse what it printed."""
        ...
