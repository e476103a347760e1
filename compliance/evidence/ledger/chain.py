"""The hash chain: `verify_rows` finds every entry that was edited, removed or moved.

The chain cannot show that the newest entries were cut off, or that someone rewrote every
hash from some entry on: compare `Verification.head` with a head recorded elsewhere (the
audit-period export prints it) to catch those.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from compliance.evidence.ledger.rows import row_hash

#: The prev_hash of the first entry.
GENESIS = "0" * 64
#: Problems `verify` lists in full; it still counts the rest.
PROBLEM_LIMIT = 100


class ChainFault(enum.Enum):
    MISSING = "missing"  # a gap in the sequence: an entry was deleted
    REORDERED = "reordered"  # follows the hash of an entry other than its predecessor
    BROKEN_LINK = "broken-link"  # follows a hash no entry has: predecessor changed or removed
    MODIFIED = "modified"  # its content no longer matches its hash
    UNREADABLE = "unreadable"  # a field holds something we never write


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    fault: ChainFault
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    """The chain as `verify` found it: `head` is the last entry's hash (None when empty)."""

    entries: int
    head: str | None
    problems: tuple[ChainProblem, ...] = ()
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def verify_rows(
    rows: Iterable[Mapping[str, Any]], locate: Callable[[str], int | None]
) -> Verification:
    """Walk the chain in sequence order. `locate(hash)` is the seq of the entry with that hash.

    Per entry: a gap before it (deleted entries); else its prev_hash against its
    predecessor's hash (pointing at another entry: reordered; at none: the predecessor was
    changed or removed); then its own hash against its content (edited).
    """
    problems: list[ChainProblem] = []
    count = total = 0
    expected, previous = 1, GENESIS
    head: str | None = None

    def report(seq: int, fault: ChainFault, message: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < PROBLEM_LIMIT:
            problems.append(ChainProblem(seq, fault, message))

    for row in rows:
        count += 1
        seq, stored = row["seq"], row["entry_hash"]
        check_content = True
        if seq != expected:
            missing = (
                f"entry {expected}" if seq == expected + 1 else f"entries {expected}-{seq - 1}"
            )
            verb = "is" if seq == expected + 1 else "are"
            report(seq, ChainFault.MISSING, f"{missing} {verb} missing before entry {seq}")
        elif row["prev_hash"] != previous:
            where = locate(row["prev_hash"]) if isinstance(row["prev_hash"], str) else None
            if where is not None and where != seq:
                check_content = False  # its seq was changed, so its hash cannot match
                report(
                    seq,
                    ChainFault.REORDERED,
                    f"entry {seq} was recorded after entry {where}, not after entry {seq - 1}: "
                    "entries were reordered",
                )
            else:
                report(
                    seq,
                    ChainFault.BROKEN_LINK,
                    f"entry {seq} does not follow entry {seq - 1}: entry {seq - 1} was changed, "
                    "or an entry between them was removed",
                )
        if check_content:
            try:
                computed = row_hash(row)
            except (ValueError, TypeError) as exc:
                report(
                    seq, ChainFault.UNREADABLE, f"entry {seq} holds a value never written: {exc}"
                )
            else:
                if computed != stored:
                    report(
                        seq,
                        ChainFault.MODIFIED,
                        f"entry {seq} was modified after it was recorded (its content does not "
                        "match its hash)",
                    )
        expected, previous = (seq + 1 if isinstance(seq, int) else expected), stored
        head = stored if isinstance(stored, str) else None
    return Verification(count, head, tuple(problems), total)
