"""From what adapters report to normalised findings: redaction, attribution, fingerprints.

A fingerprint names a problem, not a position: it hashes the tool, the rule, the file and the
normalised snippet (or the IaC resource address, or the dependency's name), never the line
number, so it survives unrelated edits above it. Two identical snippets in one file are told
apart by their order of occurrence; the same snippet in two files by the path.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from compliance.model import (
    Finding,
    FindingKind,
    Fingerprint,
    RawFinding,
    RuleId,
    ServiceName,
)

FINGERPRINT_VERSION = "v1"

#: CWE ids that mean "a credential sits in the source".
SECRET_CWES = frozenset({"CWE-798", "CWE-259", "CWE-321", "CWE-522", "CWE-256", "CWE-260"})

#: Well-known credential formats, masked wherever they appear in a snippet or message.
#: One alternation, so each text is scanned once (this runs on every finding).
_TOKENS = re.compile(
    "|".join(
        (
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
            r"\bgh[pousr]_[A-Za-z0-9]{20,}\b",
            r"\bgithub_pat_[A-Za-z0-9_]{20,}\b",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",
            r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}\b",
            r"\bglpat-[A-Za-z0-9_-]{20,}\b",
            r"\bAIza[0-9A-Za-z_-]{35}\b",
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        )
    )
)
#: name = "value" / name: 'value' where the name says secret: the value is masked.
_ASSIGNED_SECRET = re.compile(
    r"(?i)((?:pass(?:word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)"
    r"[A-Za-z0-9_]*['\"]?\s*[:=]\s*['\"])([^'\"\n]{3,})(['\"])"
)
_STRING_LITERAL = re.compile(r"(?P<q>['\"])(?P<body>(?:\\.|(?!(?P=q)).){3,}?)(?P=q)")
_WHITESPACE = re.compile(r"\s+")
#: The tools' inline suppression comments (`# nosec`, `# nosemgrep`, `# checkov:skip=`): adding
#: one to the flagged line must not change the finding's identity (semgrep does the same).
_SUPPRESSION_COMMENT = re.compile(
    r"#[ \t]*(?:nosec|nosem(?:grep)?|(?:checkov|bridgecrew):skip=)\b[^\n]*", re.IGNORECASE
)

REDACTED = "***"


def mask(value: str) -> str:
    """Keep at most two leading characters of a secret: enough to recognise, not to use."""
    return (value[:2] if len(value) >= 8 else "") + REDACTED


#: Substrings without which a pattern cannot match: a cheap test before the regex runs
#: (this runs on every snippet and message of every finding).
_TOKEN_HINTS = (
    "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "gh", "github_pat_", "xox", "_live_", "_test_",
    "glpat-", "AIza", "eyJ", "PRIVATE KEY",
)  # fmt: skip
_SECRET_NAME_HINTS = ("pass", "secret", "token", "api", "key", "credential", "auth")
#: The same hints as one search each, for `secret_values` (run on every string of a raw file).
_TOKEN_HINT = re.compile("|".join(re.escape(hint) for hint in _TOKEN_HINTS))
_SECRET_NAME_HINT = re.compile("|".join(_SECRET_NAME_HINTS), re.IGNORECASE)


def redact(text: str, *, secret: bool) -> str:
    """Mask credentials in `text`. With `secret`, every string literal of 3+ chars is masked."""
    if any(hint in text for hint in _TOKEN_HINTS):
        text = _TOKENS.sub(lambda m: mask(m.group(0)), text)
    lower = text.lower()
    if any(hint in lower for hint in _SECRET_NAME_HINTS):
        text = _ASSIGNED_SECRET.sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), text)
    if secret:
        text = _STRING_LITERAL.sub(lambda m: m["q"] + mask(m["body"]) + m["q"], text)
    return text


def secret_values(text: str, *, secret: bool) -> list[str]:
    """The substrings of `text` that `redact(text, secret=secret)` masks, in order: the
    well-known token formats, the values assigned to secret-sounding names and, with
    `secret`, the body of every string literal of 3+ chars. For masking the same secrets
    wherever else they appear (the raw scanner output of an evidence bundle)."""
    found: list[str] = []
    if _TOKEN_HINT.search(text):
        found.extend(m.group(0) for m in _TOKENS.finditer(text))
    if ("'" in text or '"' in text) and _SECRET_NAME_HINT.search(text):
        found.extend(m.group(2) for m in _ASSIGNED_SECRET.finditer(text))
    if secret:
        found.extend(m["body"] for m in _STRING_LITERAL.finditer(text))
    return found


def is_secret(finding: RawFinding | Finding) -> bool:
    """Whether the finding is about a credential in the source (its snippet and message are
    then redacted with every string literal masked)."""
    return finding.kind is FindingKind.SECRET or bool(SECRET_CWES.intersection(finding.cwe))


def valid_text(raw: RawFinding) -> RawFinding:
    """The finding with text that UTF-8 can carry. A tool's JSON can hold lone surrogates
    (`\\ud800` escapes, or bytes decoded with surrogateescape); they would crash the
    fingerprint and every report, so each becomes "?"."""
    package = raw.package
    texts = (raw.tool, raw.rule_id, raw.title, raw.message, raw.snippet or "", raw.resource or "")
    extra = (raw.location.path, raw.help_url or "", raw.category or "", *raw.cwe)
    names = (package.name, package.version or "", *package.fixed_versions) if package else ()
    try:
        "\0".join((*texts, *extra, *names)).encode("utf-8")
        return raw
    except UnicodeEncodeError:
        pass

    def fix(text: str) -> str:
        return text.encode("utf-8", "replace").decode("utf-8")

    def fix_optional(text: str | None) -> str | None:
        return None if text is None else fix(text)

    return replace(
        raw,
        tool=fix(raw.tool),
        rule_id=RuleId(fix(raw.rule_id)),
        title=fix(raw.title),
        message=fix(raw.message),
        snippet=fix_optional(raw.snippet),
        resource=fix_optional(raw.resource),
        location=replace(raw.location, path=fix(raw.location.path)),
        help_url=fix_optional(raw.help_url),
        category=fix_optional(raw.category),
        cwe=tuple(fix(c) for c in raw.cwe),
        package=None
        if package is None
        else replace(
            package,
            name=fix(package.name),
            version=fix_optional(package.version),
            fixed_versions=tuple(fix(v) for v in package.fixed_versions),
            aliases=tuple(fix(a) for a in package.aliases),
        ),
    )


def redact_finding(raw: RawFinding) -> RawFinding:
    """The finding with its snippet, message and title free of credentials."""
    secret = is_secret(raw)
    title = redact(raw.title, secret=secret)
    message = redact(raw.message, secret=secret)
    snippet = redact(raw.snippet, secret=secret) if raw.snippet is not None else None
    resource = redact(raw.resource, secret=False) if raw.resource is not None else None
    if (title, message, snippet, resource) == (raw.title, raw.message, raw.snippet, raw.resource):
        return raw
    return replace(raw, title=title, message=message, snippet=snippet, resource=resource)


def _anchor(raw: RawFinding) -> str:
    """What identifies the problem within its file, independent of line numbers."""
    if raw.package is not None:
        return f"package:{raw.package.name}"
    if raw.resource:
        return f"resource:{raw.resource}"
    if raw.snippet:
        code = _SUPPRESSION_COMMENT.sub("", raw.snippet)
        return "snippet:" + _WHITESPACE.sub(" ", code).strip()
    return "message:" + _WHITESPACE.sub(" ", raw.message).strip()


def compute_fingerprint(raw: RawFinding, occurrence: int) -> Fingerprint:
    """The identity of a (redacted) finding, the `occurrence`-th of its kind in its file."""
    return _fingerprint(raw, _anchor(raw), occurrence)


def _fingerprint(raw: RawFinding, anchor: str, occurrence: int) -> Fingerprint:
    parts = (FINGERPRINT_VERSION, raw.tool, raw.rule_id, raw.location.path, anchor, str(occurrence))
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
    return Fingerprint(digest[:32])


def finalize(
    raws: Iterable[RawFinding], attribute: Callable[[str], ServiceName]
) -> tuple[Finding, ...]:
    """Redact, attribute to a service, fingerprint and sort. Exact duplicates collapse."""
    anchored = [(r, _anchor(r)) for r in {redact_finding(valid_text(r)) for r in raws}]
    anchored.sort(
        key=lambda p: (
            p[0].tool,
            p[0].rule_id,
            p[0].location.path,
            p[0].location.start_line or 0,
            p[1],
        )
    )
    seen: Counter[tuple[str, str, str, str]] = Counter()
    findings = []
    for raw, anchor in anchored:
        key = (raw.tool, raw.rule_id, raw.location.path, anchor)
        occurrence = seen[key]
        seen[key] += 1
        findings.append(
            Finding(
                fingerprint=_fingerprint(raw, anchor, occurrence),
                service=raw.service or attribute(raw.location.path),
                tool=raw.tool,
                rule_id=raw.rule_id,
                title=raw.title,
                message=raw.message,
                severity=raw.severity,
                kind=raw.kind,
                location=raw.location,
                confidence=raw.confidence,
                cwe=raw.cwe,
                snippet=raw.snippet,
                resource=raw.resource,
                package=raw.package,
                help_url=raw.help_url,
                category=raw.category,
                suppression=raw.suppression,
            )
        )
    return tuple(sorted(findings, key=Finding.sort_key))
