"""Test hermeticity: no subprocess and no network unless a test runs the real scanners.

Every test gets a temporary HOME, so no tool reads or writes the developer's home folder.
Tests marked `integration` may start the real scanners (they are dependencies) through the
one subprocess call site; all others get an error if anything tries.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from compliance.model import ScanResult

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
# Shared test code (factories.py) is imported by its name from unit/, cli/ and integration/.
# pytest's default import mode already puts this folder on sys.path; say so for every mode.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
EXAMPLES = REPO / "examples"
SHARED_ADVISORY_DB = REPO.parent / "shared" / "advisory-db"


class ForbiddenInUnitTest(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _hermetic(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    # Scans start cold: a test that is about the result cache turns it on itself.
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    if request.node.get_closest_marker("integration") is None:

        def no_subprocess(*args: Any, **kwargs: Any) -> Any:
            raise ForbiddenInUnitTest(f"unit test started a subprocess: {args[:1]}")

        def no_network(*args: Any, **kwargs: Any) -> Any:
            raise ForbiddenInUnitTest("unit test opened a network connection")

        monkeypatch.setattr(subprocess, "Popen", no_subprocess)
        monkeypatch.setattr(socket.socket, "connect", no_network)
    yield


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
def shared_advisory_db() -> Path:
    if not SHARED_ADVISORY_DB.is_dir():
        pytest.skip("../shared/advisory-db is not present (only in the developers' workspace)")
    return SHARED_ADVISORY_DB


# --- golden files -------------------------------------------------------------------------

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from the current renderers (then review the diff)",
    )


Golden = Callable[[str, str], None]


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """`golden(name, text)`: text must equal tests/golden/NAME byte for byte.

    With `pytest --update-golden` the file is (re)written instead; review `git diff`.
    """
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            return
        assert path.is_file(), f"no golden file {path}: run pytest --update-golden"
        expected = path.read_bytes().decode("utf-8")
        assert text == expected, f"{name} differs from its golden file (--update-golden)"

    return check


@pytest.fixture(scope="session")
def examples_result() -> ScanResult:
    """The recorded result of scanning examples/ (scripts/record_examples_result.py)."""
    from compliance.reporting.load import load_result

    path = Path(__file__).resolve().parent / "assets" / "results" / "examples.json"
    return load_result(path, "examples.json")
