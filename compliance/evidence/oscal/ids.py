"""The document's identifiers: version-5 UUIDs derived from the result, and OSCAL control ids.

OSCAL control ids are the framework's ids in lower case (`A.8.28` -> `a.8.28`, `CC6.1` ->
`cc6.1`), as NIST's catalogues write `ac-2` for AC-2; the framework's own spelling stays in
a `control-id` prop.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from compliance.evidence.oscal.errors import OscalExportError
from compliance.model import ScanResult
from compliance.reporting.json import result_to_dict

#: Default namespace of the document's UUIDs (version 5). Never change it: the UUIDs of the
#: documents already issued derive from it.
UUID_NAMESPACE = uuid.UUID("6f0c5a4e-2b7d-4c1e-9a8f-3d2e1b0c9f8a")


class Ids:
    """Version-5 UUIDs under one namespace per result, each name used once."""

    def __init__(self, result: ScanResult, namespace: uuid.UUID) -> None:
        canonical = json.dumps(result_to_dict(result), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
        self._scan = uuid.uuid5(namespace, f"compliance-scan:{digest}")
        self._used: set[str] = set()

    def __call__(self, name: str) -> str:
        unique, n = name, 1
        while unique in self._used:  # a hand-built result may repeat a fingerprint
            n += 1
            unique = f"{name}#{n}"
        self._used.add(unique)
        return str(uuid.uuid5(self._scan, unique))


def oscal_control_id(control_id: str) -> str:
    """The OSCAL id of a framework control id: lower case (`A.8.28` -> `a.8.28`)."""
    oscal_id = control_id.lower()
    if not _is_token(oscal_id):
        raise OscalExportError(
            f"control id {control_id!r} cannot be an OSCAL control id (a token: a letter or _, "
            "then letters, digits, '.', '-' or '_')"
        )
    return oscal_id


def _is_token(text: str) -> bool:
    return (
        bool(text)
        and (text[0].isalpha() or text[0] == "_")
        and all(c.isalnum() or c in "._-" for c in text)
    )
