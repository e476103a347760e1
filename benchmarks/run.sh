#!/usr/bin/env bash
# Time `compliance scan` against the raw scanners, with hyperfine (Debian: apt-get install hyperfine).
#
#   benchmarks/run.sh [examples|generated|large|django ...]   (default: all; RUNS=3 by default)
#
# For each repository it times:
#   - each scanner alone, run the way a hand-written CI script runs it:
#       bandit -r, semgrep on the folder with our rules, checkov -d (with the parallelism fix,
#       CHECKOV_PARALLELIZATION_TYPE=none, so the baseline is not the pathological default);
#       pip-audit has no offline mode of its own, so its "alone" is our adapter alone;
#   - the four one after another (the sequential CI script);
#   - `compliance scan` (all four, in parallel, offline).
# Results: benchmarks/results/<repo>.json (hyperfine) and a summary printed by summarize.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(dirname "$here")"
work="${BENCH_WORK:-/tmp/compliance-bench}"  # outside any git checkout: semgrep skips .gitignored paths
results="$here/results"
runs="${RUNS:-3}"
bin="$(dirname "$(command -v compliance)")"
rules="$repo_root/policies/semgrep"
adb="$repo_root/examples/advisory-db"
mkdir -p "$work" "$results"

# A large real open-source Python project: Django 5.1.4's source distribution (2,788 Python
# files, 6,809 files), with three Dockerfiles and two workflows added for checkov.
prepare_django() {
  local tmp name; tmp="$(mktemp -d)"
  pip download --quiet --no-deps --no-binary :all: django==5.1.4 -d "$tmp"
  tar xzf "$tmp/Django-5.1.4.tar.gz" -C "$tmp"
  mv "$tmp/Django-5.1.4" "$work/django"
  mkdir -p "$work/django/.github/workflows"
  for name in web worker docs; do
    printf 'FROM python:3.12\nCOPY . /app\nRUN pip install /app\nCMD ["django-admin", "runserver"]\n' \
      > "$work/django/Dockerfile.$name"
  done
  printf 'on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install . && python -m pytest\n' \
    > "$work/django/.github/workflows/tests.yml"
  cp "$work/django/.github/workflows/tests.yml" "$work/django/.github/workflows/lint.yml"
  # An empty .semgrepignore: raw semgrep then scans tests/ too, as compliance does (by default
  # semgrep silently skips tests/, which is 1,900 of Django's 2,788 Python files).
  : > "$work/django/.semgrepignore"
  rm -rf "$tmp"
}

prepare() {
  case "$1" in
    examples) rm -rf "$work/examples" && cp -r "$repo_root/examples" "$work/examples" ;;
    generated) [ -d "$work/generated" ] || python "$here/generate_repo.py" "$work/generated" \
        --python 2000 --terraform 200 --services 20 ;;
    large) [ -d "$work/large" ] || python "$here/generate_repo.py" "$work/large" \
        --python 4000 --terraform 0 --services 4 --dockerfiles 3 --workflows 4 ;;
    django) [ -d "$work/django" ] || prepare_django ;;
    *) echo "unknown repository: $1" >&2; exit 2 ;;
  esac
}

bench() {
  local name="$1" target="$work/$1"
  local bandit="$bin/bandit -r $target -f json -q -o /dev/null"
  local semgrep="$bin/semgrep scan --config $rules --json --metrics=off --disable-version-check -q $target -o /dev/null"
  local checkov="CHECKOV_PARALLELIZATION_TYPE=none $bin/checkov -d $target --skip-download -o json --quiet --compact > /dev/null"
  local pipaudit="$bin/compliance scan $target --scanner pip-audit --advisory-db $adb -q --format json > /dev/null"
  local compliance="$bin/compliance scan $target --advisory-db $adb -q --format json > /dev/null"
  hyperfine --runs "$runs" --warmup 1 --ignore-failure --shell bash \
    --export-json "$results/$name.json" \
    -n bandit "$bandit" \
    -n semgrep "$semgrep" \
    -n checkov "$checkov" \
    -n pip-audit "$pipaudit" \
    -n sequential "$bandit; $semgrep; $checkov; $pipaudit" \
    -n "compliance scan" "$compliance" \
    -n "compliance: bandit only" "$bin/compliance scan $target --scanner bandit -q --format json > /dev/null" \
    -n "compliance: semgrep only" "$bin/compliance scan $target --scanner semgrep -q --format json > /dev/null" \
    -n "compliance: checkov only" "$bin/compliance scan $target --scanner checkov -q --format json > /dev/null"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(examples generated large django)
for name in "${targets[@]}"; do
  prepare "$name"
  bench "$name"
done
python "$here/summarize.py" "${targets[@]/#/$results/}"
