"""The review checks: does every service have a current, reviewed threat model?

| check | kind | severity |
| --- | --- | --- |
| a service without a model | missing | high |
| a model for a service that no longer exists (renamed or removed) | missing | low |
| a model never reviewed (no reviewer, date or facts fingerprint) | stale | high |
| facts changed since the review: exposure, stores, messaging, data, auth, RPC | stale | high |
| facts changed since the review: others (frameworks, outbound hosts, secrets) | stale | medium |
| library threats that apply but are not in the model (a newer library) | stale | medium |
| a review older than `threatmodel.max_review_age_days` (or dated in the future) | stale | medium |
| a high-risk threat left open, or accepted with an expired acceptance | open threat | high |
| a high-risk threat accepted without an owner or an expiry | open threat | medium |

Risk is the library's, raised by the service's facts (`high_when`), never the copy in the
file, so editing `risk:` in a model does not silence a check.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from compliance.model import FindingKind, Service, Severity
from compliance.threatmodel.facts import (
    Fact,
    FactKind,
    all_tags,
    fingerprint_facts,
    fingerprinted,
)
from compliance.threatmodel.library import Library, Risk, Threat
from compliance.threatmodel.merge import model_facts
from compliance.threatmodel.modelfile import LoadedModel, ThreatStatus
from compliance.threatmodel.store import ModelSet

#: Facts whose change makes a stale model a high-severity finding.
_STRUCTURAL = frozenset(
    {
        FactKind.EXPOSURE,
        FactKind.DATASTORE,
        FactKind.OBJECT_STORAGE,
        FactKind.MESSAGING,
        FactKind.DATA,
        FactKind.AUTH,
        FactKind.RPC,
    }
)
_SHOWN = 6


class Check(enum.Enum):
    """Each check, with its rule id (as findings carry it) and finding kind."""

    MISSING = ("threat-model-missing", FindingKind.THREAT_MODEL_MISSING)
    ORPHANED = ("threat-model-orphaned", FindingKind.THREAT_MODEL_MISSING)
    NOT_REVIEWED = ("threat-model-not-reviewed", FindingKind.THREAT_MODEL_STALE)
    FACTS_CHANGED = ("threat-model-facts-changed", FindingKind.THREAT_MODEL_STALE)
    NEW_THREATS = ("threat-model-new-threats", FindingKind.THREAT_MODEL_STALE)
    REVIEW_EXPIRED = ("threat-model-review-expired", FindingKind.THREAT_MODEL_STALE)
    OPEN_THREAT = ("threat-open", FindingKind.THREAT_MODEL_OPEN_THREAT)
    ACCEPTANCE_INCOMPLETE = ("threat-acceptance-incomplete", FindingKind.THREAT_MODEL_OPEN_THREAT)

    @property
    def rule_id(self) -> str:
        return self.value[0]

    @property
    def kind(self) -> FindingKind:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: where (the model file, or the service folder), and why."""

    service: str
    check: Check
    severity: Severity
    path: str
    line: int | None
    title: str
    message: str
    threat: Threat | None = None

    @property
    def resource(self) -> str:
        """Stable across edits: what the finding is about, not where it is."""
        suffix = f":{self.threat.id}" if self.threat is not None else ""
        return f"threatmodel:{self.service}{suffix}"

    def sort_key(self) -> tuple[int, str, str, int, str]:
        return (-self.severity.rank, self.service, self.path, self.line or 0, self.resource)


def evaluate_models(
    services: Sequence[Service],
    facts: Mapping[str, Sequence[Fact]],
    models: ModelSet,
    library: Library,
    *,
    today: date | None,
    max_review_age_days: int,
) -> tuple[Failure, ...]:
    """Every failed check of every service (and orphaned model), worst first."""
    failures: list[Failure] = []
    names = {s.name for s in services}
    for service in services:
        loaded = models.models.get(service.name)
        if loaded is None:
            failures.append(
                Failure(
                    service.name,
                    Check.MISSING,
                    Severity.HIGH,
                    service.path or ".",
                    None,
                    f"No threat model for {service.name}",
                    f"service {service.name} has no threat model: run `compliance threatmodel "
                    f"init {service.name}` (writes {models.display_for(service.name)}), review "
                    "it, and record the review",
                )
            )
            continue
        detected = facts.get(service.name, ())
        failures += _review(service.name, loaded, detected, library, today, max_review_age_days)
        failures += _threats(service.name, loaded, detected, library, today)
    for name, loaded in sorted(models.models.items()):
        if name not in names:
            failures.append(
                Failure(
                    name,
                    Check.ORPHANED,
                    Severity.LOW,
                    loaded.display,
                    1,
                    f"Threat model for {name}, which is not a service",
                    f"{loaded.display} models service {name!r}, which this repository no longer "
                    f"has (services: {', '.join(sorted(names)) or 'none'}): if it was renamed, "
                    "rename the file and its `service`; if it was removed, delete the file",
                )
            )
    return tuple(sorted(failures, key=Failure.sort_key))


def _review(
    service: str,
    loaded: LoadedModel,
    detected: Sequence[Fact],
    library: Library,
    today: date | None,
    max_age: int,
) -> list[Failure]:
    model = loaded.model
    review = model.review
    now = model_facts(detected, model)

    def failure(check: Check, severity: Severity, title: str, message: str) -> Failure:
        return Failure(service, check, severity, loaded.display, loaded.review_line, title, message)

    found = []
    if review.reviewer is None or review.reviewed_on is None or review.facts_fingerprint is None:
        missing = [
            name
            for name, value in (
                ("reviewer", review.reviewer),
                ("reviewed_on", review.reviewed_on),
                ("facts_fingerprint", review.facts_fingerprint),
            )
            if value is None
        ]
        found.append(
            failure(
                Check.NOT_REVIEWED,
                Severity.HIGH,
                f"Threat model of {service} never reviewed",
                f"{loaded.display} has no recorded review (no {', '.join(missing)}): review the "
                f"facts and threats, then run `compliance threatmodel review {service} "
                "--reviewer NAME`",
            )
        )
    else:
        if fingerprint_facts(now) != review.facts_fingerprint:
            found.append(_facts_changed(service, loaded, now, failure))
        if today is not None:
            age = (today - review.reviewed_on).days
            if age > max_age:
                found.append(
                    failure(
                        Check.REVIEW_EXPIRED,
                        Severity.MEDIUM,
                        f"Threat model review of {service} is {age} days old",
                        f"{loaded.display} was last reviewed on {review.reviewed_on} by "
                        f"{review.reviewer}, {age} days ago (the limit is {max_age}): review it "
                        "again",
                    )
                )
            elif age < 0:
                found.append(
                    failure(
                        Check.REVIEW_EXPIRED,
                        Severity.MEDIUM,
                        f"Threat model review of {service} is dated in the future",
                        f"{loaded.display} says it was reviewed on {review.reviewed_on}, after "
                        f"today ({today}): record the real review date",
                    )
                )
    listed = {t.id for t in model.threats}
    missing_threats = [t for t in library.applicable(all_tags(now)) if t.id not in listed]
    if missing_threats:
        shown = ", ".join(t.id for t in missing_threats[:_SHOWN])
        more = len(missing_threats) - _SHOWN
        found.append(
            failure(
                Check.NEW_THREATS,
                Severity.MEDIUM,
                f"Threats apply to {service} that its model does not list",
                f"{len(missing_threats)} library threat(s) apply to the facts but are not in "
                f"{loaded.display}: {shown}{f' and {more} more' if more > 0 else ''}: run "
                f"`compliance threatmodel init {service}` and review them",
            )
        )
    return found


_Make = Callable[[Check, Severity, str, str], Failure]


def _facts_changed(
    service: str, loaded: LoadedModel, now: Sequence[Fact], failure: _Make
) -> Failure:
    """Which facts changed since the review: against the file's facts when init has not run
    since, else the facts first seen after the review day."""
    model = loaded.model
    review = model.review
    assert review.reviewed_on is not None
    current = fingerprinted(now)
    written = fingerprinted(model_facts(model.detected_facts(), model))
    changes: list[tuple[str, Fact]] = []
    if set(current) != set(written) or any(
        current[i].tags != written[i].tags for i in current if i in written
    ):
        changes += [("new", current[i]) for i in sorted(current) if i not in written]
        changes += [("gone", written[i]) for i in sorted(written) if i not in current]
        changes += [
            ("changed", current[i])
            for i in sorted(current)
            if i in written and current[i].tags != written[i].tags
        ]
        hint = f"run `compliance threatmodel init {service}`, review, and record the review"
    else:
        first_seen = {f.id: f.first_seen for f in model.facts}
        changes += [
            ("new", fact)
            for fact_id, fact in sorted(current.items())
            if (first_seen.get(fact_id) or review.reviewed_on) > review.reviewed_on
        ]
        hint = f"review the model and run `compliance threatmodel review {service}`"
    structural = any(fact.kind in _STRUCTURAL for _, fact in changes) or not changes
    shown = "; ".join(f"{what} {fact.id} ({_where(fact)})" for what, fact in changes[:_SHOWN])
    more = len(changes) - _SHOWN
    detail = shown + (f"; and {more} more" if more > 0 else "") if changes else "the facts differ"
    return failure(
        Check.FACTS_CHANGED,
        Severity.HIGH if structural else Severity.MEDIUM,
        f"Facts of {service} changed since its threat model was reviewed",
        f"since the review on {review.reviewed_on} by {review.reviewer}: {detail}: {hint}",
    )


def _where(fact: Fact) -> str:
    return str(fact.locations[0]) if fact.locations else fact.summary


def _threats(
    service: str,
    loaded: LoadedModel,
    detected: Sequence[Fact],
    library: Library,
    today: date | None,
) -> list[Failure]:
    tags = all_tags(model_facts(detected, loaded.model))
    found = []
    for item in loaded.model.threats:
        threat = library.get(item.id)
        if threat is None or threat.risk_for(tags) is not Risk.HIGH:
            continue
        line = loaded.threat_lines.get(item.id)

        def failure(
            check: Check,
            severity: Severity,
            message: str,
            threat: Threat = threat,
            line: int | None = line,
        ) -> Failure:
            return Failure(
                service, check, severity, loaded.display, line, threat.title, message, threat
            )

        label = f"high-risk threat {threat.id} ({threat.stride.title})"
        match item.status:
            case ThreatStatus.OPEN:
                found.append(
                    failure(
                        Check.OPEN_THREAT,
                        Severity.HIGH,
                        f"{label} is open: answer its question in the model, then mark it "
                        "mitigated (with a note and evidence), or accepted with an owner and an "
                        "expiry",
                    )
                )
            case ThreatStatus.ACCEPTED if item.owner is None or item.expires is None:
                missing = " and ".join(
                    n for n, v in (("owner", item.owner), ("expires", item.expires)) if v is None
                )
                found.append(
                    failure(
                        Check.ACCEPTANCE_INCOMPLETE,
                        Severity.MEDIUM,
                        f"{label} is accepted without {missing}: a risk acceptance needs "
                        "someone who owns it and a date to decide again",
                    )
                )
            case ThreatStatus.ACCEPTED if (
                today is not None and item.expires is not None and (item.expires < today)
            ):
                found.append(
                    failure(
                        Check.OPEN_THREAT,
                        Severity.HIGH,
                        f"{label} was accepted by {item.owner} until {item.expires}, which has "
                        "passed: decide again (mitigate, or accept with a new expiry)",
                    )
                )
            case _:
                pass
    return found
