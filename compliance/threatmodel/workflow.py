"""The threat-model operations, as the CLI and the scanner use them: open a repository's
library, models and facts; plan what `init` and `review` would write; evaluate the checks.

Nothing here writes a file or reads the clock: plans carry the text to write, and `today`
comes from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from compliance.config import RepoConfig
from compliance.errors import UsageError
from compliance.inventory import Inventory
from compliance.model import Service, ServiceName
from compliance.policy.catalogue import Catalogue
from compliance.threatmodel.check import Failure, evaluate_models
from compliance.threatmodel.detect import Detection, detect_facts
from compliance.threatmodel.facts import Fact, fingerprint_facts, fingerprinted
from compliance.threatmodel.library import Library
from compliance.threatmodel.merge import Merged, merge_model, model_facts
from compliance.threatmodel.modelfile import ModelFile, Review, render_model_file
from compliance.threatmodel.store import ModelSet, load_models, load_threat_library
from compliance.threatmodel.view import ModelView, build_view


def load_threat_models(
    root: Path, config: RepoConfig, catalogue: Catalogue | None = None
) -> tuple[Library, ModelSet]:
    """The library and every model file, validated together (ConfigError: exit 3)."""
    library = load_threat_library(root, config, catalogue)
    return library, load_models(root, config, library)


@dataclass(frozen=True, slots=True)
class Workspace:
    """A repository as the threat-model commands see it."""

    root: Path
    config: RepoConfig
    services: tuple[Service, ...]
    library: Library
    models: ModelSet
    detection: Detection

    def service(self, name: str) -> Service:
        found = next((s for s in self.services if s.name == name), None)
        if found is None:
            known = ", ".join(s.name for s in self.services) or "none"
            raise UsageError(f"unknown service {name!r} (services: {known})")
        return found

    def facts(self, name: str) -> tuple[Fact, ...]:
        return self.detection.facts.get(ServiceName(name), ())


def open_workspace(
    root: Path,
    config: RepoConfig,
    inventory: Inventory,
    services: Sequence[Service],
    *,
    config_file: Path | None = None,
    catalogue: Catalogue | None = None,
    modelled_only: bool = False,
) -> Workspace:
    """The models and the facts of the services. With `modelled_only` (a scan), facts are
    detected only for services that have a model: the checks of a service without one do
    not read its facts, and parsing every file of a large repository costs seconds."""
    library, models = load_threat_models(root, config, catalogue)
    only = set(models.models) if modelled_only else None
    detection = detect_facts(root, inventory, services, config_file, only=only)
    return Workspace(root, config, tuple(services), library, models, detection)


@dataclass(frozen=True, slots=True)
class Planned:
    """A model file to write: where, what, and what changed."""

    service: str
    path: Path
    display: str
    text: str
    created: bool
    merged: Merged | None = None


def plan_init(ws: Workspace, only: str | None, today: date) -> tuple[Planned, ...]:
    """The model files `init` writes: one per service (or only `only`), merged with what
    exists. Files whose text would not change are left out."""
    services = [ws.service(only)] if only is not None else list(ws.services)
    planned = []
    for service in services:
        existing = ws.models.models.get(service.name)
        merged = merge_model(
            service,
            ws.facts(service.name),
            ws.library,
            existing.model if existing is not None else None,
            today,
        )
        text = render_model_file(merged.model)
        path = ws.models.path_for(service.name)
        if existing is not None and path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        planned.append(
            Planned(
                service.name,
                path,
                ws.models.display_for(service.name),
                text,
                created=existing is None,
                merged=merged,
            )
        )
    return tuple(planned)


def plan_review(ws: Workspace, name: str, reviewer: str, on: date) -> Planned:
    """The model with its review recorded: who, when, and the fingerprint of the facts it
    describes. Refused when the file's facts are not the current ones (run init first)."""
    service = ws.service(name)
    loaded = ws.models.models.get(service.name)
    if loaded is None:
        raise UsageError(
            f"no threat model for {service.name}",
            hint=f"create it with `compliance threatmodel init {service.name}` and review it",
        )
    model = loaded.model
    now = model_facts(ws.facts(service.name), model)
    written = model_facts(model.detected_facts(), model)
    current, recorded = fingerprinted(now), fingerprinted(written)
    if set(current) != set(recorded) or any(
        current[i].tags != recorded[i].tags for i in current if i in recorded
    ):
        changed = sorted(set(current) ^ set(recorded)) or ["tags of existing facts"]
        raise UsageError(
            f"{loaded.display} does not describe the current facts ({', '.join(changed[:5])})",
            hint=f"run `compliance threatmodel init {service.name}`, review the changes, then "
            "record the review",
        )
    missing = [t.id for t in ws.library.applicable(_tags(now)) if t.id not in _ids(model)]
    if missing:
        raise UsageError(
            f"{loaded.display} lacks threats that apply: {', '.join(missing[:5])}",
            hint=f"run `compliance threatmodel init {service.name}` first",
        )
    reviewed = model.model_copy(
        update={
            "review": Review(
                reviewer=reviewer, reviewed_on=on, facts_fingerprint=fingerprint_facts(now)
            )
        }
    )
    return Planned(service.name, loaded.path, loaded.display, render_model_file(reviewed), False)


def evaluate(ws: Workspace, today: date | None) -> tuple[Failure, ...]:
    return evaluate_models(
        ws.services,
        {str(name): facts for name, facts in ws.detection.facts.items()},
        ws.models,
        ws.library,
        today=today,
        max_review_age_days=ws.config.threatmodel.max_review_age_days,
    )


def _tags(facts: Sequence[Fact]) -> frozenset[str]:
    return frozenset(tag for fact in facts for tag in fact.tags)


def _ids(model: ModelFile) -> set[str]:
    return {item.id for item in model.threats}


def build_views(ws: Workspace, only: str | None, today: date) -> tuple[ModelView, ...]:
    """What `render` shows: each service's model (or the draft init would write), with the
    checks that fail for it."""
    failures = evaluate(ws, today)
    services = [ws.service(only)] if only is not None else list(ws.services)
    return tuple(
        build_view(
            service,
            ws.models.models.get(service.name),
            ws.facts(service.name),
            ws.library,
            [f for f in failures if f.service == service.name],
            ws.models.display_for(service.name),
            today,
        )
        for service in services
    )
