"""Reading our own YAML and JSON policy files: one way to say what is wrong, and where.

Every loader turns a file into plain data here and validates it with a strict pydantic
model; a problem is always a `Problem(file, key path or line, message)`, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from compliance import yamlsafe
from compliance.errors import ConfigError, Problem, validation_problems

_Model = TypeVar("_Model", bound=BaseModel)


def read_yaml(path: Path, display: str) -> Any:
    """The parsed YAML document; ConfigError naming the file and line when it is not one."""
    text = read_text(path, display)
    try:
        return yamlsafe.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(display, where, f"invalid YAML: {problem}")]) from None


def read_json(path: Path, display: str) -> Any:
    text = read_text(path, display)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError([Problem(display, where, f"invalid JSON: {exc.msg}")]) from None
    except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError([Problem(display, "", f"invalid JSON: {message}")]) from None


def read_text(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(display, "", "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(display, "", "is a folder, expected a file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(display, "", "not valid UTF-8")]) from None
    except OSError as exc:
        raise ConfigError([Problem(display, "", f"cannot read: {exc.strerror}")]) from None


def display_path(path: Path, root: Path | None) -> str:
    """`path` relative to `root` (POSIX) when it is inside it, else as given."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def prefixed(problems: list[Problem], prefix: str) -> list[Problem]:
    """Problems of an item validated on its own, re-rooted at `prefix` (`waivers[3]`)."""
    out = []
    for problem in problems:
        key = problem.location
        key = prefix + (key if not key or key.startswith("[") else f".{key}")
        out.append(Problem(problem.file, key, problem.message))
    return out


def validate_file(
    model: type[_Model], raw: Any, display: str, *, not_a_mapping: str, hint: str | None = None
) -> _Model:
    """A file's parsed document validated with its `model`. ConfigError: the message
    `not_a_mapping` when it is not a mapping; else every key path that is wrong (with `hint`)."""
    if not isinstance(raw, dict):
        raise ConfigError([Problem(display, "", not_a_mapping)])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, display), hint=hint) from None


def validate_items(
    model: type[_Model], items: Iterable[Any], key: str, display: str, problems: list[Problem]
) -> Iterator[tuple[int, _Model]]:
    """Each of the `key` list's `items` validated with `model`, as (index, entry). An item
    that is not valid is skipped, its problems re-rooted at `key[index]` and added to
    `problems` in list order, so a caller's own checks of the valid ones interleave."""
    for index, item in enumerate(items):
        try:
            entry = model.model_validate(item)
        except ValidationError as exc:
            problems += prefixed(validation_problems(exc, display), f"{key}[{index}]")
            continue
        yield index, entry
