"""One walk over the repository: which files each scanner can use, and what was skipped.

Scanners are handed exactly the files they understand, so a repository of 4,000 Python files
and three Dockerfiles does not make checkov walk 4,000 Python files. The walk never follows a
symlink (so loops and links out of the repo cannot hurt), skips binary, oversized and
undecodable files with a reason, and ignores the usual vendored and generated folders.

A file or folder whose name is not UTF-8 is skipped too (shown with `\\xNN` escapes): no
report format can hold its name, and a fingerprint is a hash of UTF-8 text. Any file over
`MAX_FILE_BYTES` is skipped from its size alone (never opened), whatever its kind: scanners
and cache keys read the files of `all_files`.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from compliance import yamlsafe
from compliance.model import Skip

#: Folders never scanned: VCS metadata, virtual environments, caches, vendored packages.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
        "site-packages",
        ".eggs",
    }
)

#: Files larger than this are not handed to scanners (minified bundles, data dumps).
MAX_FILE_BYTES = 2 * 1024 * 1024
_PEEK_BYTES = 8192
#: YAML files are read whole: one whose aliases expand too far is never handed to a tool.
_YAML_SUFFIXES = (".yml", ".yaml", ".template")

DEPENDENCY_FILE_PATTERNS = (
    "requirements*.txt",
    "requirements/*.txt",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pylock.toml",
    "pylock.*.toml",
)


@dataclass(frozen=True, slots=True)
class Inventory:
    """The classified files of a repository. Paths are POSIX, relative to the root."""

    root: Path
    python_files: tuple[str, ...] = ()
    terraform_files: tuple[str, ...] = ()
    cloudformation_files: tuple[str, ...] = ()
    kubernetes_files: tuple[str, ...] = ()
    dockerfiles: tuple[str, ...] = ()
    github_workflows: tuple[str, ...] = ()
    helm_charts: tuple[str, ...] = ()
    kustomizations: tuple[str, ...] = ()
    dependency_files: tuple[str, ...] = ()
    all_files: tuple[str, ...] = ()
    skipped: tuple[Skip, ...] = field(default=())

    @property
    def terraform_dirs(self) -> tuple[str, ...]:
        """Folders holding Terraform: checkov resolves variables and modules per folder."""
        return tuple(sorted({_parent(p) for p in self.terraform_files}))

    def restricted_to(self, paths: Iterable[str]) -> Inventory:
        """The same inventory limited to `paths` (changed-files mode). Folders stay whole."""
        keep = set(paths)
        folders = {_parent(k) for k in keep}

        def only(files: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(p for p in files if p in keep)

        return Inventory(
            root=self.root,
            python_files=only(self.python_files),
            terraform_files=tuple(p for p in self.terraform_files if _parent(p) in folders),
            cloudformation_files=only(self.cloudformation_files),
            kubernetes_files=only(self.kubernetes_files),
            dockerfiles=only(self.dockerfiles),
            github_workflows=only(self.github_workflows),
            helm_charts=tuple(c for c in self.helm_charts if any(_under(k, c) for k in keep)),
            kustomizations=tuple(k for k in self.kustomizations if any(_under(p, k) for p in keep)),
            dependency_files=only(self.dependency_files),
            all_files=self.all_files,
            skipped=tuple(s for s in self.skipped if s.path in keep),
        )


def _parent(path: str) -> str:
    return str(PurePosixPath(path).parent)


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def build_inventory(root: Path, *, exclude: Sequence[str] = ()) -> Inventory:
    """Walk `root` once and classify every file. Never raises on odd files: it skips them."""
    root = root.resolve()
    python: list[str] = []
    terraform: list[str] = []
    cloudformation: list[str] = []
    kubernetes: list[str] = []
    dockerfiles: list[str] = []
    workflows: list[str] = []
    charts: list[str] = []
    kustomize: list[str] = []
    deps: list[str] = []
    every: list[str] = []
    skipped: list[Skip] = []

    def on_error(exc: OSError) -> None:
        rel = _relative(root, Path(exc.filename)) if exc.filename else "."
        skipped.append(Skip(_shown(rel), f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        base = Path(dirpath)
        rel_dir = _relative(root, base)
        kept_dirs = []
        for name in sorted(dirnames):
            rel = _join(rel_dir, name)
            if name in IGNORED_DIRS or _excluded(rel, exclude):
                continue
            if not _utf8(name):
                skipped.append(Skip(_shown(rel), "folder name is not UTF-8: not scanned"))
                continue
            if (base / name).is_symlink():
                skipped.append(Skip(rel, "symbolic link to a folder: not followed"))
                continue
            kept_dirs.append(name)
        dirnames[:] = kept_dirs
        names = set(filenames)
        if "Chart.yaml" in names:
            charts.append(rel_dir)
        if names & {"kustomization.yaml", "kustomization.yml", "Kustomization"}:
            kustomize.append(rel_dir)
        for name in sorted(filenames):
            rel = _join(rel_dir, name)
            if _excluded(rel, exclude):
                continue
            if not _utf8(name):
                skipped.append(Skip(_shown(rel), "file name is not UTF-8: not scanned"))
                continue
            path = base / name
            kind, reason = _classify(path, rel, name)
            if reason is not None:
                skipped.append(Skip(rel, reason))
                continue
            every.append(rel)
            match kind:
                case "python":
                    python.append(rel)
                case "terraform":
                    terraform.append(rel)
                case "cloudformation":
                    cloudformation.append(rel)
                case "kubernetes":
                    kubernetes.append(rel)
                case "dockerfile":
                    dockerfiles.append(rel)
                case "workflow":
                    workflows.append(rel)
                case "dependency":
                    deps.append(rel)
                case _:
                    pass

    def outside_charts(files: list[str]) -> tuple[str, ...]:
        # Helm templates are not plain Kubernetes YAML; they are the helm framework's.
        return tuple(sorted(f for f in files if not any(_under(f, c) for c in charts)))

    return Inventory(
        root=root,
        python_files=tuple(sorted(python)),
        terraform_files=tuple(sorted(terraform)),
        cloudformation_files=tuple(sorted(cloudformation)),
        kubernetes_files=outside_charts(kubernetes),
        dockerfiles=tuple(sorted(dockerfiles)),
        github_workflows=tuple(sorted(workflows)),
        helm_charts=tuple(sorted(charts)),
        kustomizations=tuple(sorted(kustomize)),
        dependency_files=tuple(sorted(deps)),
        all_files=tuple(sorted(every)),
        skipped=tuple(sorted(skipped, key=lambda s: (s.path, s.reason))),
    )


def _relative(root: Path, path: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.as_posix()
    text = rel.as_posix()
    return "" if text == "." else text


def _utf8(name: str) -> bool:
    """os.walk gives undecodable bytes of a name as lone surrogates (PEP 383)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """`rel` with the bytes of a non-UTF-8 name written as `\\xNN`."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir else name


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(rel, p.rstrip("/") + "/*")
        for p in patterns
    )


def _kind_by_name(rel: str, name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".py"):
        return "python"
    if lower.endswith((".tf", ".tf.json")):
        return "terraform"
    if name == "Dockerfile" or name.startswith("Dockerfile.") or lower.endswith(".dockerfile"):
        return "dockerfile"
    if lower.endswith((".yml", ".yaml")) and "/.github/workflows/" in f"/{rel}":
        return "workflow"
    if any(fnmatch.fnmatchcase(name, p) for p in DEPENDENCY_FILE_PATTERNS if "/" not in p):
        return "dependency"
    if fnmatch.fnmatchcase(rel, "*requirements/*.txt"):
        return "dependency"
    if lower.endswith((".yml", ".yaml", ".json", ".template")):
        return "structured"
    return None


def _classify(path: Path, rel: str, name: str) -> tuple[str | None, str | None]:
    """Return (kind, None) for a usable file, or (None, reason) for a skipped one."""
    try:
        info = path.lstat()
    except OSError as exc:
        return None, f"cannot stat: {exc.strerror or exc}"
    if stat.S_ISLNK(info.st_mode):
        return None, "symbolic link: not followed"
    if not stat.S_ISREG(info.st_mode):
        return None, "not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return None, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
    kind = _kind_by_name(rel, name)
    if kind is None:
        return None, None
    is_yaml = name.lower().endswith(_YAML_SUFFIXES)
    try:
        with path.open("rb") as handle:
            head = handle.read(_PEEK_BYTES)
            whole = head + handle.read() if kind == "python" or is_yaml else head
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if b"\x00" in head:
        return None, "binary file"
    if is_yaml:
        try:
            yamlsafe.check_aliases(whole)
        except yamlsafe.LimitError as exc:
            mark = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
            return None, f"YAML refused: {exc.problem}{mark}"
    if kind == "python" and not _decodes(whole):
        return None, "not UTF-8 and no PEP 263 coding declaration"
    if kind == "structured":
        return _structured_kind(head), None
    return kind, None


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        first_lines = b"\n".join(data.splitlines()[:2])
        return b"coding" in first_lines
    return True


def _structured_kind(head: bytes) -> str | None:
    """Tell Kubernetes manifests and CloudFormation templates from other YAML/JSON."""
    text = head.decode("utf-8", errors="replace")
    if "AWSTemplateFormatVersion" in text or "AWS::" in text:
        return "cloudformation"
    has_api = "apiVersion" in text
    has_kind = "\nkind:" in f"\n{text}" or '"kind"' in text
    if has_api and has_kind:
        return "kubernetes"
    return None
