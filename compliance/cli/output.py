"""Writing reports: to stdout, or to files atomically, so an interrupted run never leaves a
half-written file. One place, shared by `scan` and `report`, so both write the same bytes."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from compliance.errors import EnvironmentFailure, UsageError
from compliance.model import ScanResult
from compliance.reporting import REGISTRY as RENDERERS
from compliance.reporting import RenderOptions
from compliance.reporting.interface import MultiFileRenderer


def parse_outputs(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    """`-o FORMAT=PATH` values, checked before anything runs."""
    outputs = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"-o {value!r}: expected FORMAT=PATH, e.g. -o json=result.json")
        if fmt not in RENDERERS:
            raise UsageError(f"-o {value!r}: unknown format {fmt!r}; known: {', '.join(RENDERERS)}")
        target = Path(path)
        require_folder(target, f"-o {value!r}")  # say so now, not after a ten-minute scan
        outputs.append((fmt, target))
    return outputs


def require_folder(path: Path, option: str) -> None:
    """A usage error, before anything runs, when `path` would be written into a folder that
    does not exist."""
    if not path.parent.is_dir():
        raise UsageError(f"{option}: folder {path.parent} does not exist")


def file_options(link_base: str | None) -> RenderOptions:
    """Options for a report written to a file: no colour, fixed width, so files are the
    same bytes whoever writes them (`scan -o` or `report -o`)."""
    return RenderOptions(link_base=link_base)


def stdout_options(fmt: str, link_base: str | None) -> RenderOptions:
    """Colour only for the terminal format on a TTY, and never with NO_COLOR; the width of
    the terminal (or $COLUMNS, else 80). Other formats get the file options."""
    if fmt != "terminal":
        return file_options(link_base)
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size((80, 24)).columns
    return RenderOptions(color=color, width=max(60, width), link_base=link_base)


def write_report(result: ScanResult, fmt: str, target: Path, options: RenderOptions) -> list[Path]:
    """Render `fmt` into `target` (and `target` with .2, .3 ... for a split report)."""
    renderer = RENDERERS[fmt]
    if isinstance(renderer, MultiFileRenderer):
        texts = renderer.render_files(result, options)
    else:
        texts = (renderer.render(result, options),)
    paths = [part_path(target, index) for index in range(1, len(texts) + 1)]
    for path, text in zip(paths, texts, strict=True):
        write_atomic(path, text)
    if len(paths) > 1:
        click.echo(
            f"note: the {fmt} report was split into {len(paths)} files to stay within its "
            f"consumers' limits: {', '.join(str(p) for p in paths)}",
            err=True,
        )
    return paths


def part_path(target: Path, index: int) -> Path:
    """out.sarif, out.2.sarif, out.3.sarif ..."""
    if index == 1:
        return target
    return target.with_name(f"{target.stem}.{index}{target.suffix}")


def echo_report(result: ScanResult, fmt: str, options: RenderOptions) -> None:
    click.echo(RENDERERS[fmt].render(result, options), nl=False)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    folder = path.parent
    if not folder.is_dir():
        raise EnvironmentFailure(f"cannot write {path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
