"""Summarise hyperfine JSON exports: medians and the ratios the targets are stated in.

python benchmarks/summarize.py benchmarks/results/generated [...]   (".json" optional)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCANNERS = ("bandit", "semgrep", "checkov", "pip-audit")


def summarize(path: Path) -> str:
    data = json.loads(path.read_text())
    median = {r["command"]: r["median"] for r in data["results"]}
    spread = {r["command"]: (r["min"], r["max"]) for r in data["results"]}
    lines = [f"### {path.stem}", "", "| command | median s | min–max s |", "| --- | ---: | ---: |"]
    for name, value in median.items():
        low, high = spread[name]
        lines.append(f"| {name} | {value:.2f} | {low:.2f}–{high:.2f} |")
    slowest_name = max(SCANNERS, key=lambda n: median[n])
    ours = median["compliance scan"]
    lines += [
        "",
        f"- slowest single scanner alone: {slowest_name}, {median[slowest_name]:.2f} s",
        f"- compliance scan / slowest scanner alone: **{ours / median[slowest_name]:.2f}x**",
        f"- compliance scan / sequential run: **{ours / median['sequential']:.2f}x**",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    for arg in sys.argv[1:]:
        path = Path(arg if arg.endswith(".json") else arg + ".json")
        print(summarize(path))


if __name__ == "__main__":
    main()
