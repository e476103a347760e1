"""Fault injection: each scanner misbehaves in every way we know of, through the real CLI.

A fake tool (tests/assets/fakes/fake_scanner.py) stands in for one scanner at a time; the
scanner beside it is real. For each fault: the command finishes, that scanner's run is an
`error` naming the fault, the controls only it covers are not assessed, the exit code is 4,
the other scanner's results are intact and nothing the fake started is left running. A hang
is stopped within its timeout plus 2 s.

How a fake gets in: bandit, semgrep and checkov are looked up by `find_executable`, which
takes the scan's `executables` first (ScanOptions, patched where the command builds it);
pip-audit's worker is `sys.executable -m ...worker`, rewritten at the one call site,
`ProcessRunner.run`. The interrupt tests run `python -m compliance scan` for real, from a
throw-away virtual environment whose bin folder holds the fake (where compliance looks first).

`test_summary` (last) waits for every selected case and says "N injected, N handled"
(shown with `pytest -rP`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.config import bundled_controls_dir
from compliance.policy.mapping_rules import load_control_policy
from compliance.prepare import ScanOptions
from compliance.scanners.pip_audit.scanner import WORKER_MODULE
from compliance.scanners.process import DEFAULT_MAX_OUTPUT_BYTES, ProcessRunner

pytestmark = pytest.mark.integration

TESTS = Path(__file__).resolve().parents[1]
FAKE = TESTS / "assets" / "fakes" / "fake_scanner.py"
ADVISORY_DB = TESTS / "assets" / "advisory-db-mini"
#: The output cap the CLI runs get (the fake's flood-then-exit writes four times as much).
TEST_CAP = 4 * 1024 * 1024
#: Long enough for the real scanner beside the hanging one on a loaded 2-core machine.
HANG_TIMEOUT_S = 3
#: Any other run: a fault that turned into a hang fails the test instead of stalling it.
TIMEOUT_S = 60
#: The real scanner run beside the faulty one: cheap, with findings in the repository.
PARTNER = {"bandit": "pip-audit", "semgrep": "bandit", "checkov": "bandit", "pip-audit": "bandit"}

APP = """\
import pickle
import subprocess

import httpx


def run(cmd):
    subprocess.call(cmd, shell=True)


def load(data):
    return pickle.loads(data)


def fetch(url):
    return httpx.get(url, verify=False)
"""


@dataclass(frozen=True, slots=True)
class Case:
    tool: str
    fault: str
    #: A regular expression the scanner's error must match (or, for a file error, the skip).
    expect: str

    @property
    def id(self) -> str:
        return f"{self.tool}-{self.fault}"


def _cases() -> list[Case]:
    common = {
        "hang": r"{t}: timed out after 3 s and was stopped",
        "killed-sigkill": r"killed by signal SIGKILL",
        "killed-sigsegv": r"killed by signal SIGSEGV",
        "flood": r"{t}: printed more than 4 MiB of output and was stopped",
        "flood-then-exit": r"{t}: printed more than 4 MiB of output and was stopped",
    }
    specific = {
        "bandit": {
            "missing": r"bandit is not installed",
            "exit-nonzero-silent": r"bandit crashed \(exit code 3\): no output",
            "exit-zero-empty": r"bandit exited 0 but printed nothing",
            "truncated-json": r"bandit printed output that is not JSON",
            "unexpected-shape": r"bandit result lacks a usable field",
            "internal-error": r"bandit reported error about a file it was not given: .None.",
            "file-error": r"bandit could not parse it: syntax error",
        },
        "semgrep": {
            "missing": r"semgrep is not installed",
            "exit-nonzero-silent": r"semgrep printed nothing \(exit code 3\)",
            "exit-zero-empty": r"semgrep printed nothing \(exit code 0\)",
            "truncated-json": r"semgrep printed output that is not JSON",
            "unexpected-shape": r"semgrep printed JSON whose 'errors' is not a list",
            "internal-error": r"semgrep reported an error: Invalid rule schema",
            "file-error": r"semgrep could not analyse it: Syntax error",
        },
        "checkov": {
            "missing": r"checkov is not installed",
            "exit-nonzero-silent": r"checkov crashed \(exit code 3\): no output",
            "exit-zero-empty": r"checkov printed nothing",
            "truncated-json": r"checkov printed output that is not JSON",
            "unexpected-shape": r"checkov printed JSON we do not understand",
            "internal-error": r"checkov printed a summary with failures but no details",
            "file-error": r"checkov could not parse this file",
        },
        "pip-audit": {
            "missing": r"pip-audit: executable not found",
            "exit-nonzero-silent": r"the audit worker failed \(exit code 3\): no error output",
            "exit-zero-empty": r"the audit worker printed output we cannot parse",
            "truncated-json": r"the audit worker printed output we cannot parse",
            "unexpected-shape": r"the audit worker printed output we cannot parse",
            "internal-error": r"1 dependency could not be audited: compliance-demo-pkg==1\.0: "
            r"skipped by pip-audit",
        },
    }
    cases = []
    for tool, faults in specific.items():
        merged = {**faults, **{f: e.format(t=tool) for f, e in common.items()}}
        cases += [Case(tool, fault, expect) for fault, expect in merged.items()]
    return cases


CASES = _cases()
#: What a file error is: that file skipped (and listed), the run trusted; not a scanner error.
FILE_ERROR = "file-error"
#: The path each tool's file error names.
FILE_ERROR_PATH = {"bandit": "app.py", "semgrep": "app.py", "checkov": "Dockerfile"}


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Input for every scanner: Python code, a vulnerable pin, a Dockerfile."""
    root = tmp_path_factory.mktemp("fault-repo")
    (root / "app.py").write_text(APP, encoding="utf-8")
    (root / "requirements.txt").write_text("compliance-demo-pkg==1.0\n", encoding="utf-8")
    (root / "Dockerfile").write_text("FROM python:3.11\nRUN pip install flask\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def partner_findings(repo: Path) -> dict[str, set[str]]:
    """Scanner -> the fingerprints of its findings when all is well (the partners only)."""
    code, out, err, _ = _scan(repo, ["bandit", "pip-audit"], TIMEOUT_S)
    assert code == 1, err
    data = json.loads(out)
    return {
        name: {f["fingerprint"] for f in data["findings"] if f["tool"] == name}
        for name in ("bandit", "pip-audit")
    }


@pytest.fixture(scope="module")
def control_scanners() -> dict[str, set[str]]:
    """Control id -> the scanners its mapping rules rely on."""
    policy = load_control_policy(bundled_controls_dir())
    relies: dict[str, set[str]] = {}
    for rule in policy.rules.rules:
        for control in rule.controls:
            relies.setdefault(control, set()).update(rule.scanners)
    return relies


@pytest.fixture
def marker() -> Iterator[str]:
    """A word in the command line of everything the fake starts (tests check with
    `_check_nothing_left` that nothing with it runs; this kills what a failed test left)."""
    word = f"fault-injection-{uuid.uuid4().hex}"
    yield word
    for pid in _processes(word):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the xdist workers of one session (their temp folders' parent)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "fault-injection-results"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def outcome(request: pytest.FixtureRequest, results_dir: Path) -> Iterator[list[bool]]:
    """Append True when the fault was handled; the record is written whatever happens."""
    handled: list[bool] = []
    yield handled
    record = {"test": request.node.nodeid, "handled": bool(handled)}
    (results_dir / f"{uuid.uuid4().hex}.json").write_text(json.dumps(record), encoding="utf-8")


# --- helpers --------------------------------------------------------------------------------


def _processes(word: str) -> list[int]:
    """Live processes with `word` as an argument (zombies have no command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if word.encode() in args:
            found.append(int(entry.name))
    return found


def _check_nothing_left(word: str, within_s: float = 2.0) -> None:
    """Nothing the fake started runs `within_s` after the command (a killed process takes a
    moment to go)."""
    deadline = time.monotonic() + within_s
    while (left := _processes(word)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processes left running: {left}"


def _fake_executable(folder: Path, marker: str, tool: str, fault: str) -> Path:
    """A `tool` that is the fake with this fault (exec: the fake keeps the marker)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / tool
    argv = [sys.executable, str(FAKE), marker, tool, fault]
    path.write_text(f'#!/bin/sh\nexec {shlex.join(argv)} "$@"\n', encoding="utf-8")
    path.chmod(0o755)
    return path


def _inject(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, marker: str, case: Case) -> None:
    monkeypatch.setitem(ProcessRunner.__init__.__kwdefaults__, "max_output_bytes", TEST_CAP)
    if case.tool == "pip-audit":
        _inject_worker(monkeypatch, tmp_path, marker, case.fault)
        return
    if case.fault == "missing":
        executable = tmp_path / "bin" / "no-such-tool"
    else:
        executable = _fake_executable(tmp_path / "bin", marker, case.tool, case.fault)
    options = functools.partial(ScanOptions, executables={case.tool: str(executable)})
    monkeypatch.setattr("compliance.cli.scan.ScanOptions", options)


def _inject_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, marker: str, fault: str
) -> None:
    """The audit worker's command becomes the fake's (or a missing interpreter)."""
    real_run = ProcessRunner.run

    def run(self: ProcessRunner, argv: Sequence[str], **kwargs: Any) -> Any:
        if list(argv[1:3]) == ["-m", WORKER_MODULE]:
            head = (
                [str(tmp_path / "bin" / "no-such-python")]
                if fault == "missing"
                else [sys.executable, str(FAKE), marker, "pip-audit", fault]
            )
            argv = [*head, *argv[3:]]
        return real_run(self, argv, **kwargs)

    monkeypatch.setattr(ProcessRunner, "run", run)


def _scan(repo: Path, tools: Sequence[str], timeout_s: float) -> tuple[int, str, str, float]:
    args = ["scan", str(repo), "--format", "json", "--no-cache", "--jobs", "1"]
    args += ["--advisory-db", str(ADVISORY_DB), "--timeout", f"{timeout_s:g}"]
    for tool in tools:
        args += ["--scanner", tool]
    started = time.monotonic()
    result = CliRunner().invoke(cli, args)
    elapsed = time.monotonic() - started
    return result.exit_code, result.stdout, result.stderr, elapsed


def _run(data: dict[str, Any], name: str) -> dict[str, Any]:
    (run,) = [s for s in data["scanners"] if s["name"] == name]
    return run


def _check_partner_intact(data: dict[str, Any], partner: str, expected: set[str]) -> None:
    """The partner ran as it does when all is well: same findings, none of its controls
    blamed on it."""
    run = _run(data, partner)
    assert run["status"] == "ok", run
    assert expected, f"{partner} finds nothing in the repository: the check proves nothing"
    assert {f["fingerprint"] for f in data["findings"] if f["tool"] == partner} == expected
    for control in data["controls"]:
        assert f"{partner} failed" not in (control["reason"] or ""), control


def _check_controls(
    data: dict[str, Any], tool: str, partner: str, relies: dict[str, set[str]]
) -> None:
    """Nothing `tool` would have assessed passes: its own controls are not assessed (saying
    it failed); a shared one is failed only by the partner's findings."""
    tools = {f["fingerprint"]: f["tool"] for f in data["findings"]}
    only_faulty = 0
    for control in data["controls"]:
        scanners = relies.get(control["id"], set())
        if tool not in scanners:
            continue
        assert control["status"] in ("not-assessed", "failed"), control
        if control["status"] == "not-assessed":
            assert f"{tool} failed" in control["reason"], control
        else:
            assert {tools[f] for f in control["findings"]} == {partner}, control
        if partner not in scanners:
            only_faulty += 1
            assert control["status"] == "not-assessed", control
    assert only_faulty > 0, f"no control relies on {tool} alone: the check proves nothing"


# --- the faults -----------------------------------------------------------------------------


def test_repository_gives_every_scanner_input(repo: Path) -> None:
    """Without faults, every real scanner runs and finds something: a fault is then the only
    reason a scanner's run can go wrong."""
    code, out, err, _ = _scan(repo, list(PARTNER), TIMEOUT_S)
    assert code == 1, err
    runs = {s["name"]: (s["status"], s["findings"] > 0) for s in json.loads(out)["scanners"]}
    assert runs == dict.fromkeys(PARTNER, ("ok", True))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_is_handled(
    case: Case,
    repo: Path,
    tmp_path: Path,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
    control_scanners: dict[str, set[str]],
    partner_findings: dict[str, set[str]],
    outcome: list[bool],
) -> None:
    _inject(monkeypatch, tmp_path, marker, case)
    partner = PARTNER[case.tool]
    timeout = HANG_TIMEOUT_S if case.fault == "hang" else TIMEOUT_S
    code, out, err, elapsed = _scan(repo, [case.tool, partner], timeout)
    if case.fault == "hang":
        assert elapsed < HANG_TIMEOUT_S + 2, f"a hang took {elapsed:.1f} s to stop"
    _check_nothing_left(marker)
    data = json.loads(out)
    run = _run(data, case.tool)
    _check_partner_intact(data, partner, partner_findings[partner])
    if case.fault == FILE_ERROR:
        # One file the tool could not read: listed as skipped (never as clean), the run
        # stands, the gate decides (the partner's findings fail it).
        assert run["status"] == "ok", run
        (skip,) = [s for s in data["skipped"] if s["tool"] == case.tool]
        assert skip["path"] == FILE_ERROR_PATH[case.tool]
        assert re.search(case.expect, skip["reason"]), skip
        assert code == 1, err
        outcome.append(True)
        return
    assert run["status"] == "error", run
    assert re.search(case.expect, run["error"]), run["error"]
    assert code == 4, err
    assert f"error: scanner {case.tool} failed" in err
    _check_controls(data, case.tool, partner, control_scanners)
    outcome.append(True)


def test_flood_at_the_real_cap_is_stopped_without_buffering(
    repo: Path,
    tmp_path: Path,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
    outcome: list[bool],
) -> None:
    """The cap the CLI really uses: 512 MiB of output is spooled to disk, never to memory."""
    assert ProcessRunner().max_output_bytes == DEFAULT_MAX_OUTPUT_BYTES <= 1024**3
    fake = _fake_executable(tmp_path / "bin", marker, "bandit", "flood")
    options = functools.partial(ScanOptions, executables={"bandit": str(fake)})
    monkeypatch.setattr("compliance.cli.scan.ScanOptions", options)
    tracemalloc.start()
    try:
        code, out, err, _ = _scan(repo, ["bandit"], TIMEOUT_S)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _check_nothing_left(marker)
    run = _run(json.loads(out), "bandit")
    assert (code, run["status"]) == (4, "error"), err
    limit = DEFAULT_MAX_OUTPUT_BYTES // (1024 * 1024)
    assert f"printed more than {limit} MiB of output and was stopped" in run["error"]
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held in memory"
    outcome.append(True)


# --- interrupts -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment that sees this one's packages; its bin folder is where the
    scan looks for scanners first (beside the interpreter), so a fake put there is used by
    `python -m compliance scan` without any patching."""
    venv = tmp_path_factory.mktemp("fake-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    lines = [f"import site; site.addsitedir({p!r})" for p in ours]
    (Path(purelib) / "outer-environment.pth").write_text("\n".join(lines) + "\n")
    return venv


@pytest.mark.parametrize(
    ("sig", "old_report"),
    [
        (signal.SIGINT, True),
        (signal.SIGINT, False),
        (signal.SIGTERM, True),
        (signal.SIGTERM, False),
    ],
    ids=["sigint-old-report", "sigint-no-report", "sigterm-old-report", "sigterm-no-report"],
)
def test_interrupt_stops_scanners_and_keeps_the_report_whole(
    sig: signal.Signals,
    old_report: bool,
    repo: Path,
    tmp_path: Path,
    marker: str,
    fake_venv: Path,
) -> None:
    _fake_executable(fake_venv / "bin", marker, "bandit", "slow")
    reports = tmp_path / "reports"
    reports.mkdir()
    target = reports / "result.json"
    if old_report:
        target.write_text("the previous report\n", encoding="utf-8")
    argv = [str(fake_venv / "bin" / "python"), "-m", "compliance", "scan", str(repo)]
    argv += ["--format", "json", "-o", f"json={target}", "--no-cache", "--jobs", "1"]
    argv += ["--scanner", "bandit", "--scanner", "pip-audit", "--advisory-db", str(ADVISORY_DB)]
    child = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        # The slow bandit and its grandchild: the scan is under way.
        while len(_processes(marker)) < 2 and child.poll() is None:
            assert time.monotonic() < deadline, "the fake scanner never started"
            time.sleep(0.05)
        sent = time.monotonic()
        child.send_signal(sig)
        _, err = child.communicate(timeout=15)
        stopped_in = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + sig, err.decode()
    assert f"interrupted by {sig.name}".encode() in err
    assert stopped_in < 5, f"took {stopped_in:.1f} s to stop"
    _check_nothing_left(marker)  # the slow fake and its grandchild
    if old_report:
        assert target.read_text(encoding="utf-8") == "the previous report\n"
    else:
        assert not target.exists()
    assert sorted(p.name for p in reports.iterdir()) == (["result.json"] if old_report else [])


# --- summary --------------------------------------------------------------------------------

FAULT_TESTS = ("test_fault_is_handled", "test_flood_at_the_real_cap_is_stopped_without_buffering")


def test_summary(request: pytest.FixtureRequest, results_dir: Path) -> None:
    """N injected, N handled: waits for the selected fault cases of every xdist worker (this
    test is collected last, so all others were handed out before it; none waits for it)."""
    selected = {
        item.nodeid
        for item in request.session.items
        if getattr(item, "originalname", None) in FAULT_TESTS
    }
    if not selected:
        pytest.skip("no fault case selected")
    deadline = time.monotonic() + 300
    while True:
        records = [json.loads(p.read_text()) for p in results_dir.glob("*.json")]
        seen = {r["test"]: r["handled"] for r in records if r["test"] in selected}
        if len(seen) == len(selected) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    handled = sum(seen.values())
    line = f"fault injection: {len(selected)} injected, {handled} handled"
    print(line)
    missing = sorted(selected - seen.keys())
    failed = sorted(t for t, ok in seen.items() if not ok)
    assert not missing, f"{line}; never finished: {missing}"
    assert handled == len(selected), f"{line}; not handled: {failed}"
