"""Expiry dates of accepted risks (waivers, residency exceptions): a day, not an hour, and
in force through the whole of it."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_only(value: Any) -> Any:
    # YAML reads 2027-03-31 as a date; a quoted "2027-03-31" is fine too. A timestamp
    # ("2027-03-31T10:00") is not: an accepted risk expires at the end of a day, not an hour.
    if isinstance(value, str) and not _DAY.fullmatch(value.strip()):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


#: The `expires` key: a date written YYYY-MM-DD.
Expiry = Annotated[date, BeforeValidator(_date_only)]


def in_force(expires: date, today: date) -> bool:
    """True through the whole of the expiry day."""
    return today <= expires
