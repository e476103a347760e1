"""Per-file result caching for tools that judge each file alone (bandit, semgrep).

A tool's JSON is cut into one slice per file (its results and its per-file errors, exactly
as the tool printed them). A re-scan looks each file's slice up by the file's content and
the tool, rules and options it was run with, runs the tool only over the files it lacks, and
rebuilds one document from the slices, in file order, which the adapter then parses as if one
process had printed it: cached and fresh scans go through the same parser, so they give the
same findings, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from compliance.errors import ScannerFailure
from compliance.scanners.cache import ResultCache, cache_key
from compliance.scanners.keys import FileDigests, code_digest

Slice = dict[str, list[Any]]


@dataclass(slots=True)
class FileResults:
    """The slices of one scan: looked up, then completed by the fresh runs."""

    namespace: str
    #: What every key of this run shares: our code, the tool, its rules and options.
    context: str
    cache: ResultCache | None
    reads: bool
    digests: FileDigests
    slices: dict[str, Slice] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)

    def lookup(self, files: Sequence[str]) -> list[str]:
        """Load what the cache has; return the files still to scan."""
        if self.cache is None:
            return list(files)
        self._keys = {
            f: cache_key(code_digest(), self.namespace, self.context, f, self.digests(f))
            for f in files
        }
        if self.reads:
            found = self.cache.get_many(self.namespace, self._keys.values())
            for name, key in self._keys.items():
                data = found.get(key)
                loaded = _load_slice(data) if data is not None else None
                if loaded is not None:
                    self.slices[name] = loaded
        return [f for f in files if f not in self.slices]

    def add_document(
        self,
        document: dict[str, Any],
        files: Iterable[str],
        path_of: Callable[[Any], str | None],
    ) -> None:
        """Cut a fresh document into per-file slices (files without results get an empty
        one) and keep them, in the cache too. An entry about no file, or about a file the
        tool was not given, is a ScannerFailure: nothing the tool said is dropped."""
        fresh: dict[str, Slice] = {f: {"results": [], "errors": []} for f in files}
        for part in ("results", "errors"):
            for item in document.get(part) or []:
                path = path_of(item)
                if path is None or path not in fresh:
                    raise ScannerFailure(
                        f"{self.namespace} reported {part[:-1]} about a file it was not "
                        f"given: {str(path)[:200]!r}"
                    )
                fresh[path][part].append(item)
        self.slices.update(fresh)
        if self.cache is not None and self._keys:
            self.cache.put_many(
                self.namespace,
                {
                    self._keys[f]: json.dumps(s, sort_keys=True).encode("utf-8")
                    for f, s in fresh.items()
                    if f in self._keys
                },
            )

    def document(self, files: Sequence[str], **extra: Any) -> bytes:
        """One document over `files`, from their slices, in file order."""
        results: list[Any] = []
        errors: list[Any] = []
        for name in files:
            part = self.slices.get(name, {"results": [], "errors": []})
            results += part["results"]
            errors += part["errors"]
        return json.dumps({**extra, "results": results, "errors": errors}).encode("utf-8")


def _load_slice(data: bytes) -> Slice | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if (
        isinstance(value, dict)
        and set(value) == {"results", "errors"}
        and all(isinstance(value[k], list) for k in value)
    ):
        return value
    return None
