"""Facts from Kubernetes manifests, Terraform and dependency files, with file and line."""

from __future__ import annotations

from pathlib import Path

from compliance.threatmodel.detect.deps import pyproject_names, requirements_names

from .support import facts, repo, where, workspace

SERVICE_LB = """
apiVersion: v1
kind: Service
metadata:
  name: shop-public
spec:
  type: LoadBalancer
  ports:
    - port: 443
---
apiVersion: v1
kind: Service
metadata:
  name: shop-nodes
spec:
  type: NodePort
  ports:
    - port: 80
      nodePort: 30080
---
apiVersion: v1
kind: Service
metadata:
  name: shop-internal-lb
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-internal: "true"
spec:
  type: LoadBalancer
"""

INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
spec:
  tls:
    - hosts: [shop.example.com]
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: shop, port: {number: 80}}
    - host: plain.example.com
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: shop
          env:
            - name: PSP_URL
              value: https://api.psp.example/v2
            - name: CACHE_URL
              value: redis://shop-cache:6379/0
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: shop-db, key: password}
          envFrom:
            - secretRef: {name: shop-env}
      volumes:
        - name: certs
          secret: {secretName: shop-tls}
"""


def test_kubernetes_exposure_secrets_and_environment(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "services/shop/k8s/service.yaml": SERVICE_LB,
            "services/shop/k8s/ingress.yaml": INGRESS,
            "services/shop/k8s/deployment.yaml": DEPLOYMENT,
        },
    )
    found = facts(root)
    lb = found["exposure:load-balancer:shop-public"]
    assert lb.tags == {"exposure", "exposure:internet"}
    assert where(lb) == ["services/shop/k8s/service.yaml:6"]
    node_port = found["exposure:node-port:shop-nodes"]
    assert node_port.tags == {"exposure", "exposure:node-port"}
    assert "30080" in node_port.summary
    assert found["exposure:load-balancer:shop-internal-lb"].tags == {
        "exposure",
        "exposure:private-network",
    }
    ingress = found["exposure:ingress:shop.example.com"]
    assert ingress.tags == {"exposure", "exposure:internet"}
    assert where(ingress) == ["services/shop/k8s/ingress.yaml:9"]
    assert "exposure:no-tls" in found["exposure:ingress:plain.example.com"].tags
    secrets = found["secrets:kubernetes"]
    assert secrets.detail == "shop-db, shop-env, shop-tls"
    assert "services/shop/k8s/deployment.yaml:15" in where(secrets)
    assert where(found["outbound:api.psp.example"]) == ["services/shop/k8s/deployment.yaml:11"]
    assert where(found["datastore:redis"]) == ["services/shop/k8s/deployment.yaml:13"]


def test_a_shared_manifest_belongs_to_the_service_it_names(tmp_path: Path) -> None:
    root = repo(tmp_path, {"deploy/ingress.yaml": INGRESS, "deploy/lb.yaml": SERVICE_LB})
    assert "exposure:ingress:shop.example.com" in facts(root, "shop")
    assert "exposure:ingress:shop.example.com" not in facts(root, "billing")
    assert "exposure:load-balancer:shop-public" not in facts(root, "shop")  # named otherwise


TERRAFORM = """
variable "env" {
  default = "prod"
}

resource "aws_lb" "shop" {
  name               = "shop-public"
  internal           = false
  load_balancer_type = "application"
}

resource "aws_lb" "admin" {
  name     = "admin"
  internal = true
  tags     = { service = "shop" }
}

resource "aws_s3_bucket" "exports" {
  bucket = "acme-${var.env}-exports"
}

resource "aws_sqs_queue" "jobs" {
  name = "shop-jobs"
}

resource "aws_db_instance" "orders" {
  identifier          = "orders-${var.env}"
  engine              = "postgres"
  db_name             = "orders"
  publicly_accessible = true
}

resource "aws_db_instance" "ledger" {
  engine  = "mysql"
  db_name = "ledger"
}
"""

SHOP_CODE = """
import boto3

s3 = boto3.client("s3")
sqs = boto3.client("sqs")
DATABASE_URL = "postgresql://shop@orders-db:5432/orders"

def export():
    s3.upload_file("/tmp/x", "acme-prod-exports", "x")
    sqs.send_message(QueueUrl="https://sqs.eu-west-1.amazonaws.com/1/shop-jobs", MessageBody="")
"""


def test_terraform_resources_attributed_by_folder_tags_names_and_code(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {"infra/main.tf": TERRAFORM, "services/shop/app.py": SHOP_CODE},
    )
    found = facts(root)
    # Named after the service: the internet-facing load balancer.
    lb = found["exposure:load-balancer:aws_lb.shop"]
    assert lb.tags == {"exposure", "exposure:internet"}
    assert where(lb) == ["infra/main.tf:5"]
    # Tagged for the service: internal.
    assert found["exposure:load-balancer:aws_lb.admin"].tags == {
        "exposure",
        "exposure:private-network",
    }
    # The bucket and queue the code uses (the variable default resolved).
    bucket = found["object-storage:s3:acme-prod-exports"]
    assert "infra/main.tf:17" in where(bucket) and "services/shop/app.py:8" in where(bucket)
    assert "object-storage:write" in bucket.tags
    assert "infra/main.tf:21" in where(found["messaging:sqs:shop-jobs"])
    # The database the connection string names, public; the other database is not ours.
    postgres = found["datastore:postgresql"]
    assert "infra/main.tf:25" in where(postgres)
    assert "datastore:public" in postgres.tags
    public = found["exposure:public-datastore:aws_db_instance.orders"]
    assert public.tags == {"exposure", "datastore:public"}
    assert "datastore:mysql" not in found
    assert "exposure:load-balancer:aws_lb.shop" not in facts(root, "billing")


def test_terraform_in_the_service_folder_is_the_services(tmp_path: Path) -> None:
    root = repo(tmp_path, {"services/billing/infra/main.tf": TERRAFORM})
    found = facts(root, "billing")
    assert "datastore:mysql" in found and "object-storage:s3:acme-prod-exports" in found
    assert "exposure:load-balancer:aws_lb.shop" in found


def test_unparsable_terraform_is_listed_as_skipped(tmp_path: Path) -> None:
    root = repo(tmp_path, {"infra/bad.tf": 'resource "aws_s3_bucket" {{{\n'})
    skipped = workspace(root).detection.skipped
    assert [(s.path, s.tool) for s in skipped] == [("infra/bad.tf", "threatmodel")]


def test_dependencies_direct_only_with_lines(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "services/shop/requirements.txt": """
            # Generated by pip-compile
            flask==2.2.2 \\
                --hash=sha256:aa
                # via -r requirements.in
            redis==5.0.0
                # via celery
            pyjwt==2.8.0
                # via
                #   -r requirements.in
                #   flask-jwt
            """,
            "services/billing/pyproject.toml": """
            [project]
            name = "billing"
            dependencies = [
                "fastapi>=0.110",
                "psycopg[binary]>=3.1",
            ]
            """,
            "services/billing/uv.lock": '[[package]]\nname = "kafka-python"\nversion = "2.0"\n',
        },
    )
    shop = facts(root, "shop")
    assert where(shop["framework:flask"]) == ["services/shop/requirements.txt:2"]
    assert where(shop["auth:jwt"]) == ["services/shop/requirements.txt:7"]
    assert "datastore:redis" not in shop  # transitive (via celery)
    billing = facts(root, "billing")
    assert where(billing["framework:fastapi"]) == ["services/billing/pyproject.toml:4"]
    assert where(billing["datastore:postgresql"]) == ["services/billing/pyproject.toml:5"]
    assert "messaging:kafka" not in billing  # the lock file speaks only without a manifest


def test_requirement_and_pyproject_parsers() -> None:
    text = "requests==2.0  # via -r base.in\nidna==3.0  # via requests\n-r other.txt\n"
    assert list(requirements_names(text)) == [("requests", 1)]
    poetry = '[tool.poetry.dependencies]\npython = "^3.11"\nboto3 = "^1.26"\n'
    assert list(pyproject_names(poetry)) == [("boto3", 3)]


def test_data_classification_from_the_config_with_its_line(tmp_path: Path) -> None:
    root = repo(tmp_path, {})
    shop = facts(root, "shop")
    assert where(shop["data:pii"]) == ["compliance.yaml:5"]
    assert shop["data:pii"].tags == {"data:pii", "data:sensitive"}
    assert shop["data:internal"].tags == {"data:internal"}
    assert facts(root, "billing")["data:payment"].tags == {"data:payment", "data:sensitive"}
