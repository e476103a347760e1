"""Renderers: one module per format, listed in one registry (each imported when used)."""

from __future__ import annotations

from compliance.lazy import LazyRegistry
from compliance.reporting.interface import Renderer, RenderOptions

_GITLAB = "compliance.reporting.gitlab"
REGISTRY: LazyRegistry[Renderer] = LazyRegistry(
    {
        "terminal": "compliance.reporting.terminal:TerminalRenderer",
        "json": "compliance.reporting.json:JsonRenderer",
        "sarif": "compliance.reporting.sarif.renderer:SarifRenderer",
        "junit": "compliance.reporting.junit:JunitRenderer",
        "gitlab-sast": f"{_GITLAB}:GitlabSastRenderer",
        "gitlab-dependency-scanning": f"{_GITLAB}:GitlabDependencyScanningRenderer",
        "markdown": "compliance.reporting.markdown:MarkdownRenderer",
        "html": "compliance.reporting.html:HtmlRenderer",
    },
    lambda renderer: renderer(),
)

__all__ = ["REGISTRY", "RenderOptions", "Renderer"]
