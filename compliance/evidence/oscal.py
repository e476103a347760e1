"""A scan result as an OSCAL 1.1 assessment-results document (docs/evidence.md).

`render_assessment_results` is a pure function of the ScanResult: the same result gives the
same bytes. The document has one `result` spanning the scan (`start`/`end`):

- `local-definitions`: the repository at its commit as the assessment subject (a component),
  and the scanners as assessment-assets components (type software, OSCAL prop `version`)
  used by one assessment platform, compliance itself;
- `reviewed-controls`: one control selection per framework; the controls this tool collects
  evidence for are included, the catalogue's manual controls are excluded;
- `observations`: one per finding, suppressed findings included (method TEST, type finding);
- `findings`: one per reviewed control, target `statement-id` `<control>_smt`: passed ->
  satisfied (reason pass), failed -> not-satisfied (reason fail), not-assessed ->
  not-satisfied (reason other, with why): OSCAL has no "not assessed" state, and a control
  whose evidence could not be collected must not read as satisfied.
- `import-ap` points at a back-matter resource: there is no separate assessment-plan
  document; the plan is the catalogues, mapping rules and policies the result lists with
  their SHA-256 digests, each a back-matter resource.

OSCAL control ids are the framework's ids in lower case (`A.8.28` -> `a.8.28`, `CC6.1` ->
`cc6.1`), as NIST's catalogues write `ac-2` for AC-2; the framework's own spelling stays in
a `control-id` prop. Our own props carry the namespace NS.

Text from the scanned repository stays text. Markup fields are Markdown in OSCAL JSON: a
one-line text is backslash-escaped, a message or snippet goes in a fenced code block, and
invisible characters (C0/C1 controls, bidi overrides) are shown as escapes. Props are data:
their values keep the text as it is, whitespace collapsed to one line as OSCAL requires.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from compliance.errors import ComplianceError, ExitCode
from compliance.model import (
    ControlResult,
    ControlStatus,
    Finding,
    ScannerRun,
    ScannerStatus,
    ScanResult,
)
from compliance.reporting.json import result_to_dict

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

OSCAL_VERSION = "1.1.3"
#: The namespace of our props. Under the reserved `.invalid` domain, so it can collide with
#: no one's; changing it changes every prop's identity for consumers.
NS = "https://compliance.invalid/ns/oscal"
#: Default namespace of the document's UUIDs (version 5). Never change it: the UUIDs of the
#: documents already issued derive from it.
UUID_NAMESPACE = uuid.UUID("6f0c5a4e-2b7d-4c1e-9a8f-3d2e1b0c9f8a")

FRAMEWORK_TITLES = {
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "soc2": "SOC 2 Trust Services Criteria (2017, revised points of focus 2022)",
}
_STATES = {
    ControlStatus.PASSED: ("satisfied", "pass"),
    ControlStatus.FAILED: ("not-satisfied", "fail"),
    ControlStatus.NOT_ASSESSED: ("not-satisfied", "other"),
}

# CommonMark backslash-escapes any ASCII punctuation; these would start emphasis, code,
# links, images, autolinks, raw HTML, entities or OSCAL parameter insertions (`{{ }}`). An
# underscore inside a word (`CKV_AWS_24`) never delimits emphasis and stays as it is.
_INLINE_SPECIAL = re.compile(r"[\\`*\[\]<>&{}]|(?<![^\W_])_|_(?![^\W_])")
# At the start of a line these open a heading, quote, list, table or fence.
_BLOCK_START = re.compile(r"^(?:[#>+\-=|~]|(\d+)([.)]))")
_BACKTICKS = re.compile(r"`+")
# C0 (but tab and newline), DEL, C1, and the bidi marks and overrides of "Trojan Source".
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


class OscalExportError(ComplianceError):
    """The result cannot be expressed as OSCAL assessment results."""

    exit_code = ExitCode.INVALID_CONFIG


def render_assessment_results(
    result: ScanResult, *, uuid_namespace: uuid.UUID = UUID_NAMESPACE
) -> str:
    """The OSCAL assessment-results JSON of `result` (UTF-8 text, ending in a newline).

    Raises OscalExportError when the result has no timezone on its times or assesses no
    control (OSCAL's reviewed-controls needs at least one).
    """
    document = _document(result, uuid_namespace)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (an undecodable file name): \u-escape it all
        text = json.dumps(document, indent=2) + "\n"
    return text


def oscal_control_id(control_id: str) -> str:
    """The OSCAL id of a framework control id: lower case (`A.8.28` -> `a.8.28`)."""
    oscal_id = control_id.lower()
    if not _is_token(oscal_id):
        raise OscalExportError(
            f"control id {control_id!r} cannot be an OSCAL control id (a token: a letter or _, "
            "then letters, digits, '.', '-' or '_')"
        )
    return oscal_id


# --- the document --------------------------------------------------------------------------


class _Ids:
    """Version-5 UUIDs under one namespace per result, each name used once."""

    def __init__(self, result: ScanResult, namespace: uuid.UUID) -> None:
        canonical = json.dumps(result_to_dict(result), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
        self._scan = uuid.uuid5(namespace, f"compliance-scan:{digest}")
        self._used: set[str] = set()

    def __call__(self, name: str) -> str:
        unique, n = name, 1
        while unique in self._used:  # a hand-built result may repeat a fingerprint
            n += 1
            unique = f"{name}#{n}"
        self._used.add(unique)
        return str(uuid.uuid5(self._scan, unique))


def _document(result: ScanResult, namespace: uuid.UUID) -> dict[str, Any]:
    start, end = _time(result.started_at, "started_at"), _time(result.finished_at, "finished_at")
    ids = _Ids(result, namespace)
    document_uuid, plan_uuid = ids("assessment-results"), ids("assessment-plan")
    repo_uuid, platform_uuid = ids("subject:repository"), ids("platform:compliance")
    tools = {name: ids(f"tool:{name}") for name in _tool_names(result)}
    observations: dict[str, list[str]] = {}
    observation_list = []
    for f in result.findings:
        observation = _observation(f, ids(f"observation:{f.fingerprint}"), tools, repo_uuid, end)
        observations.setdefault(f.fingerprint, []).append(observation["uuid"])
        observation_list.append(observation)
    reviewed = [c for c in result.controls if c.status is not ControlStatus.MANUAL]
    findings = [_finding(c, ids, result.findings, observations, platform_uuid) for c in reviewed]
    results: dict[str, Any] = {
        "uuid": ids("result"),
        "title": _inline(f"Automated scan of {result.root} by {result.tool.name}"),
        "description": _result_description(result, reviewed),
        "start": start,
        "end": end,
        "props": _props(_gate_props(result)),
        "local-definitions": {
            "components": [_repository(result, repo_uuid)],
            "assessment-assets": {
                "components": [_tool(name, tools[name], result.scanners) for name in tools],
                "assessment-platforms": [_platform(result, platform_uuid, tools)],
            },
        },
        "reviewed-controls": _reviewed_controls(result.controls),
        "observations": observation_list,
        "findings": findings,
        "remarks": _skipped_remarks(result),
    }
    commit = f"commit {result.commit[:12]}" if result.commit else "no recorded commit"
    return {
        "assessment-results": {
            "uuid": document_uuid,
            "metadata": {
                "title": _inline(f"Assessment results: {result.root} ({commit})"),
                "last-modified": end,
                "version": end,
                "oscal-version": OSCAL_VERSION,
                "remarks": _inline(f"Generated by {result.tool.name} {result.tool.version}")
                + " from a saved scan result; the document version is the scan's end time.",
            },
            "import-ap": {
                "href": f"#{plan_uuid}",
                "remarks": "No separate OSCAL assessment plan exists for an automated scan: the "
                "back-matter resource this points at describes the plan, the catalogues, "
                "mapping rules and policies the scan used, with their SHA-256 digests.",
            },
            "results": [_drop_empty(results)],
            "back-matter": {"resources": _plan_resources(result, plan_uuid, ids)},
        }
    }


def _time(value: datetime, name: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise OscalExportError(
            f"the result's {name} ({value.isoformat()}) has no timezone: OSCAL needs one",
            hint="scan again: compliance records times in UTC",
        )
    return value.isoformat()


def _tool_names(result: ScanResult) -> list[str]:
    return sorted({s.name for s in result.scanners} | {f.tool for f in result.findings})


def _repository(result: ScanResult, repo_uuid: str) -> dict[str, Any]:
    context = result.context
    dirty = {True: "uncommitted changes", False: "clean", None: "unknown"}[context.dirty]
    where = f"commit {result.commit}" if result.commit else "no recorded commit"
    ci = context.ci
    return {
        "uuid": repo_uuid,
        "type": "software",
        "title": _inline(f"Repository {result.root}"),
        "description": _inline(f"The source tree scanned: {result.root}, {where}")
        + f"; working tree: {dirty}.",
        "props": _props(
            [
                ("commit", result.commit),
                ("branch", context.branch),
                ("worktree", dirty),
                ("ci-provider", ci.provider if ci else None),
                ("ci-run-id", ci.run_id if ci else None),
                ("ci-run-url", ci.run_url if ci else None),
            ]
        ),
        "status": {
            "state": "other",
            "remarks": "Source code as scanned, not a running system.",
        },
    }


def _tool(name: str, tool_uuid: str, scanners: Sequence[ScannerRun]) -> dict[str, Any]:
    run = next((s for s in scanners if s.name == name), None)
    props: list[dict[str, str]] = []
    if run is None:
        description = "Named by findings of this result, but not in its list of scanner runs."
        status: dict[str, str] = {"state": "other", "remarks": "No record of this tool's run."}
    else:
        if run.version:
            props.append({"name": "version", "value": _value(run.version)})
        props += _props([("scanner-status", run.status.value), ("findings", str(run.findings))])
        description = _para(
            f"{name} {run.version or '(version unknown)'}: {run.status.value} in "
            f"{run.duration_s:g} s, {run.findings} finding(s)."
        )
        match run.status:
            case ScannerStatus.OK:
                status = {"state": "operational"}
            case ScannerStatus.ERROR:
                status = {"state": "other", "remarks": _why("Failed in this scan", run.error)}
            case ScannerStatus.SKIPPED:
                status = {"state": "other", "remarks": _why("Skipped in this scan", run.error)}
            case _ as unreachable:
                assert_never(unreachable)
    return _drop_empty(
        {
            "uuid": tool_uuid,
            "type": "software",
            "title": _inline(name) or "(unnamed tool)",
            "description": description,
            "props": props,
            "status": status,
        }
    )


def _why(what: str, error: str | None) -> str:
    return f"{what}:\n\n{_block(error)}" if error else f"{what}."


def _platform(result: ScanResult, platform_uuid: str, tools: dict[str, str]) -> dict[str, Any]:
    return {
        "uuid": platform_uuid,
        "title": _inline(f"{result.tool.name} {result.tool.version}"),
        "uses-components": [{"component-uuid": tools[name]} for name in tools],
        "remarks": "Runs the scanners, maps their findings to controls and applies the gate.",
    }


def _gate_props(result: ScanResult) -> list[tuple[str, str | None]]:
    verdict = result.verdict
    return [
        ("gate", "passed" if verdict.passed else "failed"),
        ("gate-fail-on", verdict.fail_on.value),
        ("gate-mode", verdict.mode.value),
    ]


def _result_description(result: ScanResult, reviewed: Sequence[ControlResult]) -> str:
    counts = result.verdict.counts
    by_status = {s: sum(1 for c in result.controls if c.status is s) for s in ControlStatus}
    return (
        f"{len(result.findings)} finding(s) from {len(result.scanners)} scanner(s): "
        f"{counts.open} open, {counts.suppressed} suppressed inline, {counts.waived} waived, "
        f"{counts.baselined} baselined. The gate {'passed' if result.verdict.passed else 'failed'}."
        f"\n\n{len(reviewed)} control(s) reviewed: {by_status[ControlStatus.FAILED]} failed, "
        f"{by_status[ControlStatus.PASSED]} passed, {by_status[ControlStatus.NOT_ASSESSED]} not "
        f"assessed; {by_status[ControlStatus.MANUAL]} manual control(s) excluded (people supply "
        "their evidence)."
    )


def _skipped_remarks(result: ScanResult) -> str | None:
    if not result.skipped:
        return None
    lines = [
        f"- {_para(s.path)}{f' ({_inline(s.tool)})' if s.tool else ''}: {_inline(s.reason)}"
        for s in result.skipped
    ]
    return "Not scanned:\n\n" + "\n".join(lines)


# --- controls ------------------------------------------------------------------------------


def _reviewed_controls(controls: Sequence[ControlResult]) -> dict[str, Any]:
    frameworks = list(dict.fromkeys(c.framework for c in controls))
    selections, only_manual = [], []
    for framework in frameworks:
        own = [c for c in controls if c.framework == framework]
        included = [c for c in own if c.status is not ControlStatus.MANUAL]
        excluded = [c for c in own if c.status is ControlStatus.MANUAL]
        title = _inline(FRAMEWORK_TITLES.get(framework, framework))
        if not included:
            only_manual.append(f"{title}: all {len(own)} control(s) manual")
            continue
        selection: dict[str, Any] = {
            "description": f"{title}: the controls this tool collects evidence for.",
            "props": _props([("framework", framework)]),
            "include-controls": [{"control-id": oscal_control_id(c.id)} for c in included],
            "exclude-controls": [{"control-id": oscal_control_id(c.id)} for c in excluded],
        }
        if excluded:
            selection["remarks"] = (
                "Excluded: the catalogue marks these controls manual; no scanner collects their "
                "evidence, people supply it."
            )
        selections.append(_drop_empty(selection))
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


def _finding(
    control: ControlResult,
    ids: _Ids,
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
    title = _inline(f"{control.id} {control.title}")
    return _drop_empty(
        {
            "uuid": ids(f"finding:{control.framework}:{control.id}"),
            "title": title,
            "description": _control_description(control, len(set(suppressed))),
            "props": _props(
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
        text += "\n\n" + _para(control.reason)
    return text


def _control_remarks(control: ControlResult) -> str | None:
    if control.status is ControlStatus.NOT_ASSESSED:
        return (
            "Not a test failure: OSCAL has no state for a control that was not assessed, and "
            "reason `other` with not-satisfied keeps it from reading as satisfied."
        )
    if control.status is ControlStatus.PASSED and control.automation != "automated":
        return (
            f"The catalogue marks this control {_inline(control.automation)}: satisfied covers "
            "its automated checks only; the rest of its evidence comes from people."
        )
    return None


# --- observations --------------------------------------------------------------------------


def _observation(
    f: Finding, observation_uuid: str, tools: dict[str, str], repo_uuid: str, collected: str
) -> dict[str, Any]:
    where = _location(f) or "(no location)"
    description = _para(f"{f.tool} rule {f.rule_id} ({f.severity.value}) at {where}.")
    description += "\n\n" + _block(f.message)
    if f.snippet:
        description += "\n\nCode:\n\n" + _block(f.snippet)
    remarks = None
    if f.suppression is not None:
        remarks = (
            f"Suppressed ({f.suppression.kind.value}): it does not count against the gate.\n\n"
            + _block(f.suppression.justification)
        )
    help_url = _http_url(f.help_url)
    return _drop_empty(
        {
            "uuid": observation_uuid,
            "title": _inline(f.title) or _inline(f"{f.tool} {f.rule_id}"),
            "description": description,
            "props": _props(_finding_props(f)),
            "links": [{"href": help_url, "rel": "reference"}] if help_url else [],
            "methods": ["TEST"],
            "types": ["finding"],
            "origins": [{"actors": [{"type": "tool", "actor-uuid": tools[f.tool]}]}],
            "subjects": [{"subject-uuid": repo_uuid, "type": "component"}],
            "relevant-evidence": [
                {
                    "description": _para(where),
                    "props": _props(
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


# --- back-matter ---------------------------------------------------------------------------


def _plan_resources(result: ScanResult, plan_uuid: str, ids: _Ids) -> list[dict[str, Any]]:
    plan = {
        "uuid": plan_uuid,
        "title": "Assessment plan: the catalogues, mapping rules and policies of this scan",
        "description": "This automated scan followed no separate OSCAL assessment plan. Its plan "
        "is the set of files it recorded: control catalogues, mapping rules, the gate, waivers, "
        "baseline, rule packs and advisory database. Each is a resource of this back-matter, "
        "with its SHA-256 digest in a prop."
        + ("" if result.inputs else " This result recorded no such files."),
        "props": [{"name": "type", "value": "plan"}],
    }
    inputs = [
        _drop_empty(
            {
                "uuid": ids(f"input:{i.kind}:{i.path}"),
                "title": _inline(f"{i.kind}: {i.path}"),
                "description": _para(i.detail) if i.detail else None,
                "props": _props([("input-kind", i.kind), ("path", i.path), ("sha256", i.sha256)]),
            }
        )
        for i in result.inputs
    ]
    return [plan, *inputs]


# --- text ----------------------------------------------------------------------------------


def _props(pairs: Iterable[tuple[str, str | None]]) -> list[dict[str, str]]:
    """Our props, in our namespace; values on one line, empty ones left out."""
    props = []
    for name, value in pairs:
        text = _value(value) if value is not None else ""
        if text:
            props.append({"name": name, "ns": NS, "value": text})
    return props


def _value(text: str) -> str:
    """A prop value: OSCAL's `string`, one line with no outer whitespace. Nothing escaped."""
    return " ".join(text.split())


def _str(number: int | None) -> str | None:
    return None if number is None else str(number)


def _visible(text: str) -> str:
    """`text` with control characters and bidi overrides shown as escapes (`\\x1b`)."""
    if text.isprintable():
        return text
    return _INVISIBLE.sub(_escape_char, text.replace("\r\n", "\n"))


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _inline(text: str | None) -> str:
    """One line of Markdown that shows `text` as it is: whitespace collapsed, punctuation that
    would start inline markup backslash-escaped, invisible characters shown."""
    if text is None:
        return ""
    return _INLINE_SPECIAL.sub(r"\\\g<0>", " ".join(_visible(text).split()))


def _para(text: str) -> str:
    """`_inline(text)` made safe at the start of a Markdown line, where it would otherwise
    open a heading, quote, list item, table row or fence."""
    return _BLOCK_START.sub(_escape_block, _inline(text), count=1)


def _escape_block(match: re.Match[str]) -> str:
    number, delimiter = match.group(1), match.group(2)
    return f"{number}\\{delimiter}" if number else f"\\{match.group(0)}"


def _block(text: str | None) -> str:
    """A fenced code block showing `text` verbatim (invisible characters shown): no Markdown
    inside it is interpreted, and no line of it can close the fence."""
    body = _visible(text or "").rstrip("\n")
    fence = "`" * max(3, max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    return f"{fence}text\n{body}\n{fence}"


def _http_url(url: str | None) -> str | None:
    """An absolute http(s) URL, percent-encoded where needed; anything else is left out."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def _is_token(text: str) -> bool:
    return (
        bool(text)
        and (text[0].isalpha() or text[0] == "_")
        and all(c.isalnum() or c in "._-" for c in text)
    )


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """OSCAL arrays hold at least one item and optional fields are absent, never null."""
    return {k: v for k, v in data.items() if v is not None and v not in ([], "")}
