from __future__ import annotations

import os
from pathlib import Path

from compliance.inventory import MAX_FILE_BYTES, build_inventory


def write(root: Path, rel: str, content: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def test_classifies_each_kind_of_input(tmp_path: Path) -> None:
    write(tmp_path, "svc/app.py", "print(1)\n")
    write(tmp_path, "svc/Dockerfile", "FROM python:3.11\n")
    write(tmp_path, "svc/Dockerfile.dev", "FROM python:3.11\n")
    write(tmp_path, "svc/requirements.txt", "requests==2.31.0\n")
    write(tmp_path, "svc/requirements/dev.txt", "pytest==8.0.0\n")
    write(tmp_path, "svc/uv.lock", "version = 1\n")
    write(tmp_path, "svc/k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n")
    write(tmp_path, "infra/main.tf", 'resource "aws_s3_bucket" "b" {}\n')
    write(tmp_path, "infra/stack.yaml", "AWSTemplateFormatVersion: '2010-09-09'\n")
    write(tmp_path, ".github/workflows/ci.yml", "on: push\n")
    write(tmp_path, "docs/notes.yaml", "title: not infrastructure\n")
    write(tmp_path, "charts/api/Chart.yaml", "apiVersion: v2\nname: api\n")
    write(tmp_path, "charts/api/templates/d.yaml", "apiVersion: apps/v1\nkind: Deployment\n")
    inv = build_inventory(tmp_path)
    assert inv.python_files == ("svc/app.py",)
    assert inv.dockerfiles == ("svc/Dockerfile", "svc/Dockerfile.dev")
    assert inv.dependency_files == (
        "svc/requirements.txt",
        "svc/requirements/dev.txt",
        "svc/uv.lock",
    )
    assert inv.kubernetes_files == ("svc/k8s/deploy.yaml",)  # chart templates are helm's
    assert inv.terraform_files == ("infra/main.tf",)
    assert inv.terraform_dirs == ("infra",)
    assert inv.cloudformation_files == ("infra/stack.yaml",)
    assert inv.github_workflows == (".github/workflows/ci.yml",)
    assert inv.helm_charts == ("charts/api",)
    assert inv.skipped == ()


def test_ignores_vendored_and_excluded_folders(tmp_path: Path) -> None:
    write(tmp_path, ".venv/lib/x.py", "x = 1\n")
    write(tmp_path, "node_modules/a/b.py", "x = 1\n")
    write(tmp_path, "gen/out.py", "x = 1\n")
    write(tmp_path, "src/keep.py", "x = 1\n")
    inv = build_inventory(tmp_path, exclude=["gen"])
    assert inv.python_files == ("src/keep.py",)


def test_odd_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    write(tmp_path, "bin.py", b"\x00\x01\x02binary")
    write(tmp_path, "latin1.py", "name = 'caf\xe9'\n".encode("latin-1"))
    write(tmp_path, "declared.py", b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n")
    write(tmp_path, "huge.py", b"x = 1\n" * (MAX_FILE_BYTES // 6 + 10))
    write(tmp_path, "ok.py", "x = 1\n")
    inv = build_inventory(tmp_path)
    reasons = {s.path: s.reason for s in inv.skipped}
    assert reasons["bin.py"] == "binary file"
    assert "not UTF-8" in reasons["latin1.py"]
    assert "larger than" in reasons["huge.py"]
    assert inv.python_files == ("declared.py", "ok.py")


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.py", "x = 1\n")
    repo = tmp_path / "repo"
    write(repo, "a/real.py", "x = 1\n")
    os.symlink(repo / "a", repo / "a" / "loop")
    os.symlink(outside, repo / "escape")
    os.symlink(outside / "secret.py", repo / "a" / "link.py")
    inv = build_inventory(repo)
    assert inv.python_files == ("a/real.py",)
    reasons = {s.path: s.reason for s in inv.skipped}
    assert "not followed" in reasons["a/loop"]
    assert "not followed" in reasons["escape"]
    assert "not followed" in reasons["a/link.py"]


def test_empty_repository(tmp_path: Path) -> None:
    inv = build_inventory(tmp_path)
    assert inv.all_files == ()
    assert inv.skipped == ()


def test_restricted_to_keeps_terraform_folders_whole(tmp_path: Path) -> None:
    write(tmp_path, "infra/main.tf", "")
    write(tmp_path, "infra/vars.tf", "")
    write(tmp_path, "a.py", "")
    write(tmp_path, "b.py", "")
    inv = build_inventory(tmp_path).restricted_to(["infra/vars.tf", "a.py"])
    assert inv.python_files == ("a.py",)
    assert inv.terraform_files == ("infra/main.tf", "infra/vars.tf")
