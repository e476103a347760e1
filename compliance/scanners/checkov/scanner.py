"""Running checkov: which commands, with which environment, and what their exits mean."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from compliance import yamlsafe
from compliance.errors import ScannerFailure
from compliance.inventory import IGNORED_DIRS, Inventory
from compliance.model import RawFinding, Skip
from compliance.scanners.cache import cache_key
from compliance.scanners.checkov.parse import NAME, ParsedCheckov, parse_checkov_output
from compliance.scanners.checkov.table import TABLE_PATH, CheckTable, load_check_table
from compliance.scanners.interface import NothingToScan, ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.keys import FileDigests, code_digest, folder_digest, tool_identity
from compliance.scanners.process import (
    Completed,
    ProcessRunner,
    arg_cost,
    argv_budget,
    describe_exit,
    find_executable,
)
from compliance.scanners.source import SnippetReader

#: Frameworks given files one by one; terraform, helm and kustomize need their folder.
FILE_FRAMEWORKS = ("cloudformation", "kubernetes", "dockerfile", "github_actions")
#: --soft-fail: exit 0 with findings, so a crash (exit 2) stands out.
COMMON_ARGS = (
    "-o",
    "json",
    "--compact",  # no code blocks: a much smaller report; snippets are read from the files
    "--skip-download",
    "--skip-results-upload",
    "--soft-fail",
)
#: Environment overrides (read in checkov's source, 3.3.30). Each one keeps the run offline,
#: deterministic, or makes a failure visible, whatever the caller's environment says.
ENV: dict[str, str | None] = {
    # A platform key switches checkov to Prisma Cloud's online mode; a scan stays offline.
    "BC_API_KEY": None,
    "PRISMA_API_URL": None,
    # Check selection comes from our policy, not from whatever the CI environment exports.
    "CKV_CHECK": None,
    "CKV_SKIP_CHECK": None,
    "CHECKOV_PARALLELIZATION_TYPE": "none",  # fork: slower on 2 cores, hangs on a crash
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # no PyPI request when checkov is imported
    "BC_SKIP_MAPPING": "TRUE",  # no guideline/mapping download (as --skip-download)
    "DOWNLOAD_EXTERNAL_MODULES": "false",  # no Terraform registry or git module downloads
    "CHECKOV_HELM_ALLOWED_REMOTE_REPOS": "none",  # never `helm dependency update` from a repo
    "CHECKOV_KUSTOMIZE_ALLOWED_REMOTE_PREFIXES": "none",  # never fetch remote bases
    "CKV_GITHUB_CONFIG_FETCH_DATA": "false",  # no GitHub API calls (github_configuration)
    "CKV_GITLAB_CONFIG_FETCH_DATA": "false",
    "CKV_NO_FAIL_ON_CRASH": "false",  # a crash must exit 2, never 0
    "CHECKOV_NO_OUTPUT": "false",  # always print the report
    "CKV_IGNORE_HIDDEN_DIRECTORIES": "false",  # walk folders as the inventory does ...
    # ... skipping the same folders (plus checkov's own default, .serverless)
    "CKV_IGNORED_DIRECTORIES": ",".join(sorted(IGNORED_DIRS | {".serverless"})),
    "LOG_LEVEL": "WARNING",
}
SKIP_REASONS = {
    "helm": (
        "Helm chart not scanned: the helm binary is not installed",
        "Helm chart not scanned: it needs remote charts and the scan is offline",
    ),
    "kustomize": (
        "Kustomize overlay not scanned: the kustomize binary is not installed",
        "Kustomize overlay not scanned: it needs remote bases and the scan is offline",
    ),
}
NOTHING_CHECKED = "checkov ran no check on this file (not valid YAML, or no resource it knows)"


@dataclass(frozen=True, slots=True)
class Invocation:
    """One checkov command, the folder its paths are relative to, and what it was given."""

    argv: tuple[str, ...]
    base: str
    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    invocations: tuple[Invocation, ...]
    skipped: tuple[Skip, ...]


def plan_invocations(
    exe: str, inventory: Inventory, binaries: frozenset[str], *, remote: frozenset[str]
) -> Plan:
    """The commands to run. `remote`: chart/overlay folders that need the network."""
    skipped: list[Skip] = []
    folders = list(inventory.terraform_dirs)
    frameworks = ["terraform"] if folders else []
    for kind, dirs in (("helm", inventory.helm_charts), ("kustomize", inventory.kustomizations)):
        missing, offline = SKIP_REASONS[kind]
        if kind not in binaries:
            skipped += [Skip(d or ".", missing, tool=NAME) for d in dirs]
            continue
        skipped += [Skip(d or ".", offline, tool=NAME) for d in dirs if d in remote]
        local = [d for d in dirs if d not in remote]
        folders += local
        frameworks += [kind] if local else []
    by_framework = {
        "cloudformation": inventory.cloudformation_files,
        "kubernetes": inventory.kubernetes_files,
        "dockerfile": inventory.dockerfiles,
        "github_actions": inventory.github_workflows,
    }
    used = [fw for fw in FILE_FRAMEWORKS if by_framework[fw]]
    files = sorted({f for fw in used for f in by_framework[fw]})
    # checkov skips any folder the remote charts/overlays live in only with --skip-path.
    skips = [a for d in sorted(remote - {""}) for a in ("--skip-path", f"(^|/){re.escape(d)}$")]
    if folders and files:
        # One run over the common folder: a checkov start-up costs ~2 s of CPU, more than its
        # walk for these frameworks (secrets scanning is off). Findings outside the inventory
        # (excluded folders) are dropped afterwards, as for the Terraform folder run.
        parents = [posixpath.dirname(f) for f in files]
        base = _common_folder([*folders, *parents])
        argv = (
            exe,
            "--framework",
            *frameworks,
            *used,
            *COMMON_ARGS,
            *skips,
            f"--directory={base}",
        )
        rel = "" if base == "." else base
        invocation = Invocation(argv, rel, files=tuple(files), folders=tuple(folders))
        return Plan((invocation,), tuple(skipped))
    invocations: list[Invocation] = []
    if folders:
        base = _common_folder(folders)
        argv = (exe, "--framework", *frameworks, *COMMON_ARGS, *skips, f"--directory={base}")
        invocations.append(Invocation(argv, "" if base == "." else base, folders=tuple(folders)))
    head = (exe, "--framework", *used, *COMMON_ARGS)
    for chunk in _chunks(files, argv_budget() - sum(arg_cost(a) for a in head)):
        argv = (*head, *(f"--file={f}" for f in chunk))
        invocations.append(Invocation(argv, "", files=tuple(chunk)))
    return Plan(tuple(invocations), tuple(skipped))


def _common_folder(folders: Sequence[str]) -> str:
    if any(f in ("", ".") for f in folders):
        return "."
    return posixpath.commonpath(list(folders)) or "."


def _chunks(files: Sequence[str], budget: int) -> list[list[str]]:
    chunks: list[list[str]] = []
    size = budget
    for name in files:
        cost = arg_cost("--file=" + name)
        if size + cost > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(name)
        size += cost
    return chunks


def _keep(finding: RawFinding, invocation: Invocation, inventory: Inventory) -> bool:
    """Whether a finding of a folder run is in a file we asked for."""
    path = finding.location.path
    if path in inventory.terraform_files or path in invocation.files:
        return True
    if not path.endswith((".tf", ".tf.json")):
        # Helm charts and Kustomize overlays are given as folders; other files only by name.
        return any(_under(path, d) for d in invocation.folders if d not in inventory.terraform_dirs)
    # A module's resource is reported in the module's file, under the caller's address.
    return (finding.resource or "").startswith("module.") and path in inventory.all_files


class CheckovScanner:
    name = NAME
    description = "IaC misconfigurations: Terraform, CloudFormation, Kubernetes, Docker, Actions"

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        done = proc.run([_executable(settings), "--version"], tool=NAME, timeout_s=120, env=ENV)
        text = done.stdout.decode("utf-8", errors="replace").strip()
        match = re.fullmatch(r"\d+(\.\d+)+\S*", text.splitlines()[-1] if text else "")
        if done.returncode != 0 or match is None:
            raise ScannerFailure(f"checkov --version failed ({describe_exit(done.returncode)})")
        return match.group(0)

    def cache_key(self, ctx: ScanContext) -> str | None:
        """Everything checkov reads: the IaC files it is given, whole chart and overlay
        folders, and every Terraform file of the repository (modules live anywhere)."""
        exe = find_executable(NAME, ctx.settings.executables.get(NAME))
        if exe is None or ctx.settings.policy_dir is None:
            return None
        identity, _ = tool_identity(exe, NAME)
        inventory = ctx.inventory
        folders = (*inventory.helm_charts, *inventory.kustomizations)
        files = {
            *inventory.terraform_files,
            *inventory.cloudformation_files,
            *inventory.kubernetes_files,
            *inventory.dockerfiles,
            *inventory.github_workflows,
            *(ctx.repo_inventory or inventory).terraform_files,
            *(f for f in inventory.all_files if any(_under(f, d) for d in folders)),
        }
        digests = ctx.digests or FileDigests(ctx.root)
        return cache_key(
            code_digest(),
            NAME,
            identity,
            folder_digest(ctx.settings.policy_dir / TABLE_PATH),
            repr(sorted(ctx.settings.available_binaries)),
            repr(sorted(f for f in files if f in inventory.terraform_files)),
            repr(sorted(folders)),
            digests.key(files),
        )

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        table = _table(ctx.settings)
        inventory = ctx.inventory
        binaries = ctx.settings.available_binaries
        plan = plan_invocations(
            _executable(ctx.settings),
            inventory,
            binaries,
            remote=_remote_folders(ctx.root, inventory),
        )
        if not plan.invocations:
            if plan.skipped:
                return ScannerOutput(findings=(), version=None, skipped=plan.skipped)
            raise NothingToScan("no Terraform, CloudFormation, Kubernetes, Docker or Actions files")
        root = ctx.root.resolve().as_posix()
        workers = max(1, min(ctx.settings.jobs, len(plan.invocations)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = list(
                pool.map(
                    lambda i: proc.run(
                        i.argv, tool=NAME, timeout_s=ctx.settings.timeout_s, cwd=ctx.root, env=ENV
                    ),
                    plan.invocations,
                )
            )
        findings: list[RawFinding] = []
        skipped = list(plan.skipped)
        versions: set[str] = set()
        # One reader for the run: skipped checks quote their comment, findings their lines.
        reader = SnippetReader(ctx.root)
        for invocation, completed in zip(plan.invocations, done, strict=True):
            parsed = _parse(completed, root, table, invocation.base, reader)
            versions.update([parsed.version] if parsed.version else [])
            found, skips = _select(parsed, invocation, inventory)
            findings += found
            skipped += skips
        # --compact prints no code: read the flagged lines from the files.
        findings = [
            f if f.snippet else replace(f, snippet=reader.read(f.location.path, *_lines(f)))
            for f in findings
        ]
        return ScannerOutput(
            findings=tuple(sorted(set(findings), key=_finding_key)),
            version=min(versions) if versions else None,
            commands=tuple(_display(c.argv) for c in done),
            skipped=tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason))),
            raw_outputs=tuple(c.stdout for c in done),
        )


def _select(
    parsed: ParsedCheckov, invocation: Invocation, inventory: Inventory
) -> tuple[list[RawFinding], list[Skip]]:
    """What one invocation contributes: the folder run only within the selected folders;
    the file run adds a skip for each file no check ran on (and that did not fail to parse)."""
    findings = list(parsed.findings)
    skips = list(parsed.skipped)
    if invocation.folders:
        findings = [f for f in findings if _keep(f, invocation, inventory)]
        skips = [s for s in skips if _selected(s.path, invocation, inventory)]
    noted = {s.path for s in skips}
    unchecked = [
        Skip(f, NOTHING_CHECKED, tool=NAME)
        for f in invocation.files
        if f not in parsed.checked_files and f not in noted
    ]
    return findings, [*skips, *unchecked]


def _lines(f: RawFinding) -> tuple[int | None, int | None]:
    return (f.location.start_line, f.location.end_line)


def _finding_key(f: RawFinding) -> tuple[str, int, str, str]:
    return (f.location.path, f.location.start_line or 0, f.rule_id, f.resource or "")


def _parse(
    completed: Completed, root: str, table: CheckTable, base: str, reader: SnippetReader
) -> ParsedCheckov:
    if completed.returncode not in (0, 1):
        detail = completed.stderr_tail() or "no output"
        raise ScannerFailure(f"checkov crashed ({describe_exit(completed.returncode)}): {detail}")
    try:
        return parse_checkov_output(
            completed.stdout, root=root, table=table, base=base, lines=reader.lines
        )
    except ScannerFailure as failure:
        detail = completed.stderr_tail()
        exit_text = describe_exit(completed.returncode)
        message = f"{failure.message} ({exit_text})" + (f": {detail}" if detail else "")
        raise ScannerFailure(message) from None


def _selected(path: str, invocation: Invocation, inventory: Inventory) -> bool:
    if path in inventory.terraform_files or path in invocation.files:
        return True
    return any(_under(path, d) for d in invocation.folders)


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def _display(argv: Iterable[str]) -> tuple[str, ...]:
    """The command as recorded: a long file list is summarised."""
    args = tuple(argv)
    files = [a for a in args if a.startswith("--file=")]
    if len(files) <= 20:
        return args
    return (*[a for a in args if not a.startswith("--file=")], f"<{len(files)} files>")


def _table(settings: ScanSettings) -> CheckTable:
    if settings.policy_dir is None:
        raise ScannerFailure("checkov: no policy folder configured (it holds our severities)")
    return load_check_table(settings.policy_dir / TABLE_PATH)


def _executable(settings: ScanSettings) -> str:
    exe = find_executable(NAME, settings.executables.get(NAME))
    if exe is None:
        raise ScannerFailure("checkov is not installed", hint="pip install checkov")
    return exe


def _remote_folders(root: Path, inventory: Inventory) -> frozenset[str]:
    """Charts and overlays that pull remote charts or bases: unusable offline."""
    remote = {c for c in inventory.helm_charts if _remote_chart(root / c / "Chart.yaml")}
    for overlay in inventory.kustomizations:
        for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            entries = _yaml_list(root / overlay / name, "resources")
            entries += _yaml_list(root / overlay / name, "bases")
            if any(isinstance(e, str) and _REMOTE_REF.match(e) for e in entries):
                remote.add(overlay)
    return frozenset(remote)


_REMOTE_REF = re.compile(r"^([a-z0-9+.-]+://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")


def _remote_chart(chart_yaml: Path) -> bool:
    """A dependency not given as file://... comes from a repository (http, oci or an alias)."""
    for dependency in _yaml_list(chart_yaml, "dependencies"):
        repository = dependency.get("repository") if isinstance(dependency, dict) else None
        if isinstance(repository, str) and repository and not repository.startswith("file://"):
            return True
    return False


def _yaml_list(path: Path, key: str) -> list[Any]:
    try:
        data = yamlsafe.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []
