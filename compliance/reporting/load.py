"""Reading a saved JSON result back into the ScanResult it was rendered from.

The inverse of compliance.reporting.json, so that later commands can work from a saved
result: for every ScanResult `r`, rendering `parse_result(render(r))` as JSON gives
`render(r)` again, byte for byte. Two things the JSON does not carry exactly:

- `duration_s` is rounded to milliseconds in the JSON: a loaded result holds the rounded
  value (stable from then on). An integral duration stays an `int`, as it was rendered.

`schema_version` must be 2.x, checked before anything else; the keys are then validated by
compliance.reporting.load_schema. Any problem is a ConfigError naming the file and the key
path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compliance.errors import ConfigError, Problem, validation_problems
from compliance.model import ScanResult
from compliance.reporting.load_schema import SavedResult

#: The schema_version major this module reads (docs/result.schema.json).
READ_MAJOR = 2

#: At most 9 digits each: int() refuses numbers of more than 4,300 digits.
_VERSION = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})")
_HINT = "expected a result written by `compliance scan --format json`"
#: A \uD800-\uDFFF escape: valid JSON, but alone (not in a pair) not a character any
#: renderer can write as UTF-8. Only a document that has one is checked in full.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def load_result(path: Path, display: str) -> ScanResult:
    """The ScanResult saved in `path`; ConfigError naming `display` when it is not one."""
    return parse_result(_read_text(path, display), display)


def parse_result(text: str, display: str) -> ScanResult:
    """The ScanResult of a JSON result's text; ConfigError naming `display` and the key."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError(
            [Problem(display, where, f"invalid JSON: {exc.msg}")], hint=_HINT
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError([Problem(display, "", f"invalid JSON: {message}")], hint=_HINT) from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem(display, "", "expected a JSON object")], hint=_HINT)
    if _SURROGATE.search(text) and _has_lone_surrogate(raw):
        message = "invalid JSON: a string holds a lone surrogate (\\udXXX), which is not text"
        raise ConfigError([Problem(display, "", message)], hint=_HINT)
    _check_schema_version(raw, display)
    try:
        parsed = SavedResult.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, display), hint=_HINT) from None
    return parsed.to_model()


def _has_lone_surrogate(raw: Any) -> bool:
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_text(path: Path, display: str) -> str:
    # As compliance.policy.files.read_text (which reporting may not import); a UTF-8 BOM
    # is tolerated, since some shells add one when redirecting output to a file.
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([Problem(display, "", "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(display, "", "is a folder, expected a file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(display, "", "not valid UTF-8")], hint=_HINT) from None
    except OSError as exc:
        raise ConfigError([Problem(display, "", f"cannot read: {exc.strerror}")]) from None


def _check_schema_version(raw: dict[str, Any], display: str) -> None:
    """Refuse another major before validating: its keys may mean something else."""
    supported = f"this version of compliance reads schema_version {READ_MAJOR}.x"
    if "schema_version" not in raw:
        message = f"missing ({supported})"
    else:
        value = raw["schema_version"]
        match = _VERSION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            message = f"expected MAJOR.MINOR, got {json.dumps(value)} ({supported})"
        elif int(match.group(1)) != READ_MAJOR:
            message = f"version {value} is not supported: {supported}"
        else:
            return
    tool = raw.get("tool")
    version = tool.get("version") if isinstance(tool, dict) else None
    hint = (
        f"it was written by compliance {version}: read it with that version, or scan again"
        if isinstance(version, str)
        else "scan again with this version of compliance"
    )
    raise ConfigError([Problem(display, "schema_version", message)], hint=hint)
