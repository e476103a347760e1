"""The one place the command line reads the wall clock (tests replace `utc_now`)."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def monotonic() -> float:
    """Seconds for durations (tests freeze it, so durations are 0 and outputs comparable)."""
    return time.monotonic()
