"""What the rendered checklist shows: one precomputed view per service, no logic left for the
templates. Built from the model file (or, without one, the draft `init` would write), the
library, the facts and the failed checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from compliance.model import Service
from compliance.threatmodel.check import Failure
from compliance.threatmodel.diagram import DataFlow, build_flow
from compliance.threatmodel.facts import Fact, FactKind
from compliance.threatmodel.library import Library, Stride
from compliance.threatmodel.merge import merge_model, model_facts
from compliance.threatmodel.modelfile import LoadedModel, ThreatStatus

_DONE = frozenset({ThreatStatus.MITIGATED, ThreatStatus.NOT_APPLICABLE, ThreatStatus.ACCEPTED})


@dataclass(frozen=True, slots=True)
class FactView:
    kind: str
    id: str
    summary: str
    detail: str
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ThreatView:
    id: str
    title: str
    risk: str
    status: str
    done: bool
    failing: bool
    description: str
    question: str
    mitigations: tuple[str, ...]
    owner: str
    expires: str
    note: str
    evidence: tuple[str, ...]
    because: tuple[str, ...]
    detected: bool
    references: tuple[str, ...]
    controls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StrideGroup:
    title: str
    threats: tuple[ThreatView, ...]


@dataclass(frozen=True, slots=True)
class CheckView:
    severity: str
    title: str
    message: str


@dataclass(frozen=True, slots=True)
class ModelView:
    service: str
    path: str
    owner: str
    description: str
    model_file: str
    draft: bool
    review: str
    facts: tuple[FactView, ...]
    routes: tuple[FactView, ...]
    groups: tuple[StrideGroup, ...]
    #: Failed checks on the model as a whole (missing, review, facts).
    checks: tuple[CheckView, ...]
    #: High-risk threats that need a decision (each marked in the checklist).
    undecided: int
    counts: tuple[tuple[str, int], ...]
    flow: DataFlow

    @property
    def passed(self) -> bool:
        return not self.checks and not self.undecided


def build_view(
    service: Service,
    loaded: LoadedModel | None,
    detected: Sequence[Fact],
    library: Library,
    failures: Sequence[Failure],
    display: str,
    today: date,
) -> ModelView:
    model = (
        loaded.model
        if loaded is not None
        else merge_model(service, detected, library, None, today).model
    )
    facts = model_facts(detected, model)
    failing = {f.threat.id for f in failures if f.threat is not None}
    by_stride: dict[Stride, list[ThreatView]] = {s: [] for s in Stride}
    counts = dict.fromkeys(ThreatStatus, 0)
    for item in model.threats:
        threat = library.get(item.id)
        if threat is None:
            continue
        counts[item.status] += 1
        risk = item.risk or threat.risk
        by_stride[threat.stride].append(
            ThreatView(
                id=threat.id,
                title=threat.title,
                risk=risk.value,
                status=item.status.value,
                done=item.status in _DONE,
                failing=threat.id in failing,
                description=threat.description,
                question=threat.question,
                mitigations=threat.mitigations,
                owner=item.owner or "",
                expires=item.expires.isoformat() if item.expires else "",
                note=item.note or "",
                evidence=item.evidence,
                because=item.because,
                detected=item.detected,
                references=(*threat.cwe, *threat.capec),
                controls=threat.controls,
            )
        )
    review = model.review
    if review.reviewer and review.reviewed_on:
        review_text = f"reviewed by {review.reviewer} on {review.reviewed_on.isoformat()}"
    else:
        review_text = "not reviewed yet"
    return ModelView(
        service=service.name,
        path=service.path or ".",
        owner=service.owner or "",
        description=service.description or "",
        model_file=display,
        draft=loaded is None,
        review=review_text,
        facts=tuple(_fact(f) for f in facts if f.kind is not FactKind.ROUTE),
        routes=tuple(_fact(f) for f in facts if f.kind is FactKind.ROUTE),
        groups=tuple(
            StrideGroup(stride.title, tuple(threats))
            for stride, threats in by_stride.items()
            if threats
        ),
        checks=tuple(
            CheckView(f.severity.value, f.title, f.message) for f in failures if f.threat is None
        ),
        undecided=sum(1 for f in failures if f.threat is not None),
        counts=tuple((status.value, count) for status, count in counts.items()),
        flow=build_flow(service.name, facts),
    )


def _fact(fact: Fact) -> FactView:
    return FactView(
        kind=fact.kind.value,
        id=fact.id,
        summary=fact.summary,
        detail=fact.detail or "",
        locations=tuple(str(location) for location in fact.locations),
    )
