"""Renderers: one module per format, listed in one registry."""

from __future__ import annotations

from compliance.reporting.gitlab import GitlabDependencyScanningRenderer, GitlabSastRenderer
from compliance.reporting.html import HtmlRenderer
from compliance.reporting.interface import Renderer, RenderOptions
from compliance.reporting.json import JsonRenderer
from compliance.reporting.junit import JunitRenderer
from compliance.reporting.markdown import MarkdownRenderer
from compliance.reporting.sarif.renderer import SarifRenderer
from compliance.reporting.terminal import TerminalRenderer

REGISTRY: dict[str, Renderer] = {
    "terminal": TerminalRenderer(),
    "json": JsonRenderer(),
    "sarif": SarifRenderer(),
    "junit": JunitRenderer(),
    "gitlab-sast": GitlabSastRenderer(),
    "gitlab-dependency-scanning": GitlabDependencyScanningRenderer(),
    "markdown": MarkdownRenderer(),
    "html": HtmlRenderer(),
}

__all__ = ["REGISTRY", "RenderOptions", "Renderer"]
