from __future__ import annotations

import pytest

from compliance.model import Confidence, Severity


def test_severity_is_ordered_not_alphabetical() -> None:
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert max([Severity.MEDIUM, Severity.CRITICAL, Severity.LOW]) is Severity.CRITICAL
    assert sorted([Severity.HIGH, Severity.INFO, Severity.LOW])[0] is Severity.INFO
    assert Severity.HIGH >= Severity.HIGH


def test_severity_parse_is_case_insensitive_and_names_choices() -> None:
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(ValueError, match="expected one of: info, low, medium, high, critical"):
        Severity.parse("urgent")


def test_severity_does_not_compare_with_strings() -> None:
    with pytest.raises(TypeError):
        assert Severity.HIGH < "low"  # type: ignore[operator]


def test_severity_and_confidence_are_hashable() -> None:
    assert len({Severity.HIGH, Severity.parse("high")}) == 1
    assert Confidence.LOW < Confidence.HIGH
