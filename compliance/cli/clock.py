"""The one place the command line reads the wall clock (tests replace `utc_now`)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
