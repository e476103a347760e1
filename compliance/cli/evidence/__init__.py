"""`compliance evidence ...`: bundles, signing keys, verification, OSCAL, the ledger.

Each subcommand lives in its own module here and is added to the group below.
"""

from __future__ import annotations

import click


@click.group()
def evidence() -> None:
    """Evidence for auditors: signed bundles, OSCAL assessment results, the run ledger."""
