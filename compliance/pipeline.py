"""The scan pipeline: config -> inventory -> services -> scanners -> findings -> controls
-> verdict.

The clock, tool versions and environment facts enter here, once, and are recorded in the
ScanResult; everything downstream is a pure function of that value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from compliance import __version__
from compliance.config import (
    bundled_policy_dir,
    bundled_threatmodels_dir,
)
from compliance.errors import ConfigError, Problem, ScannerFailure, UsageError
from compliance.findings import finalize
from compliance.gating import apply_baseline, apply_waivers, evaluate_gate
from compliance.gitinfo import read_branch, read_commit
from compliance.inputs import advisory_db_input, file_inputs, folder_files
from compliance.mapping import evaluate_controls, map_findings
from compliance.model import (
    REPO_SERVICE,
    CiContext,
    InputFile,
    RunContext,
    ScanResult,
    ScanScope,
    Severity,
    ToolInfo,
    WaiverState,
)
from compliance.partial import Partial, merge_outcomes
from compliance.policy.files import display_path
from compliance.prepare import (
    Policies,
    Prepared,
    ScanOptions,
    load_policies,
    load_threatmodel_files,
    prepare,
    select_scanners,
)
from compliance.scanners.cache import ResultCache
from compliance.scanners.interface import ScanContext, ScanSettings
from compliance.scanners.keys import FileDigests
from compliance.scanners.process import ProcessRunner, find_executable
from compliance.scanners.registry import REGISTRY
from compliance.scanners.runner import Progress, ScannerOutcome, run_scanners
from compliance.services import attributor, load_codeowners, repo_service
from compliance.shard import ShardSpec, plan_names
from compliance.work import Work, changed_work, full_work, sharded_work


def run_scan(
    options: ScanOptions,
    *,
    progress: Progress,
    clock: Callable[[], datetime],
    proc: ProcessRunner | None = None,
    timer: Callable[[], float] = time.monotonic,
) -> ScanResult:
    """Scan the repository (all of it, or its changed files) and decide the verdict."""
    started_at = clock()
    prepared, policies, names = _begin(options, started_at.date())
    work = full_work(names, prepared.inventory)
    if options.changes is not None:
        work = changed_work(
            options.changes,
            names,
            prepared.inventory,
            policy_files=[display for _, path, display in policies.files],
            config_file=display_path(prepared.config_file, prepared.root)
            if prepared.config_file
            else None,
            threatmodel_dir=prepared.config.threatmodel.dir,
        )
        if work.scope is None:  # a full scan after all: its threat models must be valid too
            load_threatmodel_files(prepared, options, policies.controls, planned=True)
        for note in work.notes:
            progress.note(note)
    runner = proc or ProcessRunner(record_dir=options.record_dir)
    outcomes, inputs = _execute(
        prepared, policies, options, work, runner, progress, started_at, timer
    )
    return assemble(
        prepared,
        policies,
        outcomes,
        inputs,
        started_at=started_at,
        finished_at=clock(),
        fail_on=options.fail_on,
        scope=work.scope,
        ci=options.ci,
        proc=runner,
    )


def run_shard(
    options: ScanOptions,
    spec: ShardSpec,
    *,
    progress: Progress,
    clock: Callable[[], datetime],
    proc: ProcessRunner | None = None,
    timer: Callable[[], float] = time.monotonic,
) -> Partial:
    """Scan shard `spec` of the repository: its scanners' outcomes, nothing decided yet."""
    started_at = clock()
    # Every shard validates the policies too: a broken one fails fast, on every runner.
    prepared, policies, names = _begin(options, started_at.date())
    work = sharded_work(spec, names, prepared.inventory, prepared.services)
    assert work.shard is not None
    runner = proc or ProcessRunner(record_dir=options.record_dir)
    outcomes, _ = _execute(prepared, policies, options, work, runner, progress, started_at, timer)
    return Partial(
        spec=spec,
        commit=read_commit(prepared.root),
        scanners=tuple(names),
        units=work.shard.names,
        plan=work.plan,
        started_at=started_at,
        finished_at=clock(),
        outcomes=outcomes,
    )


def merge_partials(
    options: ScanOptions,
    partials: tuple[Partial, ...],
    *,
    clock: Callable[[], datetime],
    proc: ProcessRunner | None = None,
) -> ScanResult:
    """Join the N shards of one scan into the result a full scan of the checkout gives."""
    started_at = min(p.started_at for p in partials)
    prepared, policies, names = _begin(options, started_at.date())
    commit = read_commit(prepared.root)
    if partials[0].commit != commit:
        raise UsageError(
            f"the partials scanned commit {partials[0].commit or 'unknown'} but "
            f"{prepared.root} is at {commit or 'no commit'}",
            hint="run merge in a checkout of the commit the shards scanned",
        )
    plan = plan_names(prepared.inventory, prepared.services, names)
    if tuple(names) != partials[0].scanners or plan != partials[0].plan:
        raise UsageError(
            "the partials planned other work than this checkout gives "
            "(other scanners, services or files)",
            hint="merge with the same options and checkout the shards used",
        )
    settings = _settings(options, prepared)
    inputs = _inputs(policies, settings, prepared.root, names, prepared.config.threatmodel.dir)
    return assemble(
        prepared,
        policies,
        merge_outcomes(partials),
        inputs,
        started_at=started_at,
        finished_at=max(p.finished_at for p in partials),
        fail_on=options.fail_on,
        scope=None,
        ci=options.ci,
        proc=proc or ProcessRunner(),
    )


def _begin(options: ScanOptions, today: date) -> tuple[Prepared, Policies, list[str]]:
    """The repository, its policies and the scanners to run. A broken catalogue, mapping
    rule, gate, waiver or baseline fails here, before any scanner runs (exit 3)."""
    prepared = prepare(options.root, options.config_path, cache_dir=options.cache_dir)
    policies = load_policies(prepared, options, today)
    return prepared, policies, select_scanners(options.scanners, prepared.config, REGISTRY)


def _execute(
    prepared: Prepared,
    policies: Policies,
    options: ScanOptions,
    work: Work,
    runner: ProcessRunner,
    progress: Progress,
    started_at: datetime,
    timer: Callable[[], float],
) -> tuple[tuple[ScannerOutcome, ...], tuple[InputFile, ...]]:
    """Run the work's scanners, hashing the scan's inputs meanwhile."""
    config = prepared.config
    settings = _settings(options, prepared)
    cache = _open_cache(options, prepared, runner, progress)
    base = ScanContext(
        prepared.root,
        prepared.inventory,
        settings,
        services=prepared.services,
        config=config,
        config_dir=prepared.config_file.parent if prepared.config_file else prepared.root,
        today=started_at.date(),
        cache=cache,
        # An evidence bundle holds this run's tool output: scan afresh, refresh the cache.
        cache_reads=options.record_dir is None,
        repo_inventory=prepared.inventory,
        digests=FileDigests(prepared.root),
    )
    jobs = [(REGISTRY[name](), replace(base, inventory=inventory)) for name, inventory in work.jobs]
    # Hashing the inputs (a full advisory database is ~0.3 s) needs nothing the scanners
    # produce: do it while they run, not after.
    with ThreadPoolExecutor(max_workers=1) as background:
        hashing = background.submit(
            _inputs, policies, settings, prepared.root, list(work.scanners), config.threatmodel.dir
        )
        outcomes = run_scanners(jobs, runner, progress, timer=timer)
        inputs = hashing.result()
    if cache is not None:
        cache.prune()
        stats = cache.stats
        if stats.hits or stats.writes:
            progress.note(
                f"cache: {stats.hits} hit(s), {stats.misses} miss(es) in {cache.directory}"
            )
    return outcomes, inputs


def assemble(
    prepared: Prepared,
    policies: Policies,
    outcomes: tuple[ScannerOutcome, ...],
    inputs: tuple[InputFile, ...],
    *,
    started_at: datetime,
    finished_at: datetime,
    fail_on: Severity | None,
    scope: ScanScope | None,
    ci: CiContext | None,
    proc: ProcessRunner,
) -> ScanResult:
    """From the scanners' outcomes to the result: attribute, map, waive, baseline, gate."""
    services = prepared.services
    raws = (f for o in outcomes for f in o.findings)
    if scope is not None:
        keep = set(scope.files)
        raws = (f for f in raws if f.location.path in keep)
    findings = map_findings(finalize(raws, attributor(services)), policies.controls.rules)
    if any(f.service == REPO_SERVICE for f in findings):
        services = (*services, repo_service(load_codeowners(prepared.root)))
    findings, waivers = apply_waivers(findings, policies.waivers, started_at.date())
    if scope is not None:
        # A waiver that matched none of the changed files may well match the rest: only a
        # full scan can call it stale.
        waivers = tuple(w for w in waivers if w.state is not WaiverState.STALE)
    findings, baseline = apply_baseline(findings, policies.baseline, policies.gate.mode)
    runs = tuple(o.run for o in outcomes)
    skips = {*prepared.skipped, *(s for o in outcomes for s in o.skipped)}
    if scope is not None:
        skips = {s for s in skips if s.path in keep}
    skipped = tuple(sorted(skips, key=lambda s: (s.path, s.tool or "", s.reason)))
    controls = evaluate_controls(
        policies.controls.catalogue, policies.controls.rules, findings, runs, skipped
    )
    verdict = evaluate_gate(findings, runs, controls, services, policies.gate, fail_on=fail_on)
    return ScanResult(
        tool=ToolInfo("compliance", __version__),
        root=prepared.root.name or str(prepared.root),
        started_at=started_at,
        finished_at=finished_at,
        scanners=runs,
        services=services,
        findings=findings,
        skipped=skipped,
        verdict=verdict,
        controls=controls,
        waivers=waivers,
        baseline=baseline,
        commit=read_commit(prepared.root),
        inputs=inputs,
        context=RunContext(read_branch(prepared.root), _dirty(prepared.root, proc), ci),
        scope=scope,
    )


def _settings(options: ScanOptions, prepared: Prepared) -> ScanSettings:
    return ScanSettings(
        timeout_s=options.timeout_s or prepared.config.scan.timeout_s,
        advisory_db=_advisory_db(options, prepared),
        jobs=max(1, options.jobs),
        policy_dir=options.policy_dir or bundled_policy_dir(),
        executables=dict(options.executables),
        available_binaries=options.available_binaries,
    )


def _open_cache(
    options: ScanOptions, prepared: Prepared, runner: ProcessRunner, progress: Progress
) -> ResultCache | None:
    settings = prepared.config.scan.cache
    if options.no_cache or not settings.enabled:
        return None
    directory = (options.cache_dir or prepared.root / settings.dir).absolute()
    if _committed(directory, prepared.root, runner):
        # Entries are keyed by public facts (file contents, tool versions): a pull request
        # could commit entries that say "nothing found" for its own files. A real cache is
        # never committed (it writes a .gitignore of `*`), so this one is not ours to trust.
        progress.note(
            f"cache not used: {display_path(directory, prepared.root)} holds files committed "
            "to git (a result cache never comes from the repository)"
        )
        return None
    return ResultCache(directory, max_bytes=settings.max_mb * 1024 * 1024)


def _committed(directory: Path, root: Path, proc: ProcessRunner) -> bool:
    """Whether git tracks any file under `directory` (inside the scanned repository)."""
    git = find_executable("git")
    if git is None or not directory.is_relative_to(root) or not directory.is_dir():
        return False
    try:
        done = proc.run(
            [git, "-C", str(root), "ls-files", "-z", "--", str(directory)],
            tool="git",
            timeout_s=30,
            env={"GIT_OPTIONAL_LOCKS": "0"},
        )
    except ScannerFailure:
        return True  # cannot tell: do not trust it
    return done.returncode == 0 and bool(done.stdout.strip(b"\0"))


def _dirty(root: Path, proc: ProcessRunner) -> bool | None:
    """Whether tracked files differ from the commit (`git status`); None when unknown."""
    git = find_executable("git")
    if git is None or read_commit(root) is None:
        return None
    try:
        done = proc.run(
            [git, "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            tool="git",
            timeout_s=30,
            env={"GIT_OPTIONAL_LOCKS": "0", "GIT_CONFIG_NOSYSTEM": "1"},
        )
    except ScannerFailure:
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None


def _inputs(
    policies: Policies,
    settings: ScanSettings,
    root: Path,
    scanners: list[str],
    threatmodel_dir: str,
) -> tuple[InputFile, ...]:
    """Digests of the policy files, the rule packs of the scanners that ran, the database."""
    entries = list(policies.files)
    policy_dir = settings.policy_dir or bundled_policy_dir()
    bundled = policy_dir.resolve() == bundled_policy_dir().resolve()
    prefix = "(bundled) policies/" if bundled else f"{policy_dir}/"
    if "semgrep" in scanners:
        for path in folder_files(policy_dir / "semgrep"):
            relative = path.relative_to(policy_dir).as_posix()
            entries.append(("semgrep-rules", path, prefix + relative))
    table = policy_dir / "checkov" / "checks.yaml"
    if "checkov" in scanners and table.is_file():
        entries.append(("checkov-table", table, prefix + "checkov/checks.yaml"))
    if "residency" in scanners:
        for path in folder_files(policy_dir / "residency"):
            relative = path.relative_to(policy_dir).as_posix()
            kind = "semgrep-rules" if "/semgrep/" in relative else "residency-regions"
            entries.append((kind, path, prefix + relative))
    if "threatmodel" in scanners:
        library = bundled_threatmodels_dir() / "library"
        for path in folder_files(library):
            relative = path.relative_to(library).as_posix()
            entries.append(("threat-library", path, f"(bundled) threatmodels/library/{relative}"))
        models = root / threatmodel_dir
        if models.is_dir():
            for path in folder_files(models):
                kind = (
                    "threat-library"
                    if "library" in path.relative_to(models).parts
                    else "threat-model"
                )
                entries.append((kind, path, display_path(path, root)))
    inputs = file_inputs(entries)
    if "pip-audit" in scanners and settings.advisory_db is not None:
        inputs.append(
            advisory_db_input(settings.advisory_db, display_path(settings.advisory_db, root))
        )
    return tuple(sorted(inputs, key=lambda i: (i.kind, i.path)))


def _advisory_db(options: ScanOptions, prepared: Prepared) -> Path | None:
    if options.advisory_db is not None:
        if not options.advisory_db.is_dir():
            raise UsageError(f"--advisory-db: not a folder: {options.advisory_db}")
        return options.advisory_db.resolve()
    configured = prepared.config.scan.advisory_db
    if configured is None:
        return None
    base = prepared.config_file.parent if prepared.config_file else prepared.root
    path = (base / configured).resolve()
    if not path.is_dir():
        name = prepared.config_file.name if prepared.config_file else "compliance.yaml"
        raise ConfigError([Problem(name, "scan.advisory_db", f"not a folder: {configured}")])
    return path
