"""Masking secrets in the raw scanner output an evidence bundle carries.

The scanners print what they found, secrets included: bandit quotes the password in its
message ("Possible hardcoded password: 'hunter2'") and lists the lines around it in `code`;
semgrep and checkov may show matched code too. The result's findings are redacted
(`compliance.findings.redact`); the raw output is masked here with the same rules, before
it is written into the bundle (so the manifest's digests are those of the masked files):

1. every well-known token (AWS key ids, GitHub/GitLab/Slack/Stripe tokens, JWTs, private
   key blocks) and every value assigned to a secret-sounding name, anywhere;
2. every string literal of a line that a secret finding of the result flagged. The result
   holds that line redacted (the finding's snippet, its message); a line of raw output is
   that line when `redact(line, secret=True)` gives it back (ignoring whitespace and a
   leading line number, as bandit's `code` prints them).

The values found in any raw file are then masked (`findings.mask`: at most two leading
characters kept) wherever they occur in every raw file, as whole words. JSON output stays
JSON: only its strings change, re-escaped; everything else is kept byte for byte.
Nothing here reads the clock; the same result and raw output give the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from compliance.findings import REDACTED, is_secret, mask, redact, secret_values
from compliance.model import ScanResult

#: One JSON string token (the unrolled form: linear, no backtracking).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_WHITESPACE = re.compile(r"\s+")
#: bandit's `code` prefixes each context line with its number.
_LINE_NUMBER = re.compile(r"^\d+ ")
_QUOTES = ("'", '"')


@dataclass(frozen=True, slots=True)
class RawMasking:
    """What masking did to a bundle's raw output (context.json `redaction`)."""

    #: raw files checked (all of them)
    files: int = 0
    #: distinct secret values found in them
    values: int = 0
    #: bundle path -> occurrences masked in it (files with none are left out)
    masked: Mapping[str, int] = field(default_factory=dict)

    @property
    def occurrences(self) -> int:
        return sum(self.masked.values())


def _normalise(line: str) -> str:
    return _WHITESPACE.sub(" ", line).strip()


def flagged_lines(result: ScanResult) -> frozenset[str]:
    """The redacted lines (normalised) of every secret finding's snippet and message that
    had something masked: a raw line that redacts to one of them is a flagged line."""
    lines: set[str] = set()
    for finding in result.findings:
        if not is_secret(finding):
            continue
        for text in (finding.snippet, finding.message, finding.title):
            for line in (text or "").splitlines():
                if REDACTED in line:
                    lines.add(_normalise(line))
    return frozenset(lines)


@dataclass(frozen=True, slots=True)
class _Document:
    """A raw file's text as the strings masking looks at: the strings of a JSON document
    (decoded, with their spans in the text), or the whole text."""

    text: str
    spans: tuple[tuple[int, int], ...] | None  # None: not JSON, the whole text is one string

    def strings(self) -> Iterator[str]:
        if self.spans is None:
            yield self.text
            return
        for start, end in self.spans:
            body = self.text[start + 1 : end - 1]
            yield json.loads(self.text[start:end]) if "\\" in body else body


def _document(text: str) -> _Document:
    if text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            spans = tuple(m.span() for m in _JSON_STRING.finditer(text))
            return _Document(text, spans)
    return _Document(text, None)


class SecretMasker:
    """Collect the secret values of every raw file first (`collect`), then mask them in each
    (`mask`): a secret found in one tool's output is masked in all of them."""

    def __init__(self, result: ScanResult) -> None:
        self._flagged = flagged_lines(result)
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._forms = re.compile(r"(?!)")

    @property
    def values(self) -> int:
        """How many distinct secret values were found."""
        return len(self._values)

    def collect(self, text: str) -> None:
        for string in _document(text).strings():
            self._collect(string)
        self._pattern = None

    def _collect(self, string: str) -> None:
        found = secret_values(string, secret=False)
        if self._flagged and any(q in string for q in _QUOTES):
            for line in string.splitlines():
                if any(q in line for q in _QUOTES) and self._is_flagged(line):
                    found.extend(secret_values(line, secret=True))
        self._values.update(v for v in found if v.strip() and mask(v) != v)

    def _is_flagged(self, line: str) -> bool:
        redacted = _normalise(redact(line, secret=True))
        if REDACTED not in redacted:
            return False
        return redacted in self._flagged or _LINE_NUMBER.sub("", redacted) in self._flagged

    def mask(self, text: str) -> tuple[str, int]:
        """`text` with every collected value masked, and how many occurrences were."""
        if not self._values:
            return text, 0
        if self._pattern is None:
            self._pattern = _values_pattern(self._values)
            self._forms = _forms_pattern(self._values)
        if "\\u" not in text and "\\/" not in text and not self._forms.search(text):
            return text, 0  # no value occurs, as it is or JSON-escaped: nothing to mask
        pattern = self._pattern
        document = _document(text)
        count = 0

        def masked(string: str) -> str:
            nonlocal count
            new, n = pattern.subn(lambda m: mask(m.group(0)), string)
            count += n
            return new

        if document.spans is None:
            return masked(text), count
        parts: list[str] = []
        last = 0
        for (start, end), string in zip(document.spans, document.strings(), strict=True):
            new = masked(string)
            if new == string:
                continue
            token = text[start:end]
            parts += [text[last:start], json.dumps(new, ensure_ascii=token.isascii())]
            last = end
        parts.append(text[last:])
        return "".join(parts), count


def _values_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """One alternation, longest value first; a value that starts (ends) with a word
    character matches only where no word character precedes (follows) it."""
    alternatives = []
    for value in sorted(values, key=lambda v: (-len(v), v)):
        before = r"(?<!\w)" if re.match(r"\w", value[0]) else ""
        after = r"(?!\w)" if re.match(r"\w", value[-1]) else ""
        alternatives.append(before + re.escape(value) + after)
    return re.compile("|".join(alternatives))


def _forms_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """Any of `values` as it is or escaped in a JSON string: a quick test of a whole file."""
    forms = {
        form
        for value in values
        for form in (value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1])
    }
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))))
