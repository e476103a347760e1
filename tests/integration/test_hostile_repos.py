"""Hostile repositories through `compliance scan` and the real scanners.

Links out of the repository are never followed or read; odd names (newlines, quotes, ANSI
escapes, shell metacharacters, bytes that are not UTF-8) never run anything or crash a
report; oversized and alias-bomb files are skipped without being read or expanded; text
from the scanned code is escaped in every output format; a repository's config cannot make
the scan write outside it. docs/hardening.md lists each case with its test.
"""

from __future__ import annotations

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner

from compliance.cli import cli

pytestmark = pytest.mark.integration

ADVISORY_DB = Path(__file__).parents[1] / "assets" / "advisory-db-mini"
OUTSIDE_MARKER = "OUTSIDE-THE-REPOSITORY-7f3a"
FLAGGED = (
    'x = eval("\x1b[2J\x1b]0;title\x07<script>alert(1)</script> [c](javascript:alert(1)) | a |")'
)
HEADING = "## ✅ Compliance gate passed"
#: File names a shell would act on, and names that would be markup in a report.
ODD_NAMES = (
    "new\nline.py",
    f"x\n{HEADING}\n| a | b |.py",
    "q\"uo'te.py",
    "\x1b[31mred\x1b[0m.py",
    "$(touch pwned).py",
    ";touch pwned2;.py",
    "`touch pwned3`.py",
    "<img src=x onerror=alert(1)>.py",
    "[x](javascript:alert(1)).py",
    "\u202eyp.evil.py",
)
PWNED = ("pwned", "pwned2", "pwned3", "PWNED_TAG")
FILE_OUTPUTS = {
    "json": "result.json",
    "sarif": "result.sarif",
    "junit": "junit.xml",
    "markdown": "report.md",
    "html": "report.html",
    "gitlab-sast": "gl-sast.json",
}
DEEP = 200
#: A Markdown code span: a run of backticks, and the next run of the same length.
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")


def billion_laughs(indent: str = "") -> str:
    lines = [f"{indent}l0: &l0 [{', '.join(['lol'] * 10)}]"]
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


class Scan(NamedTuple):
    code: int
    stdout: str
    stderr: str
    seconds: float


def scan(root: Path, *args: str) -> Scan:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["scan", str(root), "-q", *args])
    seconds = time.perf_counter() - started
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return Scan(result.exit_code, result.stdout, result.stderr, seconds)


def assert_nothing_ran(*folders: Path) -> None:
    for folder in folders:
        for name in PWNED:
            assert not (folder / name).exists(), f"{folder / name}: a name or tag was executed"


# --- one repository with every hostile file, scanned once into every format ----------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Scan]:
    base = tmp_path_factory.mktemp("hostile")
    root, outside, reports = base / "repo", base / "outside", base / "reports"
    reports.mkdir()
    write(outside, "secret.py", f'token = eval("{OUTSIDE_MARKER}")\n')
    write(
        outside,
        "deploy.yaml",
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: {OUTSIDE_MARKER}}}\n",
    )

    write(root, "svc/requirements.txt", "requests==2.31.0\n")
    write(root, "svc/app.py", f"import subprocess\n\n{FLAGGED}\nsubprocess.call(x, shell=True)\n")
    for name in ODD_NAMES:
        write(root, f"svc/odd/{name}", "y = eval(input())\n")
    # Names and contents that are not UTF-8.
    svc = os.fsencode(root / "svc")
    with open(os.path.join(svc, b"caf\xe9-\xff.py"), "wb") as handle:
        handle.write(b"y = eval(input())\n")
    os.mkdir(os.path.join(svc, b"dir-\xfe"))
    write(root, "svc/latin1.py", "name = 'caf\xe9'\n".encode("latin-1"))
    write(root, "svc/declared.py", b"# -*- coding: latin-1 -*-\nname = eval('caf\xe9')\n")
    # Links out of the repository, and loops.
    (root / "svc/passwd.py").symlink_to("/etc/passwd")
    (root / "svc/secret.py").symlink_to(outside / "secret.py")
    (root / "svc/outside").symlink_to(outside, target_is_directory=True)
    (root / "svc/loop").symlink_to(".", target_is_directory=True)
    (root / "svc/ping.py").symlink_to("pong.py")
    (root / "svc/pong.py").symlink_to("ping.py")
    os.mkfifo(root / "svc/fifo.py")  # reading it would block forever
    # Sizes: sparse, so creating them costs nothing and reading them would show.
    for rel in ("svc/huge.py", "data/huge.bin"):
        write(root, rel, b"")
        os.truncate(root / rel, 200 * 1024 * 1024)
    write(root, "svc/k8s/huge.yaml", b"# x\n" * (20 * 1024 * 1024 // 4))
    # YAML that must never reach a parser unchecked (checkov took 15 GB on the first).
    k8s = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: svc\ndata:\n"
    write(root, "svc/k8s/bomb.yaml", k8s + billion_laughs("  "))
    write(
        root, "svc/k8s/tag.yaml", k8s + '  x: !!python/object/apply:os.system ["touch PWNED_TAG"]\n'
    )
    # 200 folders deep.
    write(root, "/".join(["svc/deep"] + ["d"] * DEEP + ["bottom.py"]), "z = eval(input())\n")

    args = [f"-o{fmt}={reports / name}" for fmt, name in FILE_OUTPUTS.items()]
    result = scan(root, "--format", "terminal", "--advisory-db", str(ADVISORY_DB), *args)
    return root, reports, result


@pytest.fixture(scope="module")
def result(hostile: tuple[Path, Path, Scan]) -> dict[str, Any]:
    _, reports, _ = hostile
    data: dict[str, Any] = json.loads((reports / FILE_OUTPUTS["json"]).read_text("utf-8"))
    return data


def test_the_scan_completes_with_every_scanner(
    hostile: tuple[Path, Path, Scan], result: dict[str, Any]
) -> None:
    root, _, outcome = hostile
    assert outcome.code == 1, outcome.stderr  # B602 (shell=True) is high
    statuses = {s["name"]: s["status"] for s in result["scanners"]}
    assert statuses["bandit"] == statuses["semgrep"] == statuses["pip-audit"] == "ok", statuses
    assert_nothing_ran(root, root / "svc", root / "svc/odd", Path.cwd())


def test_links_loops_fifos_and_odd_bytes_are_skipped_with_a_reason(
    result: dict[str, Any],
) -> None:
    skipped = {s["path"]: s["reason"] for s in result["skipped"] if s["tool"] is None}
    assert skipped["svc/passwd.py"] == "symbolic link: not followed"
    assert skipped["svc/secret.py"] == "symbolic link: not followed"
    assert skipped["svc/outside"] == "symbolic link to a folder: not followed"
    assert skipped["svc/loop"] == "symbolic link to a folder: not followed"
    assert skipped["svc/ping.py"] == skipped["svc/pong.py"] == "symbolic link: not followed"
    assert skipped["svc/fifo.py"] == "not a regular file"
    assert skipped["svc/caf\\xe9-\\xff.py"] == "file name is not UTF-8: not scanned"
    assert skipped["svc/dir-\\xfe"] == "folder name is not UTF-8: not scanned"
    assert skipped["svc/latin1.py"] == "not UTF-8 and no PEP 263 coding declaration"
    for big in ("svc/huge.py", "data/huge.bin", "svc/k8s/huge.yaml"):
        assert skipped[big] == "larger than 2 MiB"
    assert skipped["svc/k8s/bomb.yaml"].startswith("YAML refused: aliases expand")


def test_nothing_outside_the_repository_is_read(hostile: tuple[Path, Path, Scan]) -> None:
    _, reports, outcome = hostile
    passwd = Path("/etc/passwd").read_text("utf-8", errors="replace").splitlines()[0]
    texts = [outcome.stdout, outcome.stderr]
    texts += [(reports / name).read_text("utf-8") for name in FILE_OUTPUTS.values()]
    for text in texts:
        assert OUTSIDE_MARKER not in text
        assert passwd not in text
        assert "/etc/passwd" not in text


def test_deep_and_odd_names_are_scanned_and_reported(result: dict[str, Any]) -> None:
    paths = {f["path"] for f in result["findings"] if f["rule_id"] == "B307"}
    assert "/".join(["svc/deep"] + ["d"] * DEEP + ["bottom.py"]) in paths
    assert {f"svc/odd/{name}" for name in ODD_NAMES} <= paths
    assert "svc/declared.py" in paths  # a declared coding is fine
    [flagged] = [
        f for f in result["findings"] if f["path"] == "svc/app.py" and f["rule_id"] == "B307"
    ]
    assert flagged["snippet"] == FLAGGED  # JSON keeps the code as data, escapes and all


def test_terminal_output_holds_no_control_characters(hostile: tuple[Path, Path, Scan]) -> None:
    _, _, outcome = hostile
    for text in (outcome.stdout, outcome.stderr):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[31mred\\x1b[0m.py" in outcome.stdout  # shown, not obeyed
    # A name with a newline cannot write a line of its own (a fake verdict).
    assert not any(line.lstrip().startswith(HEADING) for line in outcome.stdout.splitlines())
    assert f"x\\x0a{HEADING}\\x0a" in outcome.stdout


def test_markdown_cannot_start_a_line_link_or_tag(hostile: tuple[Path, Path, Scan]) -> None:
    _, reports, _ = hostile
    text = (reports / FILE_OUTPUTS["markdown"]).read_text("utf-8")
    lines = text.splitlines()
    assert lines[0] == "## ❌ Compliance gate failed"
    assert not any(line.lstrip().startswith(HEADING) for line in lines)
    # Outside code spans (where GitHub shows everything as it is), no link and no tag.
    prose = "\n".join(CODE_SPAN.sub("", line) for line in lines)
    assert "](javascript:" not in prose
    for tag in ("<script", "<img"):
        assert tag not in prose
    assert "\x1b" not in text and "\x07" not in text
    # Every table row of findings keeps its four cells: no pipe from a name splits one.
    header = "| Severity | Location | Tool / rule | Message |"
    rows = lines[lines.index(header) + 2 :]
    for row in rows[: rows.index("")]:
        assert row.replace("\\|", "").count("|") == 5, row


def test_html_escapes_everything(hostile: tuple[Path, Path, Scan]) -> None:
    _, reports, _ = hostile
    text = (reports / FILE_OUTPUTS["html"]).read_text("utf-8")
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text
    assert 'href="javascript:' not in text.lower()
    assert "\x1b" not in text and "\x07" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_machine_formats_carry_the_text_as_data(hostile: tuple[Path, Path, Scan]) -> None:
    _, reports, _ = hostile
    for fmt in ("json", "sarif", "gitlab-sast"):
        raw = (reports / FILE_OUTPUTS[fmt]).read_text("utf-8")
        assert "\x1b" not in raw  # JSON writes control characters as \u001b
        json.loads(raw)
    sarif = json.loads((reports / FILE_OUTPUTS["sarif"]).read_text("utf-8"))
    assert "<script>alert(1)</script>" in json.dumps(sarif, ensure_ascii=False)
    junit = (reports / FILE_OUTPUTS["junit"]).read_text("utf-8")
    assert "\x1b" not in junit
    ET.fromstring(junit.encode("utf-8"))  # well-formed XML


# --- our own files in a hostile repository: exit 3, naming the file and the line -------------


@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "svc/app.py", "import os\n")
    return root


@pytest.mark.parametrize(
    ("rel", "text", "message"),
    [
        ("compliance.yaml", "version: 1\n" + billion_laughs(), "aliases expand"),
        ("compliance.yaml", "version: !!python/object/apply:os.system ['touch pwned']\n", "tag"),
        ("compliance.yaml", "version: 1\n# " + "x" * (20 * 1024 * 1024) + "\n", "8 MiB limit"),
        ("policies/gate.yaml", "fail_on: high\n" + billion_laughs(), "aliases expand"),
        ("policies/gate.yaml", "fail_on: !!python/object/apply:os.system ['touch pwned']\n", "tag"),
        ("threatmodels/svc.yaml", "service: svc\n" + billion_laughs(), "aliases expand"),
        (
            "threatmodels/svc.yaml",
            "service: !!python/object/apply:os.system ['touch pwned']\n",
            "tag",
        ),
    ],
    ids=[
        "config-billion-laughs",
        "config-python-tag",
        "config-20MB",
        "gate-billion-laughs",
        "gate-python-tag",
        "threatmodel-billion-laughs",
        "threatmodel-python-tag",
    ],
)
def test_hostile_policy_files_are_config_errors(
    small_repo: Path, rel: str, text: str, message: str
) -> None:
    write(small_repo, rel, text)
    outcome = scan(small_repo, "--format", "json", "--scanner", "threatmodel")
    assert outcome.code == 3, outcome.stderr
    assert f"{rel}: " in outcome.stderr and message in outcome.stderr
    if message != "8 MiB limit":
        assert f"{rel}: line " in outcome.stderr
    assert_nothing_ran(small_repo, Path.cwd())


@pytest.mark.parametrize("folder", ["../../etc", "/tmp/compliance-cache", "a/../../x"])
def test_the_repository_config_cannot_put_the_cache_outside(small_repo: Path, folder: str) -> None:
    write(small_repo, "compliance.yaml", f"version: 1\nscan:\n  cache:\n    dir: '{folder}'\n")
    outcome = scan(small_repo, "--format", "json", "--scanner", "bandit")
    assert outcome.code == 3, outcome.stderr
    assert "compliance.yaml: scan.cache.dir: must be a folder inside the repository" in (
        outcome.stderr
    )


def test_a_symlink_cannot_lead_the_cache_outside(small_repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (small_repo / ".compliance").symlink_to(elsewhere, target_is_directory=True)
    env = {"COMPLIANCE_NO_CACHE": None}  # the cache on: it would write there
    result = CliRunner().invoke(
        cli, ["scan", str(small_repo), "-q", "--format", "json", "--scanner", "bandit"], env=env
    )
    assert result.exit_code == 3, result.stderr
    assert "scan.cache.dir" in result.stderr
    assert list(elsewhere.iterdir()) == []
    # The command line may put it anywhere.
    cache = tmp_path / "ci-cache"
    args = ["--cache-dir", str(cache)]
    result = CliRunner().invoke(
        cli,
        ["scan", str(small_repo), "-q", "--format", "json", "--scanner", "bandit", *args],
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    assert (cache / "CACHEDIR.TAG").is_file()
    assert list(elsewhere.iterdir()) == []


# --- size: 20,000 empty files ------------------------------------------------------------


def test_twenty_thousand_empty_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "many"
    for folder in range(100):
        (root / "svc" / f"pkg{folder}").mkdir(parents=True)
        for index in range(200):
            (root / "svc" / f"pkg{folder}" / f"m{index}.py").touch()
    write(root, "svc/requirements.txt", "requests==2.31.0\n")
    outcome = scan(root, "--format", "json", "--advisory-db", str(ADVISORY_DB))
    assert outcome.code in (0, 1), outcome.stderr
    data = json.loads(outcome.stdout)
    assert {s["name"]: s["status"] for s in data["scanners"]}["bandit"] == "ok"
    with capsys.disabled():
        print(f"\n20,000 empty files: scanned in {outcome.seconds:.1f} s")


def test_a_hostile_catalog_info_name_is_skipped_not_a_service(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "svc").mkdir(parents=True)
    (repo / "svc" / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: ../../victim/evil\nspec:\n  owner: team\n"
    )
    (repo / "svc" / "app.py").write_text("x = 1\n")
    result = CliRunner().invoke(cli, ["services", str(repo), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "../../victim/evil" not in result.stdout
    init = CliRunner().invoke(cli, ["threatmodel", "init", str(repo)])
    assert init.exit_code != 5, init.output
    assert not (tmp_path / "victim").exists()


# --- a Python file over semgrep's own size limit -----------------------------------------


def test_a_python_file_over_one_megabyte_is_still_scanned_by_semgrep(tmp_path: Path) -> None:
    # semgrep-core's CLI drops a file over its default --max-target-bytes (1 MB) silently,
    # even when it is named on the command line; the inventory's limit (2 MiB) is ours.
    finding = 'import os\npassword = os.environ.get("DB_PASSWORD", "hunter2")\n'
    padding = ("# " + "x" * 98 + "\n") * 11_000
    write(tmp_path, "svc/big.py", finding + padding)
    write(tmp_path, "svc/small.py", finding)
    assert (tmp_path / "svc/big.py").stat().st_size > 1_000_000
    outcome = scan(tmp_path, "--scanner", "semgrep", "--format", "json")
    assert outcome.code in (0, 1), outcome.stderr
    data = json.loads(outcome.stdout)
    hits = {f["path"] for f in data["findings"] if f["rule_id"] == "hardcoded-credential-default"}
    assert hits == {"svc/big.py", "svc/small.py"}
    assert data["skipped"] == []
