"""The `residency` scanner: residency violations and unresolved regions, as findings.

Oddities this adapter owns:
- It is ours, not a tool's: the Terraform, Kubernetes, Helm and CloudFormation resolvers run
  in-process (compliance.residency); only the code checks start semgrep, and only over the
  Python files that mention a cloud SDK or endpoint.
- No residency policy means nothing to check: the run is `skipped` (its controls are not
  assessed), never `passed`. Neither is a repository with no infrastructure and no cloud
  code.
- The policy was validated before any scanner ran (pipeline.load_policies); it is loaded
  again here from the same file.
"""

from __future__ import annotations

from datetime import date

from compliance import __version__
from compliance.errors import ConfigError, ScannerFailure
from compliance.policy.files import display_path
from compliance.residency.check import check_placements
from compliance.residency.collect import collect_placements
from compliance.residency.policy import load_residency_policy, residency_policy_path
from compliance.scanners.interface import NothingToScan, ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.residency.code import (
    candidate_files,
    rules_dir,
    run_code_rules,
    semgrep_executable,
)
from compliance.scanners.residency.findings import NAME, residency_findings

#: Only used when the policy has no exception, so no expiry is ever compared with it.
_NO_DATE = date.min


class ResidencyScanner:
    name = NAME
    description = "Data residency: where each class of data lives, against the residency policy"

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        # The code checks need semgrep: a scan that has cloud code fails without it, so say
        # so here (doctor asks this first).
        semgrep_executable(settings.executables)
        return __version__

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        config_dir = ctx.config_dir or ctx.root
        path = residency_policy_path(ctx.root, ctx.config, config_dir)
        if path is None:
            raise NothingToScan(
                "no residency policy (policies/residency.yaml, or residency.policy in the config)"
            )
        if ctx.settings.policy_dir is None:
            raise ScannerFailure("residency: no policy folder configured")
        display = display_path(path, ctx.root)
        try:
            policy = load_residency_policy(
                path,
                display,
                policy_dir=ctx.settings.policy_dir,
                services=[s.name for s in ctx.services],
            )
        except ConfigError as error:
            problems = "; ".join(str(p) for p in error.problems)
            raise ScannerFailure(f"residency: invalid policy: {problems}") from None
        inventory = ctx.inventory
        code_files = candidate_files(ctx.root, inventory.python_files)
        if not (
            inventory.terraform_files
            or inventory.kubernetes_files
            or inventory.helm_charts
            or inventory.cloudformation_files
            or code_files
        ):
            raise NothingToScan("no infrastructure files and no code using a cloud SDK")
        collected = collect_placements(ctx.root, inventory, policy.tables, policy.service_tag)
        placements = collected.placements
        skipped = collected.skipped
        version = __version__
        commands: tuple[tuple[str, ...], ...] = ()
        raws: tuple[bytes, ...] = ()
        if code_files:
            code = run_code_rules(
                ctx.root,
                code_files,
                proc=proc,
                exe=semgrep_executable(ctx.settings.executables),
                rules=rules_dir(ctx.settings.policy_dir),
                jobs=ctx.settings.jobs,
                timeout_s=ctx.settings.timeout_s,
                tables=policy.tables,
            )
            placements += code.placements
            skipped += code.skipped
            commands, raws = code.commands, code.raw_outputs
            if code.version:
                version += f" (semgrep {code.version})"
        if ctx.today is None and policy.exceptions:
            raise ScannerFailure("residency: the scan date is unknown, so exceptions cannot expire")
        checks = check_placements(placements, policy, ctx.services, ctx.today or _NO_DATE)
        return ScannerOutput(
            findings=tuple(residency_findings(checks, policy)),
            version=version,
            commands=commands,
            skipped=skipped,
            raw_outputs=raws,
        )
