"""A shard's partial result: what its scanners reported, before anything is decided.

`compliance scan --shard I/N --partial FILE` writes one; `compliance merge` reads all N,
checks they are the N shards of one scan (same commit, same plan, same scanners), joins
their scanner outcomes and runs the rest of the pipeline (attribution, mapping, waivers,
baseline, gate, evidence) once, as a single full scan would. A partial is never a result:
it carries no verdict, so it cannot be mistaken for one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from compliance.errors import ConfigError, Problem, UsageError
from compliance.model import RawFinding, ScannerRun, ScannerStatus, Skip
from compliance.scanners.codec import (
    CodecError,
    decode_finding,
    decode_run,
    decode_skip,
    encode_finding,
    encode_run,
    encode_skip,
)
from compliance.scanners.runner import ScannerOutcome
from compliance.shard import MAX_SHARDS, ShardSpec

FORMAT = "compliance-partial"
VERSION = 1
#: A partial larger than this is not read (a real one of 100k findings is ~60 MB).
MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Partial:
    spec: ShardSpec
    commit: str | None
    #: The scanners the scan selected (every shard must agree), in registry order.
    scanners: tuple[str, ...]
    #: The units this shard did (services and whole-repo scanners), for the coverage check.
    units: tuple[str, ...]
    #: Every unit of the plan, so merge can check that the shards cover all of it.
    plan: tuple[str, ...]
    started_at: datetime
    finished_at: datetime
    outcomes: tuple[ScannerOutcome, ...]


def dumps(partial: Partial) -> str:
    document = {
        "format": FORMAT,
        "version": VERSION,
        "shard": {"index": partial.spec.index, "count": partial.spec.count},
        "commit": partial.commit,
        "scanners": list(partial.scanners),
        "units": list(partial.units),
        "plan": list(partial.plan),
        "started_at": partial.started_at.isoformat(),
        "finished_at": partial.finished_at.isoformat(),
        "outcomes": [
            {
                "run": encode_run(o.run),
                "findings": [encode_finding(f) for f in o.findings],
                "skipped": [encode_skip(s) for s in o.skipped],
            }
            for o in partial.outcomes
        ],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def load_partial(path: Path, display: str) -> Partial:
    """The partial in `path`; ConfigError naming the file and key when it is not one."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError([Problem(display, "", f"larger than {MAX_BYTES} bytes")])
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {display}: {exc.strerror or exc}") from None
    # ValueError: not JSON, not UTF-8, or an integer of more than 4,300 digits.
    except ValueError as exc:
        raise ConfigError([Problem(display, "", f"not JSON: {exc}")]) from None
    except RecursionError:
        raise ConfigError([Problem(display, "", "nested too deeply")]) from None
    try:
        return _decode(data)
    except _KeyError as error:
        raise ConfigError(
            [Problem(display, error.key, error.message)],
            hint="expected a file written by `compliance scan --shard I/N --partial FILE`",
        ) from None


class _KeyError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


def _decode(data: Any) -> Partial:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _KeyError("format", f"not a partial result (expected format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise _KeyError("version", f"unsupported version {data.get('version')!r}")
    shard = data.get("shard")
    if not isinstance(shard, dict):
        raise _KeyError("shard", "expected {index, count}")
    index, count = shard.get("index"), shard.get("count")
    if not (isinstance(index, int) and isinstance(count, int) and 1 <= index <= count):
        raise _KeyError("shard", "expected 1 <= index <= count")
    if count > MAX_SHARDS:  # as --shard: merge lists the missing ones, 1..count
        raise _KeyError("shard", f"more than {MAX_SHARDS} shards")
    commit = data.get("commit")
    if commit is not None and not isinstance(commit, str):
        raise _KeyError("commit", "expected a string or null")
    outcomes = []
    raw_outcomes = data.get("outcomes")
    if not isinstance(raw_outcomes, list):
        raise _KeyError("outcomes", "expected a list")
    for i, item in enumerate(raw_outcomes):
        key = f"outcomes[{i}]"
        try:
            if not isinstance(item, dict):
                raise CodecError("expected an object")
            findings = item.get("findings")
            skipped = item.get("skipped")
            if not isinstance(findings, list) or not isinstance(skipped, list):
                raise CodecError("expected findings and skipped lists")
            outcomes.append(
                ScannerOutcome(
                    decode_run(item.get("run")),
                    tuple(decode_finding(f) for f in findings),
                    tuple(decode_skip(s) for s in skipped),
                )
            )
        except CodecError as exc:
            raise _KeyError(key, str(exc)) from None
    return Partial(
        spec=ShardSpec(index, count),
        commit=commit,
        scanners=_strings(data, "scanners"),
        units=_strings(data, "units"),
        plan=_strings(data, "plan"),
        started_at=_time(data, "started_at"),
        finished_at=_time(data, "finished_at"),
        outcomes=tuple(outcomes),
    )


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _KeyError(key, "expected a list of strings")
    return tuple(value)


def _time(data: dict[str, Any], key: str) -> datetime:
    value = data.get(key)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _KeyError(key, "expected an ISO 8601 time with a UTC offset")
    return parsed


def check_complete(partials: Sequence[Partial], displays: Sequence[str]) -> None:
    """The partials are the N shards of one scan, each once: UsageError naming what is off."""
    first = partials[0]
    count = first.spec.count
    for partial, display in zip(partials, displays, strict=True):
        if partial.spec.count != count:
            raise UsageError(
                f"{display} is shard {partial.spec} but {displays[0]} is of {count} shards"
            )
        if partial.commit != first.commit:
            raise UsageError(
                f"{display} scanned commit {partial.commit or 'unknown'}, "
                f"{displays[0]} commit {first.commit or 'unknown'}: not one scan"
            )
        if partial.scanners != first.scanners or partial.plan != first.plan:
            raise UsageError(
                f"{display} planned different work than {displays[0]} "
                "(other scanners, services or options): not one scan"
            )
    seen: dict[int, str] = {}
    for partial, display in zip(partials, displays, strict=True):
        if partial.spec.index in seen:
            raise UsageError(
                f"shard {partial.spec} given twice: {seen[partial.spec.index]} and {display}"
            )
        seen[partial.spec.index] = display
    missing = [str(i) for i in range(1, count + 1) if i not in seen]
    if missing:
        raise UsageError(f"missing shard(s) {', '.join(missing)} of {count}")
    done = sorted(u for p in partials for u in p.units)
    if done != sorted(first.plan):
        raise UsageError("the shards' units do not add up to the plan: not one scan")


def merge_outcomes(partials: Sequence[Partial]) -> tuple[ScannerOutcome, ...]:
    """One outcome per scanner, as one process over everything would have reported.

    Shards own disjoint files, so findings simply add up; an IaC module's resource can be
    reported by two shards' callers, so each distinct finding counts as often as the most
    any one shard reported it (what a single checkov run dedups to)."""
    ordered = sorted(partials, key=lambda p: p.spec.index)
    merged = []
    for name in ordered[0].scanners:
        mine = [o for p in ordered for o in p.outcomes if o.run.name == name]
        if not mine:
            continue
        counts: Counter[RawFinding] = Counter()
        for outcome in mine:
            for finding, n in Counter(outcome.findings).items():
                counts[finding] = max(counts[finding], n)
        findings = tuple(f for f, n in counts.items() for _ in range(n))
        skipped: tuple[Skip, ...] = tuple(dict.fromkeys(s for o in mine for s in o.skipped))
        merged.append(
            ScannerOutcome(_merge_runs([o.run for o in mine], len(findings)), findings, skipped)
        )
    return tuple(merged)


def _merge_runs(runs: Sequence[ScannerRun], findings: int) -> ScannerRun:
    errors = [r for r in runs if r.status is ScannerStatus.ERROR]
    ok = [r for r in runs if r.status is ScannerStatus.OK]
    if errors:
        status, error = ScannerStatus.ERROR, "; ".join(dict.fromkeys(r.error or "" for r in errors))
    elif ok:
        status, error = ScannerStatus.OK, None
    else:
        status, error = ScannerStatus.SKIPPED, runs[0].error
    return ScannerRun(
        name=runs[0].name,
        status=status,
        version=next((r.version for r in ok if r.version), None)
        or next((r.version for r in runs if r.version), None),
        duration_s=sum(r.duration_s for r in runs),
        error=error,
        commands=tuple(c for r in runs for c in r.commands),
        findings=findings if status is ScannerStatus.OK else 0,
    )
