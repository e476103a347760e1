"""A full scan of the demo (examples/, its local advisory database) needs no network and
does not even try to reach one.

1. `compliance scan examples` runs in a process of its own inside a new network namespace
   (`unshare --net`, with `--map-root-user` when not root), where the only interface is a
   loopback that is down: any connection attempt fails. Every scanner must still succeed
   with the demo's usual findings, no stderr (ours, or any tool's raw stderr in the
   evidence bundle) may mention a failed connection, and, when strace is installed, the
   whole process tree (`strace -f`) must make no connect()/sendto()/sendmsg() to an
   internet address (AF_INET/AF_INET6, loopback excepted).
2. The same scan in this process, with the socket API replaced by a guard that records and
   refuses every connection and name lookup: our own code must attempt none.

Where user namespaces are not permitted (some CI sandboxes), part 1 is skipped, saying so.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance.cli import cli

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SCANNERS = ("bandit", "semgrep", "pip-audit", "checkov", "residency", "threatmodel")
#: The day the demo is scanned on (as tests/integration/test_examples.py): the demo's
#: waivers are active, expired and stale on this day whatever the date the tests run.
DEMO_DAY = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
#: Runs `compliance` with the scan's clock fixed to DEMO_DAY (argv follows).
LAUNCHER = (
    "import sys, datetime\n"
    "import compliance.cli.clock as clock\n"
    "day = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)\n"
    "clock.utc_now = lambda: day\n"
    "from compliance.cli import main\n"
    "sys.argv[0] = 'compliance'\n"
    "main()\n"
)
#: What a tool prints when it tried the network and failed.
CONNECTION_ERROR = re.compile(
    r"network is unreachable|connection (?:refused|error|reset|aborted)|failed to establish"
    r"|name or service not known|temporary failure in name resolution|max retries exceeded"
    r"|urlopen error|could not resolve|nodename nor servname|getaddrinfo failed"
    r"|\bENETUNREACH\b|\bEAI_AGAIN\b|ssl(?:error|: )",
    re.IGNORECASE,
)
_SYSCALL = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\((.*)$")
_FAMILY = re.compile(r"sa_family=(AF_INET6?)\b")
_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def unshare_command() -> list[str]:
    """The prefix that runs a command in a new network namespace, or skip."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed: cannot cut the network off")
    reasons = []
    for prefix in ([unshare, "--net", "--map-root-user"], [unshare, "--net"]):
        probe = subprocess.run(
            [*prefix, "true"], capture_output=True, text=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return prefix
        reasons.append(f"`{' '.join(prefix[1:])}`: {probe.stderr.strip() or probe.returncode}")
    pytest.skip("network namespaces are not permitted here (" + "; ".join(reasons) + ")")


def internet_syscalls(trace: str) -> list[str]:
    """strace lines of connect/sendto/sendmsg to an AF_INET/AF_INET6 address that is not
    loopback (unix sockets and netlink are local)."""
    found = []
    for line in trace.splitlines():
        call = _SYSCALL.search(line)
        if call is None:
            continue
        family = _FAMILY.search(call.group(2))
        if family is None:
            continue
        addresses = [a or b for a, b in _ADDRESS.findall(call.group(2))]
        if addresses and all(a.startswith("127.") or a == "::1" for a in addresses):
            continue
        found.append(line.strip())
    return found


def test_the_strace_reader_sees_what_counts() -> None:
    trace = "\n".join(
        (
            '7 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1',
            '7 connect(4, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}'
            ", 16) = -1 ENETUNREACH (Network is unreachable)",
            '8 connect(5, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")'
            "}, 16) = 0",
            "9 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1',
            "9 sendto(7, [{nlmsg_len=20, nlmsg_type=RTM_GETADDR}], 20, 0, {sa_family=AF_NETLINK"
            ", nl_pid=0, nl_groups=00000000}, 12) = 20",
        )
    )
    assert [line.split()[1] for line in internet_syscalls(trace)] == ["connect(4,", "connect(6,"]


@dataclass(frozen=True)
class OfflineScan:
    code: int
    data: dict[str, Any]
    stderr: str
    evidence: Path
    trace: str | None


@pytest.fixture(scope="module")
def offline_scan(tmp_path_factory: pytest.TempPathFactory) -> OfflineScan:
    prefix = unshare_command()
    out = tmp_path_factory.mktemp("offline")
    strace = shutil.which("strace")
    trace_file = out / "strace.txt"
    syscalls = "trace=connect,sendto,sendmsg,sendmmsg"
    traced = (
        [strace, "-f", "-qq", "-e", syscalls, "-e", "signal=none", "-o", str(trace_file)]
        if strace
        else []
    )
    evidence = out / "evidence"
    command = [*prefix, *traced, sys.executable, "-c", LAUNCHER, "scan", str(EXAMPLES)]
    command += ["--no-cache", "--format", "json", "-q", "--evidence", str(evidence)]
    environment = {**os.environ, "NO_COLOR": "1"}
    # Proxies would not help (there is no route) but would change what the tools print.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        environment.pop(name, None)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=out, env=environment
    )
    assert done.stdout, done.stderr
    trace = trace_file.read_text(encoding="utf-8", errors="replace") if strace else None
    return OfflineScan(done.returncode, json.loads(done.stdout), done.stderr, evidence, trace)


def test_every_scanner_succeeds_without_a_network(offline_scan: OfflineScan) -> None:
    data = offline_scan.data
    statuses = {s["name"]: (s["status"], s["error"]) for s in data["scanners"]}
    assert statuses == dict.fromkeys(SCANNERS, ("ok", None)), offline_scan.stderr
    assert offline_scan.code == 1, offline_scan.stderr  # the demo's planted problems fail it
    tools = {f["tool"] for f in data["findings"]}
    assert {"bandit", "semgrep", "pip-audit", "checkov"} <= tools
    advisories = [f for f in data["findings"] if f["tool"] == "pip-audit" and f["package"]]
    assert advisories, "no advisory matched: the local advisory database was not used"


def test_nothing_reports_a_failed_connection(offline_scan: OfflineScan) -> None:
    texts = {"compliance stderr": offline_scan.stderr}
    for path in sorted((offline_scan.evidence / "raw").rglob("*.stderr")):
        texts[str(path.relative_to(offline_scan.evidence))] = path.read_text(
            encoding="utf-8", errors="replace"
        )
    assert any(name.startswith("raw/semgrep/") for name in texts), sorted(texts)
    hits = {n: CONNECTION_ERROR.findall(t) for n, t in texts.items() if CONNECTION_ERROR.search(t)}
    assert not hits


def test_no_process_of_the_scan_tries_the_internet(offline_scan: OfflineScan) -> None:
    if offline_scan.trace is None:
        pytest.skip("strace is not installed (apt-get install strace): syscalls not counted")
    assert "connect(" in offline_scan.trace, "strace recorded nothing: the trace proves nothing"
    assert internet_syscalls(offline_scan.trace) == []


# --- in this process: a socket guard ---------------------------------------------------------


@dataclass
class Attempts:
    calls: list[str]


@pytest.fixture
def socket_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[Attempts]:
    """Record and refuse every internet connection and name lookup made in this process
    (unix sockets pass: they are local)."""
    attempts = Attempts([])
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex

    def refuse(what: str) -> OSError:
        attempts.calls.append(what)
        return OSError(errno.ENETUNREACH, f"network disabled by the test: {what}")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX:
            return connect(self, address)
        raise refuse(f"connect {address!r}")

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if self.family == socket.AF_UNIX:
            return connect_ex(self, address)
        refuse(f"connect_ex {address!r}")
        return errno.ENETUNREACH

    def guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.calls.append(f"getaddrinfo {host!r}:{port!r}")
        raise socket.gaierror(socket.EAI_NONAME, "name lookups disabled by the test")

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        raise refuse(f"create_connection {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    yield attempts


def test_the_guard_catches_a_connection(socket_guard: Attempts) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("pypi.org", 443), timeout=1)
    with pytest.raises(OSError), socket.socket() as sock:
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(OSError):
        socket.getaddrinfo("osv.dev", 443)
    assert len(socket_guard.calls) == 3


def test_our_code_attempts_no_connection(
    socket_guard: Attempts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("compliance.cli.clock.utc_now", lambda: DEMO_DAY)
    args = ["scan", str(EXAMPLES), "--no-cache", "--format", "json", "-q"]
    result = CliRunner().invoke(cli, [*args, "--evidence", str(tmp_path / "evidence")])
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    statuses = {s["name"]: s["status"] for s in data["scanners"]}
    assert statuses == dict.fromkeys(SCANNERS, "ok")
    assert socket_guard.calls == []
