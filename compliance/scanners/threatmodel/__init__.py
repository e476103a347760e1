"""The `threatmodel` scanner: missing, stale or unreviewed threat models as findings."""
