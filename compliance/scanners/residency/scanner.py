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

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from compliance import __version__
from compliance.errors import ConfigError, ScannerFailure
from compliance.policy.files import display_path
from compliance.residency.check import check_placements
from compliance.residency.policy import load_residency_policy, residency_policy_path
from compliance.scanners.cache import cache_key
from compliance.scanners.interface import NothingToScan, ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.keys import FileDigests, code_digest, folder_digest, tool_identity
from compliance.scanners.process import ProcessRunner, find_executable
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

    def cache_key(self, ctx: ScanContext) -> str | None:
        """The policy, the region tables and rule pack, the services, the date (exceptions
        expire) and every file of the inventory (placements are resolved across files)."""
        path = residency_policy_path(ctx.root, ctx.config, ctx.config_dir or ctx.root)
        if path is None or ctx.settings.policy_dir is None:
            return None
        exe = find_executable("semgrep", ctx.settings.executables.get("semgrep"))
        digests = ctx.digests or FileDigests(ctx.root)
        return cache_key(
            code_digest(),
            NAME,
            tool_identity(exe, "semgrep")[0] if exe else "no semgrep",
            folder_digest(path),
            folder_digest(ctx.settings.policy_dir / "residency"),
            repr(ctx.services),
            ctx.config.model_dump_json(),
            str(ctx.today),
            digests.key(ctx.inventory.all_files),
            repr(ctx.inventory.helm_charts),
        )

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
        exe = semgrep_executable(ctx.settings.executables) if code_files else ""
        rules = rules_dir(ctx.settings.policy_dir)
        with ThreadPoolExecutor(max_workers=1) as background:
            # semgrep runs over the cloud code while Terraform & co. are resolved here.
            running = (
                background.submit(
                    run_code_rules,
                    ctx.root,
                    code_files,
                    proc=proc,
                    exe=exe,
                    rules=rules,
                    jobs=ctx.settings.jobs,
                    timeout_s=ctx.settings.timeout_s,
                    tables=policy.tables,
                )
                if code_files
                else None
            )
            # Imported here: the Terraform parser (hcl2, lark) costs every command 35 ms.
            from compliance.residency.collect import collect_placements  # noqa: PLC0415 - lazy

            collected = collect_placements(ctx.root, inventory, policy.tables, policy.service_tag)
            code = running.result() if running is not None else None
        placements = collected.placements
        skipped = collected.skipped
        version = __version__
        commands: tuple[tuple[str, ...], ...] = ()
        raws: tuple[bytes, ...] = ()
        if code is not None:
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
