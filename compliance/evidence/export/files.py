"""The auditor's package: `render_export` renders every file of it with their SHA256SUMS,
and `write_export` writes them into a folder atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from compliance.errors import EnvironmentFailure, UsageError
from compliance.evidence.export.csv import (
    render_controls_csv,
    render_findings_csv,
    render_runs_csv,
    render_waivers_csv,
)
from compliance.evidence.export.html import render_period_html
from compliance.evidence.export.period import PeriodReport

#: The files of an export, in the order SHA256SUMS lists them.
EXPORT_FILES = ("index.html", "controls.csv", "findings.csv", "waivers.csv", "runs.csv")
SUMS_FILE = "SHA256SUMS"


def render_export(report: PeriodReport) -> dict[str, str]:
    """Every file of the package, by name (pure; SHA256SUMS last)."""
    files = {
        "index.html": render_period_html(report),
        "controls.csv": render_controls_csv(report),
        "findings.csv": render_findings_csv(report),
        "waivers.csv": render_waivers_csv(report),
        "runs.csv": render_runs_csv(report),
    }
    files[SUMS_FILE] = "".join(
        f"{hashlib.sha256(files[name].encode('utf-8')).hexdigest()}  {name}\n"
        for name in EXPORT_FILES
    )
    return files


def check_export_target(target: Path, *, force: bool) -> None:
    """UsageError unless `target` can take an export: new, empty, or (with `force`) a folder
    that holds nothing but an earlier export's files. Nothing else is ever replaced."""
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"-o {target}: folder {parent} does not exist")
    if not target.exists():
        return
    if not target.is_dir():
        raise UsageError(f"-o {target}: exists and is not a folder")
    present = sorted(p.name for p in target.iterdir())
    if not present:
        return
    strangers = [name for name in present if name not in (*EXPORT_FILES, SUMS_FILE)]
    if strangers:
        raise UsageError(
            f"-o {target}: the folder holds files that are not an export "
            f"({', '.join(strangers[:5])}); choose a new or empty folder"
        )
    if not force:
        raise UsageError(f"-o {target}: holds an earlier export", hint="pass --force to replace it")


def write_export(files: Mapping[str, str], target: Path, *, force: bool = False) -> None:
    """Write `files` into the folder `target`: all of them or none.

    They are written into a temporary folder beside `target`, which is then renamed to it;
    an earlier export there (with `force`) is moved aside first and removed after.
    """
    check_export_target(target, force=force)
    parent = target.parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {target}: {exc.strerror}") from None
    try:
        for name, text in files.items():
            with (staging / name).open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        staging.chmod(0o755)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            retired.rmdir()
            target.rename(retired)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise EnvironmentFailure(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
