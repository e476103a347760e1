"""Running semgrep offline over explicit files, for the adapters that use it (the semgrep
scanner and the residency code checks). Not an adapter: it owns semgrep's command line, its
exit codes and its JSON envelope; each adapter owns what the results mean.

- `--metrics=off --disable-version-check`: offline (without the version check semgrep waits
  ~97 s for the network). No registry config is ever used.
- `--disable-nosem`: every finding comes back, `# nosemgrep` or not; the adapter decides.
- `--experimental`: the scan runs in semgrep-core's own CLI (osemgrep, OCaml), not the
  Python one it otherwise execs back to. Same rules, same engine, the same JSON (compared
  result for result on examples/ and a 2,000-file repository; the suite's semgrep tests run
  through it), without ~2 s of Python start-up and rule validation per process: one
  semgrep run over the demo's Python files took 2.16 s and now 0.19 s, over 2,020 files
  6.7 s and 3.2 s. osemgrep rejects what it does not support (exit 2/7, an `error`-level
  entry): a failure, never a silent pass.
- `--max-target-bytes`: the inventory's own limit (2 MiB; bigger files are skipped there,
  with the reason). osemgrep applies its default (1 MB) even to files named on the command
  line, and drops them without a word: not in `paths.scanned`, no error.
- Any file given but absent from `paths.scanned` (with no error of its own) gets an error
  entry added to the JSON (`type` "not scanned", level "warn", `"added_by": "compliance"`),
  so it becomes a skipped item with the reason, never a file reported clean; a run that
  scanned none of its files is a failure (semgrep 1.80's semgrep-core CLI did that: exit 0,
  no results, no errors). pyproject.toml asks for semgrep >= 1.100, the oldest whose
  semgrep-core CLI we found to agree with the Python CLI.
- Each adapter runs its own semgrep: our pack over every Python file, the residency pack
  over the few that use a cloud SDK. (One process for both ran every pack over every file;
  once semgrep's start-up was 0.2 s that cost more than it saved: a cold scan of 2,000
  Python files with a residency policy took 10.66 s shared, 7.46 s apart.)
- Files are passed explicitly (given a folder, semgrep silently skips tests/, build/ and
  .gitignored paths), split into as few command lines as the kernel allows.
- Exit 0 (ran) or 1 (findings with --error, not used); anything else failed. Per-file
  problems are `errors` of level "warn" with a path; any other error means the run is not
  trusted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.errors import ScannerFailure
from compliance.inventory import MAX_FILE_BYTES
from compliance.scanners.process import (
    Completed,
    ProcessRunner,
    arg_cost,
    argv_budget,
    describe_exit,
)

OFFLINE_FLAGS = ("--metrics=off", "--disable-version-check")
#: semgrep-core's CLI runs the scan itself instead of exec-ing the Python CLI (see above).
ENGINE = ("--experimental",)
#: Every finding comes back, `# nosemgrep` or not: the adapter decides what a comment silences.
KEEP_SUPPRESSED = ("--disable-nosem",)


def scan_command(exe: str, rules: Path, jobs: int) -> list[str]:
    """`semgrep scan` of a rule folder, JSON, offline, before the `--` and the files."""
    return [
        exe,
        "scan",
        *ENGINE,
        "--config",
        str(rules),
        "--json",
        *OFFLINE_FLAGS,
        *KEEP_SUPPRESSED,
        "--quiet",
        "--max-target-bytes",
        str(MAX_FILE_BYTES),
        "--jobs",
        str(max(1, jobs)),
    ]


@dataclass(frozen=True, slots=True)
class Batch:
    """One semgrep run: how many files it was given and its JSON (exit code checked)."""

    names: tuple[str, ...]
    stdout: bytes

    @property
    def files(self) -> int:
        return len(self.names)


def run_batches(
    proc: ProcessRunner,
    command: Sequence[str],
    files: Sequence[str],
    *,
    tool: str,
    timeout_s: float,
    cwd: Path,
    prefix: str = "",
    detail_from_json: bool = False,
) -> Iterator[Batch]:
    """Run `command -- files…` in as few processes as the argv budget allows, one at a time,
    as the caller asks for the next (a failure stops the rest). `prefix` starts every error
    message; with `detail_from_json`, a failed run is explained by semgrep's first JSON
    error before its stderr."""
    for chunk in chunks(files, argv_budget() - sum(arg_cost(a) for a in command)):
        done = proc.run([*command, "--", *chunk], tool=tool, timeout_s=timeout_s, cwd=cwd)
        yield Batch(tuple(chunk), note_unscanned(_checked(done, prefix, detail_from_json), chunk))


def chunks(files: Sequence[str], budget: int) -> list[list[str]]:
    """As few command lines as the kernel allows (each semgrep start costs ~0.2 s, and each
    process parses the files again)."""
    out: list[list[str]] = [[]]
    size = 0
    for name in files:
        if out[-1] and size + arg_cost(name) > budget:
            out.append([])
            size = 0
        out[-1].append(name)
        size += arg_cost(name)
    return out


def _checked(done: Completed, prefix: str, detail_from_json: bool) -> bytes:
    # 0: ran (findings or not); 1: findings with --error (not used). Anything else failed,
    # but semgrep still prints JSON with the reason, which parse_envelope reports.
    if not done.stdout.strip():
        raise ScannerFailure(
            f"{prefix}semgrep printed nothing ({describe_exit(done.returncode)}): "
            f"{done.stderr_tail() or 'no error output'}"
        )
    if done.returncode not in (0, 1):
        summary = _error_summary(done.stdout) if detail_from_json else None
        detail = summary or done.stderr_tail() or "no detail"
        raise ScannerFailure(f"{prefix}semgrep failed ({describe_exit(done.returncode)}): {detail}")
    return done.stdout


def note_unscanned(stdout: bytes, given: Sequence[str]) -> bytes:
    """semgrep's JSON, with a "not scanned" error for each file of `given` it neither lists
    in `paths.scanned` nor reports an error about. Unchanged when it scanned them all (or
    printed no `paths.scanned`, or no JSON object: parse_envelope judges that);
    ScannerFailure when it scanned none of them."""
    try:
        data = json.loads(stdout)
    except (ValueError, RecursionError):
        return stdout
    paths = data.get("paths") if isinstance(data, dict) else None
    scanned = paths.get("scanned") if isinstance(paths, dict) else None
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(scanned, list) or not isinstance(errors, list):
        return stdout
    said = {_clean(p) for p in scanned} | {
        _clean(e.get("path")) for e in errors if isinstance(e, dict)
    }
    missing = [name for name in given if name not in said]
    if not missing:
        return stdout
    if len(missing) == len(given):
        # Not a file it could not read: a semgrep that scans nothing it is given (1.80's
        # semgrep-core CLI did that) must not pass as N skipped files.
        raise ScannerFailure(
            f"semgrep scanned none of the {len(given)} file(s) it was given "
            f"(semgrep {str(data.get('version') or '?')[:40]}; compliance needs semgrep >= 1.100)"
        )
    errors += [
        {
            "type": "not scanned",
            "level": "warn",
            "path": name,
            "message": "semgrep was given this file but did not scan it, and said nothing",
            "added_by": "compliance",
        }
        for name in missing
    ]
    return json.dumps(data).encode("utf-8")


def _clean(path: object) -> str | None:
    return path.removeprefix("./") if isinstance(path, str) else None


def _error_summary(stdout: bytes) -> str | None:
    try:
        data = json.loads(stdout)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too long an integer, too deep
        return None
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("message") or first.get("type") or "")[:400]
    return None


@dataclass(frozen=True, slots=True)
class FileError:
    """A file semgrep could not analyse (an error of level "warn" with a path)."""

    path: str
    kind: str | None  # semgrep's error type (the first, when it gives a list)
    message: str  # as semgrep wrote it, not stripped


@dataclass(frozen=True, slots=True)
class Envelope:
    """`semgrep --json`, validated: the results (each for the adapter to read), per-file
    errors and semgrep's version."""

    results: tuple[Any, ...]
    file_errors: tuple[FileError, ...]
    version: str | None


def parse_envelope(stdout: bytes, *, prefix: str = "") -> Envelope:
    """A shape we do not understand, or an error that is not about one file, is a failure,
    never a pass. `prefix` starts every error message."""
    try:
        data = json.loads(stdout)
    # ValueError: not JSON, not UTF-8, or an integer of more than 4,300 digits.
    except (ValueError, RecursionError) as exc:
        raise ScannerFailure(f"{prefix}semgrep printed output that is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ScannerFailure(f"{prefix}semgrep printed JSON without a 'results' list")
    errors = data.get("errors") or []
    if not isinstance(errors, list):
        raise ScannerFailure(f"{prefix}semgrep printed JSON whose 'errors' is not a list")
    file_errors: list[FileError] = []
    for error in errors:
        if not isinstance(error, dict):
            raise ScannerFailure(f"{prefix}semgrep printed an error entry that is not an object")
        level = str(error.get("level", "error")).lower()
        path = error.get("path")
        message = str(error.get("message") or error.get("type") or "unknown error")
        if level == "error" or not path:
            raise ScannerFailure(f"{prefix}semgrep reported an error: {message.strip()[:400]}")
        kind = error.get("type")
        reason = kind[0] if isinstance(kind, list) and kind else kind
        file_errors.append(FileError(str(path), str(reason) if reason else None, message))
    version = data.get("version")
    return Envelope(tuple(data["results"]), tuple(file_errors), str(version) if version else None)
