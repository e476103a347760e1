"""The HTML report in a real browser: headless Chromium parses it, lays it out, shoots it.

Skipped where no Chromium is installed (CI has none). The screenshot of the examples report
is also copied to /tmp/compliance-html.png for a person to look at.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from compliance.model import ScanResult
from compliance.reporting.html import HtmlRenderer
from compliance.reporting.interface import RenderOptions

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
REVIEW_COPY = Path("/tmp/compliance-html.png")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> a|b `tick` ]]> "
    "</pre><iframe src=//evil.example></iframe> \x1b[31m \u202eevil"
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def write_report(result: ScanResult, folder: Path) -> Path:
    path = folder / "report.html"
    path.write_text(HtmlRenderer().render(result, RenderOptions()), encoding="utf-8")
    return path


@needs_chromium
def test_chromium_builds_the_examples_report_dom(
    examples_result: ScanResult, tmp_path: Path
) -> None:
    report = write_report(examples_result, tmp_path)
    dom = chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert dom.count('<table class="controls">') == 2
    assert len(re.findall(r'<tr id="c-[^"]+" class="', dom)) == 93 + 61
    assert dom.count("<svg ") == 2 and "<rect " in dom
    assert dom.count("<article ") == len(examples_result.findings) == 153
    assert "<script" not in dom


@needs_chromium
def test_finding_text_injects_nothing_into_the_dom(
    examples_result: ScanResult, tmp_path: Path
) -> None:
    first, *rest = examples_result.findings
    bad = replace(first, title=HOSTILE, message=HOSTILE, snippet=HOSTILE, help_url="javascript:x")
    report = write_report(replace(examples_result, findings=(bad, *rest)), tmp_path)
    dom = chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "<script" not in dom and "<img" not in dom and "<iframe" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert " onerror=" not in dom.replace("&lt;img src=x onerror=", "")
    assert "javascript:" not in dom
    assert dom.count("<svg ") == 2


@needs_chromium
def test_chromium_screenshot(examples_result: ScanResult, tmp_path: Path) -> None:
    report = write_report(examples_result, tmp_path)
    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2400)
    with contextlib.suppress(OSError):  # only a convenience for reviewers
        shutil.copyfile(shot, REVIEW_COPY)
