"""`compliance evidence ...`: bundles, signing keys, verification, OSCAL, the ledger.

Each subcommand lives in its own module here and is added to the group below.
"""

from __future__ import annotations

import click

from compliance.cli.evidence.bundle import bundle, keygen, verify
from compliance.cli.evidence.ledger import export, ledger
from compliance.cli.evidence.oscal import oscal


@click.group()
def evidence() -> None:
    """Evidence for auditors: signed bundles, OSCAL assessment results, the run ledger."""


evidence.add_command(bundle)
evidence.add_command(keygen)
evidence.add_command(verify)
evidence.add_command(oscal)
evidence.add_command(ledger)
evidence.add_command(export)
