"""The one place that starts subprocesses.

Every scanner runs through `ProcessRunner.run`: in its own process group (so a timeout kills
the tool and every child it forked), with stdout and stderr spooled to temporary files (so a
tool that prints gigabytes cannot exhaust memory or deadlock a pipe), a hard output cap and a
timeout honoured within a second. Whatever happens, nothing of the tool's group outlives the
call: when the tool ends (even killed by a signal) the stragglers it forked are killed too.
`stop_all` stops every running tool at once and refuses new ones (the CLI calls it on SIGINT
and SIGTERM). Tests replace or forbid this class; nothing else in the package imports
`subprocess`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compliance.errors import ScannerFailure

#: Output beyond this is treated as a fault, not parsed.
DEFAULT_MAX_OUTPUT_BYTES = 512 * 1024 * 1024
_POLL_S = 0.05
_KILL_GRACE_S = 0.5

#: The tools running now (each the leader of its own process group), for `stop_all`. No lock:
#: a signal handler runs in the main thread between any two bytecodes, so it must not wait for
#: one; adding, discarding and copying a set are atomic under the GIL.
_RUNNING: set[subprocess.Popen[bytes]] = set()
#: Set by `stop_all`: no tool starts and every wait ends, until `resume`.
_STOPPING = threading.Event()


def stop_all() -> None:
    """Kill every running tool's process group and start no new tool (the CLI's SIGINT and
    SIGTERM handler: it neither waits nor takes a lock). The threads waiting on those tools
    then fail their scanners with "interrupted"."""
    _STOPPING.set()
    # A tool registered after this copy sees _STOPPING at its first poll (see `_wait`).
    for child in list(_RUNNING):
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)


def resume() -> None:
    """Allow tools to start again after `stop_all` (the CLI, once the command has ended)."""
    _STOPPING.clear()


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration_s: float

    def stderr_tail(self, limit: int = 400) -> str:
        """The end of stderr, decoded, for error messages."""
        text = self.stderr.decode("utf-8", errors="replace").strip()
        return text[-limit:] if len(text) > limit else text


def find_executable(name: str, override: str | None = None) -> str | None:
    """Locate a tool: an explicit override, the running interpreter's bin folder, then PATH.

    The interpreter's folder comes first so that `compliance` installed in a virtual
    environment uses the scanners pinned beside it even when the venv is not activated.
    """
    if override:
        return shutil.which(override)
    sibling = Path(sys.executable).parent / name
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which(name)


_ARGV_MARGIN = 128 * 1024


def argv_budget() -> int:
    """Bytes of file arguments one command may carry: the kernel's limit on arguments plus
    environment, less the environment we pass on and a margin. Count each argument as its
    length plus 9 (its terminating NUL and its pointer)."""
    try:
        limit = int(os.sysconf("SC_ARG_MAX"))
    except (ValueError, OSError):
        limit = 256 * 1024
    environment = sum(len(k) + len(v) + 10 for k, v in os.environ.items())
    return max(32 * 1024, min(limit, 2 * 1024 * 1024) - environment - _ARGV_MARGIN)


def arg_cost(arg: str) -> int:
    return len(arg.encode("utf-8", errors="surrogateescape")) + 9


def installed_alongside(executable: str) -> bool:
    """Whether `executable` belongs to the running interpreter's environment."""
    return Path(executable).absolute().parent == Path(sys.executable).absolute().parent


def package_version(distribution: str) -> str | None:
    """The installed version of a distribution in this environment, if any."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


class ProcessRunner:
    """Runs a command with a timeout and an output cap; raises ScannerFailure on faults.

    With `record_dir`, every command's exact argv, exit code, duration, stdout and stderr
    are also kept there (`<tool>/<n>.json`, `.stdout`, `.stderr`), faults included: the
    raw evidence an evidence bundle carries. Scanners run in threads, so numbering is locked.
    """

    def __init__(
        self, *, max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, record_dir: Path | None = None
    ) -> None:
        self.max_output_bytes = max_output_bytes
        self.record_dir = record_dir
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def run(
        self,
        argv: Sequence[str],
        *,
        tool: str,
        timeout_s: float,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> Completed:
        """Run `argv` to completion. Non-zero exit codes are returned, not raised:
        each adapter decides what its tool's codes mean. In `env`, None unsets a variable."""
        command = tuple(argv)
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        started = time.monotonic()
        try:
            done = self._run(command, tool=tool, timeout_s=timeout_s, cwd=cwd, env=full_env)
        except ScannerFailure as failure:
            self._record(tool, command, None, b"", b"", time.monotonic() - started, failure.message)
            raise
        self._record(tool, command, done.returncode, done.stdout, done.stderr, done.duration_s)
        return done

    def _run(
        self,
        command: tuple[str, ...],
        *,
        tool: str,
        timeout_s: float,
        cwd: Path | None,
        env: dict[str, str],
    ) -> Completed:
        started = time.monotonic()
        if _STOPPING.is_set():
            raise ScannerFailure(f"{tool}: not started: the scan was interrupted")
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                child = subprocess.Popen(  # noqa: S603 - argv is built by our adapters
                    command,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise ScannerFailure(
                    f"{tool}: executable not found: {command[0]}",
                    hint=f"install it (pip install {tool}) or run `compliance doctor`",
                ) from None
            except OSError as exc:
                raise ScannerFailure(f"{tool}: cannot start {command[0]}: {exc}") from None
            _RUNNING.add(child)
            try:
                self._wait(
                    child=child, tool=tool, timeout_s=timeout_s, out=out, err=err, started=started
                )
            finally:
                _RUNNING.discard(child)
                _end_group(child)
            duration = time.monotonic() - started
            # What the tool's stragglers wrote before they were killed counts too: the cap
            # holds before anything is read into memory.
            self._check_output(tool, out, err)
            out.seek(0)
            err.seek(0)
            return Completed(command, child.returncode, out.read(), err.read(), duration)

    def _record(
        self,
        tool: str,
        argv: tuple[str, ...],
        returncode: int | None,
        stdout: bytes,
        stderr: bytes,
        duration_s: float,
        error: str | None = None,
    ) -> None:
        if self.record_dir is None:
            return
        with self._lock:
            number = self._counts.get(tool, 0) + 1
            self._counts[tool] = number
        folder = self.record_dir / tool
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"{number}"
        (stem.with_suffix(".stdout")).write_bytes(stdout)
        (stem.with_suffix(".stderr")).write_bytes(stderr)
        meta = {
            "tool": tool,
            "argv": list(argv),
            "returncode": returncode,
            "duration_s": round(duration_s, 3),
            "error": error,
        }
        stem.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    def _wait(
        self,
        *,
        child: subprocess.Popen[bytes],
        tool: str,
        timeout_s: float,
        out: object,
        err: object,
        started: float,
    ) -> None:
        """Until the tool exits; ScannerFailure on a timeout, too much output or `stop_all`
        (the caller then kills the group). The output is measured after the exit too: a tool
        can print far more than the cap between two looks and be gone."""
        deadline = started + timeout_s
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=_POLL_S)
            if _STOPPING.is_set():
                raise ScannerFailure(f"{tool}: stopped: the scan was interrupted")
            self._check_output(tool, out, err)
            if child.returncode is not None:
                return
            if time.monotonic() >= deadline:
                raise ScannerFailure(
                    f"{tool}: timed out after {timeout_s:g} s and was stopped",
                    hint="raise scan.timeout_s in compliance.yaml or --timeout",
                )

    def _check_output(self, tool: str, out: object, err: object) -> None:
        if _size(out) + _size(err) > self.max_output_bytes:
            raise ScannerFailure(
                f"{tool}: printed more than {self.max_output_bytes // (1024 * 1024)} MiB "
                "of output and was stopped"
            )


def _size(handle: object) -> int:
    fileno = getattr(handle, "fileno", None)
    if fileno is None:
        return 0
    return os.fstat(fileno()).st_size


def _end_group(child: subprocess.Popen[bytes]) -> None:
    """Nothing of the tool's process group survives it: a tool still running is stopped; one
    that ended (even killed by a signal) may have left children behind, which are killed."""
    if child.returncode is None:
        _kill_group(child)
        return
    # The group id stays reserved while any member lives, so it cannot name another group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """Stop the tool and everything it forked: SIGTERM, then SIGKILL after a short grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(timeout=_KILL_GRACE_S)
            if sig is signal.SIGTERM:
                # The leader is gone; make sure no straggler of the group survives.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
            break
        except subprocess.TimeoutExpired:
            continue


def describe_exit(returncode: int) -> str:
    """'exit code 2' or 'killed by signal SIGKILL'."""
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
