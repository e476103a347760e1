"""`open_ledger`: the ledger at a location, a SQLite file's path or a postgresql:// URL."""

from __future__ import annotations

import re
from pathlib import Path

from compliance.evidence.ledger.interface import Ledger, LedgerInvalid, display_location
from compliance.evidence.ledger.postgres import PostgresLedger
from compliance.evidence.ledger.sqlite import SqliteLedger

#: Where the CLI keeps the ledger when neither --ledger nor COMPLIANCE_LEDGER says.
DEFAULT_LEDGER = ".compliance/ledger.sqlite"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def open_ledger(location: str, *, create: bool) -> Ledger:
    """The ledger at `location`: a `postgresql://` URL, or a SQLite file's path.

    `create`: a writer may create the file and the tables on its first append; a reader
    (verify, export) gets a UsageError when there is no ledger there. Checked now, so a scan
    with a ledger that is not one, or a server that cannot be reached, fails before it runs.
    """
    match = _SCHEME.match(location)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("postgresql", "postgres"):
        return PostgresLedger(location, create=create)
    if scheme:
        raise LedgerInvalid(
            f"ledger {display_location(location)}: unsupported scheme {scheme}://",
            hint="use a file path (SQLite) or a postgresql:// URL",
        )
    return SqliteLedger(Path(location), create=create)
