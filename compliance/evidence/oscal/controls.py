"""`reviewed-controls` (one control selection per framework, manual controls excluded) and
`findings` (one per reviewed control, with its OSCAL state and related observations)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from compliance.evidence.oscal.errors import OscalExportError
from compliance.evidence.oscal.fields import drop_empty, inline, ns_props, para
from compliance.evidence.oscal.ids import Ids, oscal_control_id
from compliance.model import ControlResult, ControlStatus, Finding

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

FRAMEWORK_TITLES = {
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "soc2": "SOC 2 Trust Services Criteria (2017, revised points of focus 2022)",
}
_STATES = {
    ControlStatus.PASSED: ("satisfied", "pass"),
    ControlStatus.FAILED: ("not-satisfied", "fail"),
    ControlStatus.NOT_ASSESSED: ("not-satisfied", "other"),
}


def reviewed_controls(controls: Sequence[ControlResult]) -> dict[str, Any]:
    frameworks = list(dict.fromkeys(c.framework for c in controls))
    selections, only_manual = [], []
    for framework in frameworks:
        own = [c for c in controls if c.framework == framework]
        included = [c for c in own if c.status is not ControlStatus.MANUAL]
        excluded = [c for c in own if c.status is ControlStatus.MANUAL]
        title = inline(FRAMEWORK_TITLES.get(framework, framework))
        if not included:
            only_manual.append(f"{title}: all {len(own)} control(s) manual")
            continue
        selection: dict[str, Any] = {
            "description": f"{title}: the controls this tool collects evidence for.",
            "props": ns_props([("framework", framework)]),
            "include-controls": [{"control-id": oscal_control_id(c.id)} for c in included],
            "exclude-controls": [{"control-id": oscal_control_id(c.id)} for c in excluded],
        }
        if excluded:
            selection["remarks"] = (
                "Excluded: the catalogue marks these controls manual; no scanner collects their "
                "evidence, people supply it."
            )
        selections.append(drop_empty(selection))
    if not selections:
        raise OscalExportError(
            "the result assesses no control: OSCAL assessment results need at least one",
            hint="scan with a catalogue whose controls have mapping rules",
        )
    reviewed: dict[str, Any] = {
        "description": "Control ids are the frameworks' ids in lower case, as OSCAL catalogues "
        "write them; each finding's control-id prop keeps the framework's spelling.",
        "control-selections": selections,
    }
    if only_manual:
        reviewed["remarks"] = "Not reviewed: " + "; ".join(only_manual) + "."
    return reviewed


def control_finding(
    control: ControlResult,
    ids: Ids,
    all_findings: Sequence[Finding],
    observations: dict[str, list[str]],
    platform_uuid: str,
) -> dict[str, Any]:
    state, reason = _STATES[control.status]
    oscal_id = oscal_control_id(control.id)
    # Its failing findings, and the suppressed ones that bear on it (the reason notes them).
    suppressed = [f.fingerprint for f in all_findings if f.suppression and control.id in f.controls]
    bearing = [*control.findings, *suppressed]
    related = list(dict.fromkeys(u for fp in bearing for u in observations.get(fp, ())))
    title = inline(f"{control.id} {control.title}")
    return drop_empty(
        {
            "uuid": ids(f"finding:{control.framework}:{control.id}"),
            "title": title,
            "description": _control_description(control, len(set(suppressed))),
            "props": ns_props(
                [
                    ("control-id", control.id),
                    ("framework", control.framework),
                    ("control-status", control.status.value),
                    ("automation", control.automation),
                ]
                + [("mapping-rule", rule) for rule in control.rules]
            ),
            "origins": [{"actors": [{"type": "assessment-platform", "actor-uuid": platform_uuid}]}],
            "target": {
                "type": "statement-id",
                "target-id": f"{oscal_id}_smt",
                "title": title,
                "status": {"state": state, "reason": reason},
            },
            "related-observations": [{"observation-uuid": u} for u in related],
            "remarks": _control_remarks(control),
        }
    )


def _control_description(control: ControlResult, suppressed: int) -> str:
    match control.status:
        case ControlStatus.FAILED:
            text = f"Not satisfied: {len(control.findings)} open finding(s) fail this control."
        case ControlStatus.PASSED:
            text = "Satisfied: no open finding fails this control, and its scanners ran cleanly."
        case ControlStatus.NOT_ASSESSED:
            text = "Not assessed: the automated evidence for this control was not collected."
        case ControlStatus.MANUAL:  # not reviewed; kept for completeness of the match
            text = "Manual: people supply this control's evidence."
        case _ as unreachable:
            assert_never(unreachable)
    if suppressed:
        text += (
            f" The related observations include {suppressed} suppressed finding(s) that bear on "
            "it but do not count."
        )
    if control.reason:
        text += "\n\n" + para(control.reason)
    return text


def _control_remarks(control: ControlResult) -> str | None:
    if control.status is ControlStatus.NOT_ASSESSED:
        return (
            "Not a test failure: OSCAL has no state for a control that was not assessed, and "
            "reason `other` with not-satisfied keeps it from reading as satisfied."
        )
    if control.status is ControlStatus.PASSED and control.automation != "automated":
        return (
            f"The catalogue marks this control {inline(control.automation)}: satisfied covers "
            "its automated checks only; the rest of its evidence comes from people."
        )
    return None
