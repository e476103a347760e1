"""A registry whose entries are imported when first used.

`compliance scan` in a pre-commit hook must answer in seconds, and Python imports are a
tenth of that: the HTML renderer (jinja2), the threat-model detectors, the pip-audit parsers
are imported only by a run that uses them. The names are known without importing anything,
so command-line choices still list them all.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class LazyRegistry(Mapping[str, T]):
    """name -> "package.module:Attribute", made into a value by `make` on first access."""

    def __init__(self, entries: dict[str, str], make: Callable[[Any], T]) -> None:
        self._entries = dict(entries)
        self._make = make
        self._loaded: dict[str, T] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> T:
        with self._lock:
            if name not in self._loaded:
                module, _, attribute = self._entries[name].partition(":")
                self._loaded[name] = self._make(getattr(importlib.import_module(module), attribute))
            return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
