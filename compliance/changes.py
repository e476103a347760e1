"""Changed-files mode: what changed, and which scanners those changes need.

`compliance scan --staged`, `compliance scan FILE...` and `--changed-since REF` scan only
what changed, because a pre-commit hook must answer in seconds. Two questions are answered
here. What changed: `staged_changes`, `changes_since` and `given_files` give a `ChangeSet`.
What to run for it: `plan_changes` gives a `ChangePlan`, with only the scanners whose file
types changed and findings reported only in the changed files, or a full scan, with the
reason, when a change can alter findings in other files (a policy or config file, Terraform
variables, a local Terraform module, a threat model).

git runs through `ProcessRunner` with paths NUL-separated (`-z`), so no file name needs
unquoting; it prints paths relative to the top of the work tree, and the root may be a
folder below it.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from compliance.config import CONFIG_FILENAMES
from compliance.errors import ScannerFailure, UsageError
from compliance.inventory import Inventory
from compliance.scanners.process import Completed, ProcessRunner, find_executable
from compliance.services import CODEOWNERS_LOCATIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_GIT_TIMEOUT_S = 60
#: Reading never takes the index lock, so a scan cannot block the user's own git commands.
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0"}
#: A user's `diff.relative` would make git print paths relative to the root, not the top.
_GIT_CONFIG = ("-c", "diff.relative=false")
_NO_GIT_HINT = "run it in a git work tree, or pass the changed files: compliance scan FILE..."

#: Which scanners a kind of changed file needs. Threat models are never scanned partially:
#: their findings are about whole services (the full scan in CI checks them).
_KIND_SCANNERS = {
    "Python": ("bandit", "semgrep", "residency"),
    "dependency": ("pip-audit",),
    "infrastructure": ("checkov", "residency"),
}
_POLICY_FOLDERS = {"policies": "a policy file", "controls": "a control catalogue file"}
_CATALOG_INFO = ("catalog-info.yaml", "catalog-info.yml")
_CHECKOV_CONFIG = (".checkov.yaml", ".checkov.yml")
_KUSTOMIZE_SUFFIXES = (".yaml", ".yml", ".json")
_TERRAFORM_SUFFIXES = (".tf", ".tf.json")
_TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")
#: `module "name" {` (or an unquoted label) up to its `source = "..."`, before any nested
#: block: Terraform requires `source`, and it is written first in practice.
_MODULE_SOURCE = re.compile(
    r'^[ \t]*module\s+(?:"[^"\n]*"|[\w-]+)\s*\{[^{}]*?(?<![\w.-])source\s*=\s*"([^"\n]*)"',
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """The files a change touches. Paths are POSIX, relative to the root, sorted, unique."""

    #: Changed files that exist now.
    files: tuple[str, ...]
    #: Changed paths that no longer exist.
    deleted: tuple[str, ...]
    #: What changed, for people: "staged changes", "changes since origin/main (merge base
    #: 1a2b3c4)", "3 given files".
    source: str


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """What a changed-files scan runs, and why; or why it must scan everything."""

    #: The scanners to run, in registry order.
    scanners: tuple[str, ...]
    #: Findings are reported only in these files; empty for a full scan.
    files: tuple[str, ...]
    #: Why a full scan is needed; empty when the scan is partial.
    full_scan: tuple[str, ...]
    #: Why each chosen scanner runs ("2 Python files changed").
    reasons: dict[str, str] = field(hash=False)

    @property
    def is_full(self) -> bool:
        return bool(self.full_scan)


# --- what changed ----------------------------------------------------------------------------


def staged_changes(root: Path, proc: ProcessRunner) -> ChangeSet:
    """The files staged for the next commit (index against HEAD), under `root`."""
    git = _Git.open(root, proc)
    done = git.run("diff", "--cached", "--name-only", "-z", "--no-renames", "--")
    return _change_set(root, git.under_root(_check(done, "git diff --cached")), "staged changes")


def changes_since(root: Path, ref: str, proc: ProcessRunner) -> ChangeSet:
    """The files changed between the merge base of `ref` and HEAD and the work tree:
    commits, staged and unstaged edits, and untracked files that are not ignored."""
    if not ref or ref.startswith("-"):
        raise UsageError(
            f"invalid git ref {ref!r}",
            hint="name a branch, tag or commit, e.g. --changed-since origin/main",
        )
    git = _Git.open(root, proc)
    # Verify first, so an unknown ref is named as such (merge-base only says "not valid").
    found = git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise UsageError(
            f"unknown git ref {ref!r}",
            hint="fetch it first (e.g. git fetch origin main; CI clones may need full "
            "history), or name a branch, tag or commit",
        )
    commit = found.stdout.decode("ascii", errors="replace").strip()
    merged = git.run("merge-base", commit, "HEAD")
    if merged.returncode == 1 and not merged.stdout.strip():
        raise UsageError(
            f"{ref} and HEAD have no common ancestor",
            hint="in a shallow clone, fetch more history (git fetch --unshallow)",
        )
    base = _check(merged, f"git merge-base {ref} HEAD").decode("ascii", errors="replace")
    base = base.strip()
    diff = git.run("diff", "--name-only", "-z", "--no-renames", base, "--")
    untracked = git.run("ls-files", "--others", "--exclude-standard", "-z", "--full-name")
    paths = [
        *git.under_root(_check(diff, f"git diff {base[:7]}")),
        *git.under_root(_check(untracked, "git ls-files --others")),
    ]
    return _change_set(root, paths, f"changes since {ref} (merge base {base[:7]})")


def given_files(root: Path, paths: Sequence[Path]) -> ChangeSet:
    """Files named on the command line (relative to the current folder, or absolute).

    Each must lie inside `root`; one that does not exist counts as deleted."""
    base = root.resolve()
    files: set[str] = set()
    deleted: set[str] = set()
    for given in paths:
        # Resolve the folder but not the file itself: a link inside the repo is the link.
        absolute = Path(os.path.normpath(given.absolute()))
        candidate = absolute.parent.resolve() / absolute.name
        rel = _relative_to(candidate, base) or _relative_to(absolute, root.absolute())
        if rel is None:
            raise UsageError(
                f"{given} is outside the repository root {root}",
                hint="pass files inside the root, or scan the repository that holds them",
            )
        if candidate.is_dir():
            raise UsageError(
                f"{given} is a folder", hint="pass files, or the folder as the repository root"
            )
        (files if os.path.lexists(candidate) else deleted).add(rel)
    count = len(files | deleted)
    return ChangeSet(
        files=tuple(sorted(files)),
        deleted=tuple(sorted(deleted)),
        source=f"{count} given file{'' if count == 1 else 's'}",
    )


@dataclass(frozen=True, slots=True)
class _Git:
    """git run at the root, through the one subprocess call site."""

    executable: str
    root: Path
    proc: ProcessRunner
    #: The root's path below the top of the work tree, "" or ending in "/".
    prefix: str = ""

    @classmethod
    def open(cls, root: Path, proc: ProcessRunner) -> _Git:
        executable = find_executable("git")
        if executable is None:
            raise UsageError(
                "changed-files mode needs git, and git is not installed (or not on PATH)",
                hint="install git, or pass the changed files: compliance scan FILE...",
            )
        git = cls(executable, root, proc)
        done = git.run("rev-parse", "--show-prefix")
        if done.returncode != 0:
            stderr = done.stderr_tail()  # git's own advice, e.g. on a safe.directory
            if "not a git repository" in stderr.lower():
                raise UsageError(f"{root} is not in a git repository", hint=_NO_GIT_HINT)
            raise UsageError(f"git cannot read the repository at {root}: {stderr}")
        prefix = os.fsdecode(done.stdout).removesuffix("\n")
        return cls(executable, root, proc, prefix)

    def run(self, *args: str) -> Completed:
        argv = [self.executable, "-C", str(self.root), *_GIT_CONFIG, *args]
        try:
            return self.proc.run(argv, tool="git", timeout_s=_GIT_TIMEOUT_S, env=_GIT_ENV)
        except ScannerFailure as failure:
            raise UsageError(failure.message, hint=_NO_GIT_HINT) from None

    def under_root(self, output: bytes) -> list[str]:
        """The NUL-separated top-relative paths in `output` that lie under the root,
        relative to the root."""
        paths = (os.fsdecode(p) for p in output.split(b"\0") if p)
        return [p.removeprefix(self.prefix) for p in paths if p.startswith(self.prefix)]


def _check(done: Completed, what: str) -> bytes:
    if done.returncode != 0:
        raise UsageError(f"{what} failed: {done.stderr_tail()}", hint=_NO_GIT_HINT)
    return done.stdout


def _change_set(root: Path, paths: Iterable[str], source: str) -> ChangeSet:
    files: set[str] = set()
    deleted: set[str] = set()
    for rel in set(paths):
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            continue  # a submodule: its own repository, not a file of this one
        (files if os.path.lexists(path) else deleted).add(rel)
    return ChangeSet(tuple(sorted(files)), tuple(sorted(deleted)), source)


def _relative_to(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


# --- what to run -----------------------------------------------------------------------------


def plan_changes(
    changes: ChangeSet,
    inventory: Inventory,
    *,
    available: Sequence[str],
    policy_files: Collection[str],
    config_file: str | None,
    threatmodel_dir: str,
) -> ChangePlan:
    """The scanners `changes` need among `available`, or a full scan and why.

    `inventory` is the whole repository's: it classifies the changed files and holds the
    Terraform files whose module calls are read. Paths in `policy_files` and `config_file`
    are relative to `inventory.root` (or absolute)."""
    full = _full_scan_reasons(
        changes,
        inventory,
        policies={_root_relative(p, inventory.root) for p in policy_files},
        config=_root_relative(config_file, inventory.root) if config_file else None,
        threatmodels=_root_relative(threatmodel_dir, inventory.root),
    )
    if full:
        scanners = tuple(available)
        summary = f"full scan: {full[0]}" + (f" (+{len(full) - 1} more)" if len(full) > 1 else "")
        return ChangePlan(scanners, (), full, dict.fromkeys(scanners, summary))
    counts = _kind_counts(changes.files, inventory)
    reasons: dict[str, str] = {}
    for name in available:
        parts = [
            f"{n} {kind} file{'' if n == 1 else 's'}"
            for kind, n in counts.items()
            if n and name in _KIND_SCANNERS[kind]
        ]
        if parts:
            reasons[name] = " and ".join(parts) + " changed"
    return ChangePlan(tuple(reasons), changes.files, (), reasons)


def _kind_counts(files: Iterable[str], inventory: Inventory) -> dict[str, int]:
    python = set(inventory.python_files)
    dependencies = set(inventory.dependency_files)
    infrastructure = {
        *inventory.terraform_files,
        *inventory.cloudformation_files,
        *inventory.kubernetes_files,
        *inventory.dockerfiles,
        *inventory.github_workflows,
    }
    counts = dict.fromkeys(_KIND_SCANNERS, 0)
    for path in files:
        counts["Python"] += path in python
        counts["dependency"] += path in dependencies
        counts["infrastructure"] += path in infrastructure or _in_chart_or_overlay(path, inventory)
    return counts


def _in_chart_or_overlay(path: str, inventory: Inventory) -> bool:
    """A file of a Helm chart (any: templates need not be YAML), or a YAML or JSON file of a
    Kustomize overlay's folder (the only files kustomize reads)."""
    if any(_under(path, chart) for chart in inventory.helm_charts):
        return True
    kustomize = path.endswith(_KUSTOMIZE_SUFFIXES) or PurePosixPath(path).name == "Kustomization"
    return kustomize and any(_under(path, folder) for folder in inventory.kustomizations)


def _full_scan_reasons(
    changes: ChangeSet,
    inventory: Inventory,
    *,
    policies: set[str],
    config: str | None,
    threatmodels: str,
) -> tuple[str, ...]:
    """One reason per changed path that can alter findings in files that did not change."""
    modules: dict[str, set[str]] | None = None
    reasons: list[str] = []
    existing = set(changes.files)
    for path in sorted(existing | set(changes.deleted)):
        exists = path in existing
        what = _config_role(path, policies, config)
        if what is None and _under(path, threatmodels):
            what = "a threat model: the threatmodel scanner checks whole services"
        if what is None and exists and _has_compliance_table(inventory.root, path):
            what = "compliance config: it has a [tool.compliance] table"
        if what is None and path.endswith(_TFVARS_SUFFIXES):
            what = "a Terraform variables file: it applies to its whole folder"
        if what is None and path.endswith(_TERRAFORM_SUFFIXES):
            # Read the module calls only when a Terraform file changed.
            modules = _module_callers(inventory) if modules is None else modules
            what = _terraform_role(path, modules, exists=exists)
        if what is not None:
            reasons.append(f"{path} is {what}" if exists else f"{path} (deleted) was {what}")
    return tuple(reasons)


def _terraform_role(path: str, modules: dict[str, set[str]], *, exists: bool) -> str | None:
    callers = modules.get(posixpath.dirname(path))
    if callers:
        shown = ", ".join(c or "the root folder" for c in sorted(callers))
        return f"a Terraform module used by {shown}"
    if not exists:
        return "a Terraform file: other files of its folder may refer to it"
    return None


def _config_role(path: str, policies: set[str], config: str | None) -> str | None:
    """What a policy or config file is to a scan, by its path alone; None for other files."""
    top, _, rest = path.partition("/")
    name = PurePosixPath(path).name
    if path == config or path in CONFIG_FILENAMES:
        return "the compliance config"
    if path in policies:
        return "a policy file"
    if rest and top in _POLICY_FOLDERS:
        return _POLICY_FOLDERS[top]
    if path in CODEOWNERS_LOCATIONS:
        return "CODEOWNERS: it assigns the services' owners"
    if name in _CATALOG_INFO:
        return "a Backstage catalog-info file: it declares services"
    if top == ".compliance" and rest and ".sqlite" not in name:
        return "a baseline (under .compliance/)"
    if path in _CHECKOV_CONFIG:
        return "checkov's config"
    return None


def _has_compliance_table(root: Path, path: str) -> bool:
    """Whether `path` is a pyproject.toml with a [tool.compliance] table (the repository's
    config at the root; a service's data classification below it)."""
    if PurePosixPath(path).name != "pyproject.toml":
        return False
    try:
        data = tomllib.loads((root / path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "compliance" in tool


def _module_callers(inventory: Inventory) -> dict[str, set[str]]:
    """Folder of a local Terraform module -> the folders calling it ("" is the root)."""
    callers: dict[str, set[str]] = {}
    for rel in inventory.terraform_files:
        try:
            text = (inventory.root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        caller = posixpath.dirname(rel)
        for source in _module_sources(text, json_syntax=rel.endswith(".json")):
            if not source.startswith(("./", "../")):
                continue  # a registry, git or URL source: not a folder of this repository
            module = posixpath.normpath(posixpath.join(caller, source))
            module = "" if module == "." else module
            if module not in (caller, "..") and not module.startswith("../"):
                callers.setdefault(module, set()).add(caller)
    return callers


def _module_sources(text: str, *, json_syntax: bool) -> list[str]:
    if not json_syntax:
        return _MODULE_SOURCE.findall(text)
    try:
        data = json.loads(text)
    except ValueError:
        return []
    blocks: list[Any] = []
    for item in data if isinstance(data, list) else [data]:
        modules = item.get("module") if isinstance(item, dict) else None
        for group in modules if isinstance(modules, list) else [modules]:
            if isinstance(group, dict):
                for body in group.values():
                    blocks += body if isinstance(body, list) else [body]
    return [b["source"] for b in blocks if isinstance(b, dict) and isinstance(b.get("source"), str)]


def _root_relative(path: str, root: Path) -> str:
    """`path` as a POSIX path relative to `root` ("" for the root itself)."""
    if Path(path).is_absolute():
        path = _relative_to(Path(path), root) or path
    normal = posixpath.normpath(path.replace("\\", "/"))
    return "" if normal == "." else normal


def _under(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder.rstrip("/") + "/")
