"""Facts from Python code: frameworks, routes, gRPC, clients and their resources, outbound
calls, authentication libraries and secrets, each with its file and line."""

from __future__ import annotations

from pathlib import Path

from .support import facts, repo, where

APP = "services/shop/app.py"


def test_flask_routes_with_blueprint_prefix_and_methods(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            from flask import Blueprint, Flask

            app = Flask(__name__)
            bp = Blueprint("orders", __name__, url_prefix="/v1")

            @app.route("/health")
            def health():
                return "ok"

            @bp.route("/orders", methods=["GET", "POST"])
            def orders():
                return []

            @bp.delete("/orders/<int:order_id>")
            def delete(order_id):
                return ""
            """,
        },
    )
    found = facts(root)
    flask = found["framework:flask"]
    assert {"http", "http:route", "http:write-route", "framework:flask"} <= flask.tags
    assert f"{APP}:1" in where(flask) and f"{APP}:3" in where(flask)
    assert where(found["route:GET /health"]) == [f"{APP}:6"]
    assert where(found["route:GET,POST /v1/orders"]) == [f"{APP}:10"]
    assert where(found["route:DELETE /v1/orders/<int:order_id>"]) == [f"{APP}:14"]
    assert found["route:GET /health"].summary == "GET /health -> health"


def test_fastapi_routes_read_only_has_no_write_tag(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            from fastapi import APIRouter, FastAPI

            app = FastAPI()
            router = APIRouter(prefix="/items")

            @router.get("/{item_id}")
            async def read(item_id: int):
                return {}
            """,
        },
    )
    found = facts(root)
    assert where(found["route:GET /items/{item_id}"]) == [f"{APP}:6"]
    assert "http:route" in found["framework:fastapi"].tags
    assert "http:write-route" not in found["framework:fastapi"].tags


def test_django_urls(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "services/shop/shop/urls.py": """
            from django.urls import path, re_path

            from . import views

            urlpatterns = [
                path("orders/<int:pk>/", views.detail),
                re_path(r"^refunds/$", views.refunds),
            ]
            """,
        },
    )
    found = facts(root)
    assert where(found["route:ANY /orders/<int:pk>/"]) == ["services/shop/shop/urls.py:6"]
    assert "route:ANY /refunds/$" in found
    assert "http:write-route" in found["framework:django"].tags


def test_grpc_servicer_and_registration(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            import grpc
            import greeter_pb2_grpc

            class Greeter(greeter_pb2_grpc.GreeterServicer):
                def SayHello(self, request, context):
                    return None

            server = grpc.server(None)
            greeter_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
            """,
            # Generated code defines the servicer base: it is not a server.
            "services/shop/greeter_pb2_grpc.py": """
            class GreeterServicer(object):
                pass
            def add_GreeterServicer_to_server(servicer, server):
                pass
            """,
        },
    )
    found = facts(root)
    assert where(found["rpc:grpc:Greeter"]) == [f"{APP}:4", f"{APP}:9"]
    assert found["rpc:grpc:Greeter"].tags == {"grpc"}


def test_boto3_s3_and_sqs_resources_with_roles(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            import os

            import boto3

            QUEUE_URL = os.environ.get("QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/jobs")
            sqs = boto3.client("sqs")
            s3 = boto3.client("s3")

            def run():
                sqs.receive_message(QueueUrl=QUEUE_URL)
                s3.download_file("raw-bucket", "k", "/tmp/k")
                s3.put_object(Bucket="out-bucket", Key="k", Body=b"")
                done = "https://sqs.eu-west-1.amazonaws.com/1/done"
                sqs.send_message(QueueUrl=done, MessageBody="")
            """,
        },
    )
    found = facts(root)
    jobs = found["messaging:sqs:jobs"]
    assert jobs.tags == {"messaging", "messaging:consume"}
    assert f"{APP}:6" in where(jobs) and f"{APP}:10" in where(jobs)
    assert found["messaging:sqs:done"].tags == {"messaging", "messaging:publish"}
    assert found["object-storage:s3:raw-bucket"].tags == {"object-storage", "object-storage:read"}
    assert f"{APP}:11" in where(found["object-storage:s3:raw-bucket"])
    assert "object-storage:write" in found["object-storage:s3:out-bucket"].tags
    assert "object-storage:s3" not in found and "messaging:sqs" not in found


def test_boto3_client_without_resolvable_resource_is_generic(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {APP: "import boto3\n\ns3 = boto3.resource('s3')\n\ndef f(b):\n    s3.Bucket(b)\n"},
    )
    assert where(facts(root)["object-storage:s3"]) == [f"{APP}:3"]


def test_redis_postgres_and_sqlalchemy_engines(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            import psycopg2
            import redis
            from sqlalchemy import create_engine

            cache = redis.Redis(host="cache")
            conn = psycopg2.connect("dbname=shop")
            engine = create_engine("mysql+pymysql://u@db/shop")
            """,
            "services/shop/other.py": """
            from sqlalchemy import create_engine
            import os

            engine = create_engine(os.environ["DATABASE_URL"])
            """,
        },
    )
    found = facts(root)
    assert found["datastore:redis"].tags == {"datastore", "datastore:redis"}
    assert where(found["datastore:redis"]) == [f"{APP}:2", f"{APP}:5"]
    assert where(found["datastore:postgresql"])[:2] == [f"{APP}:1", f"{APP}:6"]
    assert "datastore:sql" in found["datastore:mysql"].tags
    assert f"{APP}:7" in where(found["datastore:mysql"])
    # The engine read from the environment is folded into the known SQL datastores (it is
    # one of them, or the reviewer adds it), not a fact of its own.
    assert "datastore:sql" not in found
    assert "services/shop/other.py:4" in where(found["datastore:mysql"])
    assert "psycopg2" in (found["datastore:postgresql"].detail or "")


def test_kafka_topics(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            from kafka import KafkaConsumer, KafkaProducer

            consumer = KafkaConsumer("orders", bootstrap_servers="kafka:9092")
            producer = KafkaProducer(bootstrap_servers="kafka:9092")
            producer.send("invoices", b"{}")
            """,
        },
    )
    found = facts(root)
    assert found["messaging:kafka:orders"].tags == {"messaging", "messaging:consume"}
    assert where(found["messaging:kafka:orders"])[0] == f"{APP}:1"
    assert f"{APP}:3" in where(found["messaging:kafka:orders"])
    assert found["messaging:kafka:invoices"].tags == {"messaging", "messaging:publish"}
    assert "messaging:kafka" not in found  # the import's generic fact is folded in


def test_outbound_calls_hosts_dynamic_and_tls(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            import os

            import httpx
            import requests

            BASE = os.environ.get("PSP_URL", "https://api.psp.example/v1")

            class Client:
                def __init__(self):
                    self._http = httpx.Client(verify=False)

                def charge(self):
                    return self._http.post(f"{BASE}/charges")

            def notify(url):
                requests.post(url, json={})

            def billing():
                return requests.get("http://billing:8080/invoices")
            """,
        },
    )
    found = facts(root)
    psp = found["outbound:api.psp.example"]
    assert psp.tags == {"outbound", "outbound:third-party", "outbound:tls-verify-off"}
    assert where(psp) == [f"{APP}:10", f"{APP}:13"]
    assert found["outbound:dynamic"].tags == {"outbound", "outbound:dynamic-url"}
    assert where(found["outbound:dynamic"]) == [f"{APP}:16"]
    internal = found["outbound:service:billing"]
    assert internal.tags == {"outbound", "outbound:internal", "outbound:plaintext"}


def test_auth_libraries_and_symmetric_jwt(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            import jwt
            from authlib.integrations.flask_client import OAuth

            def check(token, key):
                return jwt.decode(token, key, algorithms=["HS256"])
            """,
        },
    )
    found = facts(root)
    assert found["auth:jwt"].tags == {"auth", "auth:jwt", "auth:jwt-symmetric"}
    assert where(found["auth:jwt"]) == [f"{APP}:1", f"{APP}:5"]
    assert found["auth:oauth"].tags == {"auth", "auth:oauth"}
    assert where(found["auth:oauth"]) == [f"{APP}:2"]


def test_secrets_from_environment_and_in_code_never_show_values(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            APP: """
            import os

            DB_PASSWORD = os.environ.get("DB_PASSWORD", "s3cr3t-default")
            API_TOKEN = "tok_live_abcdef"
            TOKEN_URL = "https://auth.example/token"
            signing = os.environ["JWT_SECRET"]

            def client(api_key="k-123456"):
                return dict(password="hunter22")
            """,
        },
    )
    found = facts(root)
    env = found["secrets:environment"]
    assert env.detail == "DB_PASSWORD, JWT_SECRET"
    assert where(env) == [f"{APP}:3", f"{APP}:6"]
    coded = found["secrets:hardcoded"]
    assert coded.detail == "API_TOKEN, DB_PASSWORD (default value), api_key, password"
    for value in ("s3cr3t", "tok_live", "hunter22", "k-123456"):
        assert value not in repr(coded) and value not in repr(env)


def test_tests_and_unparsable_files_are_left_out(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "services/shop/tests/test_app.py": "import redis\n",
            "services/shop/conftest.py": "import pymongo\n",
            "services/shop/broken.py": "def (:\n",
        },
    )
    from .support import workspace

    ws = workspace(root)
    assert not {f.id for f in ws.facts("shop")} & {"datastore:redis", "datastore:mongodb"}
    assert any(s.path == "services/shop/broken.py" for s in ws.detection.skipped)
