"""`observations`: one per finding of the scan, suppressed findings included."""

from __future__ import annotations

from typing import Any

from compliance.evidence.oscal.fields import block, drop_empty, inline, ns_props, para
from compliance.model import Finding
from compliance.reporting.view.text import help_href


def finding_observation(
    f: Finding, observation_uuid: str, tools: dict[str, str], repo_uuid: str, collected: str
) -> dict[str, Any]:
    where = _location(f) or "(no location)"
    description = para(f"{f.tool} rule {f.rule_id} ({f.severity.value}) at {where}.")
    description += "\n\n" + block(f.message)
    if f.snippet:
        description += "\n\nCode:\n\n" + block(f.snippet)
    remarks = None
    if f.suppression is not None:
        remarks = (
            f"Suppressed ({f.suppression.kind.value}): it does not count against the gate.\n\n"
            + block(f.suppression.justification)
        )
    help_url = help_href(f.help_url)
    return drop_empty(
        {
            "uuid": observation_uuid,
            "title": inline(f.title) or inline(f"{f.tool} {f.rule_id}"),
            "description": description,
            "props": ns_props(_finding_props(f)),
            "links": [{"href": help_url, "rel": "reference"}] if help_url else [],
            "methods": ["TEST"],
            "types": ["finding"],
            "origins": [{"actors": [{"type": "tool", "actor-uuid": tools[f.tool]}]}],
            "subjects": [{"subject-uuid": repo_uuid, "type": "component"}],
            "relevant-evidence": [
                {
                    "description": para(where),
                    "props": ns_props(
                        [
                            ("path", f.location.path),
                            ("start-line", _str(f.location.start_line)),
                            ("end-line", _str(f.location.end_line)),
                            ("resource", f.resource),
                        ]
                    ),
                }
            ],
            "collected": collected,
            "remarks": remarks,
        }
    )


def _finding_props(f: Finding) -> list[tuple[str, str | None]]:
    suppression = f.suppression
    return [
        ("fingerprint", f.fingerprint),
        ("tool", f.tool),
        ("rule-id", f.rule_id),
        ("severity", f.severity.value),
        ("confidence", f.confidence.value if f.confidence else None),
        ("kind", f.kind.value),
        ("category", f.category),
        ("service", f.service),
        *(("cwe", cwe) for cwe in f.cwe),
        ("suppression", suppression.kind.value if suppression else None),
        ("suppression-justification", suppression.justification if suppression else None),
        ("baseline", f.baseline.value if f.baseline else None),
        *(("advisory-alias", alias) for alias in (f.package.aliases if f.package else ())),
        *(("fixed-version", v) for v in (f.package.fixed_versions if f.package else ())),
    ]


def _location(f: Finding) -> str:
    loc = f.location
    if loc.start_line is None:
        return loc.path
    if loc.end_line is None or loc.end_line == loc.start_line:
        return f"{loc.path}:{loc.start_line}"
    return f"{loc.path}:{loc.start_line}-{loc.end_line}"


def _str(number: int | None) -> str | None:
    return None if number is None else str(number)
