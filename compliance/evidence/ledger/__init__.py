"""The run ledger: one hash-chained entry per scan, in SQLite or PostgreSQL.

An entry records when a run happened, on which repository, commit and branch, the status of
every control, the open findings that failed each control, the waivers in force, the
verdict and the digest of the run's evidence bundle. Each entry carries the hash of the one
before it, and its own hash is a SHA-256 over a canonical JSON of all its fields (the
previous hash included), so `verify` finds an entry that was edited, removed or moved.

Appends are serialised across processes (SQLite: `BEGIN IMMEDIATE` in WAL mode with a busy
timeout; PostgreSQL: a transaction holding an advisory lock), and the tables refuse a fork
outright: `seq` is the primary key and `prev_hash` is unique.

Modules: `records` (what an entry holds, built from a ScanResult), `rows` (an entry as
stored: canonical JSON and its hash), `chain` (verifying the chain), `interface` (the Ledger
protocol and its errors), `tables` (what both stores share), `sqlite` and `postgres` (the
stores), `store` (`open_ledger`: the store at a path or URL).
"""
