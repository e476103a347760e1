"""The report view model: grouping, ordering, truncation decisions, links, visible text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from compliance.errors import UsageError
from compliance.model import (
    BaselineState,
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    GateFailure,
    Location,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Service,
    ServiceName,
    ServiceSource,
    Severity,
    Suppression,
    SuppressionKind,
    ToolInfo,
    Verdict,
    VerdictCounts,
    WaiverState,
    WaiverStatus,
)
from compliance.reporting.view.build import CONTROL_FINDINGS_SHOWN, build_view
from compliance.reporting.view.digest import capped, digester, largest_fitting
from compliance.reporting.view.text import file_href, help_href, link_prefix, one_line, visible

from factories import fp, scan_result

SEVERITIES = list(Severity)
CONTROL_SETS = (("A.8.28", "CC8.1"), ("A.8.8", "CC7.1"), ("A.8.24",), ())
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> a|b `tick` ]]> *bold* _em_ "
    "[link](javascript:alert(3)) @acme/team #12 \x1b[31mred\x07 \u202eevil\r\nnext"
)


def finding(
    n: int,
    *,
    severity: Severity = Severity.HIGH,
    service: str = "api",
    controls: tuple[str, ...] = ("A.8.28", "CC8.1"),
    message: str | None = None,
    path: str | None = None,
    suppression: SuppressionKind | None = None,
    baseline: BaselineState | None = None,
    help_url: str | None = None,
) -> Finding:
    return Finding(
        fingerprint=fp(n),
        service=ServiceName(service),
        tool="bandit",
        rule_id=RuleId(f"B{600 + n % 10}"),
        title=f"title {n}",
        message=message if message is not None else f"message {n}",
        severity=severity,
        kind=FindingKind.CODE,
        location=Location(path or f"services/{service}/m{n % 7}.py", n % 90 + 1, n % 90 + 2),
        snippet=f"call({n})",
        controls=controls,
        help_url=help_url,
        suppression=Suppression(suppression, f"because {n}") if suppression else None,
        baseline=baseline,
    )


def result(
    findings: tuple[Finding, ...] = (),
    *,
    services: int = 3,
    passed: bool = False,
    reasons: tuple[GateFailure, ...] = (GateFailure("policies/gate.yaml", "fail_on", "1 open"),),
    **kwargs: object,
) -> ScanResult:
    names = ["api", "worker", "payments", *(f"svc-{i:03d}" for i in range(max(0, services - 3)))]
    controls = (
        *(
            ControlResult(
                "iso27001" if cid.startswith("A.") else "soc2",
                cid,
                f"Control {cid}",
                "automated",
                ControlStatus.FAILED,
                findings=tuple(f.fingerprint for f in findings if cid in f.controls),
                reason="open findings",
            )
            for cid in ("A.8.8", "A.8.24", "A.8.28", "CC7.1", "CC8.1")
        ),
        ControlResult("iso27001", "A.5.1", "Policies", "manual", ControlStatus.MANUAL),
        ControlResult("soc2", "CC1.1", "Integrity", "manual", ControlStatus.MANUAL),
    )
    fields: dict[str, object] = {
        "tool": ToolInfo("compliance", "9.9"),
        "root": "shop",
        "scanners": (
            ScannerRun("bandit", ScannerStatus.OK, "1.9.4", 1.25, findings=len(findings)),
            ScannerRun("checkov", ScannerStatus.ERROR, None, 0.5, error="timed out after 600 s"),
        ),
        "services": tuple(
            Service(ServiceName(n), f"services/{n}", f"@acme/{n}", ServiceSource.CONFIG)
            for n in names[:services]
        ),
        "findings": findings,
        "verdict": Verdict(
            passed=passed,
            fail_on=Severity.HIGH,
            reasons=() if passed else reasons,
            counts=VerdictCounts(total=len(findings), open=len(findings)),
        ),
        "controls": controls,
        "commit": "0123abc",
    }
    return scan_result(**(fields | kwargs))


def synthetic_result(count: int, *, services: int = 24) -> ScanResult:
    """`count` findings over `services` services, every severity, four control sets."""
    names = ["api", "worker", "payments", *(f"svc-{i:03d}" for i in range(services - 3))]
    findings = tuple(
        finding(
            n,
            severity=SEVERITIES[n % len(SEVERITIES)],
            service=names[n % services],
            controls=CONTROL_SETS[n % len(CONTROL_SETS)],
            message=f"Problem {n}: input reaches <b>call</b> | here",
            suppression=SuppressionKind.WAIVED if n % 20 == 0 else None,
        )
        for n in range(count)
    )
    return result(findings, services=services)


# --- text and links -------------------------------------------------------------------------


def test_visible_shows_control_characters_and_bidi_overrides_as_escapes() -> None:
    assert visible("a\x1b[31mb\x00c\x7f\u202ed\u2066") == "a\\x1b[31mb\\x00c\\x7f\\u202ed\\u2066"
    assert visible("line\r\nnext\ttab\rcr") == "line\nnext\ttab\\x0dcr"
    assert visible("plain ünïcode") == "plain ünïcode"


def test_one_line_collapses_whitespace_and_cuts_with_an_ellipsis() -> None:
    assert one_line("  a\n\n b\t c  ") == "a b c"
    cut = one_line("word " * 100, limit=20)
    assert len(cut) <= 20 and cut.endswith("…")


def test_file_links_percent_encode_the_path() -> None:
    prefix = link_prefix("https://github.com/o/r/blob/abc/")
    assert prefix is not None
    assert file_href(prefix, "src/a b#(x)|<y>.py", 12) == (
        "https://github.com/o/r/blob/abc/src/a%20b%23%28x%29%7C%3Cy%3E.py#L12"
    )
    assert file_href(prefix, "requirements.txt", None).endswith("/requirements.txt")
    assert link_prefix(None) is None
    assert link_prefix("../src/") == "../src/"


@pytest.mark.parametrize("base", ["javascript:alert(1)//", "data:text/html,x", "file:///etc/"])
def test_a_link_base_that_is_not_http_is_a_usage_error(base: str) -> None:
    with pytest.raises(UsageError, match="not an http"):
        link_prefix(base)


def test_help_links_are_http_urls_only() -> None:
    assert help_href("https://cwe.mitre.org/data/definitions/78.html") is not None
    assert help_href('https://x.example/a"b c(d)') == "https://x.example/a%22b%20c%28d%29"
    for bad in ("javascript:alert(1)", "data:text/html,<script>", "//evil.example/x", "", None):
        assert help_href(bad) is None


# --- the view --------------------------------------------------------------------------------


def test_examples_view_counts_and_groups_every_finding_once(examples_result: ScanResult) -> None:
    view = build_view(examples_result)
    assert view.verdict.status == "failed"
    assert [r.rule for r in view.verdict.reasons] == ["fail_on", "overrides[0]", "limits[0]"]
    assert view.counts.new_open == 150 == len(view.new_open)
    assert view.counts.waived == 3 and view.counts.waivers_expired == 1
    in_services = [f.fingerprint for s in view.services for f in s.findings]
    assert sorted(in_services) == sorted(f.fingerprint for f in examples_result.findings)
    assert [s.name for s in view.services] == ["api", "payments", "worker", "(repo)"]
    assert sum(s.open for s in view.services) == examples_result.verdict.counts.open
    assert [fw.key for fw in view.frameworks] == ["iso27001", "soc2"]
    assert sum(fw.total for fw in view.frameworks) == len(examples_result.controls)
    for fw in view.frameworks:
        assert sum(c.count for c in fw.counts) == fw.total == len(fw.rows)
    assert all(f.href is None for f in view.findings)


def test_findings_are_sorted_worst_first_whatever_the_input_order() -> None:
    findings = tuple(finding(n, severity=SEVERITIES[n % 5]) for n in range(20))
    view = build_view(result(tuple(reversed(findings))))
    ranks = [Severity(f.severity).rank for f in view.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert build_view(result(findings)) == view


def test_new_open_leaves_out_suppressed_and_baselined_findings() -> None:
    findings = (
        finding(1, baseline=BaselineState.NEW),
        finding(2, baseline=BaselineState.UNCHANGED),
        finding(3, suppression=SuppressionKind.INLINE),
        finding(4, suppression=SuppressionKind.BASELINED, baseline=BaselineState.UNCHANGED),
        finding(5),
    )
    view = build_view(result(findings))
    assert {f.fingerprint[-1] for f in view.new_open} == {"1", "5"}
    assert view.counts.unchanged_open == 1
    states = {f.fingerprint[-1]: (f.state, f.suppressed) for f in view.findings}
    assert states["3"] == ("inline", True) and states["4"] == ("baselined", True)
    assert states["2"] == ("open", False)


def test_control_rows_link_at_most_a_few_findings_and_count_the_rest() -> None:
    view = build_view(result(tuple(finding(n) for n in range(25))))
    row = next(r for fw in view.frameworks for r in fw.rows if r.id == "A.8.28")
    assert len(row.findings) == CONTROL_FINDINGS_SHOWN
    assert row.more_findings == 25 - CONTROL_FINDINGS_SHOWN
    assert row.findings[0].anchor.startswith("f-") and row.anchor == "c-A.8.28"


def test_links_are_built_only_with_a_link_base() -> None:
    findings = (finding(1, path="src/x.py", help_url="javascript:alert(1)"),)
    view = build_view(result(findings), "https://github.com/o/r/blob/abc/")
    assert view.findings[0].href == "https://github.com/o/r/blob/abc/src/x.py#L2"
    assert view.findings[0].help_href is None


def test_untrusted_text_is_made_visible_everywhere() -> None:
    hostile = replace(finding(1, message=HOSTILE), title="T " + HOSTILE, snippet=HOSTILE)
    view = build_view(result((hostile,)))
    f = view.findings[0]
    for text in (f.message, f.summary, f.title, f.snippet):
        assert text is not None
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "\\x1b" in text
    assert "\n" not in f.summary


def test_waivers_say_what_their_owner_must_do() -> None:
    waivers = tuple(
        WaiverStatus(f"W-{i}", state, "rule B6*", "why", "o@x", "a@x", date(2027, 1, 1), "w.yaml")
        for i, state in enumerate(WaiverState)
    )
    view = build_view(result(waivers=waivers))
    notes = {w.state: (w.needs_action, w.note) for w in view.waivers}
    assert notes["active"][0] is False
    assert notes["expired"] == (True, "expired on 2027-01-01: 0 finding(s) it covered count again")
    assert notes["stale"] == (True, "matches no finding: remove it")


# --- the pull-request digest and truncation ---------------------------------------------------


def test_digest_groups_by_service_then_control_set_in_order_of_the_worst_finding() -> None:
    findings = (
        finding(1, severity=Severity.LOW, service="api", controls=("A.8.8",)),
        finding(2, severity=Severity.CRITICAL, service="worker", controls=("A.8.28",)),
        finding(3, severity=Severity.HIGH, service="api", controls=("A.8.28",)),
        finding(4, severity=Severity.MEDIUM, service="api", controls=("A.8.8",)),
    )
    view = build_view(result(findings))
    d = digester(view.new_open)(4)
    assert [s.service for s in d.services] == ["worker", "api"]
    api = d.services[1]
    assert [g.controls for g in api.groups] == [("A.8.28",), ("A.8.8",)]
    assert [f.fingerprint[-1] for f in api.groups[1].findings] == ["4", "1"]
    assert d.hidden == 0 and d.shown == d.total == 4


def test_digest_drops_the_least_severe_findings_first_and_counts_them() -> None:
    view = build_view(synthetic_result(100, services=5))
    d = digester(view.new_open)(30)
    shown = [f for s in d.services for g in s.groups for f in g.findings]
    assert len(shown) == 30 == d.shown
    worst_hidden = Severity(d.hidden_by_severity[0].severity)
    assert min(Severity(f.severity) for f in shown) >= worst_hidden
    assert sum(h.count for h in d.hidden_by_severity) == d.hidden == len(view.new_open) - 30
    assert sum(s.total for s in d.services) <= len(view.new_open)


def test_largest_fitting_finds_the_boundary() -> None:
    assert largest_fitting(1000, lambda n: n <= 377) == 377
    assert largest_fitting(1000, lambda n: True) == 1000
    assert largest_fitting(1000, lambda n: n == 0) == 0
    assert largest_fitting(0, lambda n: True) == 0


def test_capped_keeps_the_first_and_counts_the_rest() -> None:
    assert capped([1, 2, 3], 2).items == (1, 2) and capped([1, 2, 3], 2).more == 1
    assert capped([1], 5).more == 0
