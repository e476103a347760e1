"""Record the JSON result of scanning examples/ that the renderer golden tests start from.

    python scripts/record_examples_result.py     # writes tests/assets/results/examples.json

The clock is fixed (2026-11-29 12:00 UTC, the day the demo's waivers were written for), the
commit and git context are left out, and the scanner durations are those of the previous
recording (whole seconds the first time), so re-recording shows only real differences.
Re-record when the scanners, the rules or the result schema change, then run
`pytest tests/unit --update-golden` and review the diffs.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import cli, clock
from compliance.reporting.json import dumps

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "tests" / "assets" / "results" / "examples.json"
DAY = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def main() -> int:
    clock.utc_now = lambda: DAY  # type: ignore[assignment]
    result = CliRunner().invoke(cli, ["scan", str(ROOT / "examples"), "--format", "json", "-q"])
    if result.exit_code not in (0, 1):
        print(result.stderr, file=sys.stderr)
        return result.exit_code
    data = json.loads(result.stdout)
    # The examples are part of this repository: its HEAD, branch and state would churn.
    data["commit"] = None
    data["context"] = {"branch": None, "dirty": None, "ci": None}
    previous = {}
    if TARGET.is_file():
        previous = {s["name"]: s["duration_s"] for s in json.loads(TARGET.read_text())["scanners"]}
    for scanner in data["scanners"]:
        fresh = float(round(scanner["duration_s"]))
        scanner["duration_s"] = previous.get(scanner["name"], fresh)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(dumps(data), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(data['findings'])} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
