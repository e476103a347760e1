"""Dependency-file parsers of the pip-audit adapter: pure, text in, requirements out."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from compliance.scanners.pip_audit.lockfiles import (
    parse_pipfile_lock,
    parse_poetry_lock,
    parse_pylock,
    parse_uv_lock,
)
from compliance.scanners.pip_audit.pyproject import parse_pyproject
from compliance.scanners.pip_audit.requirement import package_table_lines
from compliance.scanners.pip_audit.sources import (
    FileKind,
    Pinned,
    Requirement,
    SourceError,
    Unauditable,
    Unpinned,
    dedupe,
    file_kind,
    locked_folders,
    parse_dependency_file,
    parse_requirements_txt,
    resolve_include,
    superseded_by_lock,
)


def no_files(path: str) -> str | None:
    raise AssertionError(f"unexpected read of {path}")


def files(mapping: dict[str, str]):
    read: list[str] = []

    def reader(path: str) -> str | None:
        read.append(path)
        return mapping.get(path)

    reader.read = read  # type: ignore[attr-defined]
    return reader


def by_name(requirements: tuple[Requirement, ...]) -> dict[str, Requirement]:
    return {r.name: r for r in requirements}


# --- requirements files ------------------------------------------------------------------


def test_requirements_pins_hashes_markers_extras_and_comments():
    text = dedent(
        """\
        # a comment
        --index-url https://pypi.org/simple
        requests==2.25.1 \\
            --hash=sha256:aaaa \\
            --hash=sha256:bbbb
        urllib3[socks,secure]==1.26.4 ; python_version >= "3.6"  # trailing comment

        Zope.Interface==5.0  --no-binary :all:
        attrs===23.1.0
        """
    )
    parsed = parse_requirements_txt(text, "svc/requirements.txt", no_files)
    assert parsed.issues == ()
    assert parsed.requirements == (
        Pinned("requests", "2.25.1", "svc/requirements.txt", 3),
        Pinned("urllib3", "1.26.4", "svc/requirements.txt", 6),
        Pinned("zope-interface", "5.0", "svc/requirements.txt", 8),
        Pinned("attrs", "23.1.0", "svc/requirements.txt", 9),
    )


def test_requirements_ranges_are_unpinned_with_specifier_and_reason():
    text = "flask>=2.0,<3\nDjango\nnumpy==1.2.*\n"
    found = by_name(parse_requirements_txt(text, "requirements.txt", no_files).requirements)
    flask, django, numpy = found["flask"], found["django"], found["numpy"]
    assert isinstance(flask, Unpinned) and flask.specifier == "<3,>=2.0"
    assert "allows more than one version" in flask.reason
    assert flask.line == 1
    assert isinstance(django, Unpinned) and django.specifier == ""
    assert "no version specifier" in django.reason
    assert isinstance(numpy, Unpinned)  # a wildcard is a range, not a pin


def test_requirements_invalid_pinned_version_is_unauditable():
    (req,) = parse_requirements_txt("legacy===1.0-weird-\n", "r.txt", no_files).requirements
    assert isinstance(req, Unauditable)
    assert "not a PEP 440 version" in req.reason
    assert req.version == "1.0-weird-"


@pytest.mark.parametrize(
    ("line", "name", "words"),
    [
        ("-e git+https://github.com/x/y.git@v1#egg=Y_Lib", "y-lib", "editable install"),
        ("-e .", "unknown", "editable install"),
        ("git+https://github.com/x/zlib.git@v1#egg=zed", "zed", "VCS requirement"),
        ("https://example.com/pkgs/foo_bar-1.0-py3-none-any.whl", "foo-bar", "direct URL"),
        ("./libs/common", "common", "local path"),
        ("foo @ https://example.com/foo-1.0.tar.gz", "foo", "direct URL"),
        ("bar @ git+https://github.com/x/bar.git", "bar", "VCS requirement"),
        ("baz @ file:///opt/baz", "baz", "local path"),
    ],
)
def test_requirements_url_vcs_path_and_editable_are_unauditable(line, name, words):
    (req,) = parse_requirements_txt(line + "\n", "requirements.txt", no_files).requirements
    assert isinstance(req, Unauditable)
    assert words in req.reason
    if name != "unknown":
        assert req.name == name
    assert req.line == 1


def test_requirements_unparseable_line_is_unauditable_not_dropped():
    (req,) = parse_requirements_txt("bad ===== stuff\n", "r.txt", no_files).requirements
    assert isinstance(req, Unauditable)
    assert "cannot parse requirement" in req.reason


def test_requirements_bad_option_is_an_issue():
    parsed = parse_requirements_txt("--no-such-option\nsix==1.16.0\n", "r.txt", no_files)
    assert parsed.requirements == (Pinned("six", "1.16.0", "r.txt", 2),)
    assert len(parsed.issues) == 1 and parsed.issues[0].line == 1


def test_includes_resolve_relative_to_the_including_file():
    reader = files(
        {
            "svc/base/common.txt": "# shared\nrequests==2.25.1\n-r ../more.txt\n",
            "svc/more.txt": "six==1.16.0\n",
        }
    )
    text = "flask==2.0.0\n-r base/common.txt\n--requirement=more.txt\n"
    parsed = parse_requirements_txt(text, "svc/requirements.txt", reader)
    assert parsed.issues == ()
    assert parsed.requirements == (
        Pinned("flask", "2.0.0", "svc/requirements.txt", 1),
        Pinned("requests", "2.25.1", "svc/base/common.txt", 2),
        Pinned("six", "1.16.0", "svc/more.txt", 1),
    )
    assert reader.read == ["svc/base/common.txt", "svc/more.txt"]  # more.txt once


def test_include_outside_the_repository_is_not_followed():
    reader = files({})
    text = "-r ../../etc/requirements.txt\n-r /abs/reqs.txt\n-r https://x.test/r.txt\nsix==1\n"
    parsed = parse_requirements_txt(text, "svc/requirements.txt", reader)
    assert reader.read == []
    messages = [i.message for i in parsed.issues]
    assert "outside the repository" in messages[0]
    assert "absolute include" in messages[1]
    assert "remote include" in messages[2]
    assert [i.line for i in parsed.issues] == [1, 2, 3]


def test_missing_include_is_an_issue_and_cycles_end():
    reader = files({"a.txt": "-r requirements.txt\nsix==1.16.0\n"})
    text = "-r a.txt\n-r missing.txt\n"
    parsed = parse_requirements_txt(text, "requirements.txt", reader)
    assert parsed.requirements == (Pinned("six", "1.16.0", "a.txt", 2),)
    assert [i.message for i in parsed.issues] == ["cannot read include missing.txt"]


def test_resolve_include():
    assert resolve_include("a/b/r.txt", "../c.txt") == ("a/c.txt", "")
    assert resolve_include("r.txt", "./x/../y.txt") == ("y.txt", "")
    assert resolve_include("a/r.txt", "../../x.txt")[0] is None
    assert resolve_include("r.txt", "C:/x.txt")[0] is None


def test_constraint_pins_an_unpinned_requirement_at_the_constraint_line():
    reader = files({"svc/constraints.txt": "# pins\nflask==2.0.1\nclick>=8\nsix==1.16.0\n"})
    text = "-c constraints.txt\nflask\nclick\nrequests==2.31.0\n"
    parsed = parse_requirements_txt(text, "svc/requirements.txt", reader)
    found = by_name(parsed.requirements)
    assert found["flask"] == Pinned(
        "flask", "2.0.1", "svc/constraints.txt", 2, constrained_from="svc/requirements.txt"
    )
    assert isinstance(found["click"], Unpinned)  # a range in a constraint pins nothing
    assert found["requests"] == Pinned("requests", "2.31.0", "svc/requirements.txt", 4)
    assert "six" not in found  # constraints install nothing


# --- pyproject.toml ----------------------------------------------------------------------


PEP621 = dedent(
    """\
    [project]
    name = "svc"
    dependencies = [
        "requests==2.25.1",
        "flask>=2",
        "lib @ git+https://github.com/x/lib.git",
    ]

    [project.optional-dependencies]
    test = ["pytest==8.0.0"]
    docs = [
        "sphinx",
    ]

    [dependency-groups]
    dev = ["ruff==0.6.0", {include-group = "test"}]

    [tool.uv]
    dev-dependencies = ["mypy>=1"]
    """
)


def test_pep621_lists_with_lines():
    parsed = parse_pyproject(PEP621, "svc/pyproject.toml")
    found = by_name(parsed.requirements)
    assert found["requests"] == Pinned("requests", "2.25.1", "svc/pyproject.toml", 4)
    assert isinstance(found["flask"], Unpinned) and found["flask"].line == 5
    assert isinstance(found["lib"], Unauditable) and found["lib"].line == 6
    assert found["pytest"] == Pinned("pytest", "8.0.0", "svc/pyproject.toml", 10)
    assert isinstance(found["sphinx"], Unpinned) and found["sphinx"].line == 12
    assert found["ruff"] == Pinned("ruff", "0.6.0", "svc/pyproject.toml", 16)
    assert isinstance(found["mypy"], Unpinned) and found["mypy"].line == 19


POETRY = dedent(
    """\
    [tool.poetry]
    name = "svc"

    [tool.poetry.dependencies]
    python = "^3.11"
    requests = "^2.25"
    Flask = "2.0.1"
    django = "==3.2.1"
    jinja2 = "~2.10"
    numpy = "1.2.*"
    "ruamel.yaml" = { version = "0.17.21", extras = ["jinja2"] }
    lib = { git = "https://github.com/x/lib.git", branch = "main" }
    local = { path = "../local", develop = true }
    pandas = [
        { version = "1.5.3", python = "<3.12" },
        { version = ">=2", python = ">=3.12" },
    ]

    [tool.poetry.group.dev.dependencies]
    pytest = "8.0.0"

    [tool.poetry.dev-dependencies]
    black = "*"
    """
)


def test_poetry_only_exact_pins_count():
    found = parse_pyproject(POETRY, "pyproject.toml").requirements
    pins = {r.name: (r.version, r.line) for r in found if isinstance(r, Pinned)}
    assert pins == {
        "flask": ("2.0.1", 7),
        "django": ("3.2.1", 8),
        "ruamel-yaml": ("0.17.21", 11),
        "pandas": ("1.5.3", 14),
        "pytest": ("8.0.0", 20),
    }
    unpinned = {r.name: (r.specifier, r.line) for r in found if isinstance(r, Unpinned)}
    assert unpinned == {
        "requests": ("^2.25", 6),
        "jinja2": ("~2.10", 9),
        "numpy": ("1.2.*", 10),
        "pandas": (">=2", 14),
        "black": ("*", 23),
    }
    unauditable = {r.name: r.reason for r in found if isinstance(r, Unauditable)}
    assert set(unauditable) == {"lib", "local"}
    assert "VCS" in unauditable["lib"] and "local path" in unauditable["local"]
    assert "python" not in {r.name for r in found}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[project\nname = 1\n", "invalid TOML"),
        ('[project]\ndependencies = "requests"\n', "project.dependencies"),
        ("[tool.poetry.dependencies]\nx = 1\n", "unknown form"),
        ('project = "x"\n', "project is not a table"),
    ],
)
def test_pyproject_bad_input_names_the_file(text, words):
    with pytest.raises(SourceError) as caught:
        parse_pyproject(text, "svc/pyproject.toml")
    assert caught.value.file == "svc/pyproject.toml"
    assert words in str(caught.value)


# --- lock files --------------------------------------------------------------------------


UV_LOCK = dedent(
    """\
    version = 1
    requires-python = ">=3.10"

    [manifest]
    members = ["app", "shared-lib"]

    [[package]]
    name = "app"
    version = "0.1.0"
    source = { editable = "." }
    dependencies = [{ name = "requests" }]

    [package.metadata]
    requires-dist = [{ name = "requests", specifier = ">=2" }]

    [[package]]
    name = "numpy"
    version = "1.24.4"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "numpy"
    version = "2.1.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "requests"
    version = "2.25.1"
    source = { registry = "https://pypi.org/simple" }
    sdist = { url = "https://files.example/requests-2.25.1.tar.gz", hash = "sha256:00" }
    wheels = [
        { url = "https://files.example/requests-2.25.1-py3-none-any.whl", hash = "sha256:11" },
    ]

    [[package]]
    name = "shared-lib"
    version = "0.2.0"
    source = { editable = "libs/shared" }

    [[package]]
    name = "tool"
    version = "0.0.0"
    source = { virtual = "tools/tool" }

    [[package]]
    name = "gitdep"
    version = "1.0.0"
    source = { git = "https://github.com/x/gitdep?rev=v1#abc123" }

    [[package]]
    name = "urldep"
    version = "1.0.0"
    source = { url = "https://example.com/urldep-1.0.0.tar.gz" }

    [[package]]
    name = "pathdep"
    version = "1.0.0"
    source = { path = "vendor/pathdep-1.0.0.tar.gz" }
    """
)


def test_uv_lock():
    found = parse_uv_lock(UV_LOCK, "uv.lock").requirements
    pins = [(r.name, r.version, r.line) for r in found if isinstance(r, Pinned)]
    assert pins == [
        ("numpy", "1.24.4", 17),
        ("numpy", "2.1.0", 22),
        ("requests", "2.25.1", 27),
    ]
    unauditable = {r.name: r.reason for r in found if isinstance(r, Unauditable)}
    assert set(unauditable) == {"gitdep", "urldep", "pathdep"}
    assert "VCS" in unauditable["gitdep"]
    assert "URL" in unauditable["urldep"]
    assert "local path" in unauditable["pathdep"]
    # the project, a workspace member and a virtual package are not dependencies
    assert not {"app", "shared-lib", "tool"} & {r.name for r in found}


POETRY_LOCK = dedent(
    """\
    # This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

    [[package]]
    name = "django"
    version = "3.2.1"
    description = "A high-level Python Web framework."
    optional = false
    python-versions = ">=3.6"
    files = [
        {file = "Django-3.2.1-py3-none-any.whl", hash = "sha256:00"},
    ]

    [package.dependencies]
    asgiref = ">=3.3.2,<4"

    [package.extras]
    argon2 = ["argon2-cffi (>=19.1.0)"]

    [[package]]
    name = "private"
    version = "1.0.0"
    description = ""
    optional = false
    python-versions = "*"
    files = []

    [package.source]
    type = "legacy"
    url = "https://pypi.example.com/simple"
    reference = "internal"

    [[package]]
    name = "gitlib"
    version = "0.1.0"
    description = ""
    optional = false
    python-versions = "*"
    files = []
    develop = false

    [package.source]
    type = "git"
    url = "https://github.com/x/gitlib.git"
    reference = "HEAD"
    resolved_reference = "abc"

    [metadata]
    lock-version = "2.0"
    python-versions = "^3.11"
    content-hash = "00"
    """
)


def test_poetry_lock():
    found = parse_poetry_lock(POETRY_LOCK, "svc/poetry.lock").requirements
    assert found[:2] == (
        Pinned("django", "3.2.1", "svc/poetry.lock", 4),
        Pinned("private", "1.0.0", "svc/poetry.lock", 20),
    )
    assert isinstance(found[2], Unauditable) and found[2].line == 33
    assert "VCS" in found[2].reason


def test_pipfile_lock():
    doc = {
        "_meta": {"hash": {"sha256": "00"}, "sources": [{"name": "pypi", "url": "x"}]},
        "default": {
            "requests": {"hashes": ["sha256:00"], "index": "pypi", "version": "==2.25.1"},
            "mylib": {"git": "https://github.com/x/mylib.git", "ref": "abc"},
            "local": {"editable": True, "path": "."},
        },
        "develop": {
            "pytest": {"hashes": [], "version": "==8.0.0", "markers": "python_version >= '3.8'"},
            "requests": {"version": "==2.25.1"},
        },
    }
    text = json.dumps(doc, indent=4, sort_keys=True)
    found = parse_pipfile_lock(text, "Pipfile.lock").requirements
    lines = text.splitlines()
    pins = [r for r in found if isinstance(r, Pinned)]
    assert [(p.name, p.version) for p in pins] == [
        ("requests", "2.25.1"),
        ("pytest", "8.0.0"),
        ("requests", "2.25.1"),
    ]
    for pin in pins:
        assert f'"{pin.name}": {{' in lines[pin.line - 1]
    assert pins[0].line < pins[2].line  # default's entry, then develop's
    unauditable = {r.name: r.reason for r in found if isinstance(r, Unauditable)}
    assert "VCS" in unauditable["mylib"] and "local path" in unauditable["local"]


def test_pipfile_lock_bad_json():
    with pytest.raises(SourceError, match="invalid JSON"):
        parse_pipfile_lock("{", "Pipfile.lock")


PYLOCK = dedent(
    """\
    lock-version = "1.0"
    created-by = "uv"
    requires-python = ">=3.11"

    [[packages]]
    name = "attrs"
    version = "25.1.0"
    index = "https://pypi.org/simple"

    [[packages.wheels]]
    name = "attrs-25.1.0-py3-none-any.whl"
    url = "https://files.example/attrs-25.1.0-py3-none-any.whl"
    hashes = {sha256 = "00"}

    [[packages]]
    name = "requests"
    version = "2.25.1"
    wheels = [{ name = "requests-2.25.1-py3-none-any.whl", hashes = {sha256 = "00"} }]

    [[packages]]
    name = "app"
    directory = { path = ".", editable = true }

    [[packages]]
    name = "tool"
    [packages.vcs]
    type = "git"
    url = "https://github.com/x/tool.git"
    commit-id = "abc"

    [[packages]]
    name = "sibling"
    [packages.directory]
    path = "../sibling"

    [[packages]]
    name = "blob"
    version = "1.0"
    archive = { url = "https://example.com/blob-1.0.tar.gz", hashes = {sha256 = "00"} }

    [[packages]]
    name = "versionless"
    """
)


def test_pylock():
    found = parse_pylock(PYLOCK, "pylock.toml").requirements
    assert found[:2] == (
        Pinned("attrs", "25.1.0", "pylock.toml", 6),
        Pinned("requests", "2.25.1", "pylock.toml", 16),
    )
    unauditable = {r.name: (r.reason, r.line) for r in found if isinstance(r, Unauditable)}
    assert set(unauditable) == {"tool", "sibling", "blob", "versionless"}
    assert "VCS" in unauditable["tool"][0] and unauditable["tool"][1] == 25
    assert "local path" in unauditable["sibling"][0]
    assert "archive" in unauditable["blob"][0]
    assert "no version" in unauditable["versionless"][0]
    assert "app" not in {r.name for r in found}


def test_pylock_unsupported_version():
    with pytest.raises(SourceError, match=r"lock-version 2\.0"):
        parse_pylock('lock-version = "2.0"\n', "pylock.toml")


@pytest.mark.parametrize("parse", [parse_uv_lock, parse_poetry_lock, parse_pylock])
def test_locks_with_a_bad_shape_raise(parse):
    key = "packages" if parse is parse_pylock else "package"
    with pytest.raises(SourceError, match="not a list of tables"):
        parse(f'{key} = ["x"]\n', "lock")
    with pytest.raises(SourceError, match="invalid TOML"):
        parse("[[package]\n", "lock")


def test_package_table_lines_skip_sub_tables():
    text = '[[packages]]\nname = "a"\n[[packages.wheels]]\nname = "a.whl"\n'
    text += '[[packages]]\nname = "b"\n'
    assert package_table_lines(text, "packages") == [("a", 2), ("b", 6)]


def test_lines_are_none_when_the_scan_disagrees():
    # A package table written as an inline array cannot be found by the line scan.
    text = 'package = [{ name = "six", version = "1.16.0" }]\n'
    (pin,) = parse_poetry_lock(text, "poetry.lock").requirements
    assert pin == Pinned("six", "1.16.0", "poetry.lock", None)


# --- dispatch, the lock rule, de-duplication ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("requirements.txt", FileKind.REQUIREMENTS),
        ("svc/requirements-dev.txt", FileKind.REQUIREMENTS),
        ("svc/requirements/prod.txt", FileKind.REQUIREMENTS),
        ("pyproject.toml", FileKind.PYPROJECT),
        ("a/uv.lock", FileKind.UV_LOCK),
        ("poetry.lock", FileKind.POETRY_LOCK),
        ("Pipfile.lock", FileKind.PIPFILE_LOCK),
        ("pylock.toml", FileKind.PYLOCK),
        ("pylock.dev.toml", FileKind.PYLOCK),
        ("notes.txt", None),
        ("setup.py", None),
    ],
)
def test_file_kind(path, kind):
    assert file_kind(path) is kind


def test_parse_dependency_file_dispatches_and_rejects_unknown():
    parsed = parse_dependency_file("svc/uv.lock", UV_LOCK, no_files)
    assert parsed.requirements[0].file == "svc/uv.lock"
    with pytest.raises(SourceError, match="not a dependency file"):
        parse_dependency_file("setup.cfg", "", no_files)


def test_lock_is_authoritative_for_its_folder_only():
    paths = ["a/pyproject.toml", "a/uv.lock", "b/pyproject.toml", "pyproject.toml", "c/x.txt"]
    locked = locked_folders([*paths, "poetry.lock"])
    assert locked == frozenset({"a", ""})
    assert superseded_by_lock("a/pyproject.toml", locked)
    assert superseded_by_lock("pyproject.toml", locked)
    assert not superseded_by_lock("b/pyproject.toml", locked)
    assert not superseded_by_lock("a/requirements.txt", locked)


def test_dedupe_same_file_name_version_and_constrained_twins():
    constrained = Pinned("flask", "2.0.1", "c.txt", 1, constrained_from="base.txt")
    requirements = [
        Pinned("six", "1.16.0", "r.txt", 1),
        Pinned("six", "1.16.0", "r.txt", 1),
        Pinned("six", "1.16.0", "other.txt", 3),
        Unpinned("flask", "", "any", "base.txt", 2),
        constrained,
        Unpinned("click", "", "any", "base.txt", 3),
        Unpinned("click", ">=8", "range", "base.txt", 4),
    ]
    assert dedupe(requirements) == (
        Pinned("six", "1.16.0", "r.txt", 1),
        Pinned("six", "1.16.0", "other.txt", 3),
        constrained,
        Unpinned("click", "", "any", "base.txt", 3),
    )
