"""A misbehaving scanner, for the fault-injection tests (tests/integration/test_fault_injection.py).

    python fake_scanner.py MARKER TOOL FAULT [the tool's own arguments...]

MARKER is a unique word that stays in this process's command line (and in its grandchild's),
so a test can tell whether anything it started is still running. TOOL is bandit, semgrep,
checkov or pip-audit (the audit worker); `--version` is answered as the real tool would, so
only the scan itself misbehaves. FAULT is one of the names in FAULTS below.

Standard library only: it must run without the package under test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

VERSIONS = {"bandit": "bandit 1.9.4\n", "semgrep": "1.185.0\n", "checkov": "3.3.30\n"}

#: A document of the right shape, cut in the middle: what a tool killed mid-write leaves.
TRUNCATED = {
    "bandit": '{"errors": [], "results": [{"code": "6 subprocess.call(cmd, shell=True)\\n", "fi',
    "semgrep": '{"version": "1.185.0", "results": [{"check_id": "policies.semgrep.x", "pa',
    "checkov": '{"check_type": "dockerfile", "results": {"failed_checks": [{"check_id": "CKV_',
    "pip-audit": '{"pip_audit_version": "2.10.1", "service": "local-osv", "results": [{"na',
}

#: Valid JSON whose shape the adapter must refuse rather than read as "nothing found".
UNEXPECTED_SHAPE = {
    # results present but each lacks the fields a finding needs
    "bandit": {"errors": [], "results": [{"test_id": "B602", "filename": "./app.py"}]},
    # `errors` is neither a list nor absent
    "semgrep": {"version": "1.185.0", "results": [], "errors": 5},
    # a report whose `results` holds the wrong types
    "checkov": {"check_type": "dockerfile", "results": {"failed_checks": "none"}},
    # the worker's report with `results` of the wrong type
    "pip-audit": {"pip_audit_version": "2.10.1", "service": "local-osv", "results": {"a": 1}},
}

#: Exit 0, but the tool says in its own JSON that the run went wrong.
INTERNAL_ERROR = {
    # an error that names no file: not "this file could not be parsed"
    "bandit": {"errors": [{"reason": "internal error: a test plug-in raised"}], "results": []},
    "semgrep": {
        "version": "1.185.0",
        "results": [],
        "errors": [
            {"level": "error", "type": "Fatal error", "message": "Invalid rule schema: rules"}
        ],
    },
    # checkov's summary-only answer with parsing errors and no details
    "checkov": {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 1},
}

#: Exit 0, one file could not be analysed: a skip, the rest of the run stands.
FILE_ERROR = {
    "bandit": {
        "errors": [{"filename": "./app.py", "reason": "syntax error while parsing AST from file"}],
        "results": [],
    },
    "semgrep": {
        "version": "1.185.0",
        "results": [],
        "errors": [
            {"level": "warn", "type": "Syntax error", "path": "app.py", "message": "bad syntax"}
        ],
    },
    "checkov": {
        "check_type": "dockerfile",
        "results": {
            "passed_checks": [],
            "failed_checks": [],
            "skipped_checks": [],
            "parsing_errors": ["Dockerfile"],
        },
        "summary": {"passed": 0, "failed": 0, "parsing_errors": 1, "checkov_version": "3.3.30"},
    },
}

CHUNK = b"x" * (1024 * 1024)
#: Four times the output cap the tests give the runner (4 MiB): written before it looks.
FLOOD_THEN_EXIT_BYTES = 16 * 1024 * 1024


def _grandchild(marker: str) -> None:
    """A process of the tool's group that outlives the tool unless someone kills the group."""
    subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(3600)", marker],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _print(document: object) -> int:
    sys.stdout.write(json.dumps(document))
    sys.stdout.flush()
    return 0


def _not_audited(request_path: str) -> dict[str, object]:
    """The worker's report: every pin asked about, not audited (the service failed)."""
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    return {
        "pip_audit_version": "2.10.1",
        "service": "local-osv",
        "results": [],
        "not_audited": [
            {
                "name": d["name"],
                "version": d["version"],
                "reason": "skipped by pip-audit: the advisory service timed out",
            }
            for d in request["dependencies"]
        ],
    }


def main(argv: list[str]) -> int:
    marker, tool, fault, *args = argv
    if "--version" in args and tool in VERSIONS:  # semgrep: `--experimental --version`
        sys.stdout.write(VERSIONS[tool])
        return 0
    match fault:
        case "exit-nonzero-silent":
            return 3
        case "exit-zero-empty":
            return 0
        case "truncated-json":
            sys.stdout.write(TRUNCATED[tool])
            return 0
        case "unexpected-shape":
            return _print(UNEXPECTED_SHAPE[tool])
        case "internal-error":
            if tool == "pip-audit":
                return _print(_not_audited(args[-1]))
            return _print(INTERNAL_ERROR[tool])
        case "file-error":
            return _print(FILE_ERROR[tool])
        case "hang":
            # Deaf to SIGTERM, with a grandchild: only SIGKILL to the whole group ends it.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _grandchild(marker)
            time.sleep(3600)
            return 0
        case "killed-sigkill" | "killed-sigsegv":
            # A crash that leaves a worker behind (semgrep-core, checkov's sub-processes).
            _grandchild(marker)
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGKILL if fault == "killed-sigkill" else signal.SIGSEGV)
            return 0
        case "flood":
            # Gigabytes if nobody stops it.
            out = sys.stdout.buffer
            while True:
                out.write(CHUNK)
        case "flood-then-exit":
            # More than the cap, written and gone within one poll of the runner.
            os.write(1, b"x" * FLOOD_THEN_EXIT_BYTES)
            return 0
        case "slow":
            # A healthy-looking tool that takes its time (the interrupt tests).
            _grandchild(marker)
            time.sleep(3600)
            return 0
    print(f"fake_scanner: unknown fault {fault!r}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
