"""The one subprocess call site, against real processes (fast: no scanner involved)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from compliance.errors import ScannerFailure
from compliance.scanners.process import ProcessRunner, describe_exit

pytestmark = pytest.mark.integration
PY = sys.executable


def test_returns_output_and_exit_code() -> None:
    done = ProcessRunner().run(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
        tool="t",
        timeout_s=30,
    )
    assert (done.returncode, done.stdout, done.stderr_tail()) == (3, b"out\n", "err")


def test_timeout_kills_the_whole_process_group_promptly(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(ScannerFailure, match="timed out after 1 s"):
        ProcessRunner().run([PY, "-c", script], tool="t", timeout_s=1)
    assert time.monotonic() - started < 3.0  # honoured within 2 s of the deadline
    grandchild = int(marker.read_text())
    time.sleep(0.2)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting an init that does not reap counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        state = next(
            (line for line in status.read_text().splitlines() if line.startswith("State:")), ""
        )
        return "Z" not in state
    return True


def test_output_cap_stops_a_flood() -> None:
    flood = "import sys\nwhile True: sys.stdout.write('x' * 65536)\n"
    with pytest.raises(ScannerFailure, match="more than 1 MiB"):
        ProcessRunner(max_output_bytes=1024 * 1024).run([PY, "-c", flood], tool="t", timeout_s=30)


def test_missing_executable_is_a_scanner_failure(tmp_path: Path) -> None:
    with pytest.raises(ScannerFailure, match="executable not found") as caught:
        ProcessRunner().run([str(tmp_path / "no-such-tool")], tool="bandit", timeout_s=5)
    assert caught.value.hint is not None and "pip install bandit" in caught.value.hint


def test_killed_by_signal_is_described() -> None:
    done = ProcessRunner().run(
        [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
        tool="t",
        timeout_s=30,
    )
    assert describe_exit(done.returncode) == "killed by signal SIGKILL"


def test_env_overrides_set_and_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_TEST_INHERITED", "leak")
    done = ProcessRunner().run(
        [
            PY,
            "-c",
            "import os; print(os.environ.get('COMPLIANCE_TEST_INHERITED'), os.environ['X'])",
        ],
        tool="t",
        timeout_s=30,
        env={"COMPLIANCE_TEST_INHERITED": None, "X": "set"},
    )
    assert done.stdout == b"None set\n"


def test_record_dir_keeps_every_command_and_its_output(tmp_path: Path) -> None:
    runner = ProcessRunner(record_dir=tmp_path / "raw")
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    runner.run([sys.executable, "-c", code], tool="demo", timeout_s=30)
    runner.run([sys.executable, "-c", "print('second')"], tool="demo", timeout_s=30)
    with pytest.raises(ScannerFailure):
        runner.run([sys.executable, "-c", "import time; time.sleep(30)"], tool="slow", timeout_s=1)
    folder = tmp_path / "raw" / "demo"
    meta = json.loads((folder / "1.json").read_text())
    assert meta["argv"] == [sys.executable, "-c", code]
    assert (meta["returncode"], meta["error"]) == (3, None)
    assert (folder / "1.stdout").read_bytes() == b"out\n"
    assert (folder / "1.stderr").read_bytes() == b"err\n"
    assert (folder / "2.stdout").read_bytes() == b"second\n"
    slow = json.loads((tmp_path / "raw" / "slow" / "1.json").read_text())
    assert slow["returncode"] is None and "timed out" in slow["error"]
