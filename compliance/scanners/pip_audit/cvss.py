"""CVSS v3.0/v3.1 base scores from vector strings, and our severity scale.

The formula and the `Roundup` function are those of the CVSS v3.1 specification, section 7
(https://www.first.org/cvss/v3.1/specification-document); v3.0 vectors are scored with the
same equations, which give the same base scores.
"""

from __future__ import annotations

import math

from compliance.model import Severity

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")


class CvssError(ValueError):
    """Not a CVSS v3 vector we can score."""


def roundup(value: float) -> float:
    """The smallest number with one decimal that is >= value (CVSS v3.1 Appendix A)."""
    as_int = round(value * 100_000)
    if as_int % 10_000 == 0:
        return as_int / 100_000.0
    return (math.floor(as_int / 10_000) + 1) / 10.0


def parse_vector(vector: str) -> dict[str, str]:
    """`CVSS:3.1/AV:N/...` -> {"AV": "N", ...}; CvssError if a base metric is missing."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        raise CvssError(f"not a CVSS v3 vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep or key in metrics:
            raise CvssError(f"malformed metric {part!r} in {vector!r}")
        metrics[key] = value
    missing = [m for m in _BASE if m not in metrics]
    if missing:
        raise CvssError(f"missing base metrics {', '.join(missing)} in {vector!r}")
    return metrics


def base_score(vector: str) -> float:
    """The CVSS v3 base score (0.0 to 10.0) of a vector; CvssError if it is invalid."""
    m = parse_vector(vector)
    try:
        changed = {"U": False, "C": True}[m["S"]]
        pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
        exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
        iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    except KeyError as exc:
        raise CvssError(f"unknown metric value {exc} in {vector!r}") from None
    impact = (7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15) if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    total = impact + exploitability
    return roundup(min(1.08 * total if changed else total, 10.0))


def severity_of_score(score: float) -> Severity:
    """CVSS qualitative ratings: critical >= 9, high >= 7, medium >= 4, low > 0, else info."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO
