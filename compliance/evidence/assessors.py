"""Which scanners assess which mapping rule, for a saved result: the control index needs it
to name the scanners behind a control that has no finding.

A result records the digest of every mapping-rules file the scan used (`inputs`), not the
rules themselves. When those files are still where the result says (the bundled
catalogue, or a `--controls-dir` given by absolute path) and every digest matches, the
rules are read back from them; otherwise the answer is None and the index falls back to
the tools of each control's findings. A file that changed since the scan is never used.
"""

from __future__ import annotations

from pathlib import Path

from compliance.config import bundled_controls_dir
from compliance.errors import ConfigError
from compliance.inputs import sha256_file
from compliance.model import ScanResult
from compliance.policy.mapping_rules import MAPPINGS_DIR, load_mapping_rules

_BUNDLED = "(bundled) controls/"


def load_rule_scanners(result: ScanResult) -> dict[str, tuple[str, ...]] | None:
    """Mapping rule id -> the scanners whose run is its evidence, or None when the rules
    the scan used cannot be recovered exactly."""
    recorded = [i for i in result.inputs if i.kind == "mapping-rules"]
    if not recorded:
        return None
    folders: set[Path] = set()
    for entry in recorded:
        path = _locate(entry.path)
        if path is None or not path.is_file():
            return None
        try:
            if sha256_file(path) != entry.sha256:
                return None
        except OSError:
            return None
        folders.add(path.parent)
    if len(folders) != 1:
        return None
    mappings = folders.pop()
    if mappings.name != MAPPINGS_DIR:
        return None
    on_disk = sorted(p for p in mappings.iterdir() if p.suffix in (".yaml", ".yml"))
    if len(on_disk) != len(recorded):
        return None  # a rule file was added since the scan
    try:
        rules = load_mapping_rules(mappings.parent, None)
    except ConfigError:
        return None
    return {rule.id: rule.scanners for rule in rules.rules}


def _locate(display: str) -> Path | None:
    if display.startswith(_BUNDLED):
        return bundled_controls_dir() / display.removeprefix(_BUNDLED)
    path = Path(display)
    return path if path.is_absolute() else None
