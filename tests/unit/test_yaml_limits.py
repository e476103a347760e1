"""YAML limits (compliance.yamlsafe) and every loader that reads YAML through it.

A billion laughs, a recursive alias, a deep nest, an oversized document and object tags are
refused with our errors (ConfigError naming the file and line, a skipped file, a scanner's
AdvisoryError), never a traceback, and nothing from a tag is ever called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance import yamlsafe
from compliance.config import RepoConfig, load_config, repo_cache_dir
from compliance.errors import ConfigError, Problem
from compliance.inventory import MAX_FILE_BYTES, build_inventory
from compliance.policy.catalogue import load_catalogue
from compliance.policy.gate import load_gate
from compliance.residency.documents import line_of, load_documents
from compliance.scanners.checkov.scanner import _yaml_list
from compliance.scanners.checkov.table import load_check_table
from compliance.scanners.pip_audit.advisory import AdvisoryError
from compliance.scanners.pip_audit.osv_local import load_record
from compliance.threatmodel.detect import kubernetes as tm_kubernetes
from compliance.threatmodel.modelfile import parse_model
from compliance.threatmodel.store import load_threat_library


def billion_laughs(levels: int = 9, width: int = 10, prefix: str = "") -> str:
    """10**9 values from a dozen lines: each anchor reuses the previous one ten times."""
    lines = [f"{prefix}l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"{prefix}l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def doubling(levels: int = 40) -> str:
    """2**40 values from two references per line."""
    lines = ["d0: &d0 [x, x]"] + [f"d{i}: &d{i} [*d{i - 1}, *d{i - 1}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


OBJECT_TAGS = (
    '!!python/object/apply:os.system ["touch pwned"]',
    '!!python/object/new:os.system ["touch pwned"]',
    "!!python/name:os.system",
    "!!python/module:os",
    '!!python/object:os.PathLike {"x": 1}',
)


@pytest.fixture
def no_system(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record any call of os.system (a tag that ran would call it)."""
    calls: list[Any] = []

    def system(*args: Any) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(os, "system", system)
    return calls


# --- yamlsafe itself -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [billion_laughs(), doubling()], ids=["tenfold", "doubling"])
def test_alias_bombs_are_refused_with_a_line(text: str) -> None:
    with pytest.raises(yamlsafe.LimitError) as caught:
        yamlsafe.safe_load(text)
    assert "aliases expand to more than" in str(caught.value.problem)
    assert caught.value.problem_mark is not None
    with pytest.raises(yamlsafe.LimitError):
        list(yamlsafe.safe_load_all("ok: 1\n---\n" + text))


def test_alias_references_are_counted() -> None:
    refs = yamlsafe.MAX_ALIASES
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * refs) + "]\n"
    assert len(yamlsafe.safe_load(text)["b"]) == refs
    with pytest.raises(yamlsafe.LimitError, match="alias references"):
        yamlsafe.safe_load(text.replace("]", ", *a]"))


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(yamlsafe.LimitError, match="its own anchor"):
        yamlsafe.safe_load("a: &a [1, *a]\n")


@pytest.mark.parametrize("aliases", [False, True])
def test_deep_nesting_is_refused(aliases: bool) -> None:
    depth = yamlsafe.MAX_DEPTH + 1
    text = "{a: " * depth + "1" + "}" * depth
    if aliases:
        text = "x: &x 1\ny: " + text
    with pytest.raises(yamlsafe.LimitError, match="nested too deeply"):
        yamlsafe.safe_load(text)
    ok = yamlsafe.MAX_DEPTH - 2
    assert yamlsafe.safe_load("{a: " * ok + "1" + "}" * ok) is not None


def test_a_document_over_the_size_limit_is_refused_before_parsing() -> None:
    text = "k: " + "x" * (20 * 1024 * 1024) + "\n"  # 20 MB
    with pytest.raises(yamlsafe.LimitError, match="larger than the 8 MiB limit"):
        yamlsafe.safe_load(text)
    with pytest.raises(yamlsafe.LimitError, match="larger than"):
        list(yamlsafe.safe_load_all(text.encode()))


@pytest.mark.parametrize("tag", OBJECT_TAGS)
def test_object_tags_are_errors_never_called(tag: str, no_system: list[Any]) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        yamlsafe.safe_load(f"x: {tag}\n")
    assert no_system == []


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    text = "base: &b {image: x, port: 80}\nweb: {<<: *b, port: 8080}\nlist: [*b, *b]\n"
    data = yamlsafe.safe_load(text)
    assert data["web"] == {"image": "x", "port": 8080}
    assert data["list"] == [data["base"], data["base"]]
    assert list(yamlsafe.safe_load_all("a: 1\n---\nb: 2\n")) == [{"a": 1}, {"b": 2}]
    assert yamlsafe.safe_load("") is None


def test_check_aliases_refuses_bombs_and_leaves_other_errors_to_the_tools() -> None:
    with pytest.raises(yamlsafe.LimitError):
        yamlsafe.check_aliases(("kind: x\n---\n" + billion_laughs()).encode())
    yamlsafe.check_aliases(b"a: [unclosed\n&x")  # a syntax error: not ours to report
    yamlsafe.check_aliases(b"plain: text\n")


# --- our own files: ConfigError naming the file and the line --------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\n" + billion_laughs(prefix="x_"), "aliases expand"),
        ("version: 1\nscan: !!python/object/apply:os.system ['touch pwned']\n", "constructor"),
        ("version: 1\n# " + "x" * (9 * 1024 * 1024) + "\n", "larger than"),
    ],
    ids=["billion-laughs", "python-tag", "9-MB"],
)
def test_config_refusals_are_config_errors(
    tmp_path: Path, text: str, message: str, no_system: list[Any]
) -> None:
    (tmp_path / "compliance.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    [problem] = caught.value.problems
    assert problem.file == "compliance.yaml"
    assert message in problem.message
    if message != "larger than":
        assert problem.location.startswith("line ")
    assert no_system == []


@pytest.mark.parametrize(
    "text",
    [billion_laughs(), "fail_on: !!python/object/apply:os.system ['touch pwned']\n"],
    ids=["billion-laughs", "python-tag"],
)
def test_gate_refusals_are_config_errors(tmp_path: Path, text: str, no_system: list[Any]) -> None:
    gate = tmp_path / "gate.yaml"
    gate.write_text(text)
    catalogue = load_catalogue(Path(__file__).parents[2] / "controls")
    with pytest.raises(ConfigError) as caught:
        load_gate(gate, "policies/gate.yaml", catalogue)
    [problem] = caught.value.problems
    assert problem.file == "policies/gate.yaml"
    assert problem.location.startswith("line ")
    assert no_system == []


@pytest.mark.parametrize(
    "text",
    [
        "service: api\n" + billion_laughs(),
        "service: !!python/object/apply:os.system ['touch pwned']\n",
    ],
    ids=["billion-laughs", "python-tag"],
)
def test_threat_model_refusals_are_config_errors(
    tmp_path: Path, text: str, no_system: list[Any]
) -> None:
    library = load_threat_library(tmp_path, RepoConfig())
    with pytest.raises(ConfigError) as caught:
        parse_model(text, "threatmodels/api.yaml", tmp_path / "api.yaml", library)
    [problem] = caught.value.problems
    assert problem.file == "threatmodels/api.yaml"
    assert problem.location.startswith("line ")
    assert no_system == []


def test_checkov_table_refusal_is_a_config_error(tmp_path: Path) -> None:
    table = tmp_path / "checks.yaml"
    table.write_text(billion_laughs())
    with pytest.raises(ConfigError, match="invalid configuration"):
        load_check_table(table)


# --- scanned files: skipped, with a reason ------------------------------------------------


def test_threat_model_detector_manifests_get_the_limits(no_system: list[Any]) -> None:
    with pytest.raises(yamlsafe.LimitError):
        tm_kubernetes.load_documents("kind: Service\n" + billion_laughs())
    with pytest.raises(yaml.YAMLError):
        tm_kubernetes.load_documents("kind: !!python/object/apply:os.system ['touch pwned']\n")
    [doc] = tm_kubernetes.load_documents("kind: Service\nmetadata:\n  name: api\n")
    assert doc["metadata"] == {"name": "api", tm_kubernetes.LINE: 3}
    assert no_system == []


def test_residency_documents_keep_lines_and_tags_under_the_limits(no_system: list[Any]) -> None:
    [template] = load_documents("Resources:\n  B:\n    Properties: {Name: !Ref Env}\n")
    assert template["Resources"]["B"]["Properties"] == {"Name": {"Ref": "Env"}}
    assert line_of(template["Resources"]["B"]) == 3
    for text in (
        billion_laughs(),
        "a: &a [*a]\n",
        "{a: " * 400 + "1" + "}" * 400,  # was a RecursionError (a traceback)
        "x: !!python/object/apply:os.system ['touch pwned']\n",
    ):
        with pytest.raises(ValueError, match=r"invalid YAML: .*\(line \d+\)"):
            load_documents(text)
    assert no_system == []


def test_advisory_records_get_the_limits(tmp_path: Path) -> None:
    record = tmp_path / "PYSEC-1.yaml"
    record.write_text("id: PYSEC-1\n" + billion_laughs())
    with pytest.raises(AdvisoryError, match="aliases expand"):
        load_record(record, "vulns/x/PYSEC-1.yaml")


def test_helm_and_kustomize_lists_ignore_refused_yaml(tmp_path: Path) -> None:
    chart = tmp_path / "Chart.yaml"
    chart.write_text("dependencies: &d [" + ", ".join(["{repository: x}"] * 3) + "]\n")
    assert len(_yaml_list(chart, "dependencies")) == 3
    chart.write_text("dependencies: []\n" + billion_laughs())
    assert _yaml_list(chart, "dependencies") == []


def test_inventory_never_hands_an_alias_bomb_to_a_scanner(tmp_path: Path) -> None:
    k8s = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
    (tmp_path / "bomb.yaml").write_text(k8s + billion_laughs(prefix="  "))
    (tmp_path / "ok.yaml").write_text(k8s + "  a: &a x\n  b: *a\n")
    (tmp_path / "big.yaml").write_bytes(b"# x\n" * (20 * 1024 * 1024 // 4))  # 20 MB
    inventory = build_inventory(tmp_path)
    skipped = {s.path: s.reason for s in inventory.skipped}
    assert skipped["bomb.yaml"].startswith("YAML refused: aliases expand")
    assert "(line " in skipped["bomb.yaml"]
    assert skipped["big.yaml"] == f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
    assert inventory.kubernetes_files == ("ok.yaml",)
    assert inventory.all_files == ("ok.yaml",)


def test_inventory_skips_any_oversized_file_and_non_utf8_names(tmp_path: Path) -> None:
    with (tmp_path / "dump.bin").open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: never read
    (tmp_path / "ok.py").write_text("x = 1\n")
    base = os.fsencode(tmp_path)
    with open(os.path.join(base, b"caf\xe9.py"), "wb") as handle:
        handle.write(b"x = 1\n")
    os.mkdir(os.path.join(base, b"dir\xff"))
    inventory = build_inventory(tmp_path)
    skipped = {s.path: s.reason for s in inventory.skipped}
    assert skipped == {
        "dump.bin": "larger than 2 MiB",
        "caf\\xe9.py": "file name is not UTF-8: not scanned",
        "dir\\xff": "folder name is not UTF-8: not scanned",
    }
    assert inventory.all_files == ("ok.py",)
    for path in (*skipped, *inventory.all_files):
        path.encode("utf-8")  # every name a report can hold


# --- scan.cache.dir: inside the repository, unless the command line says otherwise --------


@pytest.mark.parametrize("folder", ["../../etc", "/tmp/elsewhere", "a/../../b", "C:\\cache"])
def test_a_cache_dir_outside_the_repository_is_a_config_error(tmp_path: Path, folder: str) -> None:
    (tmp_path / "compliance.yaml").write_text(f"version: 1\nscan:\n  cache:\n    dir: '{folder}'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.location) == ("compliance.yaml", "scan.cache.dir")


def test_a_cache_dir_symlinked_out_of_the_repository_is_a_config_error(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (repo / ".compliance").symlink_to(outside)
    config, path = load_config(repo)
    with pytest.raises(ConfigError) as caught:
        repo_cache_dir(config, repo, path)
    assert caught.value.problems == (
        Problem(
            "(default config)",
            "scan.cache.dir",
            "must be a folder inside the repository (a symbolic link leads out of it)",
        ),
    )
    assert repo_cache_dir(RepoConfig.model_validate({"scan": {"cache": {"dir": "c"}}}), repo, None)
    off = RepoConfig.model_validate({"scan": {"cache": {"enabled": False}}})
    assert repo_cache_dir(off, repo, None) == (outside / "cache").resolve()
