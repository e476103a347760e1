"""Dependency files and OSV advisories, on hostile text: a parser returns, or raises
SourceError / AdvisoryError (which the adapter turns into a skip or a scanner failure).

Dependency files are the repository's (untrusted): requirements files with their includes,
pyproject.toml, uv.lock, poetry.lock, Pipfile.lock and pylock.toml, each as the real example
mutated (as a document, re-written, or line by line) and as arbitrary text. Advisories are
a database's files (untrusted too): the real records mutated, in YAML and JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from compliance.scanners.pip_audit.advisory import Advisory
from compliance.scanners.pip_audit.osv_local import load_record
from compliance.scanners.pip_audit.sources import parse_dependency_file

from .nasty import NASTY_BYTES, NASTY_TEXT
from .strategies import (
    ASSETS,
    REPO,
    damaged,
    dump_json,
    dump_toml,
    dump_yaml,
    expect_ours,
    fuzz_settings,
    json_values,
    keys_of,
    mutated,
    trimmed,
    yaml_values,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SERVICES = REPO / "examples" / "services"

PIPFILE_LOCK = {
    "_meta": {"hash": {"sha256": "00"}, "sources": [{"name": "pypi", "url": "x"}]},
    "default": {
        "requests": {"hashes": ["sha256:00"], "index": "pypi", "version": "==2.25.1"},
        "mylib": {"git": "https://github.com/x/mylib.git", "ref": "abc"},
        "local": {"editable": True, "path": "."},
    },
    "develop": {"pytest": {"version": "==8.0.0", "markers": "python_version >= '3.8'"}},
}

PYLOCK = """\
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "attrs"
version = "25.1.0"

[[packages.wheels]]
name = "attrs-25.1.0-py3-none-any.whl"
hashes = {sha256 = "00"}

[[packages]]
name = "tool"
[packages.vcs]
type = "git"
url = "https://github.com/x/tool.git"

[[packages]]
name = "app"
directory = { path = ".", editable = true }
"""

#: file name -> the real (or realistic) text of that kind.
REAL: dict[str, str] = {
    "requirements.txt": (SERVICES / "api" / "requirements.txt").read_text(),
    "requirements/dev.txt": "-r ../requirements.txt\n-c constraints.txt\n-e .\npytest>=8\n",
    "pyproject.toml": (SERVICES / "worker" / "pyproject.toml").read_text(),
    "pep621/pyproject.toml": (SERVICES / "payments" / "pyproject.toml").read_text()
    + "\n[dependency-groups]\n"
    + 'dev = ["pytest>=8", {include-group = "lint"}]\nlint = ["ruff==0.6.0"]\n',
    "uv.lock": (SERVICES / "payments" / "uv.lock").read_text(),
    "poetry.lock": (SERVICES / "worker" / "poetry.lock").read_text(),
    "Pipfile.lock": json.dumps(PIPFILE_LOCK, indent=4),
    "pylock.toml": PYLOCK,
    "pylock.dev.toml": PYLOCK,
}

#: Lines that each kind of file may hold, at its edges.
NASTY_LINES = (
    "-r requirements.txt",
    "-r ../../../etc/passwd",
    "-r /etc/passwd",
    "-r C:/x.txt",
    "-r https://example.com/r.txt",
    "-c constraints.txt",
    "-c requirements/dev.txt",
    "-e .",
    "-e git+https://x/y.git#egg=",
    "--hash=sha256:zz",
    "--index-url",
    "-i",
    "--requirement",
    "--no-such-option",
    "-r",
    "pkg==",
    "pkg===1.0",
    "pkg==1.*",
    "pkg==not a version",
    "pkg (==1.0)",
    "pkg[extra]==1.0 ; python_version < '3'",
    "pkg @ file:///x",
    "pkg @ ",
    "git+https://x/y.git#egg=",
    "https://example.com/",
    "./",
    "-1.0.whl",
    "pkg==1.0 \\",
    "\\",
    "ÿ==1",
    "\x00",
    "name==1.0\x0c",
    "[[package]]",
    "[[packages]]",
    "[package.source]",
    "[tool.poetry.dependencies]",
    "[tool.poetry.group.dev.dependencies]",
    "[project]",
    "[dependency-groups]",
    'dependencies = ["a==1", 2]',
    'dev = ["a", {include-group = "dev"}]',
    "name = ",
    'name = "x"',
    'version = "not-a-version"',
    "version = 1",
    'lock-version = "2.0"',
    "lock-version = 1",
    "x = {",
    'requests = {git = "https://x"}',
    'requests = {version = "^1", optional = true}',
    'requests = [{version = "1"}, {version = "2"}]',
    "requests = 7",
    '"default": {"x": {"version": "==1"}}',
    '"default": []',
    "{",
    "}",
    "x = " + "[" * 5_000 + "]" * 5_000,
    "x = " + "9" * 5_000,
    "x = " + "{a = " * 2_000 + "1" + "}" * 2_000,
)


@st.composite
def line_mutated(draw: st.DrawFn, text: str) -> str:
    """`text` with lines deleted, repeated, swapped, cut, or nasty lines put in."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(("delete", "repeat", "swap", "cut", "insert", "append")))
        if not lines or op == "insert":
            lines.insert(at, draw(st.sampled_from(NASTY_LINES) | st.text(max_size=30)))
        elif op == "delete":
            del lines[at]
        elif op == "repeat":
            lines.insert(at, lines[at])
        elif op == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "cut":
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
        else:
            lines[at] += draw(st.sampled_from(NASTY_LINES))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n", "\\"]))


def _as_document(name: str, text: str) -> Any:
    return (
        json.loads(text)
        if name.endswith(".lock") and text.lstrip().startswith("{")
        else (tomllib.loads(text) if name.endswith((".toml", ".lock")) else None)
    )


DOCS = {name: doc for name, text in REAL.items() if (doc := _as_document(name, text)) is not None}
WORDS = keys_of(*DOCS.values())


def _rewritten(name: str) -> st.SearchStrategy[str]:
    doc = trimmed(DOCS[name])
    values = json_values(WORDS, max_leaves=6)
    if name == "Pipfile.lock":
        return mutated(doc, values).map(lambda d: dump_json(d).decode("utf-8", "replace"))
    return mutated(doc, values).map(dump_toml)


@st.composite
def dependency_files(draw: st.DrawFn) -> tuple[str, str]:
    """(path, text): the kind of file by its name, then its text."""
    name = draw(st.sampled_from(sorted(REAL)))
    real = REAL[name]
    nasty = st.sampled_from(NASTY_BYTES).map(lambda b: b.decode("utf-8", "replace"))
    options = [line_mutated(real), st.text(), st.sampled_from(NASTY_LINES), nasty]
    if name in DOCS:
        options.append(_rewritten(name))
    options.append(damaged(real.encode()).map(lambda b: b.decode("utf-8", "replace")))
    text = draw(st.one_of(options))
    folder = draw(st.sampled_from(["", "svc/", "a/b/"]))
    return folder + name, text


@fuzz_settings(scale=2)
@given(
    file=dependency_files(),
    includes=st.dictionaries(
        st.sampled_from(
            [
                "requirements.txt",
                "constraints.txt",
                "requirements/requirements.txt",
                "svc/requirements.txt",
                "svc/constraints.txt",
            ]
        ),
        st.one_of(st.sampled_from(NASTY_LINES), line_mutated(REAL["requirements/dev.txt"])),
        max_size=3,
    ),
)
def test_dependency_file(file: tuple[str, str], includes: dict[str, str]) -> None:
    path, text = file
    expect_ours("dependency file", lambda: parse_dependency_file(path, text, includes.get))


@fuzz_settings()
@given(text=st.text(), name=st.sampled_from(["setup.py", "requirements.in", "pylock.x.y"]))
def test_not_a_dependency_file(text: str, name: str) -> None:
    expect_ours("dependency file", lambda: parse_dependency_file(name, text, lambda _p: None))


# --- OSV advisories ----------------------------------------------------------------------------

ADVISORY_FILES = (
    sorted((ASSETS / "advisory-db-mini" / "vulns").rglob("*.yaml"))
    + sorted((REPO / "examples" / "advisory-db" / "vulns").rglob("*.yaml"))[:12]
)
ADVISORIES = [yaml.safe_load(p.read_text()) for p in ADVISORY_FILES]
ADVISORY_WORDS = keys_of(*ADVISORIES) | {"ECOSYSTEM", "GIT", "PyPI", "PyPI:x", "CVSS_V3"}


def _jsonable(doc: Any) -> Any:
    return json.loads(json.dumps(doc, default=str))


@st.composite
def advisory_files(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".yaml", ".json", ".yml"]))
    base = draw(st.sampled_from(ADVISORIES))
    if suffix == ".json":
        values = json_values(ADVISORY_WORDS, max_leaves=6)
        data = draw(
            st.one_of(
                mutated(_jsonable(base), values).map(dump_json),
                json_values(ADVISORY_WORDS).map(dump_json),
                st.sampled_from(NASTY_BYTES),
            )
        )
    else:
        values = yaml_values(ADVISORY_WORDS, max_leaves=6)
        data = draw(
            st.one_of(
                mutated(base, values).map(dump_yaml),
                yaml_values(ADVISORY_WORDS).map(dump_yaml),
                st.text(),
                st.sampled_from(NASTY_TEXT),
            )
        ).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = draw(damaged(data))
    return suffix, data


VERSIONS = [Version(v) for v in ("0", "0.0.1", "1.0", "2.25.1", "3.0.0rc1", "1!2.0", "99999")]


def _use(advisory: Advisory) -> None:
    """What the worker does with a record: match versions, list fixes, describe it."""
    assert advisory.description
    for entry in advisory.affected:
        for version in VERSIONS:
            advisory.affects(entry.name, version)
            advisory.fixed_versions(entry.name, version)


@pytest.fixture(scope="module")
def advisory_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("advisories")


@fuzz_settings(scale=2)
@given(file=advisory_files())
def test_advisory_file(advisory_dir: Path, file: tuple[str, bytes]) -> None:
    suffix, data = file
    path = advisory_dir / f"PYSEC-0000-0{suffix}"
    path.write_bytes(data)

    def load_and_use() -> None:
        record = load_record(path, path.name)
        _use(record)

    expect_ours("OSV advisory", load_and_use)
