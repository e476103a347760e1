"""The `residency` scanner: residency violations and unresolved regions as findings."""
