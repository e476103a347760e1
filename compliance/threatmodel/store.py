"""Where a repository keeps its threat models and library extensions, and loading them all.

Models live in `threatmodel.dir` of the repository config (default `threatmodels/`), one
`<service>.yaml` per service directly in that folder. The library is the bundled one plus
the repository's `<dir>/library/*.yaml`, when that folder exists and is not the bundled one
(as in this tool's own repository).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from compliance.config import RepoConfig, bundled_threatmodels_dir
from compliance.errors import ConfigError, Problem
from compliance.policy.catalogue import Catalogue
from compliance.threatmodel.library import LIBRARY_DIR, Library, load_library
from compliance.threatmodel.modelfile import LoadedModel, load_model

MODEL_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class ModelSet:
    """Every model file of a repository, by the name in its file name."""

    directory: Path
    #: The folder as shown to people (relative to the root, POSIX).
    display_dir: str
    models: dict[str, LoadedModel] = field(default_factory=dict)

    def path_for(self, service: str) -> Path:
        existing = self.models.get(service)
        return existing.path if existing is not None else self.directory / f"{service}.yaml"

    def display_for(self, service: str) -> str:
        existing = self.models.get(service)
        return existing.display if existing is not None else f"{self.display_dir}/{service}.yaml"


def model_dir(root: Path, config: RepoConfig, config_name: str = "compliance.yaml") -> Path:
    """The models' folder; a path outside the repository is a ConfigError."""
    configured = config.threatmodel.dir.replace("\\", "/")
    posix = PurePosixPath(configured)
    if posix.is_absolute() or ".." in posix.parts:
        raise ConfigError(
            [Problem(config_name, "threatmodel.dir", "must be a folder inside the repository")]
        )
    return root / posix


def load_threat_library(
    root: Path, config: RepoConfig, catalogue: Catalogue | None = None
) -> Library:
    """The bundled library, extended (or overridden by id) by the repository's own."""
    bundled = bundled_threatmodels_dir() / LIBRARY_DIR
    folders = [(bundled, "(bundled) threatmodels/library")]
    own = model_dir(root, config) / LIBRARY_DIR
    if own.is_dir() and own.resolve() != bundled.resolve():
        folders.append((own, f"{_display_dir(config)}/{LIBRARY_DIR}"))
    return load_library(folders, catalogue)


def load_models(root: Path, config: RepoConfig, library: Library) -> ModelSet:
    """Every `<dir>/*.yaml`, validated against the library; all problems at once."""
    directory = model_dir(root, config)
    display_dir = _display_dir(config)
    models: dict[str, LoadedModel] = {}
    problems: list[Problem] = []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix not in MODEL_SUFFIXES or not path.is_file() or path.is_symlink():
                continue
            display = f"{display_dir}/{path.name}"
            if path.stem in models:
                problems.append(
                    Problem(
                        display,
                        "",
                        f"a second model for {path.stem!r} ({models[path.stem].display})",
                    )
                )
                continue
            try:
                models[path.stem] = load_model(path, display, library)
            except ConfigError as error:
                problems.extend(error.problems)
    if problems:
        raise ConfigError(
            problems, hint="fix the file, or regenerate it with `compliance threatmodel init`"
        )
    return ModelSet(directory, display_dir, models)


def _display_dir(config: RepoConfig) -> str:
    return PurePosixPath(config.threatmodel.dir.replace("\\", "/")).as_posix().strip("/") or "."
