"""The renderer plug-in interface. A renderer is a pure function of the ScanResult."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from compliance.errors import UsageError
from compliance.model import ScanResult


@dataclass(frozen=True, slots=True)
class RenderOptions:
    color: bool = False
    width: int = 100
    #: How many findings the terminal report lists in full.
    max_findings: int = 20
    #: Where file links point (`https://github.com/o/r/blob/SHA/`), for the Markdown and HTML
    #: reports; None: plain repository-relative paths. The CLI derives it from the CI's
    #: environment (GitHub, GitLab) or `--link-base`.
    link_base: str | None = None


class Renderer(Protocol):
    name: str

    def render(self, result: ScanResult, options: RenderOptions) -> str: ...


@runtime_checkable
class MultiFileRenderer(Protocol):
    """A format whose consumers cap the size of one file (GitHub's SARIF upload limits).

    `render_files` returns one text per file, in order; the CLI writes the first to PATH and
    the n-th to PATH with `.n` before its extension (`out.sarif`, `out.2.sarif`, ...).
    `render` returns the single file, or raises SplitRequired when one file cannot hold it.
    """

    name: str

    def render(self, result: ScanResult, options: RenderOptions) -> str: ...

    def render_files(self, result: ScanResult, options: RenderOptions) -> tuple[str, ...]: ...


class SplitRequired(UsageError):
    """The report needs several files, so it cannot go to stdout."""

    def __init__(self, fmt: str, files: int, why: str) -> None:
        super().__init__(
            f"the {fmt} report needs {files} files ({why}): it cannot be written to stdout",
            hint=f"write it with -o {fmt}=PATH (PATH, then PATH with .2, .3 ... before the "
            "extension)",
        )
        self.files = files
