"""Generate a synthetic monorepo for benchmarks (deterministic: same arguments, same bytes).

    python benchmarks/generate_repo.py OUT --python 2000 --terraform 200 --services 20
    python benchmarks/generate_repo.py OUT --python 4000 --terraform 0 --services 4 \
        --dockerfiles 3 --workflows 4          # the "large Python repo" shape
    python benchmarks/generate_repo.py OUT --residency 3   # + a residency policy and 3
                                                           #   modules using boto3

Python files are realistic-looking modules of 40-120 lines, about one in ten with a
problem bandit or our semgrep rules report; Terraform files hold a few resources, some
misconfigured; each service has a pinned requirements.txt, a Dockerfile (up to
--dockerfiles) and a Kubernetes manifest.
"""

from __future__ import annotations

import argparse
import random
import textwrap
from pathlib import Path

MODULE_TEMPLATE = '''\
"""Module {name}: part of the {service} service."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class {cls}:
    identifier: str
    amount: int
    currency: str = "EUR"

    def total(self, rate: float) -> float:
        return self.amount * rate

'''

FUNCTION_TEMPLATE = '''
def {fn}(items: list[{cls}], limit: int = {limit}) -> list[{cls}]:
    """Filter and sort items (generated)."""
    selected = [item for item in items if item.amount > {threshold}]
    selected.sort(key=lambda item: (item.currency, item.amount))
    if len(selected) > limit:
        logger.debug("truncating %d items to %d", len(selected), limit)
    return selected[:limit]
'''

PROBLEMS = [
    """
def run_report(name: str) -> int:
    import subprocess
    return subprocess.call("generate-report " + name, shell=True)
""",
    """
def find_order(cursor, order_id: str):
    cursor.execute(f"SELECT * FROM orders WHERE id = {order_id}")
    return cursor.fetchone()
""",
    """
def load_state(blob: bytes):
    import pickle
    return pickle.loads(blob)
""",
    """
def fetch(url: str):
    import httpx
    return httpx.get(url, verify=False)
""",
    """
def db_password() -> str:
    return os.environ.get("DB_PASSWORD", "dev-password-123")
""",
]

TERRAFORM_TEMPLATE = """\
resource "aws_s3_bucket" "data_{i}" {{
  bucket = "acme-data-{i}"
}}

resource "aws_security_group" "svc_{i}" {{
  name        = "svc-{i}"
  description = "service {i}"
  vpc_id      = var.vpc_id

  ingress {{
    from_port   = {port}
    to_port     = {port}
    protocol    = "tcp"
    cidr_blocks = ["{cidr}"]
  }}
}}

resource "aws_sqs_queue" "jobs_{i}" {{
  name = "jobs-{i}"
}}
"""

VARIABLES_TF = 'variable "vpc_id" {\n  type    = string\n  default = "vpc-123"\n}\n'

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "-m", "{package}"]
"""

K8S = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.0.{i}
          ports: [{{containerPort: 8080}}]
"""

WORKFLOW = """\
name: ci-{i}
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt && pytest
"""

REQUIREMENTS = ["requests==2.25.1", "flask==2.2.2", "pyyaml==6.0.1", "jinja2==3.1.2", "idna==3.4"]


def generate(
    out: Path, *, python: int, terraform: int, services: int, dockerfiles: int, workflows: int
) -> None:
    rng = random.Random(20261129)
    out.mkdir(parents=True, exist_ok=True)
    names = [f"svc{n:02d}" for n in range(services)]
    for s, name in enumerate(names):
        root = out / "services" / name
        (root / name / "k8s").mkdir(parents=True, exist_ok=True)
        (root / "requirements.txt").write_text("\n".join(rng.sample(REQUIREMENTS, 3)) + "\n")
        if s < dockerfiles:
            (root / "Dockerfile").write_text(DOCKERFILE.format(package=name))
        (root / name / "__init__.py").write_text("")
        (root / "k8s" / "deployment.yaml").parent.mkdir(parents=True, exist_ok=True)
        (root / "k8s" / "deployment.yaml").write_text(K8S.format(name=name, i=s))
    for i in range(python):
        service = names[i % services]
        package = out / "services" / service / service / f"pkg{(i // services) % 10}"
        package.mkdir(parents=True, exist_ok=True)
        parts = [MODULE_TEMPLATE.format(name=f"m{i}", service=service, cls=f"Record{i}")]
        for f in range(rng.randint(2, 8)):
            parts.append(
                FUNCTION_TEMPLATE.format(
                    fn=f"select_{f}",
                    cls=f"Record{i}",
                    limit=rng.randint(5, 500),
                    threshold=rng.randint(0, 100),
                )
            )
        if i % 10 == 0:
            parts.append(textwrap.dedent(PROBLEMS[(i // 10) % len(PROBLEMS)]))
        (package / f"module_{i}.py").write_text("".join(parts))
    if terraform:
        infra = out / "infra"
        for i in range(terraform):
            folder = infra / f"stack{i // 20:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / "variables.tf").exists():
                (folder / "variables.tf").write_text(VARIABLES_TF)
            cidr = "0.0.0.0/0" if i % 4 == 0 else "10.0.0.0/8"
            port = 22 if i % 8 == 0 else 443
            (folder / f"main_{i}.tf").write_text(
                TERRAFORM_TEMPLATE.format(i=i, port=port, cidr=cidr)
            )
    if workflows:
        wf = out / ".github" / "workflows"
        wf.mkdir(parents=True, exist_ok=True)
        for i in range(workflows):
            (wf / f"ci-{i}.yml").write_text(WORKFLOW.format(i=i))


RESIDENCY_POLICY = """\
version: 1
severity: high
unresolved_severity: medium
rules:
  - id: pii-eu-only
    description: Personal data of customers stays in the EEA.
    data_classification: [pii]
    allowed:
      aws: [eu]
"""

CLOUD_MODULE = """\
import boto3

s3 = boto3.client("s3", region_name="{region}")
"""


def add_residency(out: Path, cloud_modules: int, services: int) -> None:
    """A residency policy, and `cloud_modules` modules that name an AWS region."""
    (out / "policies").mkdir(parents=True, exist_ok=True)
    (out / "policies" / "residency.yaml").write_text(RESIDENCY_POLICY)
    regions = ("eu-west-1", "us-east-1", "eu-central-1")
    for i in range(cloud_modules):
        service = f"svc{i % services:02d}"
        path = out / "services" / service / service / f"storage_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CLOUD_MODULE.format(region=regions[i % len(regions)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--python", type=int, default=2000)
    parser.add_argument("--terraform", type=int, default=200)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--dockerfiles", type=int, default=None, help="default: one per service")
    parser.add_argument("--workflows", type=int, default=2)
    parser.add_argument(
        "--residency", type=int, default=0, help="a residency policy and N modules using boto3"
    )
    args = parser.parse_args()
    generate(
        args.out,
        python=args.python,
        terraform=args.terraform,
        services=args.services,
        dockerfiles=args.services if args.dockerfiles is None else args.dockerfiles,
        workflows=args.workflows,
    )
    if args.residency:
        add_residency(args.out, args.residency, args.services)


if __name__ == "__main__":
    main()
