"""Issue 8's speed targets: pre-commit, warm re-scan, cold scan, sharding. Not a test.

    python benchmarks/incremental.py REPO [--runs 5] [--advisory-db DIR] [--name NAME]

Needs hyperfine (Debian: apt-get install hyperfine) and `compliance` and the scanners on PATH.
Byte-compiles the package first, as `pip install` does (see _byte_compile).
Times, with hyperfine (medians of --runs, after one warm-up, min-max beside them):

- cold: `compliance scan REPO` with an empty result cache (it is filled as it goes), and
  with `--no-cache`; and bandit, semgrep and checkov alone, for "at most 1.15x the slowest
  single scanner" (semgrep as compliance runs it, `--experimental`; its Python CLI is timed
  too, for reference, and not counted as "alone");
- warm, nothing changed: `compliance scan REPO` again (target: under 1 s, or 5 % of cold);
- pre-commit: one Python file changed (a new comment line before each run, so its cached
  results never match), `compliance scan FILE` with the cache warm (target: under 2.5 s);

and, with getrusage, the CPU (user + system) of `compliance scan --no-cache` against four
shards run one after another plus `compliance merge` (target: at most 1.3x). Writes
benchmarks/results/incremental-NAME.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = HERE.parent / "policies" / "semgrep"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--advisory-db", type=Path, default=HERE.parent / "examples/advisory-db")
    parser.add_argument("--name", default=None)
    parser.add_argument("--changed", default=None, help="the Python file to change (relative)")
    args = parser.parse_args()
    repo = args.repo.resolve()
    name = args.name or repo.name
    if shutil.which("hyperfine") is None or shutil.which("compliance") is None:
        print("needs hyperfine and compliance on PATH", file=sys.stderr)
        return 2
    _byte_compile()
    changed = args.changed or _a_python_file(repo)
    cache = repo / ".compliance" / "cache"
    scan = (
        f"compliance scan {shlex.quote(str(repo))} -q --format json "
        f"--advisory-db {args.advisory_db}"
    )
    bin_dir = Path(shutil.which("compliance") or "").parent
    alone = {
        "bandit alone": f"{bin_dir}/bandit -r {repo} -f json -q -o /dev/null",
        # As compliance runs it: semgrep-core's own CLI (`--experimental`), see semgrep_run.py.
        "semgrep alone": f"{bin_dir}/semgrep scan --experimental --config {RULES} --json "
        f"--metrics=off --disable-version-check -q {repo} -o /dev/null",
        "checkov alone": f"CHECKOV_PARALLELIZATION_TYPE=none {bin_dir}/checkov -d {repo} "
        "--skip-download -o json --quiet --compact > /dev/null",
    }
    touch = (
        f"{sys.executable} -c \"import uuid; open({str(repo / changed)!r}, 'a')"
        ".write('# ' + uuid.uuid4().hex + chr(10))\""
    )
    timings = {
        **_hyperfine({"cold, empty cache": scan}, args.runs, prepare=f"rm -rf {cache}"),
        **_hyperfine({"cold, --no-cache": scan + " --no-cache"}, args.runs),
        **_hyperfine(alone, args.runs),
        # For reference only (not in "slowest"): semgrep's default, Python CLI.
        **_hyperfine(
            {
                "semgrep alone, Python CLI": f"{bin_dir}/semgrep scan --config {RULES} --json "
                f"--metrics=off --disable-version-check -q {repo} -o /dev/null"
            },
            args.runs,
        ),
        **_hyperfine({"warm, nothing changed": scan}, args.runs),
        **_hyperfine(
            {
                "pre-commit, one file changed": f"cd {repo} && compliance scan {changed} -q "
                f"--format json --advisory-db {args.advisory_db}"
            },
            args.runs,
            prepare=touch,
        ),
    }
    cpu = _shard_cpu(repo, args.advisory_db, args.runs)
    slowest = max(timings[k]["median"] for k in alone)
    cold = timings["cold, empty cache"]["median"]
    summary = {
        "machine": _machine(),
        "repo": name,
        "changed_file": changed,
        "runs": args.runs,
        "timings_s": timings,
        "cpu_s": cpu,
        "ratios": {
            "cold / slowest alone": cold / slowest,
            "cold --no-cache / slowest alone": timings["cold, --no-cache"]["median"] / slowest,
            "warm / cold": timings["warm, nothing changed"]["median"] / cold,
            "4 shards + merge CPU / unsharded CPU": cpu["4 shards + merge"]["median"]
            / cpu["unsharded"]["median"],
        },
    }
    out = HERE / "results" / f"incremental-{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    _print(summary)
    return 0


def _byte_compile() -> None:
    """Write our package's .pyc files, as `pip install` does. The benchmark machine sets
    PYTHONDONTWRITEBYTECODE=1, so an editable install would otherwise compile every module
    from source in every process (~0.1 s of CPU each), which no installed copy does."""
    package = HERE.parent / "compliance"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def _a_python_file(repo: Path) -> str:
    for path in sorted(repo.rglob("*.py")):
        if ".compliance" not in path.parts:
            return path.relative_to(repo).as_posix()
    raise SystemExit(f"no Python file in {repo}")


def _hyperfine(
    commands: dict[str, str], runs: int, prepare: str | None = None
) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "out.json"
        argv = ["hyperfine", "--shell=bash", "-i", "-w", "1", "-r", str(runs)]
        argv += ["--export-json", str(export)]
        if prepare:
            argv += ["--prepare", prepare]
        for label, command in commands.items():
            argv += ["-n", label, command]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        data = json.loads(export.read_text())
    return {
        r["command"]: {
            "median": r["median"],
            "min": r["min"],
            "max": r["max"],
            "user": r["user"],
            "system": r["system"],
        }
        for r in data["results"]
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_cpu(argvs: list[list[str]], cwd: Path) -> float:
    before = _children_cpu()
    for argv in argvs:
        subprocess.run(
            argv, check=False, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    return _children_cpu() - before


def _shard_cpu(repo: Path, advisory_db: Path, runs: int) -> dict[str, dict[str, float]]:
    common = ["-q", "--no-cache", "--advisory-db", str(advisory_db)]
    with tempfile.TemporaryDirectory() as tmp:
        partials = [str(Path(tmp) / f"p{i}.json") for i in (1, 2, 3, 4)]
        sharded = [
            ["compliance", "scan", ".", "--shard", f"{i}/4", "--partial", partials[i - 1], *common]
            for i in (1, 2, 3, 4)
        ]
        sharded.append(["compliance", "merge", *partials, "-q", "--format", "json"])
        whole = [["compliance", "scan", ".", "--format", "json", *common]]
        samples: dict[str, list[float]] = {"unsharded": [], "4 shards + merge": []}
        for _ in range(runs):
            samples["unsharded"].append(_timed_cpu(whole, repo))
            samples["4 shards + merge"].append(_timed_cpu(sharded, repo))
    return {
        k: {"median": statistics.median(v), "min": min(v), "max": max(v)}
        for k, v in samples.items()
    }


def _machine() -> str:
    cpus = os.cpu_count()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{cpus} CPUs ({model}), Python {platform.python_version()}, {platform.system()}"


def _print(summary: dict[str, object]) -> None:
    timings = summary["timings_s"]
    assert isinstance(timings, dict)
    print(f"\n{summary['repo']} ({summary['machine']}), medians of {summary['runs']}:\n")
    print("| measurement | median | min-max |")
    print("| --- | ---: | ---: |")
    for label, t in timings.items():
        print(f"| {label} | {t['median']:.2f} s | {t['min']:.2f}-{t['max']:.2f} s |")
    cpu = summary["cpu_s"]
    assert isinstance(cpu, dict)
    for label, t in cpu.items():
        print(f"| CPU, {label} | {t['median']:.2f} s | {t['min']:.2f}-{t['max']:.2f} s |")
    ratios = summary["ratios"]
    assert isinstance(ratios, dict)
    for label, value in ratios.items():
        print(f"| {label} | {value:.2f}x | |")


if __name__ == "__main__":
    raise SystemExit(main())
