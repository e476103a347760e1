"""The repository config: `compliance.yaml` at the root, or `[tool.compliance]` in pyproject.toml.

Strict: an unknown or mistyped key is an error that names the file and the key path, so a
typo can never silently switch a check off.
"""

from __future__ import annotations

import sys
from pathlib import Path, PureWindowsPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compliance import yamlsafe
from compliance.errors import ConfigError, Problem, validation_problems

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILENAMES = ("compliance.yaml", "compliance.yml")

DataClass = Literal["public", "internal", "confidential", "pii", "payment"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceConfig(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    path: str = Field(min_length=1)
    owner: str | None = None
    description: str | None = None
    data_classification: tuple[DataClass, ...] = ()

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        posix = value.replace("\\", "/").strip("/")
        if value.startswith("/") or ".." in posix.split("/"):
            raise ValueError("must be a path inside the repository")
        return posix or "."


class CacheConfig(_Strict):
    """The result cache (safe to delete; `--no-cache` and `--cache-dir` override it)."""

    enabled: bool = True
    #: Relative to the repository root, and inside it: a repository's config may not make
    #: a scan write elsewhere (only `--cache-dir` may). Keep it out of version control (it
    #: writes a .gitignore of its own).
    dir: str = Field(default=".compliance/cache", min_length=1)
    #: Least recently used entries are evicted past this size.
    max_mb: int = Field(default=256, ge=1, le=100_000)

    @field_validator("dir")
    @classmethod
    def _inside(cls, value: str) -> str:
        posix = value.replace("\\", "/")
        if posix.startswith("/") or PureWindowsPath(value).drive or ".." in posix.split("/"):
            raise ValueError("must be a folder inside the repository (or pass --cache-dir)")
        return value


class ScanConfig(_Strict):
    advisory_db: str | None = None
    exclude: tuple[str, ...] = ()
    timeout_s: float = Field(default=900, gt=0)
    scanners: tuple[str, ...] | None = None
    cache: CacheConfig = CacheConfig()


class PolicyConfig(_Strict):
    """Where the repository keeps its policies (paths relative to the config file's folder).

    Unset: `policies/gate.yaml` and `policies/waivers.yaml` under the root when they exist,
    else the bundled default gate and no waivers.
    """

    gate: str | None = Field(default=None, min_length=1)
    waivers: str | None = Field(default=None, min_length=1)


class ResidencyConfig(_Strict):
    """The data-residency check (the `residency` scanner)."""

    #: The residency policy, relative to the config file's folder; default
    #: policies/residency.yaml under the root when it exists (no policy: nothing to check).
    policy: str | None = Field(default=None, min_length=1)


class ThreatModelConfig(_Strict):
    """The per-service threat models (the `threatmodel` scanner)."""

    #: Where the per-service models live, relative to the root.
    dir: str = Field(default="threatmodels", min_length=1)
    #: A review older than this many days makes the model stale.
    max_review_age_days: int = Field(default=180, ge=1, le=3650)


class RepoConfig(_Strict):
    version: Literal[1] = 1
    services: tuple[ServiceConfig, ...] = ()
    scan: ScanConfig = ScanConfig()
    policy: PolicyConfig = PolicyConfig()
    residency: ResidencyConfig = ResidencyConfig()
    threatmodel: ThreatModelConfig = ThreatModelConfig()

    @field_validator("services")
    @classmethod
    def _unique(cls, value: tuple[ServiceConfig, ...]) -> tuple[ServiceConfig, ...]:
        seen: set[str] = set()
        for service in value:
            if service.name in seen:
                raise ValueError(f"duplicate service name {service.name!r}")
            seen.add(service.name)
        return value


def find_config(root: Path) -> Path | None:
    """The config file that applies to `root`, if any."""
    for name in CONFIG_FILENAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        # ValueError: not TOML, not UTF-8, or an integer of more than 4,300 digits.
        except (ValueError, RecursionError, OSError):
            return None
        if isinstance(data.get("tool"), dict) and "compliance" in data["tool"]:
            return pyproject
    return None


def load_config(root: Path, explicit: Path | None = None) -> tuple[RepoConfig, Path | None]:
    """Load the repo config (explicit path, or discovered); defaults when there is none."""
    path = explicit if explicit is not None else find_config(root)
    if path is None:
        return RepoConfig(), None
    display = _display(path, root)
    raw = _read_raw(path, display)
    return parse_config(raw, display), path


def repo_cache_dir(config: RepoConfig, root: Path, config_file: Path | None) -> Path:
    """The cache folder the config names (resolved). Its key is checked to stay inside the
    repository; a symbolic link in the repository must not lead the cache's writes out of it
    either: ConfigError. Only the command line (`--cache-dir`) may put the cache elsewhere."""
    root = root.resolve()
    folder = (root / config.scan.cache.dir).resolve()
    if config.scan.cache.enabled and not folder.is_relative_to(root):
        display = _display(config_file, root) if config_file else "(default config)"
        raise ConfigError(
            [
                Problem(
                    display,
                    "scan.cache.dir",
                    "must be a folder inside the repository (a symbolic link leads out of it)",
                )
            ],
            hint="pass --cache-dir to keep the cache elsewhere",
        )
    return folder


def parse_config(raw: Any, display: str) -> RepoConfig:
    """Validate already-parsed data; every problem is reported with its key path."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([Problem(display, "", "expected a mapping at the top level")])
    problems: list[Problem] = []
    scan = raw.get("scan")
    if isinstance(scan, dict) and "fail_on" in scan:
        # Moved to the gate policy; say where instead of a bare "unknown key".
        problems.append(
            Problem(display, "scan.fail_on", "moved to the gate policy (`fail_on` in gate.yaml)")
        )
        raw = {**raw, "scan": {k: v for k, v in scan.items() if k != "fail_on"}}
    try:
        config = RepoConfig.model_validate(raw)
    except ValidationError as exc:
        problems += validation_problems(exc, display)
    if problems:
        raise ConfigError(problems)
    return config


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _read_raw(path: Path, display: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Problem(display, "", "not valid UTF-8")]) from None
    except OSError as exc:
        raise ConfigError([Problem(display, "", f"cannot read: {exc.strerror}")]) from None
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except RecursionError:
            raise ConfigError([Problem(display, "", "invalid TOML: nested too deeply")]) from None
        except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4,300 digits
            raise ConfigError([Problem(display, "", f"invalid TOML: {exc}")]) from None
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError([Problem(display, "tool", "expected a table")])
        return tool.get("compliance")
    try:
        return yamlsafe.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(display, where, f"invalid YAML: {problem}")]) from None


def _bundled(name: str) -> Path:
    """A data folder shipped in the wheel (compliance/_data/NAME), or the checkout's NAME/."""
    package = Path(__file__).resolve().parent
    installed = package / "_data" / name
    if installed.is_dir():
        return installed
    return package.parent / name


def bundled_policy_dir() -> Path:
    """The default policies (our semgrep rules, checkov severities)."""
    return _bundled("policies")


def bundled_controls_dir() -> Path:
    """The control catalogues (controls/iso27001, controls/soc2)."""
    return _bundled("controls")


def bundled_threatmodels_dir() -> Path:
    """The threat library (threatmodels/library)."""
    return _bundled("threatmodels")
