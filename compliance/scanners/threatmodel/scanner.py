"""The `threatmodel` scanner: services without a current, reviewed threat model, as findings.

Oddities this adapter owns:
- It is ours, not a tool's: everything runs in-process (compliance.threatmodel), so there is
  no command line; its version is ours.
- The models and the library were validated before any scanner ran (pipeline.load_policies,
  exit 3); they are loaded again here, and a file that broke in between is a scanner error.
- Findings sit on the model file (the line of the review block or of the threat), or on the
  service's folder when there is no model; `resource` (`threatmodel:<service>[:<threat>]`)
  keeps fingerprints stable while the file is edited.
- `compliance doctor` gives no services: then we discover them, as a scan would.
"""

from __future__ import annotations

from compliance import __version__
from compliance.config import bundled_threatmodels_dir, find_config
from compliance.errors import ConfigError, ScannerFailure
from compliance.model import Location, RawFinding, RuleId, ServiceName
from compliance.scanners.cache import cache_key
from compliance.scanners.interface import NothingToScan, ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.keys import FileDigests, code_digest, folder_digest
from compliance.scanners.process import ProcessRunner
from compliance.services import discover_services
from compliance.threatmodel.check import Failure
from compliance.threatmodel.workflow import evaluate, open_workspace

NAME = "threatmodel"
CATEGORY = "threat-model"


class ThreatModelScanner:
    name = NAME
    description = "Threat models per service: present, reviewed, current, high risks decided"

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        return __version__

    def cache_key(self, ctx: ScanContext) -> str | None:
        """The library, the config, the services, the date (reviews age) and every file of
        the inventory (facts come from code, manifests and IaC; models are files too)."""
        digests = ctx.digests or FileDigests(ctx.root)
        return cache_key(
            code_digest(),
            NAME,
            folder_digest(bundled_threatmodels_dir() / "library"),
            repr(ctx.services),
            ctx.config.model_dump_json(),
            str(ctx.config_dir),
            str(ctx.today),
            digests.key(ctx.inventory.all_files),
        )

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        services = ctx.services
        if not services:
            services = discover_services(ctx.root, ctx.config, ctx.inventory).services
        if not services:
            raise NothingToScan("no services to model")
        try:
            workspace = open_workspace(
                ctx.root,
                ctx.config,
                ctx.inventory,
                services,
                config_file=find_config(ctx.config_dir or ctx.root),
                modelled_only=True,
            )
        except ConfigError as error:
            problems = "; ".join(str(p) for p in error.problems)
            raise ScannerFailure(f"threatmodel: invalid threat model files: {problems}") from None
        failures = evaluate(workspace, ctx.today)
        return ScannerOutput(
            findings=tuple(
                threat_model_finding(f, known={s.name for s in services}) for f in failures
            ),
            version=__version__,
            skipped=workspace.detection.skipped,
        )


def threat_model_finding(
    failure: Failure, known: set[str] | frozenset[str] = frozenset()
) -> RawFinding:
    """The finding of one failed check. It belongs to the service it is about (its model
    file lives under threatmodels/, outside the service's folder); an orphaned model's
    service no longer exists, so its path decides (the `(repo)` pseudo-service)."""
    threat = failure.threat
    line = failure.line
    return RawFinding(
        tool=NAME,
        rule_id=RuleId(failure.check.rule_id),
        title=failure.title,
        message=failure.message,
        severity=failure.severity,
        kind=failure.check.kind,
        location=Location(failure.path, line, line),
        cwe=threat.cwe if threat is not None else (),
        resource=failure.resource,
        category=CATEGORY,
        service=ServiceName(failure.service) if failure.service in known else None,
    )


__all__ = ["NAME", "ThreatModelScanner", "threat_model_finding"]
