"""Issue 9's fuzzing, for longer than CI runs it: tests/fuzz with many more examples. Not a test.

    python benchmarks/fuzz.py [--examples 5000] [--jobs 2] [--repeat] [-k EXPR]

Runs `pytest tests/fuzz` with FUZZ_EXAMPLES examples per property (CI: 60) and, unless
`--repeat`, new random inputs each run (FUZZ_RANDOM=1; CI draws the same ones every time).
Then prints, per parser, how many inputs it was given and how many it accepted (the rest
it refused with one of our own errors); a crash fails pytest, which prints the shrunk input
and a `@reproduce_failure` line to replay it. Exits with pytest's code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="examples per property")
    parser.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers (0: none)")
    parser.add_argument(
        "--repeat", action="store_true", help="draw CI's inputs (derandomized), not new ones"
    )
    parser.add_argument("-k", dest="select", default=None, help="pytest -k expression")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compliance-fuzz-") as counts_dir:
        env = {
            **os.environ,
            "FUZZ_EXAMPLES": str(args.examples),
            "FUZZ_RANDOM": "0" if args.repeat else "1",
            "FUZZ_COUNTS_DIR": counts_dir,
        }
        command = [sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:cacheprovider"]
        if args.jobs > 0:
            command += ["-n", str(args.jobs)]
        if args.select:
            command += ["-k", args.select]
        print(f"$ FUZZ_EXAMPLES={args.examples} {' '.join(command[1:])}", flush=True)
        start = time.monotonic()
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        elapsed = time.monotonic() - start
        tried, accepted = Counter[str](), Counter[str]()
        for path in Path(counts_dir).glob("counts-*.json"):
            for name, count in json.loads(path.read_text(encoding="utf-8")).items():
                tried[name] += count["tried"]
                accepted[name] += count["accepted"]
    print(f"\n{args.examples} examples per property, {elapsed:.0f} s, pytest exit {code}\n")
    print("| parser | inputs tried | accepted | refused with our error |")
    print("| --- | ---: | ---: | ---: |")
    for name in sorted(tried):
        refused = tried[name] - accepted[name]
        print(f"| {name} | {tried[name]:,} | {accepted[name]:,} | {refused:,} |")
    print(f"| **total** | {sum(tried.values()):,} | {sum(accepted.values()):,} | |")
    return code


if __name__ == "__main__":
    sys.exit(main())
