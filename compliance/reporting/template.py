"""The jinja2 set-up of our HTML pages: the report, and the evidence bundle's pages.

Every value is escaped (autoescape, whatever the template's name) and an undefined name is
an error, not an empty string (StrictUndefined). The Markdown report has its own set-up:
it escapes through filters, not autoescape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jinja2


def html_template(
    package: str, name: str, filters: Mapping[str, Callable[..., Any]] | None = None
) -> jinja2.Template:
    """Template `name` from `package`'s templates/ folder, with these extra `filters`."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(filters or {})
    return env.get_template(name)
